package console

import (
	"bytes"
	"context"
	"errors"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content/store"
)

// fieldValue is the value of an input (or a textarea's text) named name.
func fieldValue(body, name string) string {
	if m := regexp.MustCompile(`<input[^>]*name="` + name + `"[^>]*value="([^"]*)"`).FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	if m := regexp.MustCompile(`(?s)<textarea[^>]*name="` + name + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func (e *env) ask(text string) bot.Reply {
	return e.bot.Handle(context.Background(), bot.Message{User: "o-parent", Type: bot.TypeText, Text: text,
		MsgID: time.Now().Format(time.RFC3339Nano), CreateTime: time.Now()})
}

const winterQ = "冬季校服在哪里订购"

func faqForm() url.Values {
	return url.Values{
		"id": {"faq-winter-uniform"}, "question": {"冬季校服在哪里订购？"}, "alternates": {"冬装校服怎么买\n冬天的校服去哪买"},
		"answer": {"冬季校服由学校统一征订，家长自愿购买，可在班主任处登记尺码。"}, "keywords": {"校服，冬季校服"},
	}
}

func TestCreateFAQThenBotAnswers(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	if r := e.ask(winterQ); r.Answer == bot.AnswerFAQ && r.IDs[0] == "faq-winter-uniform" {
		t.Fatal("answered before the FAQ exists")
	}
	r := cl.submit("/console/content/faqs/new", "/console/content/faqs/new", faqForm())
	if r.status != http.StatusSeeOther || r.loc != "/console/content/faqs/faq-winter-uniform" {
		t.Fatalf("create: %d → %q %v", r.status, r.loc, fieldErrors(r.body))
	}
	page := cl.get(r.loc)
	if !strings.Contains(page.body, "已创建问答 faq-winter-uniform") || !strings.Contains(page.body, `id="phone-text"`) {
		t.Fatalf("edit page after create: no flash or preview\n%s", page.body)
	}
	if page = cl.get(r.loc); strings.Contains(page.body, "已创建问答") {
		t.Error("the flash is shown twice")
	}
	waitUntil(t, func() bool {
		rep := e.ask(winterQ)
		return rep.Answer == bot.AnswerFAQ && rep.IDs[0] == "faq-winter-uniform"
	})
	entries, _ := e.store.Audit().List(context.Background(), store.AuditQuery{Item: "faq-winter-uniform"})
	if len(entries) != 1 || entries[0].Actor != "ann" || entries[0].Action != "create" {
		t.Fatalf("audit: %+v", entries)
	}

	// Edit: the answer changes, the id stays.
	form := faqForm()
	form.Set("answer", "冬季校服请向学校登记。")
	form.Del("id")
	if r := cl.submit("/console/content/faqs/faq-winter-uniform", "/console/content/faqs/faq-winter-uniform", form); r.status != http.StatusSeeOther {
		t.Fatalf("update: %d %v", r.status, fieldErrors(r.body))
	}
	f, err := e.store.FAQ(context.Background(), "faq-winter-uniform")
	if err != nil || f.Answer != "冬季校服请向学校登记。" || len(f.Alternates) != 2 {
		t.Fatalf("after update: %+v %v", f, err)
	}
	// Creating it again: the id is taken, said beside the id.
	r = cl.submit("/console/content/faqs/new", "/console/content/faqs/new", faqForm())
	if r.status != http.StatusUnprocessableEntity || fieldErrors(r.body)["id"] == "" {
		t.Fatalf("duplicate id: %d %v", r.status, fieldErrors(r.body))
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestValidationBesideTheFieldKeepsWhatWasTyped(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	base := url.Values{
		"id": {"n-2026-1201-winter"}, "title": {"关于冬季安全的通知"}, "date": {"2026-12-01"}, "source": {"揭阳市教育局"},
		"url": {"https://jyedu.example.org/n/winter"}, "summary": {"冬季用电、用火和交通安全提醒。"}, "body": {"正文第一段。\n正文第二段。"},
		"tags": {"安全"}, "audience": {"parents", "students"},
	}
	for _, c := range []struct {
		name, field, value, wantField, wantMsg string
	}{
		{"bad date", "date", "12/01/2026", "date", "2026-09-01"},
		{"missing title", "title", " ", "title", "必填"},
		{"bad url", "url", "jyedu.example.org", "url", "http"},
		{"summary too long", "summary", strings.Repeat("长", 121), "summary", "最多 120 个字"},
		{"bad id", "id", "N 2026", "id", "小写字母"},
		{"expires before date", "expires", "2026-11-01", "expires", "早于"},
	} {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range base {
				form[k] = append([]string(nil), v...)
			}
			form.Set(c.field, c.value)
			r := cl.submit("/console/content/notices/new", "/console/content/notices/new", form)
			errs := fieldErrors(r.body)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(errs[c.wantField], c.wantMsg) {
				t.Fatalf("%d, errors %v; want %q beside %s", r.status, errs, c.wantMsg, c.wantField)
			}
			for _, k := range []string{"title", "summary", "body", "url", "date"} {
				if k == c.field {
					continue
				}
				if got := fieldValue(r.body, k); got != base.Get(k) {
					t.Errorf("%s not kept: %q, typed %q", k, got, base.Get(k))
				}
			}
			if !strings.Contains(r.body, `value="students" checked`) && !strings.Contains(r.body, `id="audience-students" checked`) {
				t.Error("the audience ticked is not kept")
			}
			if _, err := e.store.Notice(context.Background(), form.Get("id")); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a refused notice was saved: %v", err)
			}
		})
	}
	// The same notice, right: saved.
	if r := cl.submit("/console/content/notices/new", "/console/content/notices/new", base); r.status != http.StatusSeeOther {
		t.Fatalf("valid notice: %d %v", r.status, fieldErrors(r.body))
	}
	n, err := e.store.Notice(context.Background(), "n-2026-1201-winter")
	if err != nil || n.Body != "正文第一段。\n正文第二段。" || len(n.Audience) != 2 || n.Tags[0] != "安全" {
		t.Fatalf("saved notice: %+v %v", n, err)
	}
}

func TestHTMLInContentIsEscaped(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	form := url.Values{"id": {"faq-html-test"}, "question": {"标记测试" + evil}, "answer": {"答案" + evil}}
	if r := cl.submit("/console/content/faqs/new", "/console/content/faqs/new", form); r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %v", r.status, fieldErrors(r.body))
	}
	for _, p := range []string{"/console/content/faqs/faq-html-test", "/console/content/faqs?q=标记测试", "/console/content/faqs/faq-html-test/delete", "/console/audit"} {
		r := cl.get(p)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", p, r.status)
		}
		if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x") {
			t.Errorf("GET %s: content HTML not escaped", p)
		}
		if !strings.Contains(r.body, "&lt;script&gt;") {
			t.Errorf("GET %s: the text is not shown escaped", p)
		}
	}
	// The live preview too.
	form.Set("_csrf", cl.csrf("/console/content/faqs/new"))
	r := cl.post("/console/content/faqs/preview", form)
	if r.status != http.StatusOK || strings.Contains(r.body, "<script>") || !strings.Contains(r.body, "答案&lt;script&gt;") {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
}

func TestPreviewShowsThePhone(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	set, _ := e.store.Export(context.Background())
	n := set.Notices[0]
	r := cl.get("/console/content/notices/" + n.ID)
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="phone-news"`) || !strings.Contains(r.body, html.EscapeString(n.Summary)) {
		t.Fatalf("notice page: %d, no news card with the summary", r.status)
	}
	form := url.Values{"title": {"新标题"}, "summary": {"新摘要"}, "url": {"https://example.org/a"}, "cover": {"https://example.org/c.jpg"}, "date": {"2026-01-02"}}
	form.Set("_csrf", cl.csrf("/console/content/notices/new"))
	r = cl.post("/console/content/notices/preview", form)
	for _, want := range []string{`<div class="t">新标题</div>`, `<div class="d">新摘要</div>`, `src="https://example.org/c.jpg"`, `href="https://example.org/a"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("news card preview lacks %s: %s", want, r.body)
		}
	}
}

func TestDeleteWithConfirmation(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	set, _ := e.store.Export(context.Background())
	faq := set.FAQs[0]
	r := cl.get("/console/content/faqs/" + faq.ID + "/delete")
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="confirm-delete"`) {
		t.Fatalf("confirm page: %d", r.status)
	}
	if _, err := e.store.FAQ(context.Background(), faq.ID); err != nil {
		t.Fatal("the confirmation page deleted it")
	}
	r = cl.submit("/console/content/faqs/"+faq.ID+"/delete", "/console/content/faqs/"+faq.ID+"/delete", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}
	if _, err := e.store.FAQ(context.Background(), faq.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("still there: %v", err)
	}
	// A notice an FAQ refers to: refused, with the referrer named.
	var ref, by string
	for _, f := range set.FAQs[1:] {
		if len(f.Notices) > 0 {
			ref, by = f.Notices[0], f.ID
			break
		}
	}
	r = cl.submit("/console/content/notices/"+ref+"/delete", "/console/content/notices/"+ref+"/delete", nil)
	if r.status != http.StatusConflict || !strings.Contains(r.body, by) {
		t.Fatalf("delete referenced notice: %d, want 409 naming %s", r.status, by)
	}
	if cl.get("/console/content/faqs/no-such-faq").status != http.StatusNotFound {
		t.Error("unknown id: want 404")
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	set, _ := e.store.Export(context.Background())
	var expired, live, region int
	for _, n := range set.Notices {
		if n.Expired(e.now) {
			expired++
		} else {
			live++
		}
		if n.Region == "普宁市" {
			region++
		}
	}
	rows := func(p string) int { return strings.Count(cl.get(p).body, `<tr id="row-`) }
	if got := rows("/console/content/notices"); got != len(set.Notices) {
		t.Errorf("all: %d rows, want %d", got, len(set.Notices))
	}
	if got := rows("/console/content/notices?expired=yes"); got != expired || expired == 0 {
		t.Errorf("expired: %d rows, want %d", got, expired)
	}
	if got := rows("/console/content/notices?expired=no"); got != live {
		t.Errorf("live: %d rows, want %d", got, live)
	}
	if got := rows("/console/content/notices?region=" + url.QueryEscape("普宁市")); got != region || region == 0 {
		t.Errorf("region: %d rows, want %d", got, region)
	}
	// Tag: exactly the notices that carry it (a tag some notices have and
	// others not), with the tag kept selected; combined with the other
	// filters, all must hold.
	byTag := map[string][]string{}
	for _, n := range set.Notices {
		for _, tg := range n.Tags {
			byTag[tg] = append(byTag[tg], n.ID)
		}
	}
	tag := ""
	for tg, ids := range byTag {
		if len(ids) > 1 && len(ids) < len(set.Notices) && (tag == "" || len(ids) > len(byTag[tag]) || (len(ids) == len(byTag[tag]) && tg < tag)) {
			tag = tg
		}
	}
	if tag == "" {
		t.Fatal("no tag on some notices but not all in the sample content")
	}
	r := cl.get("/console/content/notices?tag=" + url.QueryEscape(tag))
	ids := regexp.MustCompile(`<tr id="row-([^"]+)">`).FindAllStringSubmatch(r.body, -1)
	var got []string
	for _, m := range ids {
		got = append(got, m[1])
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(byTag[tag]))
	if !slices.Equal(got, want) {
		t.Errorf("tag %s: rows %v, want %v", tag, got, want)
	}
	if !strings.Contains(r.body, "<option selected>"+tag+"</option>") {
		t.Errorf("tag %s is not kept selected in the filter", tag)
	}
	var tagLive int
	for _, n := range set.Notices {
		if slices.Contains(n.Tags, tag) && !n.Expired(e.now) {
			tagLive++
		}
	}
	if got := rows("/console/content/notices?expired=no&tag=" + url.QueryEscape(tag)); got != tagLive {
		t.Errorf("tag %s and not expired: %d rows, want %d", tag, got, tagLive)
	}
	if r := cl.get("/console/content/notices?tag=" + url.QueryEscape("没有这个标签")); strings.Contains(r.body, `<tr id="row-`) || !strings.Contains(r.body, `id="no-items"`) {
		t.Error("an unknown tag lists notices")
	}
	if got := rows("/console/content/faqs?q=" + url.QueryEscape(set.FAQs[2].Question)); got < 1 {
		t.Errorf("search by question: %d rows", got)
	}
	for _, p := range []string{"/console/content/rules", "/console/content/synonyms", "/console/content/faqs/new", "/console/content/rules/new", "/console/content/synonyms/new"} {
		if r := cl.get(p); r.status != http.StatusOK {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}
}

func multipartBody(t *testing.T, fields map[string]string, file string, data []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != "" {
		fw, err := w.CreateFormFile("file", file)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(data)
	}
	_ = w.Close()
	return &buf, w.FormDataContentType()
}

func TestImportSeedArticles(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	seeds, _ := filepath.Glob("../../testdata/seeds/*.txt")
	if len(seeds) != 2 {
		t.Fatalf("seed articles: %v", seeds)
	}
	for i, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		body, ctype := multipartBody(t, map[string]string{"_csrf": cl.csrf("/console/import"), "url": "https://jyedu.example.org/a/" + filepath.Base(path)}, filepath.Base(path), data)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/console/import", body)
		req.Header.Set("Content-Type", ctype)
		r := cl.do(req)
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="source"`) {
			t.Fatalf("%s: draft page %d %v", path, r.status, fieldErrors(r.body))
		}
		draftBody, title := fieldValue(r.body, "body"), fieldValue(r.body, "title")
		if title == "" || len([]rune(draftBody)) < 100 {
			t.Fatalf("%s: title %q, body %d runes", path, title, len([]rune(draftBody)))
		}
		for _, junk := range []string{"Copyright", "全部评论", "关于我们", "路过", "jpg/>", "<div", "<p>", "二维码", "服务热线", "快速评论"} {
			if strings.Contains(draftBody, junk) || strings.Contains(title, junk) {
				t.Errorf("%s: draft keeps site chrome %q", path, junk)
			}
		}
		// Publish it as reviewed (the id made unique per seed).
		form := url.Values{}
		for _, k := range []string{"id", "title", "date", "source", "url", "cover", "summary", "region", "tags", "keywords", "body", "expires"} {
			form.Set(k, fieldValue(r.body, k))
		}
		id := "n-seed-" + string(rune('a'+i))
		form.Set("id", id)
		pr := cl.submit("/console/import", "/console/import/publish", form)
		if pr.status != http.StatusSeeOther {
			t.Fatalf("%s: publish %d %v", path, pr.status, fieldErrors(pr.body))
		}
		n, err := e.store.Notice(context.Background(), id)
		if err != nil || n.Title != title || n.Body != strings.TrimSpace(draftBody) {
			t.Fatalf("%s: published %+v %v", path, n, err)
		}
	}
}

func TestImportLimitsAndBadInput(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.MaxUpload = 64 << 10 })
	cl := e.loggedIn("ann")
	// Slightly over the limit: said beside the file field.
	body, ctype := multipartBody(t, map[string]string{"_csrf": cl.csrf("/console/import")}, "big.html", bytes.Repeat([]byte("通知"), 12<<10))
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/console/import", body)
	req.Header.Set("Content-Type", ctype)
	r := cl.do(req)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(r.body)["file"], "64 KB") {
		t.Fatalf("big file: %d %v", r.status, fieldErrors(r.body))
	}
	// Far over: a clear page, not a 500.
	body, ctype = multipartBody(t, map[string]string{"_csrf": cl.csrf("/console/import")}, "huge.html", bytes.Repeat([]byte("x"), 1<<20))
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/console/import", body)
	req.Header.Set("Content-Type", ctype)
	r = cl.do(req)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "64 KB") {
		t.Fatalf("huge file: %d", r.status)
	}
	// Nothing given; a bad date (the text typed is kept).
	r = cl.submit("/console/import", "/console/import", url.Values{"page": {""}})
	if r.status != http.StatusUnprocessableEntity || fieldErrors(r.body)["page"] == "" {
		t.Fatalf("empty: %d %v", r.status, fieldErrors(r.body))
	}
	r = cl.submit("/console/import", "/console/import", url.Values{"page": {"关于开学的通知\n各学校：9月1日开学。"}, "date": {"九月"}})
	if r.status != http.StatusUnprocessableEntity || fieldErrors(r.body)["date"] == "" || fieldValue(r.body, "page") != "关于开学的通知\n各学校：9月1日开学。" {
		t.Fatalf("bad date: %d %v", r.status, fieldErrors(r.body))
	}
}

func TestQuestionsAttachThenAnswered(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	webhook := e.daily.Wrap(e.bot) // as serve wires it: every message counted
	const q = "火星上的月亮是什么颜色的"
	for _, text := range []string{q, q, "火星上的月亮是什么颜色的？"} {
		rep := webhook.Handle(context.Background(), bot.Message{User: "o-1", Type: bot.TypeText, Text: text, MsgID: time.Now().Format(time.RFC3339Nano), CreateTime: time.Now()})
		if rep.Answer == bot.AnswerFAQ {
			t.Fatalf("%q answered before staff did: %+v", text, rep)
		}
	}
	r := cl.get("/console/questions")
	if r.status != http.StatusOK || !strings.Contains(r.body, `<span id="q-1-text">`+q+`</span> <span class="muted">3 次</span>`) {
		t.Fatalf("questions page: %d, want %q asked 3 times, as typed\n%s", r.status, q, r.body)
	}
	if !strings.Contains(r.body, "还有 1 种说法") {
		t.Error("the other form typed is not grouped")
	}
	home := cl.get("/console/")
	if !strings.Contains(home.body, `id="kpi-messages"><span class="muted">收到的消息</span><b>3</b>`) || !strings.Contains(home.body, "<svg") || !strings.Contains(home.body, q) {
		t.Errorf("home: no count of 3 messages, chart or top unanswered")
	}

	set, _ := e.store.Export(context.Background())
	faq := set.FAQs[len(set.FAQs)-1]
	// Search the FAQ to attach to (what the search box asks).
	s := cl.get("/console/questions/faqs?n=1&faq_q=" + url.QueryEscape(faq.Question))
	if !strings.Contains(s.body, `value="`+faq.ID+`"`) {
		t.Fatalf("FAQ search does not offer %s: %s", faq.ID, s.body)
	}
	r = cl.submit("/console/questions", "/console/questions/attach", url.Values{"question": {q}, "faq": {faq.ID}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/console/questions/rerun?") {
		t.Fatalf("attach: %d → %q", r.status, r.loc)
	}
	rerun := cl.get(r.loc)
	if !strings.Contains(rerun.body, `id="rerun-ok"`) || !strings.Contains(rerun.body, html.EscapeString(strings.Split(faq.Answer, "\n")[0])) {
		t.Fatalf("re-run does not show the FAQ's answer:\n%s", rerun.body)
	}
	// The webhook now answers it with that FAQ; the list no longer shows it.
	rep := webhook.Handle(context.Background(), bot.Message{User: "o-2", Type: bot.TypeText, Text: q, MsgID: "m-after", CreateTime: time.Now()})
	if rep.Answer != bot.AnswerFAQ || rep.IDs[0] != faq.ID {
		t.Fatalf("after attaching: %+v", rep)
	}
	if r := cl.get("/console/questions"); strings.Contains(r.body, q) {
		t.Error("an answered question is still listed")
	}
	// The audit page shows who added it, with the diff.
	a := cl.get("/console/audit?item=" + faq.ID)
	if !strings.Contains(a.body, "添加问法") || !strings.Contains(a.body, `<div class="ins">+ `) || !strings.Contains(a.body, q) {
		t.Fatalf("audit page:\n%s", a.body)
	}
}

func TestWriteNewFAQForAQuestion(t *testing.T) {
	e := newEnv(t)
	cl := e.loggedIn("ann")
	const q = "学校的游泳课在哪一周开始上"
	r := cl.get("/console/content/faqs/new?question=" + url.QueryEscape(q))
	if fieldValue(r.body, "question") != q || fieldValue(r.body, "asked") != q {
		t.Fatalf("new FAQ not prefilled with the question")
	}
	form := url.Values{"id": {"faq-swimming-lessons"}, "question": {q}, "asked": {q},
		"answer": {"游泳课从第三周开始，具体时间请看学校课表。"}, "keywords": {"游泳课"}}
	r = cl.submit("/console/content/faqs/new", "/console/content/faqs/new", form)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, "/console/questions/rerun?q=") {
		t.Fatalf("save: %d → %q", r.status, r.loc)
	}
	if rr := cl.get(r.loc); !strings.Contains(rr.body, "游泳课从第三周开始") || !strings.Contains(rr.body, `id="rerun-answered"`) {
		t.Fatalf("re-run after writing the FAQ:\n%s", rr.body)
	}
}
