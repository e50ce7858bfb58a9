package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search/lexicon"
)

// genWords is a vocabulary for generated content: two- to four-character
// words of the general word list, most frequent first (so a Zipf draw gives
// text with realistic repetition).
func genWords() []string {
	var out []string
	for _, line := range strings.Split(lexicon.Words(), "\n") {
		w, _, _ := strings.Cut(line, " ")
		if n := len([]rune(w)); n >= 2 && n <= 4 && hasHan(w) {
			out = append(out, w)
		}
		if len(out) == 20000 {
			break
		}
	}
	return out
}

// genSet generates notices and FAQs of realistic lengths.
func genSet(notices, faqs int, seed uint64) *content.Set {
	words := genWords()
	r := rand.New(rand.NewPCG(seed, seed+1))
	zipf := rand.NewZipf(r, 1.1, 8, uint64(len(words)-1))
	text := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(words[zipf.Uint64()])
			if i%9 == 8 {
				b.WriteString("，")
			}
		}
		return b.String()
	}
	regions := []string{"揭阳市", "揭阳市", "揭阳市", "普宁市", "惠来县", "榕城区", "揭东区", "揭西县"}
	set := &content.Set{}
	base := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < notices; i++ {
		set.Notices = append(set.Notices, &content.Notice{
			ID: fmt.Sprintf("n-%06d", i), Title: regions[r.IntN(len(regions))] + text(3+r.IntN(4)) + "通知",
			Date:   content.Date{Time: base.AddDate(0, 0, r.IntN(4000))},
			Source: "教育局", URL: "https://e.example/n", Summary: text(10 + r.IntN(8)),
			Keywords: []string{words[zipf.Uint64()], words[zipf.Uint64()]}, Region: regions[r.IntN(len(regions))],
			Body: text(80 + r.IntN(80)),
		})
	}
	for i := 0; i < faqs; i++ {
		set.FAQs = append(set.FAQs, &content.FAQ{
			ID: fmt.Sprintf("faq-%05d", i), Question: text(3+r.IntN(3)) + "？",
			Alternates: []string{text(3 + r.IntN(3)), text(3 + r.IntN(3))},
			Answer:     text(20 + r.IntN(30)), Keywords: []string{words[zipf.Uint64()]}, Region: regions[r.IntN(len(regions))],
		})
	}
	return set
}

// genQueries makes questions from content words: some close to a title or
// question, some loose word combinations.
func genQueries(set *content.Set, n int) []string {
	words := genWords()
	r := rand.New(rand.NewPCG(7, 8))
	var out []string
	for i := 0; i < n; i++ {
		switch i % 3 {
		case 0:
			nt := set.Notices[r.IntN(len(set.Notices))]
			out = append(out, "请问"+nt.Title+"在哪看")
		case 1:
			f := set.FAQs[r.IntN(len(set.FAQs))]
			out = append(out, f.Question)
		default:
			out = append(out, words[r.IntN(2000)]+words[r.IntN(5000)]+"怎么办")
		}
	}
	return out
}

var scale struct {
	once    sync.Once
	eng     *Engine
	set     *content.Set
	build   time.Duration
	heapMiB float64
	ixMiB   float64
	sysMiB  float64
	rssMiB  float64 // resident after the build, garbage returned (Linux; 0 elsewhere)
	err     error
}

func scaleEngine(b *testing.B) *Engine {
	scale.once.Do(func() {
		scale.set = genSet(100000, 5000, 1)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		scale.eng, scale.err = New(scale.set, Options{})
		scale.build = time.Since(start)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		scale.heapMiB = float64(after.HeapAlloc) / (1 << 20)
		scale.ixMiB = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		scale.sysMiB = float64(after.Sys) / (1 << 20)
		// What the process keeps once the build's garbage is given back
		// (serve does the same after building its index).
		debug.FreeOSMemory()
		scale.rssMiB = rssMiB()
	})
	if scale.err != nil {
		b.Fatal(scale.err)
	}
	return scale.eng
}

// BenchmarkMatchScale matches against 100,000 notices and 5,000 FAQs and
// reports the index build time, the live heap after building (content
// included) and the index's share of it, the memory obtained from the OS
// (the process's peak), and
// the p50/p99 latency of one Match. Run with
//
//	go test -tags ne -run '^$' -bench MatchScale -benchtime 5000x ./content/search/
func BenchmarkMatchScale(b *testing.B) {
	e := scaleEngine(b)
	qs := genQueries(scale.set, 2000)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		e.Match(ctx, Query{Text: qs[i%len(qs)], Now: now})
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "p99-µs")
	b.ReportMetric(scale.build.Seconds(), "build-s")
	b.ReportMetric(scale.heapMiB, "heap-MiB")
	b.ReportMetric(scale.ixMiB, "index-MiB")
	b.ReportMetric(scale.sysMiB, "sys-MiB")
	b.ReportMetric(scale.rssMiB, "rss-MiB")
}

// rssMiB is the process's resident set (VmRSS), 0 when unknown.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkMatchSmall matches against a bureau-sized set (the test set).
func BenchmarkMatchSmall(b *testing.B) {
	e := newTestEngine(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Match(ctx, Query{Text: "老师您好，请问学校饭堂的伙食费怎么收呀", Now: testNow})
	}
}
