package search

import (
	"context"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
)

// Any text to the query analyser and the matcher: no panic, and time
// bounded (a question of up to 2,000 bytes answered well inside the
// reply budget).
func FuzzAnalyzeMatch(f *testing.F) {
	set, err := content.Load(sample.FS())
	if err != nil {
		f.Fatal(err)
	}
	e, err := New(set, Options{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"几号开学", "普宁市初二转学要什么材料？", "ＡＢＣ１２３", "那惠来呢", "", "\x00\xff", "开学开学开学开学开学开学"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 2000 {
			text = text[:2000]
		}
		start := time.Now()
		a := e.AnalyzeAt(text, now)
		_ = e.Match(context.Background(), Query{Text: text, Analysis: &a})
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%d bytes took %s", len(text), d)
		}
	})
}
