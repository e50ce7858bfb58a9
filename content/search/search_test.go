package search

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
)

func day(s string) content.Date {
	d, err := content.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// testSet is a small bureau of our own: two counties under 揭阳市.
func testSet() *content.Set {
	return &content.Set{
		Notices: []*content.Notice{
			{ID: "n-city-term", Title: "揭阳市2026年秋季学期中小学开学安排", Date: day("2026-08-20"), Source: "揭阳市教育局", URL: "https://e.example/1",
				Summary: "全市中小学9月1日开学，新生8月30日报到。", Keywords: []string{"秋季开学", "报到"}, Tags: []string{"开学"}, Region: "揭阳市",
				Body: "全市公办和民办中小学于9月1日正式上课。"},
			{ID: "n-puning-term", Title: "普宁市2026年秋季学期开学工作安排", Date: day("2026-08-15"), Source: "普宁市教育局", URL: "https://e.example/2",
				Summary: "普宁市中小学8月31日开学。", Keywords: []string{"秋季开学"}, Region: "普宁市", Body: "普宁市各中小学8月31日返校。"},
			{ID: "n-huilai-term", Title: "惠来县2026年秋季学期开学工作安排", Date: day("2026-08-18"), Source: "惠来县教育局", URL: "https://e.example/3",
				Summary: "惠来县中小学9月2日开学。", Keywords: []string{"秋季开学"}, Region: "惠来县", Body: "惠来县各中小学9月2日返校。"},
			{ID: "n-storm-2024", Title: "关于台风期间全市中小学停课的紧急通知", Date: day("2024-09-05"), Source: "揭阳市教育局", URL: "https://e.example/4",
				Summary: "受台风影响，9月6日全市中小学停课一天。", Keywords: []string{"台风", "停课"}, Region: "揭阳市", Expires: day("2024-09-07"),
				Body: "各学校做好防台风工作。"},
			{ID: "n-exam-2025", Title: "2025年揭阳市中考报名工作通知", Date: day("2025-02-20"), Source: "揭阳市教育局", URL: "https://e.example/5",
				Summary: "2025年中考报名时间为3月1日至10日。", Keywords: []string{"中考报名"}, Region: "揭阳市", Body: "考生在学校统一报名。"},
			{ID: "n-exam-2026", Title: "2026年揭阳市中考报名工作通知", Date: day("2026-02-21"), Source: "揭阳市教育局", URL: "https://e.example/6",
				Summary: "2026年中考报名时间为3月2日至11日。", Keywords: []string{"中考报名"}, Region: "揭阳市", Body: "考生在学校统一报名。"},
		},
		FAQs: []*content.FAQ{
			{ID: "faq-canteen", Question: "学校食堂每餐收多少钱？", Alternates: []string{"饭堂伙食费怎么收"}, Answer: "公办学校午餐按物价部门核定标准收取。",
				Keywords: []string{"食堂", "伙食费"}, Audience: []string{"parents"}, Region: "揭阳市"},
			{ID: "faq-grade1-docs", Question: "一年级报名要带什么材料？", Answer: "户口簿、房产证明和预防接种证。", Keywords: []string{"一年级", "报名材料"}, Region: "揭阳市"},
			{ID: "faq-grade7-docs", Question: "初一报名要带什么材料？", Answer: "小学毕业证明和户口簿。", Keywords: []string{"初一", "报名材料"}, Region: "揭阳市"},
			{ID: "faq-myopia", Question: "孩子近视了学校有没有视力筛查？", Answer: "学校每学期开展两次视力筛查。", Keywords: []string{"近视", "视力筛查"}, Region: "揭阳市"},
			{ID: "faq-teacher-cert", Question: "教师资格认定在哪里申请？", Answer: "在网上提交申请，再到现场确认。", Keywords: []string{"教师资格认定"},
				Audience: []string{"teachers"}, Region: "揭阳市"},
		},
		Rules: []*content.Rule{
			{ID: "rule-phone", Match: content.MatchExact, Keywords: []string{"电话", "热线"}, Reply: "0663-0000000"},
			{ID: "rule-human", Match: content.MatchContains, Keywords: []string{"转人工"}, Reply: "请留言"},
		},
		Synonyms: []*content.SynonymGroup{{ID: "syn-近视", Words: []string{"近视", "视力下降"}}},
	}
}

func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := New(testSet(), Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestNormalize(t *testing.T) {
	n, err := newNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, in, want string
	}{
		{"full-width letters and digits", "ＡＰＰ下载２０２６", "app下载2026"},
		{"full-width punctuation becomes space", "开学了吗？！什么时候", "开学了吗 什么时候"},
		{"ideographic space", "开学\u3000时间", "开学 时间"},
		{"traditional to simplified", "學校幾號開學", "学校几号开学"},
		{"chinese year", "二〇二六年寒假", "2026年寒假"},
		{"chinese year with 零", "二零二五年中考", "2025年中考"},
		{"not a year", "一二三四五", "一二三四五"},
		{"junior grade by number", "九年级学生", "初三学生"},
		{"junior grade long form", "初中三年级的孩子", "初三的孩子"},
		{"junior grade digit", "初2下学期", "初二下学期"},
		{"senior grade long form", "高中一年级新生", "高一新生"},
		{"primary grade digit", "1年级报名", "一年级报名"},
		{"primary grade with 小学", "小学三年级", "三年级"},
		{"short primary grade", "小一新生", "一年级新生"},
		{"high school years are not a grade", "高中三年很快", "高中三年很快"},
		{"upper case latin", "WiFi密码", "wifi密码"},
		{"yes-no form", "明天放不放假", "明天放假"},
		{"yes-no form with 没", "有没有通知", "有通知"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := n.Normalize(c.in); got != c.want {
				t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestAnalyze(t *testing.T) {
	e := newTestEngine(t)
	t.Run("region short name", func(t *testing.T) {
		a := e.Analyze("那惠来呢")
		if !slices.Equal(a.Regions, []string{"惠来县"}) {
			t.Errorf("regions %v, want [惠来县]", a.Regions)
		}
		if len(a.Tokens) != 0 {
			t.Errorf("tokens %v, want none", a.Tokens)
		}
	})
	t.Run("grade alias", func(t *testing.T) {
		a := e.Analyze("七年级呢")
		if !slices.Equal(a.Grades, []string{"初一"}) {
			t.Errorf("grades %v, want [初一]", a.Grades)
		}
	})
	t.Run("role statement", func(t *testing.T) {
		a := e.Analyze("我是普宁的家长")
		if a.Role != "parents" || !slices.Equal(a.Regions, []string{"普宁市"}) {
			t.Errorf("role %q regions %v, want parents [普宁市]", a.Role, a.Regions)
		}
	})
	t.Run("teacher role", func(t *testing.T) {
		if a := e.Analyze("我是一名小学老师"); a.Role != "teachers" {
			t.Errorf("role %q, want teachers", a.Role)
		}
	})
	t.Run("greeting only is empty", func(t *testing.T) {
		if a := e.Analyze("老师您好！谢谢"); !a.Empty {
			t.Errorf("not empty: %+v", a)
		}
	})
}

// answer returns what a user would be shown first: the answer, the first
// choice, or "" for a fallback.
func answer(r Result) string {
	switch r.Decision {
	case Answer:
		return r.Best.ID
	case Choices:
		return r.Choices[0].ID
	}
	return ""
}

func TestMatch(t *testing.T) {
	e := newTestEngine(t)
	cases := []struct {
		name string
		q    Query
		want string // "" = fallback
	}{
		{"faq by its own words", Query{Text: "食堂一餐多少钱"}, "faq-canteen"},
		{"faq with greeting and filler", Query{Text: "老师您好，请问学校饭堂的伙食费怎么收呀？谢谢"}, "faq-canteen"},
		{"full-width question", Query{Text: "食堂每餐收多少钱？"}, "faq-canteen"},
		{"traditional characters", Query{Text: "學校食堂每餐收多少錢"}, "faq-canteen"},
		{"pinyin typo", Query{Text: "孩子进视了怎么办"}, "faq-myopia"},
		{"pinyin typo inside a longer word", Query{Text: "食堂伙十费"}, "faq-canteen"},
		{"set synonym", Query{Text: "孩子视力下降学校管吗"}, "faq-myopia"},
		{"grade alias picks the grade", Query{Text: "七年级报名带啥材料"}, "faq-grade7-docs"},
		{"digit grade", Query{Text: "1年级报名材料"}, "faq-grade1-docs"},
		{"上一年级 is a grade, not last year", Query{Text: "孩子要上一年级了，报名带什么材料"}, "faq-grade1-docs"},
		{"papers to bring are not a document request", Query{Text: "一年级报名要带什么文件"}, "faq-grade1-docs"},
		{"exact rule", Query{Text: "热线"}, "rule-phone"},
		{"exact rule with punctuation", Query{Text: "电话！"}, "rule-phone"},
		{"contains rule", Query{Text: "我要转人工服务"}, "rule-human"},
		{"exact rule does not fire inside a sentence", Query{Text: "教师资格认定的电话"}, "faq-teacher-cert"},
		{"county named gets its own notice", Query{Text: "普宁秋季几号开学"}, "n-puning-term"},
		{"other county named", Query{Text: "惠来县秋季开学安排"}, "n-huilai-term"},
		{"no county prefers city-wide", Query{Text: "秋季学期开学安排"}, "n-city-term"},
		{"county from profile", Query{Text: "秋季学期开学安排", Region: "惠来县"}, "n-huilai-term"},
		{"this year resolves against now", Query{Text: "今年中考报名通知"}, "n-exam-2026"},
		{"last year resolves against now", Query{Text: "去年中考报名通知"}, "n-exam-2025"},
		{"newest edition by default", Query{Text: "中考报名通知"}, "n-exam-2026"},
		{"expired notice asked by description", Query{Text: "台风停课的那个紧急通知"}, "n-storm-2024"},
		{"newest notice", Query{Text: "有什么最新通知"}, "n-city-term"},
		{"newest notice of a county", Query{Text: "惠来最新的通知"}, "n-huilai-term"},
		{"unrelated question falls back", Query{Text: "附近哪家火锅店好吃"}, ""},
		{"place outside the area falls back", Query{Text: "广州秋季开学安排"}, ""},
		{"greeting alone falls back", Query{Text: "在吗老师"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Now = testNow
			c.q.Explain = true
			r := e.Match(context.Background(), c.q)
			if got := answer(r); got != c.want {
				t.Errorf("Match(%q) = %q (%s), want %q\n tokens %v\n expansions %v\n candidates %v\n notes %v", c.q.Text, got, r.Decision,
					c.want, r.Explain.Tokens, r.Explain.Expansions, r.Explain.Candidates, r.Explain.Notes)
			}
		})
	}
}

func TestMatchNeverGivesAnotherCounty(t *testing.T) {
	e := newTestEngine(t)
	for _, text := range []string{"普宁开学", "普宁市几号返校", "我在普宁，孩子什么时候报到"} {
		r := e.Match(context.Background(), Query{Text: text, Now: testNow})
		for _, c := range append(r.Choices, r.Best) {
			if c.ID == "n-huilai-term" {
				t.Errorf("%q got 惠来's notice", text)
			}
		}
	}
}

func TestChoicesWhenCloseAndDifferent(t *testing.T) {
	e := newTestEngine(t)
	r := e.Match(context.Background(), Query{Text: "报名要带什么材料", Now: testNow})
	if r.Decision != Choices {
		t.Fatalf("decision %s (best %s), want choices", r.Decision, r.Best.ID)
	}
	ids := []string{r.Choices[0].ID, r.Choices[1].ID}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"faq-grade1-docs", "faq-grade7-docs"}) {
		t.Errorf("choices %v, want both grades' material FAQs", ids)
	}
}

func TestUpdates(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	q := Query{Text: "校服多少钱一套", Now: testNow}
	if got := answer(e.Match(ctx, q)); got != "" {
		t.Fatalf("before upsert got %q, want fallback", got)
	}
	f := &content.FAQ{ID: "faq-uniform", Question: "校服多少钱一套？", Answer: "校服按自愿原则购买。", Keywords: []string{"校服"}}
	if err := e.UpsertFAQ(f); err != nil {
		t.Fatal(err)
	}
	if got := answer(e.Match(ctx, q)); got != "faq-uniform" {
		t.Fatalf("after upsert got %q, want faq-uniform", got)
	}
	if e.FAQ("faq-uniform") != f {
		t.Error("FAQ lookup does not return the upserted FAQ")
	}
	// Replacing the question moves the FAQ: the old words no longer find it.
	if err := e.UpsertFAQ(&content.FAQ{ID: "faq-uniform", Question: "春游去哪里？", Answer: "由学校安排。"}); err != nil {
		t.Fatal(err)
	}
	if got := answer(e.Match(ctx, q)); got != "" {
		t.Errorf("after replacing got %q, want fallback", got)
	}
	if !e.Remove("faq-uniform") || e.FAQ("faq-uniform") != nil {
		t.Error("Remove did not remove the FAQ")
	}
	if e.Remove("faq-uniform") {
		t.Error("Remove of a missing id reported true")
	}
	if err := e.UpsertRule(&content.Rule{ID: "rule-uniform", Match: content.MatchExact, Keywords: []string{"校服"}, Reply: "自愿购买"}); err != nil {
		t.Fatal(err)
	}
	if got := answer(e.Match(ctx, Query{Text: "校服"})); got != "rule-uniform" {
		t.Errorf("rule after upsert: got %q", got)
	}
	if err := e.UpsertNotice(&content.Notice{ID: "bad id"}); err == nil {
		t.Error("invalid notice accepted")
	}
	if _, err := New(&content.Set{FAQs: []*content.FAQ{{ID: "faq-x", Question: "问题？"}}}, Options{}); err == nil || !strings.Contains(err.Error(), "answer") {
		t.Errorf("New accepted a FAQ without an answer: %v", err)
	}
	if _, err := New(&content.Set{Notices: []*content.Notice{nil}}, Options{}); err == nil {
		t.Error("New accepted a nil notice")
	}
	if err := e.SetSynonyms([]*content.SynonymGroup{{ID: "syn-x", Words: []string{"伙食费", "餐费"}}}); err != nil {
		t.Fatal(err)
	}
	if got := answer(e.Match(ctx, Query{Text: "学校餐费怎么收", Now: testNow})); got != "faq-canteen" {
		t.Errorf("new synonym: got %q, want faq-canteen", got)
	}
	snap := e.Snapshot()
	if len(snap.Notices) != 6 || len(snap.FAQs) != 5 || len(snap.Rules) != 3 || len(snap.Synonyms) != 1 {
		t.Errorf("snapshot sizes %d/%d/%d/%d", len(snap.Notices), len(snap.FAQs), len(snap.Rules), len(snap.Synonyms))
	}
	if !slices.Contains(e.Regions(), "惠来县") || !slices.Contains(e.Tags(), "开学") {
		t.Errorf("regions %v tags %v", e.Regions(), e.Tags())
	}
}

// TestConcurrentUpdates runs matching while content changes (meaningful
// under -race).
func TestConcurrentUpdates(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r := e.Match(ctx, Query{Text: "食堂一餐多少钱", Now: testNow})
				if answer(r) != "faq-canteen" {
					t.Errorf("concurrent match got %q", answer(r))
					return
				}
			}
		}()
	}
	for i := 0; i < 100; i++ {
		id := fmt.Sprintf("faq-extra-%d", i)
		if err := e.UpsertFAQ(&content.FAQ{ID: id, Question: fmt.Sprintf("第%d个新学科竞赛怎么报名？", i), Answer: "见通知。"}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			e.Remove(id)
		}
	}
	wg.Wait()
}

func TestHanMapGrows(t *testing.T) {
	m := newHanMap(0)
	for i := 1; i <= 5000; i++ {
		m.put(uint64(i)<<21|uint64(i%97+1), int32(i))
	}
	for i := 1; i <= 5000; i++ {
		if id, ok := m.get(uint64(i)<<21 | uint64(i%97+1)); !ok || id != int32(i) {
			t.Fatalf("key %d: got %d, %v", i, id, ok)
		}
	}
	if _, ok := m.get(uint64(6000) << 21); ok {
		t.Error("found a key never put")
	}
}

// TestManyEditsCompact edits one FAQ until the index compacts away the old
// versions; matching must still find every document by its current words.
func TestManyEditsCompact(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for i := 0; i < 1500; i++ {
		f := &content.FAQ{ID: "faq-edit", Question: fmt.Sprintf("第%d版作文比赛怎么报名？", i), Answer: "见通知。", Keywords: []string{"作文比赛"}}
		if err := e.UpsertFAQ(f); err != nil {
			t.Fatal(err)
		}
	}
	if e.ix.dead >= 1000 {
		t.Fatalf("no compaction: %d dead documents", e.ix.dead)
	}
	for text, want := range map[string]string{"作文比赛怎么报名": "faq-edit", "食堂一餐多少钱": "faq-canteen", "普宁秋季几号开学": "n-puning-term"} {
		if got := answer(e.Match(ctx, Query{Text: text, Now: testNow})); got != want {
			t.Errorf("after compaction %q got %q, want %q", text, got, want)
		}
	}
	if n := len(e.Snapshot().FAQs); n != 6 {
		t.Errorf("snapshot has %d FAQs, want 6", n)
	}
}

func TestExplainLoggedAtDebug(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := New(testSet(), Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r := e.Match(context.Background(), Query{Text: "食堂一餐多少钱", Now: testNow})
	if r.Explain != nil {
		t.Error("Explain filled without Query.Explain")
	}
	out := buf.String()
	for _, want := range []string{"match explained", "faq-canteen", "食堂"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %q: %s", want, out)
		}
	}
	// At info level nothing about the message is logged.
	buf.Reset()
	quiet, _ := New(testSet(), Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	quiet.Match(context.Background(), Query{Text: "食堂一餐多少钱", Now: testNow})
	if buf.Len() != 0 {
		t.Errorf("info-level logger got: %s", buf.String())
	}
}

// TestOtherBureau: a bureau of another province, whose regions only its
// content names, gets the same region behaviour.
func TestOtherBureau(t *testing.T) {
	n := func(id, title, region string) *content.Notice {
		return &content.Notice{ID: id, Title: title, Date: day("2026-08-20"), Source: "教育局", URL: "https://e.example/" + id,
			Summary: title + "。", Region: region, Body: "各中小学按时开学。"}
	}
	set := &content.Set{
		Notices: []*content.Notice{
			n("n-city", "杭州市2026年秋季中小学开学时间安排", "杭州市"),
			n("n-yuhang", "余杭区2026年秋季中小学开学时间安排", "余杭区"),
			n("n-xihu", "西湖区2026年秋季中小学开学时间安排", "西湖区"),
		},
		FAQs: []*content.FAQ{
			{ID: "faq-fees", Question: "义务教育阶段要交学费吗？", Answer: "公办学校免收学费。", Region: "杭州市"},
			{ID: "faq-uniform", Question: "校服必须买吗？", Answer: "自愿购买。", Region: "杭州市"},
		},
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"余杭几号开学":   "n-yuhang",
		"西湖区开学时间":  "n-xihu",
		"秋季开学时间":   "n-city",
		"广州秋季开学时间": "",
		"读小学要交学费吗": "faq-fees",
		"高考成绩怎么查":  "",
	}
	for text, want := range cases {
		if got := answer(e.Match(context.Background(), Query{Text: text, Now: testNow})); got != want {
			t.Errorf("%q: got %q, want %q", text, got, want)
		}
	}
}

func TestLearnsQuotedTerms(t *testing.T) {
	set := testSet()
	set.Notices = append(set.Notices, &content.Notice{ID: "n-hm", Title: "关于开展“护苗清风”专项行动的通知", Date: day("2026-03-01"),
		Source: "教育局", URL: "https://e.example/hm", Summary: "开展专项行动。", Region: "揭阳市", Body: "各校认真落实。"})
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a := e.Analyze("护苗清风是什么"); !slices.Contains(a.Tokens, "护苗清风") {
		t.Errorf("tokens %v: the quoted term was not learned", a.Tokens)
	}
}
