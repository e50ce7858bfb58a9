//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// Three edubot processes on one Redis behind a round-robin proxy, as
// WeChat reaches a deployment: retries of one MsgId land on different
// replicas, a conversation moves between them, an edit on one is answered
// by the others, and a broadcast outlives the replica that started it.
func TestReplicas(t *testing.T) {
	prefix := "e2e:" + testredis.Unique() + ":"
	rdb := testredis.Client(t)
	t.Cleanup(func() { _ = testredis.DeleteMatching(context.Background(), rdb, prefix+"*") })
	fake := wxfakeProc(t)
	wx := "http://" + fake.addr
	var reps []*proc
	for i := range 3 {
		reps = append(reps, edubot(t, fmt.Sprintf("replica-%d", i), prefix, wx))
	}
	lb := newProxy(t, reps...)
	p := peer()
	ctx := context.Background()

	t.Run("a retried MsgId gets one answer from any replica", func(t *testing.T) {
		msg := wechat.TextMessage("gh_edubot", "o-retry", "学校秋季几号开学", 7001, time.Now())
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			got []delivery
		)
		for range 3 { // WeChat's three tries, here at once: the worst case
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := deliver(ctx, p, lb, msg)
				mu.Lock()
				got = append(got, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		backends := map[string]bool{}
		for _, d := range got {
			if d.err != nil || d.status != http.StatusOK {
				t.Fatalf("delivery: %d %v", d.status, d.err)
			}
			backends[d.backend] = true
			if text(d.reply) != text(got[0].reply) {
				t.Errorf("two answers to one message:\n%s\n%s", text(got[0].reply), text(d.reply))
			}
		}
		if len(backends) != 3 {
			t.Errorf("the tries reached %d replicas, want 3", len(backends))
		}
		var dedup float64
		for _, r := range reps {
			dedup += metric(t, r.addr, "edubot_retries_deduplicated_total")
		}
		if dedup != 2 {
			t.Errorf("retries answered from the stored reply = %v, want 2 (one message handled once)", dedup)
		}
	})

	t.Run("a numbered choice offered by one replica is followed on another", func(t *testing.T) {
		var ask delivery
		var label string
		for i, q := range []string{"新生哪天报到", "学校秋季几号开学", "初一新生什么时候报到"} {
			ask = deliver(ctx, p, lb, wechat.TextMessage("gh_edubot", "o-choice", q, 7101+int64(i), time.Now()))
			for _, line := range strings.Split(ask.reply.Content, "\n") {
				if l, ok := strings.CutPrefix(strings.TrimSpace(line), "2. "); ok {
					label = strings.TrimSpace(l)
				}
			}
			if label != "" {
				break
			}
		}
		if label == "" {
			t.Fatalf("no question offered a numbered list; last reply %q", ask.reply.Content)
		}
		pick := deliver(ctx, p, lb, wechat.TextMessage("gh_edubot", "o-choice", "2", 7199, time.Now()))
		if pick.err != nil || pick.backend == ask.backend {
			t.Fatalf("pick: %v, on %s (offered on %s)", pick.err, pick.backend, ask.backend)
		}
		if got := text(pick.reply); !strings.Contains(got, label) || strings.Contains(got, "2. ") {
			t.Errorf("choosing 2 (%s) on %s after the list on %s: %q", label, pick.backend, ask.backend, got)
		}
	})

	t.Run("a content edit on one replica is answered by the others", func(t *testing.T) {
		faq := `{"id":"faq-e2e-uniform","question":"冬季校服在哪里订购？","answer":"冬季校服由学校统一征订，家长自愿购买。","keywords":["校服"]}`
		if code, body := admin(t, reps[0].addr, http.MethodPost, "/faqs", faq); code != http.StatusCreated {
			t.Fatalf("create FAQ: %d %s", code, body)
		}
		for i, r := range reps[1:] {
			deadline := time.Now().Add(5 * time.Second)
			for n := int64(0); ; n++ {
				d := deliver(ctx, p, "http://"+r.addr, wechat.TextMessage("gh_edubot", fmt.Sprintf("o-edit-%d", i), "冬季校服在哪里订购", 7200+int64(i)*100+n, time.Now()))
				if d.err == nil && strings.Contains(text(d.reply), "统一征订") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s never answered the new FAQ (last: %q %v)", r.name, text(d.reply), d.err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	})

	t.Run("a broadcast outlives the replica that started it, each recipient once", func(t *testing.T) {
		const n = 60
		for i := range n {
			openid := fmt.Sprintf("o-sub-%02d", i)
			post(t, wx+"/_fake/message", fmt.Sprintf(`{"openid":%q}`, openid))
			d := deliver(ctx, p, lb, wechat.TextMessage("gh_edubot", openid, "订阅 开学", 7500+int64(i), time.Now()))
			if d.err != nil || !strings.Contains(d.reply.Content, "开学") {
				t.Fatalf("subscribe %s: %v %q", openid, d.err, d.reply.Content)
			}
		}
		code, body := admin(t, reps[0].addr, http.MethodPost, "/broadcasts", `{"notice":"n-term-city","to":"subscribers"}`)
		if code != http.StatusCreated {
			t.Fatalf("create broadcast: %d %s", code, body)
		}
		var job struct {
			ID    string `json:"id"`
			State string `json:"state"`
			Total int    `json:"total"`
			Sent  int    `json:"sent"`
			Fail  int    `json:"failed"`
		}
		_ = json.Unmarshal([]byte(body), &job)
		if code, body := admin(t, reps[0].addr, http.MethodPost, "/broadcasts/"+job.ID+"/confirm", ""); code != http.StatusOK {
			t.Fatalf("confirm: %d %s", code, body)
		}
		// Kill the replica that started it while it is sending (25 a second
		// across replicas: 60 take over two seconds).
		time.Sleep(400 * time.Millisecond)
		reps[0].kill()
		killedAt := time.Now()
		before := 0
		for _, c := range deliveredCounts(t, wx) {
			before += c
		}
		if before == 0 || before >= n {
			t.Fatalf("%d of %d sent when the replica was killed: not mid-job", before, n)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, body := admin(t, reps[1].addr, http.MethodGet, "/broadcasts/"+job.ID, "")
			_ = json.Unmarshal([]byte(body), &job)
			if job.State == "done" || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if job.State != "done" || job.Total != n {
			t.Fatalf("job after the kill: %+v", job)
		}
		_, body = admin(t, reps[2].addr, http.MethodGet, "/broadcasts/"+job.ID+"/results", "")
		var res struct {
			Results map[string]string `json:"results"`
		}
		_ = json.Unmarshal([]byte(body), &res)
		results := res.Results
		delivered := deliveredCounts(t, wx)
		var interrupted []string
		twice := 0
		for i := range n {
			openid := fmt.Sprintf("o-sub-%02d", i)
			switch r := results[openid]; {
			case delivered[openid] > 1:
				twice++
			case r == "sent" && delivered[openid] == 1:
			case r == "failed:interrupted" && delivered[openid] <= 1:
				// Claimed by the killed replica mid-send (WeChat may or may
				// not have it): never sent again by itself.
				interrupted = append(interrupted, openid)
			default:
				t.Errorf("%s: result %q, delivered %d times", openid, r, delivered[openid])
			}
		}
		t.Logf("broadcast of %d: %d sent before the kill, finished %.1f s after it; sent %d, interrupted by the kill %d, delivered twice %d",
			n, before, time.Since(killedAt).Seconds(), job.Sent, len(interrupted), twice)
		if twice != 0 {
			t.Errorf("%d recipients got the broadcast twice", twice)
		}
		if len(interrupted) > 2 { // at most one per worker of the killed replica
			t.Errorf("%d recipients interrupted, want at most the killed replica's 2 in flight", len(interrupted))
		}
		if len(interrupted) == 0 {
			return
		}
		// The publisher chooses to resend to them: each gets it now, some
		// perhaps a second time (the outcome of their first send is unknown).
		code, body = admin(t, reps[1].addr, http.MethodPost, "/broadcasts/"+job.ID+"/resend-interrupted", "")
		if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"queued":%d`, len(interrupted))) {
			t.Fatalf("resend to %v: %d %s", interrupted, code, body)
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			_, body := admin(t, reps[2].addr, http.MethodGet, "/broadcasts/"+job.ID, "")
			_ = json.Unmarshal([]byte(body), &job)
			if (job.State == "done" && job.Fail == 0) || time.Now().After(deadline) {
				break
			}
		}
		delivered = deliveredCounts(t, wx)
		again := 0
		for _, openid := range interrupted {
			if delivered[openid] == 2 {
				again++
			} else if delivered[openid] != 1 {
				t.Errorf("%s delivered %d times after the resend, want 1 or 2", openid, delivered[openid])
			}
		}
		t.Logf("resent to the %d interrupted: %d of them had in fact received the first send", len(interrupted), again)
		if job.State != "done" || job.Fail != 0 || job.Sent != n {
			t.Errorf("job after the resend: %+v, want done with all %d sent", job, n)
		}
	})
}

func admin(t *testing.T, addr, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+"/admin/api"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}

// deliveredCounts reads the fake's log: customer-service messages WeChat
// accepted, per openid.
func deliveredCounts(t *testing.T, wx string) map[string]int {
	t.Helper()
	resp, err := http.Get(wx + "/_fake/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var calls []struct {
		Path    string          `json:"path"`
		Body    json.RawMessage `json:"body"`
		ErrCode int             `json:"errcode"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range calls {
		if c.Path != "/cgi-bin/message/custom/send" || c.ErrCode != 0 {
			continue
		}
		var m struct {
			ToUser string `json:"touser"`
		}
		_ = json.Unmarshal(c.Body, &m)
		out[m.ToUser]++
	}
	return out
}
