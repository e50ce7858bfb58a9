package search

import (
	"strings"
	"sync"

	"github.com/mozillazg/go-pinyin"
)

// pinyinIndex finds index terms that sound like a word: people type Chinese
// with pinyin input methods, so a wrong character is usually a homophone
// (实间 for 时间, 反校 for 返校).
type pinyinIndex struct {
	args      pinyin.Args
	byKey     map[string][]int32
	syllables map[string]bool
	// cache of each character's reading: go-pinyin formats with regexps.
	// Written only under the engine's write lock (index updates); queries
	// read it under the read lock: their misses go to queried.
	cache map[rune]string
	// queried caches the readings of characters met only in questions
	// (rune → string): without it each such character costs a regexp
	// pass in go-pinyin on every message. Bounded by the Han characters.
	queried sync.Map
}

func newPinyinIndex() *pinyinIndex {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	return &pinyinIndex{args: a, byKey: map[string][]int32{}, syllables: map[string]bool{}, cache: map[rune]string{}}
}

// key is the toneless pinyin of a Han string, "" if any character has none.
func (p *pinyinIndex) key(s string, store bool) string {
	var b strings.Builder
	for _, r := range s {
		if !isCJK(r) {
			return ""
		}
		py, ok := p.cache[r]
		if !ok && !store {
			if v, found := p.queried.Load(r); found {
				py, ok = v.(string), true
			}
		}
		if !ok {
			if all := pinyin.SinglePinyin(r, p.args); len(all) > 0 {
				py = all[0]
			}
			if store {
				p.cache[r] = py
			} else {
				p.queried.Store(r, py)
			}
		}
		if py == "" {
			return ""
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(py)
	}
	return b.String()
}

// add records a Han bigram term under its pinyin.
func (p *pinyinIndex) add(term string, id int32) {
	if len([]rune(term)) != 2 {
		return
	}
	if k := p.key(term, true); k != "" {
		p.byKey[k] = append(p.byKey[k], id)
		for _, syl := range strings.Fields(k) {
			p.syllables[syl] = true
		}
	}
}

// sounds returns the terms with the same pinyin as s.
func (p *pinyinIndex) sounds(s string) []int32 {
	k := p.key(s, false)
	if k == "" {
		return nil
	}
	return p.byKey[k]
}

// split cuts Latin letters typed as pinyin without tones (gaokao) into
// syllables, preferring the fewest; nil when they are not pinyin.
func (p *pinyinIndex) split(w string) []string {
	n := len(w)
	best := make([]int, n+1)
	next := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		best[i] = -1
		for j := i + 1; j <= n && j-i <= 6; j++ {
			if best[j] < 0 || !p.syllables[w[i:j]] {
				continue
			}
			if best[i] < 0 || best[j]+1 < best[i] {
				best[i], next[i] = best[j]+1, j
			}
		}
	}
	if best[0] < 2 {
		return nil
	}
	var out []string
	for i := 0; i < n; i = next[i] {
		out = append(out, w[i:next[i]])
	}
	return out
}
