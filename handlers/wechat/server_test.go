package wechat_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/handlers/wechat"
)

const (
	token   = "test-token"
	keyNow  = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	keyPrev = "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj"
	keyElse = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	appID   = "wxtestapp0000001"
	account = "gh_test"
	user    = "oUser1"
)

var now = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

func clock() time.Time { return now }

func newServer(t *testing.T, prev string) *wechat.Server {
	t.Helper()
	s, err := wechat.NewServer(wechat.Config{Token: token, AESKey: keyNow, PrevAESKey: prev, AppID: appID, TimestampSkew: 300 * time.Second}, clock)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewServerRejectsBadSettings(t *testing.T) {
	for name, cfg := range map[string]wechat.Config{
		"no token":       {AESKey: keyNow, TimestampSkew: time.Minute},
		"short key":      {Token: token, AESKey: "abc", TimestampSkew: time.Minute},
		"not base64":     {Token: token, AESKey: strings.Repeat("!", 43), TimestampSkew: time.Minute},
		"prev only":      {Token: token, PrevAESKey: keyPrev, TimestampSkew: time.Minute},
		"no skew window": {Token: token, AESKey: keyNow},
	} {
		if _, err := wechat.NewServer(cfg, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestOpenTriesThePreviousKey(t *testing.T) {
	s := newServer(t, keyPrev)
	msg := wechat.TextMessage(account, user, "开学", 7, now)
	for _, tc := range []struct {
		key      string
		wantPrev bool
		wantErr  error
	}{
		{keyNow, false, nil},
		{keyPrev, true, nil},
		{keyElse, false, wechat.ErrDecrypt},
	} {
		p := &wechat.Peer{Token: token, AESKey: tc.key, AppID: appID, Mode: wechat.ModeSafe, Now: clock}
		q, body, err := p.Seal(msg)
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.Open(q, body)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("key %s…: err %v, want %v", tc.key[:4], err, tc.wantErr)
		}
		if err != nil {
			continue
		}
		if in.PrevKey != tc.wantPrev || in.Message.Text != "开学" {
			t.Errorf("key %s…: prev=%v text=%q", tc.key[:4], in.PrevKey, in.Message.Text)
		}
		// The reply goes back under the key that opened the message.
		out, err := s.Seal(in, bot.Reply{Kind: bot.ReplyText, Text: "好"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Open(out)
		if err != nil || got.Content != "好" {
			t.Errorf("key %s…: reply %+v, %v", tc.key[:4], got, err)
		}
	}
}

// A clock that ticks between readings: the encrypted reply's signature
// and Timestamp must come from the same second, or WeChat rejects it.
func TestSealSignsTheTimestampItSends(t *testing.T) {
	tick := now.Add(999 * time.Millisecond)
	ticking := func() time.Time {
		tick = tick.Add(time.Millisecond)
		return tick
	}
	s, err := wechat.NewServer(wechat.Config{Token: token, AESKey: keyNow, AppID: appID, TimestampSkew: 300 * time.Second}, ticking)
	if err != nil {
		t.Fatal(err)
	}
	p := &wechat.Peer{Token: token, AESKey: keyNow, AppID: appID, Mode: wechat.ModeSafe, Now: clock}
	for i := range 3 {
		q, body, err := p.Seal(wechat.TextMessage(account, user, "开学", int64(i+1), now))
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.Open(q, body)
		if err != nil {
			t.Fatal(err)
		}
		tick = now.Add(time.Duration(997+i) * time.Millisecond) // the next readings cross a second
		out, err := s.Seal(in, bot.Reply{Kind: bot.ReplyText, Text: "好"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := p.Open(out); err != nil || got.Content != "好" {
			t.Errorf("reply sealed across a second boundary: %+v, %v", got, err)
		}
	}
}

func TestOpenChecksAppID(t *testing.T) {
	s := newServer(t, "")
	p := &wechat.Peer{Token: token, AESKey: keyNow, AppID: "wxsomeoneelse000", Mode: wechat.ModeSafe, Now: clock}
	q, body, err := p.Seal(wechat.TextMessage(account, user, "x", 1, now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(q, body); !errors.Is(err, wechat.ErrDecrypt) {
		t.Errorf("message for another app id: %v, want ErrDecrypt", err)
	}
}

func TestParseMessage(t *testing.T) {
	parse := func(x string) bot.Message {
		m, err := wechat.ParseMessage([]byte(x))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	head := `<ToUserName><![CDATA[gh_a]]></ToUserName><FromUserName><![CDATA[oU]]></FromUserName><CreateTime>1763775000</CreateTime>`
	cases := []struct {
		name string
		xml  string
		want bot.Message
	}{
		{"text", `<xml>` + head + `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[几号开学]]></Content><MsgId>1234567890123456</MsgId></xml>`,
			bot.Message{MsgID: "1234567890123456", Type: bot.TypeText, Text: "几号开学"}},
		{"voice uses recognition", `<xml>` + head + `<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m]]></MediaId><Recognition><![CDATA[报名材料]]></Recognition><MsgId>5</MsgId></xml>`,
			bot.Message{MsgID: "5", Type: bot.TypeVoice, Text: "报名材料"}},
		{"image has no text", `<xml>` + head + `<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/p.jpg]]></PicUrl><MsgId>6</MsgId></xml>`,
			bot.Message{MsgID: "6", Type: bot.TypeImage}},
		{"subscribe with scene", `<xml>` + head + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123]]></EventKey></xml>`,
			bot.Message{Type: bot.TypeEvent, Event: bot.EventSubscribe, EventKey: "qrscene_123"}},
		{"lower-case click", `<xml>` + head + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event><EventKey><![CDATA[K1]]></EventKey></xml>`,
			bot.Message{Type: bot.TypeEvent, Event: bot.EventClick, EventKey: "K1"}},
		{"mass send finished", `<xml>` + head + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>1988</MsgID><Status><![CDATA[send success]]></Status><TotalCount>100</TotalCount><FilterCount>80</FilterCount><SentCount>75</SentCount><ErrorCount>5</ErrorCount></xml>`,
			bot.Message{MsgID: "1988", Type: bot.TypeEvent, Event: bot.EventMassFinish,
				Mass: &bot.MassResult{MsgID: 1988, Status: "send success", TotalCount: 100, FilterCount: 80, SentCount: 75, ErrorCount: 5}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parse(tc.xml)
			tc.want.User, tc.want.Account, tc.want.CreateTime = "oU", "gh_a", time.Unix(1763775000, 0)
			if got.Mass != nil && tc.want.Mass != nil && *got.Mass == *tc.want.Mass {
				got.Mass, tc.want.Mass = nil, nil
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// A message without CreateTime must not read as one sent in 1970: the
// bot de-duplicates events and MsgId-less messages on it.
func TestParseMessageWithoutCreateTime(t *testing.T) {
	x := `<xml><ToUserName>gh_a</ToUserName><FromUserName>oU</FromUserName><MsgType>event</MsgType><Event>CLICK</Event><EventKey>K1</EventKey></xml>`
	got, err := wechat.ParseMessage([]byte(x))
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreateTime.IsZero() {
		t.Errorf("CreateTime = %v, want the zero time", got.CreateTime)
	}
}

func TestReplyXML(t *testing.T) {
	m := bot.Message{Type: bot.TypeText, User: user, Account: account}
	news, err := wechat.ReplyXML(user, account, now, m, bot.Reply{Kind: bot.ReplyNews, Article: &bot.Article{Title: "T", Description: "D", PicURL: "http://p", URL: "http://u"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<ToUserName><![CDATA[oUser1]]></ToUserName>", "<FromUserName><![CDATA[gh_test]]></FromUserName>",
		"<CreateTime>1795339800</CreateTime>", "<MsgType>news</MsgType>", "<ArticleCount>1</ArticleCount>",
		"<item><Title>T</Title><Description>D</Description><PicUrl>http://p</PicUrl><Url>http://u</Url></item>"} {
		if !bytes.Contains(news, []byte(want)) {
			t.Errorf("news reply lacks %s:\n%s", want, news)
		}
	}
	tr, _ := wechat.ReplyXML(user, account, now, m, bot.Reply{Kind: bot.ReplyTransfer})
	if !bytes.Contains(tr, []byte("<MsgType>transfer_customer_service</MsgType>")) {
		t.Errorf("transfer reply: %s", tr)
	}
	for name, r := range map[string]bot.Reply{
		"none":              {Kind: bot.ReplyNone},
		"blank text":        {Kind: bot.ReplyText, Text: "  "},
		"news without card": {Kind: bot.ReplyNews},
	} {
		if x, err := wechat.ReplyXML(user, account, now, m, r); x != nil || err != nil {
			t.Errorf("%s: %s, %v; want nil (success)", name, x, err)
		}
	}
	ev := bot.Message{Type: bot.TypeEvent, Event: bot.EventClick}
	if x, _ := wechat.ReplyXML(user, account, now, ev, bot.Reply{Kind: bot.ReplyTransfer}); x != nil {
		t.Errorf("transfer for an event: %s, want success (WeChat hands over user messages only)", x)
	}
}

func TestTruncateText(t *testing.T) {
	long := strings.Repeat("开学", 600) // 3600 bytes
	got := wechat.TruncateText(long, bot.MaxTextBytes)
	if len(got) > bot.MaxTextBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("cut to %d bytes, valid=%v", len(got), utf8.ValidString(got))
	}
	if s := "短"; wechat.TruncateText(s, bot.MaxTextBytes) != s {
		t.Error("short text changed")
	}
}

func TestQuietLogrus(t *testing.T) {
	var buf bytes.Buffer
	wechat.QuietLogrus(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	logrus.SetLevel(logrus.DebugLevel) // what silenceper's init does…
	wechat.QuietLogrus(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	logrus.Debugf("request msg =%s", "<xml>oSecretOpenID 什么时候开学</xml>")
	logrus.Infof("response msg =%s", "oSecretOpenID")
	logrus.WithField("errcode", 40001).Warn("token expired")
	out := buf.String()
	if strings.Contains(out, "oSecretOpenID") {
		t.Errorf("debug/info logrus lines got through:\n%s", out)
	}
	if !strings.Contains(out, "token expired") || !strings.Contains(out, "source=silenceper") || !strings.Contains(out, "errcode=40001") {
		t.Errorf("warning not routed to slog:\n%s", out)
	}
	if strings.Count(out, "token expired") != 1 {
		t.Errorf("hook installed twice:\n%s", out)
	}
}
