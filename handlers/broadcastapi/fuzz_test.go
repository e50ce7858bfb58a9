package broadcastapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// Any body, id and query to the broadcast routes: no panic, never a 500;
// every refusal is a 4xx (or 502 when WeChat itself refused) with a JSON
// body that says why. The router and its Redis are built once; each input
// is one in-process request, so a run reaches many executions.
func FuzzBroadcastAPI(f *testing.F) {
	a := newAPI(f)
	for _, s := range []struct {
		op        uint8
		id, query string
		body      string
	}{
		{0, "", "", `{"notice":"n1","to":"all"}`},
		{0, "", "", `{"notice":"n1","to":"tag:开学"}`},
		{0, "", "", `{"notice":`},
		{0, "", "", `{"notice":["n1"],"to":1}`},
		{0, "", "", `{"notice":"n1","to":"subscribers","extra":{"a":[1,2]}}`},
		{0, "", "", ``},
		{1, "", "limit=abc", ``},
		{1, "", "limit=-1", ``},
		{2, "b-nope", "", ``},
		{3, "../x", "", ``},
		{4, "b-1", "", `{"openids":["o1",""]}`},
		{4, "b-1", "", `{"openids":"o1"}`},
		{5, "b-1", "", `null`},
		{6, "%00", "", `{}`},
	} {
		f.Add(s.op, s.id, s.query, []byte(s.body))
	}
	type route struct{ method, suffix string }
	routes := []route{{"POST", ""}, {"GET", ""}, {"GET", "/"}, {"GET", "/results"}, {"POST", "/preview"}, {"POST", "/confirm"}, {"POST", "/cancel"}, {"POST", "/resend-interrupted"}}
	f.Fuzz(func(t *testing.T, op uint8, id, query string, body []byte) {
		if len(body) > 4096 || len(id) > 256 || len(query) > 256 {
			return
		}
		r := routes[int(op)%len(routes)]
		path := "/admin/api/broadcasts"
		if r.suffix != "" {
			path += "/" + url.PathEscape(id) + r.suffix
			if r.suffix == "/" {
				path = path[:len(path)-1]
			}
		}
		u := &url.URL{Path: path, RawQuery: url.Values{"limit": {query}}.Encode()}
		if query == "" {
			u.RawQuery = ""
		}
		req := httptest.NewRequest(r.method, "/", bytes.NewReader(body))
		req.URL = u
		req.RequestURI = u.RequestURI()
		req.Header.Set("X-Test-Role", RolePublisher)
		req.Header.Set("X-Test-User", "fuzz")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, req)
		code := w.Code
		if code >= 500 && code != http.StatusBadGateway {
			t.Fatalf("%s %s %q: %d %s", r.method, u, body, code, w.Body.String())
		}
		// gin's own miss (an empty id: no route) is the admin router's
		// NoRoute in production; here it is gin's plain 404.
		routeMiss := code == http.StatusNotFound && w.Body.String() == "404 page not found"
		if code >= 400 && !routeMiss {
			var e apiError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s %q: %d with no reason: %q", r.method, u, body, code, w.Body.String())
			}
		}
	})
}
