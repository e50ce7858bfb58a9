package search

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content"
)

// field is a part of a document, scored with its own weight.
type field uint8

const (
	fQuestion field = iota // FAQ question and alternates
	fTitle                 // notice title
	fKeywords              // keywords and tags
	fSummary               // notice summary
	fAnswer                // FAQ answer text
	fBody                  // notice body
	numFields
)

var fieldNames = [numFields]string{"question", "title", "keywords", "summary", "answer", "body"}

// fieldWeight is the BM25F weight of a field: the question a FAQ answers and
// a notice's title say what it is about; the body only mentions things.
var fieldWeight = [numFields]float64{3.0, 3.0, 2.0, 1.5, 1.0, 0.6}

// fieldQuality is how much a concept found only in that field counts toward
// the confidence that the document answers the question.
var fieldQuality = [numFields]float64{1.0, 1.0, 0.9, 0.75, 0.6, 0.45}

// posting says that a term occurs tf times in one field of one document,
// packed in 32 bits (document number 24, field 3, count 5): the postings are
// most of the index's memory.
type posting uint32

// maxDocs is the most document numbers postings can hold.
const maxDocs = 1 << 24

func mkPosting(doc int32, f field, tf uint8) posting {
	return posting(uint32(doc)<<8 | uint32(f)<<5 | uint32(min(tf, 31)))
}

func (p posting) doc() int32   { return int32(p >> 8) }
func (p posting) field() field { return field(p>>5) & 7 }
func (p posting) tf() uint8    { return uint8(p & 31) }
func (p posting) withDoc(d int32) posting {
	return posting(uint32(d)<<8 | uint32(p)&0xff)
}

// doc is one indexed FAQ or notice. Documents are never changed in place:
// an update marks the old one dead and appends a new one, so matching that
// holds a read lock sees a consistent index.
type doc struct {
	kind     Kind
	id       string
	title    string
	alive    bool
	region   string   // canonical region, "" if none
	grades   []string // grades named in its title, question or keywords
	exams    exam     // exams its statements or keywords name
	levels   level    // school levels its statements or keywords name
	season   season   // a term named without a year (see setPeriod)
	pfrom    int32    // first day of its period (dayNum), 0 if none
	puntil   int32    // last day of its period (dayNum), 0 if none
	audience []string
	date     time.Time // notices: publication day
	expires  time.Time
	notices  []string  // FAQs: related notices
	mentions []string  // regions its question or title names
	years    []int     // years its title, question, summary or answer names
	dates    []string  // months and days it names (datesIn), with their years
	phrases  [][]int32 // bigram term ids of the question, each alternate, the title
	// phraseText is the normalised text of phrases until the document is indexed.
	phraseText []string
	fieldLen   [numFields]uint16
	// text is the normalised fields while the document is being indexed.
	text [numFields]string
	src  any                   // *content.FAQ or *content.Notice
	pre  *[numFields][]preTerm // terms prepared by a bulk load, until indexed
}

// index is an inverted index over character bigrams (and Latin words). The
// caller holds the engine's lock.
type index struct {
	vocab    map[string]int32 // Latin words
	hanVocab *hanMap          // Han bigrams and characters, see hanKey
	terms    []string
	postings [][]posting // question, title and keywords
	long     [][]posting // summary, answer and body
	df       []int32     // live documents containing the term
	docs     []*doc
	flen     [][numFields]uint16 // field lengths by document, dense for scoring
	dregion  []int32             // region number by document (see regionNum), dense
	dmention []int32             // region number its statement names; 0 none, -1 several
	regions  []string            // region by number; 0 is ""
	regionNo map[string]int32
	byID     map[string]int32 // live document of an id
	live     int
	dead     int
	lenSum   [numFields]float64 // over live documents
	pinyin   *pinyinIndex
	// bulk defers the pinyin index to buildPinyin during a bulk load.
	bulk bool
	// isWord reports whether a term is a dictionary word: only words are
	// worth finding by their sound.
	isWord func(string) bool
	// textOf gives back a document's normalised fields (for removal).
	textOf func(*doc) [numFields]string
	// scratch for add: seenBy[term] is 1+ the document that last counted it
	seenBy []int32
	slot   []int32
	addSeq int32
	order  []int32
	tfs    [][numFields]uint8
}

func newIndex() *index {
	// Region 0 is "no region": it exists even when no item names one.
	return &index{vocab: map[string]int32{}, hanVocab: newHanMap(0), byID: map[string]int32{}, pinyin: newPinyinIndex(),
		regionNo: map[string]int32{}, regions: []string{""}}
}

// hanKey packs a Han bigram or single character into an integer key (two
// runes of 21 bits); ok is false for anything else. Integer keys hash and
// compare much faster than strings when indexing 100,000 notices.
func hanKey(t string) (uint64, bool) {
	r1, n1 := utf8.DecodeRuneInString(t)
	if r1 < 0x2E80 {
		return 0, false
	}
	if n1 == len(t) {
		return uint64(r1) << 21, true
	}
	r2, n2 := utf8.DecodeRuneInString(t[n1:])
	if r2 < 0x2E80 || n1+n2 != len(t) {
		return 0, false
	}
	return uint64(r1)<<21 | uint64(r2), true
}

// termID returns the id of a term, adding it when add is set (-1 if absent).
func (ix *index) termID(t string, add bool) int32 {
	key, _ := hanKey(t)
	return ix.termIDKey(key, t, add)
}

// termIDKey is termID with the term's hanKey (0 for a Latin word) known.
func (ix *index) termIDKey(key uint64, t string, add bool) int32 {
	han := key != 0
	if han {
		if id, ok := ix.hanVocab.get(key); ok {
			return id
		}
	} else if id, ok := ix.vocab[t]; ok {
		return id
	}
	if !add {
		return -1
	}
	t = strings.Clone(t) // terms are substrings of whole documents
	id := int32(len(ix.terms))
	if han {
		ix.hanVocab.put(key, id)
	} else {
		ix.vocab[t] = id
	}
	ix.terms = append(ix.terms, t)
	ix.postings = append(ix.postings, nil)
	ix.long = append(ix.long, nil)
	ix.df = append(ix.df, 0)
	if !ix.bulk && ix.isWord != nil && ix.isWord(t) {
		ix.pinyin.add(t, id)
	}
	return id
}

// isCJK reports whether r is a Han character.
func isCJK(r rune) bool { return unicode.Is(unicode.Han, r) }

// termsOf splits normalised text into index terms: the bigrams of every
// run of Han characters (a lone character stays a term of its own) and
// every Latin word of two or more letters. Bigrams need no dictionary, are
// fast enough for 100,000 notices, and let a word of any length be found as
// the sequence of its bigrams. Terms are substrings of norm (no copies).
func termsOf(norm string, fn func(term string)) {
	runStart, prev, runLen := -1, -1, 0 // byte offsets in the current Han run
	flush := func(end int) {
		if runLen == 1 {
			fn(norm[runStart:end])
		}
		runStart, prev, runLen = -1, -1, 0
	}
	latinStart := -1
	for i, r := range norm {
		if r >= 0x2E80 && isCJK(r) {
			if latinStart >= 0 {
				latin(norm[latinStart:i], fn)
				latinStart = -1
			}
			if runStart < 0 {
				runStart = i
			} else {
				fn(norm[prev : i+utf8.RuneLen(r)])
			}
			prev = i
			runLen++
			continue
		}
		if runStart >= 0 {
			flush(i)
		}
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') || r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if latinStart < 0 {
				latinStart = i
			}
			continue
		}
		if latinStart >= 0 {
			latin(norm[latinStart:i], fn)
			latinStart = -1
		}
	}
	if runStart >= 0 {
		flush(len(norm))
	}
	if latinStart >= 0 {
		latin(norm[latinStart:], fn)
	}
}

// latin emits a Latin word; pure numbers are left to the date logic.
func latin(w string, fn func(string)) {
	if len(w) < 2 {
		return
	}
	if strings.Trim(w, "0123456789") == "" {
		return
	}
	fn(w)
}

// longField reports whether a field's postings go to the long lists, which
// matching skips for very common terms.
func longField(f field) bool { return f == fSummary || f == fAnswer || f == fBody }

// add indexes a document whose fields are already normalised (d.text); the
// text is dropped afterwards, textOf gives it back for removal.
func (ix *index) add(d *doc) error {
	if old, ok := ix.byID[d.id]; ok {
		ix.remove(old)
	}
	if len(ix.docs) >= maxDocs && ix.dead > 0 {
		ix.compact()
	}
	if len(ix.docs) >= maxDocs {
		return fmt.Errorf("search: index full (%d documents)", maxDocs)
	}
	num := int32(len(ix.docs))
	ix.docs = append(ix.docs, d)
	d.alive = true
	ix.byID[d.id] = num
	ix.live++
	ix.setPhrases(d, d.phraseText)
	d.phraseText = nil
	ix.order = ix.order[:0]
	ix.tfs = ix.tfs[:0]
	ix.addSeq++
	stamp := ix.addSeq
	for f := field(0); f < numFields; f++ {
		n := 0
		count := func(key uint64, t string) {
			n++
			id := ix.termIDKey(key, t, true)
			if int(id) >= len(ix.seenBy) {
				ix.seenBy = append(ix.seenBy, make([]int32, int(id)+1-len(ix.seenBy)+1024)...)
				ix.slot = append(ix.slot, make([]int32, len(ix.seenBy)-len(ix.slot))...)
			}
			if ix.seenBy[id] != stamp {
				ix.seenBy[id] = stamp
				ix.slot[id] = int32(len(ix.order))
				ix.order = append(ix.order, id)
				ix.tfs = append(ix.tfs, [numFields]uint8{})
			}
			i := ix.slot[id]
			if ix.tfs[i][f] < 255 {
				ix.tfs[i][f]++
			}
		}
		if d.pre != nil {
			for _, p := range d.pre[f] {
				count(p.key, p.term)
			}
		} else {
			termsOf(d.text[f], func(t string) {
				key, _ := hanKey(t)
				count(key, t)
			})
		}
		n = min(n, 65535)
		d.fieldLen[f] = uint16(n)
		ix.lenSum[f] += float64(n)
	}
	ix.flen = append(ix.flen, d.fieldLen)
	ix.dregion = append(ix.dregion, ix.regionNum(d.region))
	ix.dmention = append(ix.dmention, ix.mentionNum(d.mentions))
	for i, id := range ix.order {
		c := &ix.tfs[i]
		for f := field(0); f < numFields; f++ {
			if c[f] == 0 {
				continue
			}
			p := mkPosting(num, f, c[f])
			if longField(f) {
				ix.long[id] = append(ix.long[id], p)
			} else {
				ix.postings[id] = append(ix.postings[id], p)
			}
		}
		ix.df[id]++
	}
	d.text = [numFields]string{}
	d.pre = nil
	return nil
}

// preTerm is a term of a document worked out before indexing.
type preTerm struct {
	key  uint64 // hanKey, 0 for a Latin word
	term string
}

// prepare splits a document's fields into terms ahead of add; it touches
// nothing shared, so bulk loads run it on every core.
func prepare(d *doc) {
	d.pre = new([numFields][]preTerm)
	for f := field(0); f < numFields; f++ {
		termsOf(d.text[f], func(t string) {
			key, _ := hanKey(t)
			d.pre[f] = append(d.pre[f], preTerm{key, t})
		})
	}
}

// remove marks a document dead and takes it out of the statistics; its
// postings stay until compact drops them.
func (ix *index) remove(num int32) {
	d := ix.docs[num]
	if !d.alive {
		return
	}
	d.alive = false
	if cur, ok := ix.byID[d.id]; ok && cur == num {
		delete(ix.byID, d.id)
	}
	ix.live--
	ix.dead++
	seen := map[int32]bool{}
	text := ix.textOf(d)
	for f := field(0); f < numFields; f++ {
		ix.lenSum[f] -= float64(d.fieldLen[f])
		termsOf(text[f], func(t string) {
			if id := ix.termID(t, false); id >= 0 && !seen[id] && ix.df[id] > 0 {
				seen[id] = true
				ix.df[id]--
			}
		})
	}
	if ix.dead > 1000 && ix.dead > ix.live/4 {
		ix.compact()
	}
}

// compact drops dead documents' postings and renumbers the documents.
func (ix *index) compact() {
	renum := make([]int32, len(ix.docs))
	var docs []*doc
	for i, d := range ix.docs {
		if d.alive {
			renum[i] = int32(len(docs))
			docs = append(docs, d)
		} else {
			renum[i] = -1
		}
	}
	for _, lists := range [][][]posting{ix.postings, ix.long} {
		for t, ps := range lists {
			out := ps[:0]
			for _, p := range ps {
				if n := renum[p.doc()]; n >= 0 {
					out = append(out, p.withDoc(n))
				}
			}
			lists[t] = out
		}
	}
	for id, n := range ix.byID {
		ix.byID[id] = renum[n]
	}
	ix.docs = docs
	ix.flen, ix.dregion, ix.dmention = ix.flen[:0], ix.dregion[:0], ix.dmention[:0]
	for _, d := range docs {
		ix.flen = append(ix.flen, d.fieldLen)
		ix.dregion = append(ix.dregion, ix.regionNum(d.region))
		ix.dmention = append(ix.dmention, ix.mentionNum(d.mentions))
	}
	ix.dead = 0
}

// mentionNum is the region number of the one region a document's statement
// names, 0 for none, -1 for several.
func (ix *index) mentionNum(m []string) int32 {
	switch len(m) {
	case 0:
		return 0
	case 1:
		return ix.regionNum(m[0])
	}
	return -1
}

// buildPinyin adds every word of the vocabulary to the pinyin index after
// a bulk load: checking words and spelling pinyin is done on all cores.
func (ix *index) buildPinyin(workers int) {
	type found struct {
		id  int32
		key string
	}
	out := make([][]found, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := newPinyinIndex()
			for id := w; id < len(ix.terms); id += workers {
				t := ix.terms[id]
				if utf8.RuneCountInString(t) != 2 || !ix.isWord(t) {
					continue
				}
				if k := local.key(t, true); k != "" {
					out[w] = append(out[w], found{int32(id), k})
				}
			}
		}()
	}
	wg.Wait()
	for _, fs := range out {
		for _, f := range fs {
			ix.pinyin.byKey[f.key] = append(ix.pinyin.byKey[f.key], f.id)
			for _, syl := range strings.Fields(f.key) {
				ix.pinyin.syllables[syl] = true
			}
		}
	}
	for _, ids := range ix.pinyin.byKey {
		slices.Sort(ids)
	}
	ix.bulk = false
}

// regionNum numbers a region name so scoring can look factors up by number.
func (ix *index) regionNum(r string) int32 {
	if r == "" {
		return 0
	}
	if n, ok := ix.regionNo[r]; ok {
		return n
	}
	n := int32(len(ix.regions))
	ix.regionNo[r] = n
	ix.regions = append(ix.regions, r)
	return n
}

// trim gives back the spare capacity of the posting lists after a bulk load.
// With 100,000 notices the vocabulary has over a million terms: the
// per-term arrays' spare capacity (a quarter, from appending) and the
// indexing scratch (seenBy, slot: 8 bytes a term) are tens of MiB.
func (ix *index) trim() {
	for _, lists := range [][][]posting{ix.postings, ix.long} {
		for t, ps := range lists {
			if cap(ps) > len(ps)+len(ps)/8+4 {
				lists[t] = slices.Clip(slices.Clone(ps))
			}
		}
	}
	ix.terms = slices.Clip(slices.Clone(ix.terms))
	ix.postings = slices.Clip(slices.Clone(ix.postings))
	ix.long = slices.Clip(slices.Clone(ix.long))
	ix.df = slices.Clip(slices.Clone(ix.df))
	ix.flen = slices.Clip(slices.Clone(ix.flen))
	// add grows them again when a document comes (stamps start afresh:
	// addSeq only grows, and zero is never a stamp).
	ix.seenBy, ix.slot, ix.order, ix.tfs = nil, nil, nil, nil
}

// avgLen is the mean length of a field over live documents that have it.
func (ix *index) avgLen(f field) float64 {
	if ix.live == 0 || ix.lenSum[f] <= 0 {
		return 1
	}
	return ix.lenSum[f] / float64(ix.live)
}

// docForFAQ builds the document of a FAQ.
func (e *Engine) docForFAQ(f *content.FAQ) *doc {
	n := e.norm
	d := &doc{kind: KindFAQ, id: f.ID, title: f.Question, audience: f.Audience, notices: f.Notices, src: f}
	qs := append([]string{f.Question}, f.Alternates...)
	var nq []string
	for _, q := range qs {
		nq = append(nq, n.Normalize(q))
	}
	d.text[fQuestion] = strings.Join(nq, " ")
	d.text[fKeywords] = n.Normalize(strings.Join(f.Keywords, " "))
	d.text[fAnswer] = n.Normalize(f.Answer)
	d.region = e.regions.canonical(f.Region)
	d.grades = gradesIn(d.text[fQuestion] + " " + d.text[fKeywords])
	d.exams, d.levels = constraintsOf(d.text[fQuestion] + " " + d.text[fKeywords])
	d.mentions, _ = e.regions.find(d.text[fQuestion])
	d.years = yearsIn(d.text[fQuestion] + " " + d.text[fAnswer])
	d.dates = datesIn(d.text[fQuestion] + " " + d.text[fAnswer])
	for _, q := range nq {
		_, q = e.regions.find(q)
		d.phraseText = append(d.phraseText, q)
	}
	from, until := f.Period()
	setPeriod(d, from, until, d.text[fQuestion])
	d.region = e.ownRegion(d)
	return d
}

// docForNotice builds the document of a notice.
func (e *Engine) docForNotice(nt *content.Notice) *doc {
	n := e.norm
	d := &doc{kind: KindNotice, id: nt.ID, title: nt.Title, audience: nt.Audience, date: nt.Date.Time, expires: nt.Expires.Time, src: nt}
	d.text[fTitle] = n.Normalize(nt.Title)
	d.text[fKeywords] = n.Normalize(strings.Join(append(append([]string{}, nt.Keywords...), nt.Tags...), " "))
	d.text[fSummary] = n.Normalize(nt.Summary)
	d.text[fBody] = n.Normalize(nt.Body)
	d.region = e.regions.canonical(nt.Region)
	d.grades = gradesIn(d.text[fTitle] + " " + d.text[fKeywords])
	d.exams, d.levels = constraintsOf(d.text[fTitle] + " " + d.text[fKeywords])
	d.mentions, _ = e.regions.find(d.text[fTitle])
	// The years a notice speaks of are the ones it names; its publication
	// year only when it names none (a notice of 2026 about the 2027 exam
	// is about 2027).
	d.years = yearsIn(d.text[fTitle] + " " + d.text[fSummary] + " " + d.text[fKeywords])
	d.dates = datesIn(d.text[fTitle] + " " + d.text[fSummary])
	if len(d.years) == 0 && !nt.Date.IsZero() {
		d.years = []int{nt.Date.Year()}
	}
	d.region = e.ownRegion(d)
	_, title := e.regions.find(d.text[fTitle])
	d.phraseText = []string{title}
	from, until := nt.Period()
	setPeriod(d, from, until, d.text[fTitle])
	return d
}

// ownRegion is the region a document is about: its region field, unless
// that covers the whole area and its question or title names exactly one
// district or county (a city bureau's FAQ 龙湖区幼儿园怎么报名 is
// 龙湖区's, not the city's).
func (e *Engine) ownRegion(d *doc) string {
	if len(d.mentions) == 1 && (d.region == "" || (e.regions.wide(d.region) && !e.regions.wide(d.mentions[0]))) {
		return d.mentions[0]
	}
	return d.region
}

// setPhrases records the bigram ids of a document's short statements (FAQ
// question and alternates, notice title) for the reverse coverage check.
func (ix *index) setPhrases(d *doc, phrases []string) {
	d.phrases = d.phrases[:0]
	for _, p := range phrases {
		var ids []int32
		seen := map[int32]bool{}
		termsOf(p, func(t string) {
			if id := ix.termID(t, true); !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		})
		if len(ids) > 0 {
			d.phrases = append(d.phrases, ids)
		}
	}
}

// yearsIn lists the distinct years (1900–2099) named in normalised text.
func yearsIn(norm string) []int {
	var out []int
	for _, m := range yearNums(norm) {
		if y, err := strconv.Atoi(m); err == nil && !slices.Contains(out, y) {
			out = append(out, y)
		}
	}
	return out
}
