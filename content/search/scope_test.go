package search

import (
	"context"
	"slices"
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

func TestScopeOutOfScopeFallsBack(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	cases := []struct {
		name, text string
		want       Scope
	}{
		{"who are you", "你是谁呀", AboutBot},
		{"your name, traditional", "請問你叫什麼名字", AboutBot},
		{"robot or person", "你们到底是真人还是机器人", AboutBot},
		{"what can you do", "你能做什么", AboutBot},
		{"small talk about the weather", "明天天气怎么样", AboutBot},
		{"a child's term marks", "我女儿这次期中考试的成绩出来没有", Personal},
		{"a child's marks in Cantonese", "我个仔月考考咗几多分", Personal},
		{"a named teacher's phone", "李老师的手机号码是多少", Personal},
		{"driving school", "学车的驾校哪家便宜", OtherService},
		{"provident fund", "公积金贷款怎么办", OtherService},
		{"social insurance card", "社保卡丢了怎么补", OtherService},
		{"household register moved", "户口迁移要什么手续", OtherService},
		{"another province", "北京的中考报名时间", OtherPlace},
		{"enrollment asks for the register", "一年级报名要带户口本吗", InScope},
		{"exemption needs a hospital paper", "体育免考要医院证明吗", InScope},
		{"canteen", "食堂一餐多少钱", InScope},
		{"a university elsewhere is where the child goes", "孩子考上广州的大学了近视要复查吗", InScope},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(ctx, Query{Text: c.text, Now: testNow})
			if r.Analysis.Scope != c.want {
				t.Fatalf("scope %d, want %d", r.Analysis.Scope, c.want)
			}
			if c.want != InScope && (r.Decision != Fallback || len(r.Choices) > 0) {
				t.Fatalf("out of scope but %v %s %v", r.Decision, r.Best.ID, r.Choices)
			}
		})
	}
	t.Run("a service the content covers is in scope", func(t *testing.T) {
		set := testSet()
		set.FAQs = append(set.FAQs, &content.FAQ{ID: "faq-student-insurance", Question: "学生医保怎么交？", Answer: "在税务APP缴纳。", Region: "揭阳市"})
		e2, err := New(set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := e2.Match(ctx, Query{Text: "医保怎么交", Now: testNow})
		if r.Analysis.Scope != InScope || shown(r) != "faq-student-insurance" {
			t.Fatalf("scope %d, shown %q", r.Analysis.Scope, shown(r))
		}
	})
	t.Run("about the bot is no hand-off keyword", func(t *testing.T) {
		r := e.Match(ctx, Query{Text: "你是不是真人啊，我要转人工", Now: testNow})
		if r.Decision == Answer && r.Best.ID == "rule-human" {
			return // asking for a person outright still hands off
		}
		r = e.Match(ctx, Query{Text: "你是真人吗", Now: testNow})
		if r.Decision != Fallback {
			t.Fatalf("%v %s, want fallback", r.Decision, r.Best.ID)
		}
	})
}

func TestDialectAndSpokenForms(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	cases := []struct {
		name, text, want string
	}{
		{"Cantonese: when do the kids go back to school", "普宁嗰边几时返学啊", "n-puning-term"},
		{"Cantonese: how to apply, traditional", "教師資格認定喺邊度申請", "faq-teacher-cert"},
		{"Cantonese: what to bring for grade one", "个仔读小一报名要带咩", "faq-grade1-docs"},
		{"voice input without punctuation and fillers", "嗯那个就是说我想问一下食堂吃一顿饭要多少钱啊", "faq-canteen"},
		{"pinyin-input homophone", "教师资格认定在哪里申情", "faq-teacher-cert"},
		{"near-sound slip (min for ming)", "一年级报民要带什么材料", "faq-grade1-docs"},
		{"near-sound slip (shu for su) in a dictated question", "老师初一报名要带什么材料 我家孩子数假刚小学毕业", "faq-grade7-docs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(ctx, Query{Text: c.text, Now: testNow})
			if got := shown(r); got != c.want {
				t.Fatalf("shown %q (%v), want %s; tokens %v top %v", got, r.Decision, c.want, r.Analysis.Tokens, r.Top)
			}
		})
	}
	t.Run("homophone slips are read as the word", func(t *testing.T) {
		a, b := e.Analyze("幼儿原报民几号开始"), e.Analyze("幼儿园报名几号开始")
		if !slices.Equal(a.Tokens, b.Tokens) {
			t.Fatalf("tokens %v, want those of the right words %v", a.Tokens, b.Tokens)
		}
	})
	t.Run("days are read alike", func(t *testing.T) {
		a, b := e.Analyze("高考是6月7号开始吗"), e.Analyze("高考是6月7日开始吗")
		if a.Normalized != b.Normalized {
			t.Fatalf("%q != %q", a.Normalized, b.Normalized)
		}
	})
}
