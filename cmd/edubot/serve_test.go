package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
)

// startServe runs `edubot serve` on the embedded Redis with dataDir and
// returns its base URL and a stop function that waits for the shutdown.
func startServe(t *testing.T, dataDir string) (string, func()) {
	t.Helper()
	addrs := make(chan string, 1)
	onListen = func(a string) { addrs <- a }
	t.Cleanup(func() { onListen = func(string) {} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- runServe(ctx, []string{"--addr", "127.0.0.1:0", "--data-dir", dataDir}, io.Discard, &logs)
	}()
	select {
	case a := <-addrs:
		return "http://" + a, func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("serve did not stop within 15s of the signal")
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not listen within 30s\n%s", logs.String())
	}
	return "", nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// With the embedded Redis, what staff and users changed — a new FAQ, its
// audit entry, a subscription, a question record — survives a restart.
func TestServeEmbeddedKeepsDataAcrossRestart(t *testing.T) {
	const token = "tester-editor-token-0123456789"
	t.Setenv("EDUBOT_ADMIN_TOKENS", "tester:editor:"+token)
	for _, k := range []string{"EDUBOT_REDIS_ADDRS", "EDUBOT_WECHAT_TOKEN", "EDUBOT_WECHAT_AES_KEY", "EDUBOT_CONTENT"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	peer := &wechat.Peer{Token: config.DevToken, AESKey: config.DevAESKey, AppID: config.DevAppID, Mode: wechat.ModeSafe}
	msgID := time.Now().UnixNano()
	ask := func(t *testing.T, base, user, text string) string {
		t.Helper()
		msgID++
		r, err := peer.Send(context.Background(), base+"/wechat", wechat.TextMessage("gh_test", user, text, msgID, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Articles) > 0 {
			return r.Articles[0].Title
		}
		return r.Content
	}
	admin := func(t *testing.T, method, url, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %s %s", method, url, resp.Status, b)
		}
		return string(b)
	}

	base, stop := startServe(t, dir)
	admin(t, "POST", base+"/admin/api/faqs", `{"id":"faq-uniform-order","question":"冬季校服在哪里订购？","alternates":["冬装校服怎么买"],"answer":"冬季校服由学校统一征订，家长自愿购买，不得强制。","keywords":["校服","冬装"]}`)
	if got := ask(t, base, "o-parent-1", "冬季校服在哪里订购"); !strings.Contains(got, "学校统一征订") {
		t.Fatalf("new FAQ not answered before restart: %q", got)
	}
	if got := ask(t, base, "o-parent-1", "订阅 开学"); !strings.Contains(got, "开学") {
		t.Fatalf("subscribe: %q", got)
	}
	ask(t, base, "o-parent-2", "学校食堂可以带宠物吗")
	stop()

	// Secrets are removed from the environment once read (env:",unset").
	t.Setenv("EDUBOT_ADMIN_TOKENS", "tester:editor:"+token)
	base, stop = startServe(t, dir)
	defer stop()
	if got := ask(t, base, "o-parent-3", "冬季校服在哪里订购"); !strings.Contains(got, "学校统一征订") {
		t.Errorf("FAQ added through the API lost in the restart: %q", got)
	}
	if got := ask(t, base, "o-parent-1", "我的订阅"); !strings.Contains(got, "开学") {
		t.Errorf("subscription lost in the restart: %q", got)
	}
	if audit := admin(t, "GET", base+"/admin/api/audit?item=faq-uniform-order", ""); !strings.Contains(audit, "tester") {
		t.Errorf("audit entry lost in the restart: %s", audit)
	}
	since := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	if un := admin(t, "GET", base+"/admin/api/stats/unanswered?since="+since, ""); !strings.Contains(un, "宠物") {
		t.Errorf("unanswered question lost in the restart: %s", un)
	}
}

// The documented default threshold is the one the matcher was calibrated with.
func TestMatchDefaultsAgree(t *testing.T) {
	d := config.Default().Match
	if d.Threshold != search.DefaultThreshold || d.ChoiceMargin != search.DefaultChoiceMargin {
		t.Errorf("config match defaults %+v, search defaults %v/%v", d, search.DefaultThreshold, search.DefaultChoiceMargin)
	}
}
