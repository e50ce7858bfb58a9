package search

import (
	"context"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
)

func TestTermAskedAbout(t *testing.T) {
	faq := func(id, q, term string) *content.FAQ {
		return &content.FAQ{ID: id, Question: q, Answer: "见学校通知。", Region: "揭阳市", Term: term}
	}
	set := &content.Set{FAQs: []*content.FAQ{
		// Seasons named in the question, no period field: every year's.
		faq("faq-autumn", "秋季学期什么时候开学？", ""),
		faq("faq-spring", "寒假过后春季学期什么时候开学？", ""),
		// Periods stated in the content format.
		faq("faq-timetable-2026a", "学校作息时间表是怎样的？", "2026-autumn"),
		faq("faq-timetable-2025a", "学校作息时间表是怎样的？（旧）", "2025-autumn"),
	}}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { d, _ := content.ParseDate(s); return d.Time.Add(12 * time.Hour) }
	cases := []struct {
		name, text string
		now        time.Time
		want       string
	}{
		{"November: the next term is spring", "什么时候开学", at("2026-11-22"), "faq-spring"},
		{"November, Cantonese", "细路几时返学", at("2026-11-22"), "faq-spring"},
		{"late August: autumn", "什么时候开学", at("2026-08-20"), "faq-autumn"},
		{"next term asked in September", "下学期几号开学", at("2026-09-15"), "faq-spring"},
		{"the current term's timetable", "这学期作息时间表", at("2026-10-10"), "faq-timetable-2026a"},
		{"an item whose period is over counts less", "学校作息时间表", at("2026-10-10"), "faq-timetable-2026a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(context.Background(), Query{Text: c.text, Now: c.now, Explain: true})
			if got := shown(r); got != c.want {
				t.Fatalf("shown %q (%v), want %s; notes %v", got, r.Decision, c.want, r.Explain.Notes)
			}
		})
	}
}
