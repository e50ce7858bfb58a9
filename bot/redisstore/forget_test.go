package redisstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// commandLog records the names of the commands a client sends.
type commandLog struct {
	mu    sync.Mutex
	names []string
}

func (l *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }
func (l *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.mu.Lock()
		l.names = append(l.names, cmd.Name())
		l.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (l *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		l.mu.Lock()
		for _, c := range cmds {
			l.names = append(l.names, c.Name())
		}
		l.mu.Unlock()
		return next(ctx, cmds)
	}
}

// Unsubscribing deletes every key of the user — the stored replies of
// retries included — by the user's key index, without scanning the keyspace.
func TestForgetDeletesByIndexWithoutScan(t *testing.T) {
	rdb, prefix := testredis.New(t)
	s := redisstore.New(rdb, prefix)
	ctx := context.Background()
	now := time.Now()
	for _, id := range []string{"m:1", "m:2", "e:3:CLICK"} {
		if _, err := s.Begin(ctx, "uGone", bot.BeginTurn{ID: id, DedupTTL: time.Minute, PerMinute: 20, Load: true, Now: now, SeenTTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Claim(ctx, "uGone", "m:4", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(ctx, "uGone", "开学", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Begin(ctx, "uStays", bot.BeginTurn{ID: "m:9", DedupTTL: time.Minute, Now: now, SeenTTL: time.Hour}); err != nil {
		t.Fatal(err)
	}

	log := &commandLog{}
	rdb.AddHook(log)
	if err := s.Forget(ctx, "uGone"); err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	for _, n := range log.names {
		if strings.EqualFold(n, "scan") || strings.EqualFold(n, "keys") {
			t.Errorf("Forget sent %s", n)
		}
	}
	log.mu.Unlock()

	// Checked here with KEYS (the test's own prefix only).
	left, err := rdb.Keys(ctx, prefix+"*{u:uGone}*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("keys of the user left after Forget: %v", left)
	}
	if n, _ := rdb.Exists(ctx, prefix+"{u:uStays}:dedup:m:9").Result(); n != 1 {
		t.Error("another user's key was deleted")
	}
}
