package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gdjysjyj/edubot/internal/limits"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

// Every JSON route takes at most limits.JSONBody (1 MiB): the group-wide
// cap (16 MiB) is for set uploads only. 413 names the limit; nothing is
// changed and nothing is sent.
func TestJSONRoutesTakeOneMiB(t *testing.T) {
	e := newNotesEnv(t, true)
	if r := e.do("POST", "/admin/api/faqs", editorToken, "application/json", []byte(`{"id":"faq-uniform","question":"校服怎么买？","answer":"自愿购买。"}`)); r.Code != http.StatusCreated {
		t.Fatalf("create FAQ: %d %+v", r.Code, r.Err)
	}
	big := `{"text":"` + strings.Repeat("a", limits.JSONBody) + `"}`
	bigQ := `{"question":"` + strings.Repeat("a", limits.JSONBody) + `"}`
	for _, c := range []struct{ path, body string }{
		{"/admin/api/faqs/faq-uniform/alternates", bigQ},
		{"/admin/api/notes/u-recent/reply", big},
		{"/admin/api/notices", `{"id":"n-big","title":"` + strings.Repeat("a", limits.JSONBody) + `"}`},
	} {
		r := e.do("POST", c.path, editorToken, "application/json", []byte(c.body))
		if r.Code != http.StatusRequestEntityTooLarge || !strings.Contains(r.Err.Error, "1048576") {
			t.Errorf("POST %s with %d bytes: %d %+v, want 413 naming the limit", c.path, len(c.body), r.Code, r.Err)
		}
	}
	if r := e.do("GET", "/admin/api/faqs/faq-uniform", editorToken, "", nil); r.Code != http.StatusOK || strings.Contains(string(r.Body), "aaaa") {
		t.Errorf("the FAQ changed: %d", r.Code)
	}
	if n := len(e.fake.Calls(wxfake.PathCustomSend)); n != 0 {
		t.Errorf("%d messages sent for refused bodies", n)
	}
}
