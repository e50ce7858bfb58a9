package search

import (
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

// A bureau of our own in another province: 南充市 with two of its counties.
func nanchongSet() *content.Set {
	faq := func(id, q, a, region string, kw ...string) *content.FAQ {
		return &content.FAQ{ID: id, Question: q, Answer: a, Keywords: kw, Region: region}
	}
	return &content.Set{FAQs: []*content.FAQ{
		faq("faq-pe-items", "体育中考考哪些项目？", "必考项目为长跑，另选两项。", "南充市", "体育中考", "项目"),
		faq("faq-exam-signup", "中考什么时候报名？", "每年3月在就读学校报名。", "南充市", "中考", "报名"),
		faq("faq-kg-signup", "幼儿园什么时候报名？", "每年6月网上报名。", "南充市", "幼儿园", "报名"),
		faq("faq-langzhong-start", "阆中市中小学什么时候开学？", "9月1日开学。", "阆中市", "开学"),
		faq("faq-safety-platform", "安全教育平台怎么登录？", "用学校发放的账号登录。", "南充市", "安全教育平台"),
		faq("faq-health-class", "初中卫生健康课怎么安排？", "每两周一节。", "南充市", "健康教育"),
		faq("faq-bus", "学校有校车吗？", "农村学校按需开通。", "南充市", "校车"),
		faq("faq-myopia", "学校怎么预防近视？", "每学期视力筛查。", "南充市", "近视"),
	}}
}

// A question about a place outside the bureau's area gets no answer of
// this bureau's; places inside it, and its own province, keep working; a
// short place name inside ordinary words is no place.
func TestPlacesOutsideTheBureau(t *testing.T) {
	e, err := New(nanchongSet(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"another city of the same province, short form", "广元体育中考考什么项目", ""},
		{"another city, full form", "遂宁市幼儿园几号报名", ""},
		{"a municipality", "重庆中考啥时候报名", ""},
		{"another province", "浙江省体育中考项目有哪些", ""},
		{"an autonomous prefecture by its short name", "凉山的中考什么时候报名", ""},
		{"a district of another city", "双流区幼儿园什么时候报名", ""},
		{"the bureau's own province", "四川省体育中考考哪些项目", "faq-pe-items"},
		{"the bureau's own city", "南充幼儿园什么时候报名", "faq-kg-signup"},
		{"a county of the bureau", "阆中开学是几号", "faq-langzhong-start"},
		{"广安 inside 推广安全 is no place", "推广安全教育平台怎么登录", "faq-safety-platform"},
		{"a full-name-only short form is a word", "初中卫生健康课一周几节", "faq-health-class"},
	})
}

// A question about one named school is answered only by content that
// names it; a general answer sharing its other words is no answer.
func TestNamedSchoolTheContentDoesNotMention(t *testing.T) {
	set := nanchongSet()
	set.FAQs = append(set.FAQs,
		&content.FAQ{ID: "faq-art-line", Question: "艺术特长生的录取分数线是多少？", Answer: "文化分不低于400分。", Keywords: []string{"艺术特长生", "录取分数线"}, Region: "南充市"},
		&content.FAQ{ID: "faq-school2-bus", Question: "南充二中的校车怎么乘坐？", Answer: "在校门口东侧上车。", Keywords: []string{"校车"}, Region: "南充市"},
		&content.FAQ{ID: "faq-loan", Question: "大学生助学贷款在哪里办？", Answer: "到县资助中心办理。", Keywords: []string{"助学贷款"}, Region: "南充市"},
	)
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"a numbered school of the city", "南充一中的录取分数线多少", ""},
		{"a school named after a county", "阆中中学录取分数线是多少", ""},
		{"a university", "四川大学的录取分数线", ""},
		{"no school named", "艺术特长生录取分数线多少", "faq-art-line"},
		{"the school the content names", "南充二中校车在哪里坐", "faq-school2-bus"},
		{"going to university is no school's name", "孩子考上大学了助学贷款去哪办", "faq-loan"},
	})
}

// A place named as where the asker comes from does not take the question
// out of the bureau's area.
func TestPlaceOfOrigin(t *testing.T) {
	set := nanchongSet()
	set.FAQs = append(set.FAQs,
		&content.FAQ{ID: "faq-transfer-in", Question: "外地学生转学到南充需要哪些材料？", Answer: "转学申请表、学籍信息表和户口簿。", Keywords: []string{"转学", "材料"}, Region: "南充市"})
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"从 a city of the province", "从广元转学过来要准备什么材料", "faq-transfer-in"},
		{"another province then 转过来", "孩子是浙江转过来的，要带哪些材料", "faq-transfer-in"},
		{"a place asked about is still outside", "广元转学要哪些材料", ""},
	})
	if got := e.Analyze("从广元转学过来要准备什么材料").Regions; len(got) != 0 {
		t.Errorf("Analyze: regions %v, want none (广元 is where the asker comes from)", got)
	}
	if got := e.Analyze("广元转学要哪些材料").Regions; len(got) != 1 || got[0] != "广元市" {
		t.Errorf("Analyze: regions %v, want [广元市]", got)
	}
}

// A county bureau the lexicon does not place: the city its content speaks
// of is in scope, other cities are not.
func TestCountyBureauSpeaksOfItsCity(t *testing.T) {
	set := &content.Set{
		Notices: []*content.Notice{
			{ID: "n-city-exam", Title: "南充市2026年中考报名工作通知", Date: day("2026-02-20"), Source: "南部县教育局", URL: "https://e.example/1",
				Summary: "3月1日至10日在就读学校报名。", Keywords: []string{"中考报名"}, Region: "南部县", Body: "考生在学校统一报名。"},
		},
		FAQs: []*content.FAQ{
			{ID: "faq-bus", Question: "学校有校车吗？", Answer: "农村学校按需开通。", Keywords: []string{"校车"}, Region: "南部县"},
			{ID: "faq-myopia", Question: "学校怎么预防近视？", Answer: "每学期视力筛查。", Keywords: []string{"近视"}, Region: "南部县"},
			{ID: "faq-start", Question: "秋季什么时候开学？", Answer: "9月1日。", Keywords: []string{"开学"}, Region: "南部县"},
		},
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"the city the content names", "南充中考报名工作通知", "n-city-exam"},
		{"a city the content never names", "广元中考报名工作通知", ""},
		{"the bureau's own county", "南部县秋季什么时候开学", "faq-start"},
	})
}

// A district the lexicon places inside the bureau's city is inside its
// area even when the content never names it: it gets the city-wide answer.
func TestDistrictInsideTheCity(t *testing.T) {
	set := nanchongSet()
	for _, f := range set.FAQs {
		if f.Region == "南充市" {
			f.Region = "成都市"
		}
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"a district of the city", "武侯区幼儿园什么时候报名", "faq-kg-signup"},
		{"a county-level city of the city", "都江堰市体育中考考哪些项目", "faq-pe-items"},
		{"another city's district", "天河区幼儿园什么时候报名", ""},
		{"a city of the same province", "南充幼儿园什么时候报名", ""},
	})
}
