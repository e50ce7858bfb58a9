// Package importer turns an article as staff have it — a scraped page as
// plain text or HTML, whole or half-broken — into a draft notice: title,
// date, source, body without site chrome, summary and keywords. A draft is
// never live: a person reviews it and saves it through the admin API.
//
// Full HTML documents go through readability (codeberg.org/readeck/
// go-readability/v2) to find the article; fragments are parsed with goquery
// (which tolerates broken markup). Both, and plain text, then pass the same
// line cleaner that drops navigation, comment widgets, licence lines,
// footers, image debris and repeated paragraphs.
package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/readeck/go-readability/v2"
	"github.com/PuerkitoBio/goquery"
	xhtml "golang.org/x/net/html"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/gdjysjyj/edubot/content"
)

// Options fill in what a page may not say, and tune keywords.
type Options struct {
	Now    time.Time // "today": the year of a date written without one; default time.Now
	Source string    // publisher when the page names none (e.g. 揭阳市教育局)
	URL    string    // the article's address when the page holds none
	// Date, when set, overrides the date found on the page.
	Date content.Date
	// Segment cuts text into words for keywords (e.g. the search engine's
	// segmenter). Nil: a dictionary-free method (repeated character n-grams).
	Segment func(text string) []string
	// DocFreq gives how many of N known documents hold a word, for the IDF
	// of TF-IDF (e.g. over the runtime notices). Nil: every word is as rare.
	DocFreq func(word string) (df, n int)
	// MaxKeywords bounds the keywords; default 6.
	MaxKeywords int
}

// Draft is an imported article: a notice for a person to review, and notes
// on what the importer had to guess.
type Draft struct {
	Notice   *content.Notice `json:"notice"`
	Warnings []string        `json:"warnings,omitempty"`
}

// Markdown renders the draft as a notices/*.md file (YAML front matter and
// body) with the warnings as a leading comment block in the front matter.
func (d *Draft) Markdown() ([]byte, error) {
	data, err := content.MarshalNotice(d.Notice)
	if err != nil {
		return nil, err
	}
	if len(d.Warnings) == 0 {
		return data, nil
	}
	var b bytes.Buffer
	b.WriteString("---\n# 草稿（draft）: check before saving\n")
	for _, w := range d.Warnings {
		b.WriteString("# - " + w + "\n")
	}
	b.Write(bytes.TrimPrefix(data, []byte("---\n")))
	return b.Bytes(), nil
}

// Import extracts a draft notice from a page. It fails only when nothing
// that looks like an article is left.
func Import(page []byte, opts Options) (*Draft, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.MaxKeywords <= 0 {
		opts.MaxKeywords = 6
	}
	page = bytes.TrimPrefix(page, []byte("\xef\xbb\xbf"))
	var notes []string
	if !utf8.Valid(page) {
		// Many Chinese government sites still serve GBK/GB2312; GB18030
		// decodes both.
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(page)
		if err != nil || !utf8.Valid(dec) || bytes.ContainsRune(dec, utf8.RuneError) {
			return nil, fmt.Errorf("import: the page is neither UTF-8 nor GBK/GB18030 text")
		}
		page = dec
		notes = append(notes, "encoding: the page was GBK/GB18030, converted to UTF-8")
	}
	var (
		lines []string
		meta  pageMeta
	)
	switch {
	case looksLikeDocument(page):
		lines, meta = fromDocument(page)
	case looksLikeHTML(page):
		lines = fromFragment(page)
	default:
		lines = strings.Split(string(page), "\n")
	}
	a := analyze(lines)
	if len(a.body) == 0 {
		return nil, fmt.Errorf("import: no article text found (no paragraph of running text)")
	}
	d := &Draft{Notice: &content.Notice{}, Warnings: notes}
	n := d.Notice
	warn := func(format string, args ...any) { d.Warnings = append(d.Warnings, fmt.Sprintf(format, args...)) }

	// Title: the page's own, else derived from the first sentence.
	n.Title = firstNonEmpty(cleanTitle(meta.title), a.title)
	if n.Title == "" {
		n.Title = titleFromLead(a.body[0])
		warn("title: the page has none; taken from the first sentence")
	}
	if utf8.RuneCountInString(n.Title) > content.MaxTitleRunes {
		n.Title = string([]rune(n.Title)[:content.MaxTitleRunes])
		warn("title: cut to %d characters", content.MaxTitleRunes)
	}

	// Date: given, else the page's date line or metadata, else a date in
	// the text (a month and day without a year get the latest such year).
	switch {
	case !opts.Date.IsZero():
		n.Date = opts.Date
	case !meta.date.IsZero():
		n.Date = meta.date
	case !a.date.IsZero():
		n.Date = a.date
	default:
		if d, ok := monthDay(a.body[0], opts.Now); ok {
			n.Date = d
			warn("date: the page gives %s without a year; %d assumed", strings.TrimLeft(d.Format("1月2日"), "0"), d.Year())
		} else {
			y, m, dd := opts.Now.Date()
			n.Date = content.Date{Time: time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)}
			warn("date: none on the page; today assumed")
		}
	}
	if md, ok := monthDay(a.body[0], n.Date.Time); ok && opts.Date.IsZero() && !a.date.IsZero() && md.Month() != n.Date.Month() {
		warn("date: %s is the page's date; the article speaks of %s — check which is the publication date",
			n.Date, md.Format("1月2日"))
	}

	n.Source = firstNonEmpty(meta.source, a.source, sourceFromTitle(n.Title), opts.Source)
	if n.Source == "" {
		warn("source: the page names no publisher")
	}
	n.URL = firstNonEmpty(meta.url, opts.URL)
	if n.URL == "" {
		warn("url: required; the page holds no address of the article")
	}
	n.Cover = meta.image

	n.Body = strings.Join(a.body, "\n\n")
	// A page description counts as the page's 摘要 only when it is about
	// this article (its opening is in the body), not the site's blurb.
	if d := punct(strings.TrimSpace(meta.summary)); a.summary == "" && utf8.RuneCountInString(d) >= 20 &&
		strings.Contains(dedupeKey(n.Body), dedupeKey(string([]rune(d)[:10]))) {
		a.summary = d
		a.summaryCut = strings.HasSuffix(d, "...") || strings.HasSuffix(d, "…")
	}
	if a.summary != "" {
		n.Summary = clip(dedupeSentences(a.summary), content.MaxSummaryRunes, a.summaryCut)
	}
	if n.Summary == "" {
		n.Summary = leadSummary(a.body)
	}
	n.Keywords = keywords(n.Title, a.body, opts)
	n.ID = draftID(n)
	return d, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}

// draftID derives a stable id from the date and the title.
func draftID(n *content.Notice) string {
	h := sha256.Sum256([]byte(n.Title))
	return fmt.Sprintf("n-%s-%s", n.Date.Format("2006-0102"), hex.EncodeToString(h[:3]))
}

// pageMeta is what a whole HTML document says about itself.
type pageMeta struct {
	title, source, url, image string
	summary                   string // the page's description: its own 摘要 when it speaks of this article
	date                      content.Date
}

var htmlTagRe = regexp.MustCompile(`(?i)<\s*/?\s*(p|div|br|span|article|section|img|a|table|td|tr|li|ul|h[1-6]|strong|b|em|font|html|body|head|meta)\b`)

func looksLikeHTML(page []byte) bool { return len(htmlTagRe.FindAllIndex(page, 3)) >= 2 }

func looksLikeDocument(page []byte) bool {
	head := strings.ToLower(string(page[:min(len(page), 2048)]))
	return strings.Contains(head, "<html") || strings.Contains(head, "<!doctype") || strings.Contains(head, "<body")
}

// junk is what never belongs to an article, in any page.
const junk = "script, style, noscript, iframe, form, nav, footer, header, aside, button, select, textarea, svg, " +
	"[class*=comment], [id*=comment], [class*=share], [class*=footer], [id*=footer], [class*=nav], [class*=breadcrumb], [class*=copyright], [class*=qrcode]"

// fromDocument extracts the article of a whole page with readability, and
// the page's own title, date, publisher, address and picture.
func fromDocument(page []byte) ([]string, pageMeta) {
	var meta pageMeta
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		return strings.Split(string(page), "\n"), meta
	}
	attr := func(sel, name string) string {
		v, _ := doc.Find(sel).First().Attr(name)
		return strings.TrimSpace(v)
	}
	meta.url = firstNonEmpty(attr(`link[rel=canonical]`, "href"), attr(`meta[property="og:url"]`, "content"))
	if u, err := url.Parse(meta.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		meta.url = ""
	}
	meta.image = attr(`meta[property="og:image"]`, "content")
	if !strings.HasPrefix(meta.image, "http") {
		meta.image = ""
	}
	meta.source = firstNonEmpty(attr(`meta[name=author]`, "content"), attr(`meta[property="og:site_name"]`, "content"))
	meta.summary = firstNonEmpty(attr(`meta[name=description]`, "content"), attr(`meta[property="og:description"]`, "content"))
	// The page's header lines (title, date, 来源) often sit outside what
	// readability keeps: read them from the whole page first.
	whole := blockText(doc.Selection)
	var base *url.URL
	if meta.url != "" {
		base, _ = url.Parse(meta.url)
	}
	art, err := readability.FromDocument(doc.Get(0), base)
	if err != nil || art.Node == nil {
		doc.Find(junk).Remove()
		return blockText(doc.Find("body")), meta
	}
	meta.title = art.Title()
	if t, err := art.PublishedTime(); err == nil {
		meta.date = content.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
	}
	if meta.image == "" && strings.HasPrefix(art.ImageURL(), "http") {
		meta.image = art.ImageURL()
	}
	body := blockText(goquery.NewDocumentFromNode(art.Node).Selection)
	// Keep the whole page's lines before the article's first paragraph as
	// a header (for the date and source lines), then the article.
	var header []string
	if len(body) > 0 {
		first := strings.TrimSpace(firstParagraph(body))
		for _, l := range whole {
			if first != "" && strings.Contains(l, first[:min(len(first), 60)]) {
				break
			}
			header = append(header, l)
		}
	}
	return append(header, body...), meta
}

func firstParagraph(lines []string) string {
	for _, l := range lines {
		if utf8.RuneCountInString(strings.TrimSpace(l)) >= 20 {
			return l
		}
	}
	return ""
}

// fromFragment reads a (possibly broken) HTML fragment: goquery repairs
// what it can; unclosed tags at the end swallow trailing debris.
func fromFragment(page []byte) []string {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		return strings.Split(string(page), "\n")
	}
	doc.Find(junk).Remove()
	return blockText(doc.Selection)
}

var blockTags = map[string]bool{
	"p": true, "div": true, "br": true, "li": true, "ul": true, "ol": true, "tr": true, "table": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "article": true, "section": true,
	"blockquote": true, "pre": true, "dd": true, "dt": true, "figure": true, "figcaption": true, "hr": true, "title": true,
}

var skipTags = map[string]bool{"script": true, "style": true, "noscript": true, "iframe": true, "svg": true, "head": true, "template": true}

// blockText renders a selection's text, one line per block element.
func blockText(sel *goquery.Selection) []string {
	var b strings.Builder
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		switch n.Type {
		case xhtml.TextNode:
			b.WriteString(n.Data)
			return
		case xhtml.ElementNode:
			if skipTags[n.Data] {
				return
			}
			if n.Data == "img" {
				// A picture is part of the body: keep it as Markdown.
				for _, a := range n.Attr {
					if a.Key == "src" && strings.HasPrefix(a.Val, "http") {
						b.WriteString("\n![](" + a.Val + ")\n")
					}
				}
				return
			}
		}
		block := n.Type == xhtml.ElementNode && blockTags[n.Data]
		if block {
			b.WriteString("\n")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if block {
			b.WriteString("\n")
		}
	}
	for _, n := range sel.Nodes {
		walk(n)
	}
	return strings.Split(b.String(), "\n")
}

// cleanTitle drops a " - site name" tail from a document title.
func cleanTitle(t string) string {
	t = strings.TrimSpace(html.UnescapeString(t))
	for _, sep := range []string{" - ", " | ", "_", " — ", "－"} {
		if i := strings.Index(t, sep); i > 0 && utf8.RuneCountInString(t[:i]) >= 8 {
			t = t[:i]
		}
	}
	return strings.TrimSpace(t)
}

// titleFromLead makes a title from an article's first sentence: its
// opening time phrase dropped, up to the first comma.
var leadTimeRe = regexp.MustCompile(`^(\d{4}年)?\d{1,2}月\d{1,2}日(上午|下午|晚上|晚|早上)?[，,]?`)

func titleFromLead(p string) string {
	p = leadTimeRe.ReplaceAllString(strings.TrimSpace(p), "")
	if i := strings.IndexAny(p, "，。；！？,;"); i > 0 {
		p = p[:i]
	}
	return strings.TrimSpace(p)
}

var orgRe = regexp.MustCompile(`^(\p{Han}{2,14}?(教育厅|教育局|教育部|教育委员会|人民政府|政府办公室|招生考试院|招生考试中心|资助管理中心|体育局|卫生健康委员会))`)

// sourceFromTitle takes the publisher from a title that opens with an
// authority: "山西省教育厅召开……" → 山西省教育厅.
func sourceFromTitle(title string) string {
	if m := orgRe.FindStringSubmatch(title); m != nil {
		return m[1]
	}
	return ""
}

var monthDayRe = regexp.MustCompile(`(\d{1,2})月(\d{1,2})日`)

// monthDay finds "M月D日" near the start of p and gives it the latest year
// that does not put it after now.
func monthDay(p string, now time.Time) (content.Date, bool) {
	head := string([]rune(p)[:min(utf8.RuneCountInString(p), 40)])
	m := monthDayRe.FindStringSubmatch(head)
	if m == nil {
		return content.Date{}, false
	}
	var mo, d int
	fmt.Sscan(m[1], &mo)
	fmt.Sscan(m[2], &d)
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return content.Date{}, false
	}
	t := time.Date(now.Year(), time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.After(now) {
		t = t.AddDate(-1, 0, 0)
	}
	return content.Date{Time: t}, true
}

// clip shortens text to at most max runes, at the end of a sentence when
// possible, else at a clause; cut says the text was already truncated by
// the page (its last clause is incomplete).
func clip(text string, max int, cut bool) string {
	text = strings.TrimSpace(text)
	text = strings.TrimRight(text, ".…。 ")
	r := []rune(text)
	if !cut && len(r) <= max {
		return ensureStop(text)
	}
	limit := min(len(r), max-1)
	// Prefer the last sentence end within the limit.
	for i := limit - 1; i > 0; i-- {
		if strings.ContainsRune("。！？；", r[i]) {
			return string(r[:i+1])
		}
	}
	for i := limit - 1; i > max/3; i-- {
		if strings.ContainsRune("，；：", r[i]) {
			return string(r[:i]) + "。"
		}
	}
	return string(r[:limit]) + "…"
}

func ensureStop(s string) string {
	if s == "" {
		return s
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	if strings.ContainsRune("。！？”）", r) || !unicode.Is(unicode.Han, r) {
		return s
	}
	return s + "。"
}

// dedupeSentences drops sentences repeated in a text (summaries built by
// careless sites repeat the lead).
func dedupeSentences(s string) string {
	var out strings.Builder
	seen := map[string]bool{}
	start := 0
	rs := []rune(s)
	for i, r := range rs {
		if strings.ContainsRune("。！？", r) || i == len(rs)-1 {
			sent := strings.TrimSpace(string(rs[start : i+1]))
			start = i + 1
			if sent == "" || seen[sent] {
				continue
			}
			seen[sent] = true
			out.WriteString(sent)
		}
	}
	return out.String()
}

// leadSummary is the extractive summary: a news article's lead (its first
// paragraph of running text) in whole sentences, within the limit.
func leadSummary(body []string) string {
	lead := ""
	for _, p := range body {
		if strings.HasPrefix(p, "![") || (strings.HasSuffix(p, "：") && utf8.RuneCountInString(p) <= 40) {
			continue // a picture or a salutation
		}
		lead += p
		if utf8.RuneCountInString(lead) >= 30 {
			break
		}
	}
	// "……通知如下：" introduces a list: end the summary there.
	if strings.HasSuffix(lead, "：") {
		lead = strings.TrimSuffix(lead, "：") + "。"
	}
	return clip(lead, content.MaxSummaryRunes, false)
}
