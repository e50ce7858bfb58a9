// Package lexicon holds edubot's built-in language data for matching: a
// compact general word list for the segmenter (the most frequent 150,000
// entries of the jieba/gse simplified-Chinese dictionary, with their
// frequencies), a general education lexicon of synonyms, spoken forms, stop
// words, and administrative region names. It is embedded so the binary
// needs no files.
//
// words.txt was made with:
//
//	sort -k2,2nr $(go env GOMODCACHE)/github.com/go-ego/gse@v0.80.3/data/dict/zh/s_1.txt |
//	  awk '{print $1, $2}' | head -150000 > words.txt
package lexicon

import (
	_ "embed"
	"strings"
)

//go:embed words.txt
var words string

//go:embed synonyms.txt
var synonyms string

//go:embed stopwords.txt
var stopwords string

//go:embed regions.txt
var regions string

//go:embed dialect.txt
var dialect string

//go:embed spoken.txt
var spoken string

//go:embed homophones.txt
var homophones string

// Words returns the general word list, one "word frequency" a line.
func Words() string { return words }

// Synonyms returns the built-in synonym groups.
func Synonyms() [][]string {
	var out [][]string
	for _, line := range lines(synonyms) {
		if f := strings.Fields(strings.TrimPrefix(line, "~")); len(f) >= 2 {
			out = append(out, f)
		}
	}
	return out
}

// WeakWords returns the question words of the lexicon (groups marked ~):
// they say what kind of answer is wanted and count little for matching.
func WeakWords() []string {
	var out []string
	for _, line := range lines(synonyms) {
		if rest, ok := strings.CutPrefix(line, "~"); ok {
			out = append(out, strings.Fields(rest)...)
		}
	}
	return out
}

// Spoken returns the spoken forms: spoken phrase → the written word it
// stands for (带啥 → 材料).
func Spoken() map[string]string {
	out := map[string]string{}
	for _, line := range lines(spoken) {
		word, forms, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(forms) {
			out[f] = strings.TrimSpace(word)
		}
	}
	return out
}

// Dialect returns dialect words and the Mandarin they are read as
// (返学 → 上学, 几时 → 什么时候).
func Dialect() map[string]string {
	out := map[string]string{}
	for _, line := range lines(dialect) {
		word, forms, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(forms) {
			if f != strings.TrimSpace(word) {
				out[f] = strings.TrimSpace(word)
			}
		}
	}
	return out
}

// Homophones returns common speech-recognition and pinyin-input errors in
// education words and the word each stands for (报明 → 报名, 数假 → 暑假).
func Homophones() map[string]string {
	out := map[string]string{}
	for _, line := range lines(homophones) {
		word, forms, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(forms) {
			if f != strings.TrimSpace(word) {
				out[f] = strings.TrimSpace(word)
			}
		}
	}
	return out
}

// StopWords returns the words that carry no meaning for matching.
func StopWords() []string {
	var out []string
	for _, line := range lines(stopwords) {
		out = append(out, strings.Fields(line)...)
	}
	return out
}

// Regions returns the built-in administrative region names (full names,
// with their 省/市/县/区 suffix).
func Regions() []string {
	var out []string
	for _, line := range lines(regions) {
		if _, children, ok := strings.Cut(line, ":"); ok {
			line = children
		}
		for _, f := range strings.Fields(line) {
			out = append(out, strings.TrimSuffix(f, "*"))
		}
	}
	return out
}

// FullNameOnly returns the regions known by their full name only (marked *):
// their short form is an ordinary word or another region's name.
func FullNameOnly() map[string]bool {
	out := map[string]bool{}
	for _, line := range lines(regions) {
		if _, children, ok := strings.Cut(line, ":"); ok {
			line = children
		}
		for _, f := range strings.Fields(line) {
			if name, ok := strings.CutSuffix(f, "*"); ok {
				out[name] = true
			}
		}
	}
	return out
}

// RegionParents maps a region to the region it lies in, where known.
func RegionParents() map[string]string {
	out := map[string]string{}
	for _, line := range lines(regions) {
		if parent, children, ok := strings.Cut(line, ":"); ok {
			for _, c := range strings.Fields(children) {
				out[strings.TrimSuffix(c, "*")] = strings.TrimSpace(parent)
			}
		}
	}
	return out
}

// lines returns the non-empty lines with comments removed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
