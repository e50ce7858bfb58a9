package content

import (
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func goodFS(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{"notices/n-1.md", "faq/a.yaml", "rules.yaml", "synonyms.txt"} {
		data, err := os.ReadFile("testdata/good/" + name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: data}
	}
	return m
}

func TestLoadGood(t *testing.T) {
	set, err := Load(goodFS(t))
	if err != nil {
		t.Fatal(err)
	}
	n := set.Notice("n-1")
	if n == nil || n.Date.String() != "2026-08-15" || n.Region != "某县" || n.Body != "第一段。\n\n第二段。" {
		t.Fatalf("notice = %+v", n)
	}
	if f := set.FAQ("faq-a"); f == nil || f.Answer != "8月31日报到。\n" || f.File != "a.yaml" {
		t.Fatalf("faq = %+v", f)
	}
	if len(set.Rules) != 2 || set.Rule("rule-n").Notice != "n-1" {
		t.Fatalf("rules = %+v", set.Rules)
	}
	if len(set.Synonyms) != 1 || len(set.Synonyms[0].Words) != 3 {
		t.Fatalf("synonyms = %+v", set.Synonyms)
	}
	if !n.Expired(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || n.Expired(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Error("expiry is wrong around its day")
	}
}

// A malformed set fails with the file, the line and the field.
func TestLoadErrorsNameFileLineField(t *testing.T) {
	cases := []struct {
		name, file, find, replace string
		wantLine                  int
		wantField, wantMsg        string
	}{
		{"unknown faq field", "faq/a.yaml", "  answer: |", "  answr: |", 5, "answr", "unknown field"},
		{"missing answer", "faq/a.yaml", "  answer: |\n    8月31日报到。\n", "", 1, "answer", "required"},
		{"bad audience", "faq/a.yaml", "  keywords: [开学]", "  keywords: [开学]\n  audience: [kids]", 9, "audience", "kids"},
		{"bad date", "notices/n-1.md", "date: 2026-08-15", "date: 2026-13-15", 4, "date", "YYYY-MM-DD"},
		{"long title", "notices/n-1.md", "title: 某县秋季学期开学安排", "title: " + strings.Repeat("长", 65), 3, "title", "at most 64"},
		{"no front matter", "notices/n-1.md", "---\nid: n-1", "id: n-1", 1, "", "front matter"},
		{"rule match", "rules.yaml", "match: contains", "match: regex", 6, "match", "exact"},
		{"rule two replies", "rules.yaml", "  notice: n-1", "  notice: n-1\n  reply: x", 9, "reply", "exactly one"},
		{"dangling faq ref", "faq/a.yaml", "notices: [n-1]", "notices: [n-9]", 0, "notices", "n-9"},
		{"one-word synonym", "synonyms.txt", "开学 返校 报到", "开学", 2, "words", "two words"},
		{"yaml syntax", "faq/a.yaml", "  question: 几号开学？", "  question: [几号开学？", 3, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := goodFS(t)
			m := maps.Clone(fsys)
			orig := string(m[c.file].Data)
			if !strings.Contains(orig, c.find) {
				t.Fatalf("fixture lacks %q", c.find)
			}
			m[c.file] = &fstest.MapFile{Data: []byte(strings.Replace(orig, c.find, c.replace, 1))}
			_, err := Load(m)
			le, ok := err.(*LoadError)
			if !ok {
				t.Fatalf("err = %v (%T), want *LoadError", err, err)
			}
			if le.File != c.file {
				t.Errorf("file = %q, want %q (%v)", le.File, c.file, err)
			}
			if c.wantLine > 0 && le.Line != c.wantLine {
				t.Errorf("line = %d, want %d (%v)", le.Line, c.wantLine, err)
			}
			if c.wantField != "" && le.Field != c.wantField {
				t.Errorf("field = %q, want %q (%v)", le.Field, c.wantField, err)
			}
			if !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error %q lacks %q", err, c.wantMsg)
			}
		})
	}
}

// What the writer exports, the loader reads back unchanged.
func TestWriteRoundTrip(t *testing.T) {
	set, err := Load(goodFS(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := set.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	again, err := Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(set, again) {
		t.Errorf("round trip changed the set:\n%+v\n%+v", set, again)
	}
}

func TestEmptyFolderIsNotASet(t *testing.T) {
	if _, err := Load(fstest.MapFS{}); err == nil || !strings.Contains(err.Error(), "not a content set") {
		t.Fatalf("err = %v", err)
	}
}
