package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/content"
)

// Change operations on the change stream.
const (
	opPut    = "put"
	opDelete = "del"
	opReload = "reload" // the whole set was replaced (import, seed)
)

// change is one entry of the change stream. Put entries carry the item, so
// a replica applies them without another read.
type change struct {
	Version int64
	Op      string
	Kind    Kind
	ID      string
	Data    []byte
}

func (s *Store) addChange(ctx context.Context, p redis.Pipeliner, c change) {
	p.XAdd(ctx, &redis.XAddArgs{
		Stream: s.keyChanges(),
		MaxLen: s.opts.ChangesMax,
		Approx: true,
		Values: []any{"v", c.Version, "op", c.Op, "kind", string(c.Kind), "id", c.ID, "data", c.Data},
	})
}

func parseChange(m redis.XMessage) change {
	str := func(k string) string {
		v, _ := m.Values[k].(string)
		return v
	}
	return change{
		Version: parseVersion(str("v")),
		Op:      str("op"),
		Kind:    Kind(str("kind")),
		ID:      str("id"),
		Data:    []byte(str("data")),
	}
}

// Follow keeps this replica's view and idx (may be nil) up to date with
// every change made on any replica, until ctx ends. Call Load first and
// build idx from its set. A change is applied within a few milliseconds of
// its write (a blocking read on the change stream); a replica that missed
// changes (Redis restart, trimmed stream) resyncs from a full read, and
// applies only the difference to idx.
func (s *Store) Follow(ctx context.Context, idx Index) error {
	s.mu.Lock()
	loaded := s.cur != nil
	s.attachLocked(idx)
	s.mu.Unlock()
	if !loaded {
		if _, err := s.Load(ctx); err != nil {
			return err
		}
	}
	backoff := 100 * time.Millisecond
	lastCheck := time.Now()
	for ctx.Err() == nil {
		s.mu.Lock()
		last := s.lastID
		s.mu.Unlock()
		res, err := s.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{s.keyChanges(), last},
			Count:   200,
			Block:   min(time.Second, s.opts.CheckInterval),
		}).Result()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			s.log.Warn("content store: reading changes failed; retrying", "err", err, "backoff", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for _, stream := range res {
			for _, m := range stream.Messages {
				s.applyRemote(ctx, m)
			}
		}
		// A safety net for what the stream cannot tell: Redis restarted
		// without the stream, or the version moved without an entry.
		if len(res) == 0 && time.Since(lastCheck) > s.opts.CheckInterval {
			lastCheck = time.Now()
			s.checkVersion(ctx)
		}
	}
	return nil
}

// attachLocked makes idx the index this replica keeps up to date. Writes
// this replica made between Load and now changed cur but not idx (built
// from Load's set), so they are applied to it first.
func (s *Store) attachLocked(idx Index) {
	if idx != nil && s.index == nil && s.loaded != nil && s.cur != s.loaded {
		applyDiff(idx, s.loaded, s.cur, func(id string, err error) {
			s.log.Error("content store: index refused an item", "id", id, "err", err)
		})
	}
	s.index = idx
	s.loaded = nil
}

func (s *Store) checkVersion(ctx context.Context) {
	v, err := s.Version(ctx)
	if err != nil {
		return
	}
	s.mu.Lock()
	behind := v != s.version
	s.mu.Unlock()
	if behind {
		s.resync(ctx)
	}
}

// applyRemote applies one stream entry, in version order.
func (s *Store) applyRemote(ctx context.Context, m redis.XMessage) {
	c := parseChange(m)
	s.mu.Lock()
	switch {
	case c.Version <= s.version:
		// Already applied (our own write, or a resync got ahead).
		s.lastID = m.ID
		s.mu.Unlock()
		return
	case c.Version == s.version+1 && c.Op != opReload:
		if err := s.applyLocked(c); err == nil {
			s.lastID = m.ID
			s.mu.Unlock()
			return
		} else {
			s.log.Warn("content store: change not applicable; resyncing", "id", c.ID, "err", err)
		}
	}
	s.mu.Unlock()
	// A reload, a gap or a bad entry: read everything.
	s.resync(ctx)
}

// applyOwn applies a change this replica just wrote, so the writer's next
// request already sees it; the follower then skips the entry.
func (s *Store) applyOwn(c change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || c.Version != s.version+1 {
		return // the follower catches up (or nothing is loaded here)
	}
	if err := s.applyLocked(c); err != nil {
		s.log.Warn("content store: own change not applied", "id", c.ID, "err", err)
	}
}

// applyLocked applies a put or delete to the view and the index.
func (s *Store) applyLocked(c change) error {
	var v any
	if c.Op == opPut {
		tmp := &content.Set{}
		if err := addRaw(tmp, c.Kind, c.Data); err != nil {
			return fmt.Errorf("decode %s %s: %w", c.Kind, c.ID, err)
		}
		switch c.Kind {
		case KindNotice:
			v = tmp.Notices[0]
		case KindFAQ:
			v = tmp.FAQs[0]
		case KindRule:
			v = tmp.Rules[0]
		case KindSynonym:
			v = tmp.Synonyms[0]
		}
	} else if c.Op != opDelete {
		return fmt.Errorf("unknown op %q", c.Op)
	}
	s.cur = with(s.cur, c.Kind, c.ID, v)
	s.version = c.Version
	if s.index == nil {
		return nil
	}
	var err error
	switch {
	case c.Kind == KindSynonym:
		err = s.index.SetSynonyms(s.cur.Synonyms)
	case v == nil:
		s.index.Remove(c.ID)
	default:
		err = upsert(s.index, v)
	}
	if err != nil {
		// The store holds the change; only this replica's index lags.
		s.log.Error("content store: index refused a change", "kind", c.Kind, "id", c.ID, "err", err)
	}
	return nil
}

func upsert(idx Index, v any) error {
	switch x := v.(type) {
	case *content.Notice:
		return idx.UpsertNotice(x)
	case *content.FAQ:
		return idx.UpsertFAQ(x)
	case *content.Rule:
		return idx.UpsertRule(x)
	}
	return nil
}

// catchUp resyncs after an import on this replica, so the importer's next
// request sees the new set.
func (s *Store) catchUp(ctx context.Context) {
	s.mu.Lock()
	loaded := s.cur != nil
	s.mu.Unlock()
	if loaded {
		s.resync(ctx)
	}
}

// resync reads the whole set and applies the difference to the view and
// the index.
func (s *Store) resync(ctx context.Context) {
	set, v, last, err := s.snapshot(ctx, s.rdb)
	if err != nil {
		s.log.Warn("content store: resync failed", "err", err)
		return
	}
	if v == 0 {
		// Redis lost everything (restarted without persistence). Serving
		// nothing would be worse than serving what this replica has: write
		// it back, once, whichever replica gets there first.
		s.mu.Lock()
		cur := s.cur
		s.mu.Unlock()
		if cur != nil && len(cur.Notices)+len(cur.FAQs)+len(cur.Rules) > 0 {
			s.log.Error("content store: Redis holds no content any more; restoring this replica's copy (enable AOF on Redis)")
			if err := s.importSet(ctx, "recovery", cur, true); err != nil && !errors.Is(err, errSeeded) {
				s.log.Error("content store: restore failed", "err", err)
			}
			if set, v, last, err = s.snapshot(ctx, s.rdb); err != nil || v == 0 {
				return
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v < s.version {
		return // an older read lost a race with a newer apply
	}
	old := s.cur
	if old == nil {
		old = &content.Set{}
	}
	s.cur, s.version, s.lastID = set, v, last
	if s.index != nil {
		applyDiff(s.index, old, set, func(id string, err error) {
			s.log.Error("content store: index refused an item", "id", id, "err", err)
		})
	}
	s.log.Info("content store: resynced", "version", v, "notices", len(set.Notices), "faqs", len(set.FAQs), "rules", len(set.Rules))
}

// applyDiff updates idx from old to next: upserts what is new or changed,
// removes what is gone.
func applyDiff(idx Index, old, next *content.Set, log func(id string, err error)) {
	seen := map[string]bool{}
	up := func(id string, err error) {
		if err != nil {
			log(id, err)
		}
	}
	for _, n := range next.Notices {
		seen[n.ID] = true
		if o := old.Notice(n.ID); o == nil || !sameJSON(o, n) {
			up(n.ID, idx.UpsertNotice(n))
		}
	}
	for _, f := range next.FAQs {
		seen[f.ID] = true
		if o := old.FAQ(f.ID); o == nil || !sameJSON(o, f) {
			up(f.ID, idx.UpsertFAQ(f))
		}
	}
	for _, r := range next.Rules {
		seen[r.ID] = true
		if o := old.Rule(r.ID); o == nil || !sameJSON(o, r) {
			up(r.ID, idx.UpsertRule(r))
		}
	}
	for _, n := range old.Notices {
		if !seen[n.ID] {
			idx.Remove(n.ID)
		}
	}
	for _, f := range old.FAQs {
		if !seen[f.ID] {
			idx.Remove(f.ID)
		}
	}
	for _, r := range old.Rules {
		if !seen[r.ID] {
			idx.Remove(r.ID)
		}
	}
	if !slices.EqualFunc(old.Synonyms, next.Synonyms, func(a, b *content.SynonymGroup) bool { return sameJSON(a, b) }) {
		up("synonyms", idx.SetSynonyms(next.Synonyms))
	}
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
