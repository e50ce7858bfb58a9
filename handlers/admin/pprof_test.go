package admin

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// Profiles are for publishers only, and only when asked for.
func TestPprof(t *testing.T) {
	get := func(e *env, path, token string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		e.r.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	off := newEnv(t)
	if code, _ := get(off, "/admin/api/debug/pprof/heap", publisherToken); code != 404 {
		t.Errorf("off by default: GET heap = %d, want 404", code)
	}

	e := newEnv(t, func(d *Deps) { d.Pprof = true })
	for _, c := range []struct {
		name, path, token string
		want              int
		body              string
	}{
		{"no token", "/admin/api/debug/pprof/heap", "", 401, "bearer"},
		{"editor", "/admin/api/debug/pprof/heap", editorToken, 403, "publisher"},
		{"publisher heap", "/admin/api/debug/pprof/heap?debug=1", publisherToken, 200, "heap profile"},
		{"publisher goroutines", "/admin/api/debug/pprof/goroutine?debug=1", publisherToken, 200, "goroutine profile"},
		{"publisher index", "/admin/api/debug/pprof/", publisherToken, 200, "allocs"},
		{"unknown profile", "/admin/api/debug/pprof/nothing", publisherToken, 404, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(e, c.path, c.token)
			if code != c.want {
				t.Fatalf("GET %s = %d, want %d (%.200s)", c.path, code, c.want, body)
			}
			if !strings.Contains(body, c.body) {
				t.Errorf("GET %s: body lacks %q: %.200s", c.path, c.body, body)
			}
		})
	}
}
