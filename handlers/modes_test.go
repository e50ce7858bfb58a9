package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/handlers"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// With an AES key and no mode configured the webhook runs in safe mode:
// a plaintext POST signed only over token/timestamp/nonce (the body is not
// covered, the signature sits in access logs) is refused.
func TestSafeModeRefusesPlaintext(t *testing.T) {
	e := newEnv(t, func(d *handlers.Deps) { d.WeChat.Mode = "" })
	q, body, err := peer(wechat.ModePlain).Seal(wechat.TextMessage(account, user, "几号开学", 1, now))
	if err != nil {
		t.Fatal(err)
	}
	if w := e.post(q, body); w.Code != http.StatusForbidden {
		t.Fatalf("plaintext in safe mode: %d, want 403", w.Code)
	}
	if e.bot.calls() != 0 {
		t.Error("the bot saw a plaintext message in safe mode")
	}
	if got := e.send(peer(wechat.ModeSafe), wechat.TextMessage(account, user, "几号开学", 2, now)); got.Content == "" {
		t.Errorf("safe message: %+v", got)
	}
	if got := e.send(peer(wechat.ModeCompatible), wechat.TextMessage(account, user, "几号开学", 3, now)); got.Content == "" {
		t.Errorf("compatible message: %+v", got)
	}
}

// Compatible mode: a ciphertext is checked and used even without
// encrypt_type, so plain fields forged beside it never reach the bot.
func TestCompatModeChecksEveryCiphertext(t *testing.T) {
	e := newEnv(t, nil)
	p := peer(wechat.ModeCompatible)
	q, body, err := p.Seal(wechat.TextMessage(account, user, "真的问题", 7, now))
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Replace(body, []byte("真的问题"), []byte("伪造的问题"), 1)

	noType := cloneQuery(q)
	noType.Del("encrypt_type")
	got := e.post(noType, forged)
	if got.Code != http.StatusOK {
		t.Fatalf("compat body without encrypt_type: %d", got.Code)
	}
	e.bot.mu.Lock()
	text := e.bot.got[len(e.bot.got)-1].Text
	e.bot.mu.Unlock()
	if text != "真的问题" {
		t.Errorf("the bot read %q, want the decrypted 真的问题", text)
	}

	badSig := cloneQuery(noType)
	badSig.Set("msg_signature", strings.Repeat("0", 40))
	if w := e.post(badSig, forged); w.Code != http.StatusForbidden {
		t.Errorf("ciphertext with a wrong msg_signature, no encrypt_type: %d, want 403", w.Code)
	}
	badSig.Del("msg_signature")
	if w := e.post(badSig, forged); w.Code != http.StatusForbidden {
		t.Errorf("ciphertext without msg_signature: %d, want 403", w.Code)
	}
}

// A signed URL reused for another body is refused; the same delivery
// again (WeChat's retry) still gets its stored reply.
func TestReusedSignatureRefused(t *testing.T) {
	rdb, prefix := testredis.New(t)
	e := newEnv(t, func(d *handlers.Deps) {
		d.WeChat.Mode = wechat.ModeNamePlain
		d.Replay = handlers.NewRedisReplay(rdb, prefix)
	})
	p := peer(wechat.ModePlain)
	q, body, err := p.Seal(wechat.TextMessage(account, user, "几号开学", 11, now))
	if err != nil {
		t.Fatal(err)
	}
	if w := e.post(q, body); w.Code != http.StatusOK {
		t.Fatalf("first: %d", w.Code)
	}
	if w := e.post(q, body); w.Code != http.StatusOK {
		t.Errorf("the same delivery again: %d, want 200 (a retry)", w.Code)
	}
	_, other, err := p.Seal(wechat.TextMessage(account, "oSomeoneElse", "退订", 12, now))
	if err != nil {
		t.Fatal(err)
	}
	if w := e.post(q, other); w.Code != http.StatusForbidden {
		t.Errorf("the signed URL with another body: %d, want 403", w.Code)
	}
	if !strings.Contains(e.logText(), `"outcome":"replay"`) {
		t.Error("the reuse is not logged as a replay")
	}
}

// countingReplay is a ReplayGuard that only counts its claims.
type countingReplay struct{ n int }

func (c *countingReplay) Claim(context.Context, string, string, time.Duration) (bool, error) {
	c.n++
	return false, nil
}

// An encrypted message is not claimed (its msg_signature already covers
// all the bot reads: one Redis round trip fewer), and the same signed
// URL can still only bring the same message; plaintext is claimed.
func TestReplayClaimOnlyForPlaintext(t *testing.T) {
	guard := &countingReplay{}
	e := newEnv(t, func(d *handlers.Deps) {
		d.WeChat.Mode = wechat.ModeNameCompat
		d.Replay = guard
	})
	p := peer(wechat.ModeSafe)
	q, body, err := p.Seal(wechat.TextMessage(account, user, "几号开学", 31, now))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if w := e.post(q, body); w.Code != http.StatusOK {
			t.Fatalf("safe delivery %d: %d", i, w.Code)
		}
	}
	if guard.n != 0 {
		t.Errorf("encrypted messages made %d replay claims, want 0", guard.n)
	}
	// Another ciphertext under the same URL fails its msg_signature.
	_, other, err := p.Seal(wechat.TextMessage(account, "oSomeoneElse", "退订", 32, now))
	if err != nil {
		t.Fatal(err)
	}
	if w := e.post(q, other); w.Code != http.StatusForbidden {
		t.Errorf("the signed URL with another ciphertext: %d, want 403", w.Code)
	}
	if got := e.send(peer(wechat.ModePlain), wechat.TextMessage(account, user, "几号开学", 33, now)); got.Content == "" {
		t.Fatalf("plain message in compat mode: %+v", got)
	}
	if guard.n != 1 {
		t.Errorf("a plaintext message made %d replay claims, want 1", guard.n)
	}
}

// Messages to another account (ToUserName ≠ wechat.account_id) get 403.
func TestWrongAccountRefused(t *testing.T) {
	e := newEnv(t, func(d *handlers.Deps) { d.WeChat.AccountID = account })
	for _, mode := range modes {
		p := peer(mode)
		if got := e.send(p, wechat.TextMessage(account, user, "几号开学", 21, now)); got.Content == "" {
			t.Errorf("%s, right account: %+v", mode, got)
		}
		q, body, err := p.Seal(wechat.TextMessage("gh_other", user, "几号开学", 22, now))
		if err != nil {
			t.Fatal(err)
		}
		if w := e.post(q, body); w.Code != http.StatusForbidden {
			t.Errorf("%s, another account: %d, want 403", mode, w.Code)
		}
	}
}

func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Redis down: /readyz stays 200 (the bot answers without Redis) and says
// so in its body, without the address; with require_redis it is 503.
func TestReadinessAndRedis(t *testing.T) {
	down := errors.New("dial tcp 10.1.2.3:6379: i/o timeout")
	for _, require := range []bool{false, true} {
		e := newEnv(t, func(d *handlers.Deps) {
			d.Redis = func(context.Context) error { return down }
			d.RequireRedis = require
		})
		w := e.do(http.MethodGet, "/readyz", nil)
		var body map[string]string
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		want := 200
		if require {
			want = 503
		}
		if w.Code != want || body["redis"] != "unavailable" {
			t.Errorf("require_redis=%v: %d %s, want %d with redis unavailable", require, w.Code, w.Body, want)
		}
		if strings.Contains(w.Body.String(), "10.1.2.3") || strings.Contains(w.Body.String(), "timeout") {
			t.Errorf("the body shows the internal error: %s", w.Body)
		}
	}
	e := newEnv(t, func(d *handlers.Deps) { d.Redis = func(context.Context) error { return nil } })
	if w := e.do(http.MethodGet, "/readyz", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"redis":"ok"`) {
		t.Errorf("redis ok: %d %s", w.Code, w.Body)
	}
}
