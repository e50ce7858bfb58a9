package search

import (
	"context"
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

// matchCase is one question and what the matcher must do with it: answer
// with want, or fall back when want is "".
type matchCase struct{ name, text, want string }

func runMatchCases(t *testing.T, e *Engine, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(context.Background(), Query{Text: c.text, Now: testNow, Explain: true})
			got := ""
			if r.Decision == Answer {
				got = r.Best.ID
			}
			if got != c.want {
				t.Errorf("Match(%q) = %s %q, want %q\n tokens %v\n candidates %v\n notes %v", c.text, r.Decision, got, c.want,
					r.Explain.Tokens, r.Explain.Candidates, r.Explain.Notes)
			}
		})
	}
}

// A yearly notice is often published the year before the one it is about:
// the year a question names is matched against the years the notices name,
// and their publication year counts only when they name none.
func TestYearsNamedBeforePublication(t *testing.T) {
	nt := func(id, title, date, summary string, kw ...string) *content.Notice {
		return &content.Notice{ID: id, Title: title, Date: day(date), Source: "韶关市教育局", URL: "https://e.example/" + id,
			Summary: summary, Keywords: kw, Region: "韶关市", Body: summary}
	}
	set := &content.Set{
		Notices: []*content.Notice{
			nt("n-art-2026", "2026年艺术类专业统考工作方案", "2025-10-10", "2026年艺术类专业统考12月举行。", "艺术统考"),
			nt("n-art-2027", "2027年艺术类专业统考工作方案", "2026-10-12", "2027年艺术类专业统考12月举行。", "艺术统考"),
			nt("n-lab-plan", "初中物理化学实验操作考试安排", "2026-03-01", "实验操作考试4月举行。", "实验操作考试"),
			nt("n-canteen", "中小学食堂食品安全专项检查", "2026-05-01", "全市学校食堂开展检查。", "食堂"),
		},
		FAQs: []*content.FAQ{
			{ID: "faq-lab-score", Question: "实验操作考试成绩怎么查？", Answer: "考试结束两周后在学校查询。", Keywords: []string{"实验操作考试", "成绩"}, Region: "韶关市"},
			{ID: "faq-bus", Question: "学校有校车吗？", Answer: "农村学校按需开通。", Keywords: []string{"校车"}, Region: "韶关市"},
			{ID: "faq-myopia", Question: "学校怎么预防近视？", Answer: "每学期视力筛查。", Keywords: []string{"近视"}, Region: "韶关市"},
		},
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"the edition named 2026 though published in 2025", "2026年艺术统考工作方案", "n-art-2026"},
		{"the edition named 2027 though published in 2026", "2027年艺术类统考方案", "n-art-2027"},
		{"a year no candidate speaks of, FAQ", "2024年实验操作考试成绩怎么查", ""},
		{"a year no candidate speaks of, notice", "2023年艺术统考方案", ""},
		{"the publication year of a notice naming none", "2026年食堂食品安全检查", "n-canteen"},
		{"no year named keeps the FAQ", "实验操作考试成绩怎么查", "faq-lab-score"},
	})
}
