package breaker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/internal/faultproxy"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A frozen Redis (every byte swallowed): after three timeouts commands
// fail at once; when Redis answers again the probe closes the breaker;
// one log line per state change.
func TestBreakerOpensFailsFastAndCloses(t *testing.T) {
	px, err := faultproxy.Start(testredis.Addr(t))
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	logs := &syncBuf{}
	b := New(Options{Base: 100 * time.Millisecond, Max: 400 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	rdb := redis.NewClient(&redis.Options{Addr: px.Addr(), ReadTimeout: 200 * time.Millisecond,
		WriteTimeout: 200 * time.Millisecond, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	b.Attach(rdb)
	defer rdb.Close()
	defer b.Close()
	ctx := context.Background()
	key := "test:breaker:" + testredis.Unique()
	if err := rdb.Set(ctx, key, "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}

	px.BlackHole(true)
	// Three failures open it (a new connection's handshake counts as one).
	for i := 0; i < 3 && !b.Open(); i++ {
		if err := rdb.Get(ctx, key).Err(); !Unavailable(err) {
			t.Fatalf("command %d under a black hole: %v, want a timeout", i+1, err)
		}
	}
	if !b.Open() {
		t.Fatal("breaker still closed after 3 timeouts")
	}
	for range 1000 {
		start := time.Now()
		err := rdb.Get(ctx, key).Err()
		if !errors.Is(err, ErrOpen) {
			t.Fatalf("open breaker: %v, want ErrOpen", err)
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Fatalf("an open breaker waited %s", d)
		}
	}
	// Probes keep failing for a while (intervals grow), then Redis is back.
	time.Sleep(700 * time.Millisecond)
	px.BlackHole(false)
	px.ResetAll() // the swallowed replies would desynchronise the old connections
	deadline := time.Now().Add(3 * time.Second)
	for b.Open() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if b.Open() {
		t.Fatal("breaker did not close within 3 s of Redis answering")
	}
	if v, err := rdb.Get(ctx, key).Result(); err != nil || v != "1" {
		t.Fatalf("after closing: %q %v", v, err)
	}
	out := logs.String()
	if n := strings.Count(out, "circuit breaker open"); n != 1 {
		t.Errorf("%d 'open' lines, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "circuit breaker closed"); n != 1 {
		t.Errorf("%d 'closed' lines, want 1:\n%s", n, out)
	}
	rdb.Del(ctx, key)
}

// Error replies and misses are answers: they never open the breaker.
func TestBreakerIgnoresReplies(t *testing.T) {
	rdb, prefix := testredis.New(t)
	b := New(Options{Failures: 2})
	b.Attach(rdb)
	defer b.Close()
	ctx := context.Background()
	for range 10 {
		_ = rdb.Get(ctx, prefix+"missing").Err()
		_ = rdb.Do(ctx, "NOSUCHCOMMAND").Err()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_ = rdb.Get(cctx, prefix+"x").Err()
	}
	if b.Open() {
		t.Fatal("misses, error replies or cancellations opened the breaker")
	}
}
