package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gdjysjyj/edubot/content"
)

// ErrUnchanged: the change asked for is already there (nothing written).
var ErrUnchanged = errors.New("unchanged")

// AddAlternate adds question to FAQ id's other ways of asking, as one
// change like any other (validated, audited as "add-alternate", on the
// change stream, so every replica answers it at once). The read and the
// write happen under one WATCH: an edit of the FAQ made meanwhile is kept.
// A question that is already the FAQ's question or one of its alternates
// (ignoring surrounding space) returns the FAQ and ErrUnchanged.
func (s *Store) AddAlternate(ctx context.Context, actor, id, question string) (*content.FAQ, error) {
	q := strings.TrimSpace(question)
	if q == "" {
		return nil, &content.FieldError{ID: id, Field: "question", Msg: "required"}
	}
	var out *content.FAQ
	err := s.changeWith(ctx, actor, KindFAQ, id, Update, "add-alternate", func(before any) (any, error) {
		f, _ := before.(*content.FAQ)
		if f == nil {
			return nil, fmt.Errorf("%s %q: %w", KindFAQ, id, ErrNotFound)
		}
		next := *f // before is the replica's live copy: never modify it
		next.Alternates = slices.Clone(f.Alternates)
		out = &next
		if strings.TrimSpace(f.Question) == q || slices.ContainsFunc(f.Alternates, func(a string) bool { return strings.TrimSpace(a) == q }) {
			return nil, ErrUnchanged
		}
		next.Alternates = append(next.Alternates, q)
		if err := next.Validate(); err != nil {
			return nil, err
		}
		return &next, nil
	})
	if err != nil {
		if errors.Is(err, ErrUnchanged) {
			return out, err
		}
		return nil, err
	}
	return out, nil
}
