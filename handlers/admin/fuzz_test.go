package admin

import (
	"bytes"
	"testing"

	"github.com/gdjysjyj/edubot/content/store"
)

// Any body as a notice, FAQ, rule or synonym group: no panic; an error or
// an item, never both nil.
func FuzzDecodeItem(f *testing.F) {
	for _, s := range []string{
		`{"id":"n-1","title":"开学通知","date":"2026-08-20","body":"正文"}`,
		`{"id":"faq-1","question":"几号开学","answer":"9月1日"}`,
		`{"id":"r-1","match":"exact","keywords":["电话"],"reply":"0663"}`,
		`{"words":["开学","返校"]}`, `{"date":12}`, `[]`, `{"id":"x"} {}`, ``,
	} {
		f.Add(s, uint8(0))
	}
	kinds := []store.Kind{store.KindNotice, store.KindFAQ, store.KindRule, store.KindSynonym}
	f.Fuzz(func(t *testing.T, body string, k uint8) {
		item, err := decodeItem(bytes.NewReader([]byte(body)), kinds[int(k)%len(kinds)])
		if err == nil && item == nil {
			t.Fatal("no item and no error")
		}
	})
}
