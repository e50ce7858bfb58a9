package content

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoadPeriodFields(t *testing.T) {
	fsys := fstest.MapFS{
		"notices/n-spring.md": {Data: []byte("---\nid: n-spring\ntitle: 2027年春季学期开学通知\ndate: 2026-12-20\nsource: 某县教育局\nurl: https://e.example/n\nsummary: 2月23日开学。\nterm: 2027-spring\nvalid_until: 2027-03-15\n---\n正文。\n")},
		"notices/n-old.md":    {Data: []byte("---\nid: n-old\ntitle: 旧通知\ndate: 2025-01-02\nsource: 某县教育局\nurl: https://e.example/o\nsummary: 没有学期字段的旧文件照样能读。\n---\n正文。\n")},
		"faq/reopen.yaml": {Data: []byte("- id: faq-autumn\n  question: 秋季学期什么时候开学？\n  answer: 9月1日。\n  term: 2026-autumn\n" +
			"- id: faq-year\n  question: 这学年的校历？\n  answer: 见附件。\n  term: 2026-2027\n  valid_from: 2026-08-20\n")},
	}
	set, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := ParseDate(s); return d.Time }
	cases := []struct {
		name        string
		from, until time.Time
	}{
		{"n-spring", day("2027-02-01"), day("2027-03-15")},
		{"n-old", time.Time{}, time.Time{}},
		{"faq-autumn", day("2026-08-01"), day("2027-01-31")},
		{"faq-year", day("2026-08-20"), day("2027-07-31")},
	}
	for _, c := range cases {
		var from, until time.Time
		if n := set.Notice(c.name); n != nil {
			from, until = n.Period()
		} else if f := set.FAQ(c.name); f != nil {
			from, until = f.Period()
		} else {
			t.Fatalf("%s not loaded", c.name)
		}
		if !from.Equal(c.from) || !until.Equal(c.until) {
			t.Errorf("%s: period %s–%s, want %s–%s", c.name, from.Format(DateLayout), until.Format(DateLayout), c.from.Format(DateLayout), c.until.Format(DateLayout))
		}
	}
	// Written out and read back, the fields survive.
	files, err := set.Files()
	if err != nil {
		t.Fatal(err)
	}
	back := fstest.MapFS{}
	for name, data := range files {
		back[name] = &fstest.MapFile{Data: data}
	}
	again, err := Load(back)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if n := again.Notice("n-spring"); n == nil || n.Term != "2027-spring" || n.ValidUntil.String() != "2027-03-15" {
		t.Fatalf("notice after export: %+v", n)
	}
	if f := again.FAQ("faq-year"); f == nil || f.Term != "2026-2027" || f.ValidFrom.String() != "2026-08-20" {
		t.Fatalf("faq after export: %+v", f)
	}
}

func TestPeriodFieldsRejected(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown term", "  term: 2026-fall\n", "term"},
		{"school year not consecutive", "  term: 2026-2028\n", "term"},
		{"until before from", "  valid_from: 2026-09-01\n  valid_until: 2026-08-01\n", "valid_until"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFAQs("faq/x.yaml", []byte("- id: faq-x\n  question: 问？\n  answer: 答。\n"+c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %s", err, c.want)
			}
		})
	}
}
