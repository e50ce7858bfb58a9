package embedredis

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func client(t *testing.T, s *Server) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr()})
	rdb.AddHook(s.Hook())
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Staff data written before a restart is there after it; keys with a TTL
// keep their remaining TTL.
func TestSnapshotSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Start(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rdb := client(t, s)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rdb.Set(ctx, "str", "开学", 0).Err())
	must(rdb.Set(ctx, "ttl", "x", time.Hour).Err())
	must(rdb.HSet(ctx, "hash", "a", "1", "b", "2").Err())
	must(rdb.RPush(ctx, "list", "1", "2", "3").Err())
	must(rdb.SAdd(ctx, "set", "u1", "u2").Err())
	must(rdb.ZAdd(ctx, "zset", redis.Z{Score: 2, Member: "q"}).Err())
	must(rdb.XAdd(ctx, &redis.XAddArgs{Stream: "stream", ID: "1-1", Values: []string{"k", "v"}}).Err())
	must(s.Close())

	s2, err := Start(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r2 := client(t, s2)
	if v, _ := r2.Get(ctx, "str").Result(); v != "开学" {
		t.Errorf("string after restart = %q", v)
	}
	if ttl := r2.TTL(ctx, "ttl").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("ttl after restart = %s, want just under 1h", ttl)
	}
	if v := r2.HGet(ctx, "hash", "b").Val(); v != "2" {
		t.Errorf("hash field = %q", v)
	}
	if v := r2.LRange(ctx, "list", 0, -1).Val(); len(v) != 3 || v[2] != "3" {
		t.Errorf("list = %v", v)
	}
	if !r2.SIsMember(ctx, "set", "u2").Val() {
		t.Error("set member lost")
	}
	if v := r2.ZScore(ctx, "zset", "q").Val(); v != 2 {
		t.Errorf("zset score = %v", v)
	}
	if v := r2.XRange(ctx, "stream", "-", "+").Val(); len(v) != 1 || v[0].Values["k"] != "v" {
		t.Errorf("stream = %v", v)
	}
}

// A change is written to disk without waiting for shutdown (a crash loses
// at most the save interval).
func TestSnapshotWrittenOnChange(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Start(Options{DataDir: dir, SaveInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rdb := client(t, s)
	if err := rdb.Set(ctx, "notice", "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		// A second server reading the same directory sees the change.
		s2, err := Start(Options{DataDir: dir, SaveInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s2.mr.Get("notice")
		s2.path = "" // do not write back
		s2.Close()
		if got == "v1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("change not in the snapshot after 2s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Keys expire by the wall clock (miniredis does not expire them by itself).
func TestKeysExpire(t *testing.T) {
	ctx := context.Background()
	s, err := Start(Options{ExpireTick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rdb := client(t, s)
	if err := rdb.Set(ctx, "k", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(120 * time.Millisecond)
	if n := rdb.Exists(ctx, "k").Val(); n != 0 {
		t.Fatal("key with a 50ms TTL still exists after 120ms")
	}
}

// A damaged snapshot stops start-up with a message saying what to do,
// rather than silently starting empty and overwriting it.
func TestDamagedSnapshot(t *testing.T) {
	dir := t.TempDir()
	if err := writeFile(dir, "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Options{DataDir: dir}); err == nil {
		t.Fatal("damaged snapshot accepted")
	}
}

func writeFile(dir, s string) error {
	return os.WriteFile(filepath.Join(dir, SnapshotFile), []byte(s), 0o600)
}

// Keys about to expire (de-duplication, rate limits) stay out of the
// snapshot; longer-lived ones are in it.
func TestSnapshotLeavesOutKeysAboutToExpire(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Start(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rdb := client(t, s)
	if err := rdb.Set(ctx, "dedup", "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "session", "y", 30*time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Start(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	r2 := client(t, s2)
	if n := r2.Exists(ctx, "dedup").Val(); n != 0 {
		t.Error("a key expiring within a minute was restored")
	}
	if v := r2.Get(ctx, "session").Val(); v != "y" {
		t.Errorf("30-minute key after restart = %q, want y", v)
	}
}
