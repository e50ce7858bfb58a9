package embedredis

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func client(t *testing.T, s *Server) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), Dialer: s.Dialer()})
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

// Keys expire on time from the deadlines the hook learns, with the full
// sweep (FastForward over every key) far away; a TTL re-armed (a sliding
// session) or removed (SET without EX) is honoured, not cut short; TTL
// reads go down with the wall clock; keys set by a script expire too.
func TestKeysExpireWithoutSweep(t *testing.T) {
	ctx := context.Background()
	s, err := Start(Options{ExpireTick: 10 * time.Millisecond, SweepEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rdb := client(t, s)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rdb.Set(ctx, "short", "v", 60*time.Millisecond).Err())
	must(rdb.Set(ctx, "slide", "v", 300*time.Millisecond).Err())
	must(rdb.Set(ctx, "persist", "v", 60*time.Millisecond).Err())
	must(rdb.Set(ctx, "persist", "v2", 0).Err()) // no TTL any more
	must(rdb.SetNX(ctx, "nx", "v", 60*time.Millisecond).Err())
	must(rdb.Eval(ctx, `return redis.call("SET", KEYS[1], "v", "PX", ARGV[1])`, []string{"script"}, 60).Err())
	p := rdb.Pipeline()
	p.HSet(ctx, "hash", "f", "v")
	p.PExpire(ctx, "hash", 60*time.Millisecond)
	_, err = p.Exec(ctx)
	must(err)
	must(rdb.Set(ctx, "long", "v", time.Hour).Err())

	// Re-arm "slide" twice: it must live 300ms after the last.
	time.Sleep(50 * time.Millisecond)
	must(rdb.PExpire(ctx, "slide", 300*time.Millisecond).Err())
	time.Sleep(50 * time.Millisecond)
	must(rdb.PExpire(ctx, "slide", 300*time.Millisecond).Err())
	if n := rdb.Exists(ctx, "slide").Val(); n != 1 {
		t.Fatal("re-armed key expired early")
	}
	time.Sleep(80 * time.Millisecond) // 180ms after the first writes
	for _, k := range []string{"short", "nx", "script", "hash"} {
		if n := rdb.Exists(ctx, k).Val(); n != 0 {
			t.Errorf("%s (60ms TTL) still exists after 180ms", k)
		}
	}
	if n := rdb.Exists(ctx, "slide").Val(); n != 1 {
		t.Error("re-armed key expired before its new deadline")
	}
	if v := rdb.Get(ctx, "persist").Val(); v != "v2" {
		t.Errorf("key re-set without a TTL = %q, want v2 (not expired)", v)
	}
	if ttl := rdb.PTTL(ctx, "long").Val(); ttl > time.Hour-150*time.Millisecond || ttl < time.Hour-time.Second {
		t.Errorf("PTTL of a 1h key 180ms later = %v", ttl)
	}
	time.Sleep(350 * time.Millisecond)
	if n := rdb.Exists(ctx, "slide").Val(); n != 0 {
		t.Error("re-armed key still there 100ms after its deadline")
	}
}

// A key whose TTL the hook did not see (written by a client without it)
// still expires, at the sweep.
func TestSweepExpiresUnseenKeys(t *testing.T) {
	ctx := context.Background()
	s, err := Start(Options{ExpireTick: 10 * time.Millisecond, SweepEvery: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer raw.Close()
	if err := raw.Set(ctx, "k", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if n := raw.Exists(ctx, "k").Val(); n != 0 {
		t.Fatal("unseen key with a 50ms TTL still exists after 150ms")
	}
}

// In-process clients reach the server over its Unix socket, which goes
// away with the server; the TCP port keeps working for other clients.
func TestUnixSocket(t *testing.T) {
	ctx := context.Background()
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.unix == nil {
		t.Fatal("no unix socket")
	}
	sock := s.unix.Addr().String()
	var network string
	dial := s.Dialer()
	viaUnix := redis.NewClient(&redis.Options{Addr: s.Addr(), Dialer: func(ctx context.Context, n, a string) (net.Conn, error) {
		c, err := dial(ctx, n, a)
		if err == nil {
			network = c.RemoteAddr().Network()
		}
		return c, err
	}})
	defer viaUnix.Close()
	if err := viaUnix.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if network != "unix" {
		t.Errorf("in-process client connected over %q, want unix", network)
	}
	viaTCP := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer viaTCP.Close()
	if v := viaTCP.Get(ctx, "k").Val(); v != "v" {
		t.Errorf("over TCP: %q", v)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s still there after Close: %v", sock, err)
	}
}
