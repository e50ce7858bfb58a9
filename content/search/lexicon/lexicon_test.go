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
