package console

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/broadcast"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/internal/wxapi"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

type oneNotice map[string]*content.Notice

func (n oneNotice) Notice(id string) *content.Notice { return n[id] }

type oneTag []bot.Subscriber

func (s oneTag) Subscribers(context.Context, string) ([]bot.Subscriber, error) { return s, nil }

// The broadcast page offers a resend only for a finished broadcast with
// interrupted recipients, asks to tick a box, and then sends to them.
func TestBroadcastResendInterrupted(t *testing.T) {
	fake := wxfake.New(wxfake.Config{})
	t.Cleanup(fake.Close)
	rdb, prefix := testredis.New(t)
	api, err := wxapi.New(wxapi.Options{AppID: fake.Config().AppID, AppSecret: fake.Config().AppSecret, BaseURL: fake.URL, Redis: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var subs oneTag
	for _, o := range []string{"o1", "o2"} {
		fake.AddFollower(o)
		fake.UserMessaged(o, now.Add(-time.Hour))
		subs = append(subs, bot.Subscriber{OpenID: o, LastMessage: now.Add(-time.Hour)})
	}
	svc, err := broadcast.New(broadcast.Options{Redis: rdb, Prefix: prefix, API: api, Subscribers: subs, Poll: 20 * time.Millisecond,
		Notices: oneNotice{"n1": {ID: "n1", Title: "复课通知", Summary: "周三复课", URL: "https://edu.example.org/1", Tags: []string{"开学"}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e := newEnv(t, func(d *Deps) { d.Broadcasts = svc })
	j, err := svc.Create(ctx, broadcast.Request{Notice: "n1", To: "subscribers"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Confirm(ctx, j.ID, "pat"); err != nil {
		t.Fatal(err)
	}
	wait := func() *broadcast.Job {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			j, _ := svc.Get(ctx, j.ID)
			if j.State == broadcast.StateDone && j.Sent == 2 || time.Now().After(deadline) {
				return j
			}
		}
	}
	wait()
	page := "/console/broadcasts/" + j.ID
	pat := e.loggedIn("pat")
	if r := pat.get(page); strings.Contains(r.body, `id="resend-form"`) {
		t.Fatal("resend offered with no interrupted recipient")
	}
	// What a takeover records for a send in flight when its process died.
	rdb.HSet(ctx, prefix+"bc:{"+j.ID+"}:r", "o1", broadcast.ResultInterrupted)
	rdb.HSet(ctx, prefix+"bc:{"+j.ID+"}", "sent", 1, "failed", 1, "err:interrupted", 1)
	r := pat.get(page)
	if !strings.Contains(r.body, `id="resend-form"`) || !strings.Contains(r.body, "不确定是否收到") {
		t.Fatalf("no resend form or interrupted result on the page:\n%s", r.body)
	}
	if r := pat.submit(page, page+"/resend-interrupted", nil); r.status != 422 || fieldErrors(r.body)["resend"] == "" {
		t.Errorf("resend without the box ticked: %d %v, want 422 beside the box", r.status, fieldErrors(r.body))
	}
	if r := pat.submit(page, page+"/resend-interrupted", url.Values{"sure": {"1"}}); r.status != 303 {
		t.Fatalf("resend: %d %s", r.status, r.body)
	}
	if j := wait(); j.Failed != 0 || j.Resent != 1 || fake.Delivered()["o1"] != 2 {
		t.Errorf("after the resend: %+v, o1 delivered %d times (sent, then resent)", j, fake.Delivered()["o1"])
	}
}
