package wechat

import (
	"encoding/xml"
	"testing"
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
