package search

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
)

// matchCase is one question and what the matcher must do with it: put want
// first (a direct answer, or the first of a list), or give no direct answer
// when want is "".
type matchCase struct{ name, text, want string }

func runMatchCases(t *testing.T, e *Engine, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(context.Background(), Query{Text: c.text, Now: testNow, Explain: true})
			got := shown(r)
			if c.want == "" && r.Decision != Answer {
				got = ""
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

// A grade in the question says mostly who asks: the question is answered by
// what it asks (sign-up, subjects), and the grade only keeps other grades'
// answers away.
func TestGradeSaysWhoAsks(t *testing.T) {
	faq := func(id, q, a string, kw ...string) *content.FAQ {
		return &content.FAQ{ID: id, Question: q, Answer: a, Keywords: kw, Region: "韶关市"}
	}
	set := &content.Set{FAQs: []*content.FAQ{
		faq("faq-hk-subjects", "会考考哪些科目，高一高二各考什么？", "高一考信息技术，高二考物理化学等。", "会考", "科目", "高一", "高二"),
		faq("faq-hk-signup", "会考什么时候报名？", "每年11月在学校报名。", "会考", "报名"),
		faq("faq-hk-retake", "会考没通过可以补考吗？", "可以参加下一次补考。", "会考", "补考"),
		faq("faq-g7-signup", "初一新生什么时候报名？", "7月网上报名。", "初一", "报名"),
		faq("faq-bus", "学校有校车吗？", "农村学校按需开通。", "校车"),
		faq("faq-myopia", "学校怎么预防近视？", "每学期视力筛查。", "近视"),
	}}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"a grade then the sign-up", "我是高一的，会考几号报名", "faq-hk-signup"},
		{"a grade and the sign-up time", "高二学生会考报名时间", "faq-hk-signup"},
		{"the sign-up, grade last", "会考报名在哪天，高一", "faq-hk-signup"},
		{"keywords only, a grade first", "高一 会考 报名", "faq-hk-signup"},
		{"a grade's exam, when to sign up", "高二的会考哪天开始报名", "faq-hk-signup"},
		{"a grade then the subjects", "高二会考考什么科目", "faq-hk-subjects"},
		{"a grade then a retake", "高二会考没过能补考吗", "faq-hk-retake"},
	})
}

// 中考 and 学考 are both 学业水平考试: a question about one is not answered
// with the other's notice.
func TestJuniorAndSeniorLevelExams(t *testing.T) {
	nt := func(id, title, date, summary string, kw ...string) *content.Notice {
		return &content.Notice{ID: id, Title: title, Date: day(date), Source: "韶关市教育局", URL: "https://e.example/" + id,
			Summary: summary, Keywords: kw, Region: "韶关市", Body: summary}
	}
	set := &content.Set{
		Notices: []*content.Notice{
			nt("n-senior-signup", "关于2027年1月普通高中学业水平合格性考试报名的通知", "2026-11-01", "高二学生11月10日前在学校报名。"),
			nt("n-canteen", "中小学食堂食品安全专项检查", "2026-05-01", "全市学校食堂开展检查。", "食堂"),
			nt("n-grade1-signup", "关于小学一年级新生报名的通知", "2026-06-01", "6月10日至20日网上报名。", "一年级"),
			nt("n-teacher-signup", "教师资格认定报名的通知", "2026-03-01", "3月网上报名。", "教师资格"),
		},
		FAQs: []*content.FAQ{
			{ID: "faq-bus", Question: "学校有校车吗？", Answer: "农村学校按需开通。", Keywords: []string{"校车"}, Region: "韶关市"},
			{ID: "faq-myopia", Question: "学校怎么预防近视？", Answer: "每学期视力筛查。", Keywords: []string{"近视"}, Region: "韶关市"},
		},
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"the junior exam's sign-up is not the senior one's", "中考报名的通知", ""},
		{"the senior exam by its short name", "学考报名的通知", "n-senior-signup"},
		{"the senior exam by its old name", "高中会考报名通知", "n-senior-signup"},
	})
}

// Dates a message names are read as content writes them (6月7号 is 6月7日,
// 1月份 is 1月), with their year when given, and not inside larger numbers.
func TestDatesIn(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"高考是6月7日开始吗", []string{"6月7日", "6月"}},
		{"1月份寒假几号放", []string{"1月"}},
		{"2026年1月24日开始", []string{"1月24日", "2026年1月24日", "1月", "2026年1月"}},
		{"11月的通知", []string{"11月"}},
		{"没有日期", nil},
	}
	for _, c := range cases {
		if got := datesIn(c.in); !slices.Equal(got, c.want) {
			t.Errorf("datesIn(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// A question naming a month and (through 今年) a year prefers the notice
// that names that month of that year over one of another year's same month.
func TestDateOfTheYearAsked(t *testing.T) {
	set := &content.Set{Notices: []*content.Notice{
		{ID: "n-winter-a", Title: "2025—2026学年寒假安排", Summary: "寒假自2026年1月24日开始。", Body: "寒假安排。", Source: "市教育局", URL: "https://jyj.example.org/n", Region: "揭阳市", Date: content.Date{Time: time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)}},
		{ID: "n-winter-b", Title: "2026—2027学年寒假安排", Summary: "寒假自2027年1月23日开始。", Body: "寒假安排。", Source: "市教育局", URL: "https://jyj.example.org/n", Region: "揭阳市", Date: content.Date{Time: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)}},
	}}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ text, want string }{
		{"今年1月寒假安排", "n-winter-a"},
		{"2027年1月寒假安排", "n-winter-b"},
	} {
		r := e.Match(context.Background(), Query{Text: c.text, Now: testNow})
		if len(r.Top) == 0 || r.Top[0].ID != c.want {
			t.Errorf("%s: top %v, want %s first", c.text, r.Top, c.want)
		}
	}
}
