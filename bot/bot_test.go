package bot_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// slowMatcher makes matching take a while, so retries arrive while the
// first delivery is still being handled.
type slowMatcher struct {
	*fakeMatcher
	delay time.Duration
}

func (s *slowMatcher) Match(ctx context.Context, q search.Query) search.Result {
	time.Sleep(s.delay)
	return s.fakeMatcher.Match(ctx, q)
}

func TestRetryGetsTheSameReply(t *testing.T) {
	e := newEnv(t)
	b := e.bot()
	m := textMsg("u-retry", "报到")
	first := b.Handle(context.Background(), m)
	if first.Answer != bot.AnswerChoices {
		t.Fatalf("first delivery: %+v", first)
	}
	second := e.bot().Handle(context.Background(), m) // WeChat may retry on another replica
	if !second.Duplicate || second.Text != first.Text || second.Answer != first.Answer {
		t.Fatalf("retry got %+v, want the first reply %q", second, first.Text)
	}
	if e.m.calls != 1 {
		t.Fatalf("matched %d times, want once", e.m.calls)
	}
	// The retry did not count as a new message: the list is still on page 1.
	if r := b.Handle(context.Background(), textMsg("u-retry", "更多")); !strings.Contains(r.Text, "6. ") {
		t.Fatalf("after a retry, 更多 = %q", r.Text)
	}
}

func TestConcurrentRetriesWaitForTheFirstReply(t *testing.T) {
	e := newEnv(t)
	slow := &slowMatcher{fakeMatcher: e.m, delay: 300 * time.Millisecond}
	mk := func() *bot.Bot {
		return bot.New(e.cfg, bot.Deps{Matcher: slow, Store: e.store, Now: e.clock.Now})
	}
	m := textMsg("u-concurrent", "惠来县学校秋季几号开学")
	replies := make([]bot.Reply, 3)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i > 0 {
				time.Sleep(50 * time.Millisecond) // arrive while the first is matching
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			replies[i] = mk().Handle(ctx, m)
		}()
	}
	wg.Wait()
	dups := 0
	for i, r := range replies {
		if r.Answer != bot.AnswerFAQ || r.Text != replies[0].Text {
			t.Errorf("delivery %d: %+v, want the first reply", i, r)
		}
		if r.Duplicate {
			dups++
		}
	}
	if dups != 2 || e.m.calls != 1 {
		t.Fatalf("duplicates %d (want 2), matched %d times (want 1)", dups, e.m.calls)
	}
}

func TestDedupKeysIncludeTheUser(t *testing.T) {
	e := newEnv(t)
	b := e.bot()
	m1 := textMsg("u-a", "热线")
	m2 := m1
	m2.User = "u-b" // MsgIds collide across users
	if r := b.Handle(context.Background(), m1); r.Duplicate {
		t.Fatal("first user's message taken for a retry")
	}
	if r := b.Handle(context.Background(), m2); r.Duplicate || r.Answer != bot.AnswerRule {
		t.Fatalf("second user's message with the same MsgId: %+v", r)
	}
}

func TestEventRetriesAreDeduplicated(t *testing.T) {
	e := newEnv(t)
	b := e.bot()
	ev := bot.Message{User: "u-ev", Type: bot.TypeEvent, Event: bot.EventMassFinish, CreateTime: time.Unix(1764000000, 0),
		Mass: &bot.MassResult{MsgID: 1000001, Status: "send success", TotalCount: 10, SentCount: 9, ErrorCount: 1}}
	if r := b.Handle(context.Background(), ev); r.Kind != bot.ReplyNone {
		t.Fatalf("MASSSENDJOBFINISH: %+v", r)
	}
	if r := b.Handle(context.Background(), ev); !r.Duplicate || r.Kind != bot.ReplyNone {
		t.Fatalf("retried event: %+v", r)
	}
	if len(e.mass.got) != 1 || e.mass.got[0].SentCount != 9 {
		t.Fatalf("mass results: %+v, want one with 9 sent", e.mass.got)
	}
}

func TestSessionExpiresInRedis(t *testing.T) {
	e := newEnv(t)
	e.cfg.SessionTTL = time.Second
	b := e.bot()
	if r := b.Handle(context.Background(), textMsg("u-ttl", "报到")); r.Answer != bot.AnswerChoices {
		t.Fatalf("%+v", r)
	}
	rdb, prefix := e.rdbPrefix(t)
	ttl := rdb.PTTL(context.Background(), prefix+"{u:u-ttl}:session").Val()
	if ttl <= 0 || ttl > time.Second {
		t.Fatalf("session TTL %v, want ≤ 1s", ttl)
	}
	if r := b.Handle(context.Background(), textMsg("u-ttl", "1")); r.Answer != bot.AnswerFAQ {
		t.Fatalf("within the TTL, 1 = %+v", r)
	}
	time.Sleep(1200 * time.Millisecond)
	if r := b.Handle(context.Background(), textMsg("u-ttl", "1")); r.Answer != bot.AnswerDialog || !strings.Contains(r.Text, "没有可选的列表") {
		t.Fatalf("after the TTL, 1 = %+v", r)
	}
}

func TestUnsubscribeDeletesEveryKeyOfTheUser(t *testing.T) {
	e := newEnv(t)
	b := e.bot()
	ctx := context.Background()
	for _, user := range []string{"u-leaving", "u-staying"} {
		for _, s := range []string{"我是普宁的家长", "订阅 开学", "订阅 中考", "报到", "人工"} {
			b.Handle(ctx, textMsg(user, s))
		}
	}
	// A note for staff, left outside office hours.
	if err := e.store.LeaveNote(ctx, "u-leaving", bot.Note{Text: "留言", At: time.Now()}, time.Hour); err != nil {
		t.Fatal(err)
	}
	rdb, prefix := e.rdbPrefix(t)
	if n := len(keysOf(t, rdb, prefix, "u-leaving")); n < 6 {
		t.Fatalf("only %d keys before unsubscribing; the test sets up too little", n)
	}
	r := b.Handle(ctx, bot.Message{User: "u-leaving", Type: bot.TypeEvent, Event: bot.EventUnsubscribe, CreateTime: time.Now()})
	if r.Kind != bot.ReplyNone {
		t.Fatalf("unsubscribe: %+v", r)
	}
	if left := keysOf(t, rdb, prefix, "u-leaving"); len(left) > 0 {
		t.Fatalf("keys left after unsubscribe: %v", left)
	}
	if n, _ := rdb.Exists(ctx, "rate:"+prefix+"{u:u-leaving}:rate").Result(); n != 0 {
		t.Fatal("rate-limit key left")
	}
	for _, tag := range []string{"开学", "中考"} {
		subs, err := e.store.Subscribers(ctx, tag)
		if err != nil {
			t.Fatal(err)
		}
		if len(subs) != 1 || subs[0].OpenID != "u-staying" {
			t.Fatalf("subscribers of %s: %+v, want only u-staying", tag, subs)
		}
	}
	notes, _ := e.store.Notes(ctx, 10)
	for _, n := range notes {
		if n.OpenID == "u-leaving" {
			t.Fatal("note index still names the user")
		}
	}
	if len(keysOf(t, rdb, prefix, "u-staying")) == 0 {
		t.Fatal("the other user's keys were deleted too")
	}
}

func keysOf(t *testing.T, rdb redis.UniversalClient, prefix, user string) []string {
	t.Helper()
	keys, err := testredis.Keys(context.Background(), rdb, prefix+"{u:"+user+"}*")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// rdbPrefix opens a second client on the env's Redis for inspection.
func (e *env) rdbPrefix(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	return testredis.Client(t), e.store.Prefix()
}

func TestRedisDownAnswersFromContent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	m := &fakeMatcher{set: loadTestSet(t)}
	b := bot.New(testConfig(), bot.Deps{Matcher: m, Store: redisstore.New(rdb, "edubot:")})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	r := b.Handle(ctx, textMsg("u-down", "惠来县学校秋季几号开学"))
	if r.Answer != bot.AnswerFAQ || !strings.Contains(r.Text, "惠来县") || !r.Degraded {
		t.Fatalf("with Redis down: %+v", r)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v with Redis down", d)
	}
	if r := b.Handle(ctx, bot.Message{User: "u-down", Type: bot.TypeEvent, Event: bot.EventSubscribe, CreateTime: time.Now()}); !strings.Contains(r.Text, "欢迎") {
		t.Fatalf("welcome with Redis down: %+v", r)
	}
}

func TestSlowRedisAnswersWithinTheDeadline(t *testing.T) {
	// A server that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1, ContextTimeoutEnabled: true})
	defer rdb.Close()
	cfg := testConfig()
	cfg.StoreTimeout = 200 * time.Millisecond
	b := bot.New(cfg, bot.Deps{Matcher: &fakeMatcher{set: loadTestSet(t)}, Store: redisstore.New(rdb, "edubot:")})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	r := b.Handle(ctx, textMsg("u-slow", "普宁学校秋季几号开学"))
	if r.Answer != bot.AnswerFAQ || !r.Degraded {
		t.Fatalf("with a hanging Redis: %+v", r)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("took %v with a hanging Redis, want well inside the 3s deadline", d)
	}
}

func TestTwoReplicasShareTheConversation(t *testing.T) {
	e := newEnv(t)
	a, b := e.bot(), e.bot()
	if r := a.Handle(context.Background(), textMsg("u-two", "报到")); r.Answer != bot.AnswerChoices {
		t.Fatalf("%+v", r)
	}
	r := b.Handle(context.Background(), textMsg("u-two", "2"))
	if r.Answer != bot.AnswerFAQ || !strings.Contains(r.Text, "普宁市") {
		t.Fatalf("the other replica answered 2 with %+v", r)
	}
}

func TestRateLimitIsPerUserAndPolite(t *testing.T) {
	e := newEnv(t)
	e.cfg.RatePerMinute = 3
	b := e.bot()
	for i := range 3 {
		if r := b.Handle(context.Background(), textMsg("u-flood", "热线")); r.Answer != bot.AnswerRule {
			t.Fatalf("message %d: %+v", i+1, r)
		}
	}
	r := b.Handle(context.Background(), textMsg("u-flood", "热线"))
	if r.Kind != bot.ReplyText || !strings.Contains(r.Text, "稍等") {
		t.Fatalf("over the limit: %+v", r)
	}
	if r := b.Handle(context.Background(), textMsg("u-calm", "热线")); r.Answer != bot.AnswerRule {
		t.Fatalf("another user was limited: %+v", r)
	}
}

// Without conversational context the reply follows the matcher's decision.
func TestFreshMessagesFollowTheDecision(t *testing.T) {
	e := newEnv(t)
	b := e.bot()
	for i, q := range []string{"热线", "惠来县学校秋季几号开学", "报到", "今天天气怎么样", "中考录取工作通知", "家庭困难学生怎样申请资助", "人工智能课程"} {
		user := "u-fresh-" + string(rune('a'+i))
		res := e.m.Match(context.Background(), search.Query{Text: q})
		r := b.Handle(context.Background(), textMsg(user, q))
		switch res.Decision {
		case search.Answer:
			if len(r.IDs) == 0 || r.IDs[0] != res.Best.ID || r.Answer != string(res.Best.Kind) {
				t.Errorf("%s: best %s, reply %+v", q, res.Best.ID, r)
			}
			if res.Best.Kind == search.KindNotice && (r.Kind != bot.ReplyNews || r.Article.URL == "") {
				t.Errorf("%s: a notice must be one news card, got %+v", q, r)
			}
		case search.Choices:
			if r.Answer != bot.AnswerChoices {
				t.Errorf("%s: choices, reply %+v", q, r)
			}
		case search.Fallback:
			if r.Answer != bot.AnswerFallback || !strings.Contains(r.Text, "0663-12340101") || !strings.Contains(r.Text, "人工") {
				t.Errorf("%s: fallback with hotline and hand-off, reply %+v", q, r)
			}
		}
	}
	if len(e.rec.seen) == 0 {
		t.Fatal("nothing recorded for the statistics")
	}
}

func TestTextRepliesStayWithinWeChatsLimit(t *testing.T) {
	long := strings.Repeat("很长的答复内容。", 75) // 600 characters, 1800 bytes
	set := &content.Set{
		Notices: []*content.Notice{{ID: "n-long", Title: "一则通知", URL: "https://edu.example.org/" + strings.Repeat("x", 300), Summary: "摘要"}},
		FAQs:    []*content.FAQ{{ID: "faq-long", Question: "长答复问题", Answer: long, Notices: []string{"n-long"}}},
		Rules:   []*content.Rule{{ID: "rule-long", Match: "exact", Keywords: []string{"长规则"}, Reply: strings.Repeat("规则答复", 300)}},
	}
	b := bot.New(testConfig(), bot.Deps{Matcher: &fakeMatcher{set: set}})
	for _, q := range []string{"长答复问题", "长规则"} {
		r := b.Handle(context.Background(), textMsg("u-long", q))
		if r.Kind != bot.ReplyText || len(r.Text) > bot.MaxTextBytes || !utf8.ValidString(r.Text) {
			t.Fatalf("%s: %d bytes, valid UTF-8 %v", q, len(r.Text), utf8.ValidString(r.Text))
		}
		if q == "长答复问题" && (strings.Contains(r.Text, "详见") || !strings.HasSuffix(r.Text, "。")) {
			t.Fatalf("the link must be left out when it does not fit, the answer kept whole: …%s", r.Text[len(r.Text)-30:])
		}
		if q == "长规则" && !strings.HasSuffix(r.Text, "…") {
			t.Fatal("a cut reply must say so")
		}
	}
}

func TestWithoutStoreEverythingStillAnswers(t *testing.T) {
	b := bot.New(testConfig(), bot.Deps{Matcher: &fakeMatcher{set: loadTestSet(t)}})
	for _, q := range []string{"报到", "2", "我是普宁的家长", "我的订阅", "人工"} {
		r := b.Handle(context.Background(), textMsg("u-nostore", q))
		if r.Kind == bot.ReplyNone || (r.Kind == bot.ReplyText && r.Text == "") {
			t.Errorf("%s: %+v", q, r)
		}
	}
}

func BenchmarkHandleText(b *testing.B) {
	e := newEnv(b)
	e.cfg.RatePerMinute = 1 << 30
	e.rec.stats = nil // the bot alone, as before statistics were wired into the tests
	bt := e.bot()
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		bt.Handle(ctx, textMsg("u-bench-"+string(rune('a'+i%26)), "惠来县学校秋季几号开学"))
	}
}

func TestEveryKeyHasATTLAndUserKeysShareASlot(t *testing.T) {
	e := newEnv(t)
	e.rec.stats = nil // the bot's own keys (stats checks its own)
	b := e.bot()
	ctx := context.Background()
	for _, s := range []string{"我是普宁的家长", "订阅 开学", "报到", "2"} {
		b.Handle(ctx, textMsg("u-keys", s))
	}
	b.Handle(ctx, bot.Message{User: "u-keys", Type: bot.TypeEvent, Event: bot.EventSubscribe, CreateTime: time.Now()})
	e.clock.t = time.Date(2026, 11, 28, 20, 0, 0, 0, time.FixedZone("CST", 8*3600)) // Saturday evening
	b.Handle(ctx, textMsg("u-keys", "人工"))
	b.Handle(ctx, textMsg("u-keys", "请回电话"))
	e.clock.t = tuesdayMorning
	b.Handle(ctx, textMsg("u-keys", "人工"))

	rdb, prefix := e.rdbPrefix(t)
	keys, err := testredis.Keys(ctx, rdb, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, "rate:"+prefix+"{u:u-keys}:rate")
	kinds := map[string]bool{}
	for _, k := range keys {
		ttl := rdb.TTL(ctx, k).Val()
		if ttl <= 0 {
			t.Errorf("key %s has no TTL (%v)", k, ttl)
		}
		if rest, ok := strings.CutPrefix(k, prefix+"{u:u-keys}:"); ok {
			name, _, _ := strings.Cut(rest, ":")
			kinds[name] = true
		} else if !strings.HasPrefix(k, "rate:") && !strings.HasPrefix(k, prefix+"sub") && k != prefix+"notes" {
			t.Errorf("key %s is neither a user's nor documented", k)
		}
	}
	for _, want := range []string{"session", "profile", "subs", "seen", "dedup", "notes", "handoff"} {
		if !kinds[want] {
			t.Errorf("no %s key: %v", want, keys)
		}
	}
}

// BenchmarkHandleTextSample is one question on the built-in sample content
// with the real search engine and real Redis.
func BenchmarkHandleTextSample(b *testing.B) {
	e := newEnv(b)
	e.cfg.RatePerMinute = 1 << 30
	set, err := content.Load(sample.FS())
	if err != nil {
		b.Fatal(err)
	}
	eng, err := search.New(set, search.Options{})
	if err != nil {
		b.Fatal(err)
	}
	bt := bot.New(e.cfg, bot.Deps{Matcher: eng, Store: e.store, Now: e.clock.Now})
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		bt.Handle(ctx, textMsg("u-bench-"+string(rune('a'+i%26)), "普宁的学校几号开学"))
	}
}

func TestHandoffOutsideOfficeHoursLeavesNotesForStaff(t *testing.T) {
	e := newEnv(t)
	e.clock.t = time.Date(2026, 11, 29, 21, 0, 0, 0, time.FixedZone("CST", 8*3600)) // Sunday evening
	b := e.bot()
	ctx := context.Background()
	b.Handle(ctx, textMsg("u-note", "学校午餐怎么收费"))
	if r := b.Handle(ctx, textMsg("u-note", "转人工")); r.Kind != bot.ReplyText || !strings.Contains(r.Text, "周一至周五") {
		t.Fatalf("outside hours: %+v", r)
	}
	if r := b.Handle(ctx, textMsg("u-note", "想申请减免午餐费，怎么联系学校")); !strings.Contains(r.Text, "已记下") {
		t.Fatalf("note: %+v", r)
	}
	notes, err := e.store.Notes(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].OpenID != "u-note" || len(notes[0].Notes) != 2 ||
		notes[0].Notes[0].Text != "学校午餐怎么收费" || !strings.Contains(notes[0].Notes[1].Text, "减免午餐费") {
		t.Fatalf("notes for staff: %+v", notes)
	}
	// The bot is not silent: nobody took the conversation over.
	if r := b.Handle(ctx, textMsg("u-note", "热线")); r.Answer != bot.AnswerRule {
		t.Fatalf("after the note: %+v", r)
	}
}

func TestNoMatcherNeverPanics(t *testing.T) {
	e := newEnv(t)
	b := bot.New(testConfig(), bot.Deps{Store: e.store, Now: e.clock.Now})
	msgs := []bot.Message{textMsg("u-nil", "几号开学"), textMsg("u-nil", "订阅"), textMsg("u-nil", "人工")}
	for _, k := range []string{"AID", "EXAM", "TERM", "TOPICS", "HANDOFF", "HOTLINE", "GONE", "NOPE"} {
		msgs = append(msgs, bot.Message{User: "u-nil", Type: bot.TypeEvent, Event: bot.EventClick, EventKey: k, CreateTime: time.Now().Add(time.Duration(len(msgs)) * time.Second)})
	}
	for _, m := range msgs {
		if r := b.Handle(context.Background(), m); r.Kind == bot.ReplyText && r.Text == "" {
			t.Errorf("%s %s: empty text", m.Text, m.EventKey)
		}
	}
}

// MASSSENDJOBFINISH comes from one sender: two mass sends finishing in the
// same second are two events, not a retry.
func TestMassResultsOfTheSameSecondAreNotRetries(t *testing.T) {
	e := newEnv(t)
	b := e.bot()
	for _, id := range []int64{2000001, 2000002} {
		ev := bot.Message{User: "mphelper", Type: bot.TypeEvent, Event: bot.EventMassFinish, CreateTime: time.Unix(1764000000, 0),
			MsgID: strconv.FormatInt(id, 10), Mass: &bot.MassResult{MsgID: id, Status: "send success", TotalCount: 5, SentCount: 5}}
		if r := b.Handle(context.Background(), ev); r.Duplicate {
			t.Fatalf("mass send %d taken for a retry", id)
		}
	}
	if len(e.mass.got) != 2 {
		t.Fatalf("mass results: %+v, want both", e.mass.got)
	}
}
