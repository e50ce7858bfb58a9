package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/handlers"
	"github.com/gdjysjyj/edubot/internal/embedredis"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// The replay claim answers the same on real Redis (Lua) and on the
// embedded Redis running it in Go: first delivery and its retry pass, the
// same signature with another body is a replay, and the claim expires.
func TestReplayClaimLuaAndGo(t *testing.T) {
	emb, err := embedredis.Start(embedredis.Options{ExpireTick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	for src, fn := range handlers.ReplayGoScripts() {
		emb.RunInGo(src, func(db embedredis.DB, keys, argv []string) (any, error) { return fn(db, keys, argv) })
	}
	erdb := redis.NewClient(&redis.Options{Addr: emb.Addr()})
	erdb.AddHook(emb.Hook())
	t.Cleanup(func() { _ = erdb.Close() })
	real, prefix := testredis.New(t)

	for name, r := range map[string]*handlers.RedisReplay{
		"real":     handlers.NewRedisReplay(real, prefix),
		"embedded": handlers.NewRedisReplay(erdb, "t:"),
	} {
		ctx := context.Background()
		claim := func(digest string) bool {
			t.Helper()
			replay, err := r.Claim(ctx, "sig1", digest, 150*time.Millisecond)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return replay
		}
		if claim("a") {
			t.Errorf("%s: first delivery called a replay", name)
		}
		if claim("a") {
			t.Errorf("%s: retry of the same body called a replay", name)
		}
		if !claim("b") {
			t.Errorf("%s: another body under the same signature not called a replay", name)
		}
		time.Sleep(400 * time.Millisecond)
		if claim("b") {
			t.Errorf("%s: the claim did not expire with its TTL", name)
		}
	}
}
