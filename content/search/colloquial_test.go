package search

import (
	"context"
	"testing"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
)

// Parents ask for papers by what to bring (带啥, 拿什么); the content names
// them as materials, certificates or documents to prepare.
func TestColloquialPapersToBring(t *testing.T) {
	faq := func(id, q, a string, kw ...string) *content.FAQ {
		return &content.FAQ{ID: id, Question: q, Answer: a, Keywords: kw, Region: "揭阳市"}
	}
	set := &content.Set{FAQs: []*content.FAQ{
		faq("faq-newcomer-papers", "小学新生入学需要准备哪些证件？", "户口簿、出生证明和预防接种证。", "入学", "证件"),
		faq("faq-newcomer-dates", "小学新生入学登记什么时候开始？", "每年6月中旬开始网上登记。", "入学", "登记"),
		faq("faq-transfer-papers", "转学需要提交哪些资料？", "转学申请表、学籍卡和户口簿。", "转学", "资料"),
		faq("faq-transfer-how", "转学怎么办理？", "先向转入学校申请，再办学籍转接。", "转学", "办理"),
		faq("faq-exam-papers", "考试当天考生需要准备什么材料？", "准考证和身份证。", "准考证"),
		faq("faq-exam-place", "考点在哪里查询？", "准考证上印有考点。", "考点"),
		// The rest of a bureau's questions, so that words have their usual weight.
		faq("faq-canteen", "学校食堂伙食费怎么收？", "按学期收取，多退少补。", "食堂"),
		faq("faq-bus", "学校有校车接送吗？", "农村学校按需开通校车。", "校车"),
		faq("faq-uniform", "学校校服要买几套？", "自愿购买，学校不得强制。", "校服"),
		faq("faq-myopia", "学校怎么预防近视？", "每天两次眼保健操，每学期视力筛查。", "近视"),
		faq("faq-aid", "家庭困难学生怎么申请资助？", "开学后向学校提出申请。", "资助"),
		faq("faq-holiday", "寒假从哪天开始放？", "1月25日起放寒假。", "寒假"),
		faq("faq-service", "课后服务收费吗？", "课后服务按月收取服务费。", "课后服务"),
	}}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, text, want string }{
		{"带啥 for the certificates", "小学新生入学得带啥", "faq-newcomer-papers"},
		{"拿什么 for the documents", "办转学要拿什么去学校", "faq-transfer-papers"},
		{"带哪些 for the materials", "考试那天带哪些", "faq-exam-papers"},
		{"带什么 with a greeting", "你好，孩子新生入学带什么", "faq-newcomer-papers"},
		{"the time is still the time", "新生入学登记几号开始", "faq-newcomer-dates"},
		{"the procedure is still the procedure", "转学怎么弄", "faq-transfer-how"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Match(context.Background(), Query{Text: c.text, Now: testNow, Explain: true})
			if r.Decision != Answer || r.Best.ID != c.want {
				t.Errorf("Match(%q) = %s %s, want answer %s\n tokens %v\n candidates %v\n notes %v", c.text, r.Decision, r.Best.ID, c.want,
					r.Explain.Tokens, r.Explain.Candidates, r.Explain.Notes)
			}
		})
	}
}

// On the built-in sample: the enrolment papers FAQ, not a list with the
// sign-up dates.
func TestSamplePapersToBring(t *testing.T) {
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"一年级报名要带什么", "上一年级报名得带啥", "孩子读一年级报名拿什么"} {
		t.Run(text, func(t *testing.T) {
			r := e.Match(context.Background(), Query{Text: text, Now: testNow, Explain: true})
			if r.Decision != Answer || r.Best.ID != "faq-enrollment-documents" {
				t.Errorf("Match(%q) = %s %s, want answer faq-enrollment-documents\n candidates %v", text, r.Decision, r.Best.ID, r.Explain.Candidates)
			}
		})
	}
	t.Run("sign-up dates are still the dates", func(t *testing.T) {
		r := e.Match(context.Background(), Query{Text: "一年级几号开始报名", Now: testNow})
		if r.Decision != Answer || r.Best.ID != "faq-grade1-signup" {
			t.Errorf("got %s %s, want faq-grade1-signup", r.Decision, r.Best.ID)
		}
	})
}

// Content written as people speak is found by the written word and by the
// other spoken forms.
func TestColloquialContent(t *testing.T) {
	set := &content.Set{FAQs: []*content.FAQ{
		{ID: "faq-boarding-bring", Question: "住校生报到要带什么？", Answer: "被褥、洗漱用品和学生证。", Region: "揭阳市"},
		{ID: "faq-boarding-when", Question: "住校生什么时候返校？", Answer: "报到日下午5点前返校。", Region: "揭阳市"},
		{ID: "faq-boarding-fee", Question: "住校生住宿费多少钱？", Answer: "每学期300元。", Region: "揭阳市"},
		{ID: "faq-canteen", Question: "学校食堂伙食费怎么收？", Answer: "按学期收取。", Region: "揭阳市"},
	}}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"住校生报到需要准备哪些材料", "住校生报到得带啥", "住校生报到拿哪些"} {
		t.Run(text, func(t *testing.T) {
			r := e.Match(context.Background(), Query{Text: text, Now: testNow, Explain: true})
			if r.Decision != Answer || r.Best.ID != "faq-boarding-bring" {
				t.Errorf("Match(%q) = %s %s, want faq-boarding-bring\n candidates %v\n notes %v", text, r.Decision, r.Best.ID,
					r.Explain.Candidates, r.Explain.Notes)
			}
		})
	}
	t.Run("什么 alone is not a spoken form", func(t *testing.T) {
		r := e.Match(context.Background(), Query{Text: "住校生什么时候返校", Now: testNow})
		if r.Decision != Answer || r.Best.ID != "faq-boarding-when" {
			t.Errorf("got %s %s, want faq-boarding-when", r.Decision, r.Best.ID)
		}
	})
}

// Questions in the spoken forms of several regions (southwest 咋个/啥子/
// 好多钱/娃儿, Cantonese 几多钱/点样/细路/几时, northern 咋整, a yes-no
// question closed with 不) find the written FAQ.
func TestDialectQuestionForms(t *testing.T) {
	faq := func(id, q, a string, kw ...string) *content.FAQ {
		return &content.FAQ{ID: id, Question: q, Answer: a, Keywords: kw, Region: "韶关市"}
	}
	set := &content.Set{FAQs: []*content.FAQ{
		faq("faq-meal-price", "学校午餐一个月多少钱？", "每生每月按核定标准收取。", "午餐", "伙食费"),
		faq("faq-meal-pay", "午餐费在哪里缴费？", "通过学校缴费平台缴纳。", "午餐", "缴费"),
		faq("faq-transfer-grade8", "初二还可以转学吗？", "初二可以转学，初三下学期起不再办理。", "转学"),
		faq("faq-winter", "寒假什么时候开始？", "1月24日起放寒假。", "寒假"),
		faq("faq-bus-apply", "校车怎么申请？", "开学第一周向学校申请。", "校车"),
		faq("faq-kg-signup", "幼儿园报名怎么办理？", "在线提交申请后到园确认。", "幼儿园", "报名"),
		faq("faq-myopia", "学校怎么预防近视？", "每学期视力筛查。", "近视"),
		faq("faq-uniform", "校服要买几套？", "自愿购买。", "校服"),
		faq("faq-pe-total", "体育考试满分多少分？", "满分60分。", "体育考试"),
		faq("faq-retake", "期末考试不及格可以补考吗？", "开学第一周补考。", "补考"),
		faq("faq-sick-refund", "孩子生病请假，伙食费能退吗？", "按实际天数退还。", "伙食费", "退费"),
		faq("faq-care-fee", "晚托服务收费吗？", "按学期收取服务费。", "晚托"),
		faq("faq-care-time", "晚托服务到几点？", "18点结束。", "晚托"),
	}}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runMatchCases(t, e, []matchCase{
		{"southwest 好多钱 asks the price", "娃儿午餐一个月好多钱", "faq-meal-price"},
		{"Cantonese 几多钱 asks the price", "细路午餐要几多钱", "faq-meal-price"},
		{"paying is not the price", "午餐费去哪交", "faq-meal-pay"},
		{"a grade then 下学期 and a closing 不", "初二下学期能转学不", "faq-transfer-grade8"},
		{"啥子时候 for when", "啥子时候放寒假嘛", "faq-winter"},
		{"Cantonese 点样 for how", "校车点样申请", "faq-bus-apply"},
		{"咋个 for how", "幼儿园咋个报名", "faq-kg-signup"},
		{"northern 咋整 for how", "娃上幼儿园报名咋整", "faq-kg-signup"},
		{"Cantonese 几多分 for how many points", "体育考试满分系几多分", "faq-pe-total"},
		{"挂科 for failing", "期末挂科了能补考不", "faq-retake"},
		{"病假 for being off sick", "请病假的伙食费退不退", "faq-sick-refund"},
		{"收钱 with Cantonese 冇 asks the charge", "晚托服务要收钱冇", "faq-care-fee"},
		{"northeastern 多前儿 for when", "寒假多前儿开始啊", "faq-winter"},
		{"Wu 几钿 for the price", "阿拉小囡午餐一个月几钿", "faq-meal-price"},
		{"Wu 啥辰光 for when", "晚托服务到啥辰光", "faq-care-time"},
		{"Hokkien 囝仔 for the child", "囝仔初二还能转学吗", "faq-transfer-grade8"},
	})
}

// Autonomous regions are called by their place name alone.
func TestShortRegionOfAutonomousRegions(t *testing.T) {
	for full, want := range map[string]string{
		"北川羌族自治县":    "北川",
		"阿坝藏族羌族自治州":  "阿坝",
		"巴音郭楞蒙古自治州":  "巴音郭楞",
		"红河哈尼族彝族自治州": "红河",
		"伊犁哈萨克自治州":   "伊犁",
		"绵阳市":        "绵阳",
		"广西壮族自治区":    "广西",
	} {
		if got := shortRegion(full); got != want {
			t.Errorf("shortRegion(%s) = %s, want %s", full, got, want)
		}
	}
}
