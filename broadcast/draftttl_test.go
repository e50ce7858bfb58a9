package broadcast

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/internal/wxfake"
)

// A draft nobody confirms expires (its keys carry DraftTTL); a confirmed
// job is kept.
func TestDraftsExpireConfirmedJobsStay(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	manySubscribers(e, 2)
	s := e.service(Options{DraftTTL: 7 * 24 * time.Hour})
	ctx := context.Background()
	draft, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{s.jobKey(draft.ID), s.queueKey(draft.ID)} {
		ttl := e.rdb.TTL(ctx, k).Val()
		if ttl <= 6*24*time.Hour || ttl > 7*24*time.Hour {
			t.Errorf("draft key %s: TTL %s, want about 7 days", k, ttl)
		}
	}
	kept, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, kept.ID, "li"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{s.jobKey(kept.ID), s.queueKey(kept.ID)} {
		if ttl := e.rdb.TTL(ctx, k).Val(); ttl != -1 {
			t.Errorf("confirmed job key %s: TTL %s, want none", k, ttl)
		}
	}
	// Expired: gone from Get and List, no error.
	short := e.service(Options{DraftTTL: time.Second})
	gone, err := short.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1300 * time.Millisecond)
	if _, err := short.Get(ctx, gone.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired draft: %v, want ErrNotFound", err)
	}
	list, err := short.List(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range list {
		if j.ID == gone.ID {
			t.Error("an expired draft is still listed")
		}
	}
}
