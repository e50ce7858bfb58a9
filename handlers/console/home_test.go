package console

import (
	"context"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
)

// TestHomeTopQuestions: home lists the questions asked most today as
// people typed them, answered or not, with their counts — not the
// content, not yesterday's, no dialogue turns, never a row asked 0 times
// — and, apart, the content answered most without the content only
// offered in lists.
func TestHomeTopQuestions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cl := e.loggedIn("ann")
	webhook := e.daily.Wrap(e.bot) // as serve wires it: every message counted
	n := 0
	ask := func(user, text string) bot.Reply {
		n++
		return webhook.Handle(ctx, bot.Message{User: user, Type: bot.TypeText, Text: text,
			MsgID: "m-home-" + strconv.Itoa(n), CreateTime: e.now})
	}

	set, _ := e.store.Export(ctx)
	// Two FAQs asked by their own question: answered directly.
	var faqA, faqB string
	for _, f := range set.FAQs {
		if r := e.bot.Ask(ctx, f.Question); r.Answer != bot.AnswerFAQ || r.IDs[0] != f.ID {
			continue
		}
		if faqA == "" {
			faqA = f.Question
		} else if f.Question != faqA {
			faqB = f.Question
			break
		}
	}
	if faqB == "" {
		t.Fatal("no two FAQs the bot answers by their own question")
	}
	const mars = "火星上的月亮是什么颜色的"
	// The same question typed another way: one group, shown as typed most.
	other := strings.TrimRight(faqA, "？?")
	if other == faqA {
		other += "？"
	}
	for i, q := range []string{faqA, faqA, other, mars, mars, faqB} {
		rep := ask("o-home-"+strconv.Itoa(i), q)
		if q != mars && rep.Answer != bot.AnswerFAQ {
			t.Fatalf("%q: %s, want an FAQ answer", q, rep.Answer)
		}
		if q == mars && rep.Answer != bot.AnswerFallback {
			t.Fatalf("%q: %s, want no answer", q, rep.Answer)
		}
	}
	// A dialogue turn is no question for the content.
	if rep := ask("o-home-9", "我是普宁的家长"); rep.Answer != bot.AnswerDialog {
		t.Fatalf("profile message: %s, want dialog", rep.Answer)
	}
	// Yesterday's questions and a row counted 0 times (as a decrement
	// would leave) are not today's top questions; content only offered in
	// a list was not answered with.
	p := e.c.Prefix + "{stats}:"
	e.c.Redis.ZIncrBy(ctx, p+"typed:faq:20261121", 50, "昨天问得最多的问题")
	e.c.Redis.ZAdd(ctx, p+"typed:faq:20261122", redis.Z{Score: 0, Member: "问了零次的问题"})
	e.c.Redis.HSet(ctx, p+"offered:20261122", "faq-only-offered", 7)

	r := cl.get("/console/")
	top := section(t, r.body, "top-questions")
	rows := regexp.MustCompile(`<tr id="tq-\d+"><td>(.*?)</td><td>(\d+)</td></tr>`).FindAllStringSubmatch(top, -1)
	var got []string
	for _, m := range rows {
		text := html.UnescapeString(regexp.MustCompile(`^([^<]*)`).FindStringSubmatch(m[1])[1])
		got = append(got, strings.TrimSpace(text)+"="+m[2])
	}
	want := []string{faqA + "=3", mars + "=2", faqB + "=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("today's top questions: %q, want %q\n%s", got, want, top)
	}
	if !strings.Contains(rows[0][1], "还有 1 种说法") || strings.Contains(rows[0][1], "tag warn") {
		t.Errorf("the FAQ's question: %s; want its other form counted, no warning", rows[0][1])
	}
	if !strings.Contains(rows[1][1], "没有答案 2") {
		t.Errorf("the unanswered question is not marked: %s", rows[1][1])
	}
	for _, bad := range []string{"昨天问得最多的问题", "问了零次的问题", "普宁的家长"} {
		if strings.Contains(top, bad) {
			t.Errorf("top questions list %q", bad)
		}
	}

	content := section(t, r.body, "top-content")
	if strings.Contains(content, "faq-only-offered") || strings.Contains(content, "<td>0</td>") {
		t.Errorf("most answered content lists content answered 0 times:\n%s", content)
	}
	if !strings.Contains(content, html.EscapeString(faqA)) {
		t.Errorf("most answered content lacks the FAQ answered 3 times:\n%s", content)
	}
	if un := section(t, r.body, "top-unanswered"); !strings.Contains(un, mars) || strings.Contains(un, html.EscapeString(faqA)) {
		t.Errorf("top unanswered:\n%s", un)
	}

	// A quiet day: a sentence, no empty table.
	e.c.Redis.Del(ctx, p+"typed:faq:20261122", p+"typed:fallback:20261122")
	if top := section(t, cl.get("/console/").body, "top-questions"); strings.Contains(top, "<table") || !strings.Contains(top, "今天还没有人提问") {
		t.Errorf("no questions today:\n%s", top)
	}
}

// section is the <section id="id"> of a page.
func section(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<section class="card" id="` + id + `">.*?</section>`).FindString(body)
	if m == "" {
		t.Fatalf("no section %s", id)
	}
	return m
}
