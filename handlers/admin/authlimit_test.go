package admin

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gdjysjyj/edubot/content/store"
)

func TestSecurityHeadersOnAdminAnswers(t *testing.T) {
	e := newEnv(t)
	for _, tok := range []string{editorToken, "", "wrong-token-0123456789"} {
		req := httptest.NewRequest("GET", "/admin/api/whoami", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		e.r.ServeHTTP(w, req)
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
		} {
			if got := w.Header().Get(h); got != want {
				t.Errorf("token %q (status %d): %s = %q, want %q", tok, w.Code, h, got, want)
			}
		}
		if w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("token %q: no Content-Security-Policy", tok)
		}
	}
}

// Guessing tokens: after 10 failures the address gets 429 (even with a
// right token, until the window ends); each refusal up to the limit is in
// the audit log, the token never is.
func TestFailedAuthIsLimitedAndAudited(t *testing.T) {
	e := newEnv(t)
	const guess = "guess-token-0123456789"
	for i := range 10 {
		if r := e.do("GET", "/admin/api/whoami", guess, "", nil); r.Code != 401 {
			t.Fatalf("attempt %d: %d, want 401", i+1, r.Code)
		}
	}
	for _, tok := range []string{guess, editorToken} {
		req := httptest.NewRequest("GET", "/admin/api/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		e.r.ServeHTTP(w, req)
		if w.Code != 429 || w.Header().Get("Retry-After") == "" {
			t.Errorf("after 10 failures (token %s): %d Retry-After %q, want 429 with Retry-After", tok[:5], w.Code, w.Header().Get("Retry-After"))
		}
	}
	// Another address is not affected.
	req := httptest.NewRequest("GET", "/admin/api/whoami", nil)
	req.RemoteAddr = "192.0.2.7:4000"
	req.Header.Set("Authorization", "Bearer "+editorToken)
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("another address: %d, want 200", w.Code)
	}

	entries, err := e.store.Audit().List(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, en := range entries {
		if en.Kind == "auth" && en.Action == "refused" {
			refused++
			if en.Item == "" {
				t.Error("a refused attempt without the client address")
			}
		}
		for _, v := range []any{en.After, en.Before, en.Actor, en.Item} {
			if s, ok := v.(string); ok && (s == guess || s == editorToken) {
				t.Error("a token in the audit log")
			}
		}
	}
	if refused != 10 {
		t.Errorf("%d refused attempts audited, want 10 (the flood past the limit is not)", refused)
	}
}

// A valid token asking again and again for what its role may not do is
// limited by its name, from any address.
func TestRoleRefusalsLimitedPerName(t *testing.T) {
	e := newEnv(t)
	for i := range 10 {
		req := httptest.NewRequest("POST", "/admin/api/broadcasts", nil)
		req.RemoteAddr = "192.0.2." + string(rune('1'+i%5)) + ":1000"
		req.Header.Set("Authorization", "Bearer "+editorToken)
		w := httptest.NewRecorder()
		e.r.ServeHTTP(w, req)
		if w.Code != 403 {
			t.Fatalf("attempt %d: %d, want 403", i+1, w.Code)
		}
	}
	req := httptest.NewRequest("GET", "/admin/api/whoami", nil)
	req.RemoteAddr = "198.51.100.1:1000"
	req.Header.Set("Authorization", "Bearer "+editorToken)
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, req)
	if w.Code != 429 {
		t.Errorf("token ann after 10 refusals, new address: %d, want 429", w.Code)
	}
	if r := e.do("GET", "/admin/api/whoami", publisherToken, "", nil); r.Code != 200 {
		t.Errorf("another token: %d, want 200", r.Code)
	}
}
