package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// runServeLogs starts serve with args and returns its URL, its log and a
// stop function.
func runServeLogs(t *testing.T, args ...string) (string, *syncBuffer, func()) {
	t.Helper()
	addrs := make(chan string, 1)
	onListen = func(a string) { addrs <- a }
	t.Cleanup(func() { onListen = func(string) {} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- runServe(ctx, args, io.Discard, logs) }()
	select {
	case a := <-addrs:
		return "http://" + a, logs, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not listen within 30s\n%s", logs.String())
	}
	return "", nil, nil
}

func clearServeEnv(t *testing.T) {
	for _, k := range []string{"EDUBOT_REDIS_ADDRS", "EDUBOT_WECHAT_TOKEN", "EDUBOT_WECHAT_AES_KEY", "EDUBOT_CONTENT",
		"EDUBOT_ADMIN_TOKENS", "EDUBOT_WECHAT_MODE", "EDUBOT_ADDR", "EDUBOT_CONFIG"} {
		t.Setenv(k, "")
	}
}

// The public development keys (or no admin tokens) never listen beyond
// loopback unless --insecure-dev says so; the keys are never printed.
func TestServeRefusesDevKeysBeyondLoopback(t *testing.T) {
	clearServeEnv(t)
	var logs syncBuffer
	err := runServe(context.Background(), []string{"--addr", "0.0.0.0:0", "--data-dir", t.TempDir()}, io.Discard, &logs)
	if err == nil || !strings.Contains(err.Error(), "development token") || !strings.Contains(err.Error(), "--insecure-dev") {
		t.Fatalf("0.0.0.0 with development keys: %v, want a refusal naming them and --insecure-dev", err)
	}
	t.Setenv("EDUBOT_WECHAT_TOKEN", "a-real-token-0123")
	t.Setenv("EDUBOT_WECHAT_AES_KEY", strings.Repeat("k", 43))
	err = runServe(context.Background(), []string{"--addr", "0.0.0.0:0", "--data-dir", t.TempDir()}, io.Discard, &logs)
	if err == nil || !strings.Contains(err.Error(), "admin tokens") {
		t.Fatalf("0.0.0.0 without admin tokens: %v, want a refusal", err)
	}

	clearServeEnv(t)
	url, out, stop := runServeLogs(t, "--addr", "0.0.0.0:0", "--insecure-dev", "--data-dir", t.TempDir())
	resp, err := http.Get(strings.Replace(url, "0.0.0.0", "127.0.0.1", 1) + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("--insecure-dev: %v %v", resp, err)
	}
	resp.Body.Close()
	stop()
	for _, secret := range []string{config.DevToken, config.DevAESKey} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the log prints a development secret:\n%s", out)
		}
	}
	if !strings.Contains(out.String(), "webhook mode") || !strings.Contains(out.String(), "mode=safe") {
		t.Errorf("the log does not say the webhook mode:\n%s", out)
	}
}

// After a staff edit the store's content wins over --content, and the
// ready line says so instead of naming the folder.
func TestServeReadyLineNamesServedContent(t *testing.T) {
	clearServeEnv(t)
	const token = "tester-editor-token-0123456789"
	t.Setenv("EDUBOT_ADMIN_TOKENS", "tester:editor:"+token)
	t.Setenv("EDUBOT_REDIS_ADDRS", testredis.Addr(t))
	_, prefix := testredis.New(t)
	t.Setenv("EDUBOT_REDIS_PREFIX", prefix)
	folder := "../../testdata/jieyang/content"

	url, logs, stop := runServeLogs(t, "--addr", "127.0.0.1:0", "--content", folder)
	if !strings.Contains(logs.String(), "jieyang/content") {
		t.Fatalf("first start does not name the folder:\n%s", logs)
	}
	req, _ := http.NewRequest("DELETE", url+"/admin/api/notices/n-2020-0207-epidemic-meeting", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 && resp.StatusCode != 204 {
		t.Fatalf("staff edit: %v %v", resp, err)
	}
	resp.Body.Close()
	stop()

	_, logs, stop = runServeLogs(t, "--addr", "127.0.0.1:0", "--content", folder)
	stop()
	var ready string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "edubot ready") {
			ready = l
		}
	}
	if !strings.Contains(ready, "staff edits") || strings.Contains(ready, `content=/`) {
		t.Errorf("ready line after a staff edit names the folder, not what is served:\n%s", ready)
	}
}
