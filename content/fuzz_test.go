package content_test

import (
	"errors"
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

// The parsers read files staff upload through the admin API: any bytes
// give a set or a *LoadError, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("---\nid: n1\ntitle: 开学\ndate: 2026-09-01\n---\n正文"))
	f.Add([]byte("- id: f1\n  q: [开学]\n  a: 九月\n"))
	f.Add([]byte("- id: r1\n  contains: [人工]\n  reply: 请留言\n"))
	f.Add([]byte("放假 休假\n# comment\n"))
	f.Add([]byte("---\n- |\n  x\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(kind string, err error) {
			var le *content.LoadError
			if err != nil && !errors.As(err, &le) {
				t.Errorf("%s: error %T %v is not a *LoadError", kind, err, err)
			}
		}
		_, err := content.ParseNotice("notices/x.md", data)
		check("notice", err)
		_, err = content.ParseFAQs("faq/x.yaml", data)
		check("faqs", err)
		_, err = content.ParseRules("rules.yaml", data)
		check("rules", err)
		_, err = content.ParseSynonyms("synonyms.txt", data)
		check("synonyms", err)
	})
}
