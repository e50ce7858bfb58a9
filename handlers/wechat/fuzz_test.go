package wechat_test

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"testing"

	"github.com/silenceper/wechat/v2/util"

	"github.com/gdjysjyj/edubot/handlers/wechat"
)

// FuzzOpen feeds well-signed requests with arbitrary bodies and
// ciphertexts: Open must return an error or a message, never panic.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType></xml>"), []byte{})
	f.Add([]byte("<xml>"), make([]byte, 32))
	f.Add([]byte{}, make([]byte, 64))
	f.Add([]byte("<xml><Encrypt>x</Encrypt>"), []byte{0xff, 0, 1, 2})
	// The server is stateless between requests: build it once, so each
	// execution is only the two Opens.
	s, err := wechat.NewServer(wechat.Config{Token: token, AESKey: keyNow, PrevAESKey: keyPrev, AppID: appID, TimestampSkew: 300e9}, clock)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, cipher []byte) {
		if len(body) > 64<<10 || len(cipher) > 64<<10 {
			return
		}
		ts, nc := strconv.FormatInt(now.Unix(), 10), "42"
		q := url.Values{"timestamp": {ts}, "nonce": {nc}, "signature": {util.Signature(token, ts, nc)}}
		_, _ = s.Open(q, body) // plain mode, arbitrary XML

		enc := base64.StdEncoding.EncodeToString(cipher)
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(token, ts, nc, enc))
		in, err := s.Open(q, []byte("<xml><ToUserName>gh</ToUserName><Encrypt>"+enc+"</Encrypt></xml>"))
		if err == nil && in == nil {
			t.Fatal("nil message without error")
		}
	})
}
