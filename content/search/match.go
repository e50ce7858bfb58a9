package search

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content"
)

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
	case Suggest:
		return "suggest"
	default:
		return "fallback"
	}
}

func (e *Engine) matchLocked(in Query, now time.Time) Result {
	q := e.prepared(in, now)
	res := Result{Analysis: q.an}
	wantExplain := in.Explain || e.log.Enabled(context.Background(), slog.LevelDebug)
	var ex *Explain
	if wantExplain {
		ex = &Explain{Tokens: q.an.Tokens}
		for _, s := range q.spoken {
			ex.Expansions = append(ex.Expansions, s+" (spoken)")
		}
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

	if r := e.matchRule(q.an.Normalized, q.an.Scope == AboutBot); r != nil {
		res.Decision = Answer
		res.Best = Candidate{Kind: KindRule, ID: r.ID, Title: r.ID, Score: 1, Confidence: 1}
		res.Top = []Candidate{res.Best}
		if ex != nil {
			ex.Candidates = res.Top
			ex.Notes = append(ex.Notes, "keyword rule")
		}
		return res
	}
	if q.an.Scope != InScope {
		// Not a question for this content: a kind fallback, never the
		// FAQ that happens to share a word.
		if ex != nil {
			ex.Notes = append(ex.Notes, fmt.Sprintf("out of scope (%d)", q.an.Scope))
		}
		return res
	}
	if len(q.concepts) == 0 {
		if q.latest && q.docIntent {
			// "最新通知": nothing to match, but a clear request for the
			// newest notice (of the asker's region, not expired).
			if num, ok := e.newestNotice(q, in, now); ok {
				d := e.ix.docs[num]
				res.Decision = Answer
				res.Best = Candidate{Kind: d.kind, ID: d.id, Title: d.title, Confidence: e.opts.Threshold}
				res.Top = []Candidate{res.Best}
				if ex != nil {
					ex.Candidates = res.Top
					ex.Notes = append(ex.Notes, "newest notice asked for")
				}
				return res
			}
		}
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
	if len(hits) == 0 || hits[0].conf < e.opts.SuggestFloor {
		return res
	}
	if hits[0].conf < e.opts.Threshold || hits[0].cov < minAnswerCov {
		// Below the threshold, or holding too little of what was asked
		// to be sure however alone it stands: a did-you-mean list.
		res.Choices = e.suggestions(hits)
		if len(res.Choices) > 0 {
			res.Decision = Suggest
		}
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
	if w, ok := e.cityWideOfVariants(q, in, choices, hits); ok {
		// The choices are one topic told per region, and the question
		// names no region: the city-wide answer is the answer.
		choices = []docHit{w}
		d := e.ix.docs[w.num]
		res.Best = Candidate{Kind: d.kind, ID: d.id, Title: d.title, Score: round3(w.bm25), Confidence: round3(w.conf)}
		if ex != nil {
			ex.Notes = append(ex.Notes, "regional variants of one topic, no region asked: the city-wide answer")
		}
	}
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

// minAnswerCov is the least share of the question (by weight) a direct
// answer must hold; the lead bonus must not make a lone candidate that
// holds half of it an answer.
var minAnswerCov = 0.6

// Did-you-mean lists: at most suggestMax candidates, each with at least
// suggestShare of the best one's confidence (before its lead bonus).
const (
	suggestMax   = 3
	suggestShare = 0.5
)

// suggestions picks the did-you-mean candidates from hits ranked below the
// confident threshold: the best, and the next ones that are not the same
// answer and not far below it. A candidate that contradicts the question
// (another exam, level or place) was scored zero and is never among hits.
func (e *Engine) suggestions(hits []docHit) []Candidate {
	var picked []docHit
	for _, h := range hits {
		if h.conf <= 0 || (len(picked) > 0 && (h.base < suggestShare*hits[0].base || h.conf < suggestShare*e.opts.SuggestFloor)) {
			continue
		}
		if slices.ContainsFunc(picked, func(p docHit) bool { return e.sameAnswer(p.num, h.num) }) {
			continue
		}
		picked = append(picked, h)
		if len(picked) == suggestMax {
			break
		}
	}
	out := make([]Candidate, 0, len(picked))
	for _, h := range picked {
		d := e.ix.docs[h.num]
		out = append(out, Candidate{Kind: d.kind, ID: d.id, Title: d.title, Score: round3(h.bm25), Confidence: round3(h.conf)})
	}
	return out
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// matchRule applies the keyword rules the way the platform's auto-reply
// does: exact (the whole message, spaces and punctuation aside) or contains.
// Unlike the platform's, a contains rule fires only on its keyword as a word
// or run of words of the message: 人工 does not fire inside 人工智能, which
// is a question, not a request for a person.
// A message about the bot itself (你们是真人吗) is not a keyword's request
// (真人客服): with aboutBot only exact rules apply.
func (e *Engine) matchRule(norm string, aboutBot bool) *content.Rule {
	compact := strings.ReplaceAll(norm, " ", "")
	if compact == "" {
		return nil
	}
	stripped := strings.ReplaceAll(stripFiller(norm), " ", "")
	var words []span // segmented lazily: most messages hit no keyword
	for _, k := range e.ruleKeys {
		if k.exact {
			if compact == k.key || stripped == k.key {
				return k.rule
			}
			continue
		}
		if aboutBot || !strings.Contains(compact, k.key) {
			continue
		}
		if words == nil {
			words = e.wordSpans(norm)
		}
		if e.containsWords(compact, k.key, words) {
			return k.rule
		}
	}
	return nil
}

// span is one segmented word of a message, as byte offsets into the
// message without spaces.
type span struct{ from, to int }

// wordSpans segments the message (dictionary words only: a guess from
// characters would hide the keyword) into spans of the message without
// spaces.
func (e *Engine) wordSpans(norm string) []span {
	var out []span
	off := 0
	for _, chunk := range strings.Fields(norm) {
		pos := 0
		for _, t := range e.seg.Cut(chunk, false) {
			i := strings.Index(chunk[pos:], t)
			if t == "" || i < 0 {
				continue // the segmenter changed the text: keep what is known
			}
			out = append(out, span{off + pos + i, off + pos + i + len(t)})
			pos += i + len(t)
		}
		off += len(chunk)
	}
	return out
}

// keywordReading is how much less likely (natural log) a reading of the
// message that has the keyword as a word may be than the segmenter's best
// for the keyword still to count: 有人|工吗 may well be 有|人工|吗, but
// 人工智能 is not 人工|智能.
const keywordReading = 3.0

// containsWords reports whether key occurs in s as a word or run of words:
// starting and ending where the segmenter's words do, or in a reading of
// the words around it almost as likely as the segmenter's (single
// characters are easily misplaced).
func (e *Engine) containsWords(s, key string, words []span) bool {
	for from := 0; from <= len(s)-len(key); {
		i := strings.Index(s[from:], key)
		if i < 0 {
			return false
		}
		a, b := from+i, from+i+len(key)
		// The words the occurrence touches, and the stretch they cover.
		lo, hi := -1, -1
		for j, w := range words {
			if w.to > a && w.from < b {
				if lo < 0 {
					lo = j
				}
				hi = j
			}
		}
		if lo < 0 || (words[lo].from == a && words[hi].to == b) {
			return true
		}
		best := 0.0
		for _, w := range words[lo : hi+1] {
			best += e.wordCost(s[w.from:w.to])
		}
		forced := e.readingCost(s[words[lo].from:a]) + e.readingCost(key) + e.readingCost(s[b:words[hi].to])
		if forced-best <= keywordReading {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[a:])
		from = a + size
	}
	return false
}

// readingCost is the cost (negative log probability) of the segmenter's
// best reading of s.
func (e *Engine) readingCost(s string) float64 {
	if s == "" {
		return 0
	}
	c := 0.0
	for _, t := range e.seg.Cut(s, false) {
		c += e.wordCost(t)
	}
	return c
}

// wordCost is a word's cost: negative log of its share of the dictionary's
// frequencies (a word it lacks counts as seen once).
func (e *Engine) wordCost(w string) float64 {
	f, _, ok := e.seg.Find(w)
	if !ok || f < 1 {
		f = 1
	}
	return math.Log(e.seg.Dict.TotalFreq() / f)
}

// cityWideOfVariants decides between close choices when the question (and
// the profile) names no region and the content tells the topic region by
// region: when a choice that covers the whole area (the bureau's own
// region, or none) has a county's version of it among the close candidates,
// that choice is the answer — the question names no region, so the
// city-wide version is what it asks. A county's answer to another topic
// ranked above it keeps the list, and choices of topics with no regional
// versions stay a list too.
func (e *Engine) cityWideOfVariants(q *query, in Query, choices, hits []docHit) (docHit, bool) {
	if len(choices) < 2 {
		return docHit{}, false
	}
	if p := e.planFor(q, in); p.want != "" || p.outside {
		return docHit{}, false
	}
	var counties []*doc // close candidates of one county
	for _, h := range hits {
		if h.conf < e.opts.Threshold || hits[0].base-h.base > variantWindow {
			break
		}
		if d := e.ix.docs[h.num]; !e.regions.wide(d.region) {
			counties = append(counties, d)
		}
	}
	for _, h := range choices {
		w := e.ix.docs[h.num]
		if !e.regions.wide(w.region) {
			if !slices.ContainsFunc(choices, func(o docHit) bool {
				d := e.ix.docs[o.num]
				return e.regions.wide(d.region) && regionalVariant(d, w)
			}) {
				return docHit{}, false // a county's own topic ranked above
			}
			continue
		}
		if slices.ContainsFunc(counties, func(d *doc) bool { return regionalVariant(w, d) }) {
			return h, true
		}
	}
	return docHit{}, false
}

// variantWindow is how far below the best a county's version of a topic may
// score and still show that the content tells the topic region by region.
const variantWindow = 0.1

// regionalVariant reports whether two documents state the same thing apart
// from the regions they name: most of the shorter of some pair of their
// statements (question, alternates, title; region names removed) is in the
// other.
func regionalVariant(a, b *doc) bool {
	for _, pa := range a.phrases {
		for _, pb := range b.phrases {
			small, large := pa, pb
			if len(small) > len(large) {
				small, large = large, small
			}
			if len(small) < 3 {
				continue // too short to tell a topic
			}
			in := 0
			for _, t := range small {
				if slices.Contains(large, t) {
					in++
				}
			}
			if float64(in) >= variantOverlap*float64(len(small)) {
				return true
			}
		}
	}
	return false
}

// variantOverlap is the share of the shorter statement the longer must hold
// for two documents to be versions of one topic.
const variantOverlap = 0.75

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

// newestNotice finds the newest live, unexpired notice that fits the
// question's region (a county's own or a city-wide one).
func (e *Engine) newestNotice(q *query, in Query, now time.Time) (int32, bool) {
	plan := e.planFor(q, in)
	best, bestF, found := int32(0), 0.0, false
	for num, d := range e.ix.docs {
		if !d.alive || d.kind != KindNotice || (!d.expires.IsZero() && now.After(d.expires.AddDate(0, 0, 1))) || d.date.After(now) {
			continue
		}
		// The county's own notices first, then city-wide ones.
		f, _ := e.regions.regionFactor(plan, d.region, slices.Contains(d.mentions, plan.want))
		if f < 0.9 {
			continue
		}
		if !found || f > bestF || (f == bestF && d.date.After(e.ix.docs[best].date)) {
			best, bestF, found = int32(num), f, true
		}
	}
	return best, found
}
