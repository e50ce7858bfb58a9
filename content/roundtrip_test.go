package content_test

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content"
)

// What staff save through the admin API is exported as notices/*.md and
// must load back as the same notice.
func FuzzNoticeRoundTrip(f *testing.F) {
	f.Add("关于开学的通知", "九月一日开学。", "正文\n---\n更多", "开学")
	f.Add("---", "a: b", "---\nx: y\n---", "#tag")
	// go-yaml drops a tab inside a plain scalar and reads \r as a line break.
	f.Add("报名时间\t九月一日", "0\t0", "正文", "a\rb")
	f.Fuzz(func(t *testing.T, title, summary, body, kw string) {
		d, _ := content.ParseDate("2026-09-01")
		n := &content.Notice{ID: "n1", Title: title, Date: d, Source: "揭阳市教育局", Summary: summary,
			URL: "https://edu.example.org/n/1", Body: strings.TrimSpace(body), Keywords: []string{kw}}
		// JSON, the admin API's input, carries valid UTF-8 only.
		for _, s := range []string{title, summary, body, kw} {
			// Leading and trailing white space may go (go-yaml drops a
			// trailing tab of a plain scalar): not what this looks for.
			if !utf8.ValidString(s) || s != strings.TrimSpace(s) {
				return
			}
		}
		if n.Validate() != nil || strings.TrimSpace(kw) == "" {
			return
		}
		data, err := content.MarshalNotice(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := content.ParseNotice("notices/n1.md", data)
		if err != nil {
			t.Fatalf("exported notice does not load: %v\n%s", err, data)
		}
		if !reflect.DeepEqual(got, n) {
			t.Fatalf("round trip changed the notice:\n got %#v\nwant %#v\n%s", got, n, data)
		}
	})
}
