package search

import (
	"strings"

	"github.com/gdjysjyj/edubot/content"
)

// Named schools: a question about one school (南山中学, 普宁二中) is
// answered by content that names that school, not by a general answer that
// happens to share its other words (录取分数线 of the art-specialty FAQ).

// isSchoolSuffix reports whether t is a school word that, after a place's
// short name, makes the name of one school: 绵阳中学, 普宁二中, 四川大学.
// (小学, 学校 and 幼儿园 after a place mean that place's schools in
// general.) The regexp ^(中学|大学|附中|[一二三四五六七八九十0-9]+中)$.
func isSchoolSuffix(t string) bool {
	switch t {
	case "中学", "大学", "附中":
		return true
	}
	num, ok := strings.CutSuffix(t, "中")
	if !ok || num == "" {
		return false
	}
	for _, r := range num {
		if !strings.ContainsRune("一二三四五六七八九十0123456789", r) {
			return false
		}
	}
	return true
}

// schoolWords find a school word anywhere: a cheap test before segmenting.
var schoolWords = newWordSet(`中学|大学|附中|[一二三四五六七八九十0-9]中`)

// schoolsIn lists the schools a normalised question names: a place's
// short name followed by a school word, as the segmenter reads them.
func (e *Engine) schoolsIn(norm string) []string {
	if !schoolWords.match(norm) {
		return nil // most questions name no school; skip segmenting
	}
	var out []string
	for _, chunk := range strings.Fields(norm) {
		toks := e.seg.Cut(chunk, false)
		for i, t := range toks {
			for _, suf := range []string{"中学", "大学", "附中"} {
				// One word of the dictionary (四川大学).
				if p, ok := strings.CutSuffix(t, suf); ok && e.regions.isShortName(p) {
					out = append(out, t)
				}
			}
			if i == 0 || !isSchoolSuffix(t) {
				continue
			}
			if p := toks[i-1]; e.regions.isShortName(p) {
				out = append(out, p+t)
			}
		}
	}
	return out
}

// namesAll reports whether a document's own text names every one of the
// schools.
func namesAll(d *doc, schools []string) bool {
	var parts []string
	switch src := d.src.(type) {
	case *content.FAQ:
		parts = append(append(append(parts, src.Question, src.Answer), src.Alternates...), src.Keywords...)
	case *content.Notice:
		parts = append(append(append(parts, src.Title, src.Summary, src.Body), src.Keywords...), src.Tags...)
	default:
		return true
	}
	for _, s := range schools {
		found := false
		for _, p := range parts {
			if strings.Contains(p, s) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
