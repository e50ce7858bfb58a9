package search

// Word sets: most patterns of the analysis are alternations of literal
// words (开学|返校|报到). Go's regexp engine costs about half of analysing a
// message on them; a table of the words, tried in the pattern's order at
// each position, gives the same matches for a fraction of that.

import (
	"fmt"
	"iter"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// stepKind is one part of a word set's path.
type stepKind uint8

const (
	stepLit    stepKind = iota // literal text
	stepSpaces                 // \s*: as many ASCII spaces as there are
	stepBegin                  // ^: start of text
	stepEnd                    // $: end of text
)

type step struct {
	kind stepKind
	lit  string
}

// wordPath is one way the pattern can match: a word, maybe anchored or
// followed by spaces.
type wordPath struct {
	anchored bool   // ^ first: only at the start of the text
	lit      string // the whole path when it is one literal ("" otherwise)
	steps    []step // without the leading ^
}

// wordSet matches a finite pattern as Go's regexp does (leftmost-first):
// the leftmost position where any path matches, and there the first path
// in the pattern's order.
type wordSet struct {
	pattern string
	paths   []wordPath
	// bits marks the runes a match may start with (r % 1024), so that
	// most positions cost one test.
	bits [1024 / 64]uint64
	// The paths that are one plain word are in a trie of runes, which
	// finds every word at a position in one walk: root holds the first
	// runes' nodes.
	root  map[rune]int32
	nodes []trieNode
	// other lists the remaining paths (anchored, with spaces) by the runes
	// they may start with, in the pattern's order.
	other map[rune][]int32
}

// trieNode is a word's prefix; word is the first path (in the pattern's
// order) that ends there, -1 for none.
type trieNode struct {
	word int32
	kids []trieEdge
}

type trieEdge struct {
	r    rune
	node int32
}

// maxWordPaths bounds a pattern's expansion: a larger one is no word list.
const maxWordPaths = 4096

// newWordSet compiles a pattern made of literals, alternations, optional
// parts, small character classes, ^, $ and \s* into a word set. It panics
// on any other pattern: the patterns are fixed in the source.
func newWordSet(pattern string) *wordSet {
	w, err := compileWordSet(pattern)
	if err != nil {
		panic(err)
	}
	return w
}

func compileWordSet(pattern string) (*wordSet, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("word set %q: %w", pattern, err)
	}
	alts, err := expandSteps(re.Simplify())
	if err != nil {
		return nil, fmt.Errorf("word set %q: %w", pattern, err)
	}
	if strings.ContainsRune(pattern, utf8.RuneError) {
		// Invalid UTF-8 in a text decodes to U+FFFD: it must match nothing.
		return nil, fmt.Errorf("word set %q: U+FFFD is not supported", pattern)
	}
	w := &wordSet{pattern: pattern, root: map[rune]int32{}, other: map[rune][]int32{}}
	for i, steps := range alts {
		p, err := makePath(steps)
		if err != nil {
			return nil, fmt.Errorf("word set %q: %w", pattern, err)
		}
		w.paths = append(w.paths, p)
		for _, r := range p.firstRunes() {
			w.bits[(r%1024)/64] |= 1 << (r % 64)
		}
		if p.lit != "" {
			w.addWord(p.lit, int32(i))
			continue
		}
		for _, r := range p.firstRunes() {
			if l := w.other[r]; len(l) == 0 || l[len(l)-1] != int32(i) {
				w.other[r] = append(l, int32(i))
			}
		}
	}
	return w, nil
}

// addWord puts path i, a plain word, in the trie.
func (w *wordSet) addWord(word string, i int32) {
	r, n := utf8.DecodeRuneInString(word)
	k, ok := w.root[r]
	if !ok {
		k = int32(len(w.nodes))
		w.nodes = append(w.nodes, trieNode{word: -1})
		w.root[r] = k
	}
	for _, r := range word[n:] {
		next := int32(-1)
		for _, e := range w.nodes[k].kids {
			if e.r == r {
				next = e.node
				break
			}
		}
		if next < 0 {
			next = int32(len(w.nodes))
			w.nodes = append(w.nodes, trieNode{word: -1})
			w.nodes[k].kids = append(w.nodes[k].kids, trieEdge{r, next})
		}
		k = next
	}
	if w.nodes[k].word < 0 {
		w.nodes[k].word = i // an earlier path with the same word wins
	}
}

// expandSteps lists the paths of a pattern in the order a backtracking
// matcher tries them (which leftmost-first semantics follow).
func expandSteps(re *syntax.Regexp) ([][]step, error) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, fmt.Errorf("case folding is not supported")
		}
		return [][]step{{{kind: stepLit, lit: string(re.Rune)}}}, nil
	case syntax.OpCharClass:
		// One rune of the class: its paths exclude one another, so their
		// order does not matter.
		var out [][]step
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, []step{{kind: stepLit, lit: string(r)}})
				if len(out) > 64 {
					return nil, fmt.Errorf("character class too large")
				}
			}
		}
		return out, nil
	case syntax.OpEmptyMatch:
		return [][]step{{}}, nil
	case syntax.OpBeginText:
		return [][]step{{{kind: stepBegin}}}, nil
	case syntax.OpEndText:
		return [][]step{{{kind: stepEnd}}}, nil
	case syntax.OpCapture:
		return expandSteps(re.Sub[0])
	case syntax.OpQuest:
		if re.Flags&syntax.NonGreedy != 0 {
			return nil, fmt.Errorf("non-greedy ? is not supported")
		}
		sub, err := expandSteps(re.Sub[0])
		if err != nil {
			return nil, err
		}
		return append(sub, []step{}), nil // greedy: with the part first
	case syntax.OpStar:
		if re.Flags&syntax.NonGreedy != 0 || !isSpaceClass(re.Sub[0]) {
			return nil, fmt.Errorf("only \\s* may repeat")
		}
		return [][]step{{{kind: stepSpaces}}}, nil
	case syntax.OpAlternate:
		var out [][]step
		for _, s := range re.Sub {
			sub, err := expandSteps(s)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
		if len(out) > maxWordPaths {
			return nil, fmt.Errorf("more than %d paths", maxWordPaths)
		}
		return out, nil
	case syntax.OpConcat:
		out := [][]step{{}}
		for _, s := range re.Sub {
			sub, err := expandSteps(s)
			if err != nil {
				return nil, err
			}
			// The earlier part's choice ranks first.
			var next [][]step
			for _, a := range out {
				for _, b := range sub {
					next = append(next, append(append([]step(nil), a...), b...))
				}
			}
			if len(next) > maxWordPaths {
				return nil, fmt.Errorf("more than %d paths", maxWordPaths)
			}
			out = next
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is not supported", re.Op)
}

// isSpaceClass reports whether re is \s, RE2's [\t\n\f\r ].
func isSpaceClass(re *syntax.Regexp) bool {
	if re.Op != syntax.OpCharClass {
		return false
	}
	want := []rune{'\t', '\n', '\f', '\r', ' ', ' '}
	if len(re.Rune) != len(want) {
		return false
	}
	for i, r := range want {
		if re.Rune[i] != r {
			return false
		}
	}
	return true
}

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}

// makePath joins literals and checks that taking all spaces at once is
// what the regexp does: nothing after \s* may begin with a space, ^ comes
// first, $ last, and every path reads at least one character.
func makePath(steps []step) (wordPath, error) {
	var p wordPath
	var out []step
	for i, s := range steps {
		switch s.kind {
		case stepBegin:
			if len(out) > 0 {
				return p, fmt.Errorf("^ after text")
			}
			p.anchored = true
			continue
		case stepEnd:
			if i != len(steps)-1 {
				return p, fmt.Errorf("$ before the end")
			}
		case stepSpaces:
			if n := len(out); n > 0 && out[n-1].kind == stepSpaces {
				continue
			}
		case stepLit:
			if n := len(out); n > 0 && out[n-1].kind == stepLit {
				out[n-1].lit += s.lit
				continue
			}
			if n := len(out); n > 0 && out[n-1].kind == stepSpaces && isSpaceByte(s.lit[0]) {
				return p, fmt.Errorf("text after \\s* begins with a space")
			}
		}
		out = append(out, s)
	}
	hasLit := false
	for _, s := range out {
		hasLit = hasLit || s.kind == stepLit
	}
	if !hasLit {
		return p, fmt.Errorf("a path matches the empty text")
	}
	p.steps = out
	if len(out) == 1 && out[0].kind == stepLit && !p.anchored {
		p.lit = out[0].lit
	}
	return p, nil
}

// firstRunes are the runes a match of the path may begin with.
func (p *wordPath) firstRunes() []rune {
	var out []rune
	for _, s := range p.steps {
		switch s.kind {
		case stepLit:
			r, _ := utf8.DecodeRuneInString(s.lit)
			return append(out, r)
		case stepSpaces:
			out = append(out, '\t', '\n', '\f', '\r', ' ')
		}
	}
	return out
}

// matchAt returns the end of the path's match at i, or -1.
func (p *wordPath) matchAt(s string, i int) int {
	if p.lit != "" {
		if strings.HasPrefix(s[i:], p.lit) {
			return i + len(p.lit)
		}
		return -1
	}
	if p.anchored && i != 0 {
		return -1
	}
	j := i
	for _, st := range p.steps {
		switch st.kind {
		case stepLit:
			if !strings.HasPrefix(s[j:], st.lit) {
				return -1
			}
			j += len(st.lit)
		case stepSpaces:
			for j < len(s) && isSpaceByte(s[j]) {
				j++
			}
		case stepEnd:
			if j != len(s) {
				return -1
			}
		}
	}
	return j
}

// index returns the leftmost-first match in s at or after from, as the
// pattern's regexp would find it searching s from there; -1, -1 if none.
func (w *wordSet) index(s string, from int) (int, int) {
	for i := from; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if w.bits[(r%1024)/64]&(1<<(r%64)) != 0 {
			if e := w.matchAt(s, i, r, n); e >= 0 {
				return i, e
			}
		}
		i += n
	}
	return -1, -1
}

// matchAt returns the end of the first path (in the pattern's order) that
// matches at i, where the rune r of n bytes begins; -1 if none.
func (w *wordSet) matchAt(s string, i int, r rune, n int) int {
	best, end := int32(-1), -1
	if k, ok := w.root[r]; ok {
		j := i + n
		for {
			nd := &w.nodes[k]
			if nd.word >= 0 && (best < 0 || nd.word < best) {
				best, end = nd.word, j
			}
			if j >= len(s) || len(nd.kids) == 0 {
				break
			}
			r, n := rune(s[j]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(s[j:])
			}
			k = -1
			for _, e := range nd.kids {
				if e.r == r {
					k = e.node
					break
				}
			}
			if k < 0 {
				break
			}
			j += n
		}
	}
	for _, k := range w.other[r] {
		if best >= 0 && k > best {
			break
		}
		if e := w.paths[k].matchAt(s, i); e >= 0 {
			return e
		}
	}
	return end
}

// match reports whether s holds a match (regexp MatchString).
func (w *wordSet) match(s string) bool {
	i, _ := w.index(s, 0)
	return i >= 0
}

// find returns the leftmost match, "" if none (regexp FindString).
func (w *wordSet) find(s string) string {
	if i, e := w.index(s, 0); i >= 0 {
		return s[i:e]
	}
	return ""
}

// findAll returns up to n successive matches, all for n < 0 (regexp
// FindAllString; nil when there are none).
func (w *wordSet) findAll(s string, n int) []string {
	var out []string
	for pos := 0; n < 0 || len(out) < n; {
		i, e := w.index(s, pos)
		if i < 0 {
			break
		}
		out = append(out, s[i:e])
		pos = e
	}
	return out
}

// replaceAll replaces every match with repl, taken literally (regexp
// ReplaceAllLiteralString; the same as ReplaceAllString for a repl
// without $).
func (w *wordSet) replaceAll(s, repl string) string {
	return w.replaceAllFunc(s, func(string) string { return repl })
}

// replaceAllFunc replaces every match m with f(m) (regexp
// ReplaceAllStringFunc).
func (w *wordSet) replaceAllFunc(s string, f func(string) string) string {
	i, e := w.index(s, 0)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pos := 0
	for i >= 0 {
		b.WriteString(s[pos:i])
		b.WriteString(f(s[i:e]))
		pos = e
		i, e = w.index(s, pos)
	}
	b.WriteString(s[pos:])
	return b.String()
}

// firstRune is s's first character (its first byte when that is none).
func firstRune(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

// spaceLen is 1 when s has a \s (ASCII space) at i, else 0: the greedy
// first choice of \s?.
func spaceLen(s string, i int) int {
	if i < len(s) && isSpaceByte(s[i]) {
		return 1
	}
	return 0
}

// digitsAt reports whether s has n ASCII digits at i.
func digitsAt(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for k := i; k < i+n; k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return true
}

// dayAt matches (\d{1,2})\s?月\s?(\d{1,2})\s?(号|日) at i, trying the
// choices in the regexp's order: month, day and end, end < 0 if none.
func dayAt(s string, i int) (month, day string, end int) {
	for n1 := 2; n1 >= 1; n1-- {
		if !digitsAt(s, i, n1) {
			continue
		}
		for a := spaceLen(s, i+n1); a >= 0; a-- {
			j := i + n1 + a
			if !strings.HasPrefix(s[j:], "月") {
				continue
			}
			j += len("月")
			for b := spaceLen(s, j); b >= 0; b-- {
				if d, e := dayNumAt(s, j+b); e >= 0 {
					return s[i : i+n1], d, e
				}
			}
		}
	}
	return "", "", -1
}

// dayNumAt matches (\d{1,2})\s?[号日] at i: the day and the end, -1 if
// none.
func dayNumAt(s string, i int) (string, int) {
	for n := 2; n >= 1; n-- {
		if !digitsAt(s, i, n) {
			continue
		}
		for a := spaceLen(s, i+n); a >= 0; a-- {
			j := i + n + a
			if strings.HasPrefix(s[j:], "号") || strings.HasPrefix(s[j:], "日") {
				return s[i : i+n], j + len("日")
			}
		}
	}
	return "", -1
}

// dateAt matches (?:(\d{4})\s?年\s?)?(\d{1,2})\s?月(?:份)?(?:\s?(\d{1,2})\s?[日号])?
// at i as the regexp does: year and day "" when not given, end < 0 if
// no match.
func dateAt(s string, i int) (year, month, day string, end int) {
	if digitsAt(s, i, 4) {
		for a := spaceLen(s, i+4); a >= 0; a-- {
			j := i + 4 + a
			if !strings.HasPrefix(s[j:], "年") {
				continue
			}
			j += len("年")
			for b := spaceLen(s, j); b >= 0; b-- {
				if m, d, e := monthAt(s, j+b); e >= 0 {
					return s[i : i+4], m, d, e
				}
			}
		}
	}
	m, d, e := monthAt(s, i)
	return "", m, d, e
}

// monthAt matches (\d{1,2})\s?月(?:份)?(?:\s?(\d{1,2})\s?[日号])? at i.
// What follows 月 is optional: the first way to reach 月 is the match,
// with 份 and the day when they are there.
func monthAt(s string, i int) (month, day string, end int) {
	for n := 2; n >= 1; n-- {
		if !digitsAt(s, i, n) {
			continue
		}
		for a := spaceLen(s, i+n); a >= 0; a-- {
			j := i + n + a
			if !strings.HasPrefix(s[j:], "月") {
				continue
			}
			j += len("月")
			if strings.HasPrefix(s[j:], "份") {
				j += len("份")
			}
			for b := spaceLen(s, j); b >= 0; b-- {
				if d, e := dayNumAt(s, j+b); e >= 0 {
					return s[i : i+n], d, e
				}
			}
			return s[i : i+n], "", j
		}
	}
	return "", "", -1
}

// chineseYearRuns calls f with each run of four Chinese digits
// ([〇零一二三四五六七八九]{4}: leftmost, not overlapping) and puts what f
// returns in its place.
func chineseYearRuns(s string, f func(string) string) string {
	isDigitCN := func(r rune) bool { return strings.ContainsRune("〇零一二三四五六七八九", r) }
	var b strings.Builder
	pos := 0
	for i := 0; i < len(s); {
		j, n := i, 0
		for n < 4 {
			r, size := utf8.DecodeRuneInString(s[j:])
			if j >= len(s) || !isDigitCN(r) {
				break
			}
			j += size
			n++
		}
		if n < 4 {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			continue
		}
		b.WriteString(s[pos:i])
		b.WriteString(f(s[i:j]))
		pos, i = j, j
	}
	if pos == 0 {
		return s
	}
	b.WriteString(s[pos:])
	return b.String()
}

// yearNums returns the years 1900–2099 written in digits in s, as the
// regexp (19|20)\d\d found them: left to right, not overlapping.
func yearNums(s string) []string {
	var out []string
	for i := 0; i+4 <= len(s); {
		if (s[i] == '1' && s[i+1] == '9' || s[i] == '2' && s[i+1] == '0') && isDigit(s[i+2]) && isDigit(s[i+3]) {
			out = append(out, s[i:i+4])
			i += 4
			continue
		}
		i++
	}
	return out
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// placeNames yields the names of places and their parts before 区, 县 or
// 镇 as the regexp ([\p{Han}]{2,3})(区|县|镇) found them in s: leftmost
// first, not overlapping, three characters before 区 rather than two.
func placeNames(s string) iter.Seq2[string, string] {
	return func(yield func(name, prefix string) bool) {
		placeNamesFunc(s, yield)
	}
}

func placeNamesFunc(s string, yield func(name, prefix string) bool) {
	isEnd := func(r rune) bool { return r == '区' || r == '县' || r == '镇' }
	for i := 0; i < len(s); {
		r0, n0 := utf8.DecodeRuneInString(s[i:])
		if isCJK(r0) {
			r1, n1 := utf8.DecodeRuneInString(s[i+n0:])
			if isCJK(r1) {
				j := i + n0 + n1
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if r3, n3 := utf8.DecodeRuneInString(s[j+n2:]); j < len(s) && isCJK(r2) && j+n2 < len(s) && isEnd(r3) {
					if !yield(s[i:j+n2+n3], s[i:j+n2]) {
						return
					}
					i = j + n2 + n3
					continue
				}
				if j < len(s) && isEnd(r2) {
					if !yield(s[i:j+n2], s[i:j]) {
						return
					}
					i = j + n2
					continue
				}
			}
		}
		i += n0
	}
}

// roleIntros begin a statement of who the writer is (我是一名家长).
var roleIntros = newWordSet(`我是|我们是|作为|本人是`)

// statesRole reports whether s says "I am" and then one of the words
// within six characters (one more for 个, two more after 一名, 一位 or
// 一个), on one line: what the regexp
// (我是|我们是|作为|本人是)(一名|一位|一个|个)?(.{0,6})(words) matched, or
// without 我们是 when notWe is set.
func statesRole(s string, words []string, notWe bool) bool {
	for pos := 0; ; {
		i, e := roleIntros.index(s, pos)
		if i < 0 {
			return false
		}
		// The intros do not overlap one another: continuing after one
		// misses none.
		pos = e
		if notWe && s[i:e] == "我们是" {
			continue
		}
		most := 6
		switch rest := s[e:]; {
		case strings.HasPrefix(rest, "一名"), strings.HasPrefix(rest, "一位"), strings.HasPrefix(rest, "一个"):
			most = 8
		case strings.HasPrefix(rest, "个"):
			most = 7
		}
		for j, n := e, 0; ; n++ {
			for _, w := range words {
				if strings.HasPrefix(s[j:], w) {
					return true
				}
			}
			if n == most || j >= len(s) || s[j] == '\n' {
				break
			}
			_, size := utf8.DecodeRuneInString(s[j:])
			j += size
		}
	}
}
