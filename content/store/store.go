// Package store keeps the bureau's runtime content — notices, FAQs, rules
// and synonym groups — in Redis, the source of truth once the service has
// started. Every change is validated exactly as the loader validates files,
// written atomically with its audit entry, and announced on a Redis stream
// that every replica follows to update its search index incrementally.
//
// Keys (all under the configured prefix, in one Cluster slot through the
// hash tag {content}):
//
//	{content}:v               version, incremented by every change
//	{content}:notice|faq|rule|synonym   hash id → item JSON
//	{content}:order:<kind>    sorted set id → position (rules are ordered)
//	{content}:seq             position counter
//	{content}:changes         stream of changes (v, op, kind, id, data)
//	{content}:audit           stream of audit entries (who, when, what, before, after)
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/content"
)

// Kind names a kind of content item.
type Kind string

// The kinds of content the store holds.
const (
	KindNotice  Kind = "notice"
	KindFAQ     Kind = "faq"
	KindRule    Kind = "rule"
	KindSynonym Kind = "synonym"
)

// Kinds lists every kind, in the order a set is applied (notices first, so
// FAQs and rules that refer to them resolve).
var Kinds = []Kind{KindNotice, KindFAQ, KindRule, KindSynonym}

// Errors callers map to statuses. Validation failures are *content.FieldError.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrConflict: the change would break the set (a reference to a missing
	// item, an id used by another kind) or the store changed under us too often.
	ErrConflict = errors.New("conflict")
)

// Index is the live search index the store keeps up to date on this
// replica (content/search's *search.Engine). Each call replaces or removes
// one item; the index must be safe for use while it answers queries. An
// error means the index refused the item (it keeps serving the old one).
type Index interface {
	UpsertNotice(n *content.Notice) error
	UpsertFAQ(f *content.FAQ) error
	UpsertRule(r *content.Rule) error
	SetSynonyms(groups []*content.SynonymGroup) error
	Remove(id string) bool
}

// Options configure a Store.
type Options struct {
	Logger *slog.Logger
	// Now is accepted for symmetry with the other stores; nothing in the
	// store depends on "today", and audit entries carry wall-clock times
	// even when serve --now fixes the date.
	Now func() time.Time
	// ChangesMax bounds the change stream; a replica further behind resyncs.
	ChangesMax int64
	// AuditMax bounds the audit log (oldest entries are trimmed).
	AuditMax int64
	// CheckInterval is how often an idle follower compares versions with
	// Redis, to notice what the stream cannot tell (a Redis that lost its
	// data). Default 10s.
	CheckInterval time.Duration
}

// Store is the runtime content in Redis. It is safe for concurrent use.
type Store struct {
	rdb   redis.UniversalClient
	p     string // prefix + "{content}:"
	log   *slog.Logger
	now   func() time.Time
	opts  Options
	audit *AuditLog

	mu      sync.Mutex
	version int64        // version of cur
	cur     *content.Set // what this replica serves (nil until loaded)
	lastID  string       // last change stream entry applied
	index   Index
	// loaded is the set Load returned, which the caller builds its index
	// from; Follow brings the index from it to cur when it attaches, so a
	// write between Load and Follow is not lost to the index.
	loaded *content.Set
}

// New returns a store on rdb with every key under prefix (e.g. "edubot:").
func New(rdb redis.UniversalClient, prefix string, opts Options) *Store {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ChangesMax <= 0 {
		opts.ChangesMax = 10000
	}
	if opts.AuditMax <= 0 {
		opts.AuditMax = 100000
	}
	if opts.CheckInterval <= 0 {
		opts.CheckInterval = 10 * time.Second
	}
	s := &Store{
		rdb:  rdb,
		p:    prefix + "{content}:",
		log:  opts.Logger,
		now:  opts.Now,
		opts: opts,
	}
	// Audit times are wall-clock times, also when "today" is fixed for matching.
	s.audit = &AuditLog{rdb: rdb, key: s.p + "audit", max: opts.AuditMax, now: time.Now}
	return s
}

// Audit returns the store's audit log (shared with other staff actions,
// e.g. broadcasts).
func (s *Store) Audit() *AuditLog { return s.audit }

func (s *Store) keyVersion() string        { return s.p + "v" }
func (s *Store) keySeq() string            { return s.p + "seq" }
func (s *Store) keyChanges() string        { return s.p + "changes" }
func (s *Store) keyItems(k Kind) string    { return s.p + string(k) }
func (s *Store) keyOrder(k Kind) string    { return s.p + "order:" + string(k) }
func (s *Store) kindKeys(k Kind) [2]string { return [2]string{s.keyItems(k), s.keyOrder(k)} }

// snapshot reads the whole set, its version and the last change stream id
// in one MULTI, so they agree. Inside a WATCH (c is a *redis.Tx) it reads
// with a plain pipeline instead: an EXEC would drop the WATCH, and the
// WATCH already guarantees that nothing changed until the caller's EXEC.
func (s *Store) snapshot(ctx context.Context, c redis.Cmdable) (*content.Set, int64, string, error) {
	var (
		ver     *redis.StringCmd
		items   = map[Kind]*redis.MapStringStringCmd{}
		orders  = map[Kind]*redis.StringSliceCmd{}
		lastCmd *redis.XMessageSliceCmd
	)
	run := c.TxPipelined
	if tx, ok := c.(*redis.Tx); ok {
		run = tx.Pipelined
	}
	_, err := run(ctx, func(p redis.Pipeliner) error {
		ver = p.Get(ctx, s.keyVersion())
		for _, k := range Kinds {
			items[k] = p.HGetAll(ctx, s.keyItems(k))
			orders[k] = p.ZRange(ctx, s.keyOrder(k), 0, -1)
		}
		lastCmd = p.XRevRangeN(ctx, s.keyChanges(), "+", "-", 1)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, "", fmt.Errorf("content store: read: %w", err)
	}
	v, err := ver.Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, "", fmt.Errorf("content store: version: %w", err)
	}
	set := &content.Set{}
	for _, k := range Kinds {
		m := items[k].Val()
		ids := orders[k].Val()
		// Items missing from the order (never expected) go last, by id.
		var rest []string
		for id := range m {
			if !slices.Contains(ids, id) {
				rest = append(rest, id)
			}
		}
		slices.Sort(rest)
		for _, id := range append(ids, rest...) {
			raw, ok := m[id]
			if !ok {
				continue
			}
			if err := addRaw(set, k, []byte(raw)); err != nil {
				return nil, 0, "", fmt.Errorf("content store: %s %s: %w", k, id, err)
			}
		}
	}
	last := "0-0"
	if msgs := lastCmd.Val(); len(msgs) > 0 {
		last = msgs[0].ID
	}
	return set, v, last, nil
}

// addRaw decodes one stored item and appends it to set.
func addRaw(set *content.Set, k Kind, raw []byte) error {
	switch k {
	case KindNotice:
		var n content.Notice
		if err := json.Unmarshal(raw, &n); err != nil {
			return err
		}
		set.Notices = append(set.Notices, &n)
	case KindFAQ:
		var f content.FAQ
		if err := json.Unmarshal(raw, &f); err != nil {
			return err
		}
		set.FAQs = append(set.FAQs, &f)
	case KindRule:
		var r content.Rule
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		set.Rules = append(set.Rules, &r)
	case KindSynonym:
		var g content.SynonymGroup
		if err := json.Unmarshal(raw, &g); err != nil {
			return err
		}
		set.Synonyms = append(set.Synonyms, &g)
	default:
		return fmt.Errorf("unknown kind %q", k)
	}
	return nil
}

// Empty reports whether the store holds no content yet (never seeded).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.keyVersion()).Result()
	if err != nil {
		return false, fmt.Errorf("content store: %w", err)
	}
	return n == 0, nil
}

// Seed writes set into an empty store (first start) and reports whether it
// did; a store that already holds content is left alone, also when several
// replicas start at once.
func (s *Store) Seed(ctx context.Context, actor string, set *content.Set) (bool, error) {
	err := s.importSet(ctx, actor, set, true)
	if errors.Is(err, errSeeded) {
		return false, nil
	}
	return err == nil, err
}

var errSeeded = errors.New("store already holds content")

// Load reads the whole runtime content into this replica's view and returns
// it (a set the caller may build its index from; do not modify it). Follow
// then applies every later change.
func (s *Store) Load(ctx context.Context) (*content.Set, error) {
	set, v, last, err := s.snapshot(ctx, s.rdb)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cur, s.version, s.lastID = set, v, last
	s.loaded = set
	s.mu.Unlock()
	return set, nil
}

// Current returns this replica's view of the content and its version (nil
// before Load). The set must not be modified.
func (s *Store) Current() (*content.Set, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur, s.version
}

// Export reads the whole runtime content from Redis.
func (s *Store) Export(ctx context.Context) (*content.Set, error) {
	set, _, _, err := s.snapshot(ctx, s.rdb)
	return set, err
}

// Version returns the stored content version (0 when empty).
func (s *Store) Version(ctx context.Context) (int64, error) {
	v, err := s.rdb.Get(ctx, s.keyVersion()).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("content store: version: %w", err)
	}
	return v, nil
}

// ImportSet replaces the whole runtime content with set, atomically: the set
// is validated first (items and references), and a bad set changes nothing.
func (s *Store) ImportSet(ctx context.Context, actor string, set *content.Set) error {
	return s.importSet(ctx, actor, set, false)
}

// ValidateSet checks a whole set as the loader does.
func ValidateSet(set *content.Set) error {
	if set == nil {
		return &content.FieldError{Field: "set", Msg: "required"}
	}
	for _, n := range set.Notices {
		if n == nil {
			return &content.FieldError{Field: "notices", Msg: "empty entry"}
		}
		if err := n.Validate(); err != nil {
			return err
		}
	}
	for _, f := range set.FAQs {
		if f == nil {
			return &content.FieldError{Field: "faqs", Msg: "empty entry"}
		}
		if err := f.Validate(); err != nil {
			return err
		}
	}
	for _, r := range set.Rules {
		if r == nil {
			return &content.FieldError{Field: "rules", Msg: "empty entry"}
		}
		if err := r.Validate(); err != nil {
			return err
		}
	}
	for _, g := range set.Synonyms {
		if g == nil {
			return &content.FieldError{Field: "synonyms", Msg: "empty entry"}
		}
		if g.ID == "" {
			g.ID = content.SynonymID(g.Words)
		}
		if err := g.Validate(); err != nil {
			return err
		}
	}
	if len(set.Notices)+len(set.FAQs)+len(set.Rules) == 0 {
		return &content.FieldError{Field: "set", Msg: "no notices, FAQs or rules"}
	}
	return set.CheckRefs()
}

func (s *Store) importSet(ctx context.Context, actor string, set *content.Set, onlyIfEmpty bool) error {
	if err := ValidateSet(set); err != nil {
		return err
	}
	encoded := map[Kind][]idJSON{}
	for _, k := range Kinds {
		list, err := encodeKind(set, k)
		if err != nil {
			return err
		}
		encoded[k] = list
	}
	const tries = 5
	for i := 0; i < tries; i++ {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			before, v, _, err := s.snapshot(ctx, tx)
			if err != nil {
				return err
			}
			if onlyIfEmpty {
				if n, err := tx.Exists(ctx, s.keyVersion()).Result(); err != nil {
					return fmt.Errorf("content store: %w", err)
				} else if n > 0 {
					return errSeeded
				}
			}
			action := "import-set"
			if onlyIfEmpty {
				action = "seed"
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range Kinds {
					keys := s.kindKeys(k)
					p.Del(ctx, keys[0], keys[1])
					for pos, it := range encoded[k] {
						p.HSet(ctx, keys[0], it.id, it.data)
						p.ZAdd(ctx, keys[1], redis.Z{Score: float64(pos), Member: it.id})
					}
				}
				p.Set(ctx, s.keySeq(), countAll(set), 0)
				p.Set(ctx, s.keyVersion(), v+1, 0)
				s.addChange(ctx, p, change{Version: v + 1, Op: opReload})
				s.audit.add(ctx, p, AuditEntry{
					Actor: actor, Action: action, Kind: "set",
					Before: setSummary(before), After: setSummary(set),
				})
				return nil
			})
			return err
		}, s.keyVersion())
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			if errors.Is(err, errSeeded) {
				return err
			}
			return fmt.Errorf("content store: import: %w", err)
		}
		s.catchUp(ctx)
		return nil
	}
	return fmt.Errorf("content store: import: %w: content changed %d times while importing", ErrConflict, tries)
}

type idJSON struct {
	id   string
	data []byte
}

func encodeKind(set *content.Set, k Kind) ([]idJSON, error) {
	var out []idJSON
	add := func(id string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("content store: encode %s %s: %w", k, id, err)
		}
		out = append(out, idJSON{id, b})
		return nil
	}
	var err error
	switch k {
	case KindNotice:
		for _, n := range set.Notices {
			if err = add(n.ID, n); err != nil {
				return nil, err
			}
		}
	case KindFAQ:
		for _, f := range set.FAQs {
			if err = add(f.ID, f); err != nil {
				return nil, err
			}
		}
	case KindRule:
		for _, r := range set.Rules {
			if err = add(r.ID, r); err != nil {
				return nil, err
			}
		}
	case KindSynonym:
		for _, g := range set.Synonyms {
			if err = add(g.ID, g); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func countAll(set *content.Set) int {
	return len(set.Notices) + len(set.FAQs) + len(set.Rules) + len(set.Synonyms)
}

// setSummary is what the audit log keeps of a whole set: counts, not the
// (large) content itself, which an export gives.
func setSummary(set *content.Set) map[string]int {
	if set == nil {
		return nil
	}
	return map[string]int{
		"notices": len(set.Notices), "faqs": len(set.FAQs),
		"rules": len(set.Rules), "synonyms": len(set.Synonyms),
	}
}

func parseVersion(s string) int64 {
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}
