package search

import (
	"context"
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

// shown is what a reply puts first: the answer, or the first of a list.
func shown(r Result) string {
	switch r.Decision {
	case Answer:
		return r.Best.ID
	case Choices, Suggest:
		if len(r.Choices) > 0 {
			return r.Choices[0].ID
		}
	}
	return ""
}

func TestSuggestBetweenFloorAndThreshold(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	cases := []struct {
		name, text, want string
	}{
		{"a vague description", "孩子眼睛有点看不清", "faq-myopia"},
		{"vague, full-width and traditional", "孩子眼睛有點看不清？？", "faq-myopia"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(ctx, Query{Text: c.text, Now: testNow})
			if r.Decision != Suggest {
				t.Fatalf("decision %v (top %v), want suggest", r.Decision, r.Top)
			}
			if len(r.Choices) == 0 || len(r.Choices) > 3 || r.Choices[0].ID != c.want {
				t.Fatalf("choices %v, want at most 3 with %s first", r.Choices, c.want)
			}
			for _, ch := range r.Choices {
				if ch.Confidence >= DefaultThreshold {
					t.Errorf("a suggestion at %.2f: that is a confident answer", ch.Confidence)
				}
			}
		})
	}
	t.Run("never a direct answer below the threshold", func(t *testing.T) {
		for _, text := range []string{"孩子眼睛有点看不清", "学校吃饭贵不贵", "开学的事情", "视力"} {
			r := e.Match(ctx, Query{Text: text, Now: testNow})
			if r.Decision == Answer && r.Best.Confidence < DefaultThreshold {
				t.Errorf("%s: answered %s at %.2f", text, r.Best.ID, r.Best.Confidence)
			}
		}
	})
	t.Run("below the floor falls back", func(t *testing.T) {
		r := e.Match(ctx, Query{Text: "学校吃饭贵不贵", Now: testNow})
		if len(r.Top) > 0 && r.Top[0].Confidence >= DefaultSuggestFloor {
			t.Fatalf("top %.2f is above the floor: pick a question that scores below it", r.Top[0].Confidence)
		}
		if r.Decision != Fallback {
			t.Fatalf("decision %v, want fallback", r.Decision)
		}
	})
	t.Run("floor and threshold are options", func(t *testing.T) {
		strict, err := New(testSet(), Options{SuggestFloor: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		if r := strict.Match(ctx, Query{Text: "孩子眼睛有点看不清", Now: testNow}); r.Decision != Fallback {
			t.Fatalf("floor 0.3: decision %v (top %v), want fallback", r.Decision, r.Top)
		}
	})
}

// constraintSet holds answers that differ only by exam or school level.
func constraintSet() *content.Set {
	faq := func(id, q string, kw ...string) *content.FAQ {
		return &content.FAQ{ID: id, Question: q, Answer: "见通知。", Keywords: kw, Region: "揭阳市"}
	}
	return &content.Set{FAQs: []*content.FAQ{
		faq("faq-gk-reg", "高考什么时候报名？", "高考报名"),
		faq("faq-adult-reg", "成人高考什么时候报名？", "成人高考"),
		faq("faq-zk-recheck", "中考成绩可以申请复核吗？", "中考成绩复核"),
		faq("faq-gk-recheck", "高考成绩可以申请复核吗？", "高考成绩复核"),
		faq("faq-hs-grant", "高中国家助学金怎么申请？", "助学金"),
		faq("faq-vocation-fee", "中职学校学费怎么收？有没有助学金？", "中职助学金"),
		faq("faq-kinder-reg", "幼儿园什么时候报名？", "幼儿园报名"),
		faq("faq-grade1-reg", "小学一年级什么时候报名？", "一年级报名"),
		faq("faq-hs-volunteer", "高中志愿什么时候填？", "中考志愿"),
		faq("faq-grade7-report", "初一新生什么时候报到？", "初一报到"),
		faq("faq-grade10-report", "高一新生什么时候报到？", "高一报到"),
	}}
}

func TestConstraintsMustAgree(t *testing.T) {
	e, err := New(constraintSet(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name, text string
		want       string   // the first item shown; "" for none
		never      []string // never shown first, nor in a list
	}{
		{"adult exam is not the gaokao", "成人高考几时报名", "faq-adult-reg", []string{"faq-gk-reg"}},
		{"gaokao is not the adult exam", "高考幾時報名", "faq-gk-reg", []string{"faq-adult-reg"}},
		{"zhongkao recheck", "中考分数出来了想复核一下", "faq-zk-recheck", []string{"faq-gk-recheck"}},
		{"gaokao recheck, voice typed", "那个高考成绩复核怎么弄啊", "faq-gk-recheck", []string{"faq-zk-recheck"}},
		{"postgraduate grant is neither high school nor vocational", "研究生助学金点样申请", "", []string{"faq-hs-grant", "faq-vocation-fee"}},
		{"vocational grant", "读中专有助学金吗", "faq-vocation-fee", []string{"faq-hs-grant"}},
		{"kindergarten is not grade one", "细路读幼儿园几时报名", "faq-kinder-reg", []string{"faq-grade1-reg"}},
		{"grade ten is not grade seven", "高一新生几号报到", "faq-grade10-report", []string{"faq-grade7-report"}},
		{"a ninth-grader asks the high-school choices", "初三孩子中考志愿几时填", "faq-hs-volunteer", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(ctx, Query{Text: c.text, Now: testNow})
			got := shown(r)
			if c.want != "" && got != c.want {
				t.Errorf("first shown %q (%v), want %s; top %v", got, r.Decision, c.want, r.Top)
			}
			for _, bad := range c.never {
				if got == bad {
					t.Errorf("%s shown first: it contradicts the question", bad)
				}
				for _, ch := range r.Choices {
					if ch.ID == bad {
						t.Errorf("%s offered in the list: it contradicts the question", bad)
					}
				}
			}
		})
	}
}
