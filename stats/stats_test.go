package stats

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

func TestRecordAndQuery(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	loc := time.FixedZone("CST", 8*3600)
	r, err := New(ctx, rdb, prefix, Options{Retention: 30 * 24 * time.Hour, Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2026, 11, 20, 9, 0, 0, 0, loc)
	day2 := time.Date(2026, 11, 21, 23, 30, 0, 0, loc)
	fb := bot.Reply{Kind: bot.ReplyText, Answer: bot.AnswerFallback}
	const openid = "oUSER-raw-openid-0001"
	r.Record(ctx, openid, "校车几点到", fb, day1)
	r.Record(ctx, openid, "校车几点到", fb, day2)
	r.Record(ctx, "oUSER-raw-openid-0002", "校车几点到", fb, day2)
	r.Record(ctx, "oUSER-raw-openid-0003", "食堂菜单", fb, day2)
	r.Record(ctx, openid, "一年级报名", bot.Reply{Answer: bot.AnswerFAQ, IDs: []string{"faq-grade1-signup"}}, day1)
	r.Record(ctx, openid, "开学", bot.Reply{Answer: bot.AnswerFAQ, IDs: []string{"faq-term-start-city"}}, day2)
	r.Record(ctx, openid, "开学", bot.Reply{Answer: bot.AnswerFAQ, IDs: []string{"faq-term-start-city"}}, day2)
	r.Record(ctx, openid, "你好", bot.Reply{Answer: bot.AnswerNone}, day2)
	r.Record(ctx, openid, "报名", bot.Reply{Answer: bot.AnswerChoices, IDs: []string{"faq-grade1-signup", "faq-gaokao-signup"}}, day2)

	qs, err := r.Unanswered(ctx, day1, day2, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0].Text != "校车几点到" || qs[0].Count != 3 || qs[0].Users != 2 || qs[1].Text != "食堂菜单" || qs[1].Count != 1 {
		t.Fatalf("unanswered = %+v", qs)
	}
	if !qs[0].Last.Equal(day2) {
		t.Errorf("last asked %s, want %s", qs[0].Last, day2)
	}
	// Only the second day.
	qs, err = r.Unanswered(ctx, day2, day2, 10)
	if err != nil || len(qs) != 2 || qs[0].Count != 2 {
		t.Fatalf("unanswered on day 2 = %+v %v", qs, err)
	}

	hits, err := r.Hits(ctx, day1, day2)
	if err != nil {
		t.Fatal(err)
	}
	want := []DayHits{
		{"2026-11-20", "faq-grade1-signup", 1, 0},
		{"2026-11-21", "faq-term-start-city", 2, 0},
		{"2026-11-21", "faq-gaokao-signup", 0, 1},
		{"2026-11-21", "faq-grade1-signup", 0, 1},
	}
	if !slices.Equal(hits, want) {
		t.Fatalf("hits = %+v, want %+v", hits, want)
	}
	if hits, _ := r.Hits(ctx, day1, day2, "faq-term-start-city"); len(hits) != 1 {
		t.Errorf("hits for one id = %+v", hits)
	}

	// No raw openid anywhere; every key expires.
	keys, err := testredis.Keys(ctx, rdb, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "openid") {
			t.Errorf("key %s holds the openid", k)
		}
		if strings.HasSuffix(k, "salt") {
			continue
		}
		ttl := rdb.TTL(ctx, k).Val()
		if ttl <= 0 {
			t.Errorf("key %s does not expire", k)
		}
		if ev := rdb.XRange(ctx, k, "-", "+"); ev.Err() == nil {
			for _, m := range ev.Val() {
				if u := m.Values["user"].(string); u == openid || len(u) != 16 {
					t.Errorf("stored user %q is not a hash", u)
				}
			}
		}
	}
	if r.HashUser(openid) == r.HashUser("oUSER-raw-openid-0002") {
		t.Error("different users hash alike")
	}
	// Another replica without a configured salt shares the hash.
	r2, err := New(ctx, rdb, prefix, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r2.HashUser(openid) != r.HashUser(openid) {
		t.Error("replicas hash the same user differently")
	}
}

func TestRetentionBoundsTheQuery(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	r, err := New(ctx, rdb, prefix, Options{Retention: 24 * time.Hour, Salt: "s"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	days, err := r.days(now.AddDate(-1, 0, 0), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) > 3 {
		t.Errorf("a year's query reads %d days, retention is 1 day", len(days))
	}
	if _, err := r.days(now, now.Add(-time.Hour)); err == nil {
		t.Error("since after until accepted")
	}
}

// With a queue, Record returns at once; the writer batches the records,
// queries see everything recorded before them, a full queue drops (and
// counts) instead of waiting, and stopping the writer writes what is queued.
func TestQueuedRecordsAreWrittenInBatches(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	loc := time.FixedZone("CST", 8*3600)
	r, err := New(ctx, rdb, prefix, Options{Salt: "s", Location: loc, Queue: 4})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 20, 9, 0, 0, 0, loc)
	fb := bot.Reply{Answer: bot.AnswerFallback}

	// No writer yet: four records wait, the fifth and sixth are dropped.
	for i := range 6 {
		r.Record(ctx, "o-"+string(rune('a'+i)), "校车几点到", fb, day)
	}
	if r.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", r.Dropped())
	}
	if n := rdb.Exists(ctx, prefix+"{stats}:fb:20261120").Val(); n != 0 {
		t.Fatal("a queued record was written without the writer")
	}

	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { r.Run(runCtx); close(stopped) }()
	for !r.running.Load() {
		time.Sleep(time.Millisecond)
	}
	r.Record(ctx, "o-a", "开学", bot.Reply{Answer: bot.AnswerFAQ, IDs: []string{"faq-1"}}, day)
	qs, err := r.Unanswered(ctx, day, day, 10)
	if err != nil || len(qs) != 1 || qs[0].Count != 4 || qs[0].Users != 4 {
		t.Fatalf("unanswered = %+v %v", qs, err)
	}
	hits, err := r.Hits(ctx, day, day)
	if err != nil || len(hits) != 1 || hits[0].Count != 1 {
		t.Fatalf("hits = %+v %v", hits, err)
	}
	if ttl := rdb.TTL(ctx, prefix+"{stats}:hits:20261120").Val(); ttl <= 0 {
		t.Fatalf("hits key TTL %v", ttl)
	}

	stop()
	<-stopped
	r.Record(ctx, "o-z", "食堂菜单", fb, day)
	if _, err := r.Unanswered(ctx, day, day, 10); err != nil {
		t.Fatalf("a query without a writer: %v", err)
	}
	// A writer whose context has ended still writes what is queued.
	r.Run(runCtx)
	if n := rdb.ZScore(ctx, prefix+"{stats}:fb:20261120", "食堂菜单").Val(); n != 1 {
		t.Fatalf("食堂菜单 counted %v times, want 1", n)
	}
}

// TestSuggestionsAndPicks: "did you mean" offers are kept as typed, picks
// per (normalised question, item) with the last list and position, across
// days, without openids.
func TestSuggestionsAndPicks(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	loc := time.FixedZone("CST", 8*3600)
	r, err := New(ctx, rdb, prefix, Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}

	day1 := time.Date(2026, 11, 20, 9, 0, 0, 0, loc)
	day2 := day1.AddDate(0, 0, 1)
	sg := bot.Reply{Kind: bot.ReplyText, Answer: bot.AnswerSuggest, IDs: []string{"faq-a", "faq-b", "n-c"}}
	r.Record(ctx, "o-1", "  孩子  几号回学校啊 ", sg, day1)
	r.Record(ctx, "o-2", "孩子 几号回学校啊", bot.Reply{Answer: bot.AnswerSuggest, IDs: []string{"faq-b", "faq-a"}}, day2)
	r.Record(ctx, "o-3", "校车", bot.Reply{Answer: bot.AnswerSuggest, IDs: []string{"faq-bus"}}, day2)

	pick := bot.Pick{Query: "孩子几号回学校啊", Normalized: "孩子几号回学校", Offered: []string{"faq-a", "faq-b", "n-c"}, ID: "faq-b", Position: 2, Suggest: true}
	r.Picked(ctx, "o-1", pick, day1)
	pick2 := pick
	pick2.Query, pick2.Offered, pick2.Position = "孩子几号回学校呀？", []string{"faq-b", "faq-a"}, 1
	r.Picked(ctx, "o-2", pick2, day2)
	r.Picked(ctx, "o-2", pick2, day2.Add(time.Minute)) // the same person again: counted, one user
	r.Picked(ctx, "o-4", bot.Pick{Query: "报名", Normalized: "报名", Offered: []string{"faq-x", "faq-y"}, ID: "faq-y", Position: 2}, day2)
	r.Picked(ctx, "o-5", bot.Pick{Normalized: "x", ID: "faq-x"}, day2) // nothing typed: not evidence

	sgs, err := r.Suggested(ctx, day1, day2, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(sgs) != 2 || sgs[0].Text != "孩子 几号回学校啊" || sgs[0].Count != 2 || !slices.Equal(sgs[0].Offered, []string{"faq-b", "faq-a"}) ||
		!sgs[0].Last.Equal(day2) || sgs[1].Text != "校车" || sgs[1].Count != 1 {
		t.Fatalf("suggested = %+v", sgs)
	}
	hits, err := r.Hits(ctx, day1, day1)
	if err != nil || len(hits) != 3 || hits[0].Offered != 1 || hits[0].Count != 0 {
		t.Fatalf("offers among hits = %+v %v", hits, err)
	}

	picks, err := r.Picks(ctx, day1, day2, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(picks) != 2 {
		t.Fatalf("picks = %+v", picks)
	}
	p := picks[0]
	if p.Question != "孩子几号回学校" || p.ID != "faq-b" || p.Count != 3 || p.Users != 2 || p.Query != "孩子几号回学校呀？" ||
		p.Position != 1 || !slices.Equal(p.Offered, []string{"faq-b", "faq-a"}) || !p.Suggest || !p.Last.Equal(day2.Add(time.Minute)) {
		t.Errorf("first pick = %+v", p)
	}
	if q := picks[1]; q.ID != "faq-y" || q.Count != 1 || q.Suggest || q.Position != 2 {
		t.Errorf("second pick = %+v", q)
	}
	if only, _ := r.Picks(ctx, day1, day2, 10, "faq-y"); len(only) != 1 || only[0].ID != "faq-y" {
		t.Errorf("picks of faq-y = %+v", only)
	}
	if one, _ := r.Picks(ctx, day1, day1, 10); len(one) != 1 || one[0].Count != 1 || one[0].Position != 2 {
		t.Errorf("picks on day 1 = %+v", one)
	}

	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "salt") {
			continue
		}
		if v, _ := rdb.Dump(ctx, k).Result(); strings.Contains(v, "o-1") || strings.Contains(v, "o-2") {
			t.Errorf("key %s holds an openid", k)
		}
		if ttl, _ := rdb.TTL(ctx, k).Result(); ttl <= 0 {
			t.Errorf("key %s has no expiry (%v)", k, ttl)
		}
	}
}
