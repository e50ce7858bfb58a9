package search

import (
	"context"
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

// A contains rule fires on its keyword as a word of the message, never on
// the keyword inside a longer word.
func TestContainsRuleNeedsWholeWords(t *testing.T) {
	set := testSet()
	set.FAQs = append(set.FAQs, &content.FAQ{ID: "faq-ai", Question: "学校开设人工智能课程吗？", Answer: "信息科技课中有人工智能内容。",
		Keywords: []string{"人工智能"}, Region: "揭阳市"})
	set.Rules = []*content.Rule{
		{ID: "rule-person", Match: content.MatchContains, Keywords: []string{"人工", "真人"}, Reply: "请留言"},
		{ID: "rule-complaint", Match: content.MatchContains, Keywords: []string{"投诉"}, Reply: "投诉电话"},
		{ID: "rule-tutoring", Match: content.MatchContains, Keywords: []string{"有偿补课"}, Reply: "监督电话"},
		{ID: "rule-phone", Match: content.MatchExact, Keywords: []string{"电话"}, Reply: "0663-0000000"},
		{ID: "rule-class", Match: content.MatchContains, Keywords: []string{"上课"}, Reply: "上课时间"},
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, text, want string // want "" = no rule
	}{
		{"keyword alone", "人工", "rule-person"},
		{"keyword as a word in a sentence", "能不能帮我接人工", "rule-person"},
		{"keyword after a verb", "我想转人工处理", "rule-person"},
		{"keyword with punctuation around", "人工！！", "rule-person"},
		{"second keyword of the rule", "有真人吗", "rule-person"},
		{"keyword inside a longer word", "人工智能课一周几节", ""},
		{"keyword inside a longer word at the end", "孩子想学人工智能", ""},
		{"another longer word", "学校的人工湖安全吗", ""},
		{"a single character misplaced by the segmenter", "有人工吗", "rule-person"},
		{"keyword across two words", "马上课程就结束了", ""},
		{"keyword as a word", "明天还上课吗", "rule-class"},
		{"complaint in a sentence", "我要投诉这所学校乱收费", "rule-complaint"},
		{"complaint at the end", "食堂饭菜太差想投诉", "rule-complaint"},
		{"keyword of several words", "发现老师搞有偿补课", "rule-tutoring"},
		{"exact rule still whole message only", "电话", "rule-phone"},
		{"exact rule not inside a sentence", "教师资格认定的电话是多少", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(context.Background(), Query{Text: c.text, Now: testNow})
			got := ""
			if r.Best.Kind == KindRule {
				got = r.Best.ID
			}
			if got != c.want {
				t.Errorf("Match(%q) rule = %q, want %q (decision %s, best %s)", c.text, got, c.want, r.Decision, r.Best.ID)
			}
		})
	}
	t.Run("a question about AI reaches the FAQs", func(t *testing.T) {
		r := e.Match(context.Background(), Query{Text: "人工智能课程怎么上", Now: testNow})
		if answer(r) != "faq-ai" {
			t.Errorf("got %q (%s), want faq-ai", answer(r), r.Decision)
		}
	})
}
