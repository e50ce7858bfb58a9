// Package answercache keeps recent matches in memory: real traffic is
// repetitive (thousands ask 开学时间 after a notice), and the same text
// asked in the same context on the same day gets the same result. A Cache
// is a matcher that wraps a matcher: it implements what the bot needs of
// *search.Engine (Match, Analyze, lookups) and what the content store's
// Follow applies changes through (store.Index), and every change it passes
// on bumps its version, so an edit is seen at once on every replica (each
// replica's Follow applies every change).
package answercache

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search"
)

// DefaultSize is the number of entries of each kind (matches, analyses)
// kept when Options.Size is 0.
const DefaultSize = 4096

// maxKeyBytes: longer texts are not cached (nobody repeats an essay, and
// the bound keeps the cache's memory bounded too).
const maxKeyBytes = 300

// Options configure a Cache.
type Options struct {
	// Size bounds the entries of each kind (matches, analyses); 0 means
	// DefaultSize, negative turns caching off.
	Size int
	// Now is "today" for queries without one; it must be the engine's
	// clock (search.Options.Now). Default time.Now.
	Now func() time.Time
}

// Cache wraps a *search.Engine. It is safe for concurrent use.
type Cache struct {
	*search.Engine // lookups (Notice, FAQ, Rule, Tags, Regions, Snapshot) pass through

	now     func() time.Time
	version atomic.Uint64 // bumped after every change applied to the engine
	match   *lru[matchKey, search.Result]
	analyze *lru[textKey, search.Analysis]
}

type matchKey struct {
	text, region, grade, role, day string
}

type textKey struct {
	text, day string
}

// New wraps e.
func New(e *search.Engine, opts Options) *Cache {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	size := opts.Size
	if size == 0 {
		size = DefaultSize
	}
	c := &Cache{Engine: e, now: opts.Now}
	if size > 0 {
		c.match = newLRU[matchKey, search.Result](size)
		c.analyze = newLRU[textKey, search.Analysis](size)
	}
	return c
}

// Match is search.Engine.Match, from the cache when the same text was
// matched in the same context on the same day since the last change.
func (c *Cache) Match(ctx context.Context, q search.Query) search.Result {
	if c.match == nil || q.Explain || len(q.Text) > maxKeyBytes {
		return c.Engine.Match(ctx, q)
	}
	now := q.Now
	if now.IsZero() {
		now = c.now()
	}
	k := matchKey{text: key(q.Text), region: q.Region, grade: q.Grade, role: q.Role, day: day(now)}
	v := c.version.Load()
	if r, ok := c.match.get(k, v); ok {
		return cloneResult(r)
	}
	q.Now = now
	r := c.Engine.Match(ctx, q)
	// Tagged with the version read before matching: when a change landed
	// meanwhile, the entry is already stale and never served.
	c.match.put(k, v, cloneResult(r))
	return r
}

// Analyze is search.Engine.Analyze, cached like Match.
func (c *Cache) Analyze(text string) search.Analysis {
	return c.AnalyzeAt(text, time.Time{})
}

// AnalyzeAt is search.Engine.AnalyzeAt, cached like Match.
func (c *Cache) AnalyzeAt(text string, now time.Time) search.Analysis {
	if now.IsZero() {
		now = c.now()
	}
	if c.analyze == nil || len(text) > maxKeyBytes {
		return c.Engine.AnalyzeAt(text, now)
	}
	// The exact text: an Analysis carries the text it was made for, and
	// Match reuses it only for that text.
	k := textKey{text: text, day: day(now)}
	v := c.version.Load()
	if a, ok := c.analyze.get(k, v); ok {
		return cloneAnalysis(a)
	}
	a := c.Engine.AnalyzeAt(text, now)
	c.analyze.put(k, v, cloneAnalysis(a))
	return a
}

// The store.Index methods: apply the change, then bump the version (after:
// a match that reads the new version runs on the new content).

func (c *Cache) UpsertNotice(n *content.Notice) error { return c.changed(c.Engine.UpsertNotice(n)) }
func (c *Cache) UpsertFAQ(f *content.FAQ) error       { return c.changed(c.Engine.UpsertFAQ(f)) }
func (c *Cache) UpsertRule(r *content.Rule) error     { return c.changed(c.Engine.UpsertRule(r)) }
func (c *Cache) SetSynonyms(g []*content.SynonymGroup) error {
	return c.changed(c.Engine.SetSynonyms(g))
}

func (c *Cache) Remove(id string) bool {
	ok := c.Engine.Remove(id)
	c.Invalidate()
	return ok
}

func (c *Cache) changed(err error) error {
	c.Invalidate() // also on error: part of the change may have applied
	return err
}

// Invalidate forgets every entry (the content changed).
func (c *Cache) Invalidate() {
	c.version.Add(1)
	if c.match != nil {
		c.match.clear()
		c.analyze.clear()
	}
}

// Stats are the cache's counters since start.
type Stats struct {
	MatchHits, MatchMisses     uint64
	AnalyzeHits, AnalyzeMisses uint64
}

// Stats returns the hit and miss counts.
func (c *Cache) Stats() Stats {
	if c.match == nil {
		return Stats{}
	}
	return Stats{
		MatchHits: c.match.hits.Load(), MatchMisses: c.match.misses.Load(),
		AnalyzeHits: c.analyze.hits.Load(), AnalyzeMisses: c.analyze.misses.Load(),
	}
}

// key folds what the engine's normaliser folds anyway — full-width ASCII
// and spaces, upper case, surrounding space — so 开学时间？ and 开学时间?
// share an entry. Nothing else: the rest of normalisation is the engine's.
// (Trimming is safe: cached texts are far shorter than the engine's cut.)
func key(s string) string {
	s = strings.TrimSpace(s)
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3000':
			return ' '
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}, s)
}

func day(t time.Time) string { return t.Format("2006-01-02") }

// cloneResult copies the slices a caller might change, so the cached
// entry stays as it was.
func cloneResult(r search.Result) search.Result {
	r.Choices = slices.Clone(r.Choices)
	r.Top = slices.Clone(r.Top)
	r.Analysis = cloneAnalysis(r.Analysis)
	return r
}

func cloneAnalysis(a search.Analysis) search.Analysis {
	a.Tokens = slices.Clone(a.Tokens)
	a.Regions = slices.Clone(a.Regions)
	a.Grades = slices.Clone(a.Grades)
	return a
}

// lru is a bounded map that forgets the least recently used entries
// approximately: two generations of size/2, the older dropped whole when
// the newer fills (an entry found in the older is moved up). Entries carry
// the version they were made for.
type lru[K comparable, V any] struct {
	mu           sync.Mutex
	half         int
	cur, old     map[K]entry[V]
	hits, misses atomic.Uint64
}

type entry[V any] struct {
	v       V
	version uint64
}

func newLRU[K comparable, V any](size int) *lru[K, V] {
	half := max(1, size/2)
	return &lru[K, V]{half: half, cur: make(map[K]entry[V], half), old: map[K]entry[V]{}}
}

func (l *lru[K, V]) get(k K, version uint64) (V, bool) {
	l.mu.Lock()
	e, ok := l.cur[k]
	if !ok {
		if e, ok = l.old[k]; ok {
			delete(l.old, k)
			l.putLocked(k, e)
		}
	}
	l.mu.Unlock()
	if !ok || e.version != version {
		l.misses.Add(1)
		var zero V
		return zero, false
	}
	l.hits.Add(1)
	return e.v, true
}

func (l *lru[K, V]) put(k K, version uint64, v V) {
	l.mu.Lock()
	l.putLocked(k, entry[V]{v: v, version: version})
	l.mu.Unlock()
}

func (l *lru[K, V]) putLocked(k K, e entry[V]) {
	if _, ok := l.cur[k]; !ok && len(l.cur) >= l.half {
		l.old, l.cur = l.cur, make(map[K]entry[V], l.half)
	}
	l.cur[k] = e
}

func (l *lru[K, V]) clear() {
	l.mu.Lock()
	l.cur, l.old = make(map[K]entry[V], l.half), map[K]entry[V]{}
	l.mu.Unlock()
}
