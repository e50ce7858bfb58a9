package store

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/internal/embedredis"
	"github.com/gdjysjyj/edubot/stats"
)

// With the embedded Redis (the default), runtime content, the audit log
// and question records survive a restart through the snapshot.
func TestSurvivesEmbeddedRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	start := func() (*embedredis.Server, *redis.Client) {
		srv, err := embedredis.Start(embedredis.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		rdb.AddHook(srv.Hook())
		return srv, rdb
	}
	const prefix = "edubot:"
	at := time.Now()

	srv, rdb := start()
	st := New(rdb, prefix, Options{})
	if _, err := st.Seed(ctx, "seed", sampleSet(t)); err != nil {
		t.Fatal(err)
	}
	faq := &content.FAQ{ID: "faq-winter-uniform", Question: "冬季校服在哪里订购？", Answer: "由学校统一征订。"}
	if err := st.PutFAQ(ctx, "alice", faq, Create); err != nil {
		t.Fatal(err)
	}
	rec, err := stats.New(ctx, rdb, prefix, stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec.Record(ctx, "o-1", "校车几点到", bot.Reply{Answer: bot.AnswerFallback}, at)
	rec.Record(ctx, "o-1", "校服", bot.Reply{Answer: bot.AnswerFAQ, IDs: []string{faq.ID}}, at)
	rdb.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv, rdb = start()
	defer srv.Close()
	defer rdb.Close()
	st = New(rdb, prefix, Options{})
	if seeded, err := st.Seed(ctx, "seed", sampleSet(t)); err != nil || seeded {
		t.Fatalf("restart re-seeded (%v, %v): the edits would be lost", seeded, err)
	}
	got, err := st.FAQ(ctx, faq.ID)
	if err != nil || got.Answer != faq.Answer {
		t.Fatalf("FAQ after restart: %+v, %v", got, err)
	}
	set, err := st.Load(ctx)
	if err != nil || set.Rule("rule-hotline") == nil || len(set.FAQs) != len(sampleSet(t).FAQs)+1 {
		t.Fatalf("content after restart: %v", err)
	}
	entries, err := st.Audit().List(ctx, AuditQuery{Item: faq.ID})
	if err != nil || len(entries) != 1 || entries[0].Actor != "alice" {
		t.Errorf("audit after restart: %+v, %v", entries, err)
	}
	// An edit after the restart still works (positions, versions).
	if err := st.PutNotice(ctx, "bob", notice("n-after-restart"), Create); err != nil {
		t.Errorf("edit after restart: %v", err)
	}
	rec, err = stats.New(ctx, rdb, prefix, stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	qs, err := rec.Unanswered(ctx, at.Add(-time.Hour), at.Add(time.Hour), 10)
	if err != nil || len(qs) != 1 || qs[0].Count != 1 || qs[0].Users != 1 {
		t.Errorf("unanswered after restart: %+v, %v", qs, err)
	}
	hits, err := rec.Hits(ctx, at.Add(-time.Hour), at.Add(time.Hour), faq.ID)
	if err != nil || len(hits) != 1 || hits[0].Count != 1 {
		t.Errorf("hits after restart: %+v, %v", hits, err)
	}
}
