package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// writeQuestions writes a question file for the built-in sample set.
func writeQuestions(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "q.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEvalReportsAndGates(t *testing.T) {
	good := writeQuestions(t,
		`{"id":"a1","query":"中考成绩在哪查","expect":["faq-zhongkao-score"],"kind":"faq"}`,
		`{"id":"a2","query":"一年级报名要准备什么材料","expect":["faq-enrollment-documents"],"kind":"faq"}`,
		`{"id":"a3","query":"附近哪家奶茶好喝","expect":[],"kind":"none"}`,
	)
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"eval", "--questions", good, "--now", "2026-11-22", "--json", "--gate"}, &out, &errb)
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, errb.String())
	}
	var rep evalReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out.String())
	}
	if rep.All.Questions != 3 || rep.All.Answerable != 2 || rep.All.None != 1 {
		t.Errorf("counts %+v", rep.All)
	}
	if rep.All.Top1 != 1 || rep.All.WrongRate != 0 || rep.All.FallNone != 1 {
		t.Errorf("figures %+v, misses %+v", rep.All, rep.Misses)
	}
	if rep.Kinds["faq"] == nil || rep.Kinds["faq"].Answerable != 2 {
		t.Errorf("per kind %+v", rep.Kinds)
	}

	// An expectation the sample set cannot meet: the gate must fail and
	// the text report must show the miss and the confusion.
	bad := writeQuestions(t,
		`{"id":"b1","query":"中考成绩在哪查","expect":["faq-grade1-signup"],"kind":"faq"}`,
	)
	out.Reset()
	err = run(context.Background(), []string{"eval", "--questions", bad, "--now", "2026-11-22", "--gate"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "quality gate failed") {
		t.Fatalf("gate did not fail: %v", err)
	}
	for _, want := range []string{"top-1", "helpful", "confident wrong", "misses:", "b1", "faq-grade1-signup <- faq-zhongkao-score", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"top-1 0.000 < 0.85", "helpful 0.000 < 0.95", "confident wrong 1.000 > 0.02"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("gate error lacks %q: %v", want, err)
		}
	}

	// Thresholds of one set's own, given on the command line.
	err = run(context.Background(), []string{"eval", "--questions", bad, "--now", "2026-11-22", "--gate",
		"--min-top1", "0", "--min-helpful", "0", "--max-wrong", "1"}, &out, &errb)
	if err != nil {
		t.Errorf("gate failed with thresholds every figure meets: %v", err)
	}
	err = run(context.Background(), []string{"eval", "--questions", bad, "--now", "2026-11-22", "--gate",
		"--min-top1", "0", "--min-helpful", "0", "--max-wrong", "0.5"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "confident wrong 1.000 > 0.50") || strings.Contains(err.Error(), "top-1") {
		t.Errorf("want only the confident-wrong threshold to fail, got %v", err)
	}
	for _, bad := range [][]string{{"--min-top1", "1.5"}, {"--max-wrong", "-0.1"}, {"--min-helpful", "x"}} {
		if err := run(context.Background(), append([]string{"eval", "--questions", good}, bad...), &out, &errb); err == nil {
			t.Errorf("threshold %v accepted", bad)
		}
	}
}

// TestEvalCounts checks what each figure counts: a list counts for top-1
// by its first item and for helpful by any shown item; only a direct answer
// is a confident wrong one; an unanswerable question answered with a list
// or a fallback counts as a fallback.
func TestEvalCounts(t *testing.T) {
	var c evalCounts
	for _, o := range []evalOutcome{
		{Expect: []string{"a"}, Decision: "answer", Got: "a", Listed: []string{"a"}, Right: true, Helpful: true},
		{Expect: []string{"b"}, Decision: "suggest", Got: "x", Listed: []string{"x", "b"}, Helpful: true, Wrong: true},
		{Expect: []string{"c"}, Decision: "choices", Got: "c", Listed: []string{"c", "y"}, Right: true, Helpful: true},
		{Expect: []string{"d"}, Decision: "answer", Got: "z", Listed: []string{"z"}, Wrong: true, ConfWrong: true},
		{Expect: []string{"e"}, Decision: "fallback"},
		{Decision: "suggest", Got: "q", Listed: []string{"q"}, Wrong: true},
		{Decision: "fallback"},
		{Decision: "answer", Got: "r", Listed: []string{"r"}, Wrong: true, ConfWrong: true},
	} {
		c.add(o)
	}
	c.finish()
	want := evalCounts{Questions: 8, Answerable: 5, Right: 2, Helpful: 3, Wrong: 4, ConfWrong: 2, None: 3, NoneFell: 2, Lists: 3,
		Top1: 0.4, HelpfulRate: 0.6, WrongRate: 0.5, ConfWrongRate: 0.25, FallNone: 2.0 / 3, ListRate: 3.0 / 8}
	if c != want {
		t.Errorf("counts\n got %+v\nwant %+v", c, want)
	}
	g := evalGate{top1: 0.4, helpful: 0.6, wrong: 0.25, fallback: 0.66}
	if fails := g.check(&c); len(fails) != 0 {
		t.Errorf("figures at their thresholds failed: %v", fails)
	}
	g = evalGate{top1: 0.5, helpful: 0.7, wrong: 0.2, fallback: 0.7}
	if fails := g.check(&c); len(fails) != 4 {
		t.Errorf("want 4 failures, got %v", fails)
	}
}

func TestEvalExplain(t *testing.T) {
	q := writeQuestions(t, `{"id":"x1","query":"中考成績在哪裡查","expect":["faq-zhongkao-score"],"kind":"faq"}`)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"eval", "--questions", q, "--explain", "x1"}, &out, &errb); err != nil {
		t.Fatalf("eval: %v", err)
	}
	for _, want := range []string{"explain:", "tokens:", "中考", "faq-zhongkao-score", "confidence"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(context.Background(), []string{"eval", "--questions", q, "--explain", "nope"}, &out, &errb); err == nil {
		t.Error("--explain of an unknown id did not fail")
	}
}

func TestEvalBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"eval"}, &out, &errb); err == nil {
		t.Error("missing --questions accepted")
	}
	broken := writeQuestions(t, `{"id":"c1","query":"开学"}`, `{not json`)
	err := run(context.Background(), []string{"eval", "--questions", broken}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("want an error naming line 2, got %v", err)
	}
	q := writeQuestions(t, `{"id":"c1","query":"开学","expect":[]}`)
	if err := run(context.Background(), []string{"eval", "--questions", q, "--content", t.TempDir() + "/missing"}, &out, &errb); err == nil {
		t.Error("missing content folder accepted")
	}
}

// TestEvalReplyOf checks that eval counts what the bot's reply shows.
func TestEvalReplyOf(t *testing.T) {
	faq := func(id string) search.Candidate { return search.Candidate{Kind: search.KindFAQ, ID: id} }
	many := []search.Candidate{faq("a"), faq("b"), faq("c"), faq("d")}
	for _, tc := range []struct {
		name     string
		r        search.Result
		decision string
		listed   []string
	}{
		{"answer", search.Result{Decision: search.Answer, Best: faq("a"), Top: many}, "answer", []string{"a"}},
		{"suggest lists at most 3", search.Result{Decision: search.Suggest, Choices: many, Top: many}, "suggest", []string{"a", "b", "c"}},
		{"choices page continues with Top", search.Result{Decision: search.Choices, Choices: many[:2],
			Top: []search.Candidate{faq("b"), faq("e"), faq("f"), faq("g"), faq("h")}}, "choices", []string{"a", "b", "e", "f", "g"}},
		{"an empty list is a fallback", search.Result{Decision: search.Suggest}, "fallback", nil},
		{"fallback", search.Result{Decision: search.Fallback, Top: many}, "fallback", nil},
		{"out of scope overrides an answer", search.Result{Decision: search.Answer, Best: faq("a"),
			Analysis: search.Analysis{Scope: search.Personal}}, "out_of_scope", nil},
		{"out of scope overrides a list", search.Result{Decision: search.Suggest, Choices: many,
			Analysis: search.Analysis{Scope: search.OtherService}}, "out_of_scope", nil},
		{"a keyword rule still answers", search.Result{Decision: search.Answer, Best: search.Candidate{Kind: search.KindRule, ID: "rule-x"},
			Analysis: search.Analysis{Scope: search.AboutBot}}, "answer", []string{"rule-x"}},
	} {
		d, l := replyOf(tc.r)
		if d != tc.decision || !slices.Equal(l, tc.listed) {
			t.Errorf("%s: got %s %v, want %s %v", tc.name, d, l, tc.decision, tc.listed)
		}
	}
	// An out-of-scope reply to an unanswerable question is a fallback.
	var c evalCounts
	c.add(evalOutcome{Decision: decisionOutOfScope})
	if c.NoneFell != 1 || c.Lists != 0 {
		t.Errorf("out of scope counted %+v", c)
	}
}

// TestEvalThroughBot asks through the dialogue on the test Redis and
// leaves no keys behind.
func TestEvalThroughBot(t *testing.T) {
	addr := testredis.Addr(t)
	q := writeQuestions(t,
		`{"id":"a1","query":"中考成绩在哪查","expect":["faq-zhongkao-score"],"kind":"faq"}`,
		`{"id":"a2","query":"一年级报名要准备什么材料","expect":["faq-enrollment-documents"],"kind":"faq"}`,
		`{"id":"a3","query":"附近哪家奶茶好喝","expect":[],"kind":"none"}`,
	)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"eval", "--bot", "--redis", addr, "--questions", q, "--now", "2026-11-22", "--json"}, &out, &errb); err != nil {
		t.Fatalf("eval --bot: %v\n%s", err, errb.String())
	}
	var rep evalReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json output does not parse: %v", err)
	}
	if rep.All.Right != 2 || rep.All.NoneFell != 1 || rep.All.ConfWrong != 0 {
		t.Errorf("through the bot: %+v, misses %+v", rep.All, rep.Misses)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), "edubot-eval:*").Result()
	if err != nil || len(keys) > 0 {
		t.Errorf("keys left behind: %v %v", keys, err)
	}
}

func TestEvalBotReplyOf(t *testing.T) {
	for _, tc := range []struct {
		r        bot.Reply
		decision string
		listed   []string
	}{
		{bot.Reply{Answer: bot.AnswerFAQ, IDs: []string{"faq-a", "n-1"}}, "answer", []string{"faq-a", "n-1"}},
		{bot.Reply{Answer: bot.AnswerRule, IDs: []string{"rule-x"}}, "answer", []string{"rule-x"}},
		{bot.Reply{Answer: bot.AnswerChoices, IDs: []string{"a", "b"}}, "choices", []string{"a", "b"}},
		{bot.Reply{Answer: "suggest", IDs: []string{"a"}}, "suggest", []string{"a"}},
		{bot.Reply{Answer: bot.AnswerFallback}, "fallback", nil},
		{bot.Reply{Answer: "out_of_scope"}, "out_of_scope", nil},
		{bot.Reply{Answer: bot.AnswerDialog, IDs: []string{"x"}}, "fallback", nil},
		{bot.Reply{Answer: bot.AnswerFAQ}, "fallback", nil},
	} {
		d, l := botReplyOf(tc.r)
		if d != tc.decision || !slices.Equal(l, tc.listed) {
			t.Errorf("%+v: got %s %v, want %s %v", tc.r, d, l, tc.decision, tc.listed)
		}
	}
}
