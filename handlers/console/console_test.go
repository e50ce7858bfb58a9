package console

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/stats"
)

const (
	editorToken    = "editor-token-0123456789"
	publisherToken = "publisher-token-0123456789"
)

type env struct {
	t      *testing.T
	srv    *httptest.Server
	router *gin.Engine
	c      *Console
	store  *store.Store
	engine *search.Engine
	daily  *stats.Daily
	bot    *bot.Bot
	now    time.Time
}

// A search engine takes seconds to build (minutes under -race for every
// test): all tests share one. Each test's store follows its own keys into
// it, so a test that changes content uses ids and questions of its own and
// checks what it changed, never what other tests left.
var (
	sharedOnce   sync.Once
	sharedEngine *search.Engine
	sharedErr    error
)

func newEnv(t *testing.T, mutate ...func(*Deps)) *env {
	t.Helper()
	gin.SetMode(gin.TestMode)
	rdb, prefix := testredis.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st := store.New(rdb, prefix, store.Options{})
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Seed(ctx, "seed", set); err != nil {
		t.Fatal(err)
	}
	loaded, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	sharedOnce.Do(func() { sharedEngine, sharedErr = search.New(loaded, search.Options{Now: clock}) })
	eng := sharedEngine
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	// Not waited for at the end: its blocking read returns only after a
	// second; cancelled, it stops applying changes.
	go func() { _ = st.Follow(ctx, eng) }()
	rec, err := stats.New(ctx, rdb, prefix, stats.Options{Salt: "test"})
	if err != nil {
		t.Fatal(err)
	}
	daily := stats.NewDaily(rdb, prefix, stats.DailyOptions{Now: clock})
	go daily.Run(ctx)
	b := bot.New(bot.Config{}, bot.Deps{Matcher: eng, Store: redisstore.New(rdb, prefix), Recorder: rec, Now: clock})
	d := Deps{
		Store: st, Stats: rec, Daily: daily, Engine: eng, Bot: b, Redis: rdb, Prefix: prefix,
		Tokens: []string{"ann:editor:" + editorToken, "pat:publisher:" + publisherToken},
		Now:    clock,
	}
	for _, m := range mutate {
		m(&d)
	}
	r := gin.New()
	c, err := Register(r, d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, router: r, c: c, store: st, engine: eng, daily: daily, bot: b, now: now}
}

// client is a browser: a cookie jar, no automatic redirects.
type client struct {
	e   *env
	hc  *http.Client
	jar *cookiejar.Jar
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, jar: jar, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	status int
	body   string
	loc    string
	header http.Header
}

func (cl *client) do(req *http.Request) resp {
	cl.e.t.Helper()
	res, err := cl.hc.Do(req)
	if err != nil {
		cl.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: string(b), loc: res.Header.Get("Location"), header: res.Header}
}

func (cl *client) get(path string) resp {
	cl.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, cl.e.srv.URL+path, nil)
	return cl.do(req)
}

func (cl *client) post(path string, form url.Values) resp {
	cl.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, cl.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return cl.do(req)
}

var (
	reCSRF  = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	reError = regexp.MustCompile(`<p class="err[^"]*" id="err-([a-z_-]+)">([^<]*)</p>`)
)

// csrf is the token the page at path puts in its forms.
func (cl *client) csrf(path string) string {
	cl.e.t.Helper()
	r := cl.get(path)
	m := reCSRF.FindStringSubmatch(r.body)
	if m == nil {
		cl.e.t.Fatalf("GET %s: no CSRF token (status %d)", path, r.status)
	}
	return m[1]
}

// submit posts form to action with the CSRF token of the page at from.
func (cl *client) submit(from, action string, form url.Values) resp {
	cl.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", cl.csrf(from))
	return cl.post(action, form)
}

func (cl *client) login(name, token string) resp {
	cl.e.t.Helper()
	return cl.submit("/console/login", "/console/login", url.Values{"name": {name}, "token": {token}})
}

// loggedIn is a client logged in as ann (editor) or pat (publisher).
func (e *env) loggedIn(name string) *client {
	e.t.Helper()
	cl := e.client()
	tok := editorToken
	if name == "pat" {
		tok = publisherToken
	}
	if r := cl.login(name, tok); r.status != http.StatusSeeOther {
		e.t.Fatalf("login %s: status %d, body %s", name, r.status, r.body)
	}
	return cl
}

// fieldErrors are the messages shown beside fields.
func fieldErrors(body string) map[string]string {
	out := map[string]string{}
	for _, m := range reError.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	cl := e.client()

	r := cl.get("/console/")
	if r.status != http.StatusSeeOther || r.loc != "/console/login" {
		t.Fatalf("GET /console/ before login: %d → %q, want 303 → /console/login", r.status, r.loc)
	}
	r = cl.login("ann", "wrong-token-0123456789")
	if r.status != http.StatusUnauthorized || fieldErrors(r.body)["token"] == "" {
		t.Fatalf("wrong token: status %d, errors %v", r.status, fieldErrors(r.body))
	}
	if !strings.Contains(r.body, `value="ann"`) {
		t.Error("the name typed is not kept after a failed login")
	}
	if strings.Contains(r.body, "wrong-token") {
		t.Error("the token typed is echoed back")
	}
	// A right token under another account's name is refused too.
	if r = cl.login("pat", editorToken); r.status != http.StatusUnauthorized {
		t.Fatalf("ann's token as pat: status %d, want 401", r.status)
	}

	r = cl.login("ann", editorToken)
	if r.status != http.StatusSeeOther || r.loc != "/console/" {
		t.Fatalf("login: %d → %q", r.status, r.loc)
	}
	var sess *http.Cookie
	for _, ck := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, cookieSession+"=") {
			sess, _ = http.ParseSetCookie(ck)
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.MaxAge <= 0 || sess.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, expiring, not Secure over plain HTTP", sess)
	}
	if strings.Contains(sess.Value, editorToken) || len(sess.Value) < 40 {
		t.Fatalf("session cookie value %q: want a random id, not the token", sess.Value)
	}
	r = cl.get("/console/")
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="me"`) || !strings.Contains(r.body, "ann（编辑）") {
		t.Fatalf("home after login: %d", r.status)
	}

	// Audited: the failures and the login.
	entries, err := e.store.Audit().List(context.Background(), store.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		if en.Kind == "console" {
			actions = append(actions, en.Actor+":"+en.Action)
		}
	}
	if strings.Join(actions, ",") != "ann:login,pat:login-failed,ann:login-failed" {
		t.Errorf("audit: %v", actions)
	}

	r = cl.submit("/console/", "/console/logout", nil)
	if r.status != http.StatusSeeOther || r.loc != "/console/login" {
		t.Fatalf("logout: %d → %q", r.status, r.loc)
	}
	if r = cl.get("/console/"); r.status != http.StatusSeeOther {
		t.Fatalf("after logout: %d, want 303 to login", r.status)
	}
	// The old cookie is dead on the server, not only in this browser.
	old := e.client()
	old.jar.SetCookies(mustURL(e.srv.URL+"/console/"), []*http.Cookie{{Name: cookieSession, Value: sess.Value}})
	if r = old.get("/console/"); r.status != http.StatusSeeOther {
		t.Fatalf("replayed cookie after logout: %d", r.status)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestSecureCookieBehindHTTPSProxy(t *testing.T) {
	e := newEnv(t)
	cl := e.client()
	tok := cl.csrf("/console/login")
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/console/login",
		strings.NewReader(url.Values{"name": {"ann"}, "token": {editorToken}, "_csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	r := cl.do(req)
	if r.status != http.StatusSeeOther {
		t.Fatalf("login: %d", r.status)
	}
	for _, ck := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, cookieSession+"=") && !strings.Contains(ck, "Secure") {
			t.Fatalf("session cookie behind an https proxy is not Secure: %s", ck)
		}
	}
}

func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.LoginLimit = 3 })
	cl := e.client()
	for i := 0; i < 3; i++ {
		if r := cl.login("ann", "wrong-token-0123456789"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, r.status)
		}
	}
	// Over the limit, even the right token is refused for a while.
	r := cl.login("ann", editorToken)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "分钟后再试") {
		t.Fatalf("after 3 failures: status %d", r.status)
	}
	// Per name too: another client (another IP is not available here, so
	// check the name key) — pat from the same IP is refused by the IP limit.
	if r := cl.login("pat", publisherToken); r.status != http.StatusTooManyRequests {
		t.Fatalf("same IP, other name: status %d, want 429", r.status)
	}
	entries, _ := e.store.Audit().List(context.Background(), store.AuditQuery{Actor: "ann", Limit: 10})
	if len(entries) == 0 || entries[0].Action != "login-refused" {
		t.Fatalf("refused login not audited: %+v", entries)
	}
}

func TestLoginRateLimitPerName(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.LoginLimit = 2 })
	// Failures for one name from two addresses (X-Forwarded-For is not
	// trusted here, so simulate the second address by clearing the IP key).
	cl := e.client()
	cl.login("ann", "wrong-token-0123456789")
	cl.login("ann", "wrong-token-0123456789")
	ip := "127.0.0.1"
	keys := e.c.loginFailKeys(ip, "ann")
	e.c.Redis.Del(context.Background(), keys[0])
	if r := cl.login("ann", editorToken); r.status != http.StatusTooManyRequests {
		t.Fatalf("name over its limit from a fresh address: %d, want 429", r.status)
	}
	if r := cl.login("pat", publisherToken); r.status != http.StatusSeeOther {
		t.Fatalf("another name from that address: %d, want a login", r.status)
	}
}

func TestLoginNeedsItsFormToken(t *testing.T) {
	e := newEnv(t)
	cl := e.client()
	r := cl.post("/console/login", url.Values{"name": {"ann"}, "token": {editorToken}})
	if r.status != http.StatusForbidden {
		t.Fatalf("login without the form's token: %d, want 403", r.status)
	}
}

func TestExpiredSessionReturnsToThePage(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	// The session ends (idle timeout) on the server.
	iter := e.c.Redis.Scan(context.Background(), 0, e.c.Prefix+"{console}:sess:*", 100).Iterator()
	for iter.Next(context.Background()) {
		e.c.Redis.Del(context.Background(), iter.Val())
	}
	r := cl.get("/console/?day=today")
	want := "/console/login?next=" + url.QueryEscape("/console/?day=today")
	if r.status != http.StatusSeeOther || r.loc != want {
		t.Fatalf("expired session: %d → %q, want → %q", r.status, r.loc, want)
	}
	r = cl.submit(want, "/console/login", url.Values{"name": {"ann"}, "token": {editorToken}, "next": {"/console/?day=today"}})
	if r.status != http.StatusSeeOther || r.loc != "/console/?day=today" {
		t.Fatalf("login after expiry: %d → %q, want back to the page", r.status, r.loc)
	}
	// A next outside the console is ignored.
	cl2 := e.client()
	r = cl2.submit("/console/login", "/console/login", url.Values{"name": {"ann"}, "token": {editorToken}, "next": {"//evil.example/x"}})
	if r.loc != "/console/" {
		t.Fatalf("open redirect: → %q", r.loc)
	}
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	for _, tok := range []string{"", "forged"} {
		r := cl.post("/console/logout", url.Values{"_csrf": {tok}})
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "CSRF") {
			t.Fatalf("logout with token %q: %d, want 403", tok, r.status)
		}
	}
	// Still logged in: the forged logout did nothing.
	if r := cl.get("/console/"); r.status != http.StatusOK {
		t.Fatalf("after refused logout: %d", r.status)
	}
	// Another person's token is not this session's.
	other := e.loggedIn("pat")
	r := cl.post("/console/logout", url.Values{"_csrf": {other.csrf("/console/")}})
	if r.status != http.StatusForbidden {
		t.Fatalf("another session's token: %d, want 403", r.status)
	}
}

// TestEveryRouteNeedsLogin walks every route the console registers: without
// a session each one sends the browser to the login page; with a session
// but without the CSRF token every action is refused.
func TestEveryRouteNeedsLogin(t *testing.T) {
	e := newEnv(t)
	anon := e.client()
	ann := e.loggedIn("ann")
	public := map[string]bool{"GET /console/login": true, "POST /console/login": true,
		"GET /console/static/*file": true, "GET /console": true}
	n := 0
	for _, rt := range e.router.Routes() {
		if !strings.HasPrefix(rt.Path, BasePath) || public[rt.Method+" "+rt.Path] {
			continue
		}
		n++
		path := regexp.MustCompile(`[:*][a-z]+`).ReplaceAllString(rt.Path, "x")
		req, _ := http.NewRequest(rt.Method, e.srv.URL+path, strings.NewReader("a=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := anon.do(req)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/console/login") {
			t.Errorf("%s %s without login: %d → %q, want 303 → /console/login", rt.Method, rt.Path, r.status, r.loc)
		}
		if rt.Method != http.MethodGet {
			req, _ := http.NewRequest(rt.Method, e.srv.URL+path, strings.NewReader("a=b"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if r := ann.do(req); r.status != http.StatusForbidden {
				t.Errorf("%s %s without CSRF token: %d, want 403", rt.Method, rt.Path, r.status)
			}
		}
	}
	if n < 3 {
		t.Fatalf("only %d console routes found", n)
	}
}

func TestStaticAndSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	cl := e.client()
	for _, p := range []string{"/console/static/htmx.min.js", "/console/static/console.css", "/console/static/console.js"} {
		if r := cl.get(p); r.status != http.StatusOK || len(r.body) < 100 {
			t.Errorf("GET %s: %d, %d bytes", p, r.status, len(r.body))
		}
	}
	r := cl.get("/console/login")
	if r.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("login page headers: %v", r.header)
	}
	if !strings.Contains(r.body, `name="viewport"`) {
		t.Error("no viewport meta: not usable on a phone")
	}
}

// An unknown console address shows the console's 404 page (its layout and
// style, a way back), logged in or not; other paths keep a plain 404.
func TestConsoleNotFoundPage(t *testing.T) {
	e := newEnv(t)
	for _, cl := range []*client{e.client(), e.loggedIn("ann")} {
		r := cl.get("/console/no-such-page")
		if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("unknown console page: %d %s", r.status, r.header.Get("Content-Type"))
		}
		for _, want := range []string{"/console/static/console.css", `id="error-message"`, "回到首页"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("404 page misses %q:\n%.300s", want, r.body)
			}
		}
		if r.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("404 page without the console's headers: %v", r.header)
		}
	}
	if r := e.client().get("/elsewhere"); r.status != http.StatusNotFound || strings.Contains(r.body, "console.css") {
		t.Errorf("a path outside the console: %d %.100s", r.status, r.body)
	}
	// An unknown admin API address answers in the API's JSON.
	r := e.client().get("/admin/api/no-such-route")
	if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") ||
		!strings.Contains(r.body, `"error":"no such admin API route: GET /admin/api/no-such-route"`) {
		t.Errorf("unknown admin API route: %d %s %.200s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("unknown admin API route without the security headers: %v", r.header)
	}
}
