package wechat_test

import (
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/handlers/wechat"
)

// BenchmarkOpen is the inbound half of a safe-mode message: signatures,
// replay window, envelope, AES and the message XML.
func BenchmarkOpen(b *testing.B) {
	s, err := wechat.NewServer(wechat.Config{Token: token, AESKey: keyNow, AppID: appID, TimestampSkew: 300 * time.Second}, clock)
	if err != nil {
		b.Fatal(err)
	}
	p := &wechat.Peer{Token: token, AESKey: keyNow, AppID: appID, Mode: wechat.ModeSafe, Now: clock}
	q, body, err := p.Seal(wechat.TextMessage(account, user, "老师您好，请问一年级报名要带什么材料", 7, now))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(q, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal is the outbound half: the reply XML, AES, the signature
// and the envelope.
func BenchmarkSeal(b *testing.B) {
	s, err := wechat.NewServer(wechat.Config{Token: token, AESKey: keyNow, AppID: appID, TimestampSkew: 300 * time.Second}, clock)
	if err != nil {
		b.Fatal(err)
	}
	p := &wechat.Peer{Token: token, AESKey: keyNow, AppID: appID, Mode: wechat.ModeSafe, Now: clock}
	q, body, err := p.Seal(wechat.TextMessage(account, user, "一年级报名要带什么", 7, now))
	if err != nil {
		b.Fatal(err)
	}
	in, err := s.Open(q, body)
	if err != nil {
		b.Fatal(err)
	}
	r := bot.Reply{Kind: bot.ReplyText, Text: "一年级新生报名需带：户口簿、房产证明、预防接种证。详见《2026年秋季一年级招生公告》，回复 1 查看全文。"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal(in, r); err != nil {
			b.Fatal(err)
		}
	}
}
