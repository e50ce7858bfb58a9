package admin

import (
	"archive/zip"
	"bytes"
	"net/http"
	"testing"
)

// Malformed staff input is a 4xx naming what is wrong, never a 500.
func TestBadInputIsNeverA500(t *testing.T) {
	e := newEnv(t)
	zipOf := func(name, text string) string {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	cases := []struct{ method, path, ctype, body, file string }{
		{"POST", "/admin/api/notices", "application/json", "null", ""},
		{"POST", "/admin/api/notices", "application/json", "[]", ""},
		{"POST", "/admin/api/notices", "application/json", `{"id":"x","title":"t","date":"2026-02-30"}`, ""},
		{"DELETE", "/admin/api/faqs/%00", "", "", ""},
		{"GET", "/admin/api/notices/%7Bu%3Ax%7D", "", "", ""},
		{"POST", "/admin/api/import-set", "application/json", `{"notices":[null]}`, ""},
		{"POST", "/admin/api/import-set", "application/json", `{"synonyms":[null]}`, ""},
		// go-yaml v1.19.2 panics on a tagged scalar where a list belongs.
		{"POST", "/admin/api/import-set", "application/zip", zipOf("faq/a.yaml", "!00 000"), "faq/a.yaml"},
		{"POST", "/admin/api/import-set", "application/zip", zipOf("rules.yaml", "- null\n"), "rules.yaml"},
		{"POST", "/admin/api/import", "text/plain", "\x00\x01", ""},
		{"GET", "/admin/api/stats/unanswered?since=2026-01-01T00:00:00Z&until=2025-01-01", "", "", ""},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, publisherToken, c.ctype, []byte(c.body))
		if r.Code < 400 || r.Code >= 500 || r.Err.Error == "" {
			t.Errorf("%s %s %.30q: %d %s, want a 4xx with a message", c.method, c.path, c.body, r.Code, r.Body)
		}
		if c.file != "" && (r.Code != http.StatusBadRequest || r.Err.File != c.file) {
			t.Errorf("%s %s: %d, file %q; want 400 naming %s", c.method, c.path, r.Code, r.Err.File, c.file)
		}
	}
}

func TestNewAuthRefusesOneTokenUnderTwoNames(t *testing.T) {
	if _, err := NewAuth([]string{"ann:editor:" + editorToken, "bob:publisher:" + editorToken}); err == nil {
		t.Fatal("accepted one token for two people: the audit could not say who acted")
	}
	if _, err := NewAuth([]string{"ann:editor:" + editorToken, "pat:publisher:" + publisherToken}); err != nil {
		t.Fatal(err)
	}
}
