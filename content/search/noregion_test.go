package search

import (
	"context"
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

// A bureau whose content names no region at all (a school's own account)
// must still be served: no item has a region, so the region table is empty.
func TestContentWithoutRegions(t *testing.T) {
	set := &content.Set{
		Notices: []*content.Notice{
			{ID: "n-term", Title: "2026年秋季学期开学安排", Date: day("2026-08-20"), Source: "学校办公室", URL: "https://e.example/1",
				Summary: "9月1日开学，新生8月30日报到。", Body: "全校9月1日正式上课。"},
		},
		FAQs: []*content.FAQ{
			{ID: "faq-canteen", Question: "学校食堂每餐收多少钱？", Answer: "午餐按核定标准收取。"},
		},
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, q := range []string{"学校食堂每餐收多少钱", "秋季什么时候开学", "普宁开学"} {
		r := e.Match(context.Background(), Query{Text: q, Now: testNow})
		if q == "学校食堂每餐收多少钱" && answer(r) != "faq-canteen" {
			t.Errorf("%s: got %q (%v), want faq-canteen", q, answer(r), r.Decision)
		}
	}
	// An edit that adds the first region, and one that removes it again.
	if err := e.UpsertFAQ(&content.FAQ{ID: "faq-bus", Question: "校车怎么申请？", Answer: "向学校申请。", Region: "惠来县"}); err != nil {
		t.Fatalf("UpsertFAQ: %v", err)
	}
	if got := answer(e.Match(context.Background(), Query{Text: "惠来县校车怎么申请", Now: testNow})); got != "faq-bus" {
		t.Errorf("after adding a region: got %q, want faq-bus", got)
	}
}
