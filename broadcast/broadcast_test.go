package broadcast

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/internal/wxapi"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

type notices map[string]*content.Notice

func (n notices) Notice(id string) *content.Notice { return n[id] }

type subs struct {
	mu sync.Mutex
	m  map[string][]bot.Subscriber
}

func (s *subs) Subscribers(_ context.Context, tag string) ([]bot.Subscriber, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bot.Subscriber(nil), s.m[tag]...), nil
}

var _ Subscribers = (*subs)(nil)

type env struct {
	t      *testing.T
	fake   *wxfake.Server
	api    *wxapi.Client
	rdb    redis.UniversalClient
	prefix string
	subs   *subs
	now    time.Time
	notes  notices
}

func newEnv(t *testing.T, cfg wxfake.Config) *env {
	t.Helper()
	now := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	fake := wxfake.New(cfg)
	t.Cleanup(fake.Close)
	rdb, prefix := testredis.New(t)
	api, err := wxapi.New(wxapi.Options{AppID: fake.Config().AppID, AppSecret: fake.Config().AppSecret,
		BaseURL: fake.URL, Timeout: 2 * time.Second, Redis: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, fake: fake, api: api, rdb: rdb, prefix: prefix, subs: &subs{m: map[string][]bot.Subscriber{}}, now: now,
		notes: notices{
			"n-typhoon":  {ID: "n-typhoon", Title: "台风过后复课安排", Summary: "各校周三恢复上课。", URL: "https://edu.example.org/n/1", Tags: []string{"开学", "停课"}},
			"n-enrol":    {ID: "n-enrol", Title: "小学一年级报名", Summary: "报名时间安排。", URL: "https://edu.example.org/n/2", Tags: []string{"招生"}},
			"n-untagged": {ID: "n-untagged", Title: "无标签通知", Summary: "摘要", URL: "https://edu.example.org/n/3"},
		}}
}

func (e *env) service(o Options) *Service {
	e.t.Helper()
	o.Redis, o.Prefix, o.API, o.Notices, o.Subscribers = e.rdb, e.prefix, e.api, e.notes, e.subs
	o.Now = func() time.Time { return e.now }
	if o.ClaimIdle == 0 {
		o.ClaimIdle = 300 * time.Millisecond
	}
	o.Poll = 20 * time.Millisecond
	if o.SendTimeout == 0 {
		o.SendTimeout = time.Second
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond = 1000
	}
	s, err := New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// subscriber adds a follower who subscribed to tag and last wrote ago
// before now (never, if ago < 0).
func (e *env) subscriber(openid, tag string, ago time.Duration) {
	e.fake.AddFollower(openid)
	sub := bot.Subscriber{OpenID: openid, SubscribedAt: e.now.Add(-72 * time.Hour)}
	if ago >= 0 {
		sub.LastMessage = e.now.Add(-ago)
		e.fake.UserMessaged(openid, sub.LastMessage)
	}
	e.subs.mu.Lock()
	e.subs.m[tag] = append(e.subs.m[tag], sub)
	e.subs.mu.Unlock()
}

// run starts the workers; the returned func stops them and waits.
func run(t *testing.T, s *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func waitState(t *testing.T, s *Service, id string, states ...string) *Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if j.State == st {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s stayed %s (%+v), want %v", id, j.State, j, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSubscribersGetOneNewsMessageAndOthersAreSkipped(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	e.subscriber("o-recent", "开学", time.Hour)
	e.subscriber("o-47h", "开学", 47*time.Hour)
	e.subscriber("o-both", "开学", 2*time.Hour)
	e.subscriber("o-both", "停课", 2*time.Hour) // subscribed to two of the notice's tags: one message
	e.subscriber("o-50h", "停课", 50*time.Hour)
	e.subscriber("o-never", "开学", -1)
	e.subscriber("o-other", "招生", time.Hour) // another topic
	s := e.service(Options{})
	ctx := context.Background()

	j, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers", Actor: "li"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateDone)
	if j.Total != 5 || j.Sent != 3 || j.Skipped != 2 || j.Failed != 0 || j.Skips[SkipOutsideWindow] != 2 {
		t.Errorf("progress = total %d sent %d skipped %d failed %d skips %v; want 5/3/2/0 with 2 outside 48 h",
			j.Total, j.Sent, j.Skipped, j.Failed, j.Skips)
	}
	if j.FinishedAt.IsZero() {
		t.Error("finished_at not set")
	}
	want := map[string]int{"o-recent": 1, "o-47h": 1, "o-both": 1}
	got := e.fake.Delivered()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("WeChat delivered %v, want %v", got, want)
	}
	calls := e.fake.Calls(wxfake.PathCustomSend)
	if len(calls) != 3 {
		t.Fatalf("%d custom/send calls, want 3 (no call for users outside the window)", len(calls))
	}
	body := string(calls[0].Body)
	for _, part := range []string{`"msgtype":"news"`, "台风过后复课安排", "https://edu.example.org/n/1"} {
		if !strings.Contains(body, part) {
			t.Errorf("custom/send body %s lacks %s", body, part)
		}
	}
	res, err := s.Results(ctx, j.ID)
	if err != nil || res["o-50h"] != "skipped:"+SkipOutsideWindow || res["o-recent"] != "sent" {
		t.Errorf("results = %v, %v", res, err)
	}
}

func TestPerUserQuotaRespectedBeforeWeChat(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	e.subscriber("o1", "招生", time.Hour)
	s := e.service(Options{})
	run(t, s)
	ctx := context.Background()
	for i := 1; i <= 6; i++ {
		j, err := s.Create(ctx, Request{Notice: "n-enrol", To: "subscribers"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
			t.Fatal(err)
		}
		j = waitState(t, s, j.ID, StateDone)
		if i <= 5 && j.Sent != 1 {
			t.Errorf("broadcast %d: sent %d, want 1", i, j.Sent)
		}
		if i == 6 && (j.Sent != 0 || j.Skips[SkipUserQuota] != 1) {
			t.Errorf("broadcast 6: %+v, want skipped for the user's quota", j)
		}
	}
	if n := len(e.fake.Calls(wxfake.PathCustomSend)); n != 5 {
		t.Errorf("WeChat got %d messages, want 5 (the sixth never sent): %+v", n, e.fake.Calls(wxfake.PathCustomSend))
	}
	// WeChat's own refusal counts as a skip, not a failure.
	e.subscriber("o2", "开学", time.Hour)
	e.fake.InjectError(wxfake.PathCustomSend, wxfake.CodeTooManyCS)
	j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	j = waitState(t, s, j.ID, StateDone)
	if j.Skips[SkipUserQuota] != 1 || j.Failed != 0 {
		t.Errorf("45047: %+v", j)
	}
}

func TestMassSendNeedsPreviewThenConfirmation(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	for _, o := range []string{"o1", "o2", "o3", "tester"} {
		e.fake.AddFollower(o)
	}
	s := e.service(Options{})
	ctx := context.Background()
	j, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "all", Actor: "li"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, j.ID, "wang"); !errors.Is(err, ErrState) {
		t.Fatalf("confirm before preview: %v, want ErrState", err)
	}
	var fe *FieldError
	if _, err := s.Preview(ctx, j.ID, nil, "li"); !errors.As(err, &fe) || fe.Field != "openids" {
		t.Fatalf("preview without openids: %v, want a field error", err)
	}
	if _, err := s.Preview(ctx, j.ID, []string{"tester"}, "li"); err != nil {
		t.Fatal(err)
	}
	pv := e.fake.Calls(wxfake.PathMassPreview)
	if len(pv) != 1 || !strings.Contains(string(pv[0].Body), `"touser":"tester"`) || !strings.Contains(string(pv[0].Body), "台风过后复课安排") {
		t.Fatalf("preview calls = %+v", pv)
	}
	if len(e.fake.Calls(wxfake.PathMassSendAll)) != 0 {
		t.Fatal("mass send went out before confirmation")
	}
	if _, err := s.Confirm(ctx, j.ID, "wang"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, j.ID, "wang"); !errors.Is(err, ErrState) {
		t.Errorf("second confirm: %v, want ErrState", err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateSubmitted)
	masses := e.fake.Masses()
	if len(masses) != 1 || !masses[0].ToAll || masses[0].ClientMsgID != j.ID || masses[0].MsgID != j.MsgID {
		t.Fatalf("masses = %+v, job msg_id %d", masses, j.MsgID)
	}
	if j.PreviewedBy != "li" || j.ConfirmedBy != "wang" || len(j.PreviewedTo) != 1 {
		t.Errorf("audit fields: %+v", j)
	}
	// WeChat's MASSSENDJOBFINISH event, as the webhook passes it on.
	r, _ := e.fake.FinishMass(j.MsgID)
	if err := s.MassFinished(ctx, bot.MassResult{MsgID: r.MsgID, Status: r.Status, TotalCount: r.TotalCount,
		FilterCount: r.FilterCount, SentCount: r.SentCount, ErrorCount: r.ErrorCount}); err != nil {
		t.Fatal(err)
	}
	j, _ = s.Get(ctx, j.ID)
	if j.State != StateDone || j.WeChat == nil || j.WeChat.SentCount != 4 || j.Sent != 4 {
		t.Errorf("after MASSSENDJOBFINISH: %+v", j)
	}
	if err := s.MassFinished(ctx, bot.MassResult{MsgID: 42}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown msg id: %v", err)
	}
}

func TestMassToTagByName(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	e.fake.AddFollower("p1", "家长")
	e.fake.AddFollower("t1", "教师")
	s := e.service(Options{PreviewOpenIDs: []string{"p1"}})
	ctx := context.Background()
	if _, err := s.Create(ctx, Request{Notice: "n-enrol", To: "tag:学生"}); err == nil || !strings.Contains(err.Error(), "家长") {
		t.Errorf("unknown tag: %v, want an error listing the tags", err)
	}
	j, err := s.Create(ctx, Request{Notice: "n-enrol", To: "tag:家长"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Preview(ctx, j.ID, nil, "li"); err != nil { // configured preview openids
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	waitState(t, s, j.ID, StateSubmitted)
	m := e.fake.Masses()
	if len(m) != 1 || m[0].ToAll || m[0].TagID != e.fake.TagID("家长") || fmt.Sprint(m[0].Recipients) != "[p1]" {
		t.Errorf("mass = %+v", m)
	}
}

func TestMassQuotaRefusedBeforeWeChat(t *testing.T) {
	t.Run("subscription account: one a day", func(t *testing.T) {
		e := newEnv(t, wxfake.Config{})
		e.fake.AddFollower("tester")
		s := e.service(Options{PreviewOpenIDs: []string{"tester"}})
		ctx := context.Background()
		first, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "all"})
		second, err := s.Create(ctx, Request{Notice: "n-enrol", To: "all"})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range []*Job{first, second} {
			if _, err := s.Preview(ctx, j.ID, nil, "li"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Confirm(ctx, first.ID, "li"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Confirm(ctx, second.ID, "li")
		if !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "订阅号") {
			t.Fatalf("second confirm the same day: %v, want ErrQuota naming 订阅号", err)
		}
		if _, err := s.Create(ctx, Request{Notice: "n-enrol", To: "all"}); !errors.Is(err, ErrQuota) {
			t.Errorf("create when the quota is used: %v", err)
		}
		// Subscriber messages are not limited by the mass quota.
		if _, err := s.Create(ctx, Request{Notice: "n-enrol", To: "subscribers"}); err != nil {
			t.Errorf("subscribers: %v", err)
		}
		run(t, s)
		waitState(t, s, first.ID, StateSubmitted)
		if n := len(e.fake.Calls(wxfake.PathMassSendAll)); n != 1 {
			t.Errorf("WeChat got %d sendall calls, want 1", n)
		}
		// Next day (in Beijing time) the quota is back.
		e.now = e.now.Add(24 * time.Hour)
		if _, err := s.Confirm(ctx, second.ID, "li"); err != nil {
			t.Errorf("next day: %v", err)
		}
	})
	t.Run("service account: four a month", func(t *testing.T) {
		e := newEnv(t, wxfake.Config{AccountType: wxfake.Service})
		e.fake.AddFollower("tester")
		s := e.service(Options{AccountType: AccountService, PreviewOpenIDs: []string{"tester"}})
		ctx := context.Background()
		for i := 1; i <= 5; i++ {
			j, err := s.Create(ctx, Request{Notice: "n-enrol", To: "all"})
			if i == 5 {
				if !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "服务号") {
					t.Fatalf("fifth: %v, want ErrQuota naming 服务号", err)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Preview(ctx, j.ID, nil, "li"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
	})
	t.Run("cancel gives the quota back", func(t *testing.T) {
		e := newEnv(t, wxfake.Config{})
		e.fake.AddFollower("tester")
		s := e.service(Options{PreviewOpenIDs: []string{"tester"}})
		ctx := context.Background()
		j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "all"})
		s.Preview(ctx, j.ID, nil, "li")
		if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
			t.Fatal(err)
		}
		if j, err := s.Cancel(ctx, j.ID, "li"); err != nil || j.State != StateCancelled || j.CancelledBy != "li" {
			t.Fatalf("cancel: %+v %v", j, err)
		}
		if _, err := s.Cancel(ctx, j.ID, "li"); !errors.Is(err, ErrState) {
			t.Errorf("cancel twice: %v", err)
		}
		if _, err := s.Create(ctx, Request{Notice: "n-enrol", To: "all"}); err != nil {
			t.Errorf("after cancel: %v", err)
		}
		run(t, s)
		time.Sleep(200 * time.Millisecond)
		if n := len(e.fake.Calls(wxfake.PathMassSendAll)); n != 0 {
			t.Errorf("cancelled mass send reached WeChat (%d calls)", n)
		}
	})
}

func TestBadInputIsAFieldError(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	s := e.service(Options{})
	ctx := context.Background()
	e.notes["n-old"] = &content.Notice{ID: "n-old", Title: "旧", URL: "https://x", Tags: []string{"开学"},
		Expires: content.Date{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	for _, tc := range []struct {
		r     Request
		field string
	}{
		{Request{Notice: "", To: "all"}, "notice"},
		{Request{Notice: "nope", To: "all"}, "notice"},
		{Request{Notice: "n-old", To: "subscribers"}, "notice"},
		{Request{Notice: "n-untagged", To: "subscribers"}, "notice"},
		{Request{Notice: "n-enrol", To: "everyone"}, "to"},
		{Request{Notice: "n-enrol", To: "tag:"}, "to"},
	} {
		_, err := s.Create(ctx, tc.r)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: %v, want a field error on %s", tc.r, err, tc.field)
		}
	}
	if _, err := s.Get(ctx, "b-missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
	if _, err := s.Confirm(ctx, "b-missing", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("confirm missing: %v", err)
	}
}

func manySubscribers(e *env, n int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("o%02d", i)
		e.subscriber(id, "开学", time.Hour)
		ids = append(ids, id)
	}
	return ids
}

func checkExactlyOnce(t *testing.T, e *env, ids []string, except ...string) {
	t.Helper()
	got := e.fake.Delivered()
	for _, id := range ids {
		want := 1
		for _, x := range except {
			if x == id {
				want = 0
			}
		}
		if got[id] != want {
			t.Errorf("%s received %d messages, want %d", id, got[id], want)
		}
	}
}

func TestWorkerKilledMidJobAndRestarted(t *testing.T) {
	t.Run("stopped between recipients", func(t *testing.T) {
		e := newEnv(t, wxfake.Config{})
		ids := manySubscribers(e, 20)
		first := e.service(Options{Workers: 1})
		ctx := context.Background()
		j, _ := first.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
		first.Confirm(ctx, j.ID, "li")
		var sent atomic.Int32
		seventh := make(chan struct{})
		first.beforeSend = func(string, string) error {
			if sent.Add(1) == 7 {
				close(seventh)
				time.Sleep(50 * time.Millisecond) // shutdown arrives while this send is in flight
			}
			return nil
		}
		stop := run(t, first)
		<-seventh
		stop()
		mid, _ := first.Get(ctx, j.ID)
		if mid.State != StateRunning || mid.Sent < 7 || mid.Sent >= 20 {
			t.Fatalf("after the stop: %+v, want running with 7+ sent", mid)
		}
		restarted := e.service(Options{Workers: 1})
		run(t, restarted)
		j = waitState(t, restarted, j.ID, StateDone)
		if j.Sent != 20 || j.Failed != 0 {
			t.Errorf("final: %+v, want 20 sent", j)
		}
		checkExactlyOnce(t, e, ids)
	})
	t.Run("crashed after marking a recipient", func(t *testing.T) {
		e := newEnv(t, wxfake.Config{})
		ids := manySubscribers(e, 20)
		first := e.service(Options{Workers: 1})
		ctx := context.Background()
		j, _ := first.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
		first.Confirm(ctx, j.ID, "li")
		var n atomic.Int32
		crashed := make(chan string, 1)
		first.beforeSend = func(_, openid string) error {
			if n.Add(1) == 8 {
				crashed <- openid
				return errors.New("crash") // the process dies here: item pending, recipient marked
			}
			return nil
		}
		run(t, first)
		victim := <-crashed
		restarted := e.service(Options{Workers: 2})
		run(t, restarted)
		j = waitState(t, restarted, j.ID, StateDone)
		if j.Sent != 19 || j.Failed != 1 || j.Errors["interrupted"] != 1 {
			t.Errorf("final: %+v, want 19 sent and the interrupted one reported failed", j)
		}
		checkExactlyOnce(t, e, ids, victim)
	})
}

func TestTwoReplicasShareOneJob(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	ids := manySubscribers(e, 40)
	a, b := e.service(Options{}), e.service(Options{})
	var byA, byB atomic.Int32
	a.beforeSend = func(string, string) error { byA.Add(1); time.Sleep(5 * time.Millisecond); return nil }
	b.beforeSend = func(string, string) error { byB.Add(1); time.Sleep(5 * time.Millisecond); return nil }
	ctx := context.Background()
	j, _ := a.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	if _, err := b.Confirm(ctx, j.ID, "li"); err != nil { // confirmed through the other replica
		t.Fatal(err)
	}
	run(t, a)
	run(t, b)
	j = waitState(t, b, j.ID, StateDone)
	if j.Sent != 40 {
		t.Errorf("sent %d, want 40", j.Sent)
	}
	if byA.Load() == 0 || byB.Load() == 0 {
		t.Errorf("one replica did everything (a %d, b %d)", byA.Load(), byB.Load())
	}
	checkExactlyOnce(t, e, ids)
}

func TestTokenExpiresMidJob(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	ids := manySubscribers(e, 10)
	var sends atomic.Int32
	e.fake.OnCall(func(c wxfake.Call) {
		if c.Path == wxfake.PathCustomSend && c.ErrCode == 0 && sends.Add(1) == 4 {
			e.fake.ExpireTokens()
		}
	})
	s := e.service(Options{Workers: 1})
	ctx := context.Background()
	j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	s.Confirm(ctx, j.ID, "li")
	run(t, s)
	j = waitState(t, s, j.ID, StateDone)
	if j.Sent != 10 || j.Failed != 0 {
		t.Errorf("final %+v, want all 10 sent", j)
	}
	var expired int
	for _, c := range e.fake.Calls(wxfake.PathCustomSend) {
		if c.ErrCode == wxfake.CodeTokenExpired {
			expired++
		}
	}
	if expired != 1 || len(e.fake.Calls(wxfake.PathStableToken)) != 2 {
		t.Errorf("%d sends refused with 42001 and %d token fetches; want 1 and 2", expired, len(e.fake.Calls(wxfake.PathStableToken)))
	}
	checkExactlyOnce(t, e, ids)
}

func TestWeChatRefusalStopsTheJobWithAClearError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*wxfake.Server)
		code  string
	}{
		{"48001 unauthorised", func(f *wxfake.Server) { f.SetUnauthorized(wxfake.PathCustomSend, true) }, "48001"},
		{"45009 API quota", func(f *wxfake.Server) { f.SetAPIQuota(wxfake.PathCustomSend, 0) }, "45009"},
		{"40164 IP whitelist", func(f *wxfake.Server) { f.SetIPWhitelisted(false) }, "40164"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, wxfake.Config{})
			manySubscribers(e, 10)
			tc.setup(e.fake)
			s := e.service(Options{Workers: 1})
			ctx := context.Background()
			j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
			s.Confirm(ctx, j.ID, "li")
			run(t, s)
			j = waitState(t, s, j.ID, StateFailed)
			if !strings.Contains(j.Error, tc.code) || j.Sent != 0 {
				t.Errorf("job %+v, want failed naming %s", j, tc.code)
			}
			deadline := time.Now().Add(5 * time.Second)
			for j.FinishedAt.IsZero() && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				j, _ = s.Get(ctx, j.ID)
			}
			if j.Failed != 1 || j.Cancelled != 9 || j.Errors[tc.code] != 1 {
				t.Errorf("counts %+v, want 1 failed (%s) and 9 cancelled", j, tc.code)
			}
			if n := len(e.fake.Calls(wxfake.PathCustomSend)); n > 1 {
				t.Errorf("%d send calls after WeChat said %s, want at most 1", n, tc.code)
			}
		})
	}
}

// lossyAPI loses the reply of the first mass send: WeChat got the request
// and sent it, the worker saw only a network error.
type lossyAPI struct {
	API
	lost atomic.Bool
}

func (l *lossyAPI) MassSendText(ctx context.Context, to wxapi.MassTarget, text, clientMsgID string) (int64, error) {
	id, err := l.API.MassSendText(ctx, to, text, clientMsgID)
	if err == nil && l.lost.CompareAndSwap(false, true) {
		return 0, errors.New("read tcp: connection reset by peer")
	}
	return id, err
}

func TestMassSendRetriedAfterLostReplyIsNotSentTwice(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	e.fake.AddFollower("tester")
	e.fake.AddFollower("o1")
	s := e.service(Options{PreviewOpenIDs: []string{"tester"}})
	s.o.API = &lossyAPI{API: e.api}
	ctx := context.Background()
	j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "all"})
	s.Preview(ctx, j.ID, nil, "li")
	if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateSubmitted, StateFailed)
	calls := e.fake.Calls(wxfake.PathMassSendAll)
	if j.State != StateSubmitted || len(calls) != 2 || calls[1].ErrCode != wxfake.CodeClientMsgIDUsed {
		t.Fatalf("job %s; calls %+v; want a retry answered 45065", j.State, calls)
	}
	if m := e.fake.Masses(); len(m) != 1 || m[0].MsgID != j.MsgID {
		t.Errorf("masses %+v, job msg_id %d: want one send, recorded", m, j.MsgID)
	}
}

func TestCancelRunningJob(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	manySubscribers(e, 20)
	s := e.service(Options{Workers: 1})
	ctx := context.Background()
	j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	s.Confirm(ctx, j.ID, "li")
	var n atomic.Int32
	s.beforeSend = func(id, _ string) error {
		if n.Add(1) == 5 {
			if _, err := s.Cancel(ctx, id, "li"); err != nil {
				t.Error(err)
			}
		}
		return nil
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateCancelled)
	deadline := time.Now().Add(5 * time.Second)
	for j.Sent+j.Cancelled < 20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		j, _ = s.Get(ctx, j.ID)
	}
	if j.Sent != 5 || j.Cancelled != 15 {
		t.Errorf("after cancel: sent %d cancelled %d, want 5 and 15", j.Sent, j.Cancelled)
	}
}

// Two replicas share one limit: counted by the second the limiter granted
// each message in (not the clock when the send happened to run, which
// flaked at a second boundary), never more than 5 in one second across
// both, so 12 messages need at least three seconds' windows.
func TestRateLimitSharedByWorkers(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	ids := manySubscribers(e, 12)
	a, b := e.service(Options{RatePerSecond: 5}), e.service(Options{RatePerSecond: 5})
	var mu sync.Mutex
	perSecond := map[int64]int{}
	granted := func(sec int64) {
		mu.Lock()
		perSecond[sec]++
		mu.Unlock()
	}
	a.granted, b.granted = granted, granted
	ctx := context.Background()
	j, _ := a.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	a.Confirm(ctx, j.ID, "li")
	run(t, a)
	run(t, b)
	j = waitState(t, a, j.ID, StateDone)
	if j.Sent != 12 {
		t.Errorf("job %+v", j)
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for sec, n := range perSecond {
		total += n
		if n > 5 {
			t.Errorf("%d messages in second %d across two replicas, limit 5", n, sec)
		}
	}
	if total < 12 || len(perSecond) < 3 {
		t.Errorf("%d messages let through in %d seconds (%v), want 12 in at least 3", total, len(perSecond), perSecond)
	}
	checkExactlyOnce(t, e, ids)
}

// A user who unsubscribes disappears from the results of past broadcasts
// (WeChat's rules: delete the user's data); others stay.
func TestForgetUserRemovesThemFromResults(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	e.subscriber("o-leaving", "开学", time.Hour)
	e.subscriber("o-staying", "开学", time.Hour)
	s := e.service(Options{})
	ctx := context.Background()
	j, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers", Actor: "li"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	waitState(t, s, j.ID, StateDone)
	if err := s.ForgetUser(ctx, "o-leaving"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Results(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res["o-leaving"]; ok {
		t.Errorf("unsubscribed user still in the results: %v", res)
	}
	if res["o-staying"] != "sent" {
		t.Errorf("other user's result lost: %v", res)
	}
}

// failRate makes the first shared-rate-limit command fail, as a Redis blip would.
type failRate struct{ failed atomic.Bool }

func (h *failRate) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *failRate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *failRate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		for _, a := range cmd.Args() {
			if s, ok := a.(string); ok && strings.Contains(s, "bc:rate:") && h.failed.CompareAndSwap(false, true) {
				cmd.SetErr(errors.New("redis blip"))
				return cmd.Err()
			}
		}
		return next(ctx, cmd)
	}
}

// A Redis error while waiting for the rate limit is not a stop: the only
// worker carries on and the item is sent once, after it is taken over.
func TestRateLimitErrorDoesNotStopTheWorker(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	e.subscriber("o-a", "开学", time.Hour)
	e.subscriber("o-b", "开学", time.Hour)
	hook := &failRate{}
	e.rdb.AddHook(hook)
	s := e.service(Options{Workers: 1})
	ctx := context.Background()
	j, err := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers", Actor: "li"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateDone)
	if !hook.failed.Load() {
		t.Fatal("the rate limit never failed: the test tests nothing")
	}
	if j.Sent != 2 || fmt.Sprint(e.fake.Delivered()) != fmt.Sprint(map[string]int{"o-a": 1, "o-b": 1}) {
		t.Errorf("sent %d, delivered %v; want each subscriber once", j.Sent, e.fake.Delivered())
	}
}
