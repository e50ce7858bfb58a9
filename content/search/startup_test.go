//go:build !race

package search

import (
	"context"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
)

// TestStartupWithSampleUnderOneSecond: serve starts with the built-in
// sample set, and the index (word list, converter, pinyin) must not make
// it slow. (Not under -race, which slows everything several times.)
func TestStartupWithSampleUnderOneSecond(t *testing.T) {
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took > time.Second {
		t.Errorf("New with the sample set took %v, want under 1s", took)
	}
	t.Logf("New with the sample set: %v", took)
	r := e.Match(context.Background(), Query{Text: "什么时候开学"})
	if r.Decision == Fallback {
		t.Errorf("the sample set does not answer 什么时候开学: %+v", r.Top)
	}
}
