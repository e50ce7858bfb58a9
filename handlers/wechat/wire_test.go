package wechat

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/gdjysjyj/edubot/bot"
)

var wireSamples = []string{
	// As WeChat sends them.
	"<xml><ToUserName><![CDATA[gh_a]]></ToUserName>\n<FromUserName><![CDATA[oU]]></FromUserName>\n<CreateTime>1763775000</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[孩子几号开学？<急>&谢谢]]></Content>\n<MsgId>1234567890123456</MsgId>\n</xml>",
	"<xml><ToUserName><![CDATA[gh_a]]></ToUserName><Encrypt><![CDATA[c2FmZSBtb2RlIGNpcGhlcnRleHQ=]]></Encrypt></xml>",
	"<xml><ToUserName>gh_a</ToUserName><FromUserName>oU</FromUserName><CreateTime>1</CreateTime><MsgType>voice</MsgType><MediaId>m</MediaId><Format>amr</Format><Recognition>报名材料</Recognition><MsgId>5</MsgId></xml>",
	"<xml><ToUserName>gh_a</ToUserName><FromUserName>oU</FromUserName><MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>1988</MsgID><Status>send success</Status><TotalCount> 100 </TotalCount><FilterCount>80</FilterCount><SentCount>75</SentCount><ErrorCount></ErrorCount></xml>",
	"<xml><Content>a<![CDATA[b]]>c</Content><Content>last wins</Content></xml> trailing",
	// Shapes the scan leaves to encoding/xml.
	`<?xml version="1.0"?><xml><Content>x</Content></xml>`,
	"<xml><Content>&lt;a&gt; &amp; &#x4e2d;</Content></xml>",
	"<xml><Content>line\r\nbreak</Content></xml>",
	`<xml><Content a="1">x</Content></xml>`,
	"<xml><ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo><Event>scancode_push</Event></xml>",
	"<xml><!-- c --><Content>x</Content></xml>",
	"<xml><Content/></xml>",
	"<xml><x:Content xmlns:x='u'>x</x:Content></xml>",
	"<xml><CreateTime>12a</CreateTime></xml>",
	"<xml><Content>x</Contents></xml>",
	"<xml><Content>\x01</Content></xml>",
	"<xml><Content>\xff</Content></xml>",
	"<other><Content>x</Content></other>",
	"<xml><Content>unclosed",
	"",
}

// What the scan reads is what encoding/xml reads; where the scan declines,
// decodeWire is encoding/xml.
func FuzzDecodeWire(f *testing.F) {
	for _, s := range wireSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast wireMessage
		if !scanFlat(b, &fast) {
			return
		}
		var std wireMessage
		if err := xml.Unmarshal(b, &std); err != nil {
			t.Fatalf("scan accepted what encoding/xml rejects (%v): %q", err, b)
		}
		std.XMLName = xml.Name{}
		if fast != std {
			t.Fatalf("scan %+v\nxml  %+v\nfor %q", fast, std, b)
		}
	})
}

// The scan takes the messages WeChat sends (so the fast path is the one
// that runs) and agrees with encoding/xml on every sample.
func TestDecodeWire(t *testing.T) {
	for i, s := range wireSamples {
		var fast wireMessage
		ok := scanFlat([]byte(s), &fast)
		if i < 5 && !ok {
			t.Errorf("sample %d: WeChat's shape not scanned: %q", i, s)
		}
		if i >= 5 && ok {
			t.Errorf("sample %d: scanned, should go to encoding/xml: %q", i, s)
		}
		var got, std wireMessage
		err := decodeWire([]byte(s), &got)
		stdErr := xml.Unmarshal([]byte(s), &std)
		if (err == nil) != (stdErr == nil) {
			t.Errorf("sample %d: error %v, encoding/xml %v", i, err, stdErr)
		}
		got.XMLName, std.XMLName = xml.Name{}, xml.Name{}
		if err == nil && got != std {
			t.Errorf("sample %d: %+v, encoding/xml %+v", i, got, std)
		}
	}
}

// silenceperXML is how replies were written before: silenceper's types
// through xml.Marshal, the oracle for the direct writer.
func silenceperXML(t *testing.T, user, account string, now time.Time, r bot.Reply) []byte {
	t.Helper()
	var v any
	var typ message.MsgType
	switch r.Kind {
	case bot.ReplyText:
		typ, v = message.MsgTypeText, message.NewText(TruncateText(r.Text, bot.MaxTextBytes))
	case bot.ReplyNews:
		a := r.Article
		typ, v = message.MsgTypeNews, message.NewNews([]*message.Article{message.NewArticle(a.Title, a.Description, a.PicURL, a.URL)})
	case bot.ReplyTransfer:
		typ, v = message.MsgTypeTransfer, message.NewTransferCustomer("")
	}
	c := v.(interface {
		SetToUserName(message.CDATA)
		SetFromUserName(message.CDATA)
		SetCreateTime(int64)
		SetMsgType(message.MsgType)
	})
	c.SetToUserName(message.CDATA(user))
	c.SetFromUserName(message.CDATA(account))
	c.SetCreateTime(now.Unix())
	c.SetMsgType(typ)
	out, err := xml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var awkward = []string{"", "几号开学？", "a]]>b]]>", "]]>", "<&>\"'", "line\nbreak\r\ttab", "\xff\xfe bad utf-8", "ctl\x01\x1f", "《通知》 https://x/y?a=1&b=2"}

// The direct writer writes exactly what xml.Marshal wrote for silenceper's
// reply types and encrypted envelope, whatever the text holds.
func TestReplyXMLAsSilenceper(t *testing.T) {
	now := time.Unix(1763775000, 0)
	var replies []bot.Reply
	for _, s := range awkward {
		replies = append(replies,
			bot.Reply{Kind: bot.ReplyText, Text: "答：" + s},
			bot.Reply{Kind: bot.ReplyNews, Article: &bot.Article{Title: "T" + s, Description: s, PicURL: s, URL: "http://u/" + s}},
		)
	}
	replies = append(replies, bot.Reply{Kind: bot.ReplyTransfer})
	for _, user := range awkward {
		for _, r := range replies {
			got, err := ReplyXML(user, "gh_"+user, now, bot.Message{Type: bot.TypeText}, r)
			if err != nil {
				t.Fatal(err)
			}
			if want := silenceperXML(t, user, "gh_"+user, now, r); !bytes.Equal(got, want) {
				t.Fatalf("user %q reply %+v:\n got %s\nwant %s", user, r, got, want)
			}
		}
	}
	for _, s := range awkward {
		var w xmlWriter
		w.open("xml")
		w.text("Encrypt", s)
		w.text("MsgSignature", s+"sig")
		w.num("TimeStamp", -5)
		w.text("Nonce", s)
		w.close("xml")
		want, err := xml.Marshal(message.ResponseEncryptedXMLMsg{EncryptedMsg: s, MsgSignature: s + "sig", Timestamp: -5, Nonce: s})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.b, want) {
			t.Fatalf("envelope %q:\n got %s\nwant %s", s, w.b, want)
		}
	}
}
