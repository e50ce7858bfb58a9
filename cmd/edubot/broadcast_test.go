package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

// cliEnv points the CLI at the test Redis (own prefix) and a fake WeChat API.
func cliEnv(t *testing.T) (*wxfake.Server, string) {
	t.Helper()
	fake := wxfake.New(wxfake.Config{})
	t.Cleanup(fake.Close)
	_, prefix := testredis.New(t)
	t.Setenv("EDUBOT_CONFIG", "")
	testredis.SetServeEnv(t)
	t.Setenv("EDUBOT_REDIS_PREFIX", prefix)
	t.Setenv("EDUBOT_WECHAT_API_BASE", fake.URL)
	t.Setenv("EDUBOT_WECHAT_APP_ID", fake.Config().AppID)
	t.Setenv("EDUBOT_LOG_LEVEL", "warn")
	appSecret = fake.Config().AppSecret
	return fake, prefix
}

// appSecret is set again before every run: config unsets secret variables
// once read, so they do not leak into child processes.
var appSecret string

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	t.Setenv("EDUBOT_WECHAT_APP_SECRET", appSecret)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, args, &out, &errOut)
	if err != nil {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

func TestMenuPush(t *testing.T) {
	fake, _ := cliEnv(t)
	out, err := runCLI(t, "menu", "push", "--file", "../../configs/menu.yaml", "--dry-run")
	if err != nil || !strings.Contains(out, `"sub_button"`) || strings.Contains(out, `"content"`) {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if fake.Menu() != nil || len(fake.Calls()) != 0 {
		t.Fatal("a dry run called WeChat")
	}
	out, err = runCLI(t, "menu", "push", "--file", "../../configs/menu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Button []struct {
			Name      string `json:"name"`
			SubButton []struct {
				Type, Name, Key, URL string
			} `json:"sub_button"`
		} `json:"button"`
	}
	if err := json.Unmarshal(fake.Menu(), &got); err != nil || len(got.Button) == 0 {
		t.Fatalf("menu WeChat received: %s (%v)", fake.Menu(), err)
	}
	if !strings.Contains(out, "pushed") || got.Button[0].SubButton[0].Key == "" {
		t.Errorf("out %q, menu %+v", out, got)
	}
	if c := fake.Calls(wxfake.PathMenuCreate); len(c) != 1 || c[0].ErrCode != 0 {
		t.Errorf("menu/create calls: %+v", c)
	}
	// A menu WeChat would refuse is refused before it is sent.
	bad := t.TempDir() + "/menu.yaml"
	writeFile(t, bad, "button:\n  - name: 这个名字实在是太长了啊\n    type: click\n    key: K\n    action: help\n")
	if _, err := runCLI(t, "menu", "push", "--file", bad); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("long name: %v", err)
	}
}

func TestBroadcastCLI(t *testing.T) {
	fake, prefix := cliEnv(t)
	rdb, _ := testredis.New(t)
	ctx := context.Background()
	st := store.New(rdb, prefix, store.Options{})
	n := &content.Notice{ID: "n-2026-0901-reopen", Title: "台风过后各校复课安排", Date: content.Date{Time: time.Now()},
		Source: "揭阳市教育局", URL: "https://edu.example.org/n/reopen", Summary: "各校周三起恢复上课。",
		Tags: []string{"开学"}, Body: "各校周三起恢复上课。"}
	if err := st.PutNotice(ctx, "test", n, store.Upsert); err != nil {
		t.Fatal(err)
	}
	users := redisstore.New(rdb, prefix)
	for _, u := range []string{"o-parent1", "o-parent2"} {
		fake.AddFollower(u)
		fake.UserMessaged(u, time.Now())
		if _, err := users.Load(ctx, u, time.Now(), 7*24*time.Hour); err != nil { // the user writes
			t.Fatal(err)
		}
		if err := users.Subscribe(ctx, u, "开学", time.Now(), 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	fake.AddFollower("tester")

	out, err := runCLI(t, "broadcast", "--notice", n.ID, "--to", "subscribers", "--as", "li")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "done, 2 of 2: sent 2") {
		t.Errorf("output:\n%s", out)
	}
	if d := fake.Delivered(); d["o-parent1"] != 1 || d["o-parent2"] != 1 {
		t.Errorf("delivered %v", d)
	}

	out, err = runCLI(t, "broadcast", "--notice", n.ID, "--to", "all", "--preview", "tester")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`--confirm (b[0-9a-f-]+)`).FindStringSubmatch(out)
	if m == nil || len(fake.Calls(wxfake.PathMassPreview)) != 1 || len(fake.Masses()) != 0 {
		t.Fatalf("preview step:\n%s", out)
	}
	out, err = runCLI(t, "broadcast", "--confirm", m[1])
	if err != nil || !strings.Contains(out, "WeChat accepted") || len(fake.Masses()) != 1 {
		t.Fatalf("confirm step: %v\n%s", err, out)
	}
	out, err = runCLI(t, "broadcast", "--status", m[1])
	if err != nil || !strings.Contains(out, `"state": "submitted"`) {
		t.Errorf("status: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "broadcast", "--notice", n.ID, "--to", "all", "--preview", "tester"); err == nil || !strings.Contains(err.Error(), "订阅号") {
		t.Errorf("second mass send today: %v", err)
	}
	if _, err := runCLI(t, "broadcast", "--notice", n.ID); err == nil {
		t.Error("--notice without --to accepted")
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
