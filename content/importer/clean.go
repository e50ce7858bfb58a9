package importer

import (
	"html"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content"
)

// article is what the line cleaner found.
type article struct {
	title      string
	source     string
	date       content.Date
	summary    string // the page's own 摘要
	summaryCut bool   // the 摘要 ends in "..." (truncated by the site)
	body       []string
}

var (
	// Debris of broken markup: tags, half tags, image names whose tag
	// opening was lost ("1jpg/>").
	tagRe       = regexp.MustCompile(`<[^<>]{0,300}>`)
	halfTagRe   = regexp.MustCompile(`<\s*/?[a-zA-Z][^<>]*$|^[^<>]*?[a-z"']\s*/?>`)
	imgDebrisRe = regexp.MustCompile(`(?i)[\w./-]*\.?(jpe?g|png|gif|bmp|webp)["']?\s*/?>`)
	spaceRe     = regexp.MustCompile(`[\s\x{00a0}\x{3000}\x{200b}]+`)

	fullDateRe  = regexp.MustCompile(`((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})`)
	summaryRe   = regexp.MustCompile(`^(内容)?摘\s*要\s*[:：]?\s*(.*)$`)
	sourceRe    = regexp.MustCompile(`(来源|来自|发布单位|发布机构|信息来源)\s*[:：]\s*([^\s|丨]{2,30})`)
	signatureRe = regexp.MustCompile(`^(\p{Han}{2,20}(局|厅|部|委|政府|中心|办公室|学校|小学|中学|大学)|(19|20)\d{2}年\d{1,2}月\d{1,2}日)$`)
	// tailRe: a contact or attachment line at the end of an article.
	tailRe     = regexp.MustCompile(`^.{0,12}(电话|咨询|联系人|联系方式|手机|传真|邮箱|电子邮件|地址|邮编|附件)[^，。]{0,12}[:：]|(^|[^\d])(0\d{2,3}-?\d{7,8}|1[3-9]\d{9})([^\d]|$)`)
	promoSrcRe = regexp.MustCompile(`是(\p{Han}{2,20}?)(唯一)?(的)?官方(微信|网站|公众号|账号)`)

	chromeRes = []*regexp.Regexp{
		// navigation and breadcrumbs
		regexp.MustCompile(`^(首页|当前位置|您的位置|您现在的位置|位置[:：])`),
		regexp.MustCompile(`^.{0,20}(服务热线|客服热线|热线电话)\s*[:：]`),
		// counters and bullets without words
		regexp.MustCompile(`^[•·*\-]?\s*[\d\s]*$`),
		// comment and reaction widgets, sharing, paging
		regexp.MustCompile(`^(路过|雷人|握手|鲜花|鸡蛋|顶|踩|赞|分享|分享到.*|收藏|点赞|打印|关闭|关闭窗口|返回|返回顶部|全部评论|快速评论|发表评论|评论|网友评论|相关阅读|相关文章|热门推荐|推荐阅读|扫一扫|字号.*|上一篇.*|下一篇.*|【.{1,6}】)$`),
		// footers, licences, site credits
		regexp.MustCompile(`(?i)copyright|©|powered by|ICP备|ICP证|公网安备|版权所有|违法和不良信息|举报邮箱|GMT[+-]\d|archiver|all rights reserved`),
		regexp.MustCompile(`^(关于我们|帮助中心|法律声明|联系我们|网站地图|诚聘英才|手机版|设为首页)`),
		regexp.MustCompile(`[|｜].*[|｜].*[|｜]`),
		// the account's own promotion under every article
		regexp.MustCompile(`(?i)官方微信|官方公众号|微信号\s*[:：]|感谢您?关注|扫码关注|长按识别|二维码|订阅号|join us|阅读原文|点击上方|蓝字关注`),
		// editors and view counts
		regexp.MustCompile(`^(责任编辑|编辑|审核|校对|作者|撰稿|摄影|供稿)\s*[:：]`),
		regexp.MustCompile(`(浏览次数|阅读量|点击数|阅读数|浏览量)\s*[:：]?\s*\d*`),
	}
)

// cleanLine strips markup debris and unifies spaces.
func cleanLine(l string) string {
	l = html.UnescapeString(l)
	l = tagRe.ReplaceAllString(l, " ")
	l = imgDebrisRe.ReplaceAllString(l, " ")
	l = halfTagRe.ReplaceAllString(l, " ")
	l = spaceRe.ReplaceAllString(l, " ")
	return strings.TrimSpace(l)
}

func isChrome(l string) bool {
	for _, re := range chromeRes {
		if re.MatchString(l) {
			return true
		}
	}
	return isNav(l)
}

// isNav: several short words separated by spaces or arrows, no sentence
// ("首页 揭阳新闻 揭阳教育 查看内容").
func isNav(l string) bool {
	fields := strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || strings.ContainsRune(">»›/→", r) })
	if len(fields) < 3 || strings.ContainsAny(l, "，。；,") {
		return false
	}
	for _, f := range fields {
		if utf8.RuneCountInString(f) > 8 {
			return false
		}
	}
	return true
}

func hanRatio(s string) float64 {
	var han, all int
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		all++
		if unicode.Is(unicode.Han, r) {
			han++
		}
	}
	if all == 0 {
		return 0
	}
	return float64(han) / float64(all)
}

// isProse: a line of running text — long enough, mostly Chinese, with
// clause punctuation.
func isProse(l string) bool {
	return utf8.RuneCountInString(l) >= 20 && hanRatio(l) > 0.5 && strings.ContainsAny(l, "，。；、,;")
}

// para is one kept line and whether it is running text.
type para struct {
	text  string
	prose bool
}

// analyze finds the article in a page's lines.
func analyze(raw []string) article {
	var a article
	lines := make([]string, 0, len(raw))
	for _, l := range raw {
		lines = append(lines, cleanLine(l))
	}
	var kept []para
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" {
			continue
		}
		if m := summaryRe.FindStringSubmatch(l); m != nil && a.summary == "" {
			s := m[2]
			if s == "" { // "摘要" on its own line: the next line is its text
				for i+1 < len(lines) && lines[i+1] == "" {
					i++
				}
				if i+1 < len(lines) {
					i++
					s = lines[i]
				}
			}
			s = strings.TrimSpace(s)
			a.summaryCut = strings.HasSuffix(s, "...") || strings.HasSuffix(s, "…")
			a.summary = punct(strings.TrimRight(s, ".… "))
			continue
		}
		if m := promoSrcRe.FindStringSubmatch(l); m != nil && a.source == "" {
			a.source = m[1]
		}
		// Short lines before the body: the page's date/author/来源 line
		// (often with view counts, so read it before dropping chrome).
		if !isProse(l) && !anyProse(kept) && utf8.RuneCountInString(l) <= 80 {
			m := sourceRe.FindStringSubmatch(l)
			if m != nil && a.source == "" {
				a.source = m[2]
			}
			d, ok := fullDate(l)
			if ok && a.date.IsZero() {
				a.date = d
			}
			if ok || m != nil {
				continue
			}
		}
		if isChrome(l) {
			continue
		}
		kept = append(kept, para{punct(l), isProse(l)})
	}
	first, last := -1, -1
	for i, l := range kept {
		if l.prose {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return a
	}
	// The title: the longest short line before the body.
	for _, l := range kept[:first] {
		n := utf8.RuneCountInString(l.text)
		if n >= 6 && n <= 80 && hanRatio(l.text) > 0.6 && !strings.ContainsAny(l.text, "。") &&
			n > utf8.RuneCountInString(a.title) {
			a.title = l.text
		}
	}
	// The body: from the first to the last paragraph of running text, each
	// paragraph once (broken pages repeat their lead).
	// A salutation just before the body (各学校：) and the signature just
	// after it (the publisher, the date) belong to a notice.
	if first > 0 && strings.HasSuffix(kept[first-1].text, "：") && utf8.RuneCountInString(kept[first-1].text) <= 40 {
		first--
	}
	// So do the contact and attachment lines that close many notices
	// (咨询电话：0663-…, 联系人：…, 附件：…): short, not prose, but the
	// article's own; the site's footer (服务热线) is chrome and gone by now.
	for i, gap := last+1, 0; i < len(kept) && gap <= 1; i++ {
		if t := kept[i].text; signatureRe.MatchString(t) || tailRe.MatchString(t) {
			last, gap = i, 0
		} else {
			gap++
		}
	}
	seen := map[string]bool{}
	for i := first; i <= last; i++ {
		key := dedupeKey(kept[i].text)
		if seen[key] || key == dedupeKey(a.title) {
			continue
		}
		seen[key] = true
		a.body = append(a.body, kept[i].text)
	}
	// Drop a paragraph that only repeats the start of the next one (a
	// truncated copy of the lead).
	for i := 0; i+1 < len(a.body); i++ {
		k, next := dedupeKey(a.body[i]), dedupeKey(a.body[i+1])
		if len(k) > 30 && strings.HasPrefix(next, k) {
			a.body = append(a.body[:i], a.body[i+1:]...)
			i--
		}
	}
	if a.date.IsZero() {
		for _, l := range a.body {
			if d, ok := fullDate(l); ok {
				a.date = d
				break
			}
		}
	}
	return a
}

func anyProse(ls []para) bool {
	for _, l := range ls {
		if l.prose {
			return true
		}
	}
	return false
}

func fullDate(l string) (content.Date, bool) {
	m := fullDateRe.FindStringSubmatch(l)
	if m == nil {
		return content.Date{}, false
	}
	var y, mo, d int
	for i, p := range []*int{&y, &mo, &d} {
		for _, r := range m[i+1] {
			*p = *p*10 + int(r-'0')
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return content.Date{}, false
	}
	return content.Date{Time: time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)}, true
}

// dedupeKey compares paragraphs ignoring spaces and punctuation widths.
func dedupeKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// punct turns ASCII punctuation written between Chinese characters into
// the full-width marks Chinese text uses (scraped pages often lose them).
func punct(s string) string {
	rs := []rune(s)
	han := func(i int) bool {
		return i >= 0 && i < len(rs) && (unicode.Is(unicode.Han, rs[i]) || strings.ContainsRune("“”‘’（）《》、", rs[i]))
	}
	out := make([]rune, 0, len(rs))
	for i, r := range rs {
		prev, next := i-1, i+1
		if r == ' ' && han(prev) && (han(next) || next < len(rs) && strings.ContainsRune(",;:()", rs[next])) {
			continue // a space between Chinese characters is debris
		}
		for prev >= 0 && rs[prev] == ' ' {
			prev--
		}
		for next < len(rs) && rs[next] == ' ' {
			next++
		}
		nearHan := han(prev) || han(next)
		switch {
		case r == ',' && nearHan:
			r = '，'
		case r == ';' && nearHan:
			r = '；'
		case r == ':' && han(prev) && !(next < len(rs) && rs[next] >= '0' && rs[next] <= '9' && prev >= 0 && rs[prev] >= '0' && rs[prev] <= '9'):
			r = '：'
		case r == '(' && han(prev):
			r = '（'
		case r == ')' && han(next):
			r = '）'
		case r == '?' && han(prev):
			r = '？'
		case r == '!' && han(prev):
			r = '！'
		}
		out = append(out, r)
	}
	s = string(out)
	// Spaces left around full-width marks.
	return strings.NewReplacer(" ，", "，", "， ", "，", " ；", "；", "； ", "；", " ：", "：", "： ", "：", " （", "（", "） ", "）").Replace(s)
}
