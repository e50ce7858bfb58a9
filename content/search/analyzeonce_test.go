package search

import (
	"context"
	"slices"
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

// The dialogue analyses a message once and hands the analysis to Match:
// the result must be the one Match finds on its own, and an analysis made
// for another text, day or content version must not be reused.
func TestAnalyzeOnceReusedByMatch(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for _, text := range []string{"普宁什么时候开学", "今年中考报名时间", "饭堂伙食费怎么收？", "一年级报名要带什么"} {
		t.Run(text, func(t *testing.T) {
			a := e.AnalyzeAt(text, testNow)
			if a.prep == nil {
				t.Fatal("AnalyzeAt carries no prepared query")
			}
			fresh := e.Match(ctx, Query{Text: text, Now: testNow})
			reused := e.Match(ctx, Query{Text: text, Now: testNow, Analysis: &a})
			if fresh.Decision != reused.Decision || fresh.Best.ID != reused.Best.ID || len(fresh.Top) != len(reused.Top) {
				t.Fatalf("reused analysis: %v %s (%d), fresh: %v %s (%d)", reused.Decision, reused.Best.ID, len(reused.Top), fresh.Decision, fresh.Best.ID, len(fresh.Top))
			}
			// Matching twice with one analysis (another profile region
			// the second time) must not carry state from the first.
			again := e.Match(ctx, Query{Text: text, Now: testNow, Analysis: &a, Region: "惠来县"})
			alone := e.Match(ctx, Query{Text: text, Now: testNow, Region: "惠来县"})
			if again.Decision != alone.Decision || again.Best.ID != alone.Best.ID {
				t.Fatalf("second use with a profile region: %v %s, fresh: %v %s", again.Decision, again.Best.ID, alone.Decision, alone.Best.ID)
			}
		})
	}
	t.Run("another text is analysed afresh", func(t *testing.T) {
		a := e.AnalyzeAt("学校食堂每餐收多少钱", testNow)
		r := e.Match(ctx, Query{Text: "一年级报名要带什么材料", Now: testNow, Analysis: &a})
		if r.Decision != Answer || r.Best.ID != "faq-grade1-docs" {
			t.Fatalf("got %v %s, want the question's own answer", r.Decision, r.Best.ID)
		}
	})
	t.Run("content changed since the analysis", func(t *testing.T) {
		const text = "学生午睡怎么安排"
		a := e.AnalyzeAt(text, testNow)
		if err := e.UpsertFAQ(&content.FAQ{ID: "faq-nap", Question: "学生午睡怎么安排？", Answer: "中午在教室午休。", Region: "揭阳市"}); err != nil {
			t.Fatal(err)
		}
		r := e.Match(ctx, Query{Text: text, Now: testNow, Analysis: &a})
		if r.Decision != Answer || r.Best.ID != "faq-nap" {
			t.Fatalf("got %v %s, want the FAQ added after the analysis", r.Decision, r.Best.ID)
		}
	})
}

func TestAnalyzeTopicAndFollowUp(t *testing.T) {
	set := testSet()
	set.Notices = append(set.Notices, &content.Notice{ID: "n-beichuan", Title: "北川羌族自治县2026年秋季开学安排", Date: day("2026-08-10"),
		Source: "北川县教育局", URL: "https://e.example/9", Summary: "北川9月1日开学。", Region: "北川羌族自治县"})
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text     string
		followUp bool
		region   string
		grade    string
		topic    string
	}{
		{"那北川羌族自治县呢", true, "北川羌族自治县", "", ""},
		{"那北川呢？", true, "北川羌族自治县", "", ""},
		{"換成普寧的話", true, "普宁市", "", ""},
		{"初一的呢", true, "", "初一", ""},
		{"那惠来初二呢", true, "惠来县", "初二", ""},
		{"七年级呢", true, "", "初一", ""},
		{"普宁什么时候开学", false, "普宁市", "", "什么时候开学"},
		{"老师你好，惠来初三中考报名时间", false, "惠来县", "初三", "中考报名时间"},
		{"那开学呢", false, "", "", "那开学呢"},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			a := e.Analyze(c.text)
			if a.FollowUp != c.followUp {
				t.Errorf("FollowUp = %v, want %v (topic %q)", a.FollowUp, c.followUp, a.Topic)
			}
			if c.region != "" && !slices.Contains(a.Regions, c.region) {
				t.Errorf("Regions = %v, want %s", a.Regions, c.region)
			}
			if c.grade != "" && !slices.Contains(a.Grades, c.grade) {
				t.Errorf("Grades = %v, want %s", a.Grades, c.grade)
			}
			if !c.followUp && a.Topic != c.topic {
				t.Errorf("Topic = %q, want %q", a.Topic, c.topic)
			}
		})
	}
}
