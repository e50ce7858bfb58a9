package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/internal/wxfake"
)

func init() {
	commands["wxfake"] = command{summary: "run a fake WeChat API locally, to try broadcasts and menu push", run: runWxfake}
}

// runWxfake serves the fake WeChat API until interrupted, printing every
// call it receives: what WeChat would have been sent.
func runWxfake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wxfake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8099", "listen address")
	appID := fs.String("app-id", "wxfake0000000000", "the fake account's AppID")
	secret := fs.String("secret", "fakesecret", "the fake account's AppSecret")
	account := fs.String("account-type", wxfake.Subscription, "subscription (1 mass send a day) or service (4 a month)")
	var followers multiFlag
	fs.Var(&followers, "follower", "OPENID[:TAG,TAG] a follower who wrote just now (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *account != wxfake.Subscription && *account != wxfake.Service {
		return fmt.Errorf("wxfake: --account-type must be subscription or service, got %q", *account)
	}
	fake := wxfake.NewUnstarted(wxfake.Config{AppID: *appID, AppSecret: *secret, AccountType: *account})
	for _, f := range followers {
		openid, tags, _ := cutTags(f)
		fake.AddFollower(openid, tags...)
		fake.UserMessaged(openid, time.Now())
	}
	fake.OnCall(func(c wxfake.Call) {
		body := strings.ReplaceAll(strings.TrimSpace(string(c.Body)), *secret, "***")
		fmt.Fprintf(stdout, "%s %s %s errcode=%d %s\n", c.Time.Format("15:04:05"), c.Method, c.Path, c.ErrCode, body)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("wxfake: %w", err)
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stderr, `fake WeChat API on %s. Point edubot at it:
  export EDUBOT_WECHAT_API_BASE=%s EDUBOT_WECHAT_APP_ID=%s EDUBOT_WECHAT_APP_SECRET=%s
Control: GET %s/_fake/calls, /_fake/masses, /_fake/menu; POST /_fake/message {"openid":"…","tags":["…"]}; POST /_fake/expire
`, base, base, *appID, *secret, base)
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("wxfake: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cutTags splits "OPENID:TAG,TAG".
func cutTags(s string) (string, []string, bool) {
	openid, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return openid, nil, ok
	}
	return openid, strings.Split(rest, ","), true
}
