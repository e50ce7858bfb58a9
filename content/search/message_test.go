package search

import (
	"context"
	"testing"
)

func TestReadingARealMessage(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	cases := []struct {
		name, text, want string
		never            []string
	}{
		{"greeting, self-introduction and thanks around the question",
			"老师您好，我是惠来县一个二年级学生的家长，平时工作很忙，孩子最近总说看黑板模糊，想问一下学校有没有视力筛查，谢谢您", "faq-myopia", nil},
		{"a district the set does not know gets no other county's item",
			"濠江区什么时候开学", "", []string{"n-puning-term", "n-huilai-term"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(ctx, Query{Text: c.text, Now: testNow})
			got := shown(r)
			if c.want != "" && got != c.want {
				t.Fatalf("shown %q (%v), want %s; top %v", got, r.Decision, c.want, r.Top)
			}
			for _, bad := range c.never {
				if got == bad {
					t.Errorf("%s shown first", bad)
				}
				for _, ch := range r.Choices {
					if ch.ID == bad {
						t.Errorf("%s offered", bad)
					}
				}
			}
		})
	}
}
