package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

func TestSubscribersForTheBroadcast(t *testing.T) {
	rdb, prefix := testredis.New(t)
	s := redisstore.New(rdb, prefix)
	ctx := context.Background()
	t0 := time.Unix(1764000000, 0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Subscribe(ctx, "u1", "开学", t0, time.Hour))
	must(s.Subscribe(ctx, "u1", "中考", t0.Add(time.Minute), time.Hour))
	must(s.Subscribe(ctx, "u2", "开学", t0.Add(2*time.Minute), time.Hour))
	if _, err := s.Load(ctx, "u2", t0.Add(time.Hour), 48*time.Hour); err != nil { // u2 writes a message
		t.Fatal(err)
	}

	subs, err := s.Subscribers(ctx, "开学")
	must(err)
	if len(subs) != 2 {
		t.Fatalf("subscribers of 开学: %+v", subs)
	}
	by := map[string]bot.Subscriber{}
	for _, x := range subs {
		by[x.OpenID] = x
	}
	if !by["u1"].SubscribedAt.Equal(t0) || !by["u1"].LastMessage.IsZero() {
		t.Fatalf("u1: %+v", by["u1"])
	}
	if !by["u2"].LastMessage.Equal(t0.Add(time.Hour)) {
		t.Fatalf("u2's last message: %+v", by["u2"])
	}

	all, err := s.AllSubscribers(ctx)
	must(err)
	if len(all) != 2 {
		t.Fatalf("all subscribers: %+v", all)
	}
	tags, err := s.SubscribedTags(ctx)
	must(err)
	if strings.Join(tags, ",") != "中考,开学" {
		t.Fatalf("tags: %v", tags)
	}

	must(s.Unsubscribe(ctx, "u1", "开学"))
	if subs, _ := s.Subscribers(ctx, "开学"); len(subs) != 1 || subs[0].OpenID != "u2" {
		t.Fatalf("after 退订: %+v", subs)
	}
	mine, err := s.Subscriptions(ctx, "u1")
	must(err)
	if strings.Join(mine, ",") != "中考" {
		t.Fatalf("u1's subscriptions: %v", mine)
	}

	// A tag index entry whose user no longer holds the tag is not a subscriber.
	must(rdb.HSet(ctx, prefix+"sub:中考", "u-stale", t0.Unix()).Err())
	if subs, _ := s.Subscribers(ctx, "中考"); len(subs) != 1 || subs[0].OpenID != "u1" {
		t.Fatalf("stale index entry listed: %+v", subs)
	}
	if err := s.Subscribe(ctx, "u1", " ", t0, time.Hour); err == nil {
		t.Fatal("an empty tag was accepted")
	}
}

func TestNotesForStaff(t *testing.T) {
	rdb, prefix := testredis.New(t)
	s := redisstore.New(rdb, prefix)
	ctx := context.Background()
	t0 := time.Unix(1764000000, 0)
	for i, u := range []string{"u1", "u2", "u1"} {
		if err := s.LeaveNote(ctx, u, bot.Note{Text: "问题" + u, At: t0.Add(time.Duration(i) * time.Minute)}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := s.Notes(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || notes[0].OpenID != "u1" || len(notes[0].Notes) != 2 || notes[1].OpenID != "u2" {
		t.Fatalf("notes: %+v", notes)
	}
	if err := s.DoneNotes(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if notes, _ := s.Notes(ctx, 10); len(notes) != 1 || notes[0].OpenID != "u2" {
		t.Fatalf("after done: %+v", notes)
	}
}

func TestDedupClaimAndResult(t *testing.T) {
	rdb, prefix := testredis.New(t)
	s := redisstore.New(rdb, prefix)
	ctx := context.Background()
	first, err := s.Claim(ctx, "u1", "m:1", time.Minute)
	if err != nil || !first {
		t.Fatalf("first claim: %v %v", first, err)
	}
	if again, _ := s.Claim(ctx, "u1", "m:1", time.Minute); again {
		t.Fatal("second claim succeeded")
	}
	if other, _ := s.Claim(ctx, "u2", "m:1", time.Minute); !other {
		t.Fatal("another user's claim on the same MsgId failed")
	}
	if _, done, err := s.Result(ctx, "u1", "m:1"); done || err != nil {
		t.Fatalf("pending result: done %v, err %v", done, err)
	}
	want := bot.Reply{Kind: bot.ReplyText, Text: "答复", Answer: bot.AnswerFAQ, IDs: []string{"faq-1"}}
	if err := s.Finish(ctx, "u1", "m:1", want, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, done, err := s.Result(ctx, "u1", "m:1")
	if err != nil || !done || got.Text != want.Text || got.IDs[0] != "faq-1" {
		t.Fatalf("result: %+v %v %v", got, done, err)
	}
	if ttl := rdb.TTL(ctx, prefix+"{u:u1}:dedup:m:1").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("dedup TTL %v", ttl)
	}
}
