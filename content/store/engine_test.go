package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

var _ Index = (*search.Engine)(nil)

// Two processes' worth of store and search engine on one Redis: a FAQ
// written through one is answered by the other's engine within a second.
func TestEditAnsweredByOtherReplica(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if _, err := New(rdb, prefix, Options{}).Seed(ctx, "seed", sampleSet(t)); err != nil {
		t.Fatal(err)
	}
	replica := func() (*Store, *search.Engine) {
		st := New(rdb, prefix, Options{})
		set, err := st.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := search.New(set, search.Options{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = st.Follow(ctx, eng) }()
		return st, eng
	}
	a, _ := replica()
	_, engB := replica()

	const q = "冬季校服在哪里订购"
	if r := engB.Match(ctx, search.Query{Text: q}); r.Decision == search.Answer && r.Best.ID == "faq-winter-uniform" {
		t.Fatal("answered before the FAQ exists")
	}
	faq := &content.FAQ{
		ID: "faq-winter-uniform", Question: "冬季校服在哪里订购？", Alternates: []string{"冬装校服怎么买"},
		Answer: "冬季校服由学校统一征订，家长自愿购买，可在班主任处登记尺码。", Keywords: []string{"校服", "冬季校服"},
	}
	start := time.Now()
	if err := a.PutFAQ(ctx, "alice", faq, Create); err != nil {
		t.Fatal(err)
	}
	var r search.Result
	waitFor(t, time.Second, func() bool {
		r = engB.Match(ctx, search.Query{Text: q})
		return r.Decision == search.Answer && r.Best.ID == faq.ID
	})
	t.Logf("answered by the other replica %s after the write", time.Since(start))

	if err := a.Delete(ctx, "alice", KindFAQ, faq.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool {
		r = engB.Match(ctx, search.Query{Text: q})
		return r.Best.ID != faq.ID
	})
}
