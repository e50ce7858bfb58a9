package search

import (
	"testing"

	"github.com/mozillazg/go-pinyin"
)

// Readings cached for questions' characters are go-pinyin's own, the
// first time and after.
func TestPinyinQueriedCache(t *testing.T) {
	p := newPinyinIndex()
	for r := rune(0x4E00); r < 0x4E00+3000; r += 7 {
		want := ""
		if all := pinyin.SinglePinyin(r, p.args); len(all) > 0 {
			want = all[0]
		}
		for range 2 {
			if got := p.key(string(r), false); got != want {
				t.Fatalf("key(%q) = %q, go-pinyin %q", string(r), got, want)
			}
		}
	}
	if len(p.cache) != 0 {
		t.Errorf("a question's characters went into the index's cache (%d)", len(p.cache))
	}
}
