package secure

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/internal/testredis"
)

// Two replicas share one Redis: failures on either count together, so an
// attacker spreading attempts over replicas gets no more than Max.
func TestFailLimiterSharedByReplicas(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	a := &FailLimiter{Max: 3, Window: time.Minute, Redis: rdb, Prefix: prefix}
	b := &FailLimiter{Max: 3, Window: time.Minute, Redis: rdb, Prefix: prefix}
	a.Fail(ctx, "client:10.0.0.9")
	b.Fail(ctx, "client:10.0.0.9")
	if _, blocked := a.Blocked(ctx, "client:10.0.0.9"); blocked {
		t.Fatal("blocked after 2 of 3 failures")
	}
	if n := a.Fail(ctx, "client:10.0.0.9"); n != 3 {
		t.Fatalf("the third failure (two on one replica, one on the other) counts %d", n)
	}
	retry, blocked := b.Blocked(ctx, "client:10.0.0.9")
	if !blocked || retry <= 0 || retry > time.Minute {
		t.Fatalf("the other replica does not block: blocked=%v retry=%v", blocked, retry)
	}
	if _, blocked := b.Blocked(ctx, "client:10.0.0.10"); blocked {
		t.Fatal("another client is blocked too")
	}
}

// With Redis away the limit still holds on each replica from its own count.
func TestFailLimiterWithoutRedisStillLimits(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 50 * time.Millisecond, MaxRetries: -1})
	defer down.Close()
	ctx := context.Background()
	l := &FailLimiter{Max: 2, Window: time.Minute, Redis: down, Prefix: "x:"}
	l.Fail(ctx, "name:ann")
	if _, blocked := l.Blocked(ctx, "name:ann"); blocked {
		t.Fatal("blocked after 1 of 2 failures")
	}
	l.Fail(ctx, "name:ann")
	if _, blocked := l.Blocked(ctx, "name:ann"); !blocked {
		t.Fatal("Redis being down lifted the limit")
	}
}
