package testredis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestSlotMatchesRedis(t *testing.T) {
	// Values from the Cluster specification and CLUSTER KEYSLOT.
	for key, want := range map[string]int{
		"foo": 12182, "bar": 5061, "123456789": 12739,
		"{user1000}.following": Slot("user1000"), "a{}b": Slot("a{}b"), "{}": 15257,
	} {
		if got := Slot(key); got != want {
			t.Errorf("Slot(%q) = %d, want %d", key, got, want)
		}
	}
	rdb := Client(t)
	if _, ok := rdb.(*redis.ClusterClient); !ok {
		return // CLUSTER KEYSLOT needs a Cluster
	}
	ctx := context.Background()
	for _, key := range []string{"edubot:{u:o-1}:session", "edubot:bc:{b1}:q", "rate:edubot:{u:x}:rate", "plain", "a{}b{c}"} {
		want, err := rdb.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := Slot(key); int64(got) != want {
			t.Errorf("Slot(%q) = %d, CLUSTER KEYSLOT says %d", key, got, want)
		}
	}
}

// recorder is a testing.TB that keeps what the hook reports.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) reported() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs)
}

// The check must catch every way to span slots, and let through what a
// Cluster accepts.
func TestSlotCheckCatchesCrossSlot(t *testing.T) {
	rec := &recorder{TB: t}
	tg := Get(t)
	rdb := redis.NewUniversalClient(tg.Options())
	defer rdb.Close()
	rdb.AddHook(NewSlotCheck(rec, tg))
	ctx := context.Background()
	p := "test:" + Unique() + ":"
	t.Cleanup(func() { _ = DeleteMatching(ctx, rdb, p+"*") })
	script := redis.NewScript(`return redis.call("GET", KEYS[1])`)

	bad := map[string]func() error{
		"MGET":   func() error { return rdb.MGet(ctx, p+"a", p+"b").Err() },
		"DEL":    func() error { return rdb.Del(ctx, p+"{x}:a", p+"{y}:a").Err() },
		"SUNION": func() error { return rdb.SUnion(ctx, p+"s1", p+"s2").Err() },
		"script": func() error { return script.Run(ctx, rdb, []string{p + "{x}:a", p + "{y}:a"}).Err() },
		"script in a pipeline": func() error {
			pipe := rdb.Pipeline()
			script.Eval(ctx, pipe, []string{p + "a", p + "b"})
			_, err := pipe.Exec(ctx)
			return err
		},
		"MULTI": func() error {
			_, err := rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.Set(ctx, p+"{x}:a", 1, 0)
				pipe.Set(ctx, p+"{y}:a", 1, 0)
				return nil
			})
			return err
		},
		"XGROUP in a MULTI": func() error {
			_, err := rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.Set(ctx, p+"{x}:a", 1, 0)
				pipe.XGroupCreateMkStream(ctx, p+"{y}:q", "g", "0")
				return nil
			})
			return err
		},
		"XREAD": func() error {
			return rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{p + "q1", p + "q2", "0", "0"}, Block: -1}).Err()
		},
	}
	for name, run := range bad {
		before := rec.reported()
		err := run()
		var cs *ErrCrossSlot
		if !errors.As(err, &cs) {
			t.Errorf("%s across slots: err = %v, want a CROSSSLOT refusal", name, err)
		}
		if rec.reported() != before+1 {
			t.Errorf("%s across slots: the test was not failed", name)
		}
	}

	good := map[string]func() error{
		"MGET one tag": func() error { return rdb.MGet(ctx, p+"{u:1}:a", p+"{u:1}:b").Err() },
		"script one tag": func() error {
			err := script.Run(ctx, rdb, []string{p + "{u:1}:a", p + "{u:1}:b"}).Err()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			return err
		},
		"MULTI one tag": func() error {
			_, err := rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.Set(ctx, p+"{u:1}:a", 1, 0)
				pipe.Incr(ctx, p+"{u:1}:b")
				return nil
			})
			return err
		},
		"plain pipeline across slots": func() error {
			_, err := rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.Set(ctx, p+"a", 1, 0)
				pipe.Set(ctx, p+"b", 1, 0)
				return nil
			})
			return err
		},
	}
	for name, run := range good {
		before := rec.reported()
		if err := run(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if rec.reported() != before {
			t.Errorf("%s: reported as cross-slot", name)
		}
	}
}
