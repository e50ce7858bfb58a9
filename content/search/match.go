package search

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content"
)

// Credits of the forms a concept may take in content.
const (
	creditSynonym = 0.9
	creditPinyin  = 0.85
)

// BM25 parameters.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// stage1 is how many candidates get the full (more expensive) ranking.
const stage1 = 40

// concept is one meaningful word of a question with the forms it may take
// in content (itself, synonyms, homophones).
type concept struct {
	word string
	alts []alt
	g    float64 // general informativeness 0..1 (common words count less)
	// weight is set by scoring: informativeness × idf in this content.
	weight float64
}

// tuning holds the ranking's free parameters, chosen on one half of the
// development questions and checked on the other.
type tuning struct {
	unknownDamp float64 // weight of a concept the content lacks entirely
	singleW     float64 // weight of a one-character concept
	covMix      float64 // confidence = covMix×coverage + (1−covMix)×reverse coverage
	sep         float64 // confidence gained per point of lead over the runner-up
	maxLead     float64 // the lead counted at most
	phraseMix   float64 // share of coverage taken from the best single statement
	weakG       float64 // informativeness of question words (时间, 哪里)
	longDamp    bool    // in questions of many concepts, unknown ones weigh less
	futureF     float64 // factor for a coming year the content does not name
}

var tune = tuning{unknownDamp: 0.8, singleW: 0.5, covMix: 0.8, sep: 0.5, maxLead: 0.2, phraseMix: 0.2, weakG: 0.5, longDamp: true, futureF: 0.4}

// alt is one form of a concept, as index terms.
type alt struct {
	text   string
	terms  []int32 // distinct bigram ids; -1 for a bigram the index lacks
	credit float64
	via    string // "", "synonym", "pinyin"
}

// query is a question analysed against the current index.
type query struct {
	an        Analysis
	concepts  []concept
	years     []int // years asked about (今年, 去年, 2025)
	latest    bool  // 最新, 最近
	docIntent bool  // asks for a notice itself (通知, 文件, 原文)
	qterms    map[int32]bool
}

var (
	yearNumRe = regexp.MustCompile(`(19|20)\d\d`)
	relYears  = map[string]int{"今年": 0, "本年度": 0, "去年": -1, "上一年": -1, "前年": -2, "明年": 1}
	latestRe  = regexp.MustCompile(`最新|最近|近期|新出的|刚出的`)
	// docIntentRe: the asker wants the document itself, not an answer.
	docIntentRe = regexp.MustCompile(`(那个|那篇|这个|这篇)?(通知|文件|原文|全文|文章|公告|通告|红头文件)(原文|全文)?`)
)

// Analyze says what the text names on its own: normalised form, meaningful
// tokens, regions, grades and the role its writer states.
func (e *Engine) Analyze(text string) Analysis {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.analyzeLocked(text, time.Time{}).an
}

// analyzeLocked builds the query; the caller holds mu for reading.
func (e *Engine) analyzeLocked(text string, now time.Time) *query {
	q := &query{qterms: map[int32]bool{}}
	norm := e.norm.Normalize(text)
	q.an.Normalized = norm
	q.an.Role = roleIn(norm)
	q.an.Grades = gradesIn(norm)
	body := stripFiller(norm)
	q.an.Regions, body = e.regions.find(body)

	for w, d := range relYears {
		if strings.Contains(body, w) {
			if !now.IsZero() {
				q.years = append(q.years, now.Year()+d)
			}
			body = strings.ReplaceAll(body, w, " ")
		}
	}
	for _, m := range yearNumRe.FindAllString(body, -1) {
		if y, err := strconv.Atoi(m); err == nil {
			q.years = append(q.years, y)
		}
	}
	if docIntentRe.MatchString(body) {
		q.docIntent = true
		body = docIntentRe.ReplaceAllString(body, " ")
	}
	if latestRe.MatchString(body) {
		q.latest = true
		body = latestRe.ReplaceAllString(body, " ")
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
	seen := map[string]bool{}
	for _, t := range toks {
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
	q.an.Empty = len(q.concepts) == 0 && len(q.an.Regions) == 0 && len(q.an.Grades) == 0 && len(q.years) == 0 && !q.latest
	return q
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
		c.word = t + "→" + w
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
			c.alts = append(c.alts, e.altOf(s, creditSynonym, "synonym"))
		}
	}
	if len(c.alts) == 0 {
		return c, false // a lone character with no synonyms says too little
	}
	// Homophones for the bigrams the index lacks: pinyin typing mistakes.
	base := c.alts[0]
	if !single && base.via == "" {
		rs := []rune(t)
		for i := 0; i+1 < len(rs); i++ {
			bg := string(rs[i : i+2])
			if id := e.ix.termID(bg, false); id >= 0 && e.ix.df[id] > 0 {
				continue
			}
			tried := 0
			for _, id := range e.ix.pinyin.sounds(bg) {
				if e.ix.df[id] == 0 || tried >= 3 {
					continue
				}
				tried++
				fixed := string(rs[:i]) + e.ix.terms[id] + string(rs[i+2:])
				if !e.known(fixed) && !e.known(e.ix.terms[id]) {
					continue // a homophone that is no word: 反校 → 范校
				}
				c.alts = append(c.alts, e.altOf(fixed, creditPinyin, "pinyin"))
				for _, s := range e.syn[fixed] {
					c.alts = append(c.alts, e.altOf(s, creditPinyin*creditSynonym, "pinyin+synonym"))
				}
			}
		}
	}
	return c, true
}

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

// scratch holds per-query arrays sized to the index, reused across queries.
type scratch struct {
	cnt     []uint8   // per document×field: bigrams of the current form found
	tf      []uint8   // per document×field: smallest count among them
	best    []float32 // per document×field: best match of the current concept
	bestTF  []uint8
	touched []int32
	bestT   []int32
	docBM   []float64 // per document: BM25F so far
	docCov  []float64 // per document: weighted coverage so far
	docs    []int32   // documents with a score
	chit    []float64 // per document: best quality of the current concept
	cbm     []float64 // per document: BM25F part of the current concept
	cdocs   []int32
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

func (s *scratch) size(docs int) {
	n := docs * int(numFields)
	if len(s.cnt) < n {
		s.cnt = make([]uint8, n)
		s.tf = make([]uint8, n)
		s.best = make([]float32, n)
		s.bestTF = make([]uint8, n)
	}
	if len(s.docBM) < docs {
		s.docBM = make([]float64, docs)
		s.docCov = make([]float64, docs)
		s.chit = make([]float64, docs)
		s.cbm = make([]float64, docs)
	}
}

// docHit is what a document scored.
type docHit struct {
	num   int32
	bm25  float64
	cov   float64 // weighted share of the question's concepts it holds
	rc    float64 // share of its own statement the question covers
	pc    float64 // coverage by its best single statement (question, alternate, title)
	conf  float64
	base  float64 // conf before the lead bonus: compared for choices
	stage float64
	notes []string
}

// conceptHit is one concept's match in one document.
type conceptHit struct {
	num  int32
	q    float64 // best field quality × match
	bm25 float64 // BM25F part before idf
}

// Match answers a query: a keyword rule, a FAQ or notice, a short list of
// choices, or a fallback.
func (e *Engine) Match(ctx context.Context, q Query) Result {
	now := q.Now
	if now.IsZero() {
		now = e.opts.Now()
	}
	e.mu.RLock()
	res := e.matchLocked(q, now)
	e.mu.RUnlock()
	if e.log.Enabled(ctx, slog.LevelDebug) && res.Explain != nil {
		e.log.DebugContext(ctx, "match explained", "decision", res.Decision.String(), "best", res.Best.ID,
			"tokens", res.Explain.Tokens, "expansions", res.Explain.Expansions, "candidates", fmtCands(res.Explain.Candidates), "notes", res.Explain.Notes)
	}
	if !q.Explain {
		res.Explain = nil
	}
	return res
}

func fmtCands(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %.3f (%.2f)", c.ID, c.Confidence, c.Score))
	}
	return out
}

// String names a decision.
func (d Decision) String() string {
	switch d {
	case Answer:
		return "answer"
	case Choices:
		return "choices"
	default:
		return "fallback"
	}
}

func (e *Engine) matchLocked(in Query, now time.Time) Result {
	q := e.analyzeLocked(in.Text, now)
	res := Result{Analysis: q.an}
	wantExplain := in.Explain || e.log.Enabled(context.Background(), slog.LevelDebug)
	var ex *Explain
	if wantExplain {
		ex = &Explain{Tokens: q.an.Tokens}
		for _, c := range q.concepts {
			for _, a := range c.alts[1:] {
				ex.Expansions = append(ex.Expansions, fmt.Sprintf("%s→%s (%s)", c.word, a.text, a.via))
			}
			if c.alts[0].via != "" {
				ex.Expansions = append(ex.Expansions, fmt.Sprintf("%s→%s (%s)", c.word, c.alts[0].text, c.alts[0].via))
			}
		}
		res.Explain = ex
	}

	if r := e.matchRule(q.an.Normalized); r != nil {
		res.Decision = Answer
		res.Best = Candidate{Kind: KindRule, ID: r.ID, Title: r.ID, Score: 1, Confidence: 1}
		res.Top = []Candidate{res.Best}
		if ex != nil {
			ex.Candidates = res.Top
			ex.Notes = append(ex.Notes, "keyword rule")
		}
		return res
	}
	if len(q.concepts) == 0 {
		if ex != nil {
			ex.Notes = append(ex.Notes, "nothing meaningful to match")
		}
		return res
	}
	hits := e.score(q, in, now)
	for _, h := range hits {
		d := e.ix.docs[h.num]
		res.Top = append(res.Top, Candidate{Kind: d.kind, ID: d.id, Title: d.title, Score: round3(h.bm25), Confidence: round3(h.conf)})
		if len(res.Top) == 10 {
			break
		}
	}
	if ex != nil {
		n := min(len(res.Top), 8)
		ex.Candidates = res.Top[:n]
		var ws []string
		for _, c := range q.concepts {
			ws = append(ws, fmt.Sprintf("%s=%.2f", c.word, c.weight))
		}
		ex.Notes = append(ex.Notes, "weights "+strings.Join(ws, " "))
		for _, h := range hits[:min(len(hits), 5)] {
			ex.Notes = append(ex.Notes, fmt.Sprintf("%s: coverage %.2f, reverse %.2f %s", e.ix.docs[h.num].id, h.cov, h.rc, strings.Join(h.notes, "; ")))
		}
	}
	if len(hits) == 0 || hits[0].conf < e.opts.Threshold {
		return res
	}
	top := hits[0]
	choices := []docHit{top}
	for _, h := range hits[1:] {
		if h.conf < e.opts.Threshold || top.base-h.base > e.opts.ChoiceMargin {
			break
		}
		same := false
		for _, c := range choices {
			if e.sameAnswer(c.num, h.num) {
				same = true
				break
			}
		}
		if !same {
			choices = append(choices, h)
		}
		if len(choices) == 5 {
			break
		}
	}
	res.Best = res.Top[0]
	if len(choices) == 1 {
		res.Decision = Answer
		return res
	}
	res.Decision = Choices
	for _, h := range choices {
		d := e.ix.docs[h.num]
		res.Choices = append(res.Choices, Candidate{Kind: d.kind, ID: d.id, Title: d.title, Score: round3(h.bm25), Confidence: round3(h.conf)})
	}
	return res
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// matchRule applies the keyword rules the way the platform's auto-reply
// does: exact (the whole message, spaces and punctuation aside) or contains.
func (e *Engine) matchRule(norm string) *content.Rule {
	compact := strings.ReplaceAll(norm, " ", "")
	if compact == "" {
		return nil
	}
	stripped := strings.ReplaceAll(stripFiller(norm), " ", "")
	for _, k := range e.ruleKeys {
		if k.exact {
			if compact == k.key || stripped == k.key {
				return k.rule
			}
		} else if strings.Contains(compact, k.key) {
			return k.rule
		}
	}
	return nil
}

// sameAnswer reports whether two documents give the same answer: a FAQ and
// the notice it points to, or two editions of the same yearly notice.
func (e *Engine) sameAnswer(a, b int32) bool {
	da, db := e.ix.docs[a], e.ix.docs[b]
	if da.id == db.id || slices.Contains(da.notices, db.id) || slices.Contains(db.notices, da.id) {
		return true
	}
	if da.kind == KindNotice && db.kind == KindNotice && len(da.phrases) > 0 && len(db.phrases) > 0 {
		return jaccard(da.phrases[0], db.phrases[0]) >= 0.6
	}
	return false
}

func jaccard(a, b []int32) float64 {
	inter := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			inter++
		}
	}
	u := len(a) + len(b) - inter
	if u == 0 {
		return 0
	}
	return float64(inter) / float64(u)
}

// Posting lists longer than this are skipped for terms in more than a
// fifth of the documents: such terms say little and would cost the most.
const commonPostings = 20000

// score ranks the documents for the query: fielded BM25 and concept coverage
// over the index, then the full ranking of the best stage1 with reverse
// coverage, region, grade, audience and date.
func (e *Engine) score(q *query, in Query, now time.Time) []docHit {
	ix := e.ix
	n := ix.live
	if n == 0 {
		return nil
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.size(len(ix.docs))
	sc.docs = sc.docs[:0]
	var avg [numFields]float64
	for f := field(0); f < numFields; f++ {
		avg[f] = ix.avgLen(f)
	}
	// Very common bigrams are not worth reading in long fields: their idf
	// is near zero and their postings are the longest.
	longCap := int32(max(50, min(n/8, 4000)))
	anyDead := ix.dead > 0

	var totalW float64
	for ci := range q.concepts {
		c := &q.concepts[ci]
		sc.bestT = sc.bestT[:0]
		skipped := false
		for _, a := range c.alts {
			k := len(a.terms)
			if k == 0 {
				continue
			}
			sc.touched = sc.touched[:0]
			for _, t := range a.terms {
				if t < 0 {
					continue
				}
				lists := [2][]posting{ix.postings[t], ix.long[t]}
				if ix.df[t] > longCap {
					lists[1] = nil
				}
				if len(lists[0]) > commonPostings && int(ix.df[t]) > n/5 {
					skipped = true
					continue
				}
				for _, ps := range lists {
					for _, p := range ps {
						if anyDead && !ix.docs[p.doc].alive {
							continue
						}
						key := p.doc*int32(numFields) + int32(p.field)
						if sc.cnt[key] == 0 {
							sc.touched = append(sc.touched, key)
							sc.tf[key] = p.tf
						} else if p.tf < sc.tf[key] {
							sc.tf[key] = p.tf
						}
						sc.cnt[key]++
					}
				}
			}
			for _, key := range sc.touched {
				frac := float64(sc.cnt[key]) / float64(k)
				tf := sc.tf[key]
				sc.cnt[key] = 0
				if frac < 0.5 {
					continue
				}
				m := float32(a.credit * frac * frac)
				if sc.best[key] == 0 {
					sc.bestT = append(sc.bestT, key)
				}
				if m > sc.best[key] {
					sc.best[key] = m
					sc.bestTF[key] = tf
				}
			}
		}
		if skipped && len(sc.bestT) == 0 {
			// A word in a large share of everything: it cannot tell
			// documents apart, so it neither helps nor counts against.
			c.weight = 0
			continue
		}
		// Fold the fields of each document into one hit for this concept.
		sc.cdocs = sc.cdocs[:0]
		for _, key := range sc.bestT {
			num := key / int32(numFields)
			f := field(key % int32(numFields))
			m := float64(sc.best[key])
			tf := float64(sc.bestTF[key])
			sc.best[key] = 0
			norm := 1 - bm25B + bm25B*float64(ix.flen[num][f])/avg[f]
			part := fieldWeight[f] * m * tf * (bm25K1 + 1) / (tf + bm25K1*norm)
			if sc.chit[num] == 0 && sc.cbm[num] == 0 {
				sc.cdocs = append(sc.cdocs, num)
			}
			sc.cbm[num] += part
			if qv := fieldQuality[f] * m; qv > sc.chit[num] {
				sc.chit[num] = qv
			}
		}
		df := 0
		for _, num := range sc.cdocs {
			if sc.chit[num] >= 0.5 {
				df++
			}
		}
		w := c.g * idf(df, n)
		if df == 0 {
			w *= tune.unknownDamp
			if k := len(q.concepts); tune.longDamp && k > 4 {
				// A long message carries context the content need not hold.
				w *= 4 / float64(k)
			}
		}
		if utf8.RuneCountInString(c.word) == 1 {
			w *= tune.singleW
		}
		c.weight = w
		totalW += w
		for _, num := range sc.cdocs {
			if sc.docCov[num] == 0 && sc.docBM[num] == 0 {
				sc.docs = append(sc.docs, num)
			}
			sc.docBM[num] += w * sc.cbm[num]
			sc.docCov[num] += w * sc.chit[num]
			sc.chit[num], sc.cbm[num] = 0, 0
		}
	}
	defer func() {
		for _, num := range sc.docs {
			sc.docBM[num], sc.docCov[num] = 0, 0
		}
	}()
	if totalW == 0 || len(sc.docs) == 0 {
		return nil
	}
	maxBM, maxCov := 0.0, 0.0
	for _, num := range sc.docs {
		maxBM = math.Max(maxBM, sc.docBM[num])
		maxCov = math.Max(maxCov, sc.docCov[num])
	}
	// A document with less than half the best coverage cannot reach the
	// first places; skipping it keeps stage 1 short on large sets.
	minCov := maxCov * 0.5
	// Stage 1: coverage with a little BM25F, region applied; keep the best.
	top := make([]docHit, 0, stage1+1)
	plan := e.regions.plan(q.an.Regions, in.Region)
	// factor+1 by region number and whether the wanted region is mentioned;
	// 0 = not worked out yet.
	rfs := make([]float64, 2*len(ix.regions)+2)
	wantNum := int32(-2)
	if plan.want != "" {
		if n, ok := ix.regionNo[plan.want]; ok {
			wantNum = n
		}
	}
	for _, num := range sc.docs {
		if sc.docCov[num] < minCov {
			continue
		}
		dm := ix.dmention[num]
		mentioned := plan.want != "" && (dm == wantNum || dm == -1 && slices.Contains(ix.docs[num].mentions, plan.want))
		k := 2 * int(ix.dregion[num])
		if mentioned {
			k++
		}
		if rfs[k] == 0 {
			rf, _ := e.regions.regionFactor(plan, ix.regions[ix.dregion[num]], mentioned)
			rfs[k] = rf + 1
		}
		rf := rfs[k] - 1
		if rf == 0 {
			continue
		}
		h := docHit{num: num, bm25: sc.docBM[num], cov: sc.docCov[num] / totalW}
		h.stage = (h.cov + 0.15*h.bm25/maxBM) * rf
		if len(top) == stage1 && !better(h, top[len(top)-1]) {
			continue
		}
		i := sort.Search(len(top), func(i int) bool { return better(h, top[i]) })
		top = slices.Insert(top, i, h)
		if len(top) > stage1 {
			top = top[:stage1]
		}
	}
	if len(top) == 0 {
		return nil
	}
	for i := range top {
		h := &top[i]
		d := ix.docs[h.num]
		h.rc = e.reverseCoverage(d, q, n)
		h.pc = phraseCoverage(d, q, totalW)
		h.cov = tune.phraseMix*h.pc + (1-tune.phraseMix)*h.cov
		f, notes := e.factors(d, q, in, now, h.rc >= 0.75 || (q.docIntent && h.cov >= 0.85))
		h.notes = notes
		h.conf = math.Min(1, combine(h.cov, h.rc)*f)
	}
	sort.SliceStable(top, func(i, j int) bool { return top[i].conf > top[j].conf })
	for i := range top {
		top[i].base = top[i].conf
	}
	// A clear lead over the runner-up makes the best more likely right.
	lead := top[0].conf
	if len(top) > 1 {
		lead -= top[1].conf
	}
	top[0].conf = math.Min(1, top[0].conf+tune.sep*math.Min(lead, tune.maxLead))
	return top
}

// better orders stage-1 hits: higher score first, then older index entries.
func better(a, b docHit) bool {
	if a.stage != b.stage {
		return a.stage > b.stage
	}
	return a.num < b.num
}

// phraseCoverage is the weighted share of the question's concepts that one
// statement of the document (its question, an alternate, its title) holds
// on its own, best statement counted: concepts scattered over several
// alternates say less than one alternate that holds them all.
func phraseCoverage(d *doc, q *query, totalW float64) float64 {
	if totalW == 0 {
		return 0
	}
	best := 0.0
	for _, p := range d.phrases {
		sum := 0.0
		for _, c := range q.concepts {
			if c.weight == 0 {
				continue
			}
			m := 0.0
			for _, a := range c.alts {
				if len(a.terms) == 0 {
					continue
				}
				found := 0
				for _, t := range a.terms {
					if t >= 0 && slices.Contains(p, t) {
						found++
					}
				}
				frac := float64(found) / float64(len(a.terms))
				if frac >= 0.5 {
					m = math.Max(m, a.credit*frac*frac)
				}
			}
			sum += c.weight * m
		}
		best = math.Max(best, sum/totalW)
	}
	return best
}

// reverseCoverage is the idf-weighted share of the document's own statement
// (its question, an alternate, its title) that the question covers: a
// question that names one word of a long title matches it less than one
// that says the same thing.
func (e *Engine) reverseCoverage(d *doc, q *query, n int) float64 {
	best := 0.0
	for _, p := range d.phrases {
		var num, den float64
		for _, t := range p {
			w := idf(int(e.ix.df[t]), n)
			den += w
			if q.qterms[t] {
				num += w
			}
		}
		if den > 0 && num/den > best {
			best = num / den
		}
	}
	return best
}

// factors scales a document's score by region, grade, audience and date.
func (e *Engine) factors(d *doc, q *query, in Query, now time.Time, byName bool) (float64, []string) {
	var notes []string
	p := e.regions.plan(q.an.Regions, in.Region)
	f, why := e.regions.regionFactor(p, d.region, p.want != "" && slices.Contains(d.mentions, p.want))
	if why != "" {
		notes = append(notes, why)
	}
	if len(d.grades) > 0 {
		switch {
		case len(q.an.Grades) > 0 && !overlaps(q.an.Grades, d.grades):
			f *= 0.55
			notes = append(notes, "other grade")
		case len(q.an.Grades) == 0 && in.Grade != "" && !slices.Contains(d.grades, in.Grade):
			f *= 0.9
			notes = append(notes, "other grade than the profile's")
		}
	}
	role := q.an.Role
	if role == "" {
		role = in.Role
	}
	if role != "" && len(d.audience) > 0 && !slices.Contains(d.audience, role) {
		f *= 0.9
		notes = append(notes, "other audience")
	}
	if q.docIntent && d.kind == KindFAQ {
		f *= 0.9
		notes = append(notes, "a document was asked for")
	}
	if len(q.years) > 0 {
		future := slices.ContainsFunc(q.years, func(y int) bool { return y > now.Year() })
		switch {
		case overlapsInt(q.years, d.years):
			f *= 1.03
			notes = append(notes, "year asked")
		case future:
			// Content that does not name a coming year cannot speak for it.
			f *= tune.futureF
			notes = append(notes, "a coming year it does not name")
		case len(d.years) > 0:
			f *= 0.8
			notes = append(notes, "other year")
		}
	}
	if d.kind == KindNotice {
		age := now.Sub(d.date).Hours() / 24 / 365
		if age < 0 {
			age = 0
		}
		bonus := 0.03
		if q.latest {
			bonus = 0.1
		}
		f *= 1 + bonus*math.Exp(-age)
		if !d.expires.IsZero() && now.After(d.expires.AddDate(0, 0, 1)) && !byName && len(q.years) == 0 {
			f *= 0.6
			notes = append(notes, "expired")
		}
	}
	return f, notes
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func overlapsInt(a, b []int) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// combine turns coverage (how much of the question the document holds) and
// reverse coverage (how much of the document's own statement the question
// holds) into one confidence.
func combine(cov, rc float64) float64 {
	return tune.covMix*cov + (1-tune.covMix)*rc
}
