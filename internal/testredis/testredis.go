// Package testredis gives tests a client on the real Redis that the test
// command starts — one redis-server (make test), a Redis Cluster or a
// Sentinel-managed master (scripts/test-cluster.sh) — with a key prefix of
// their own, and checks every command it sends: the keys of one command, one
// Lua script or one MULTI must hash to one Cluster slot, or the test fails.
// That check runs on a single redis-server too, so a CROSSSLOT error that
// only a Cluster would raise is caught by every `make test`.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Variables naming the test Redis. EnvAddr is one redis-server; EnvAddrs
// (comma separated) are Cluster nodes, or Sentinels when EnvMasterName is
// set too.
const (
	EnvAddr       = "EDUBOT_TEST_REDIS_ADDR"
	EnvAddrs      = "EDUBOT_TEST_REDIS_ADDRS"
	EnvMasterName = "EDUBOT_TEST_REDIS_MASTER_NAME"
)

// Target is the test Redis as the configuration names it: addresses, and
// the Sentinel master name when there is one.
type Target struct {
	Addrs      []string
	MasterName string
}

// Cluster reports whether the target is a Redis Cluster.
func (tg Target) Cluster() bool { return tg.MasterName == "" && len(tg.Addrs) > 1 }

// Options returns client options for the target.
func (tg Target) Options() *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:      tg.Addrs,
		MasterName: tg.MasterName,
		// A failover in a test run (Cluster, Sentinel) takes a few seconds.
		MaxRedirects: 8,
	}
}

// Get returns the configured test Redis. The test fails (it is never
// skipped) when none is configured: run the tests with `make test`.
func Get(t testing.TB) Target {
	t.Helper()
	if addrs := os.Getenv(EnvAddrs); addrs != "" {
		var tg Target
		for _, a := range strings.Split(addrs, ",") {
			if a = strings.TrimSpace(a); a != "" {
				tg.Addrs = append(tg.Addrs, a)
			}
		}
		tg.MasterName = os.Getenv(EnvMasterName)
		return tg
	}
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts redis-server", EnvAddr)
	}
	return Target{Addrs: []string{addr}}
}

// Addr returns the addresses of the test Redis as EDUBOT_REDIS_ADDRS takes
// them (comma separated).
func Addr(t testing.TB) string {
	t.Helper()
	return strings.Join(Get(t).Addrs, ",")
}

// SetServeEnv points a command run in-process (serve, broadcast, …) at the
// test Redis: EDUBOT_REDIS_ADDRS and EDUBOT_REDIS_MASTER_NAME.
func SetServeEnv(t *testing.T) {
	t.Helper()
	tg := Get(t)
	t.Setenv("EDUBOT_REDIS_ADDRS", strings.Join(tg.Addrs, ","))
	t.Setenv("EDUBOT_REDIS_MASTER_NAME", tg.MasterName)
}

// Client returns a new client on the test Redis with the slot check
// installed; it is closed when the test ends.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	tg := Get(t)
	rdb := redis.NewUniversalClient(tg.Options())
	rdb.AddHook(NewSlotCheck(t, tg))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("test redis at %v: %v", tg.Addrs, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// New returns a client on the test Redis and a key prefix unique to this
// test; keys under the prefix are deleted when the test ends.
func New(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	rdb := Client(t)
	prefix := "test:" + Unique() + ":"
	t.Cleanup(func() { // runs before Client's Close (cleanups run last-in first-out)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Also redis_rate's keys ("rate:" + prefix …).
		for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
			if err := DeleteMatching(ctx, rdb, pattern); err != nil {
				t.Logf("cleaning up %s: %v", pattern, err)
			}
		}
	})
	return rdb, prefix
}

// Keys lists the keys matching a pattern on every master (KEYS on a
// Cluster client asks one node only).
func Keys(ctx context.Context, rdb redis.UniversalClient, pattern string) ([]string, error) {
	var keys []string
	err := eachMaster(ctx, rdb, func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return iter.Err()
	})
	return keys, err
}

// DeleteMatching deletes the keys matching a pattern on every master, one
// at a time (a Cluster refuses a DEL across slots).
func DeleteMatching(ctx context.Context, rdb redis.UniversalClient, pattern string) error {
	keys, err := Keys(ctx, rdb, pattern)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := rdb.Del(ctx, k).Err(); err != nil {
			return err
		}
	}
	return nil
}

// eachMaster runs fn on every master of a Cluster, sequentially, or once on
// any other client.
func eachMaster(ctx context.Context, rdb redis.UniversalClient, fn func(context.Context, redis.Cmdable) error) error {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return fn(ctx, rdb)
	}
	var clients []*redis.Client
	if err := cc.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
		clients = append(clients, c)
		return nil
	}); err != nil {
		return err
	}
	for _, c := range clients { // ForEachMaster runs concurrently; fn need not be safe for that
		if err := fn(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// Unique returns a short random hex string.
func Unique() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
