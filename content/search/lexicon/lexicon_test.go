package lexicon

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestWordsHaveFrequencies(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(Words()), "\n")
	if len(lines) < 100000 {
		t.Fatalf("only %d words", len(lines))
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("line %d %q: want word and frequency", i+1, l)
		}
		if _, err := strconv.ParseFloat(f[1], 64); err != nil {
			t.Fatalf("line %d %q: frequency: %v", i+1, l, err)
		}
	}
}

func TestSynonymsAndWeakWords(t *testing.T) {
	for _, g := range Synonyms() {
		for _, w := range g {
			if strings.HasPrefix(w, "~") || strings.ContainsAny(w, "#") {
				t.Errorf("group %v: marker left in %q", g, w)
			}
		}
	}
	weak := WeakWords()
	if !slices.Contains(weak, "什么时候") || !slices.Contains(weak, "哪里") {
		t.Errorf("weak words %v lack the question words", weak)
	}
	if slices.Contains(weak, "开学") {
		t.Error("开学 is not a question word")
	}
}

func TestRegions(t *testing.T) {
	r := Regions()
	if !slices.Contains(r, "揭阳市") || !slices.Contains(r, "普宁市") || !slices.Contains(r, "广东省") {
		t.Errorf("regions lack expected names: %v", r)
	}
	for _, name := range r {
		if strings.Contains(name, ":") {
			t.Errorf("region %q keeps the parent marker", name)
		}
	}
	if p := RegionParents()["惠来县"]; p != "揭阳市" {
		t.Errorf("parent of 惠来县 = %q, want 揭阳市", p)
	}
	seen := map[string]bool{}
	for _, name := range r {
		if seen[name] {
			t.Errorf("region %q listed twice", name)
		}
		seen[name] = true
		if strings.HasSuffix(name, "*") {
			t.Errorf("region %q keeps the full-name marker", name)
		}
	}
	parents := RegionParents()
	for city, prov := range map[string]string{"成都市": "四川省", "德阳市": "四川省", "吉林市": "吉林省", "阿坝藏族羌族自治州": "四川省", "兴安盟": "内蒙古自治区", "揭阳市": "广东省"} {
		if parents[city] != prov {
			t.Errorf("parent of %s = %q, want %s", city, parents[city], prov)
		}
	}
	// Every prefecture-level division lies in a province.
	n := 0
	for child, parent := range parents {
		if parent != "揭阳市" {
			n++
			if !seen[parent] {
				t.Errorf("%s lies in %s, which is not a region", child, parent)
			}
		}
	}
	if n < 330 {
		t.Errorf("%d prefecture-level divisions, want all (about 333)", n)
	}
	full := FullNameOnly()
	if !full["吉林市"] || !full["安康市"] || full["成都市"] {
		t.Errorf("full-name-only regions wrong: 吉林市 %v 安康市 %v 成都市 %v", full["吉林市"], full["安康市"], full["成都市"])
	}
}

func TestSpoken(t *testing.T) {
	sp := Spoken()
	if sp["带啥"] != "材料" || sp["拿什么"] != "材料" {
		t.Errorf("spoken forms %v lack 带啥/拿什么 → 材料", sp)
	}
	for form, word := range sp {
		if word == "" || strings.ContainsAny(form+word, ":#") {
			t.Errorf("bad spoken form %q → %q", form, word)
		}
	}
}

// A homophone form is rewritten wherever it occurs, so it must not be a
// word of the general list (it would rewrite what people meant) nor one of
// the words the list corrects to.
func TestHomophonesAreNoWords(t *testing.T) {
	h := Homophones()
	if len(h) < 20 {
		t.Fatalf("only %d homophone forms", len(h))
	}
	if h["报明"] != "报名" || h["数假"] != "暑假" {
		t.Errorf("报明 → %q, 数假 → %q; want 报名, 暑假", h["报明"], h["数假"])
	}
	known := map[string]bool{}
	for _, l := range strings.Split(Words(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			known[f[0]] = true
		}
	}
	for form, word := range h {
		if known[form] {
			t.Errorf("%s (for %s) is a word of its own", form, word)
		}
		if _, ok := h[word]; ok {
			t.Errorf("%s corrects to %s, itself a form to correct", form, word)
		}
	}
}
