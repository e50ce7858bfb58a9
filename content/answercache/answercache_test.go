package answercache

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
)

var today = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// One engine over the sample content for every test (building one takes
// a while); each test has its own cache around it. A test that changes the
// content puts it back.
var shared struct {
	once sync.Once
	e    *search.Engine
	err  error
}

func newCache(t *testing.T, size int) (*Cache, *search.Engine) {
	t.Helper()
	now := func() time.Time { return today }
	shared.once.Do(func() {
		set, err := content.Load(sample.FS())
		if err != nil {
			shared.err = err
			return
		}
		shared.e, shared.err = search.New(set, search.Options{Now: now})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return New(shared.e, Options{Size: size, Now: now}), shared.e
}

func strip(r search.Result) search.Result {
	r.Analysis = search.Analysis{Normalized: r.Analysis.Normalized, Tokens: r.Analysis.Tokens, Regions: r.Analysis.Regions,
		Grades: r.Analysis.Grades, Role: r.Analysis.Role, Empty: r.Analysis.Empty, Scope: r.Analysis.Scope,
		Topic: r.Analysis.Topic, FollowUp: r.Analysis.FollowUp}
	return r
}

// A cached answer is the engine's answer, for the same text and for the
// spellings the engine folds anyway; another context is another entry.
func TestSameAnswersAsTheEngine(t *testing.T) {
	c, e := newCache(t, 64)
	ctx := context.Background()
	qs := []search.Query{
		{Text: "开学时间"},
		{Text: "开学时间？"},
		{Text: "开学时间?"},
		{Text: " 开学时间？ "},
		{Text: "开学时间", Region: "普宁"},
		{Text: "开学时间", Grade: "初一"},
		{Text: "开学时间", Role: "teachers"},
		{Text: "ＡＢＣ考试报名"},
		{Text: "abc考试报名"},
		{Text: "期末考试什么时候"},
		{Text: "你好"},
	}
	for round := 0; round < 2; round++ {
		for _, q := range qs {
			got, want := c.Match(ctx, q), e.Match(ctx, q)
			if !reflect.DeepEqual(strip(got), strip(want)) {
				t.Errorf("round %d, %+v:\ncache  %+v\nengine %+v", round, q, strip(got), strip(want))
			}
		}
	}
	st := c.Stats()
	if st.MatchHits < uint64(len(qs)) {
		t.Errorf("second round: %d hits, want ≥ %d", st.MatchHits, len(qs))
	}
	if st.MatchMisses > uint64(len(qs)) {
		t.Errorf("%d misses for %d distinct queries", st.MatchMisses, len(qs))
	}
}

// An edit applied through the cache is seen by the very next match.
func TestChangeInvalidates(t *testing.T) {
	c, _ := newCache(t, 64)
	ctx := context.Background()
	q := search.Query{Text: "校服退费怎么办理"}
	before := c.Match(ctx, q)
	c.Match(ctx, q)
	f := &content.FAQ{ID: "f-uniform-refund", Question: "校服退费怎么办理", Answer: "凭收据到学校总务处办理校服退费。"}
	if err := c.UpsertFAQ(f); err != nil {
		t.Fatal(err)
	}
	after := c.Match(ctx, q)
	if after.Decision != search.Answer || after.Best.ID != f.ID {
		t.Fatalf("after the edit: %v %q (before: %v %q), want the new FAQ", after.Decision, after.Best.ID, before.Decision, before.Best.ID)
	}
	if !c.Remove(f.ID) {
		t.Fatal("Remove: not found")
	}
	if again := c.Match(ctx, q); again.Best.ID == f.ID {
		t.Errorf("after removing it the cache still answers with %q", f.ID)
	}
}

// A caller changing a result does not change what the cache serves next.
func TestResultsAreCopies(t *testing.T) {
	c, _ := newCache(t, 64)
	ctx := context.Background()
	q := search.Query{Text: "开学时间"}
	r := c.Match(ctx, q)
	if len(r.Top) == 0 {
		t.Fatal("no candidates")
	}
	id := r.Top[0].ID
	r.Top[0].ID = "changed"
	r2 := c.Match(ctx, q)
	r2.Top[0].ID = "changed again"
	if r3 := c.Match(ctx, q); r3.Top[0].ID != id {
		t.Errorf("cached result changed by a caller: %q, want %q", r3.Top[0].ID, id)
	}
}

// Another day is another entry: 今年, 最新 and expiry depend on it.
func TestDayIsPartOfTheKey(t *testing.T) {
	c, _ := newCache(t, 64)
	ctx := context.Background()
	c.Match(ctx, search.Query{Text: "最新通知", Now: today})
	c.Match(ctx, search.Query{Text: "最新通知", Now: today.AddDate(1, 0, 0)})
	if st := c.Stats(); st.MatchHits != 0 || st.MatchMisses != 2 {
		t.Errorf("two days: %+v, want 2 misses", st)
	}
}

// The cache stays within its size, and keeps what is asked often.
func TestBounded(t *testing.T) {
	l := newLRU[int, int](10)
	for i := 0; i < 1000; i++ {
		l.put(i, 0, i)
		l.get(0, 0) // asked all the time
	}
	if n := len(l.cur) + len(l.old); n > 10 {
		t.Errorf("%d entries, want ≤ 10", n)
	}
	if v, ok := l.get(0, 0); !ok || v != 0 {
		t.Error("the most asked entry was dropped")
	}
	if _, ok := l.get(0, 1); ok {
		t.Error("an entry of another version was served")
	}
}

// Analyses are cached per exact text, and Match still takes them.
func TestAnalyzeCached(t *testing.T) {
	c, e := newCache(t, 64)
	a1 := c.Analyze("惠来中考报名时间")
	a2 := c.Analyze("惠来中考报名时间")
	if !reflect.DeepEqual(a1.Regions, e.Analyze("惠来中考报名时间").Regions) || a2.Topic != a1.Topic {
		t.Errorf("analysis differs: %+v / %+v", a1, a2)
	}
	if st := c.Stats(); st.AnalyzeHits != 1 {
		t.Errorf("stats %+v, want one analysis hit", st)
	}
	r := c.Match(context.Background(), search.Query{Text: "惠来中考报名时间", Analysis: &a2})
	want := e.Match(context.Background(), search.Query{Text: "惠来中考报名时间"})
	if r.Best.ID != want.Best.ID || r.Decision != want.Decision {
		t.Errorf("match with the cached analysis: %v %q, engine %v %q", r.Decision, r.Best.ID, want.Decision, want.Best.ID)
	}
}

// Off (negative size): every call goes to the engine.
func TestOff(t *testing.T) {
	c, _ := newCache(t, -1)
	c.Match(context.Background(), search.Query{Text: "开学时间"})
	c.Match(context.Background(), search.Query{Text: "开学时间"})
	if st := c.Stats(); st != (Stats{}) {
		t.Errorf("stats %+v with the cache off", st)
	}
}
