package search

// Understanding a question: normalise, find regions, years and intent,
// segment into concepts, and expand each with synonyms and homophones.

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Credits of the forms a concept may take in content.
const (
	creditSynonym = 0.9
	creditPinyin  = 0.85
	// creditNonWord is the literal form of a token that is no word when a
	// homophone is one.
	creditNonWord = 0.5
)

// maxQueryRunes is how much of a message is read.
const maxQueryRunes = 400

// concept is one meaningful word of a question with the forms it may take
// in content (itself, synonyms, homophones).
type concept struct {
	word string
	alts []alt
	g    float64 // general informativeness 0..1 (common words count less)
	// weight is set by scoring: informativeness × idf in this content.
	weight float64
	// context: said around the question, not in it (see questionPart).
	context bool
}

// alt is one form of a concept, as index terms.
type alt struct {
	text   string
	terms  []int32 // distinct bigram ids; -1 for a bigram the index lacks
	credit float64
	via    string // "", "synonym", "pinyin", "spoken"
	// whole: the form counts only when all its terms are found (a spoken
	// form such as 带什么 shares 什么 with anything).
	whole bool
}

// query is a question analysed against the current index.
type query struct {
	text       string // as given, before any cut
	an         Analysis
	concepts   []concept
	years      []int       // years asked about (今年, 去年, 2025)
	namedYears []int       // years written out (2025), not relative ones
	schools    []string    // schools named (南山中学), see schoolsIn
	asked      []string    // regions asked about: named, and not only as where the asker comes from
	plan       *regionPlan // worked out on first use, see planFor
	latest     bool        // 最新, 最近
	docIntent  bool        // asks for a notice itself (通知, 文件, 原文)
	exams      exam        // exams named: a candidate naming only others is excluded
	levels     level       // school levels named, likewise
	elsewhere  string      // a place named that no region of the set is (see unknownPlace)
	startQ     bool        // asks when a term begins (开学, 报到)
	nextQ      bool        // asks about the next term (下学期)
	currentQ   bool        // asks about the current term (这学期)
	recentDays int         // asks for a notice of the last days (这周: 7)
	dates      []string    // days and months named (6月7日, 1月), as content writes them
	spoken     []string    // spoken phrases read as words, for Explain
	qterms     map[int32]bool
}

var (
	relYears    = map[string]int{"今年": 0, "本年度": 0, "去年": -1, "前年": -2, "明年": 1}
	latestWords = newWordSet(`最新|最近|近期|新出的|刚出的`)
	// docIntentWords: the asker wants the document itself, not an answer.
	// 文件 alone also means papers to bring (要带什么文件), so it counts
	// only as "that document" or at the end of the message.
	docIntentWords = newWordSet(`(那个|那篇|这个|这篇|那份|这份)?(通知|原文|全文|文章|公告|通告|红头文件)(原文|全文)?|(那个|这个|那份|这份)文件|文件\s*$`)
)

// Analyze says what the text names on its own: normalised form, meaningful
// tokens, regions, grades, the role its writer states, its scope and topic.
// "Today" is the engine's clock (Options.Now); see AnalyzeAt.
func (e *Engine) Analyze(text string) Analysis {
	return e.AnalyzeAt(text, time.Time{})
}

// AnalyzeAt is Analyze with "today" given (zero: the engine's clock), for
// 今年/下学期/最新. Pass the result as Query.Analysis with the same Text and
// Now, and Match does not analyse the text again.
func (e *Engine) AnalyzeAt(text string, now time.Time) Analysis {
	if now.IsZero() {
		now = e.opts.Now()
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	q := e.analyzeLocked(text, now)
	a := q.an
	a.prep, a.gen, a.day = q, e.gen, dayOf(now)
	return a
}

func dayOf(t time.Time) string { return t.Format("2006-01-02") }

// prepared is the query for in: the one its Analysis carries when that was
// made for this text, day and content version, else a fresh analysis. The
// caller holds mu for reading.
func (e *Engine) prepared(in Query, now time.Time) *query {
	if a := in.Analysis; a != nil && a.prep != nil && a.prep.text == in.Text && a.gen == e.gen && a.day == dayOf(now) {
		// Scoring writes the concepts' weights and the region plan
		// depends on Query.Region: work on a copy.
		c := *a.prep
		c.concepts = slices.Clone(a.prep.concepts)
		c.plan = nil
		return &c
	}
	return e.analyzeLocked(in.Text, now)
}

// analyzeLocked builds the query; the caller holds mu for reading.
func (e *Engine) analyzeLocked(text string, now time.Time) *query {
	q := &query{text: text, qterms: map[int32]bool{}}
	if utf8.RuneCountInString(text) > maxQueryRunes {
		// Nobody asks a question this long; the cut keeps matching fast.
		text = string([]rune(text)[:maxQueryRunes])
	}
	norm := e.readSpoken(e.norm.Normalize(text))
	q.an.Normalized = norm
	q.an.Role = roleIn(norm)
	q.an.Grades = gradesIn(norm)
	q.dates = datesIn(norm)
	body := stripFiller(norm)
	q.exams, q.levels = constraintsOf(body)
	q.an.Exams, q.an.Levels = maskNames(uint8(q.exams), examNames), maskNames(uint8(q.levels), levelNames)
	q.schools = e.schoolsIn(body)
	var origins []string
	var named []string
	named, origins, body = e.regions.findFrom(body)
	for _, r := range named {
		if !slices.Contains(origins, r) {
			q.asked = append(q.asked, r)
		}
	}
	// Where the asker comes from is not a region of the question: the
	// caller must not take it for the asker's region either.
	q.an.Regions = q.asked
	q.an.Topic, q.an.FollowUp = topicOf(body, q.an.Regions, q.an.Grades)
	if len(named) == 0 {
		q.elsewhere = e.regions.unknownPlace(body)
	}
	q.an.Scope = scopeOf(body, e.covers)
	if q.an.Scope == InScope && len(q.asked) > 0 && e.regions.plan(q.asked, "").outside {
		q.an.Scope = OtherPlace
	}

	q.startQ, q.nextQ, q.currentQ = startWords.match(body), nextWords.match(body), currentWords.match(body)
	if m := recentWords.find(body); m != "" {
		switch m {
		case "今天", "今日":
			q.recentDays = 1
		case "这个月", "本月":
			q.recentDays = 31
		default:
			q.recentDays = 7
		}
	}
	for w, d := range relYears {
		if strings.Contains(body, w) {
			if !now.IsZero() {
				q.years = append(q.years, now.Year()+d)
			}
			body = strings.ReplaceAll(body, w, " ")
		}
	}
	for _, m := range yearNums(body) {
		if y, err := strconv.Atoi(m); err == nil {
			q.years = append(q.years, y)
			q.namedYears = append(q.namedYears, y)
		}
	}
	if b := docIntentWords.replaceAll(body, " "); b != body {
		q.docIntent = true
		body = b
	}
	if b := latestWords.replaceAll(body, " "); b != body {
		q.latest = true
		body = b
	}
	// The whole question's bigrams, for the reverse coverage check.
	termsOf(body, func(t string) {
		if id := e.ix.termID(t, false); id >= 0 {
			q.qterms[id] = true
		}
	})

	var toks []string
	for _, chunk := range strings.Fields(body) {
		toks = append(toks, e.seg.Cut(chunk, true)...)
	}
	toks = e.mergeSingles(toks)
	orig := slices.Clone(toks)
	part := questionPart(norm)
	for i, t := range toks {
		if w := e.spoken[t]; w != "" {
			// A spoken phrase is read as the word it stands for; its own
			// characters (带什么) would only match by chance (什么时候).
			toks[i] = w
			q.spoken = append(q.spoken, t+"→"+w)
		}
	}
	seen := map[string]bool{}
	for i, t := range toks {
		t = strings.TrimSpace(t)
		if t == "" || e.stop[t] || seen[t] || strings.Trim(t, "0123456789年月日号点") == "" {
			continue
		}
		seen[t] = true
		for _, c := range e.conceptsOf(t) {
			if seen[c.word] && c.word != t {
				continue
			}
			seen[c.word] = true
			if part != "" && !strings.Contains(part, strings.TrimSpace(orig[i])) && !strings.Contains(part, c.word) {
				// Said around the question (a greeting, who asks, the
				// story): context, not what is asked.
				c.context = true
			}
			q.concepts = append(q.concepts, c)
			q.an.Tokens = append(q.an.Tokens, c.word)
			for _, a := range c.alts {
				for _, id := range a.terms {
					if id >= 0 {
						q.qterms[id] = true
					}
				}
			}
		}
	}
	if part != "" {
		// A question part that says little on its own (能读一年级吗)
		// leans on what was said before it: then all of it counts.
		asked := 0
		for _, c := range q.concepts {
			if !c.context && !e.weak[c.word] && !slices.Contains(gradeNames, c.word) && utf8.RuneCountInString(c.word) > 1 {
				asked++
			}
		}
		if asked < 2 {
			for i := range q.concepts {
				q.concepts[i].context = false
			}
		}
	}
	q.an.Empty = len(q.concepts) == 0 && len(q.an.Regions) == 0 && len(q.an.Grades) == 0 && len(q.years) == 0 && !q.latest
	return q
}

// askMarkerWords introduce the question in a longer message (…想问一下…).
var askMarkerWords = newWordSet(`想问问|想问一下|想问下|想问|请问一下|请问|问一下|问下|想咨询|咨询一下|想了解一下|想了解|想知道|麻烦问一下|我的问题是|问题是`)

// questionClauseWords mark a clause that asks something.
var questionClauseWords = newWordSet(`吗|呢|么|什么|怎么|怎样|如何|哪|几|多少|多久|是否|能不能|可不可以|可以不|要不要|有没有|是不是|啥|咋|没有`)

// contextRunes is the length from which a message may hold more than its
// question (a greeting, a self-introduction, a story).
const contextRunes = 24

// questionPart is the part of a long normalised message that asks: what
// follows 想问一下 and the like, else its clauses with a question word
// when others have none. "" when the message is short or all question.
func questionPart(norm string) string {
	if utf8.RuneCountInString(norm) < contextRunes {
		return ""
	}
	if i, e := askMarkerWords.index(norm, 0); i >= 0 {
		if rest := strings.TrimSpace(norm[e:]); utf8.RuneCountInString(rest) >= 4 {
			return rest
		}
	}
	clauses := strings.Fields(norm)
	var asks []string
	for _, c := range clauses {
		if questionClauseWords.match(c) {
			asks = append(asks, c)
		}
	}
	if len(asks) == 0 || len(asks) == len(clauses) {
		return ""
	}
	return strings.Join(asks, " ")
}

// spokenGradeWords: a short grade after a verb of schooling (读小一, 升小三).
var spokenGradeWords = newWordSet(`(读|上|升|入|念)小([1-6一二三四五六])`)

// datesIn lists the months and days (1月, 6月7日) a text names, each also
// with its year when the text gives one (2026年1月): as keys to compare a
// question's dates with an item's.
func datesIn(norm string) []string {
	if !strings.Contains(norm, "月") {
		return nil
	}
	var out []string
	for _, m := range datesOf(norm, 8) {
		if i := strings.Index(norm, m[0]); i > 0 && m[1] == "" && norm[i-1] >= '0' && norm[i-1] <= '9' {
			continue // 1月 inside 11月
		}
		d := m[2] + "月"
		if m[3] != "" {
			d += m[3] + "日"
		}
		out = append(out, d)
		if m[1] != "" {
			out = append(out, m[1]+"年"+d)
		}
		if m[3] != "" {
			out = append(out, m[2]+"月") // a day is in its month
			if m[1] != "" {
				out = append(out, m[1]+"年"+m[2]+"月")
			}
		}
	}
	return out
}

// readSpoken turns a normalised message as people type or dictate it into
// the language of notices: dialect words (返学 → 上学), spoken grades
// (读小一 → 读一年级) and days (7号 → 7日).
func (e *Engine) readSpoken(norm string) string {
	if e.dialect != nil {
		norm = e.dialect.Replace(norm)
	}
	if strings.Contains(norm, "小") {
		norm = spokenGradeWords.replaceAllFunc(norm, func(m string) string {
			verb := firstRune(m)
			return verb + numCN[m[len(verb)+len("小"):]] + "年级"
		})
	}
	if strings.Contains(norm, "月") {
		norm = writtenDays(norm)
	}
	return norm
}

// writtenDays writes the days of months as content does (6月7号, 6月7 日,
// 6 月 7号 → 6月7日): what the regexp (\d{1,2})\s?月\s?(\d{1,2})\s?(号|日)
// matched, replaced with ${1}月${2}日.
func writtenDays(s string) string {
	var b strings.Builder
	pos := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			continue
		}
		m, d, e := dayAt(s, i)
		if e < 0 {
			continue
		}
		b.WriteString(s[pos:i])
		b.WriteString(m + "月" + d + "日")
		pos, i = e, e-1
	}
	if pos == 0 {
		return s
	}
	b.WriteString(s[pos:])
	return b.String()
}

// datesOf returns up to n dates as the regexp
// (?:(\d{4})\s?年\s?)?(\d{1,2})\s?月(?:份)?(?:\s?(\d{1,2})\s?[日号])?
// found them (FindAllStringSubmatch): the whole match, year, month, day.
func datesOf(s string, n int) [][4]string {
	var out [][4]string
	for i := 0; i < len(s) && len(out) < n; i++ {
		if !isDigit(s[i]) {
			continue
		}
		y, m, d, e := dateAt(s, i)
		if e < 0 {
			continue
		}
		out = append(out, [4]string{s[i:e], y, m, d})
		i = e - 1
	}
	return out
}

// followWords carry no topic in a follow-up: 那惠来呢, 换成初一的话.
var followWords = []string{"如果是", "要是", "的话", "换成", "改成", "还有", "那么", "那个", "怎么样", "情况", "那", "呢", "的", "吗", "是", "又", "呀", "啊", "嘞", "咧", "喔", "哦"}

// topicOf is the question of body (regions already blanked out) without
// its grade words, and whether nothing but follow-up words is left of it.
func topicOf(body string, regions, grades []string) (string, bool) {
	t := strings.ReplaceAll(body, " ", "")
	for _, g := range grades {
		t = strings.ReplaceAll(t, g, "")
	}
	if len(regions) == 0 && len(grades) == 0 {
		return t, false
	}
	rest := t
	for _, w := range followWords {
		rest = strings.ReplaceAll(rest, w, "")
	}
	return t, rest == ""
}

// mergeSingles joins runs of single Han characters that the segmenter could
// not place into one token: typing mistakes (反校) come out as such runs.
func (e *Engine) mergeSingles(toks []string) []string {
	var out []string
	var run []string
	flush := func() {
		if len(run) >= 2 {
			out = append(out, strings.Join(run, ""))
		} else {
			out = append(out, run...)
		}
		run = run[:0]
	}
	for _, t := range toks {
		r, n := utf8.DecodeRuneInString(t)
		if n == len(t) && isCJK(r) && !e.stop[t] && len(e.syn[t]) == 0 {
			run = append(run, t)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// conceptsOf turns a token into concepts. A token the dictionary does not
// know (the segmenter's guess from characters it could not place) is either
// a typing mistake for a word of the content, found by its pinyin, or
// characters that say nothing on their own and are split up.
func (e *Engine) conceptsOf(t string) []concept {
	if cs := e.pinyinConcepts(t); len(cs) > 0 {
		return cs
	}
	if e.known(t) || utf8.RuneCountInString(t) == 1 || !hasHan(t) {
		if parts := e.compoundParts(t); len(parts) > 1 {
			var out []concept
			for _, p := range parts {
				if e.stop[p] {
					continue
				}
				if c, ok := e.conceptOf(p); ok {
					out = append(out, c)
				}
			}
			return out
		}
		if c, ok := e.conceptOf(t); ok {
			return []concept{c}
		}
		return nil
	}
	if c, ok := e.conceptOf(t); ok && (len(c.alts) > 1 || e.inIndex(c.alts[0]) || utf8.RuneCountInString(t) >= 3) {
		// Three or more characters the segmenter kept together are a
		// name or term the content may lack (专升本): it must count.
		return []concept{c}
	}
	var out []concept
	for _, r := range t {
		s := string(r)
		if e.stop[s] {
			continue
		}
		if c, ok := e.conceptOf(s); ok {
			out = append(out, c)
		}
	}
	return out
}

// pinyinConcepts reads a Latin word typed as pinyin (gaokao, zhongkao) as the
// content's words that sound like it, two syllables at a time.
func (e *Engine) pinyinConcepts(t string) []concept {
	if len(t) < 4 || strings.ContainsFunc(t, func(r rune) bool { return r < 'a' || r > 'z' }) {
		return nil
	}
	syl := e.ix.pinyin.split(t)
	if len(syl) < 2 || len(syl)%2 != 0 {
		return nil
	}
	var out []concept
	for i := 0; i+1 < len(syl); i += 2 {
		var best int32 = -1
		for _, id := range e.ix.pinyin.byKey[syl[i]+" "+syl[i+1]] {
			if e.ix.df[id] > 0 && (best < 0 || e.ix.df[id] > e.ix.df[best]) {
				best = id
			}
		}
		if best < 0 {
			return nil
		}
		w := e.ix.terms[best]
		c, ok := e.conceptOf(w)
		if !ok {
			return nil
		}
		c.word = w
		for i := range c.alts {
			c.alts[i].credit *= creditPinyin
		}
		out = append(out, c)
	}
	return out
}

// compoundParts splits a long word with no synonyms of its own into the
// fewest dictionary words of two or more characters that make it up
// (秋季开学 → 秋季 开学), so each part matches, and expands, on its own.
// It returns nil when the word should stay whole.
func (e *Engine) compoundParts(t string) []string {
	rs := []rune(t)
	n := len(rs)
	if n < 4 || len(e.syn[t]) > 0 || !hasHan(t) {
		return nil
	}
	// best[i]: fewest parts covering rs[i:]; next[i]: end of the first part.
	best := make([]int, n+1)
	next := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		best[i] = -1
		for j := i + 2; j <= n && j-i <= 6; j++ {
			if j-i == n || best[j] < 0 {
				continue
			}
			if !e.known(string(rs[i:j])) {
				continue
			}
			if best[i] < 0 || best[j]+1 < best[i] {
				best[i], next[i] = best[j]+1, j
			}
		}
	}
	if best[0] < 2 {
		return nil
	}
	var out []string
	for i := 0; i < n; i = next[i] {
		out = append(out, string(rs[i:next[i]]))
	}
	return out
}

// known reports whether the dictionary, the lexicon or the content knows w.
func (e *Engine) known(w string) bool {
	if e.learned[w] {
		return true
	}
	f, _, ok := e.seg.Find(w)
	return ok && f > 0
}

// inIndex reports whether every term of a form occurs in live content.
func (e *Engine) inIndex(a alt) bool {
	for _, id := range a.terms {
		if id < 0 || e.ix.df[id] == 0 {
			return false
		}
	}
	return len(a.terms) > 0
}

func hasHan(s string) bool {
	for _, r := range s {
		if isCJK(r) {
			return true
		}
	}
	return false
}

// conceptOf turns a token into a concept with its forms.
func (e *Engine) conceptOf(t string) (concept, bool) {
	c := concept{word: t, g: e.informativeness(t)}
	single := utf8.RuneCountInString(t) == 1
	if !single {
		c.alts = append(c.alts, e.altOf(t, 1, ""))
	}
	for _, s := range e.syn[t] {
		if utf8.RuneCountInString(s) >= 2 {
			a := e.altOf(s, creditSynonym, "synonym")
			// A long name counts only whole: most of 初中学业水平考试
			// is also in 高中学业水平考试, another exam.
			a.whole = utf8.RuneCountInString(s) >= wholeSynonymRunes
			c.alts = append(c.alts, a)
		}
	}
	for _, f := range e.spokenOf[t] {
		// Content written as people speak (报名要带什么) is found too.
		a := e.altOf(f, creditSynonym, "spoken")
		a.whole = true
		c.alts = append(c.alts, a)
	}
	if len(c.alts) == 0 {
		return c, false // a lone character with no synonyms says too little
	}
	// Homophones for the bigrams the index lacks: pinyin typing mistakes.
	// A token that is no word at all may also hit a bigram that only spans
	// two words of the content (学及 in 转学及学籍): its homophones that
	// are words (学籍) are tried too, and then preferred.
	base := c.alts[0]
	if !single && base.via == "" {
		word := e.known(t)
		rs := []rune(t)
		for i := 0; i+1 < len(rs); i++ {
			bg := string(rs[i : i+2])
			if id := e.ix.termID(bg, false); id >= 0 && e.ix.df[id] > 0 && (word || e.known(bg)) {
				continue
			}
			tried := 0
			for _, id := range e.ix.pinyin.sounds(bg) {
				if e.ix.df[id] == 0 || tried >= 3 {
					continue
				}
				if word && len(e.ix.postings[id]) == 0 {
					// For a real word, only a homophone the content names
					// in a question, title or keyword (几分 → 积分): one
					// met only in running text is a chance (驾校 → 家小).
					continue
				}
				tried++
				fixed := string(rs[:i]) + e.ix.terms[id] + string(rs[i+2:])
				if !e.known(fixed) && !e.known(e.ix.terms[id]) {
					continue // a homophone that is no word: 反校 → 范校
				}
				if fixed == t {
					continue
				}
				c.alts = append(c.alts, e.altOf(fixed, creditPinyin, "pinyin"))
				for _, s := range e.syn[fixed] {
					c.alts = append(c.alts, e.altOf(s, creditPinyin*creditSynonym, "pinyin+synonym"))
				}
			}
		}
		if !word && len(c.alts) > 1 && c.alts[1].via == "pinyin" {
			c.alts[0].credit = creditNonWord
		}
	}
	return c, true
}

// wholeSynonymRunes is the length from which a synonym must be found whole.
const wholeSynonymRunes = 5

// altOf makes a form from normalised text.
func (e *Engine) altOf(text string, credit float64, via string) alt {
	a := alt{text: text, credit: credit, via: via}
	seen := map[string]bool{}
	termsOf(text, func(t string) {
		if !seen[t] {
			seen[t] = true
			a.terms = append(a.terms, e.ix.termID(t, false))
		}
	})
	return a
}

// informativeness says how much a word means on its own, from its frequency
// in general language: 知道 or 时间 say little, 开学 or 厨师 a lot.
func (e *Engine) informativeness(w string) float64 {
	if e.weak[w] {
		return tune.weakG
	}
	if e.learned[w] {
		return 1
	}
	f, _, ok := e.seg.Find(w)
	if !ok || f <= 0 {
		// The segmenter's guess from characters it could not place.
		return 1
	}
	g := (math.Log(5.76e7/f) - 6) / 5
	return math.Max(0.2, math.Min(1, g))
}
