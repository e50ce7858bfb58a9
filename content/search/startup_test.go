package search

import (
	"context"
	"testing"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
)

// serve starts with the built-in sample set: the engine built from it
// answers the sample's own questions. (How long building takes is
// BenchmarkStartupWithSample, not a timed test.)
func TestStartupWithSampleAnswers(t *testing.T) {
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := e.Match(context.Background(), Query{Text: "什么时候开学"})
	if r.Decision == Fallback {
		t.Errorf("the sample set does not answer 什么时候开学: %+v", r.Top)
	}
}

// BenchmarkStartupWithSample is the start-up figure of serve with the
// sample set: the index, word list, converter and pinyin built by New
// (README: under 1 s on the 2-core machine).
//
//	go test -run '^$' -bench StartupWithSample -benchtime 5x ./content/search/
func BenchmarkStartupWithSample(b *testing.B) {
	set, err := content.Load(sample.FS())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(set, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
