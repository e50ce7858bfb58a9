package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/content"
)

// Notices lists the stored notices in order.
func (s *Store) Notices(ctx context.Context) ([]*content.Notice, error) {
	set, err := s.Export(ctx)
	if err != nil {
		return nil, err
	}
	return set.Notices, nil
}

// FAQs lists the stored FAQs in order.
func (s *Store) FAQs(ctx context.Context) ([]*content.FAQ, error) {
	set, err := s.Export(ctx)
	if err != nil {
		return nil, err
	}
	return set.FAQs, nil
}

// Rules lists the stored rules in the order they are checked.
func (s *Store) Rules(ctx context.Context) ([]*content.Rule, error) {
	set, err := s.Export(ctx)
	if err != nil {
		return nil, err
	}
	return set.Rules, nil
}

// Synonyms lists the stored synonym groups.
func (s *Store) Synonyms(ctx context.Context) ([]*content.SynonymGroup, error) {
	set, err := s.Export(ctx)
	if err != nil {
		return nil, err
	}
	return set.Synonyms, nil
}

// Notice returns one notice, or ErrNotFound.
func (s *Store) Notice(ctx context.Context, id string) (*content.Notice, error) {
	var n content.Notice
	if err := s.get(ctx, KindNotice, id, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// FAQ returns one FAQ, or ErrNotFound.
func (s *Store) FAQ(ctx context.Context, id string) (*content.FAQ, error) {
	var f content.FAQ
	if err := s.get(ctx, KindFAQ, id, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// Rule returns one rule, or ErrNotFound.
func (s *Store) Rule(ctx context.Context, id string) (*content.Rule, error) {
	var r content.Rule
	if err := s.get(ctx, KindRule, id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Synonym returns one synonym group, or ErrNotFound.
func (s *Store) Synonym(ctx context.Context, id string) (*content.SynonymGroup, error) {
	var g content.SynonymGroup
	if err := s.get(ctx, KindSynonym, id, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

func (s *Store) get(ctx context.Context, k Kind, id string, dst any) error {
	raw, err := s.rdb.HGet(ctx, s.keyItems(k), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("%s %q: %w", k, id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("content store: get %s %s: %w", k, id, err)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("content store: decode %s %s: %w", k, id, err)
	}
	return nil
}

// Mode says whether a put may create, update, or both.
type Mode int

// Put modes.
const (
	Upsert Mode = iota // create or replace
	Create             // fail with ErrExists when the id is taken
	Update             // fail with ErrNotFound when the id is unknown
)

// PutNotice validates and stores a notice; actor is who does it (audit).
func (s *Store) PutNotice(ctx context.Context, actor string, n *content.Notice, mode Mode) error {
	if n == nil {
		return &content.FieldError{Field: "notice", Msg: "required"}
	}
	if err := n.Validate(); err != nil {
		return err
	}
	return s.put(ctx, actor, KindNotice, n.ID, n, mode)
}

// PutFAQ validates and stores an FAQ.
func (s *Store) PutFAQ(ctx context.Context, actor string, f *content.FAQ, mode Mode) error {
	if f == nil {
		return &content.FieldError{Field: "faq", Msg: "required"}
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return s.put(ctx, actor, KindFAQ, f.ID, f, mode)
}

// PutRule validates and stores a rule.
func (s *Store) PutRule(ctx context.Context, actor string, r *content.Rule, mode Mode) error {
	if r == nil {
		return &content.FieldError{Field: "rule", Msg: "required"}
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return s.put(ctx, actor, KindRule, r.ID, r, mode)
}

// PutSynonym validates and stores a synonym group; an empty id is derived
// from the first word, as the loader does.
func (s *Store) PutSynonym(ctx context.Context, actor string, g *content.SynonymGroup, mode Mode) error {
	if g == nil {
		return &content.FieldError{Field: "synonym", Msg: "required"}
	}
	if g.ID == "" {
		g.ID = content.SynonymID(g.Words)
	}
	if err := g.Validate(); err != nil {
		return err
	}
	return s.put(ctx, actor, KindSynonym, g.ID, g, mode)
}

// Delete removes one item of kind k. Deleting a notice or FAQ that others
// refer to fails with ErrConflict (a *content.FieldError names the referrer).
func (s *Store) Delete(ctx context.Context, actor string, k Kind, id string) error {
	if !slices.Contains(Kinds, k) {
		return fmt.Errorf("content store: unknown kind %q", k)
	}
	return s.change(ctx, actor, k, id, nil, Update)
}

func (s *Store) put(ctx context.Context, actor string, k Kind, id string, v any, mode Mode) error {
	return s.change(ctx, actor, k, id, v, mode)
}

// change writes (v != nil) or deletes (v == nil) one item: under WATCH of
// the version, it checks the whole set's references with the change applied,
// then writes the item, the new version, the change entry and the audit
// entry in one MULTI.
func (s *Store) change(ctx context.Context, actor string, k Kind, id string, v any, mode Mode) error {
	return s.changeWith(ctx, actor, k, id, mode, "", func(any) (any, error) { return v, nil })
}

// changeWith is change with the new item computed from the current one
// (nil when absent) inside the WATCH, so a read-modify-write never loses a
// concurrent edit. next must not modify before (it is this replica's live
// copy); an error from next is returned as is and nothing is written.
// action names the audit entry ("" = create, update or delete).
func (s *Store) changeWith(ctx context.Context, actor string, k Kind, id string, mode Mode, action string, next func(before any) (any, error)) error {
	const tries = 10
	for i := 0; i < tries; i++ {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			set, ver, err := s.view(ctx, tx)
			if err != nil {
				return err
			}
			before := find(set, k, id)
			v, err := next(before)
			if err != nil {
				return err
			}
			var data []byte
			if v != nil {
				if data, err = json.Marshal(v); err != nil {
					return fmt.Errorf("content store: encode %s %s: %w", k, id, err)
				}
			}
			switch {
			case before == nil && (mode == Update || v == nil):
				return fmt.Errorf("%s %q: %w", k, id, ErrNotFound)
			case before != nil && mode == Create:
				return fmt.Errorf("%s %q: %w", k, id, ErrExists)
			}
			next := with(set, k, id, v)
			if err := next.CheckRefs(); err != nil {
				return fmt.Errorf("%w: %w", ErrConflict, err)
			}
			op := opPut
			act := "update"
			if v == nil {
				op, act = opDelete, "delete"
			} else if before == nil {
				act = "create"
			}
			if action != "" {
				act = action
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				keys := s.kindKeys(k)
				if v == nil {
					p.HDel(ctx, keys[0], id)
					p.ZRem(ctx, keys[1], id)
				} else {
					p.HSet(ctx, keys[0], id, data)
					if before == nil {
						// New items go last; the counter keeps positions unique.
						p.Eval(ctx, `local n = redis.call('INCR', KEYS[1]) redis.call('ZADD', KEYS[2], n, ARGV[1]) return n`,
							[]string{s.keySeq(), keys[1]}, id)
					}
				}
				p.Set(ctx, s.keyVersion(), ver+1, 0)
				s.addChange(ctx, p, change{Version: ver + 1, Op: op, Kind: k, ID: id, Data: data})
				s.audit.add(ctx, p, AuditEntry{Actor: actor, Action: act, Kind: string(k), Item: id, Before: before, After: v})
				return nil
			})
			if err != nil {
				return err
			}
			s.applyOwn(change{Version: ver + 1, Op: op, Kind: k, ID: id, Data: data})
			return nil
		}, s.keyVersion())
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		return err
	}
	return fmt.Errorf("content store: %s %s: %w: content changed %d times meanwhile", k, id, ErrConflict, tries)
}

// view returns the current set and version for validating a change: this
// replica's copy when it is up to date, else a fresh read (inside WATCH).
func (s *Store) view(ctx context.Context, tx *redis.Tx) (*content.Set, int64, error) {
	ver, err := tx.Get(ctx, s.keyVersion()).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("content store: version: %w", err)
	}
	s.mu.Lock()
	cur, cv := s.cur, s.version
	s.mu.Unlock()
	if cur != nil && cv == ver {
		return cur, ver, nil
	}
	set, v, _, err := s.snapshot(ctx, tx)
	return set, v, err
}

// find returns the item of kind k with that id in set, or nil.
func find(set *content.Set, k Kind, id string) any {
	switch k {
	case KindNotice:
		if n := set.Notice(id); n != nil {
			return n
		}
	case KindFAQ:
		if f := set.FAQ(id); f != nil {
			return f
		}
	case KindRule:
		if r := set.Rule(id); r != nil {
			return r
		}
	case KindSynonym:
		for _, g := range set.Synonyms {
			if g.ID == id {
				return g
			}
		}
	}
	return nil
}

// with returns a copy of set (sharing unchanged items) where the item of
// kind k with that id is replaced by v, added at the end, or removed (v nil).
func with(set *content.Set, k Kind, id string, v any) *content.Set {
	next := &content.Set{
		Notices:  slices.Clone(set.Notices),
		FAQs:     slices.Clone(set.FAQs),
		Rules:    slices.Clone(set.Rules),
		Synonyms: slices.Clone(set.Synonyms),
	}
	switch k {
	case KindNotice:
		next.Notices = replace(next.Notices, func(n *content.Notice) bool { return n.ID == id }, asType[*content.Notice](v))
	case KindFAQ:
		next.FAQs = replace(next.FAQs, func(f *content.FAQ) bool { return f.ID == id }, asType[*content.FAQ](v))
	case KindRule:
		next.Rules = replace(next.Rules, func(r *content.Rule) bool { return r.ID == id }, asType[*content.Rule](v))
	case KindSynonym:
		next.Synonyms = replace(next.Synonyms, func(g *content.SynonymGroup) bool { return g.ID == id }, asType[*content.SynonymGroup](v))
	}
	return next
}

func asType[T any](v any) *box[T] {
	if v == nil {
		return nil
	}
	t, ok := v.(T)
	if !ok {
		return nil
	}
	return &box[T]{t}
}

// box holds an optional replacement (a nil box means remove).
type box[T any] struct{ v T }

func replace[T any](list []T, match func(T) bool, repl *box[T]) []T {
	i := slices.IndexFunc(list, match)
	switch {
	case i >= 0 && repl == nil:
		return slices.Delete(list, i, i+1)
	case i >= 0:
		list[i] = repl.v
		return list
	case repl != nil:
		return append(list, repl.v)
	}
	return list
}
