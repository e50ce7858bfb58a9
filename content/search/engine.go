package search

import (
	"bufio"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-ego/gse"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search/lexicon"
)

// Default thresholds; see Options.
const (
	DefaultThreshold    = 0.50
	DefaultSuggestFloor = 0.20
	DefaultChoiceMargin = 0.035
)

// Options tune an Engine. The zero value is usable.
type Options struct {
	// Logger receives the explanation of every match at debug level.
	Logger *slog.Logger
	// Threshold is the confidence (0..1) below which Match falls back.
	Threshold float64
	// SuggestFloor is the confidence from which, below Threshold, Match
	// offers the best few candidates as "did you mean" (Decision Suggest);
	// below it, Match falls back. Confidence is calibrated (the share of
	// the question a candidate holds and of the candidate the question
	// says, not a raw score), so both mean the same on any content set.
	SuggestFloor float64
	// ChoiceMargin: when the runner-up is this close to the best and
	// different, Match offers choices instead of guessing.
	ChoiceMargin float64
	// Now is "today" when a Query has none; default time.Now.
	Now func() time.Time
}

// Engine is the live search index over a content set. All methods are safe
// for concurrent use; updates apply incrementally while matching goes on.
type Engine struct {
	log  *slog.Logger
	opts Options
	norm *normalizer
	stop map[string]bool
	weak map[string]bool // question words: 什么时候, 哪里, 怎么办
	// spoken maps a spoken phrase to the written word it stands for
	// (带啥 → 材料); immutable after New.
	spoken   map[string]string
	spokenOf map[string][]string // the written word → its spoken forms
	dialect  *strings.Replacer   // dialect words → Mandarin (返学 → 上学), homophone slips → the word (报明 → 报名)

	mu       sync.RWMutex
	gen      uint64         // content version: bumped by every update, under mu
	seg      *gse.Segmenter // AddToken races with Cut: written only under mu
	ix       *index
	regions  *regionSet
	notices  map[string]*content.Notice
	faqs     map[string]*content.FAQ
	rules    map[string]*content.Rule
	order    []string // ids in insertion order, for Snapshot
	synSet   []*content.SynonymGroup
	syn      map[string][]string // word → its synonyms (built-in and the set's)
	learned  map[string]bool     // domain words added to the segmenter
	ruleKeys []ruleKey
}

// ruleKey is one normalised keyword of a rule.
type ruleKey struct {
	key   string
	exact bool
	rule  *content.Rule
}

// New builds an engine over set (which may be nil or empty).
func New(set *content.Set, opts Options) (*Engine, error) {
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.SuggestFloor <= 0 {
		opts.SuggestFloor = DefaultSuggestFloor
	}
	if opts.SuggestFloor > opts.Threshold {
		opts.SuggestFloor = opts.Threshold
	}
	if opts.ChoiceMargin <= 0 {
		opts.ChoiceMargin = DefaultChoiceMargin
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	norm, err := newNormalizer()
	if err != nil {
		return nil, err
	}
	seg, err := newSegmenter()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		log: log, opts: opts, norm: norm, seg: seg,
		stop: map[string]bool{}, weak: map[string]bool{}, spoken: map[string]string{}, spokenOf: map[string][]string{},
		ix: newIndex(), regions: newRegionSet(),
		notices: map[string]*content.Notice{}, faqs: map[string]*content.FAQ{}, rules: map[string]*content.Rule{},
		learned: map[string]bool{},
	}
	e.regions.words = func(s string) []string { return e.seg.Cut(s, false) }
	e.regions.named = e.contentNames
	e.ix.isWord = func(t string) bool {
		f, _, ok := e.seg.Find(t)
		return ok && f > 0
	}
	e.ix.textOf = func(d *doc) [numFields]string {
		switch src := d.src.(type) {
		case *content.FAQ:
			return e.docForFAQ(src).text
		case *content.Notice:
			return e.docForNotice(src).text
		}
		return [numFields]string{}
	}
	for _, w := range lexicon.StopWords() {
		e.stop[w] = true
		// Kept whole, a spoken question word is dropped whole (几多|分,
		// not 几|多分).
		e.learn(w)
	}
	for _, w := range lexicon.WeakWords() {
		e.weak[w] = true
	}
	for _, name := range e.regions.aliases {
		e.learn(name)
	}
	for _, g := range lexicon.Synonyms() {
		for _, w := range g {
			e.learn(e.norm.Normalize(w))
		}
	}
	for form, word := range lexicon.Spoken() {
		form = strings.ReplaceAll(e.norm.Normalize(form), " ", "")
		word = strings.ReplaceAll(e.norm.Normalize(word), " ", "")
		e.spoken[form] = word
		e.spokenOf[word] = append(e.spokenOf[word], form)
		e.learn(form)
	}
	var pairs []string
	dforms := lexicon.Dialect()
	for f, w := range lexicon.Homophones() {
		if _, ok := dforms[f]; !ok {
			dforms[f] = w // read like a dialect word: before segmenting
		}
	}
	keys := make([]string, 0, len(dforms))
	for f := range dforms {
		keys = append(keys, f)
	}
	// Longest first: the replacer tries its pairs in order.
	slices.SortFunc(keys, func(a, b string) int {
		if d := utf8.RuneCountInString(b) - utf8.RuneCountInString(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, f := range keys {
		pairs = append(pairs, f, dforms[f])
	}
	e.dialect = strings.NewReplacer(pairs...)
	for _, forms := range e.spokenOf {
		slices.Sort(forms) // the map's order is random; matching is not
	}
	for _, g := range gradeNames {
		// A grade must win over the rarer words its characters also make
		// (初三下学期 is 初三|下学期, not 初|三下|学期).
		e.learnAt(g, 3000)
	}
	if set == nil {
		set = &content.Set{}
	}
	if err := validateSet(set); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	for _, n := range set.Notices {
		e.regions.note(n.Region, 1)
	}
	for _, f := range set.FAQs {
		e.regions.note(f.Region, 1)
	}
	e.setSynonymsLocked(set.Synonyms)
	// Normalising is the costly part of a bulk load and needs no lock of
	// the index: do it on every core, then index in order.
	for _, n := range set.Notices {
		e.learnKeywords(n.Keywords, n.Tags, quotedTerms(n.Title, n.Summary))
	}
	for _, f := range set.FAQs {
		e.learnKeywords(f.Keywords, quotedTerms(append([]string{f.Question}, f.Alternates...)...))
	}
	// Workers normalise and split batches of documents while this
	// goroutine indexes the batches before them, in order.
	total := len(set.Notices) + len(set.FAQs)
	docs := make([]*doc, total)
	const batch = 1024
	nb := (total + batch - 1) / batch
	done := make([]chan struct{}, nb)
	jobs := make(chan int, nb)
	for b := range nb {
		done[b] = make(chan struct{})
		jobs <- b
	}
	close(jobs)
	workers := max(1, runtime.GOMAXPROCS(0))
	// ahead bounds how many prepared batches wait, and so the memory held.
	// A worker holds a token before it takes a batch, so the batch the
	// indexer waits for is always being worked on.
	ahead := make(chan struct{}, 2*workers)
	for w := 0; w < workers; w++ {
		go func() {
			for {
				ahead <- struct{}{}
				b, ok := <-jobs
				if !ok {
					<-ahead
					return
				}
				for i := b * batch; i < min(total, (b+1)*batch); i++ {
					var d *doc
					if i < len(set.Notices) {
						d = e.docForNotice(set.Notices[i])
					} else {
						d = e.docForFAQ(set.FAQs[i-len(set.Notices)])
					}
					prepare(d)
					docs[i] = d
				}
				close(done[b])
			}
		}()
	}
	e.ix.bulk = true
	var addErr error
	for b := range nb {
		<-done[b]
		for i := b * batch; i < min(total, (b+1)*batch) && addErr == nil; i++ {
			if i < len(set.Notices) {
				n := set.Notices[i]
				e.remember(n.ID)
				e.notices[n.ID] = n
			} else {
				f := set.FAQs[i-len(set.Notices)]
				e.remember(f.ID)
				e.faqs[f.ID] = f
			}
			addErr = e.ix.add(docs[i])
			docs[i] = nil
		}
		<-ahead // after an error too: the workers must run out
	}
	if addErr != nil {
		return nil, addErr
	}
	for _, r := range set.Rules {
		if err := e.upsertRuleLocked(r); err != nil {
			return nil, err
		}
	}
	e.ix.buildPinyin(workers)
	e.ix.trim()
	return e, nil
}

// validateSet checks every item on its own: a bad one is a clear error
// here rather than a surprise while matching.
func validateSet(set *content.Set) error {
	for _, n := range set.Notices {
		if n == nil {
			return fmt.Errorf("search: nil notice")
		}
		if err := n.Validate(); err != nil {
			return fmt.Errorf("search: notice: %w", err)
		}
	}
	for _, f := range set.FAQs {
		if f == nil {
			return fmt.Errorf("search: nil FAQ")
		}
		if err := f.Validate(); err != nil {
			return fmt.Errorf("search: faq: %w", err)
		}
	}
	for _, r := range set.Rules {
		if r == nil {
			return fmt.Errorf("search: nil rule")
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("search: rule: %w", err)
		}
	}
	for _, g := range set.Synonyms {
		if g == nil {
			return fmt.Errorf("search: nil synonym group")
		}
		if err := g.Validate(); err != nil {
			return fmt.Errorf("search: synonyms: %w", err)
		}
	}
	return nil
}

// newSegmenter loads the embedded word list into gse without touching the
// file system (gse's own loaders read the module cache).
func newSegmenter() (*gse.Segmenter, error) {
	seg := &gse.Segmenter{SkipLog: true}
	seg.Dict = gse.NewDict()
	seg.Init()
	seg.Load = true
	if err := seg.Reader(bufio.NewReader(strings.NewReader(lexicon.Words()))); err != nil {
		return nil, fmt.Errorf("search: load word list: %w", err)
	}
	return seg, nil
}

// learn adds a domain word to the segmenter so questions keep it whole.
// The caller holds mu (or is constructing the engine).
func (e *Engine) learn(w string) {
	w = strings.TrimSpace(w)
	if utf8.RuneCountInString(w) < 2 || utf8.RuneCountInString(w) > 12 || strings.ContainsAny(w, " \t") || e.learned[w] {
		return
	}
	e.learned[w] = true
	if f, _, ok := e.seg.Find(w); ok && f > 0 {
		return
	}
	// A middling frequency: preferred over splitting, not over longer words.
	_ = e.seg.AddToken(w, 3000)
}

// contentNames reports whether a live FAQ question or notice title names
// the region. It reads every document: it is asked only about a region
// that is neither the content's nor inside its area, once per question.
// The caller holds mu.
func (e *Engine) contentNames(region string) bool {
	n, ok := e.ix.regionNo[region]
	if !ok {
		return false // no document has ever named it
	}
	for num, d := range e.ix.docs {
		if !d.alive {
			continue
		}
		if m := e.ix.dmention[num]; m == n || (m == -1 && slices.Contains(d.mentions, region)) {
			return true
		}
	}
	return false
}

// learnAt makes sure a word is in the segmenter's dictionary with at least
// freq. The caller holds mu (or is constructing the engine).
func (e *Engine) learnAt(w string, freq float64) {
	e.learned[w] = true
	f, _, ok := e.seg.Find(w)
	switch {
	case ok && f >= freq:
	case ok:
		_ = e.seg.ReAddToken(w, freq)
	default:
		_ = e.seg.AddToken(w, freq)
	}
}

// quotedRe finds terms the content sets off in quotes or title marks:
// “双减”, 《实施方案》, "六不" — its own names for things.
var quotedRe = regexp.MustCompile(`[“"「『《]([^”"」』》\s]{2,8})[”"」』》]`)

// quotedTerms lists the quoted terms of the texts.
func quotedTerms(texts ...string) []string {
	var out []string
	for _, t := range texts {
		for _, m := range quotedRe.FindAllStringSubmatch(t, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// learnKeywords teaches the segmenter the content's own words.
func (e *Engine) learnKeywords(lists ...[]string) {
	for _, l := range lists {
		for _, k := range l {
			e.learn(e.norm.Normalize(k))
		}
	}
}

// --- lookups ---

// Notice returns the notice with that id, or nil.
func (e *Engine) Notice(id string) *content.Notice {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.notices[id]
}

// FAQ returns the FAQ with that id, or nil.
func (e *Engine) FAQ(id string) *content.FAQ {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.faqs[id]
}

// Rule returns the rule with that id, or nil.
func (e *Engine) Rule(id string) *content.Rule {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.rules[id]
}

// Tags lists the distinct notice tags.
func (e *Engine) Tags() []string {
	return e.Snapshot().Tags()
}

// Regions lists the distinct regions named by notices and FAQs.
func (e *Engine) Regions() []string {
	return e.Snapshot().Regions()
}

// Snapshot returns the current content as a set (items are shared, not
// copied: treat them as read-only).
func (e *Engine) Snapshot() *content.Set {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s := &content.Set{Synonyms: slices.Clone(e.synSet)}
	for _, id := range e.order {
		switch {
		case e.notices[id] != nil:
			s.Notices = append(s.Notices, e.notices[id])
		case e.faqs[id] != nil:
			s.FAQs = append(s.FAQs, e.faqs[id])
		case e.rules[id] != nil:
			s.Rules = append(s.Rules, e.rules[id])
		}
	}
	return s
}

// --- updates ---

// UpsertNotice adds or replaces a notice. The engine keeps n: do not
// modify it afterwards, upsert a new one.
func (e *Engine) UpsertNotice(n *content.Notice) error {
	if n == nil {
		return fmt.Errorf("search: nil notice")
	}
	if err := n.Validate(); err != nil {
		return fmt.Errorf("search: notice: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	if old := e.notices[n.ID]; old != nil {
		e.regions.note(old.Region, -1)
	}
	e.regions.note(n.Region, 1)
	return e.upsertNoticeLocked(n)
}

// UpsertFAQ adds or replaces a FAQ. The engine keeps f: do not modify it
// afterwards, upsert a new one.
func (e *Engine) UpsertFAQ(f *content.FAQ) error {
	if f == nil {
		return fmt.Errorf("search: nil FAQ")
	}
	if err := f.Validate(); err != nil {
		return fmt.Errorf("search: faq: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	if old := e.faqs[f.ID]; old != nil {
		e.regions.note(old.Region, -1)
	}
	e.regions.note(f.Region, 1)
	return e.upsertFAQLocked(f)
}

// UpsertRule adds or replaces a keyword rule.
func (e *Engine) UpsertRule(r *content.Rule) error {
	if r == nil {
		return fmt.Errorf("search: nil rule")
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("search: rule: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	return e.upsertRuleLocked(r)
}

// SetSynonyms replaces the content set's synonym groups.
func (e *Engine) SetSynonyms(groups []*content.SynonymGroup) error {
	for _, g := range groups {
		if g == nil {
			return fmt.Errorf("search: nil synonym group")
		}
		if err := g.Validate(); err != nil {
			return fmt.Errorf("search: synonyms: %w", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	e.setSynonymsLocked(groups)
	return nil
}

// Remove deletes the notice, FAQ or rule with that id; it reports whether
// there was one.
func (e *Engine) Remove(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	found := false
	if n := e.notices[id]; n != nil {
		e.regions.note(n.Region, -1)
		delete(e.notices, id)
		found = true
	}
	if f := e.faqs[id]; f != nil {
		e.regions.note(f.Region, -1)
		delete(e.faqs, id)
		found = true
	}
	if num, ok := e.ix.byID[id]; ok {
		e.ix.remove(num)
	}
	if e.rules[id] != nil {
		delete(e.rules, id)
		e.rebuildRules()
		found = true
	}
	if found {
		e.order = slices.DeleteFunc(e.order, func(s string) bool { return s == id })
	}
	return found
}

func (e *Engine) remember(id string) {
	if e.notices[id] == nil && e.faqs[id] == nil && e.rules[id] == nil {
		e.order = append(e.order, id)
	}
}

func (e *Engine) upsertNoticeLocked(n *content.Notice) error {
	if n == nil {
		return fmt.Errorf("search: nil notice")
	}
	e.remember(n.ID)
	e.notices[n.ID] = n
	e.learnKeywords(n.Keywords, n.Tags, quotedTerms(n.Title, n.Summary))
	return e.ix.add(e.docForNotice(n))
}

func (e *Engine) upsertFAQLocked(f *content.FAQ) error {
	if f == nil {
		return fmt.Errorf("search: nil FAQ")
	}
	e.remember(f.ID)
	e.faqs[f.ID] = f
	e.learnKeywords(f.Keywords, quotedTerms(append([]string{f.Question}, f.Alternates...)...))
	return e.ix.add(e.docForFAQ(f))
}

func (e *Engine) upsertRuleLocked(r *content.Rule) error {
	if r == nil {
		return fmt.Errorf("search: nil rule")
	}
	e.remember(r.ID)
	e.rules[r.ID] = r
	e.rebuildRules()
	return nil
}

// rebuildRules refreshes the normalised rule keywords (rules are few).
func (e *Engine) rebuildRules() {
	e.ruleKeys = e.ruleKeys[:0]
	for _, id := range e.order {
		r := e.rules[id]
		if r == nil {
			continue
		}
		for _, k := range r.Keywords {
			key := strings.ReplaceAll(e.norm.Normalize(k), " ", "")
			if key != "" {
				e.ruleKeys = append(e.ruleKeys, ruleKey{key: key, exact: r.Match != content.MatchContains, rule: r})
			}
		}
	}
}

// setSynonymsLocked rebuilds the synonym map from the built-in lexicon and
// the set's groups; synonyms apply at question time, so nothing is reindexed.
func (e *Engine) setSynonymsLocked(groups []*content.SynonymGroup) {
	e.synSet = slices.Clone(groups)
	e.syn = map[string][]string{}
	add := func(words []string) {
		var ws []string
		for _, w := range words {
			if n := strings.ReplaceAll(e.norm.Normalize(w), " ", ""); n != "" && !slices.Contains(ws, n) {
				ws = append(ws, n)
			}
		}
		for _, w := range ws {
			e.learn(w)
			for _, o := range ws {
				if o != w && !slices.Contains(e.syn[w], o) {
					e.syn[w] = append(e.syn[w], o)
				}
			}
		}
	}
	for _, g := range lexicon.Synonyms() {
		add(g)
	}
	for _, g := range groups {
		add(g.Words)
	}
}

// idf is the BM25 inverse document frequency for df of n documents.
func idf(df, n int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}
