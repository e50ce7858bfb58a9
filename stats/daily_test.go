package stats

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

type fixedReply bot.Reply

func (f fixedReply) Handle(context.Context, bot.Message) bot.Reply { return bot.Reply(f) }

func TestDailyCountsByOutcomeAndKeepsQuestionsAsTyped(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 22, 23, 30, 0, 0, loc)
	d := NewDaily(rdb, prefix, DailyOptions{Location: loc, Now: func() time.Time { return now }})
	go d.Run(ctx)

	msg := func(text string) bot.Message { return bot.Message{Type: bot.TypeText, Text: text, User: "o-1"} }
	d.Wrap(fixedReply{Answer: bot.AnswerFAQ, IDs: []string{"faq-a"}}).Handle(ctx, msg("开学时间"))
	d.Wrap(fixedReply{Answer: bot.AnswerFallback}).Handle(ctx, msg("  驾校 怎么报名 "))
	d.Wrap(fixedReply{Answer: bot.AnswerFallback}).Handle(ctx, msg("驾校 怎么报名"))
	d.Wrap(fixedReply{Answer: bot.AnswerSuggest}).Handle(ctx, msg("中考那个啥时候"))
	d.Wrap(fixedReply{Answer: bot.AnswerFallback, Duplicate: true}).Handle(ctx, msg("驾校 怎么报名")) // a retry
	d.Wrap(fixedReply{Answer: bot.AnswerEvent}).Handle(ctx, bot.Message{Type: bot.TypeEvent, Event: bot.EventSubscribe})
	d.Wrap(fixedReply{Answer: bot.AnswerFallback}).Handle(ctx, bot.Message{Type: bot.TypeVoice, Text: "驾校 怎么报名"})
	now = now.Add(time.Hour) // the next day in the bureau's zone
	d.Wrap(fixedReply{Answer: bot.AnswerRule}).Handle(ctx, msg("电话"))

	days, err := d.Days(ctx, now.AddDate(0, 0, -2), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 {
		t.Fatalf("days: %d, want 3 (with the empty one)", len(days))
	}
	day1, day2 := days[1], days[2]
	if day1.Total != 5 || day1.Answered() != 1 || day1.Outcomes[bot.AnswerFallback] != 3 || day1.Outcomes[bot.AnswerSuggest] != 1 {
		t.Errorf("2026-11-22: %+v", day1)
	}
	if day2.Total != 1 || day2.Answered() != 1 || days[0].Total != 0 {
		t.Errorf("2026-11-23: %+v, 11-21: %+v", day2, days[0])
	}
	typed, err := d.Typed(ctx, now.AddDate(0, 0, -2), now, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(typed) != 2 || typed[0].Text != "驾校 怎么报名" || typed[0].Count != 3 || typed[0].Outcome != bot.AnswerFallback ||
		typed[1].Text != "中考那个啥时候" || typed[1].Outcome != bot.AnswerSuggest {
		t.Fatalf("typed: %+v", typed)
	}
	// Every question, answered or not (not the event), for the home's top
	// questions; Typed above stays the unanswered ones.
	asked, err := d.Asked(ctx, now.AddDate(0, 0, -2), now, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range asked {
		got = append(got, fmt.Sprintf("%s/%s/%d", a.Text, a.Outcome, a.Count))
	}
	if want := "驾校 怎么报名/fallback/3 中考那个啥时候/suggest/1 开学时间/faq/1 电话/rule/1"; strings.Join(got, " ") != want {
		t.Fatalf("asked: %q, want %q", got, want)
	}
	if today, _ := d.Asked(ctx, now, now, 10); len(today) != 1 || today[0].Text != "电话" {
		t.Fatalf("asked on 2026-11-23 only: %+v", today)
	}
	if ttl := rdb.TTL(ctx, prefix+"{stats}:day:20261122").Val(); ttl <= 0 {
		t.Errorf("day key without TTL: %v", ttl)
	}
}
