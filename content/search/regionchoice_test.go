package search

import (
	"context"
	"slices"
	"testing"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
)

// regionalSet is a bureau whose content tells some topics region by region;
// its regions are unknown to the built-in lexicon, so which one is
// city-wide comes from the content alone.
func regionalSet() *content.Set {
	faq := func(id, q, a, region string, kw ...string) *content.FAQ {
		return &content.FAQ{ID: id, Question: q, Answer: a, Keywords: kw, Region: region}
	}
	return &content.Set{FAQs: []*content.FAQ{
		faq("faq-winter-city", "全市中小学寒假从哪天开始放？", "全市中小学1月25日起放寒假。", "云岭市", "寒假", "放假"),
		faq("faq-winter-qingxi", "青溪县中小学寒假从哪天开始放？", "青溪县中小学1月23日起放寒假。", "青溪县", "寒假", "放假"),
		faq("faq-winter-baisha", "白沙县中小学寒假从哪天开始放？", "白沙县中小学1月24日起放寒假。", "白沙县", "寒假", "放假"),
		faq("faq-spring-city", "春季学期几号开学，寒假作业什么时候交？", "2月17日开学，寒假作业开学当天交。", "云岭市", "春季开学"),
		faq("faq-bus-qingxi", "青溪县校车怎么申请？", "向学校提交乘车申请表。", "青溪县", "校车"),
		faq("faq-bus-baisha", "白沙县校车怎么申请？", "在白沙教育公众号填写乘车申请。", "白沙县", "校车"),
		faq("faq-canteen-city", "学校食堂伙食费怎么交？", "按学期在缴费平台交。", "云岭市", "食堂", "伙食费"),
		faq("faq-canteen-docs", "食堂伙食费发票怎么开？", "在缴费平台申请电子发票。", "云岭市", "发票"),
		faq("faq-fees-city", "全市中小学收费项目有哪些？", "只收伙食费、住宿费和校服费。", "云岭市", "收费"),
		faq("faq-notes-qingxi", "青溪县中小学作业本费用怎么收？", "作业本由学校免费发放。", "青溪县", "作业本"),
	}}
}

func TestRegionVariantsWithoutRegionGetTheCityWideAnswer(t *testing.T) {
	e, err := New(regionalSet(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.regions.home != "云岭市" {
		t.Fatalf("city-wide region %q, want 云岭市 (the content's broadest)", e.regions.home)
	}
	cases := []struct {
		name     string
		q        Query
		decision Decision
		want     []string // the answer, or the choices in any order
	}{
		{"no region named: the city-wide version", Query{Text: "寒假几号开始放"}, Answer, []string{"faq-winter-city"}},
		{"no region, shortest form", Query{Text: "哪天放寒假"}, Answer, []string{"faq-winter-city"}},
		{"county named: its own version", Query{Text: "白沙寒假几号开始放"}, Answer, []string{"faq-winter-baisha"}},
		{"county from the profile", Query{Text: "寒假几号开始放", Region: "青溪县"}, Answer, []string{"faq-winter-qingxi"}},
		{"city named: the city-wide version", Query{Text: "云岭寒假几号开始放"}, Answer, []string{"faq-winter-city"}},
		{"only county versions: a list to ask which", Query{Text: "校车怎么申请"}, Choices, []string{"faq-bus-baisha", "faq-bus-qingxi"}},
		{"different topics of the city stay a list", Query{Text: "食堂伙食费怎么弄"}, Choices, []string{"faq-canteen-city", "faq-canteen-docs"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Now = testNow
			c.q.Explain = true
			r := e.Match(context.Background(), c.q)
			var got []string
			switch r.Decision {
			case Answer:
				got = []string{r.Best.ID}
			case Choices:
				for _, ch := range r.Choices {
					got = append(got, ch.ID)
				}
				slices.Sort(got)
			}
			if r.Decision != c.decision || !slices.Equal(got, c.want) {
				t.Errorf("Match(%q) = %s %v, want %s %v\n candidates %v\n notes %v", c.q.Text, r.Decision, got, c.decision, c.want,
					r.Explain.Candidates, r.Explain.Notes)
			}
		})
	}
}

// The built-in sample tells the autumn term region by region: a question
// about the start of term that names no region gets the city-wide answer,
// not a list of counties.
func TestSampleTermStartWithoutRegion(t *testing.T) {
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"什么时候开学", "开学是哪一天", "学校几号开学啊", "中小学开学时间", "娃几号返校"} {
		t.Run(text, func(t *testing.T) {
			r := e.Match(context.Background(), Query{Text: text, Now: testNow, Explain: true})
			if r.Decision != Answer || e.FAQ(r.Best.ID) == nil || e.FAQ(r.Best.ID).Region != "揭阳市" {
				t.Errorf("Match(%q) = %s %s, want the city-wide answer\n candidates %v\n notes %v", text, r.Decision, r.Best.ID,
					r.Explain.Candidates, r.Explain.Notes)
			}
		})
	}
	t.Run("a county named gets its own", func(t *testing.T) {
		r := e.Match(context.Background(), Query{Text: "揭西什么时候开学", Now: testNow})
		if shown(r) != "faq-term-start-jiexi" {
			t.Errorf("got %s %s, want faq-term-start-jiexi first", r.Decision, shown(r))
		}
	})
}

// The city-wide region is the broadest the content names, also when a county
// has more items than the city.
func TestCityWideRegionIsTheBroadest(t *testing.T) {
	set := &content.Set{FAQs: []*content.FAQ{
		{ID: "f1", Question: "普宁市中小学几号开学？", Answer: "8月31日。", Region: "普宁"},
		{ID: "f2", Question: "普宁市校车怎么申请？", Answer: "向学校申请。", Region: "普宁"},
		{ID: "f3", Question: "普宁市食堂怎么收费？", Answer: "按学期收。", Region: "普宁"},
		{ID: "f4", Question: "惠来县中小学几号开学？", Answer: "9月1日。", Region: "惠来县"},
		{ID: "f5", Question: "揭阳市中小学几号开学？", Answer: "9月1日。", Region: "揭阳市"},
	}}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.regions.home != "揭阳市" {
		t.Errorf("city-wide region %q, want 揭阳市 (the region the others lie in)", e.regions.home)
	}
	r := e.Match(context.Background(), Query{Text: "中小学几号开学", Now: testNow})
	if r.Decision != Answer || r.Best.ID != "f5" {
		t.Errorf("no region named: %s %s, want the city-wide f5", r.Decision, r.Best.ID)
	}
}
