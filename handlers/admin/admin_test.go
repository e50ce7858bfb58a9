package admin

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/stats"
)

const (
	editorToken    = "editor-token-0123456789"
	publisherToken = "publisher-token-0123456789"
)

type env struct {
	t     *testing.T
	r     *gin.Engine
	store *store.Store
	stats *stats.Recorder
}

func newEnv(t *testing.T, mutate ...func(*Deps)) *env {
	t.Helper()
	gin.SetMode(gin.TestMode)
	rdb, prefix := testredis.New(t)
	ctx := context.Background()
	st := store.New(rdb, prefix, store.Options{})
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Seed(ctx, "seed", set); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := stats.New(ctx, rdb, prefix, stats.Options{Salt: "test"})
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{
		Store: st, Stats: rec,
		Tokens: []string{"ann:editor:" + editorToken, "pat:publisher:" + publisherToken},
		Now:    func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) },
	}
	for _, m := range mutate {
		m(&d)
	}
	r := gin.New()
	g, err := Register(r, d)
	if err != nil {
		t.Fatal(err)
	}
	// A publisher-only route, as the broadcast API adds one.
	g.POST("/broadcasts", RequireRole(RolePublisher), func(c *gin.Context) {
		if err := Record(c, "send", "broadcast", "b-1", nil, gin.H{"tag": "开学"}); err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusAccepted, gin.H{"by": Actor(c)})
	})
	return &env{t: t, r: r, store: st, stats: rec}
}

type resp struct {
	Code int
	Body []byte
	Err  apiError
}

func (e *env) do(method, path, token, ctype string, body []byte) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, req)
	out := resp{Code: w.Code, Body: w.Body.Bytes()}
	if w.Code >= 400 {
		if err := json.Unmarshal(out.Body, &out.Err); err != nil {
			e.t.Errorf("%s %s: error body is not JSON: %q", method, path, out.Body)
		}
	}
	return out
}

func (e *env) json(method, path, body string) resp {
	e.t.Helper()
	return e.do(method, path, editorToken, "application/json", []byte(body))
}

func TestAuthAndRoles(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"no token", "GET", "/admin/api/notices", "", 401},
		{"wrong token", "GET", "/admin/api/notices", "editor-token-0123456780", 401},
		{"editor", "GET", "/admin/api/notices", editorToken, 200},
		{"publisher reads content", "GET", "/admin/api/faqs", publisherToken, 200},
		{"editor may not broadcast", "POST", "/admin/api/broadcasts", editorToken, 403},
		{"publisher broadcasts", "POST", "/admin/api/broadcasts", publisherToken, 202},
		{"no token on publisher route", "POST", "/admin/api/broadcasts", "", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := e.do(c.method, c.path, c.token, "", nil); r.Code != c.want {
				t.Errorf("%s %s = %d, want %d (%s)", c.method, c.path, r.Code, c.want, r.Body)
			}
		})
	}
	// Basic auth or a bare token is not a bearer token.
	req := httptest.NewRequest("GET", "/admin/api/notices", nil)
	req.Header.Set("Authorization", editorToken)
	w := httptest.NewRecorder()
	e.r.ServeHTTP(w, req)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("bare token: %d", w.Code)
	}
	// The broadcast's audit entry names the publisher.
	entries, err := e.store.Audit().List(context.Background(), store.AuditQuery{Item: "b-1"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "pat" || entries[0].Action != "send" {
		t.Errorf("broadcast audit = %+v, %v", entries, err)
	}

	for _, bad := range [][]string{{"x:admin:" + editorToken}, {"x:editor:short"}, {"x:editor"}, {"a:editor:" + editorToken, "a:publisher:" + publisherToken}} {
		if _, err := Register(gin.New(), Deps{Store: e.store, Stats: e.stats, Tokens: bad}); err == nil {
			t.Errorf("tokens %q accepted", bad)
		} else if strings.Contains(err.Error(), editorToken) {
			t.Errorf("error reveals the token: %v", err)
		}
	}
}

const newNotice = `{"id":"n-2026-1120-winter-safety","title":"关于做好冬季校园安全工作的通知","date":"2026-11-20",
 "source":"揭阳市教育局","url":"https://jyedu.example.org/n/winter","summary":"冬季用电、用火和交通安全提醒。",
 "keywords":["冬季安全"],"body":"各学校要做好冬季安全排查。"}`

func TestValidationNamesTheField(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"missing title", "POST", "/admin/api/notices", strings.Replace(newNotice, `"title":"关于做好冬季校园安全工作的通知",`, "", 1), 400, "title"},
		{"bad date", "POST", "/admin/api/notices", strings.Replace(newNotice, `"2026-11-20"`, `"20/11/2026"`, 1), 400, "date"},
		{"bad url", "POST", "/admin/api/notices", strings.Replace(newNotice, `https://jyedu`, `ftp://jyedu`, 1), 400, "url"},
		{"summary too long", "POST", "/admin/api/notices", strings.Replace(newNotice, `冬季用电、用火和交通安全提醒。`, strings.Repeat("长", 121), 1), 400, "summary"},
		{"unknown field", "POST", "/admin/api/notices", strings.Replace(newNotice, `"body"`, `"bodyy"`, 1), 400, "bodyy"},
		{"wrong type", "POST", "/admin/api/notices", strings.Replace(newNotice, `["冬季安全"]`, `"冬季安全"`, 1), 400, "keywords"},
		{"malformed json", "POST", "/admin/api/notices", `{"id": "n-x",`, 400, "body"},
		{"empty body", "POST", "/admin/api/faqs", ``, 400, "body"},
		{"bad audience", "POST", "/admin/api/faqs", `{"id":"faq-x","question":"问","answer":"答","audience":["aliens"]}`, 400, "audience"},
		{"bad id", "POST", "/admin/api/faqs", `{"id":"FAQ X","question":"问","answer":"答"}`, 400, "id"},
		{"rule without reply", "POST", "/admin/api/rules", `{"id":"rule-x","match":"exact","keywords":["x"]}`, 400, "reply"},
		{"rule bad match", "POST", "/admin/api/rules", `{"id":"rule-x","match":"regex","keywords":["x"],"reply":"y"}`, 400, "match"},
		{"synonym of one word", "POST", "/admin/api/synonyms", `{"words":["校服"]}`, 400, "words"},
		{"faq refers to nothing", "POST", "/admin/api/faqs", `{"id":"faq-x","question":"问","answer":"答","notices":["n-none"]}`, 409, "notices"},
		{"rule refers to nothing", "POST", "/admin/api/rules", `{"id":"rule-x","match":"exact","keywords":["x"],"faq":"faq-none"}`, 409, "faq"},
		{"id taken by another kind", "POST", "/admin/api/faqs", `{"id":"rule-hotline","question":"问","answer":"答"}`, 409, "id"},
		{"create existing", "POST", "/admin/api/faqs", `{"id":"faq-psych-hotline","question":"问","answer":"答"}`, 409, ""},
		{"update unknown", "PUT", "/admin/api/faqs/faq-none", `{"question":"问","answer":"答"}`, 404, ""},
		{"id contradicts url", "PUT", "/admin/api/faqs/faq-psych-hotline", `{"id":"faq-other","question":"问","answer":"答"}`, 400, "id"},
		{"delete referenced notice", "DELETE", "/admin/api/notices/n-2026-0815-puning-autumn-term", ``, 409, "notices"},
		{"read unknown", "GET", "/admin/api/rules/rule-none", ``, 404, ""},
		{"bad since", "GET", "/admin/api/stats/unanswered?since=yesterday", ``, 400, "since"},
		{"bad limit", "GET", "/admin/api/audit?limit=0", ``, 400, "limit"},
		{"bad export format", "GET", "/admin/api/export?format=tar", ``, 400, "format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.json(c.method, c.path, c.body)
			if r.Code != c.status || r.Err.Field != c.field {
				t.Errorf("%d field %q, want %d field %q: %s", r.Code, r.Err.Field, c.status, c.field, r.Body)
			}
			if c.field != "" && !strings.Contains(r.Err.Error, c.field) {
				t.Errorf("message %q does not name the field %q", r.Err.Error, c.field)
			}
		})
	}
	// None of that changed anything.
	if v, _ := e.store.Version(context.Background()); v != 1 {
		t.Errorf("bad requests changed the content: version %d", v)
	}
}

func TestCRUDAndAudit(t *testing.T) {
	e := newEnv(t)
	if r := e.json("POST", "/admin/api/notices", newNotice); r.Code != 201 {
		t.Fatalf("create: %d %s", r.Code, r.Body)
	}
	r := e.json("GET", "/admin/api/notices/n-2026-1120-winter-safety", "")
	var n content.Notice
	if err := json.Unmarshal(r.Body, &n); err != nil || n.Date.String() != "2026-11-20" || n.Body != "各学校要做好冬季安全排查。" ||
		!strings.Contains(string(r.Body), `"date":"2026-11-20"`) {
		t.Fatalf("read back: %d %s", r.Code, r.Body)
	}
	faq := `{"question":"冬季校服在哪里订购？","answer":"由学校统一征订，家长自愿购买。","notices":["n-2026-1120-winter-safety"]}`
	if r := e.json("POST", "/admin/api/faqs", strings.Replace(faq, "{", `{"id":"faq-uniform",`, 1)); r.Code != 201 {
		t.Fatalf("create faq: %d %s", r.Code, r.Body)
	}
	if r := e.do("PUT", "/admin/api/faqs/faq-uniform", publisherToken, "application/json", []byte(strings.Replace(faq, "自愿购买", "自愿购买，不得强制", 1))); r.Code != 200 {
		t.Fatalf("update faq: %d %s", r.Code, r.Body)
	}
	var list struct {
		Items []content.FAQ `json:"items"`
		Count int           `json:"count"`
	}
	r = e.json("GET", "/admin/api/faqs", "")
	if err := json.Unmarshal(r.Body, &list); err != nil || list.Count != len(list.Items) || list.Items[len(list.Items)-1].ID != "faq-uniform" {
		t.Fatalf("list: %s", r.Body)
	}
	if r := e.json("POST", "/admin/api/synonyms", `{"words":["校服","园服"]}`); r.Code != 201 || !strings.Contains(string(r.Body), `"syn-校服"`) {
		t.Fatalf("synonym: %d %s", r.Code, r.Body)
	}
	if r := e.json("DELETE", "/admin/api/faqs/faq-uniform", ""); r.Code != 200 {
		t.Fatalf("delete: %d %s", r.Code, r.Body)
	}
	if r := e.json("GET", "/admin/api/faqs/faq-uniform", ""); r.Code != 404 {
		t.Errorf("after delete: %d", r.Code)
	}

	r = e.json("GET", "/admin/api/audit?item=faq-uniform", "")
	var audit struct {
		Entries []struct {
			Actor, Action, Kind, Item string
			At                        time.Time
			Before, After             json.RawMessage
		} `json:"entries"`
	}
	if err := json.Unmarshal(r.Body, &audit); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, en := range audit.Entries {
		got = append(got, en.Actor+":"+en.Action)
	}
	if strings.Join(got, " ") != "ann:delete pat:update ann:create" {
		t.Fatalf("audit = %v", got)
	}
	upd := audit.Entries[1]
	if !strings.Contains(string(upd.Before), "家长自愿购买。") || !strings.Contains(string(upd.After), "不得强制") || time.Since(upd.At) > time.Minute {
		t.Errorf("update entry before/after/at: %s / %s / %s", upd.Before, upd.After, upd.At)
	}
}

func TestImportSeeds(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		file, ctype, title, date string
	}{
		{"forum-page.txt", "text/plain; charset=utf-8", "揭阳市教育系统召开防控新型冠状病毒感染的肺炎疫情工作座谈会", "2023-01-20"},
		{"broken-fragment.html", "text/html", "山西省教育厅召开全省教育系统疫情防控工作推进会议", "2026-06-18"},
	} {
		page, err := os.ReadFile("../../content/importer/testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/admin/api/import", editorToken, c.ctype, page)
		var out struct {
			Draft    content.Notice `json:"draft"`
			Warnings []string       `json:"warnings"`
			Markdown string         `json:"markdown"`
		}
		if r.Code != 200 || json.Unmarshal(r.Body, &out) != nil {
			t.Fatalf("%s: %d %s", c.file, r.Code, r.Body)
		}
		if out.Draft.Title != c.title || out.Draft.Date.String() != c.date {
			t.Errorf("%s: %q %s", c.file, out.Draft.Title, out.Draft.Date)
		}
		for _, chrome := range []string{"<", "jpg/>", "快速评论", "Copyright", "粤ICP备", "路过", "首页", "二维码"} {
			if strings.Contains(out.Draft.Body, chrome) {
				t.Errorf("%s: body holds %q", c.file, chrome)
			}
		}
		if !strings.HasPrefix(out.Markdown, "---\n") || len(out.Draft.Keywords) == 0 {
			t.Errorf("%s: markdown/keywords missing", c.file)
		}
	}
	// A draft is not live.
	if r := e.json("GET", "/admin/api/notices", ""); strings.Contains(string(r.Body), "山西省教育厅召开全省教育系统疫情防控工作推进会议\",\"date\":\"2026") {
		t.Error("import saved the draft")
	}
	// JSON form with what the page lacks: the draft validates.
	page, _ := os.ReadFile("../../content/importer/testdata/broken-fragment.html")
	body, _ := json.Marshal(importRequest{Page: string(page), URL: "https://jyedu.example.org/n/sx", Date: "2020-06-18"})
	r := e.json("POST", "/admin/api/import", string(body))
	if r.Code != 200 || !strings.Contains(string(r.Body), `"valid":""`) || !strings.Contains(string(r.Body), `"date":"2020-06-18"`) {
		t.Errorf("json import: %d %s", r.Code, r.Body)
	}
	if r := e.json("POST", "/admin/api/import", `{"page":""}`); r.Code != 400 || r.Err.Field != "page" {
		t.Errorf("empty page: %d %+v", r.Code, r.Err)
	}
	if r := e.json("POST", "/admin/api/import", `{"page":"x","date":"soon"}`); r.Code != 400 || r.Err.Field != "date" {
		t.Errorf("bad date: %d %+v", r.Code, r.Err)
	}
}

func TestExportImportSet(t *testing.T) {
	e := newEnv(t)
	if r := e.json("POST", "/admin/api/notices", newNotice); r.Code != 201 {
		t.Fatal(r.Code)
	}
	r := e.json("GET", "/admin/api/export", "")
	if r.Code != 200 {
		t.Fatalf("export: %d", r.Code)
	}
	exported := r.Body
	zr, err := zip.NewReader(bytes.NewReader(exported), int64(len(exported)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	if !names["notices/n-2026-1120-winter-safety.md"] || !names["rules.yaml"] || !names["synonyms.txt"] || !names["faq/school-start.yaml"] {
		t.Fatalf("export holds %v", names)
	}

	// Into a fresh service: the same content comes back out.
	e2 := newEnv(t)
	if r := e2.do("POST", "/admin/api/import-set", editorToken, "application/zip", exported); r.Code != 200 {
		t.Fatalf("import-set: %d %s", r.Code, r.Body)
	}
	a, _ := e.store.Export(context.Background())
	b, _ := e2.store.Export(context.Background())
	fa, _ := a.Files()
	fb, _ := b.Files()
	if len(fa) != len(fb) {
		t.Fatalf("%d files vs %d", len(fa), len(fb))
	}
	for name := range fa {
		if !bytes.Equal(fa[name], fb[name]) {
			t.Errorf("%s differs after export → import", name)
		}
	}

	// A bad set (one notice without a title) changes nothing, and says where.
	v0, _ := e2.store.Version(context.Background())
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == "notices/n-2026-1120-winter-safety.md" {
			data = bytes.Replace(data, []byte("title: 关于做好冬季校园安全工作的通知\n"), nil, 1)
		}
		w, _ := zw.Create("content/" + f.Name) // zipped with its folder
		w.Write(data)
	}
	zw.Close()
	r = e2.do("POST", "/admin/api/import-set", editorToken, "application/zip", buf.Bytes())
	if r.Code != 400 || r.Err.File != "notices/n-2026-1120-winter-safety.md" || r.Err.Field != "title" {
		t.Errorf("bad set: %d %+v", r.Code, r.Err)
	}
	if v1, _ := e2.store.Version(context.Background()); v1 != v0 {
		t.Error("a bad set changed the content")
	}
	if r := e2.do("POST", "/admin/api/import-set", editorToken, "application/zip", []byte("not a zip")); r.Code != 400 || r.Err.Field != "body" {
		t.Errorf("not a zip: %d %+v", r.Code, r.Err)
	}

	// JSON round trip too.
	r = e.json("GET", "/admin/api/export?format=json", "")
	if r2 := e2.json("POST", "/admin/api/import-set", string(r.Body)); r2.Code != 200 {
		t.Errorf("json import-set: %d %s", r2.Code, r2.Body)
	}
}

func TestStatsEndpoints(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The API's clock is fixed (serve --now): questions asked "today" on
	// that clock are in the default window, whatever the real date.
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	fb := bot.Reply{Answer: bot.AnswerFallback}
	e.stats.Record(ctx, "o-1", "校车几点到", fb, now)
	e.stats.Record(ctx, "o-2", "校车几点到", fb, now)
	e.stats.Record(ctx, "o-1", "食堂菜单", fb, now)
	e.stats.Record(ctx, "o-1", "开学", bot.Reply{Answer: bot.AnswerFAQ, IDs: []string{"faq-term-start-city"}}, now)

	r := e.json("GET", "/admin/api/stats/unanswered?limit=10", "")
	var un struct {
		Questions []stats.Question `json:"questions"`
	}
	if err := json.Unmarshal(r.Body, &un); err != nil || len(un.Questions) != 2 || un.Questions[0].Text != "校车几点到" || un.Questions[0].Users != 2 {
		t.Fatalf("unanswered: %d %s", r.Code, r.Body)
	}
	day := now.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	r = e.json("GET", "/admin/api/stats/hits?since="+day+"&until="+day+"&id=faq-term-start-city", "")
	var hits struct {
		Hits []stats.DayHits `json:"hits"`
	}
	if err := json.Unmarshal(r.Body, &hits); err != nil || len(hits.Hits) != 1 || hits.Hits[0].Count != 1 || hits.Hits[0].Day != day {
		t.Fatalf("hits: %d %s", r.Code, r.Body)
	}
	if r := e.json("GET", "/admin/api/stats/hits?since=2026-11-22&until=2026-11-01", ""); r.Code != 400 || r.Err.Field != "since" {
		t.Errorf("reversed period: %d %+v", r.Code, r.Err)
	}

	// "Did you mean" offers and what people picked from them.
	e.stats.Record(ctx, "o-3", "孩子几号回学校啊", bot.Reply{Answer: bot.AnswerSuggest, IDs: []string{"faq-a", "faq-b"}}, now)
	e.stats.Picked(ctx, "o-3", bot.Pick{Query: "孩子几号回学校啊", Normalized: "孩子几号回学校", Offered: []string{"faq-a", "faq-b"}, ID: "faq-b", Position: 2, Suggest: true}, now)
	r = e.json("GET", "/admin/api/stats/suggested?limit=5", "")
	var sg struct {
		Questions []stats.Suggestion `json:"questions"`
	}
	if err := json.Unmarshal(r.Body, &sg); err != nil || len(sg.Questions) != 1 || sg.Questions[0].Text != "孩子几号回学校啊" || len(sg.Questions[0].Offered) != 2 {
		t.Fatalf("suggested: %d %s", r.Code, r.Body)
	}
	r = e.json("GET", "/admin/api/stats/picks?id=faq-b", "")
	var pk struct {
		Picks []stats.PickCount `json:"picks"`
	}
	if err := json.Unmarshal(r.Body, &pk); err != nil || len(pk.Picks) != 1 || pk.Picks[0].Query != "孩子几号回学校啊" || pk.Picks[0].Position != 2 || !pk.Picks[0].Suggest {
		t.Fatalf("picks: %d %s", r.Code, r.Body)
	}
	if r := e.json("GET", "/admin/api/stats/picks?limit=0", ""); r.Code != 400 || r.Err.Field != "limit" {
		t.Errorf("bad limit: %d %+v", r.Code, r.Err)
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.MaxBody = 1024 })
	r := e.do("POST", "/admin/api/import", editorToken, "text/plain", bytes.Repeat([]byte("很长的页面"), 1000))
	if r.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d %s", r.Code, r.Body)
	}
}
