package broadcastapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/broadcast"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/internal/limits"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/internal/wxapi"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

type notices map[string]*content.Notice

func (n notices) Notice(id string) *content.Notice { return n[id] }

type subs map[string][]bot.Subscriber

func (s subs) Subscribers(_ context.Context, tag string) ([]bot.Subscriber, error) {
	return s[tag], nil
}

type auditEntry struct{ actor, action, item string }

type testAPI struct {
	rdb    redis.UniversalClient
	prefix string
	srv    *httptest.Server
	h      http.Handler
	fake   *wxfake.Server
	svc    *broadcast.Service
	mu     sync.Mutex
	audit  []auditEntry
}

func newAPI(t testing.TB) *testAPI {
	gin.SetMode(gin.TestMode)
	fake := wxfake.New(wxfake.Config{})
	t.Cleanup(fake.Close)
	rdb, prefix := testredis.New(t)
	api, err := wxapi.New(wxapi.Options{AppID: fake.Config().AppID, AppSecret: fake.Config().AppSecret, BaseURL: fake.URL, Redis: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, o := range []string{"o1", "o2", "tester"} {
		fake.AddFollower(o)
		fake.UserMessaged(o, now.Add(-time.Hour))
	}
	svc, err := broadcast.New(broadcast.Options{
		Redis: rdb, Prefix: prefix, API: api, PreviewOpenIDs: []string{"tester"},
		Notices:     notices{"n1": {ID: "n1", Title: "复课通知", Summary: "周三复课", URL: "https://edu.example.org/1", Tags: []string{"开学"}}},
		Subscribers: subs{"开学": {{OpenID: "o1", LastMessage: now.Add(-time.Hour)}, {OpenID: "o2", LastMessage: now.Add(-time.Hour)}}},
		Poll:        20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ta := &testAPI{fake: fake, svc: svc, rdb: rdb, prefix: prefix}
	r := gin.New()
	g := r.Group("/admin/api", func(c *gin.Context) { c.Set("who", c.GetHeader("X-Test-User")) })
	err = Register(g, Deps{
		Service: svc,
		RequireRole: func(role string) gin.HandlerFunc {
			return func(c *gin.Context) {
				if c.GetHeader("X-Test-Role") != role {
					c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "needs " + role})
				}
			}
		},
		Actor: func(c *gin.Context) string { return c.GetString("who") },
		Audit: func(c *gin.Context, action, kind, item string, _, _ any) error {
			ta.mu.Lock()
			defer ta.mu.Unlock()
			ta.audit = append(ta.audit, auditEntry{c.GetString("who"), action, item})
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.h = r
	ta.srv = httptest.NewServer(r)
	t.Cleanup(ta.srv.Close)
	return ta
}

func (a *testAPI) do(t *testing.T, role, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, a.srv.URL+"/admin/api"+path, strings.NewReader(body))
	req.Header.Set("X-Test-Role", role)
	req.Header.Set("X-Test-User", "li")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestMassSendThroughTheAPI(t *testing.T) {
	a := newAPI(t)
	code, job := a.do(t, "publisher", "POST", "/broadcasts", `{"notice":"n1","to":"all"}`)
	if code != http.StatusCreated || job["state"] != "draft" {
		t.Fatalf("create: %d %v", code, job)
	}
	id := job["id"].(string)
	if code, body := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/confirm", ""); code != http.StatusConflict {
		t.Errorf("confirm before preview: %d %v, want 409", code, body)
	}
	if code, body := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/preview", `{"openids":["stranger"]}`); code != http.StatusBadRequest || body["field"] != "openids" {
		t.Errorf("preview to a non-follower: %d %v, want 400 on openids", code, body)
	}
	if code, body := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/preview", ""); code != http.StatusOK || body["state"] != "previewed" {
		t.Fatalf("preview: %d %v", code, body)
	}
	if code, body := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/confirm", ""); code != http.StatusOK || body["state"] != "queued" {
		t.Fatalf("confirm: %d %v", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := a.do(t, "publisher", "GET", "/broadcasts/"+id, "")
		if body["state"] == "submitted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job stuck: %v", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(a.fake.Masses()); n != 1 {
		t.Errorf("%d mass sends, want 1", n)
	}
	// The day's quota is used: refused with 429 and a reason.
	code, body := a.do(t, "publisher", "POST", "/broadcasts", `{"notice":"n1","to":"all"}`)
	if code != http.StatusTooManyRequests || !strings.Contains(body["error"].(string), "订阅号") {
		t.Errorf("second mass send: %d %v, want 429 naming 订阅号", code, body)
	}
	code, list := a.do(t, "publisher", "GET", "/broadcasts", "")
	if code != http.StatusOK || len(list["broadcasts"].([]any)) != 1 {
		t.Errorf("list: %d %v", code, list)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var actions []string
	for _, e := range a.audit {
		actions = append(actions, e.action)
		if e.actor != "li" || e.item != id {
			t.Errorf("audit entry %+v", e)
		}
	}
	if strings.Join(actions, ",") != "create,preview,send" {
		t.Errorf("audit = %v", actions)
	}
}

func TestSubscribersThroughTheAPI(t *testing.T) {
	a := newAPI(t)
	_, job := a.do(t, "publisher", "POST", "/broadcasts", `{"notice":"n1","to":"subscribers"}`)
	id := job["id"].(string)
	if code, body := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/confirm", ""); code != http.StatusOK {
		t.Fatalf("confirm: %d %v", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	var body map[string]any
	for {
		_, body = a.do(t, "publisher", "GET", "/broadcasts/"+id, "")
		if body["state"] == "done" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if body["state"] != "done" || body["sent"] != 2.0 {
		t.Errorf("progress: %v", body)
	}
	_, res := a.do(t, "publisher", "GET", "/broadcasts/"+id+"/results", "")
	if r := res["results"].(map[string]any); r["o1"] != "sent" || r["o2"] != "sent" {
		t.Errorf("results: %v", res)
	}
	if code, _ := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/cancel", ""); code != http.StatusConflict {
		t.Errorf("cancel a finished job: %d, want 409", code)
	}
}

// A finished broadcast with a recipient left interrupted by a killed
// process: the resend queues that one again, once; WeChat receives it
// (here a second time: the interrupted send had in fact gone out, the risk
// the publisher takes).
func TestResendInterruptedThroughTheAPI(t *testing.T) {
	a := newAPI(t)
	_, job := a.do(t, "publisher", "POST", "/broadcasts", `{"notice":"n1","to":"subscribers"}`)
	id := job["id"].(string)
	if code, body := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/resend-interrupted", ""); code != http.StatusConflict {
		t.Errorf("resend of a draft: %d %v, want 409", code, body)
	}
	a.do(t, "publisher", "POST", "/broadcasts/"+id+"/confirm", "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wait := func(sent float64) map[string]any {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, body := a.do(t, "publisher", "GET", "/broadcasts/"+id, "")
			if (body["state"] == "done" && body["sent"] == sent) || time.Now().After(deadline) {
				return body
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if body := wait(2); body["state"] != "done" {
		t.Fatalf("job: %v", body)
	}
	// What a takeover records for a send in flight when its process died.
	jobKey, rcptKey := a.prefix+"bc:{"+id+"}", a.prefix+"bc:{"+id+"}:r"
	if err := a.rdb.HSet(ctx, rcptKey, "o1", broadcast.ResultInterrupted).Err(); err != nil {
		t.Fatal(err)
	}
	a.rdb.HSet(ctx, jobKey, "sent", 1, "failed", 1, "err:interrupted", 1)

	if code, body := a.do(t, "editor", "POST", "/broadcasts/"+id+"/resend-interrupted", ""); code != http.StatusForbidden {
		t.Errorf("resend by an editor: %d %v, want 403", code, body)
	}
	code, body := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/resend-interrupted", "")
	if code != http.StatusOK || body["queued"] != 1.0 {
		t.Fatalf("resend: %d %v, want 200 with 1 queued", code, body)
	}
	if j := wait(2); j["state"] != "done" || j["failed"] != 0.0 || j["resent"] != 1.0 {
		t.Errorf("after the resend: %v", j)
	}
	if got := a.fake.Delivered(); got["o1"] != 2 || got["o2"] != 1 {
		t.Errorf("delivered %v, want o1 twice (sent, then resent) and o2 once", got)
	}
	if code, body := a.do(t, "publisher", "POST", "/broadcasts/"+id+"/resend-interrupted", ""); code != http.StatusOK || body["queued"] != 0.0 {
		t.Errorf("second resend: %d %v, want 200 with 0 queued", code, body)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var actions []string
	for _, e := range a.audit {
		actions = append(actions, e.action)
	}
	if strings.Join(actions, ",") != "create,send,resend" {
		t.Errorf("audit = %v, want one resend entry", actions)
	}
}

func TestBadRequests(t *testing.T) {
	a := newAPI(t)
	for _, tc := range []struct {
		role, method, path, body string
		code                     int
		field                    string
	}{
		{"editor", "POST", "/broadcasts", `{"notice":"n1","to":"all"}`, 403, ""},
		{"publisher", "POST", "/broadcasts", `{"notice":`, 400, "body"},
		{"publisher", "POST", "/broadcasts", ``, 400, "body"},
		{"publisher", "POST", "/broadcasts", `{"to":"all"}`, 400, "notice"},
		{"publisher", "POST", "/broadcasts", `{"notice":"missing","to":"all"}`, 400, "notice"},
		{"publisher", "POST", "/broadcasts", `{"notice":"n1","to":"everybody"}`, 400, "to"},
		{"publisher", "POST", "/broadcasts", `{"notice":"n1","to":"tag:nope"}`, 400, "to"},
		{"publisher", "GET", "/broadcasts?limit=x", ``, 400, "limit"},
		{"publisher", "GET", "/broadcasts/b-nope", ``, 404, ""},
		{"publisher", "POST", "/broadcasts/b-nope/confirm", ``, 404, ""},
		{"publisher", "POST", "/broadcasts/b-nope/cancel", ``, 404, ""},
		{"publisher", "POST", "/broadcasts/b-nope/resend-interrupted", ``, 404, ""},
		{"publisher", "POST", "/broadcasts/{x}/preview", `{"openids":[]}`, 404, ""},
	} {
		code, body := a.do(t, tc.role, tc.method, tc.path, tc.body)
		if code != tc.code || (tc.field != "" && body["field"] != tc.field) {
			t.Errorf("%s %s %s: %d %v, want %d field %q", tc.method, tc.path, tc.body, code, body, tc.code, tc.field)
		}
	}
}

// WeChat unreachable: 502 with a reason, never the API base's address
// (it is internal when wechat.api_base points at a proxy); the details go
// to the log.
func TestWeChatDownHidesAddress(t *testing.T) {
	a := newAPI(t)
	code, job := a.do(t, "publisher", "POST", "/broadcasts", `{"notice":"n1","to":"all"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, job)
	}
	host := strings.TrimPrefix(a.fake.URL, "http://")
	a.fake.Close()
	code, body := a.do(t, "publisher", "POST", "/broadcasts/"+job["id"].(string)+"/preview", "")
	msg, _ := body["error"].(string)
	if code != http.StatusBadGateway || msg == "" {
		t.Fatalf("preview with WeChat down: %d %v, want 502 with a reason", code, body)
	}
	if strings.Contains(msg, host) || strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "dial") {
		t.Errorf("502 body shows the transport error: %q", msg)
	}
}

// A broadcast body over limits.JSONBody is refused with 413; no job.
func TestBroadcastBodyLimit(t *testing.T) {
	a := newAPI(t)
	body := `{"notice":"n1","to":"all","note":"` + strings.Repeat("a", limits.JSONBody) + `"}`
	if code, out := a.do(t, "publisher", "POST", "/broadcasts", body); code != http.StatusRequestEntityTooLarge {
		t.Errorf("%d-byte body: %d %v, want 413", len(body), code, out)
	}
	if _, list := a.do(t, "publisher", "GET", "/broadcasts", ""); len(list["broadcasts"].([]any)) != 0 {
		t.Errorf("a job was created: %v", list)
	}
}
