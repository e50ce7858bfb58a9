package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/internal/wxapi"
	"github.com/gdjysjyj/edubot/internal/wxfake"
	"github.com/gdjysjyj/edubot/stats"
)

type notesEnv struct {
	*env
	inbox *redisstore.Store
	fake  *wxfake.Server
	now   time.Time
	audit *store.AuditLog
}

// newNotesEnv: the admin API with the inbox on real Redis, replies going
// to the fake WeChat API. u-recent wrote an hour ago, u-old three days ago.
func newNotesEnv(t *testing.T, withSender bool) *notesEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	clock := func() time.Time { return now }
	st := store.New(rdb, prefix, store.Options{})
	rec, err := stats.New(ctx, rdb, prefix, stats.Options{Salt: "test"})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	g, err := Register(r, Deps{Store: st, Stats: rec, Now: clock,
		Tokens: []string{"ann:editor:" + editorToken, "pat:publisher:" + publisherToken}})
	if err != nil {
		t.Fatal(err)
	}
	inbox := redisstore.New(rdb, prefix)
	fake := wxfake.New(wxfake.Config{Now: clock})
	t.Cleanup(fake.Close)
	d := NotesDeps{Inbox: inbox, Now: clock}
	if withSender {
		api, err := wxapi.New(wxapi.Options{AppID: fake.Config().AppID, AppSecret: fake.Config().AppSecret,
			BaseURL: fake.URL, Redis: rdb, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		d.Sender = api
	}
	if err := RegisterNotes(g, d); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		id   string
		last time.Time
		said string
	}{{"u-recent", now.Add(-time.Hour), "孩子转学需要什么材料"}, {"u-old", now.Add(-72 * time.Hour), "<b>午餐</b>费能减免吗"}} {
		fake.AddFollower(u.id)
		fake.UserMessaged(u.id, u.last)
		if _, err := inbox.Load(ctx, u.id, u.last, 7*24*time.Hour); err != nil { // the bot records the last message
			t.Fatal(err)
		}
		if err := inbox.End(ctx, u.id, bot.EndTurn{SessionTTL: time.Hour, Said: "转人工", Now: u.last,
			Reply: bot.Reply{Kind: bot.ReplyText, Text: "现在不是人工服务时间。", Answer: bot.AnswerDialog}}); err != nil {
			t.Fatal(err)
		}
		if err := inbox.LeaveNote(ctx, u.id, bot.Note{Text: u.said, At: u.last}, 14*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := inbox.SaveProfile(ctx, "u-recent", bot.Profile{Region: "榕城区", Role: "parents"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	return &notesEnv{env: &env{t: t, r: r, store: st, stats: rec}, inbox: inbox, fake: fake, now: now, audit: st.Audit()}
}

func TestNotesListShowsWhatStaffNeed(t *testing.T) {
	e := newNotesEnv(t, true)
	if r := e.do("GET", "/admin/api/notes", "", "", nil); r.Code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", r.Code)
	}
	r := e.do("GET", "/admin/api/notes", editorToken, "", nil)
	if r.Code != http.StatusOK {
		t.Fatalf("list: %d %s", r.Code, r.Body)
	}
	var out struct {
		Notes          []NoteThread `json:"notes"`
		RepliesEnabled bool         `json:"replies_enabled"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Notes) != 2 || out.Notes[0].ID != "u-recent" || !out.RepliesEnabled {
		t.Fatalf("inbox: %s", r.Body)
	}
	recent, old := out.Notes[0], out.Notes[1]
	if recent.Messages[0].Text != "孩子转学需要什么材料" || recent.Profile.Region != "榕城区" || recent.Profile.Role != "parents" {
		t.Fatalf("u-recent: %+v", recent)
	}
	if len(recent.Conversation) != 1 || recent.Conversation[0].Said != "转人工" || !strings.Contains(recent.Conversation[0].Reply, "不是人工服务时间") {
		t.Fatalf("conversation before: %+v", recent.Conversation)
	}
	if !recent.CanReply || !recent.ReplyUntil.Equal(e.now.Add(47*time.Hour)) {
		t.Fatalf("u-recent's window: can %v until %v", recent.CanReply, recent.ReplyUntil)
	}
	if old.CanReply {
		t.Fatalf("u-old wrote 72 h ago and can be replied to: %+v", old)
	}
	if !strings.Contains(string(r.Body), `\u003cb\u003e午餐`) {
		t.Fatalf("HTML in a note is not escaped in JSON: %s", r.Body)
	}
	if r := e.do("GET", "/admin/api/notes?limit=0", editorToken, "", nil); r.Code != http.StatusBadRequest || r.Err.Field != "limit" {
		t.Fatalf("limit=0: %d %+v", r.Code, r.Err)
	}
	if r := e.do("GET", "/admin/api/notes/u-recent", editorToken, "", nil); r.Code != http.StatusOK {
		t.Fatalf("one thread: %d", r.Code)
	}
	if r := e.do("GET", "/admin/api/notes/nobody", editorToken, "", nil); r.Code != http.StatusNotFound {
		t.Fatalf("unknown person: %d", r.Code)
	}
	if r := e.do("GET", "/admin/api/notes/a.b", editorToken, "", nil); r.Code != http.StatusBadRequest || r.Err.Field != "id" {
		t.Fatalf("not an openid: %d %+v", r.Code, r.Err)
	}
}

func TestReplyToANoteThroughCustomerService(t *testing.T) {
	e := newNotesEnv(t, true)
	reply := func(id, body string) resp {
		return e.do("POST", "/admin/api/notes/"+id+"/reply", editorToken, "application/json", []byte(body))
	}
	sends := func() int { return len(e.fake.Calls(wxfake.PathCustomSend)) }

	for _, c := range []struct{ body, field string }{
		{`{"text":"  "}`, "text"},
		{`{"text":"` + strings.Repeat("长", 700) + `"}`, "text"},
		{`not json`, "body"},
		{``, "body"},
	} {
		if r := reply("u-recent", c.body); r.Code != http.StatusBadRequest || r.Err.Field != c.field {
			t.Errorf("body %.20q: %d %+v, want 400 on %s", c.body, r.Code, r.Err, c.field)
		}
	}
	if r := reply("u-old", `{"text":"您好"}`); r.Code != http.StatusUnprocessableEntity || !strings.Contains(r.Err.Error, "48 hours") {
		t.Fatalf("outside the window: %d %+v", r.Code, r.Err)
	}
	if sends() != 0 {
		t.Fatal("WeChat was called for a reply that could not go out")
	}
	if r := reply("nobody", `{"text":"您好"}`); r.Code != http.StatusNotFound {
		t.Fatalf("no notes: %d", r.Code)
	}

	r := reply("u-recent", `{"text":"您好，转学材料：户口本、学籍卡。"}`)
	if r.Code != http.StatusOK {
		t.Fatalf("reply: %d %s", r.Code, r.Body)
	}
	var th NoteThread
	_ = json.Unmarshal(r.Body, &th)
	if len(th.Replies) != 1 || th.Replies[0].By != "ann" || len(th.Messages) != 1 {
		t.Fatalf("thread after the reply: %s", r.Body)
	}
	calls := e.fake.Calls(wxfake.PathCustomSend)
	if len(calls) != 1 || calls[0].ErrCode != 0 || !strings.Contains(string(calls[0].Body), "户口本") || !strings.Contains(string(calls[0].Body), `"touser":"u-recent"`) {
		t.Fatalf("WeChat got: %+v", calls)
	}
	entries, err := e.audit.List(context.Background(), store.AuditQuery{Item: "u-recent"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "ann" || entries[0].Action != "reply" {
		t.Fatalf("audit: %+v %v", entries, err)
	}

	// WeChat's own refusals: outside the window, too many messages, gone.
	for code, want := range map[int]int{45015: 422, 45047: 422, 40003: 422, 48001: 502} {
		e.fake.InjectError(wxfake.PathCustomSend, code)
		if r := reply("u-recent", `{"text":"再次回复"}`); r.Code != want {
			t.Errorf("WeChat errcode %d: %d %+v, want %d", code, r.Code, r.Err, want)
		}
	}

	// Reply and close in one go; then the person is out of the inbox.
	if r := reply("u-recent", `{"text":"已处理","handled":true}`); r.Code != http.StatusOK {
		t.Fatalf("reply and handle: %d %s", r.Code, r.Body)
	}
	if r := e.do("GET", "/admin/api/notes/u-recent", editorToken, "", nil); r.Code != http.StatusNotFound {
		t.Fatalf("handled thread still listed: %d", r.Code)
	}
}

func TestMarkNotesHandled(t *testing.T) {
	e := newNotesEnv(t, false)
	if r := e.do("POST", "/admin/api/notes/u-old/handled", publisherToken, "", nil); r.Code != http.StatusOK {
		t.Fatalf("handled: %d %s", r.Code, r.Body)
	}
	if r := e.do("POST", "/admin/api/notes/u-old/handled", publisherToken, "", nil); r.Code != http.StatusNotFound {
		t.Fatalf("handled twice: %d", r.Code)
	}
	threads, _ := e.inbox.Threads(context.Background(), 10)
	if len(threads) != 1 || threads[0].OpenID != "u-recent" {
		t.Fatalf("inbox: %+v", threads)
	}
	// Without WeChat credentials replies are off, reading still works.
	if r := e.do("POST", "/admin/api/notes/u-recent/reply", editorToken, "application/json", []byte(`{"text":"您好"}`)); r.Code != http.StatusServiceUnavailable {
		t.Fatalf("reply without a sender: %d %+v", r.Code, r.Err)
	}
	entries, _ := e.audit.List(context.Background(), store.AuditQuery{Item: "u-old"})
	if len(entries) != 1 || entries[0].Action != "handled" || entries[0].Actor != "pat" {
		t.Fatalf("audit: %+v", entries)
	}
}
