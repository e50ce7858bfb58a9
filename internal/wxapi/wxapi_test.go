package wxapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

func newClient(t *testing.T, fake *wxfake.Server, prefix string) *Client {
	t.Helper()
	rdb, _ := testredis.New(t)
	c, err := New(Options{AppID: fake.Config().AppID, AppSecret: fake.Config().AppSecret, BaseURL: fake.URL,
		Timeout: 2 * time.Second, Redis: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setup(t *testing.T) (*wxfake.Server, *Client, string) {
	fake := wxfake.New(wxfake.Config{})
	t.Cleanup(fake.Close)
	_, prefix := testredis.New(t)
	return fake, newClient(t, fake, prefix), prefix
}

func TestReplicasShareOneStableToken(t *testing.T) {
	fake, _, prefix := setup(t)
	fake.AddFollower("o1")
	fake.UserMessaged("o1", time.Now())
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ { // four replicas, each with its own client
		c := newClient(t, fake, prefix)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.SendText(context.Background(), "o1", "hi"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(fake.Calls(wxfake.PathStableToken)); n != 1 {
		t.Errorf("stable_token fetched %d times by 4 replicas, want 1", n)
	}
	if n := len(fake.Calls(wxfake.PathToken)); n != 0 {
		t.Errorf("classic token endpoint called %d times; it would rotate other systems' tokens", n)
	}
}

func TestExpiredOrRevokedTokenRefreshedOnceAndRetried(t *testing.T) {
	for name, spoil := range map[string]func(*wxfake.Server){
		"expired 42001": (*wxfake.Server).ExpireTokens,
		"revoked 40001": (*wxfake.Server).RevokeTokens,
	} {
		t.Run(name, func(t *testing.T) {
			fake, c, _ := setup(t)
			fake.AddFollower("o1")
			fake.UserMessaged("o1", time.Now())
			ctx := context.Background()
			if err := c.SendText(ctx, "o1", "one"); err != nil {
				t.Fatal(err)
			}
			spoil(fake)
			if err := c.SendText(ctx, "o1", "two"); err != nil {
				t.Fatalf("after token loss: %v", err)
			}
			calls := fake.Calls(wxfake.PathCustomSend)
			if len(calls) != 3 || calls[1].ErrCode == 0 || calls[2].ErrCode != 0 {
				t.Fatalf("want send ok, send refused, send ok; got %+v", calls)
			}
			if calls[1].Token() == calls[2].Token() {
				t.Error("retry used the refused token")
			}
			if d := fake.Delivered()["o1"]; d != 2 {
				t.Errorf("delivered %d messages, want 2", d)
			}
		})
	}
}

func TestRefusedTokenStillReturnedIsForceRefreshed(t *testing.T) {
	fake, c, _ := setup(t)
	fake.AddFollower("o1")
	fake.UserMessaged("o1", time.Now())
	ctx := context.Background()
	if err := c.SendText(ctx, "o1", "one"); err != nil {
		t.Fatal(err)
	}
	// WeChat refuses the token once although stable_token still hands it out.
	fake.InjectError(wxfake.PathCustomSend, wxfake.CodeInvalidToken)
	if err := c.SendText(ctx, "o1", "two"); err != nil {
		t.Fatal(err)
	}
	var forced bool
	for _, call := range fake.Calls(wxfake.PathStableToken) {
		forced = forced || string(call.Body) != "" && strings.Contains(string(call.Body), `"force_refresh":true`)
	}
	if !forced {
		t.Error("no force_refresh after the same token was refused")
	}
}

func TestOnlyOneRetry(t *testing.T) {
	fake, c, _ := setup(t)
	fake.AddFollower("o1")
	fake.UserMessaged("o1", time.Now())
	fake.InjectError(wxfake.PathCustomSend, wxfake.CodeTokenExpired, wxfake.CodeTokenExpired)
	err := c.SendText(context.Background(), "o1", "x")
	if !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("err = %v, want ErrTokenInvalid after one retry", err)
	}
	if n := len(fake.Calls(wxfake.PathCustomSend)); n != 2 {
		t.Errorf("%d send attempts, want 2", n)
	}
}

func TestClearErrors(t *testing.T) {
	fake, c, _ := setup(t)
	ctx := context.Background()
	fake.AddFollower("o1")
	fake.UserMessaged("o1", time.Now())
	if err := c.SendText(ctx, "nobody", "x"); !errors.Is(err, ErrInvalidOpenID) {
		t.Errorf("bad openid: %v", err)
	}
	fake.SetAPIQuota(wxfake.PathCustomSend, 0)
	if err := c.SendText(ctx, "o1", "x"); !errors.Is(err, ErrAPIQuota) || !Fatal(err) || Code(err) != 45009 {
		t.Errorf("quota: %v", err)
	}
	fake.SetUnauthorized(wxfake.PathMassSendAll, true)
	if _, err := c.MassSendText(ctx, MassTarget{ToAll: true}, "x", "c1"); !errors.Is(err, ErrUnauthorized) || !Fatal(err) {
		t.Errorf("unauthorised: %v", err)
	}
	fake.SetIPWhitelisted(false)
	c2 := newClient(t, fake, testredisPrefix(t))
	if _, err := c2.Token(ctx); !errors.Is(err, ErrIPWhitelist) {
		t.Errorf("whitelist: %v", err)
	}
}

func TestWrongSecretIsReported(t *testing.T) {
	fake := wxfake.New(wxfake.Config{})
	t.Cleanup(fake.Close)
	rdb, prefix := testredis.New(t)
	c, err := New(Options{AppID: fake.Config().AppID, AppSecret: "wrong", BaseURL: fake.URL, Redis: rdb, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Token(context.Background()); Code(err) != 40001 {
		t.Errorf("err = %v, want errcode 40001", err)
	}
}

func TestMassSendClientMsgIDIsIdempotent(t *testing.T) {
	fake, c, _ := setup(t)
	fake.AddFollower("o1")
	fake.AddFollower("o2")
	ctx := context.Background()
	id1, err := c.MassSendText(ctx, MassTarget{ToAll: true}, "通知", "job-1")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.MassSendText(ctx, MassTarget{ToAll: true}, "通知", "job-1")
	if err != nil || id2 != id1 {
		t.Fatalf("retry: id %d err %v, want %d", id2, err, id1)
	}
	if n := len(fake.Masses()); n != 1 {
		t.Errorf("%d mass sends accepted, want 1", n)
	}
	// The subscription account's daily quota is now used.
	if _, err := c.MassSendText(ctx, MassTarget{ToAll: true}, "再一条", "job-2"); !errors.Is(err, ErrMassQuota) {
		t.Errorf("second send of the day: %v, want ErrMassQuota", err)
	}
}

func TestBadBaseURL(t *testing.T) {
	rdb, _ := testredis.New(t)
	if _, err := New(Options{AppID: "a", AppSecret: "b", BaseURL: "api.weixin.qq.com", Redis: rdb}); err == nil {
		t.Error("accepted a base URL without scheme")
	}
	if _, err := New(Options{AppID: "a", Redis: rdb}); err == nil {
		t.Error("accepted a missing app secret")
	}
}

func testredisPrefix(t *testing.T) string {
	_, p := testredis.New(t)
	return p
}
