package handlers_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/handlers"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/metrics"
)

const (
	token   = "test-token"
	keyNow  = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	keyPrev = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj"
	keyElse = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	appID   = "wxtestapp0000001"
	account = "gh_test"
	user    = "oSecretOpenID0001"
)

var now = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

func clock() time.Time { return now }

// fakeBot answers by the message text, remembers what it got and, like
// the real bot, gives a retry (same user and MsgId, or same user, time and
// event) the first delivery's reply.
type fakeBot struct {
	mu       sync.Mutex
	got      []bot.Message
	deadline []time.Duration // time left on ctx when called
	replies  map[string]bot.Reply
	n        int
}

var _ handlers.Handler = (*fakeBot)(nil)

func (f *fakeBot) Handle(ctx context.Context, m bot.Message) bot.Reply {
	f.mu.Lock()
	f.got = append(f.got, m)
	if dl, ok := ctx.Deadline(); ok {
		f.deadline = append(f.deadline, time.Until(dl))
	}
	key := m.User + "/" + m.MsgID
	if m.Type == bot.TypeEvent {
		key = m.User + "/" + strconv.FormatInt(m.CreateTime.Unix(), 10) + "/" + m.Event
	}
	if r, ok := f.replies[key]; ok {
		f.mu.Unlock()
		r.Duplicate = true
		return r
	}
	f.n++
	n := f.n
	f.mu.Unlock()

	var r bot.Reply
	switch {
	case m.Type == bot.TypeEvent && m.Event == bot.EventSubscribe:
		r = bot.Reply{Kind: bot.ReplyText, Text: "欢迎关注", Answer: bot.AnswerEvent}
	case m.Type == bot.TypeEvent:
		r = bot.Reply{Kind: bot.ReplyNone, Answer: bot.AnswerNone}
	case m.Text == "news":
		r = bot.Reply{Kind: bot.ReplyNews, Answer: bot.AnswerNotice, IDs: []string{"n1"},
			Article: &bot.Article{Title: "春季开学通知", Description: "3月2日开学", PicURL: "https://example.org/c.jpg", URL: "https://example.org/n/1"}}
	case m.Text == "人工":
		r = bot.Reply{Kind: bot.ReplyTransfer, Answer: bot.AnswerDialog}
	case m.Text == "no redis":
		r = bot.Reply{Kind: bot.ReplyText, Text: "从内容回答", Answer: bot.AnswerFAQ, Degraded: true}
	case m.Text == "silence":
		r = bot.Reply{Kind: bot.ReplyNone, Answer: bot.AnswerNone}
	case m.Text == "slow":
		time.Sleep(2 * time.Second) // ignores ctx: a bug the webhook must survive
		r = bot.Reply{Kind: bot.ReplyText, Text: "too late"}
	case m.Text == "panic":
		panic("bot exploded")
	default:
		r = bot.Reply{Kind: bot.ReplyText, Text: fmt.Sprintf("第%d次回答：%s", n, m.Text), Answer: bot.AnswerFAQ, IDs: []string{"f1"}}
	}
	f.mu.Lock()
	if f.replies == nil {
		f.replies = map[string]bot.Reply{}
	}
	f.replies[key] = r
	f.mu.Unlock()
	return r
}

func (f *fakeBot) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

type env struct {
	t    *testing.T
	bot  *fakeBot
	m    *metrics.Metrics
	r    *gin.Engine
	logs *bytes.Buffer
	mu   *sync.Mutex
}

func wechatSettings() config.WeChat {
	w := config.Default().WeChat
	w.Token, w.AESKey, w.PrevAESKey, w.AppID = token, keyNow, keyPrev, appID
	// Compatible mode takes all three peers' messages (and checks every
	// ciphertext); the default with a key, safe, is tested on its own.
	w.Mode = wechat.ModeNameCompat
	return w
}

func newEnv(t *testing.T, mod func(*handlers.Deps)) *env {
	t.Helper()
	e := &env{t: t, bot: &fakeBot{}, m: metrics.New(), logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	d := handlers.Deps{
		Bot:     e.bot,
		WeChat:  wechatSettings(),
		Logger:  slog.New(slog.NewJSONHandler(lockedWriter{e.logs, e.mu}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Metrics: e.m,
		Now:     clock,
	}
	if mod != nil {
		mod(&d)
	}
	r, err := handlers.New(d)
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	return e
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) logText() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}

// do serves one request through the router.
func (e *env) do(method, target string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, req)
	return w
}

func (e *env) post(q url.Values, body []byte) *httptest.ResponseRecorder {
	return e.do(http.MethodPost, "/wechat?"+q.Encode(), body, "Content-Type", "text/xml")
}

// send seals msg as p and returns the decoded reply, failing on anything
// but a 200 that WeChat would accept.
func (e *env) send(p *wechat.Peer, msg wechat.Outgoing) wechat.Received {
	e.t.Helper()
	q, body, err := p.Seal(msg)
	if err != nil {
		e.t.Fatal(err)
	}
	w := e.post(q, body)
	if w.Code != http.StatusOK {
		e.t.Fatalf("status %d, body %q; logs:\n%s", w.Code, w.Body, e.logText())
	}
	got, err := p.Open(w.Body.Bytes())
	if err != nil {
		e.t.Fatalf("reply %q: %v", w.Body, err)
	}
	return got
}

func peer(mode wechat.Mode) *wechat.Peer {
	return &wechat.Peer{Token: token, AESKey: keyNow, AppID: appID, Mode: mode, Now: clock}
}

var modes = []wechat.Mode{wechat.ModePlain, wechat.ModeCompatible, wechat.ModeSafe}

func TestVerifyURL(t *testing.T) {
	e := newEnv(t, nil)
	sign := func(ts, nonce string) url.Values {
		return url.Values{"signature": {sig(token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {"echo-4711"}}
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	w := e.do(http.MethodGet, "/wechat?"+sign(ts, "123").Encode(), nil)
	if w.Code != http.StatusOK || w.Body.String() != "echo-4711" {
		t.Fatalf("verify: %d %q", w.Code, w.Body)
	}

	bad := sign(ts, "123")
	bad.Set("signature", strings.Repeat("0", 40))
	stale := sign(strconv.FormatInt(now.Add(-301*time.Second).Unix(), 10), "123")
	noEcho := sign(ts, "123")
	noEcho.Del("echostr")
	for name, tc := range map[string]struct {
		q    url.Values
		want int
	}{
		"bad signature": {bad, http.StatusForbidden},
		"no signature":  {url.Values{"timestamp": {ts}, "nonce": {"1"}, "echostr": {"x"}}, http.StatusForbidden},
		"stale":         {stale, http.StatusForbidden},
		"no echostr":    {noEcho, http.StatusBadRequest},
	} {
		w := e.do(http.MethodGet, "/wechat?"+tc.q.Encode(), nil)
		if w.Code != tc.want || w.Body.Len() != 0 {
			t.Errorf("%s: %d %q, want %d and no body", name, w.Code, w.Body, tc.want)
		}
	}
}

// sig is WeChat's signature, computed here independently of the code
// under test: sha1 of the sorted parts joined.
func sig(parts ...string) string {
	parts = append([]string(nil), parts...)
	sort.Strings(parts)
	return fmt.Sprintf("%x", sha1.Sum([]byte(strings.Join(parts, ""))))
}

func TestRepliesInEveryMode(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, nil)
			p := peer(mode)

			got := e.send(p, wechat.TextMessage(account, user, "几号开学", 101, now))
			if got.MsgType != "text" || got.Content != "第1次回答：几号开学" {
				t.Errorf("text reply %+v", got)
			}
			if got.ToUserName != user || got.FromUserName != account || got.CreateTime != now.Unix() {
				t.Errorf("reply To=%q From=%q CreateTime=%d; want swapped and %d", got.ToUserName, got.FromUserName, got.CreateTime, now.Unix())
			}

			got = e.send(p, wechat.TextMessage(account, user, "news", 102, now))
			if got.MsgType != "news" || len(got.Articles) != 1 || got.Articles[0].Title != "春季开学通知" ||
				got.Articles[0].URL != "https://example.org/n/1" || got.Articles[0].PicURL != "https://example.org/c.jpg" {
				t.Errorf("news reply %+v", got)
			}

			got = e.send(p, wechat.TextMessage(account, user, "人工", 103, now))
			if got.MsgType != "transfer_customer_service" {
				t.Errorf("hand-off reply %+v", got)
			}

			got = e.send(p, wechat.EventMessage(account, user, "subscribe", "qrscene_school", now))
			if got.Content != "欢迎关注" {
				t.Errorf("subscribe reply %+v", got)
			}

			got = e.send(p, wechat.VoiceMessage(account, user, "报名材料", 104, now))
			if got.Content != "第5次回答：报名材料" {
				t.Errorf("voice reply %+v", got)
			}

			e.bot.mu.Lock()
			defer e.bot.mu.Unlock()
			first := e.bot.got[0]
			if first.User != user || first.Account != account || first.MsgID != "101" || first.Type != bot.TypeText || !first.CreateTime.Equal(now) {
				t.Errorf("bot got %+v", first)
			}
			sub := e.bot.got[3]
			if sub.Event != bot.EventSubscribe || sub.EventKey != "qrscene_school" {
				t.Errorf("bot got %+v", sub)
			}
		})
	}
}

// Nothing to say is "success" in every mode: in safe mode silenceper would
// encrypt an empty message, which WeChat rejects.
func TestNothingToSayIsSuccess(t *testing.T) {
	for _, mode := range modes {
		e := newEnv(t, nil)
		for _, msg := range []wechat.Outgoing{
			wechat.TextMessage(account, user, "silence", 1, now),
			wechat.EventMessage(account, user, "VIEW", "https://example.org", now),
			wechat.EventMessage(account, user, "unsubscribe", "", now.Add(time.Second)),
		} {
			q, body, err := peer(mode).Seal(msg)
			if err != nil {
				t.Fatal(err)
			}
			w := e.post(q, body)
			if w.Code != http.StatusOK || w.Body.String() != "success" {
				t.Errorf("%s %s: %d %q, want 200 success", mode, msg.MsgType, w.Code, w.Body)
			}
		}
	}
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t, nil)
	old := peer(wechat.ModeSafe)
	old.AESKey = keyPrev
	got := e.send(old, wechat.TextMessage(account, user, "开学", 1, now)) // Open checks the reply under the old key
	if got.Content != "第1次回答：开学" {
		t.Errorf("reply under the previous key: %+v", got)
	}
	if !strings.Contains(e.logText(), `"prev_key":true`) {
		t.Errorf("use of the previous key not logged:\n%s", e.logText())
	}

	stranger := peer(wechat.ModeSafe)
	stranger.AESKey = keyElse
	q, body, _ := stranger.Seal(wechat.TextMessage(account, user, "开学", 2, now))
	if w := e.post(q, body); w.Code != http.StatusBadRequest || w.Body.Len() != 0 {
		t.Errorf("unknown key: %d %q, want 400 and no body", w.Code, w.Body)
	}
}

func TestRefusals(t *testing.T) {
	safe := func() (url.Values, []byte) {
		q, b, err := peer(wechat.ModeSafe).Seal(wechat.TextMessage(account, user, "开学", 9, now))
		if err != nil {
			t.Fatal(err)
		}
		return q, b
	}
	plain := func() (url.Values, []byte) {
		q, b, err := peer(wechat.ModePlain).Seal(wechat.TextMessage(account, user, "开学", 9, now))
		if err != nil {
			t.Fatal(err)
		}
		return q, b
	}
	at := func(d time.Duration) func() (url.Values, []byte) {
		return func() (url.Values, []byte) {
			p := peer(wechat.ModeSafe)
			p.Now = func() time.Time { return now.Add(d) }
			q, b, err := p.Seal(wechat.TextMessage(account, user, "开学", 9, now))
			if err != nil {
				t.Fatal(err)
			}
			return q, b
		}
	}
	// A well-signed request whose body is whatever we say.
	signedPlain := func(body string) func() (url.Values, []byte) {
		return func() (url.Values, []byte) {
			q, _ := plain()
			return q, []byte(body)
		}
	}
	signedSafe := func(encrypt string) func() (url.Values, []byte) {
		return func() (url.Values, []byte) {
			q, _ := safe()
			q.Set("msg_signature", sig(token, q.Get("timestamp"), q.Get("nonce"), encrypt))
			return q, []byte("<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[" + encrypt + "]]></Encrypt></xml>")
		}
	}
	huge := bytes.Repeat([]byte("x"), 64<<10+1)

	cases := []struct {
		name    string
		req     func() (url.Values, []byte)
		chunked bool
		want    int
		reason  string
	}{
		{"bad signature", func() (url.Values, []byte) { q, b := plain(); q.Set("signature", sig("wrong")); return q, b }, false, 403, "signature"},
		{"no signature", func() (url.Values, []byte) { q, b := plain(); q.Del("signature"); return q, b }, false, 403, "signature"},
		{"bad msg_signature", func() (url.Values, []byte) { q, b := safe(); q.Set("msg_signature", sig("x")); return q, b }, false, 403, "msg_signature"},
		{"tampered ciphertext", func() (url.Values, []byte) {
			q, b := safe()
			return q, bytes.Replace(b, []byte("<Encrypt><![CDATA["), []byte("<Encrypt><![CDATA[A"), 1)
		}, false, 403, "msg_signature"},
		{"stale timestamp", at(-301 * time.Second), false, 403, "timestamp"},
		{"future timestamp", at(301 * time.Second), false, 403, "timestamp"},
		{"timestamp not a number", func() (url.Values, []byte) {
			q, b := plain()
			q.Set("timestamp", "soon")
			q.Set("signature", sig(token, "soon", q.Get("nonce")))
			return q, b
		}, false, 403, "timestamp"},
		{"body over 64 KiB", func() (url.Values, []byte) { q, _ := plain(); return q, huge }, false, 413, "too large"},
		{"body over 64 KiB, chunked", func() (url.Values, []byte) { q, _ := plain(); return q, huge }, true, 413, "too large"},
		{"malformed XML", signedPlain("<xml><ToUserName>gh"), false, 400, "malformed"},
		{"not XML", signedPlain("hello"), false, 400, "malformed"},
		{"empty body", signedPlain(""), false, 400, "malformed"},
		{"missing MsgType", signedPlain("<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName></xml>"), false, 400, "MsgType"},
		{"envelope without Encrypt", func() (url.Values, []byte) {
			q, _ := safe()
			return q, []byte("<xml><ToUserName>gh_test</ToUserName></xml>")
		}, false, 400, "Encrypt"},
		{"ciphertext not base64", signedSafe("%%%not-base64%%%"), false, 400, "decryption"},
		{"ciphertext too short", signedSafe("AAAA"), false, 400, "decryption"},
		{"ciphertext garbage", signedSafe(strings.Repeat("QUJD", 32)), false, 400, "decryption"},
		{"unknown encrypt_type", func() (url.Values, []byte) { q, b := safe(); q.Set("encrypt_type", "rsa"); return q, b }, false, 400, "encrypt_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			q, body := tc.req()
			req := httptest.NewRequest(http.MethodPost, "/wechat?"+q.Encode(), bytes.NewReader(body))
			if tc.chunked {
				req.ContentLength = -1 // no length: the limit must hold while reading
			}
			w := httptest.NewRecorder()
			e.r.ServeHTTP(w, req)
			if w.Code != tc.want || w.Body.Len() != 0 {
				t.Errorf("%d %q, want %d and no body", w.Code, w.Body, tc.want)
			}
			if n := e.bot.calls(); n != 0 {
				t.Errorf("bot called %d times", n)
			}
			logs := e.logText()
			if strings.Count(logs, "webhook refused") != 1 || !strings.Contains(logs, tc.reason) {
				t.Errorf("want one refusal logged with %q:\n%s", tc.reason, logs)
			}
		})
	}
}

// A retry (same MsgId, new nonce and timestamp) is not a replay: it reaches
// the bot with the same identity, and gets the first delivery's reply.
func TestRetriesGetTheSameReply(t *testing.T) {
	e := newEnv(t, nil)
	p := peer(wechat.ModeSafe)
	msg := wechat.TextMessage(account, user, "几号开学", 555, now)
	first := e.send(p, msg)
	later := *p
	later.Now = func() time.Time { return now.Add(5 * time.Second) }
	second := e.send(&later, msg)
	if first.Content != second.Content || first.Content != "第1次回答：几号开学" {
		t.Errorf("retry got %q, first %q", second.Content, first.Content)
	}
	// Same MsgId from another user is another message.
	other := e.send(p, wechat.TextMessage(account, "oOtherUser", "几号开学", 555, now))
	if other.Content != "第2次回答：几号开学" {
		t.Errorf("other user's message with a colliding MsgId: %q", other.Content)
	}
	ev := wechat.EventMessage(account, user, "subscribe", "", now)
	if a, b := e.send(p, ev), e.send(&later, ev); a.Content != b.Content {
		t.Errorf("event retry: %q vs %q", a.Content, b.Content)
	}
	e.send(p, wechat.TextMessage(account, user, "no redis", 556, now))
	m := scrape(t, e)
	for _, want := range []string{
		"edubot_retries_deduplicated_total 2",
		`edubot_answers_total{kind="faq"} 3`, // first delivery, other user, degraded; not the retry
		`edubot_answers_total{kind="event"} 1`,
		"edubot_replies_degraded_total 1",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if logs := e.logText(); strings.Count(logs, `"retry":true`) != 2 || strings.Count(logs, `"degraded":true`) != 1 {
		t.Errorf("retries and degraded replies not marked in the log:\n%s", logs)
	}
}

func TestDeadlineAndPanicAnswerWithoutError(t *testing.T) {
	e := newEnv(t, func(d *handlers.Deps) { d.WeChat.ReplyDeadline = 300 * time.Millisecond })
	p := peer(wechat.ModeSafe)

	start := time.Now()
	got := e.send(p, wechat.TextMessage(account, user, "slow", 1, now))
	if took := time.Since(start); took > time.Second {
		t.Errorf("answered after %s, deadline 300ms", took)
	}
	if got.Content != handlers.Apology {
		t.Errorf("overrun: %+v", got)
	}
	e.bot.mu.Lock()
	left := e.bot.deadline[0]
	e.bot.mu.Unlock()
	if left <= 0 || left > 300*time.Millisecond {
		t.Errorf("bot's ctx had %s left, want ≤ the 300ms reply deadline", left)
	}

	got = e.send(p, wechat.TextMessage(account, user, "panic", 2, now))
	if got.Content != handlers.Apology {
		t.Errorf("panic: %+v", got)
	}
	if !strings.Contains(e.logText(), "bot exploded") {
		t.Error("panic not logged")
	}
	m := scrape(t, e)
	for _, want := range []string{`outcome="deadline"} 1`, `outcome="panic"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// No message text and no openid at info level: not ours, not silenceper's.
func TestInfoLogsKeepTextAndOpenIDOut(t *testing.T) {
	e := newEnv(t, nil)
	wechat.QuietLogrus(slog.New(slog.NewJSONHandler(lockedWriter{e.logs, e.mu}, nil)))
	for _, mode := range modes {
		e.send(peer(mode), wechat.TextMessage(account, user, "秘密问题内容", 7, now))
		e.send(peer(mode), wechat.TextMessage(account, user, "news", 8, now))
		e.send(peer(mode), wechat.EventMessage(account, user, "CLICK", "MENU_1", now))
	}
	q, _, _ := peer(wechat.ModeSafe).Seal(wechat.TextMessage(account, user, "x", 1, now))
	e.post(q, []byte("<xml>oops")) // refusals log too
	logs := e.logText()
	for _, secret := range []string{user, "秘密问题内容", "第1次回答"} {
		if strings.Contains(logs, secret) {
			t.Errorf("info logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, `"answer":"faq"`) {
		t.Errorf("webhook line missing:\n%s", logs)
	}
}

func TestHealthReadinessMetricsMount(t *testing.T) {
	var notReady error
	e := newEnv(t, func(d *handlers.Deps) {
		d.Ready = func(ctx context.Context) error { return notReady }
		d.Mount = func(r *gin.Engine) {
			r.GET("/admin/api/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
			r.GET("/admin/api/boom", func(c *gin.Context) { panic("secret internals") })
		}
	})
	if w := e.do(http.MethodGet, "/healthz", nil); w.Code != 200 {
		t.Errorf("healthz %d", w.Code)
	}
	if w := e.do(http.MethodGet, "/readyz", nil); w.Code != 200 {
		t.Errorf("readyz %d %s", w.Code, w.Body)
	}
	notReady = fmt.Errorf("loading: %w", handlers.ErrNotLoaded)
	w := e.do(http.MethodGet, "/readyz", nil)
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 503 || body["reason"] != "content not loaded" {
		t.Errorf("readyz not ready: %d %s", w.Code, w.Body)
	}
	notReady = errors.New("dial tcp 10.0.0.7:6379: connection refused")
	w = e.do(http.MethodGet, "/readyz", nil)
	if w.Code != 503 || strings.Contains(w.Body.String(), "10.0.0.7") || strings.Contains(w.Body.String(), "dial") {
		t.Errorf("readyz shows an internal error: %d %s", w.Code, w.Body)
	}
	notReady = nil
	if w := e.do(http.MethodGet, "/admin/api/ping", nil); w.Body.String() != "pong" {
		t.Errorf("mounted route: %d %q", w.Code, w.Body)
	}
	if w := e.do(http.MethodGet, "/admin/api/boom", nil); w.Code != 500 || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("panic elsewhere: %d %q, want 500 and no detail", w.Code, w.Body)
	}

	e.send(peer(wechat.ModeSafe), wechat.TextMessage(account, user, "开学", 1, now))
	e.send(peer(wechat.ModeSafe), wechat.TextMessage(account, user, "silence", 2, now))
	q, _, _ := peer(wechat.ModePlain).Seal(wechat.TextMessage(account, user, "x", 3, now))
	q.Set("signature", "0")
	e.post(q, nil)
	m := scrape(t, e)
	for _, want := range []string{
		`edubot_webhook_requests_total{outcome="replied"} 1`,
		`edubot_webhook_requests_total{outcome="success"} 1`,
		`edubot_webhook_requests_total{outcome="bad_signature"} 1`,
		`edubot_answers_total{kind="faq"} 1`,
		`edubot_answers_total{kind="none"} 1`,
		`edubot_reply_seconds_count 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	w := wechatSettings()
	w.AESKey = strings.Repeat("!", 43)
	if _, err := handlers.New(handlers.Deps{Bot: &fakeBot{}, WeChat: w}); err == nil {
		t.Error("AES key that is not base64 accepted")
	}
	if _, err := handlers.New(handlers.Deps{Bot: &fakeBot{}, WeChat: wechatSettings(), TrustedProxies: []string{"not-an-ip"}}); err == nil {
		t.Error("bad trusted proxy accepted")
	}
	if _, err := handlers.New(handlers.Deps{WeChat: wechatSettings()}); err == nil {
		t.Error("no bot accepted")
	}
}

// Messages encrypted and signed by the npm package wechat-crypto reach the
// bot through the router.
func TestInteropThroughRouter(t *testing.T) {
	data, err := os.ReadFile("wechat/testdata/interop/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var tok, key, app string
	for k, dst := range map[string]*string{"token": &tok, "aes_key": &key, "app_id": &app} {
		if err := json.Unmarshal(raw[k], dst); err != nil {
			t.Fatal(err)
		}
	}
	var theirs []map[string]string
	if err := json.Unmarshal(raw["theirs"], &theirs); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1764000000, 0)
	b := &fakeBot{}
	r, err := handlers.New(handlers.Deps{Bot: b, Now: func() time.Time { return at },
		WeChat: config.WeChat{Token: tok, AESKey: key, AppID: app}})
	if err != nil {
		t.Fatal(err)
	}
	wantText := map[int]string{0: "什么时候开学？", 3: "初一报名要带什么材料"}
	for i, tc := range theirs[:4] { // the inbound ones
		q := url.Values{"timestamp": {tc["timestamp"]}, "nonce": {tc["nonce"]}, "signature": {tc["signature"]},
			"encrypt_type": {"aes"}, "msg_signature": {tc["msg_signature"]}}
		body := "<xml><ToUserName><![CDATA[gh_interop00001]]></ToUserName><Encrypt><![CDATA[" + tc["encrypt"] + "]]></Encrypt></xml>"
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wechat?"+q.Encode(), strings.NewReader(body)))
		if w.Code != 200 {
			t.Errorf("vector %d: %d", i, w.Code)
			continue
		}
		got := b.got[len(b.got)-1]
		if want, ok := wantText[i]; ok && got.Text != want {
			t.Errorf("vector %d: bot got %q, want %q", i, got.Text, want)
		}
	}
	if len(b.got) != 4 || b.got[1].EventKey != "qrscene_campus" || b.got[2].Event != bot.EventClick {
		t.Errorf("bot got %+v", b.got)
	}
}

func scrape(t *testing.T, e *env) string {
	t.Helper()
	w := e.do(http.MethodGet, "/metrics", nil)
	if w.Code != 200 {
		t.Fatalf("/metrics %d", w.Code)
	}
	return w.Body.String()
}

// BenchmarkWebhookSafeMode is one round trip in safe mode: sign, encrypt,
// POST through the router, verify, decrypt, fake bot, encrypt, sign, and
// the peer's check and decryption of the reply.
func BenchmarkWebhookSafeMode(b *testing.B) {
	d := handlers.Deps{Bot: &fakeBot{}, WeChat: wechatSettings(), Now: clock}
	r, err := handlers.New(d)
	if err != nil {
		b.Fatal(err)
	}
	p := peer(wechat.ModeSafe)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q, body, err := p.Seal(wechat.TextMessage(account, user, "几号开学", int64(i), now))
		if err != nil {
			b.Fatal(err)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wechat?"+q.Encode(), bytes.NewReader(body)))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		if _, err := p.Open(w.Body.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
