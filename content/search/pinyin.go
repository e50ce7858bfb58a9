package search

import (
	"strings"

	"github.com/mozillazg/go-pinyin"
)

// pinyinIndex finds index terms that sound like a word: people type Chinese
// with pinyin input methods, so a wrong character is usually a homophone
// (实间 for 时间, 反校 for 返校).
type pinyinIndex struct {
	args  pinyin.Args
	byKey map[string][]int32
}

func newPinyinIndex() *pinyinIndex {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	return &pinyinIndex{args: a, byKey: map[string][]int32{}}
}

// key is the toneless pinyin of a Han string, "" if any character has none.
func (p *pinyinIndex) key(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !isCJK(r) {
			return ""
		}
		py := pinyin.SinglePinyin(r, p.args)
		if len(py) == 0 {
			return ""
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(py[0])
	}
	return b.String()
}

// add records a Han bigram term under its pinyin.
func (p *pinyinIndex) add(term string, id int32) {
	if len([]rune(term)) != 2 {
		return
	}
	if k := p.key(term); k != "" {
		p.byKey[k] = append(p.byKey[k], id)
	}
}

// sounds returns the terms with the same pinyin as s.
func (p *pinyinIndex) sounds(s string) []int32 {
	k := p.key(s)
	if k == "" {
		return nil
	}
	return p.byKey[k]
}
