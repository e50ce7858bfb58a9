package search

// Ranking: fielded BM25 and concept coverage over the index, then a full
// ranking of the best candidates into a calibrated confidence.

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// BM25 parameters.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// stage1 is how many candidates get the full (more expensive) ranking.
const stage1 = 40

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
	minRC       float64 // below this reverse coverage, confidence shrinks
	otherYearF  float64 // factor for content about another year than asked
	// unspokenYearF: factor for every candidate when the year the question
	// names is one none of them names or was published in.
	unspokenYearF float64
	otherSchoolF  float64 // factor for a document that does not name the school asked about
	gradeW        float64 // weight of a grade named in the question
	begunTermF    float64 // a term's start asked, for a term that began long ago
	laterTermF    float64 // a term's start asked, for a term after the next one
	overPeriodF   float64 // an item whose period is over
	recentF       float64 // 这周的通知: a notice of that time
	contextW      float64 // weight of a concept said around the question
	dateF         float64 // an item naming the day or month the question names
}

var tune = tuning{unknownDamp: 0.8, singleW: 0.5, covMix: 0.8, sep: 0.5, maxLead: 0.2, phraseMix: 0.2, weakG: 0.5, longDamp: true, futureF: 0.4, minRC: 0.2, otherYearF: 0.5, unspokenYearF: 0.35, otherSchoolF: 0.5, gradeW: 0.6, begunTermF: 0.88, laterTermF: 0.8, overPeriodF: 0.85, recentF: 1.1, contextW: 0.3, dateF: 1.08}

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
						doc := p.doc()
						if anyDead && !ix.docs[doc].alive {
							continue
						}
						key := doc*int32(numFields) + int32(p.field())
						if sc.cnt[key] == 0 {
							sc.touched = append(sc.touched, key)
							sc.tf[key] = p.tf()
						} else if tf := p.tf(); tf < sc.tf[key] {
							sc.tf[key] = tf
						}
						sc.cnt[key]++
					}
				}
			}
			for _, key := range sc.touched {
				frac := float64(sc.cnt[key]) / float64(k)
				tf := sc.tf[key]
				sc.cnt[key] = 0
				if frac < 0.5 || (a.whole && frac < 1) {
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
		if c.context {
			w *= tune.contextW
		}
		if slices.Contains(gradeNames, c.word) {
			// A grade is mostly who asks, and the grade factor already
			// keeps other grades' answers away: it should not outweigh
			// what is asked (高二 学考 报名 asks the sign-up, not the
			// grade's subjects).
			w *= tune.gradeW
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
	plan := e.planFor(q, in)
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
		if q.exams|exam(q.levels) != 0 {
			if d := ix.docs[num]; d.exams|exam(d.levels) != 0 {
				if no, _ := contradicts(q.exams, q.levels, d.exams, d.levels); no {
					continue
				}
			}
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
		rc := h.rc
		if q.docIntent && d.kind == KindNotice {
			// A document asked for by description: what counts is how much
			// of the description it holds, not how much of its long title
			// the description repeats.
			rc = math.Max(rc, h.cov)
		}
		// Not capped yet: a newer edition must still outrank an older one
		// when both match fully.
		h.conf = combine(h.cov, rc) * f
		if rc < tune.minRC {
			// The question says almost nothing of what the document is
			// about: the words they share are more likely chance.
			h.conf *= math.Sqrt(rc / tune.minRC)
		}
	}
	e.applyPeriods(top, q, now)
	if len(q.namedYears) > 0 && !slices.ContainsFunc(top, func(h docHit) bool {
		return overlapsInt(q.namedYears, ix.docs[h.num].years)
	}) {
		// The question names a year none of the candidates speaks of or
		// was published in: whatever they say is about another year.
		for i := range top {
			top[i].conf *= tune.unspokenYearF
			top[i].notes = append(top[i].notes, "a year no candidate speaks of")
		}
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
	top[0].conf += tune.sep * math.Min(lead, tune.maxLead)
	for i := range top {
		top[i].conf = math.Min(1, top[i].conf)
	}
	return top
}

// planFor is the question's region plan, worked out once per query.
func (e *Engine) planFor(q *query, in Query) regionPlan {
	if q.plan == nil {
		p := e.regions.plan(q.asked, in.Region)
		if q.elsewhere != "" && !p.stated && !p.outside {
			// The message names a place of its own: the profile's
			// region does not apply.
			p = regionPlan{elsewhere: true}
		}
		q.plan = &p
	}
	return *q.plan
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
				if frac >= 0.5 && (!a.whole || frac == 1) {
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
	p := e.planFor(q, in)
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
	if len(q.schools) > 0 && !namesAll(d, q.schools) {
		// The question is about a school this document does not name.
		f *= tune.otherSchoolF
		notes = append(notes, "does not name the school asked about")
	}
	if len(q.dates) > 0 && namesDate(d, q) {
		f *= tune.dateF
		notes = append(notes, "names the day or month asked")
	}
	if q.docIntent && d.kind == KindFAQ {
		f *= 0.8
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
			// It speaks of another year than the one asked about.
			f *= tune.otherYearF
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
		if q.recentDays > 0 {
			if now.Sub(d.date) <= time.Duration(q.recentDays)*24*time.Hour && !d.date.After(now) {
				f *= tune.recentF
				notes = append(notes, "published in the time asked")
			} else {
				f /= tune.recentF
			}
		}
		if !d.expires.IsZero() && now.After(d.expires.AddDate(0, 0, 1)) && !byName && len(q.years) == 0 {
			f *= 0.6
			notes = append(notes, "expired")
		}
	}
	return f, notes
}

// namesDate reports whether a document names the most specific date the
// question gives: with the year when the question has one (今年1月 is
// 2026年1月, not the 1月 of 2027), else the day or month alone.
func namesDate(d *doc, q *query) bool {
	for _, dt := range q.dates {
		if strings.Contains(dt, "年") {
			continue
		}
		key := dt
		if len(q.years) == 1 {
			key = strconv.Itoa(q.years[0]) + "年" + dt
		}
		if slices.Contains(d.dates, key) {
			return true
		}
	}
	return false
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
