package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// An alternate added through one replica is answered by another's engine,
// is audited, and keeps an edit of the FAQ made just before it.
func TestAddAlternate(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	set := sampleSet(t)
	if _, err := New(rdb, prefix, Options{}).Seed(ctx, "seed", set); err != nil {
		t.Fatal(err)
	}
	a := New(rdb, prefix, Options{})
	if _, err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	b := New(rdb, prefix, Options{})
	setB, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	engB, err := search.New(setB, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = b.Follow(ctx, engB) }()

	faq := set.FAQs[0]
	// Another replica's edit lands first; the alternate must not undo it.
	edited := *faq
	edited.Answer = faq.Answer + "（已更新）"
	if err := b.PutFAQ(ctx, "bob", &edited, Update); err != nil {
		t.Fatal(err)
	}
	const q = "娃娃的那个事情到底咋整嘛"
	got, err := a.AddAlternate(ctx, "alice", faq.ID, "  "+q+" ")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got.Alternates, q) || got.Answer != edited.Answer {
		t.Fatalf("after AddAlternate: %+v", got)
	}
	stored, err := a.FAQ(ctx, faq.ID)
	if err != nil || !slices.Contains(stored.Alternates, q) || stored.Answer != edited.Answer {
		t.Fatalf("stored: %+v, %v", stored, err)
	}
	waitFor(t, time.Second, func() bool {
		r := engB.Match(ctx, search.Query{Text: q})
		return r.Decision == search.Answer && r.Best.ID == faq.ID
	})
	entries, err := a.Audit().List(ctx, AuditQuery{Item: faq.ID, Limit: 5})
	if err != nil || len(entries) == 0 || entries[0].Action != "add-alternate" || entries[0].Actor != "alice" {
		t.Fatalf("audit: %+v, %v", entries, err)
	}

	// Again: nothing written, ErrUnchanged.
	if _, err := a.AddAlternate(ctx, "alice", faq.ID, q); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("second add: %v, want ErrUnchanged", err)
	}
	if _, err := a.AddAlternate(ctx, "alice", faq.ID, faq.Question); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("the FAQ's own question: %v, want ErrUnchanged", err)
	}
	if _, err := a.AddAlternate(ctx, "alice", "no-such-faq", q); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown FAQ: %v, want ErrNotFound", err)
	}
	var fe *content.FieldError
	if _, err := a.AddAlternate(ctx, "alice", faq.ID, "  "); !errors.As(err, &fe) || fe.Field != "question" {
		t.Fatalf("empty question: %v", err)
	}
	entries, _ = a.Audit().List(ctx, AuditQuery{Item: faq.ID, Limit: 5})
	if len(entries) != 2 {
		t.Fatalf("refused adds were audited: %d entries", len(entries))
	}
}
