package embedredis

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A registered script runs in Go (through EVALSHA and EVAL), with its keys
// and arguments as Lua gets them; another script still runs in Lua.
func TestRunInGo(t *testing.T) {
	// No saves meanwhile: a save would clear the changed mark checked below.
	s, err := Start(Options{SaveInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const src = `redis.call("SET", KEYS[1], ARGV[1]) return "lua"`
	var gotKeys, gotArgv []string
	s.RunInGo(src, func(db DB, keys, argv []string) (any, error) {
		gotKeys, gotArgv = keys, argv
		if _, ok := db.Get(keys[0]); ok {
			return []any{int64(0), nil}, nil
		}
		db.Set(keys[0], argv[0], 2*time.Second)
		return []any{int64(1), "go"}, nil
	})
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer rdb.Close()
	rdb.AddHook(s.Hook())
	ctx := context.Background()

	v, err := redis.NewScript(src).Run(ctx, rdb, []string{"k"}, "v", 42, 1.5).Slice()
	if err != nil || len(v) != 2 || v[0] != int64(1) || v[1] != "go" {
		t.Fatalf("first run: %v %v", v, err)
	}
	if len(gotKeys) != 1 || gotKeys[0] != "k" || len(gotArgv) != 3 || gotArgv[1] != "42" || gotArgv[2] != "1.5" {
		t.Errorf("keys %q argv %q", gotKeys, gotArgv)
	}
	if ttl := rdb.PTTL(ctx, "k").Val(); ttl <= 0 || ttl > 2*time.Second {
		t.Errorf("TTL set in Go: %v", ttl)
	}
	v, err = rdb.Eval(ctx, src, []string{"k"}, "v").Slice()
	if err != nil || v[0] != int64(0) || v[1] != nil {
		t.Fatalf("EVAL of the same source: %v %v", v, err)
	}
	if !s.dirty.Load() {
		t.Error("a script run in Go did not mark the data changed")
	}
	if got, err := rdb.Eval(ctx, `return "lua"`, nil).Text(); err != nil || got != "lua" {
		t.Errorf("another script: %q %v", got, err)
	}
}

// A pipeline carrying registered scripts among other commands (requests
// batched together) runs the scripts in Go, in order with the rest.
func TestRunInGoInPipeline(t *testing.T) {
	s, err := Start(Options{SaveInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const src = `return redis.call("GET", KEYS[1]) .. "-lua"`
	ran := 0
	s.RunInGo(src, func(db DB, keys, argv []string) (any, error) {
		ran++
		v, _ := db.Get(keys[0])
		return v + "-go", nil
	})
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer rdb.Close()
	rdb.AddHook(s.Hook())
	ctx := context.Background()
	script := redis.NewScript(src)
	if err := script.Load(ctx, rdb).Err(); err != nil {
		t.Fatal(err)
	}
	pipe := rdb.Pipeline()
	pipe.Set(ctx, "a", "1", 0)
	first := script.EvalSha(ctx, pipe, []string{"a"})
	pipe.Set(ctx, "a", "2", 0)
	second := script.EvalSha(ctx, pipe, []string{"a"})
	get := pipe.Get(ctx, "a")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if first.Val() != "1-go" || second.Val() != "2-go" || get.Val() != "2" || ran != 2 {
		t.Errorf("got %v, %v, %v after %d Go runs; want 1-go, 2-go, 2 after 2", first.Val(), second.Val(), get.Val(), ran)
	}
}
