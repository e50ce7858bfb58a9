package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/broadcast"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
	"github.com/gdjysjyj/edubot/internal/wxapi"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

const bcTester = "o-tester-phone"

// bcEnv is a console with broadcasts on: the broadcast service and its
// worker against the fake WeChat API, as serve wires them.
type bcEnv struct {
	*env
	fake *wxfake.Server
	svc  *broadcast.Service
	subs *redisstore.Store
}

func newBroadcastEnv(t *testing.T) *bcEnv {
	t.Helper()
	fake := wxfake.New(wxfake.Config{})
	t.Cleanup(fake.Close)
	fake.AddFollower(bcTester)
	fake.UserMessaged(bcTester, time.Now())
	be := &bcEnv{fake: fake}
	be.env = newEnv(t, func(d *Deps) {
		api, err := wxapi.New(wxapi.Options{AppID: fake.Config().AppID, AppSecret: fake.Config().AppSecret,
			BaseURL: fake.URL, Redis: d.Redis, Prefix: d.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		be.subs = redisstore.New(d.Redis, d.Prefix)
		// One worker: the test knows which send is in flight.
		be.svc, err = broadcast.New(broadcast.Options{Redis: d.Redis, Prefix: d.Prefix, API: api,
			Notices: d.Engine, Subscribers: be.subs, Now: d.Now, Workers: 1, Poll: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		d.Broadcasts = be.svc
		d.PreviewOpenIDs = []string{bcTester}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = be.svc.Run(ctx); close(done) }()
	// Registered after newEnv's: runs first, so the worker stops before
	// its Redis keys are cleaned up.
	t.Cleanup(func() { cancel(); <-done })
	return be
}

// subscribedNotice is a live notice with a link and a topic, to send to
// the topic's subscribers.
func (be *bcEnv) subscribedNotice() *content.Notice {
	be.t.Helper()
	for _, n := range be.engine.Snapshot().Notices {
		if n.URL != "" && len(n.Tags) > 0 && !n.Expired(be.now) {
			return n
		}
	}
	be.t.Fatal("no live notice with a link and a tag in the sample content")
	return nil
}

// subscribe makes followers of the account who subscribed to tag and
// wrote within 48 hours (on the service's clock and on the fake's).
func (be *bcEnv) subscribe(tag string, openids ...string) {
	be.t.Helper()
	ctx := context.Background()
	for _, o := range openids {
		be.fake.AddFollower(o)
		be.fake.UserMessaged(o, time.Now())
		if err := be.subs.Subscribe(ctx, o, tag, be.now.Add(-time.Hour), 24*time.Hour); err != nil {
			be.t.Fatal(err)
		}
		if _, err := be.subs.Load(ctx, o, be.now.Add(-time.Hour), 24*time.Hour); err != nil {
			be.t.Fatal(err)
		}
	}
}

// sendsTo counts the customer-service messages the fake received, except
// the previews to the test phone.
func (be *bcEnv) sendsTo() int {
	n := 0
	for _, c := range be.fake.Calls(wxfake.PathCustomSend) {
		if !strings.Contains(string(c.Body), bcTester) {
			n++
		}
	}
	return n
}

var reJobID = regexp.MustCompile(`^/console/broadcasts/(b[0-9a-f-]+)$`)

// createJob makes a subscriber broadcast of n as cl and returns its id.
func (be *bcEnv) createJob(cl *client, n *content.Notice) string {
	be.t.Helper()
	r := cl.submit("/console/broadcasts", "/console/broadcasts", url.Values{"notice": {n.ID}, "to": {broadcast.ChannelSubscribers}})
	m := reJobID.FindStringSubmatch(r.loc)
	if r.status != http.StatusSeeOther || m == nil {
		be.t.Fatalf("create: %d → %q %v", r.status, r.loc, fieldErrors(r.body))
	}
	return m[1]
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBroadcastCancelProgressResults creates a broadcast to subscribers,
// previews and confirms it, cancels it while the first message is on its
// way to WeChat, and follows it on the pages: cancelled, each person's
// result, and not one message more after the cancel.
func TestBroadcastCancelProgressResults(t *testing.T) {
	be := newBroadcastEnv(t)
	ctx := context.Background()
	n := be.subscribedNotice()
	subs := []string{"o-sub-1", "o-sub-2", "o-sub-3", "o-sub-4"}
	be.subscribe(n.Tags[0], subs...)
	pat := be.loggedIn("pat")

	id := be.createJob(pat, n)
	page := "/console/broadcasts/" + id
	r := pat.get(page)
	if r.status != http.StatusOK || !strings.Contains(r.body, `data-state="draft"`) || !strings.Contains(r.body, `<b id="reach-count">4</b>`) {
		t.Fatalf("new job's page: %d, want a draft reaching 4 people\n%s", r.status, r.body)
	}

	r = pat.submit(page, page+"/preview", url.Values{"openids": {bcTester}})
	if r.status != http.StatusSeeOther || r.loc != page {
		t.Fatalf("preview: %d → %q %v", r.status, r.loc, fieldErrors(r.body))
	}
	if got := be.fake.Delivered()[bcTester]; got != 1 {
		t.Fatalf("preview messages to the test phone: %d, want 1", got)
	}
	if r = pat.get(page); !strings.Contains(r.body, "预览已发到测试手机") || !strings.Contains(r.body, `data-state="previewed"`) {
		t.Fatalf("after the preview:\n%s", r.body)
	}

	// The first message to a subscriber is held at WeChat until the
	// cancel has happened: a send in flight when staff cancel.
	inFlight, release := make(chan struct{}), make(chan struct{})
	var held, released sync.Once
	be.fake.OnCall(func(c wxfake.Call) {
		if c.Path == wxfake.PathCustomSend && !strings.Contains(string(c.Body), bcTester) {
			held.Do(func() { close(inFlight); <-release })
		}
	})
	letGo := func() { released.Do(func() { close(release) }) }
	defer letGo() // nothing stays held if the test stops early
	r = pat.submit(page, page+"/confirm", url.Values{"sure": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d %v", r.status, fieldErrors(r.body))
	}
	select {
	case <-inFlight:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker sent nothing after the confirmation")
	}
	// While it runs, the page follows its progress.
	if p := pat.get(page + "/progress"); p.status != http.StatusOK || !strings.Contains(p.body, `data-state="running"`) || !strings.Contains(p.body, `hx-trigger="every 1s"`) {
		t.Fatalf("progress while running: %d\n%s", p.status, p.body)
	}

	r = pat.submit(page, page+"/cancel", nil)
	if r.status != http.StatusSeeOther || r.loc != page {
		t.Fatalf("cancel: %d → %q %v", r.status, r.loc, fieldErrors(r.body))
	}
	sentAtCancel := be.sendsTo()
	letGo()
	waitFor(t, "every subscriber has a result", func() bool {
		j, err := be.svc.Get(ctx, id)
		return err == nil && j.Total == len(subs) && j.Sent+j.Skipped+j.Failed+j.Cancelled == j.Total
	})
	// The worker has stopped picking the job up: nothing more can go out.
	waitFor(t, "the job is retired", func() bool {
		active, _ := be.c.Redis.SIsMember(ctx, be.c.Prefix+"bc:active", id).Result()
		return !active
	})
	if got := be.sendsTo(); got != sentAtCancel || got != 1 {
		t.Fatalf("messages to subscribers: %d, %d when cancelled; want the one in flight only", got, sentAtCancel)
	}

	j, err := be.svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != broadcast.StateCancelled || j.Sent != 1 || j.Cancelled != 3 || j.CancelledBy != "pat" || j.FinishedAt.IsZero() {
		t.Fatalf("job after cancel: %+v", j)
	}
	r = pat.get(page)
	if r.status != http.StatusOK || !strings.Contains(r.body, "已取消这次群发") {
		t.Fatalf("job page after cancel: %d, no flash", r.status)
	}
	for _, want := range []string{`<span id="b-state" data-state="cancelled">已取消</span>`,
		`共 4 人：已发送 <b>1</b>，跳过 0，失败 0，取消 3。`, "pat 取消"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("job page lacks %q", want)
		}
	}
	if strings.Contains(r.body, `id="b-cancel"`) || strings.Contains(r.body, `hx-trigger="every 1s"`) {
		t.Error("a cancelled job still offers a cancel button or keeps polling")
	}
	res := regexp.MustCompile(`<tr><td><code>(o-sub-\d)</code></td><td>([^<]+)</td></tr>`).FindAllStringSubmatch(r.body, -1)
	results := map[string]int{}
	for _, m := range res {
		results[m[2]]++
	}
	if len(res) != len(subs) || results["已发送"] != 1 || results["已取消"] != 3 {
		t.Fatalf("results shown: %v (%d rows), want 1 已发送 and 3 已取消", results, len(res))
	}
	// The progress fragment carries the results too (it replaces them while
	// the job runs), and stops polling once the job is over.
	if p := pat.get(page + "/progress"); !strings.Contains(p.body, `data-state="cancelled"`) || strings.Contains(p.body, "hx-get") ||
		strings.Count(p.body, "<td>已取消</td>") != 3 {
		t.Errorf("progress after cancel: %s", p.body)
	}
	list := pat.get("/console/broadcasts")
	if !strings.Contains(list.body, `href="/console/broadcasts/`+id+`"`) || !strings.Contains(list.body, "<td>已取消</td>") || !strings.Contains(list.body, "取消 3") {
		t.Errorf("broadcast list does not show the cancelled job with its results")
	}

	// Cancelling again: refused on the page, nothing changes.
	r = pat.submit(page, page+"/cancel", nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(r.body)["form"], "状态已经变了") {
		t.Fatalf("second cancel: %d %v", r.status, fieldErrors(r.body))
	}
	// An unknown job: not found, not a server error.
	for _, action := range []string{"cancel", "preview", "confirm"} {
		if r := pat.submit(page, "/console/broadcasts/b20261122-000000-000000/"+action, url.Values{"openids": {bcTester}, "sure": {"1"}}); r.status != http.StatusNotFound {
			t.Errorf("%s of an unknown job: %d, want 404", action, r.status)
		}
	}
	// Audited: who created, previewed, sent and cancelled it.
	entries, err := be.store.Audit().List(ctx, store.AuditQuery{Item: id, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Actor+":"+en.Action)
	}
	if strings.Join(actions, ",") != "pat:cancel,pat:send,pat:preview,pat:create" {
		t.Errorf("audit of the job: %v", actions)
	}
}

// TestEditorRefusedEveryPublisherRoute walks the console's route table:
// an editor, logged in and with a valid CSRF token, gets the refusal page
// on every publisher route (actions and pages), and nothing happens — no
// job made, previewed, confirmed or cancelled, nothing sent to WeChat.
func TestEditorRefusedEveryPublisherRoute(t *testing.T) {
	be := newBroadcastEnv(t)
	ctx := context.Background()
	n := be.subscribedNotice()
	be.subscribe(n.Tags[0], "o-sub-1")
	// A publisher's draft, so the actions on a job have one to act on.
	id := be.createJob(be.loggedIn("pat"), n)
	before, err := be.svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	calls := len(be.fake.Calls())

	var pub []RouteRole
	seen := map[string]bool{}
	for _, rr := range be.c.RouteRoles() {
		if rr.Role == admin.RolePublisher {
			pub = append(pub, rr)
			seen[rr.Method+" "+rr.Path] = true
		}
	}
	for _, want := range []string{"GET /console/broadcasts", "POST /console/broadcasts", "GET /console/broadcasts/:id",
		"GET /console/broadcasts/:id/progress", "POST /console/broadcasts/:id/preview",
		"POST /console/broadcasts/:id/confirm", "POST /console/broadcasts/:id/cancel"} {
		if !seen[want] {
			t.Errorf("the route table does not have %s as a publisher route", want)
		}
	}

	ann := be.loggedIn("ann")
	tok := ann.csrf("/console/")
	form := url.Values{"_csrf": {tok}, "notice": {n.ID}, "to": {broadcast.ChannelSubscribers},
		"openids": {bcTester}, "sure": {"1"}}
	for _, rr := range pub {
		path := strings.ReplaceAll(rr.Path, ":id", id)
		var r resp
		if rr.Method == http.MethodGet {
			r = ann.get(path)
		} else {
			r = ann.post(path, form)
		}
		if r.status != http.StatusForbidden || !strings.Contains(r.body, `id="error-message"`) ||
			!strings.Contains(r.body, "没有权限") || !strings.Contains(r.body, "「发布者」") {
			t.Errorf("editor %s %s: %d, want 403 with the refusal page\n%.400s", rr.Method, path, r.status, r.body)
		}
	}

	jobs, err := be.svc.List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].ID != id {
		t.Errorf("jobs after the editor's attempts: %d, want the publisher's one only", len(jobs))
	}
	after, err := be.svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Errorf("the job changed:\nbefore %s\nafter  %s", b1, b2)
	}
	if got := be.fake.Calls(); len(got) != calls {
		t.Errorf("WeChat was called %d more times: %+v", len(got)-calls, got[calls:])
	}
	if entries, _ := be.store.Audit().List(ctx, store.AuditQuery{Actor: "ann", Limit: 10}); len(entries) != 1 || entries[0].Action != "login" {
		t.Errorf("audit of the editor: %+v, want her login only", entries)
	}
}

// TestRouteTableIsComplete: every route behind the console's login is in
// the route table with its role, so walking the table walks them all.
func TestRouteTableIsComplete(t *testing.T) {
	e := newEnv(t)
	table := map[string]string{}
	for _, rr := range e.c.RouteRoles() {
		if roleRank[rr.Role] == 0 {
			t.Errorf("%s %s: unknown role %q", rr.Method, rr.Path, rr.Role)
		}
		table[rr.Method+" "+rr.Path] = rr.Role
	}
	public := map[string]bool{"GET /console/login": true, "POST /console/login": true,
		"GET /console/static/*file": true, "GET /console": true}
	for _, rt := range e.router.Routes() {
		k := rt.Method + " " + rt.Path
		if !strings.HasPrefix(rt.Path, BasePath) || public[k] {
			continue
		}
		if _, ok := table[k]; !ok {
			t.Errorf("%s is served but not in the route table", k)
		}
		delete(table, k)
	}
	for k := range table {
		t.Errorf("%s is in the route table but not served", k)
	}
}
