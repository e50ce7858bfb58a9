package wechat_test

import (
	"testing"
	"time"

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
