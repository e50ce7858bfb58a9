package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// fakeIndex records what the store applies to a replica's index.
type fakeIndex struct {
	mu       sync.Mutex
	items    map[string]any
	synonyms []*content.SynonymGroup
	calls    int
}

var _ Index = (*fakeIndex)(nil)

func newFakeIndex(set *content.Set) *fakeIndex {
	f := &fakeIndex{items: map[string]any{}}
	for _, n := range set.Notices {
		f.items[n.ID] = n
	}
	for _, q := range set.FAQs {
		f.items[q.ID] = q
	}
	for _, r := range set.Rules {
		f.items[r.ID] = r
	}
	f.synonyms = set.Synonyms
	return f
}

func (f *fakeIndex) UpsertNotice(n *content.Notice) error { return f.put(n.ID, n) }
func (f *fakeIndex) UpsertFAQ(q *content.FAQ) error       { return f.put(q.ID, q) }
func (f *fakeIndex) UpsertRule(r *content.Rule) error     { return f.put(r.ID, r) }
func (f *fakeIndex) SetSynonyms(g []*content.SynonymGroup) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.synonyms, f.calls = g, f.calls+1
	return nil
}
func (f *fakeIndex) Remove(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.items[id]
	delete(f.items, id)
	f.calls++
	return ok
}
func (f *fakeIndex) put(id string, v any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[id], f.calls = v, f.calls+1
	return nil
}
func (f *fakeIndex) get(id string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.items[id]
}

func sampleSet(t *testing.T) *content.Set {
	t.Helper()
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func newSeeded(t *testing.T) (*Store, *content.Set, context.Context) {
	t.Helper()
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	st := New(rdb, prefix, Options{})
	set := sampleSet(t)
	seeded, err := st.Seed(ctx, "seed", set)
	if err != nil || !seeded {
		t.Fatalf("seed: %v %v", seeded, err)
	}
	return st, set, ctx
}

func notice(id string) *content.Notice {
	d, _ := content.ParseDate("2026-11-20")
	return &content.Notice{
		ID: id, Title: "关于做好冬季校园安全工作的通知", Date: d, Source: "揭阳市教育局",
		URL: "https://jyedu.example.org/n/" + id, Summary: "冬季用电、用火和交通安全提醒。",
		Body: "各学校要做好冬季安全排查。",
	}
}

func TestSeedOnlyOnce(t *testing.T) {
	st, set, ctx := newSeeded(t)
	other := &content.Set{Rules: []*content.Rule{{ID: "rule-x", Match: "exact", Keywords: []string{"x"}, Reply: "x"}}}
	seeded, err := st.Seed(ctx, "seed", other)
	if err != nil || seeded {
		t.Fatalf("second seed: seeded=%v err=%v, want false, nil", seeded, err)
	}
	got, err := st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notices) != len(set.Notices) || len(got.FAQs) != len(set.FAQs) || len(got.Rules) != len(set.Rules) {
		t.Errorf("store changed by second seed: %d/%d/%d", len(got.Notices), len(got.FAQs), len(got.Rules))
	}
}

func TestCRUDValidation(t *testing.T) {
	st, _, ctx := newSeeded(t)
	n := notice("n-2026-1120-winter-safety")
	if err := st.PutNotice(ctx, "alice", n, Create); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := st.PutNotice(ctx, "alice", n, Create); !errors.Is(err, ErrExists) {
		t.Errorf("create twice: %v, want ErrExists", err)
	}
	if err := st.PutNotice(ctx, "alice", notice("n-missing"), Update); !errors.Is(err, ErrNotFound) {
		t.Errorf("update missing: %v, want ErrNotFound", err)
	}
	got, err := st.Notice(ctx, n.ID)
	if err != nil || got.Title != n.Title || got.Date.String() != "2026-11-20" || got.Body != n.Body {
		t.Fatalf("read back: %+v %v", got, err)
	}

	bad := notice("n-bad")
	bad.Title = ""
	var fe *content.FieldError
	if err := st.PutNotice(ctx, "alice", bad, Upsert); !errors.As(err, &fe) || fe.Field != "title" {
		t.Errorf("empty title: %v, want a field error on title", err)
	}
	faq := &content.FAQ{ID: "faq-x", Question: "问？", Answer: "答。", Notices: []string{"n-nowhere"}}
	if err := st.PutFAQ(ctx, "alice", faq, Upsert); !errors.Is(err, ErrConflict) || !errors.As(err, &fe) || fe.Field != "notices" {
		t.Errorf("faq with missing notice: %v, want conflict on notices", err)
	}
	rule := &content.Rule{ID: "rule-y", Match: "fuzzy", Keywords: []string{"y"}, Reply: "y"}
	if err := st.PutRule(ctx, "alice", rule, Upsert); !errors.As(err, &fe) || fe.Field != "match" {
		t.Errorf("bad match: %v, want a field error on match", err)
	}
	// A notice an FAQ refers to cannot be deleted.
	if err := st.Delete(ctx, "alice", KindNotice, "n-2026-0815-puning-autumn-term"); !errors.Is(err, ErrConflict) {
		t.Errorf("delete referenced notice: %v, want ErrConflict", err)
	}
	if err := st.Delete(ctx, "alice", KindNotice, n.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := st.Notice(ctx, n.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v, want ErrNotFound", err)
	}
	// An id may not be reused across kinds.
	dup := &content.FAQ{ID: "rule-hotline", Question: "q", Answer: "a"}
	if err := st.PutFAQ(ctx, "alice", dup, Create); !errors.Is(err, ErrConflict) {
		t.Errorf("faq with a rule's id: %v, want ErrConflict", err)
	}

	entries, err := st.Audit().List(ctx, AuditQuery{Item: n.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != "delete" || entries[1].Action != "create" || entries[0].Actor != "alice" {
		t.Fatalf("audit for %s: %+v", n.ID, entries)
	}
	if entries[1].Before != nil || entries[1].After == nil || entries[0].Before == nil || entries[0].After != nil {
		t.Errorf("audit before/after wrong: %+v", entries)
	}
	var after content.Notice
	if err := json.Unmarshal(entries[1].After.(json.RawMessage), &after); err != nil || after.Title != n.Title {
		t.Errorf("audit after = %s (%v)", entries[1].After, err)
	}
}

// Two replicas on one Redis: an edit on one reaches the other's index
// within a second, without restart.
func TestReplicasFollowChanges(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := New(rdb, prefix, Options{})
	b := New(rdb, prefix, Options{})
	if _, err := a.Seed(ctx, "seed", sampleSet(t)); err != nil {
		t.Fatal(err)
	}
	var idxA, idxB *fakeIndex
	var wg sync.WaitGroup
	for _, r := range []struct {
		st  *Store
		idx **fakeIndex
	}{{a, &idxA}, {b, &idxB}} {
		set, err := r.st.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		*r.idx = newFakeIndex(set)
		wg.Add(1)
		go func(st *Store, idx *fakeIndex) {
			defer wg.Done()
			_ = st.Follow(ctx, idx)
		}(r.st, *r.idx)
	}
	defer wg.Wait()
	defer cancel()
	// Follow registers the index in its goroutine: write only once both
	// replicas follow (on a Cluster the write could otherwise come first).
	waitFor(t, time.Second, func() bool {
		for _, st := range []*Store{a, b} {
			st.mu.Lock()
			ok := st.index != nil
			st.mu.Unlock()
			if !ok {
				return false
			}
		}
		return true
	})

	faq := &content.FAQ{ID: "faq-winter-uniform", Question: "冬季校服在哪里买？", Answer: "由学校统一征订，家长自愿购买。"}
	start := time.Now()
	if err := a.PutFAQ(ctx, "alice", faq, Create); err != nil {
		t.Fatal(err)
	}
	if idxA.get(faq.ID) == nil {
		t.Error("the writing replica's index does not have the FAQ right after the write")
	}
	waitFor(t, time.Second, func() bool { return idxB.get(faq.ID) != nil })
	t.Logf("other replica applied the edit after %s", time.Since(start))

	faq2 := *faq
	faq2.Answer = "由学校统一征订，家长自愿购买，不得强制。"
	if err := b.PutFAQ(ctx, "bob", &faq2, Update); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool {
		f, _ := idxA.get(faq.ID).(*content.FAQ)
		return f != nil && f.Answer == faq2.Answer
	})
	if err := a.Delete(ctx, "alice", KindFAQ, faq.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool { return idxB.get(faq.ID) == nil })

	g := &content.SynonymGroup{Words: []string{"校服", "园服"}}
	if err := b.PutSynonym(ctx, "bob", g, Create); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool {
		idxA.mu.Lock()
		defer idxA.mu.Unlock()
		for _, s := range idxA.synonyms {
			if s.ID == "syn-校服" {
				return true
			}
		}
		return false
	})

	// A whole-set import on one replica reaches the other as a diff.
	set := sampleSet(t)
	set.Rules = set.Rules[:len(set.Rules)-1]
	removed := sampleSet(t).Rules[len(set.Rules)].ID
	if err := a.ImportSet(ctx, "alice", set); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool { return idxB.get(removed) == nil })
	if cur, _ := b.Current(); cur.Rule(removed) != nil || len(cur.Synonyms) != len(set.Synonyms) {
		t.Errorf("replica b's view not replaced by the import")
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not seen within %s", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestImportSetIsAtomic(t *testing.T) {
	st, set, ctx := newSeeded(t)
	v0, _ := st.Version(ctx)
	bad := sampleSet(t)
	bad.Notices = append(bad.Notices, notice("n-new-good"))
	bad.FAQs[0] = &content.FAQ{ID: bad.FAQs[0].ID, Question: "q", Answer: "a", Notices: []string{"n-does-not-exist"}}
	var fe *content.FieldError
	if err := st.ImportSet(ctx, "alice", bad); !errors.As(err, &fe) || fe.Field != "notices" {
		t.Fatalf("bad set: %v, want a field error on notices", err)
	}
	v1, _ := st.Version(ctx)
	got, err := st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 != v0 || got.Notice("n-new-good") != nil || len(got.Notices) != len(set.Notices) {
		t.Errorf("a bad set changed the store (version %d→%d)", v0, v1)
	}
}

// Export → import → export gives the same set, file for file.
func TestExportImportRoundTrip(t *testing.T) {
	st, orig, ctx := newSeeded(t)
	if err := st.PutNotice(ctx, "alice", notice("n-2026-1120-winter-safety"), Create); err != nil {
		t.Fatal(err)
	}
	exported, err := st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files, err := exported.Files()
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	loaded, err := content.Load(fsys)
	if err != nil {
		t.Fatalf("export does not load: %v", err)
	}

	rdb, prefix := testredis.New(t)
	st2 := New(rdb, prefix, Options{})
	if err := st2.ImportSet(ctx, "bob", loaded); err != nil {
		t.Fatal(err)
	}
	again, err := st2.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files2, err := again.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files2) != len(files) {
		t.Fatalf("%d files, want %d", len(files2), len(files))
	}
	for name, data := range files {
		if string(files2[name]) != string(data) {
			t.Errorf("%s differs after the round trip:\n%s\n---\n%s", name, data, files2[name])
		}
	}
	// And nothing of the original sample is lost on the way (order kept).
	if j1, j2 := mustJSON(t, orig.Rules), mustJSON(t, again.Rules); j1 != j2 {
		t.Errorf("rules changed:\n%s\n%s", j1, j2)
	}
	if j1, j2 := mustJSON(t, orig.FAQs), mustJSON(t, again.FAQs); j1 != j2 {
		t.Errorf("faqs changed")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A Redis that lost everything (restart without persistence) gets the
// content back from a replica's copy instead of every replica serving
// nothing.
func TestRestoresContentRedisLost(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := New(rdb, prefix, Options{CheckInterval: 100 * time.Millisecond})
	if _, err := a.Seed(ctx, "seed", sampleSet(t)); err != nil {
		t.Fatal(err)
	}
	if err := a.PutNotice(ctx, "alice", notice("n-2026-1120-winter-safety"), Create); err != nil {
		t.Fatal(err)
	}
	set, err := a.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idx := newFakeIndex(set)
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Follow(ctx, idx) }()
	defer func() { cancel(); <-done }()

	if err := testredis.DeleteMatching(ctx, rdb, prefix+"*"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, func() bool {
		n, err := a.Notice(ctx, "n-2026-1120-winter-safety")
		return err == nil && n != nil
	})
	if idx.get("n-2026-1120-winter-safety") == nil || idx.get("faq-term-start-city") == nil {
		t.Error("the index lost content while Redis was empty")
	}
	got, err := a.Export(ctx)
	if err != nil || len(got.Notices) != len(set.Notices) || len(got.FAQs) != len(set.FAQs) {
		t.Errorf("restored set differs: %v", err)
	}
}

// Two replicas racing: one keeps adding FAQs that refer to notices, the
// other keeps deleting those notices. Whatever wins, the stored set never
// holds a reference to a missing notice.
func TestConcurrentEditsKeepReferences(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	a := New(rdb, prefix, Options{})
	b := New(rdb, prefix, Options{})
	if _, err := a.Seed(ctx, "seed", sampleSet(t)); err != nil {
		t.Fatal(err)
	}
	const n = 15
	for i := 0; i < n; i++ {
		if err := a.PutNotice(ctx, "a", notice(fmt.Sprintf("n-race-%d", i)), Create); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			f := &content.FAQ{ID: fmt.Sprintf("faq-race-%d", i), Question: "问？", Answer: "答。", Notices: []string{fmt.Sprintf("n-race-%d", i)}}
			err := a.PutFAQ(ctx, "a", f, Create)
			if err != nil && !errors.Is(err, ErrConflict) {
				t.Errorf("put faq: %v", err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			err := b.Delete(ctx, "b", KindNotice, fmt.Sprintf("n-race-%d", i))
			if err != nil && !errors.Is(err, ErrConflict) {
				t.Errorf("delete notice: %v", err)
			}
		}
	}()
	wg.Wait()
	set, err := a.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := set.CheckRefs(); err != nil {
		t.Fatalf("racing edits broke the set: %v", err)
	}
	v, _ := a.Version(ctx)
	entries, _ := a.Audit().List(ctx, AuditQuery{Limit: 1000})
	if int64(len(entries)) != v {
		t.Errorf("%d audit entries for version %d: every change is audited exactly once", len(entries), v)
	}
}

// A staff edit that lands between Load and Follow (a replica starting while
// staff work) reaches the index built from Load's set as soon as Follow
// attaches it, not at the next resync.
func TestEditBetweenLoadAndFollowReachesIndex(t *testing.T) {
	rdb, prefix := testredis.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	a := New(rdb, prefix, Options{CheckInterval: time.Hour})
	if _, err := a.Seed(ctx, "seed", sampleSet(t)); err != nil {
		t.Fatal(err)
	}
	set, err := a.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idx := newFakeIndex(set)
	if err := a.PutNotice(ctx, "alice", notice("n-2026-1120-winter-safety"), Create); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "alice", KindFAQ, "faq-term-start-city"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Follow(ctx, idx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 3*time.Second, func() bool {
		return idx.get("n-2026-1120-winter-safety") != nil && idx.get("faq-term-start-city") == nil
	})
}
