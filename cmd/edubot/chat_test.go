package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/handlers"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
)

// echoBot answers by message kind so the test sees every print path.
type echoBot struct {
	mu  sync.Mutex
	got []bot.Message
}

func (b *echoBot) Handle(_ context.Context, m bot.Message) bot.Reply {
	b.mu.Lock()
	b.got = append(b.got, m)
	b.mu.Unlock()
	switch {
	case m.Type == bot.TypeEvent && m.Event == bot.EventSubscribe:
		return bot.Reply{Kind: bot.ReplyText, Text: "欢迎关注（" + m.EventKey + "）"}
	case m.Type == bot.TypeEvent && m.Event == bot.EventClick:
		return bot.Reply{Kind: bot.ReplyNews, Article: &bot.Article{Title: "关于2026年春季学期开学安排的通知",
			Description: "各县（市、区）教育局：现将春季开学有关事项通知如下。", PicURL: "https://example.org/c.jpg", URL: "https://example.org/n/1"}}
	case m.Type == bot.TypeEvent:
		return bot.Reply{Kind: bot.ReplyNone}
	case m.Text == "人工":
		return bot.Reply{Kind: bot.ReplyTransfer}
	case m.Type == bot.TypeImage:
		return bot.Reply{Kind: bot.ReplyText, Text: "我只看得懂文字"}
	}
	return bot.Reply{Kind: bot.ReplyText, Text: "答：" + m.Text}
}

func devServer(t *testing.T, b handlers.Handler) *httptest.Server {
	t.Helper()
	w := config.Default().WeChat
	w.Token, w.AESKey, w.AppID = config.DevToken, config.DevAESKey, config.DevAppID
	w.Mode = "compat" // takes all three modes' messages; safe, the default, refuses plaintext
	r, err := handlers.New(handlers.Deps{Bot: b, WeChat: w})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func newSession(url string, mode wechat.Mode, out, errw *bytes.Buffer) *chatSession {
	return &chatSession{
		peer: &wechat.Peer{Token: config.DevToken, AESKey: config.DevAESKey, AppID: config.DevAppID, Mode: mode},
		url:  url + "/wechat", account: "gh_test", name: "揭阳教育", user: "oChatTest",
		msgID: 1000, out: out, errw: errw,
	}
}

func TestChatPlaysWeChat(t *testing.T) {
	for _, mode := range []wechat.Mode{wechat.ModeSafe, wechat.ModePlain, wechat.ModeCompatible} {
		t.Run(mode.String(), func(t *testing.T) {
			b := &echoBot{}
			srv := devServer(t, b)
			var out, errw bytes.Buffer
			s := newSession(srv.URL, mode, &out, &errw)
			script := strings.Join([]string{
				"什么时候开学", "/subscribe school", "/subscribe school", "/click MENU_NOTICE", "/view https://example.org",
				"/voice 报名要带什么", "/image", "/location", "人工", "/click", "/nope", "/user oOther", "你好", "/unsubscribe",
				"/quit", "不会发出",
			}, "\n")
			if err := s.run(context.Background(), strings.NewReader(script), false); err != nil {
				t.Fatalf("%v\n%s", err, errw.String())
			}
			o := out.String()
			for _, want := range []string{
				"你> 什么时候开学\n揭阳教育> 答：什么时候开学",
				"揭阳教育> 欢迎关注（qrscene_school）",
				"│ 关于2026年春季学期开学安排的通知",
				"│ [图片] https://example.org/c.jpg",
				"│ 阅读全文 → https://example.org/n/1",
				"揭阳教育  （没有回复）",
				"揭阳教育> 答：报名要带什么",
				"揭阳教育> 我只看得懂文字",
				"（已转接人工客服",
				"(now talking as oOther)",
			} {
				if !strings.Contains(o, want) {
					t.Errorf("output lacks %q:\n%s", want, o)
				}
			}
			if strings.Contains(o, "不会发出") {
				t.Error("input after /quit was sent")
			}
			for _, want := range []string{"usage: /click KEY", "unknown command /nope"} {
				if !strings.Contains(errw.String(), want) {
					t.Errorf("stderr lacks %q: %s", want, errw.String())
				}
			}

			b.mu.Lock()
			defer b.mu.Unlock()
			// Two /subscribe in the same second are two events, not a retry.
			if b.got[1].CreateTime.Equal(b.got[2].CreateTime) {
				t.Error("two events with one CreateTime")
			}
			var last int64
			for _, m := range b.got {
				if m.MsgID == "" {
					continue
				}
				var id int64
				for _, c := range m.MsgID {
					id = id*10 + int64(c-'0')
				}
				if id <= last {
					t.Errorf("msg ids do not increase: %d after %d", id, last)
				}
				last = id
			}
			if b.got[len(b.got)-1].User != "oOther" || b.got[len(b.got)-1].Event != bot.EventUnsubscribe {
				t.Errorf("last message %+v", b.got[len(b.got)-1])
			}
		})
	}
}

func TestChatReportsRefusals(t *testing.T) {
	srv := devServer(t, &echoBot{})
	var out, errw bytes.Buffer
	s := newSession(srv.URL, wechat.ModeSafe, &out, &errw)
	s.peer.Token = "not-the-server-token"
	err := s.run(context.Background(), strings.NewReader("你好\n"), false)
	if err == nil || !strings.Contains(errw.String(), "403") {
		t.Errorf("err %v, stderr %q: want a failure naming 403", err, errw.String())
	}
}

// The reply's signature is checked: a server that signs with another
// token is caught.
func TestChatChecksReplySignature(t *testing.T) {
	other := &wechat.Peer{Token: "evil", AESKey: config.DevAESKey, AppID: config.DevAppID, Mode: wechat.ModeSafe}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A well-formed encrypted reply signed with the wrong token.
		q, body, _ := other.Seal(wechat.TextMessage("oChatTest", "gh_test", "hi", 1, time.Now()))
		reply := strings.Replace(string(body), "</xml>", "<MsgSignature><![CDATA["+q.Get("msg_signature")+"]]></MsgSignature><TimeStamp>"+q.Get("timestamp")+"</TimeStamp><Nonce><![CDATA["+q.Get("nonce")+"]]></Nonce></xml>", 1)
		_, _ = w.Write([]byte(reply))
	}))
	defer srv.Close()
	var out, errw bytes.Buffer
	s := newSession(srv.URL, wechat.ModeSafe, &out, &errw)
	if err := s.run(context.Background(), strings.NewReader("你好\n"), false); err == nil {
		t.Errorf("a reply signed with another token was accepted: %s", out.String())
	}
	if !strings.Contains(errw.String(), "MsgSignature") {
		t.Errorf("stderr: %s", errw.String())
	}
}
