package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/internal/embedredis"
	"github.com/gdjysjyj/edubot/internal/redisbatch"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// Begin is Claim, Allow and Load in one round trip, each only when the step
// before let the message through; End is SaveSession and Finish.
// On the embedded Redis the same runs Begin's Go implementation.
func TestBeginAndEndDoWhatTheSingleCallsDo(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := testredis.New(t)
		testBeginAndEnd(t, rdb, prefix)
	})
	t.Run("embedded, Begin in Go", func(t *testing.T) {
		testBeginAndEnd(t, embedded(t), "edubot:")
	})
	// Round trips shared with other turns (serve's setting): the same.
	t.Run("redis, batched", func(t *testing.T) {
		rdb, prefix := testredis.New(t)
		testBeginAndEnd(t, rdb, prefix, batched(t, rdb), batched(t, rdb))
	})
	t.Run("embedded, batched", func(t *testing.T) {
		rdb := embedded(t)
		testBeginAndEnd(t, rdb, "edubot:", batched(t, rdb), batched(t, rdb))
	})
}

func batched(t *testing.T, rdb redis.UniversalClient) *redisbatch.Batcher {
	b := redisbatch.New(rdb, redisbatch.Options{})
	t.Cleanup(b.Close)
	return b
}

// embedded is a client of a fresh embedded Redis running the store's
// scripts in Go, as serve sets it up.
func embedded(t *testing.T) redis.UniversalClient {
	t.Helper()
	emb, err := embedredis.Start(embedredis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	for src, fn := range redisstore.GoScripts() {
		emb.RunInGo(src, func(db embedredis.DB, keys, argv []string) (any, error) { return fn(db, keys, argv) })
	}
	rdb := redis.NewClient(&redis.Options{Addr: emb.Addr()})
	rdb.AddHook(emb.Hook())
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func testBeginAndEnd(t *testing.T, rdb redis.UniversalClient, prefix string, batch ...*redisbatch.Batcher) {
	s := redisstore.New(rdb, prefix)
	if len(batch) > 0 {
		s.WithBatchers(batch[0], batch[1])
	}
	ctx := context.Background()
	now := time.Unix(1764000000, 0)
	req := func(id string) bot.BeginTurn {
		return bot.BeginTurn{ID: id, DedupTTL: time.Minute, PerMinute: 3, Load: true, Now: now, SeenTTL: time.Hour}
	}
	if err := s.SaveProfile(ctx, "u1", bot.Profile{Region: "普宁市"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.StartHandoff(ctx, "u1", now, time.Hour); err != nil {
		t.Fatal(err)
	}

	got, err := s.Begin(ctx, "u1", req("m:1"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Claimed || !got.Rated || !got.Allowed || !got.Loaded || got.State.Profile.Region != "普宁市" ||
		!got.State.Handoff.Equal(now) || got.State.Session.Query != "" {
		t.Fatalf("first delivery: %+v", got)
	}
	if v := rdb.Get(ctx, prefix+"{u:u1}:seen").Val(); v != "1764000000" {
		t.Fatalf("time of the message: %q", v)
	}
	if ttl := rdb.PTTL(ctx, prefix+"{u:u1}:seen").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("seen TTL %v", ttl)
	}

	// A retry while the first is handled: not claimed, no reply yet, not
	// counted by the rate limit, state not read.
	retry, err := s.Begin(ctx, "u1", req("m:1"))
	if err != nil || retry.Claimed || retry.Done || retry.Rated || retry.Loaded {
		t.Fatalf("retry while pending: %+v %v", retry, err)
	}

	want := bot.Reply{Kind: bot.ReplyText, Text: "答复", Answer: bot.AnswerFAQ, IDs: []string{"faq-1"}}
	sess := bot.Session{At: now, Query: "几号开学", List: []bot.Item{{ID: "faq-1", Title: "开学"}}}
	if err := s.End(ctx, "u1", bot.EndTurn{Session: &sess, SessionTTL: 30 * time.Minute, ID: "m:1", Reply: want, DedupTTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	retry, err = s.Begin(ctx, "u1", req("m:1"))
	if err != nil || retry.Claimed || !retry.Done || retry.Reply.Text != want.Text || retry.Reply.IDs[0] != "faq-1" {
		t.Fatalf("retry after the reply: %+v %v", retry, err)
	}
	for key, max := range map[string]time.Duration{"session": 30 * time.Minute, "dedup:m:1": time.Minute} {
		if ttl := rdb.PTTL(ctx, prefix+"{u:u1}:"+key).Val(); ttl <= 0 || ttl > max {
			t.Errorf("%s TTL %v", key, ttl)
		}
	}
	st, err := s.Load(ctx, "u1", now, time.Hour)
	if err != nil || st.Session.Query != "几号开学" || len(st.Session.List) != 1 {
		t.Fatalf("saved session: %+v %v", st.Session, err)
	}

	// The rate limit is redis_rate's: Allow and Begin count together.
	if ok, err := s.Allow(ctx, "u1", 3); err != nil || !ok {
		t.Fatalf("second message: %v %v", ok, err)
	}
	if got, err := s.Begin(ctx, "u1", req("m:2")); err != nil || !got.Allowed {
		t.Fatalf("third message: %+v %v", got, err)
	}
	rdb.Del(ctx, prefix+"{u:u1}:seen")
	got, err = s.Begin(ctx, "u1", req("m:3"))
	if err != nil || !got.Claimed || !got.Rated || got.Allowed || got.Loaded {
		t.Fatalf("fourth message in a minute: %+v %v", got, err)
	}
	if rdb.Exists(ctx, prefix+"{u:u1}:seen").Val() != 0 {
		t.Fatal("a message over the limit was loaded")
	}
	if ok, err := s.Allow(ctx, "u1", 3); err != nil || ok {
		t.Fatalf("Allow after Begin's limit: %v %v", ok, err)
	}
	if ttl := rdb.TTL(ctx, "rate:"+prefix+"{u:u1}:rate").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("rate TTL %v", ttl)
	}

	// Nothing asked but the claim: no state read, nothing counted.
	got, err = s.Begin(ctx, "u2", bot.BeginTurn{ID: "e:1:subscribe", DedupTTL: time.Minute})
	if err != nil || !got.Claimed || got.Rated || got.Loaded {
		t.Fatalf("claim only: %+v %v", got, err)
	}
	if rdb.Exists(ctx, prefix+"{u:u2}:seen").Val() != 0 {
		t.Fatal("a claim alone recorded the time of a message")
	}
}
