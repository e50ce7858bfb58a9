package wxfake

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newFake(t *testing.T, cfg Config) (*Server, *clock) {
	c := &clock{t: time.Date(2026, 9, 1, 2, 0, 0, 0, time.UTC)}
	cfg.Now = c.now
	s := New(cfg)
	t.Cleanup(s.Close)
	return s, c
}

func get(t *testing.T, s *Server, path string, q url.Values) map[string]any {
	t.Helper()
	resp, err := http.Get(s.URL + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func post(t *testing.T, s *Server, path, token, body string) map[string]any {
	t.Helper()
	u := s.URL + path
	if token != "" {
		u += "?access_token=" + token
	}
	resp, err := http.Post(u, "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func code(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

func stable(t *testing.T, s *Server, force bool) map[string]any {
	return post(t, s, PathStableToken, "", `{"grant_type":"client_credential","appid":"wxfake0000000000","secret":"fakesecret","force_refresh":`+map[bool]string{true: "true", false: "false"}[force]+`}`)
}

func TestClassicTokenRotatesAfterGrace(t *testing.T) {
	s, c := newFake(t, Config{RotateGrace: 5 * time.Minute})
	q := url.Values{"grant_type": {"client_credential"}, "appid": {"wxfake0000000000"}, "secret": {"fakesecret"}}
	first := get(t, s, PathToken, q)["access_token"].(string)
	second := get(t, s, PathToken, q)["access_token"].(string)
	if first == second {
		t.Fatal("classic fetch returned the same token")
	}
	s.AddFollower("o1")
	if r := post(t, s, PathTagsGet, first, ""); code(r) != 0 {
		t.Errorf("old token within the grace period: %v", r)
	}
	c.t = c.t.Add(6 * time.Minute)
	if r := post(t, s, PathTagsGet, first, ""); code(r) != CodeTokenExpired {
		t.Errorf("old token after the grace period: %v, want 42001", r)
	}
	if r := post(t, s, PathTagsGet, second, ""); code(r) != 0 {
		t.Errorf("new token: %v", r)
	}
	if r := get(t, s, PathToken, url.Values{"grant_type": {"client_credential"}, "appid": {"wxfake0000000000"}, "secret": {"nope"}}); code(r) != CodeInvalidToken {
		t.Errorf("wrong secret: %v", r)
	}
	if r := get(t, s, PathToken, url.Values{"grant_type": {"x"}}); code(r) != CodeBadGrantType {
		t.Errorf("bad grant_type: %v", r)
	}
}

func TestStableTokenDoesNotRotate(t *testing.T) {
	s, c := newFake(t, Config{})
	a := stable(t, s, false)["access_token"].(string)
	b := stable(t, s, false)
	if b["access_token"] != a {
		t.Fatal("stable_token rotated a valid token")
	}
	c.t = c.t.Add(time.Hour)
	if left := stable(t, s, false)["expires_in"].(float64); left != 3600 {
		t.Errorf("expires_in = %v, want the time left (3600)", left)
	}
	f := stable(t, s, true)["access_token"].(string)
	if f == a {
		t.Fatal("force_refresh returned the old token")
	}
	if r := post(t, s, PathTagsGet, a, ""); code(r) != CodeInvalidToken {
		t.Errorf("token replaced by force_refresh: %v, want 40001", r)
	}
	if r := post(t, s, PathTagsGet, "", ""); code(r) != CodeMissingToken {
		t.Errorf("no token: %v, want 41001", r)
	}
	c.t = c.t.Add(3 * time.Hour)
	if r := post(t, s, PathTagsGet, f, ""); code(r) != CodeTokenExpired {
		t.Errorf("after 7200 s: %v, want 42001", r)
	}
	if stable(t, s, false)["access_token"] == f {
		t.Error("expired stable token handed out again")
	}
}

func news(to string) string {
	return `{"touser":"` + to + `","msgtype":"news","news":{"articles":[{"title":"T","description":"D","url":"https://x/1","picurl":""}]}}`
}

func TestCustomSendWindowAndCount(t *testing.T) {
	s, c := newFake(t, Config{})
	tok := stable(t, s, false)["access_token"].(string)
	s.AddFollower("silent")
	s.UserMessaged("o1", c.t)
	if r := post(t, s, PathCustomSend, tok, news("stranger")); code(r) != CodeInvalidOpenID {
		t.Errorf("not a follower: %v", r)
	}
	if r := post(t, s, PathCustomSend, tok, news("silent")); code(r) != CodeOutsideWindow {
		t.Errorf("never wrote: %v, want 45015", r)
	}
	two := `{"touser":"o1","msgtype":"news","news":{"articles":[{"title":"a","url":"https://x"},{"title":"b","url":"https://y"}]}}`
	if r := post(t, s, PathCustomSend, tok, two); code(r) != CodeArticleCount {
		t.Errorf("two articles: %v, want 45008", r)
	}
	if r := post(t, s, PathCustomSend, tok, `{"touser":"o1","msgtype":"text","text":{"content":" "}}`); code(r) != CodeEmptyText {
		t.Errorf("empty text: %v", r)
	}
	if r := post(t, s, PathCustomSend, tok, `{"touser":"o1","msgtype":"video"}`); code(r) != CodeInvalidMsgType {
		t.Errorf("video: %v", r)
	}
	for i := 0; i < CSPerWindow; i++ {
		if r := post(t, s, PathCustomSend, tok, news("o1")); code(r) != 0 {
			t.Fatalf("message %d: %v", i+1, r)
		}
	}
	if r := post(t, s, PathCustomSend, tok, news("o1")); code(r) != CodeTooManyCS {
		t.Errorf("sixth: %v, want 45047", r)
	}
	s.UserMessaged("o1", c.t) // the user writes again: a new allowance
	if r := post(t, s, PathCustomSend, tok, news("o1")); code(r) != 0 {
		t.Errorf("after the user wrote again: %v", r)
	}
	c.t = c.t.Add(49 * time.Hour)
	tok = stable(t, s, false)["access_token"].(string)
	if r := post(t, s, PathCustomSend, tok, news("o1")); code(r) != CodeOutsideWindow {
		t.Errorf("after 49 h: %v, want 45015", r)
	}
	if d := s.Delivered(); d["o1"] != 6 {
		t.Errorf("delivered %v", d)
	}
}

func TestMassSend(t *testing.T) {
	s, c := newFake(t, Config{})
	tok := stable(t, s, false)["access_token"].(string)
	s.AddFollower("p1", "家长")
	s.AddFollower("p2", "家长")
	s.AddFollower("t1", "教师")
	tag := s.TagID("家长")
	text := `"msgtype":"text","text":{"content":"通知"}`
	if r := post(t, s, PathMassSendAll, tok, `{"filter":{"is_to_all":false,"tag_id":9999},`+text+`}`); code(r) != CodeInvalidTag {
		t.Errorf("unknown tag: %v", r)
	}
	if r := post(t, s, PathMassSendAll, tok, `{`+text+`}`); code(r) != CodeDataFormat {
		t.Errorf("no filter: %v", r)
	}
	if r := post(t, s, PathMassPreview, tok, `{"touser":"nobody",`+text+`}`); code(r) != CodeInvalidOpenID {
		t.Errorf("preview to a stranger: %v", r)
	}
	if r := post(t, s, PathMassPreview, tok, `{"touser":"t1",`+text+`}`); code(r) != 0 {
		t.Errorf("preview: %v", r)
	}
	r := post(t, s, PathMassSendAll, tok, `{"filter":{"is_to_all":false,"tag_id":`+itoa(tag)+`},`+text+`,"clientmsgid":"job-1"}`)
	if code(r) != 0 {
		t.Fatalf("send: %v", r)
	}
	id := int64(r["msg_id"].(float64))
	again := post(t, s, PathMassSendAll, tok, `{"filter":{"is_to_all":true},`+text+`,"clientmsgid":"job-1"}`)
	if code(again) != CodeClientMsgIDUsed || int64(again["msg_id"].(float64)) != id {
		t.Errorf("repeated clientmsgid: %v, want 45065 with msg_id %d", again, id)
	}
	if r := post(t, s, PathMassSendAll, tok, `{"filter":{"is_to_all":true},`+text+`,"clientmsgid":"job-2"}`); code(r) != CodeMassQuota {
		t.Errorf("second send of the day (订阅号): %v, want 45028", r)
	}
	if m := s.Masses(); len(m) != 1 || strings.Join(m[0].Recipients, ",") != "p1,p2" {
		t.Errorf("masses = %+v", m)
	}
	if res, ok := s.FinishMass(id); !ok || res.SentCount != 2 || res.TotalCount != 2 {
		t.Errorf("finish = %+v", res)
	}
	if r := post(t, s, PathMassGet, tok, `{"msg_id":`+itoa(int(id))+`}`); r["msg_status"] != "SEND_SUCCESS" {
		t.Errorf("mass/get: %v", r)
	}
	c.t = c.t.Add(24 * time.Hour) // next day in Beijing
	tok = stable(t, s, false)["access_token"].(string)
	if r := post(t, s, PathMassSendAll, tok, `{"filter":{"is_to_all":true},`+text+`,"clientmsgid":"job-3"}`); code(r) != 0 {
		t.Errorf("next day: %v", r)
	}
}

func TestServiceAccountQuota(t *testing.T) {
	s, _ := newFake(t, Config{AccountType: Service})
	tok := stable(t, s, false)["access_token"].(string)
	for i := 1; i <= 5; i++ {
		r := post(t, s, PathMassSendAll, tok, `{"filter":{"is_to_all":true},"msgtype":"text","text":{"content":"x"}}`)
		if want := map[bool]int{true: 0, false: CodeMassQuota}[i <= 4]; code(r) != want {
			t.Errorf("send %d: %v, want %d", i, r, want)
		}
	}
}

func TestMenuValidation(t *testing.T) {
	s, _ := newFake(t, Config{})
	tok := stable(t, s, false)["access_token"].(string)
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"button":[]}`, CodeButtonCount},
		{`{"button":[{"type":"click","name":"a","key":"k"},{"type":"click","name":"b","key":"k"},{"type":"click","name":"c","key":"k"},{"type":"click","name":"d","key":"k"}]}`, CodeButtonCount},
		{`{"button":[{"type":"click","name":"十七个字节的名字啊","key":"k"}]}`, CodeButtonName},
		{`{"button":[{"type":"bogus","name":"a"}]}`, CodeButtonType},
		{`{"button":[{"type":"click","name":"a"}]}`, CodeButtonKey},
		{`{"button":[{"type":"view","name":"a","url":"ftp://x"}]}`, CodeButtonURL},
		{`{"button":[{"name":"a","sub_button":[{"type":"click","name":"1","key":"1"},{"type":"click","name":"2","key":"2"},{"type":"click","name":"3","key":"3"},{"type":"click","name":"4","key":"4"},{"type":"click","name":"5","key":"5"},{"type":"click","name":"6","key":"6"}]}]}`, CodeSubButtonCount},
		{`{"button":[{"name":"a","sub_button":[{"type":"view","name":"x","url":""}]}]}`, CodeSubButtonURL},
		{`{"button":[{"name":"a","sub_button":[{"type":"nope","name":"x"}]}]}`, CodeSubButtonType},
		{`not json`, CodeDataFormat},
		{`{"button":[{"type":"click","name":"开学","key":"K"},{"name":"更多","sub_button":[{"type":"view","name":"官网","url":"https://edu.example.org/"}]}]}`, 0},
	} {
		if r := post(t, s, PathMenuCreate, tok, tc.body); code(r) != tc.want {
			t.Errorf("%s: %v, want %d", tc.body, r, tc.want)
		}
	}
	if !strings.Contains(string(s.Menu()), "官网") {
		t.Errorf("menu = %s", s.Menu())
	}
}

func TestInjectedAndAccountErrors(t *testing.T) {
	s, _ := newFake(t, Config{})
	tok := stable(t, s, false)["access_token"].(string)
	s.InjectError(PathTagsGet, CodeSystemBusy)
	if r := post(t, s, PathTagsGet, tok, ""); code(r) != CodeSystemBusy {
		t.Errorf("injected: %v", r)
	}
	if r := post(t, s, PathTagsGet, tok, ""); code(r) != 0 {
		t.Errorf("after the injected error: %v", r)
	}
	s.SetUnauthorized(PathMassSendAll, true)
	if r := post(t, s, PathMassSendAll, tok, `{}`); code(r) != CodeUnauthorized {
		t.Errorf("unauthorised: %v", r)
	}
	s.SetAPIQuota(PathTagsGet, 1)
	post(t, s, PathTagsGet, tok, "")
	if r := post(t, s, PathTagsGet, tok, ""); code(r) != CodeAPIQuota {
		t.Errorf("quota: %v", r)
	}
	s.SetIPWhitelisted(false)
	if r := stable(t, s, false); code(r) != CodeIPNotWhitelist {
		t.Errorf("whitelist: %v", r)
	}
	if n := len(s.Calls()); n != 7 {
		t.Errorf("%d calls recorded, want 7", n)
	}
}

func TestControlEndpoints(t *testing.T) {
	s, _ := newFake(t, Config{})
	resp, err := http.Post(s.URL+"/_fake/message", "application/json", strings.NewReader(`{"openid":"o9","tags":["家长"]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("message: %v %v", err, resp)
	}
	resp.Body.Close()
	tok := stable(t, s, false)["access_token"].(string)
	if r := post(t, s, PathCustomSend, tok, news("o9")); code(r) != 0 {
		t.Errorf("after /_fake/message: %v", r)
	}
	resp, err = http.Get(s.URL + "/_fake/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var calls []Call
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil || len(calls) != 2 {
		t.Errorf("calls: %v %+v", err, calls)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestUploadImg(t *testing.T) {
	s, _ := newFake(t, Config{})
	tok := stable(t, s, false)["access_token"].(string)
	upload := func(data []byte) map[string]any {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("media", "cover.png")
		fw.Write(data)
		mw.Close()
		resp, err := http.Post(s.URL+PathUploadImg+"?access_token="+tok, mw.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	png := []byte("\x89PNG\r\n\x1a\n0000")
	if r := upload(png); code(r) != 0 || !strings.HasPrefix(r["url"].(string), "http://mmbiz.qpic.cn/") {
		t.Errorf("png: %v", r)
	}
	if r := upload([]byte("GIF89a......")); code(r) != 40005 {
		t.Errorf("gif: %v", r)
	}
	if r := upload(append(png, make([]byte, 1<<20)...)); code(r) != 40009 {
		t.Errorf("over 1 MB: %v", r)
	}
}
