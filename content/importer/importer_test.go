package importer

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/gdjysjyj/edubot/content"
)

var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// Site chrome and markup debris that must never reach a draft.
var chrome = []string{
	"<", ">", "jpg/", "首页", "查看内容", "蓝色河畔", "1473", "路过", "雷人", "握手", "鲜花", "鸡蛋",
	"全部评论", "快速评论", "关于我们", "帮助中心", "Copyright", "Powered by", "Discuz", "ICP备", "公网安备",
	"违法和不良信息", "举报邮箱", "GMT+8", "服务热线", "0754", "微信号", "感谢您关注", "Join us", "二维码", "摘要",
	"article", "div", "class=", "style=",
}

func importFile(t *testing.T, name string, opts Options) *Draft {
	t.Helper()
	page, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Now.IsZero() {
		opts.Now = now
	}
	d, err := Import(page, opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func assertClean(t *testing.T, n *content.Notice) {
	t.Helper()
	for _, field := range []struct{ name, text string }{{"title", n.Title}, {"summary", n.Summary}, {"body", n.Body}} {
		for _, c := range chrome {
			if strings.Contains(field.text, c) {
				t.Errorf("%s holds site chrome or debris %q", field.name, c)
			}
		}
	}
	if utf8.RuneCountInString(n.Summary) > content.MaxSummaryRunes || n.Summary == "" {
		t.Errorf("summary has %d characters: %q", utf8.RuneCountInString(n.Summary), n.Summary)
	}
	// Every paragraph once.
	seen := map[string]bool{}
	for _, p := range strings.Split(n.Body, "\n\n") {
		if seen[p] {
			t.Errorf("paragraph repeated: %.40s…", p)
		}
		seen[p] = true
	}
	if len(n.Keywords) == 0 {
		t.Error("no keywords")
	}
}

// The forum page: navigation, author line, counters, reaction and comment
// widgets, the account's promotion, footer and licence lines around the
// article.
func TestImportForumPage(t *testing.T) {
	d := importFile(t, "forum-page.txt", Options{})
	n := d.Notice
	assertClean(t, n)
	if n.Title != "揭阳市教育系统召开防控新型冠状病毒感染的肺炎疫情工作座谈会" {
		t.Errorf("title = %q", n.Title)
	}
	if n.Date.String() != "2023-01-20" {
		t.Errorf("date = %s, want the page's 2023-01-20", n.Date)
	}
	if n.Source != "揭阳市教育局" {
		t.Errorf("source = %q", n.Source)
	}
	paras := strings.Split(n.Body, "\n\n")
	if len(paras) != 5 || !strings.HasPrefix(paras[0], "2月7日上午，揭阳市教育系统召开") ||
		!strings.HasSuffix(paras[4], "在战胜困难后，我们会更强。") {
		t.Errorf("body has %d paragraphs: first %.30q, last …%q", len(paras), paras[0], paras[len(paras)-1])
	}
	// The page's own 摘要, cut by the site mid-word, ends at its last whole clause.
	if !strings.HasPrefix(n.Summary, "2月7日上午，揭阳市教育系统召开") || !strings.HasSuffix(n.Summary, "罗俊波同志主持。") {
		t.Errorf("summary = %q", n.Summary)
	}
	if !containsAny(d.Warnings, "2月7日") || !containsAny(d.Warnings, "url") {
		t.Errorf("warnings = %q; want the body's own date and the missing url noted", d.Warnings)
	}
	if !contains(n.Keywords, "疫情防控") {
		t.Errorf("keywords = %q", n.Keywords)
	}
}

// The half-broken fragment: a bare 摘要, the lead twice, tags and image
// debris ("1jpg/>") in the text, an unclosed tag at the end.
func TestImportBrokenFragment(t *testing.T) {
	d := importFile(t, "broken-fragment.html", Options{})
	n := d.Notice
	assertClean(t, n)
	if n.Title != "山西省教育厅召开全省教育系统疫情防控工作推进会议" {
		t.Errorf("title = %q", n.Title)
	}
	if n.Date.String() != "2026-06-18" || !containsAny(d.Warnings, "without a year") {
		t.Errorf("date = %s (warnings %q); want 6月18日 in the latest year before today, with a warning", n.Date, d.Warnings)
	}
	if n.Source != "山西省教育厅" {
		t.Errorf("source = %q", n.Source)
	}
	if strings.Count(n.Body, "6月18日上午") != 1 {
		t.Errorf("the lead paragraph appears %d times", strings.Count(n.Body, "6月18日上午"))
	}
	paras := strings.Split(n.Body, "\n\n")
	if len(paras) != 5 || !strings.HasPrefix(paras[1], "会议强调，开学复课") || !strings.HasPrefix(paras[4], "会议以视频方式召开。") {
		t.Errorf("body paragraphs = %d: %.20q", len(paras), paras)
	}
	if n.Summary != "6月18日上午，山西省教育厅召开全省教育系统疫情防控工作推进会议，传达贯彻省委专题会精神，就下一步教育系统疫情防控工作作出部署。省委教育工委书记、省教育厅党组书记、厅长吴俊清主持会议并讲话。" {
		t.Errorf("summary = %q", n.Summary)
	}
	// Given what the page lacks, the draft is a valid notice.
	d = importFile(t, "broken-fragment.html", Options{Date: mustDate(t, "2020-06-18"), URL: "https://jyedu.example.org/n/1"})
	if err := d.Notice.Validate(); err != nil {
		t.Errorf("draft with date and url given does not validate: %v", err)
	}
	if d.Notice.Date.String() != "2020-06-18" {
		t.Errorf("given date ignored: %s", d.Notice.Date)
	}
}

// A whole bureau web page goes through readability: the article is kept,
// menus, sidebars, share buttons, comments and the footer are not.
func TestImportHTMLDocument(t *testing.T) {
	d := importFile(t, "bureau-page.html", Options{})
	n := d.Notice
	assertClean(t, n)
	if n.Title != "关于做好2026年寒假期间学生安全工作的通知" {
		t.Errorf("title = %q", n.Title)
	}
	if n.Date.String() != "2026-01-16" || n.Source != "揭阳市教育局" || n.URL != "https://jyedu.example.org/notice/2026/0116-winter-safety.html" {
		t.Errorf("date %s, source %q, url %q", n.Date, n.Source, n.URL)
	}
	for _, junk := range []string{"网站首页", "分享到", "相关文章", "上一篇", "主办单位", "网友评论"} {
		if strings.Contains(n.Body, junk) {
			t.Errorf("body holds %q", junk)
		}
	}
	if !strings.Contains(n.Body, "寒假期间") || !strings.Contains(n.Body, "防溺水") {
		t.Errorf("article text lost: %q", n.Body)
	}
	// No 摘要 on this page: an extractive summary from the lead.
	if !strings.HasPrefix(n.Summary, "为确保全市中小学生度过一个平安") {
		t.Errorf("summary = %q", n.Summary)
	}
}

// Pages in GBK (common on older government sites) are converted.
func TestImportGBK(t *testing.T) {
	page, err := os.ReadFile("testdata/forum-page.txt")
	if err != nil {
		t.Fatal(err)
	}
	gbk, err := simplifiedchinese.GB18030.NewEncoder().Bytes(page)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Import(gbk, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if d.Notice.Title != "揭阳市教育系统召开防控新型冠状病毒感染的肺炎疫情工作座谈会" || !containsAny(d.Warnings, "GBK") {
		t.Errorf("GBK page: title %q, warnings %q", d.Notice.Title, d.Warnings)
	}
}

// A page description about the article is the page's own 摘要.
func TestImportUsesArticleDescription(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>揭阳市启动2026年校园食品安全专项检查 - 揭阳市教育局</title>
<meta name="description" content="市教育局联合市场监管部门对全市中小学食堂开展为期一个月的专项检查，重点查验食材采购台账和陪餐制度。">
</head><body><div class="content">
<p>近日，市教育局联合市场监管部门对全市中小学食堂开展为期一个月的专项检查，重点查验食材采购台账、留样记录和校领导陪餐制度落实情况。</p>
<p>检查采取随机抽查与专项督查相结合的方式进行，对发现的问题将责令限期整改，并在全市教育系统通报。家长可通过监督电话反映学校食堂问题。</p>
</div></body></html>`
	d, err := Import([]byte(page), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if d.Notice.Summary != "市教育局联合市场监管部门对全市中小学食堂开展为期一个月的专项检查，重点查验食材采购台账和陪餐制度。" {
		t.Errorf("summary = %q", d.Notice.Summary)
	}
	if d.Notice.Title != "揭阳市启动2026年校园食品安全专项检查" {
		t.Errorf("title = %q", d.Notice.Title)
	}
}

func TestImportRejectsNonArticles(t *testing.T) {
	for name, page := range map[string]string{
		"empty":      "",
		"navigation": "首页 新闻 通知 公告\n关于我们|联系我们|网站地图\nCopyright © 2026",
		"binary":     "\xff\xfe\x00bad",
	} {
		if _, err := Import([]byte(page), Options{Now: now}); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
}

func TestMarkdownDraftLoads(t *testing.T) {
	d := importFile(t, "forum-page.txt", Options{URL: "https://jyedu.example.org/n/2"})
	md, err := d.Markdown()
	if err != nil {
		t.Fatal(err)
	}
	n, err := content.ParseNotice("notices/"+d.Notice.ID+".md", md)
	if err != nil {
		t.Fatalf("the printed draft is not a valid notices/*.md: %v\n%s", err, md)
	}
	if n.Title != d.Notice.Title || n.Body != d.Notice.Body {
		t.Error("the printed draft differs from the draft")
	}
	if !strings.Contains(string(md), "# - date:") {
		t.Error("warnings not in the printed draft")
	}
}

func TestPunct(t *testing.T) {
	for in, want := range map[string]string{
		"会议由局长主持,市委常委出席":      "会议由局长主持，市委常委出席",
		"各县(市、区)教育局":          "各县（市、区）教育局",
		"时间:2026-01-16 10:30": "时间：2026-01-16 10:30",
		"电话 0663-12340101":    "电话 0663-12340101",
		"see a, b":            "see a, b",
	} {
		if got := punct(in); got != want {
			t.Errorf("punct(%q) = %q, want %q", in, got, want)
		}
	}
}

func mustDate(t *testing.T, s string) content.Date {
	d, err := content.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsAny(list []string, sub string) bool {
	for _, x := range list {
		if strings.Contains(x, sub) {
			return true
		}
	}
	return false
}

// Every paragraph of the body stays, the contact lines at its end
// included; the site's own footer (服务热线, navigation, share bar) goes.
func TestImportKeepsTrailingContactLines(t *testing.T) {
	page := `<html><head><title>关于2026年春季学期校车安全管理的通知 - 揭阳市教育局</title></head><body>
<div class="nav">网站首页 教育动态 通知公告 查看内容</div>
<h1>关于2026年春季学期校车安全管理的通知</h1>
<div class="info">发布时间：2026-02-20 来源：揭阳市教育局</div>
<div class="content">
<p>各县（市、区）教育局，市直各学校：</p>
<p>为切实加强校车安全管理，保障学生上下学途中的安全，现就春季学期校车管理有关事项通知如下。</p>
<p>联系电话：0663-8220001（市教育局安全科），工作日上午办理。</p>
<p>各校要落实校车驾驶人和随车照管人员的安全责任，每日出车前检查车辆状况，严禁超员超速。</p>
<p>咨询电话：0663-8220002</p>
<p>联系人：陈老师</p>
</div>
<div class="share">分享到： 微信 微博</div>
<div class="footer">服务热线：0663-8888000 主办单位：揭阳市教育局</div>
</body></html>`
	d, err := Import([]byte(page), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	body := d.Notice.Body
	for _, want := range []string{"联系电话：0663-8220001", "严禁超员超速", "咨询电话：0663-8220002", "联系人：陈老师"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lost %q:\n%s", want, body)
		}
	}
	for _, junk := range []string{"服务热线", "0663-8888000", "分享到", "查看内容", "主办单位"} {
		if strings.Contains(body, junk) {
			t.Errorf("body holds site chrome %q:\n%s", junk, body)
		}
	}
}

// Keywords are the article's own terms: no function words (关于), no
// fragments glued across word boundaries (学期+校车).
func TestImportKeywordsAreTerms(t *testing.T) {
	page := `<html><head><title>关于2026年春季学期校车安全管理的通知</title></head><body>
<h1>关于2026年春季学期校车安全管理的通知</h1>
<div class="info">发布时间：2026-02-20 来源：揭阳市教育局</div>
<p>为切实加强校车安全管理，保障学生上下学途中的安全，现就春季学期校车管理有关事项通知如下。</p>
<p>各校要落实校车驾驶人和随车照管人员的安全责任，每日出车前检查校车车况，严禁超员超速，关于校车的隐患要及时整改。</p>
<p>春季学期开学前，各地教育部门要会同交警部门开展校车安全检查，校车驾驶人必须持证上岗。</p>
</body></html>`
	d, err := Import([]byte(page), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	kws := d.Notice.Keywords
	if !slices.Contains(kws, "校车") {
		t.Errorf("keywords %v miss 校车", kws)
	}
	for _, junk := range []string{"关于", "学期校车", "校车安全管理的"} {
		if slices.Contains(kws, junk) {
			t.Errorf("keywords %v hold %q", kws, junk)
		}
	}
}
