//go:build e2e

// Package e2e runs the built edubot binary as separate processes against
// a real Redis Cluster or Sentinel setup: replicas behind a round-robin
// proxy, and masters failed over and killed under load. It needs what
// scripts/test-cluster.sh provides (build tag e2e; EDUBOT_E2E_BIN, the
// test Redis variables of internal/testredis, EDUBOT_E2E_PORT_BASE).
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

const (
	adminToken = "e2e-publisher-token-0123456789"
	appSecret  = "fakesecret"
	appID      = "wxfake0000000000"
)

// ports hands out loopback ports: from EDUBOT_E2E_PORT_BASE upwards, or
// free ones the kernel picks.
var ports struct {
	mu   sync.Mutex
	next int
}

func port(t *testing.T) int {
	t.Helper()
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if ports.next == 0 {
		if b, err := strconv.Atoi(os.Getenv("EDUBOT_E2E_PORT_BASE")); err == nil && b > 0 {
			ports.next = b
		} else {
			ports.next = -1
		}
	}
	if ports.next > 0 {
		p := ports.next
		ports.next++
		return p
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func binary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("EDUBOT_E2E_BIN")
	if bin == "" {
		t.Fatal("EDUBOT_E2E_BIN is not set: run scripts/test-cluster.sh")
	}
	return bin
}

func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// proc is a process the test started; it is killed when the test ends.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	addr string
	done chan struct{}
}

func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// The process dies with the test binary, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			t.Logf("last lines of %s's log:\n%s", name, strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
	})
	return p
}

func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// edubot starts `edubot serve` on the test Redis and waits until /readyz
// says it is ready.
func edubot(t *testing.T, name, prefix, wxBase string, extra ...string) *proc {
	t.Helper()
	tg := testredis.Get(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port(t))
	env := []string{
		"EDUBOT_ADDR=" + addr,
		"EDUBOT_REDIS_ADDRS=" + strings.Join(tg.Addrs, ","),
		"EDUBOT_REDIS_MASTER_NAME=" + tg.MasterName,
		"EDUBOT_REDIS_PREFIX=" + prefix,
		"EDUBOT_LOG_LEVEL=warn",
		"EDUBOT_CONFIG=",
		"EDUBOT_CONTENT=" + filepath.Join(repoRoot(t), "bot", "testdata", "content"),
		"EDUBOT_ADMIN_TOKENS=e2e:publisher:" + adminToken,
		"EDUBOT_WECHAT_APP_ID=" + appID,
	}
	if wxBase != "" {
		env = append(env, "EDUBOT_WECHAT_API_BASE="+wxBase, "EDUBOT_WECHAT_APP_SECRET="+appSecret, "EDUBOT_WECHAT_API_TIMEOUT=2s",
			"EDUBOT_BROADCAST_CLAIM_IDLE=2s", "EDUBOT_BROADCAST_RATE_PER_SECOND=25")
	}
	p := start(t, name, append(env, extra...), "serve")
	p.addr = addr
	waitHTTP(t, p, "http://"+addr+"/readyz", 20*time.Second)
	return p
}

// wxfakeProc starts `edubot wxfake`.
func wxfakeProc(t *testing.T) *proc {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port(t))
	p := start(t, "wxfake", nil, "wxfake", "--addr", addr, "--app-id", appID, "--secret", appSecret)
	p.addr = addr
	waitHTTP(t, p, "http://"+addr+"/_fake/calls", 10*time.Second)
	return p
}

func waitHTTP(t *testing.T, p *proc, u string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready", p.name)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s within %s (last: %v)", p.name, u, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// roundRobin is the load balancer: each request goes to the next backend.
type roundRobin struct {
	backends []*httputil.ReverseProxy
	names    []string
	n        atomic.Uint64
	mu       sync.Mutex
	served   map[string]int
}

func newProxy(t *testing.T, backends ...*proc) string {
	t.Helper()
	rr := &roundRobin{served: map[string]int{}}
	for _, b := range backends {
		u, _ := url.Parse("http://" + b.addr)
		rr.backends = append(rr.backends, httputil.NewSingleHostReverseProxy(u))
		rr.names = append(rr.names, b.name)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port(t))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rr, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + addr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(rr.n.Add(1)-1) % len(rr.backends)
	w.Header().Set("X-Backend", rr.names[i])
	rr.backends[i].ServeHTTP(w, r)
}

// peer plays WeChat with the development keys serve uses when none are
// set, for the fake account (the AppID is in every encrypted message).
func peer() *wechat.Peer {
	return &wechat.Peer{Token: config.DevToken, AESKey: config.DevAESKey, AppID: appID, Mode: wechat.ModeSafe,
		Client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// delivery is one POST as WeChat makes it: the status, the reply as the
// phone shows it, and which backend answered.
type delivery struct {
	status  int
	reply   wechat.Received
	backend string
	took    time.Duration
	err     error
}

func deliver(ctx context.Context, p *wechat.Peer, base string, msg wechat.Outgoing) delivery {
	q, body, err := p.Seal(msg)
	if err != nil {
		return delivery{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/wechat?"+q.Encode(), strings.NewReader(string(body)))
	if err != nil {
		return delivery{err: err}
	}
	req.Header.Set("Content-Type", "text/xml")
	t0 := time.Now()
	resp, err := p.Client.Do(req)
	d := delivery{took: time.Since(t0)}
	if err != nil {
		d.err = err
		return d
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	d.took = time.Since(t0)
	d.status, d.backend = resp.StatusCode, resp.Header.Get("X-Backend")
	if err != nil {
		d.err = err
		return d
	}
	if resp.StatusCode == http.StatusOK {
		d.reply, d.err = p.Open(raw)
	}
	return d
}

func text(r wechat.Received) string {
	if len(r.Articles) > 0 {
		return r.Articles[0].Title + " " + r.Articles[0].Description
	}
	return r.Content
}

// metric sums a counter over every label set in a /metrics page.
func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != ' ' && line[len(name)] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum
}
