package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// The staff's inbox holds what a person left outside office hours, with
// the conversation before it, the profile and the time of the last
// message (the 48-hour reply window).
func TestInboxShowsTheConversationBeforeANote(t *testing.T) {
	rdb, prefix := testredis.New(t)
	s := redisstore.New(rdb, prefix)
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.New(set, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sunday := time.Date(2026, 11, 29, 21, 0, 0, 0, time.FixedZone("CST", 8*3600))
	now := sunday
	b := bot.New(bot.DefaultConfig(), bot.Deps{Matcher: eng, Store: s, Now: func() time.Time { return now }})
	ctx := context.Background()
	seq := 0
	say := func(user, text string) bot.Reply {
		seq++
		now = now.Add(time.Minute)
		return b.Handle(ctx, bot.Message{MsgID: strconv.Itoa(seq), User: user, Type: bot.TypeText, Text: text, CreateTime: now})
	}
	say("u-a", "我是普宁的家长")
	first := say("u-a", "普宁几号开学")
	say("u-a", "转人工")
	if r := say("u-a", "孩子转学需要什么材料，我的电话13800000000"); !strings.Contains(r.Text, "已记下") {
		t.Fatalf("the note was not taken: %+v", r)
	}
	say("u-b", "转人工")
	say("u-b", "请问教育局地址在哪里")

	threads, err := s.Threads(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(threads) != 2 || threads[0].OpenID != "u-b" || threads[1].OpenID != "u-a" {
		t.Fatalf("inbox, latest first: %+v", threads)
	}
	a := threads[1]
	if len(a.Notes) != 2 || a.Notes[0].Text != "普宁几号开学" || !strings.Contains(a.Notes[1].Text, "转学") {
		t.Fatalf("u-a's notes: %+v", a.Notes)
	}
	var said []string
	for _, turn := range a.Conversation {
		said = append(said, turn.Said)
	}
	if strings.Join(said, "|") != "我是普宁的家长|普宁几号开学|转人工" {
		t.Fatalf("conversation before the notes: %q", said)
	}
	if got := a.Conversation[1]; got.Answer != first.Answer || got.Reply == "" {
		t.Fatalf("the bot's answer to 普宁几号开学 (%s) is not kept: %+v", first.Answer, got)
	}
	if !strings.HasPrefix(a.Profile.Region, "普宁") || a.Profile.Role != "parents" {
		t.Fatalf("profile: %+v", a.Profile)
	}
	if !a.LastMessage.Equal(sunday.Add(4 * time.Minute).Truncate(time.Second)) {
		t.Fatalf("last message %v", a.LastMessage)
	}

	// A staff reply joins the thread; handling it empties the inbox entry.
	if err := s.AddReply(ctx, "u-a", "ann", "您好，材料清单已发您。", now); err != nil {
		t.Fatal(err)
	}
	th, err := s.Thread(ctx, "u-a")
	if err != nil || len(th.Replies) != 1 || th.Replies[0].Staff != "ann" || len(th.Notes) != 2 {
		t.Fatalf("thread after the reply: %+v, %v", th, err)
	}
	if notes, _ := s.Notes(ctx, 10); len(notes) != 2 || len(notes[1].Notes) != 2 {
		t.Fatalf("Notes counts the staff reply as a note: %+v", notes)
	}
	if err := s.DoneNotes(ctx, "u-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Thread(ctx, "u-a"); !errors.Is(err, redisstore.ErrNoThread) {
		t.Fatalf("handled thread: %v", err)
	}
	if err := s.AddReply(ctx, "u-a", "ann", "again", now); !errors.Is(err, redisstore.ErrNoThread) {
		t.Fatalf("reply to a handled thread: %v", err)
	}

	// Unsubscribing deletes the conversation log too.
	b.Handle(ctx, bot.Message{User: "u-b", Type: bot.TypeEvent, Event: bot.EventUnsubscribe, CreateTime: now})
	if n, _ := rdb.Exists(ctx, prefix+"{u:u-b}:log", prefix+"{u:u-b}:notes").Result(); n != 0 {
		t.Fatalf("%d keys of u-b left after unsubscribe", n)
	}
	if threads, _ := s.Threads(ctx, 10); len(threads) != 0 {
		t.Fatalf("inbox after handling and unsubscribe: %+v", threads)
	}
}

// The log keeps the last turns only, for the session's lifetime.
func TestTurnLogIsBounded(t *testing.T) {
	rdb, prefix := testredis.New(t)
	s := redisstore.New(rdb, prefix)
	ctx := context.Background()
	t0 := time.Unix(1764000000, 0)
	for i := range 12 {
		err := s.End(ctx, "u", bot.EndTurn{SessionTTL: time.Minute, Said: "q" + strconv.Itoa(i), Now: t0.Add(time.Duration(i) * time.Second),
			Reply: bot.Reply{Kind: bot.ReplyText, Text: strings.Repeat("长", 400), Answer: bot.AnswerFAQ}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LeaveNote(ctx, "u", bot.Note{Text: "note", At: t0.Add(time.Hour)}, time.Hour); err != nil {
		t.Fatal(err)
	}
	th, err := s.Thread(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Conversation) != 8 || th.Conversation[0].Said != "q4" || th.Conversation[7].Said != "q11" {
		t.Fatalf("conversation: %+v", th.Conversation)
	}
	if r := []rune(th.Conversation[0].Reply); len(r) > 301 {
		t.Fatalf("a reply of %d characters kept whole", len(r))
	}
	ttl, _ := rdb.PTTL(ctx, prefix+"{u:u}:log").Result()
	if ttl <= 0 || ttl > time.Minute {
		t.Fatalf("log TTL %v, want the session's", ttl)
	}
}
