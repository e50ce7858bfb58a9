// Package testredis gives tests a client on the real redis-server that the
// test command (make test) starts, with a key prefix of their own.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvAddr names the variable that holds the test Redis address.
const EnvAddr = "EDUBOT_TEST_REDIS_ADDR"

// Addr returns the address of the test redis-server. The test fails (it is
// never skipped) when none is configured: run the tests with `make test`.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts redis-server", EnvAddr)
	}
	return addr
}

// New returns a client on the test Redis and a key prefix unique to this
// test; keys under the prefix are deleted when the test ends.
func New(t testing.TB) (*redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: Addr(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("test redis at %s: %v", Addr(t), err)
	}
	prefix := "test:" + Unique() + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}

// Unique returns a short random hex string.
func Unique() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
