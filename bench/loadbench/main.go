// Command loadbench measures edubot against a bare echo server in one
// interleaved run, all on 127.0.0.1: it builds edubot and bench/echo,
// starts the echo server, edubot on a real redis-server and edubot on the
// embedded Redis (the default), drives each with the same signed,
// encrypted load (`edubot load`: many users, 32 connections, the
// repetitive real-world mix and a mix where every message is unique),
// rounds interleaved, and prints the medians:
//
//	server | req/s | ratio to the echo | p50 | p99 | server CPU a reply | over 5 s | errors
//
// Run it from the repository: `make loadbench` (or go run ./bench/loadbench).
// -smoke is the short run CI does: it fails on errors, never on speed.
// -profile DIR saves a CPU profile of each edubot under the load (through
// the admin pprof endpoint) for `go tool pprof -top`.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// report is what `edubot load --json` prints (cmd/edubot/load.go).
type report struct {
	Replies   int     `json:"replies"`
	PerSecond float64 `json:"per_second"`
	Errors    int64   `json:"errors"`
	FirstErr  string  `json:"first_error"`
	Over5s    int     `json:"over_5s"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	CPUms     float64 `json:"-"` // the server's CPU time per reply (Linux: /proc)
}

// server is one system under test.
type server struct {
	name string
	url  string
	proc *proc
	log  string
	runs map[string][]report // by mix
	base string              // admin base URL ("": no profiles)
}

type options struct {
	rounds  int
	dur     time.Duration
	conns   int
	users   int
	content string
	mixes   []string
	profile string
	smoke   bool
	keep    bool
}

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 3, "rounds (each runs every server on every mix; medians are reported)")
	flag.DurationVar(&o.dur, "d", 8*time.Second, "duration of one load run")
	flag.IntVar(&o.conns, "c", 32, "concurrent connections")
	flag.IntVar(&o.users, "users", 20000, "distinct users")
	flag.StringVar(&o.content, "content", "testdata/jieyang/content", "content folder edubot serves and questions are drawn from")
	mixes := flag.String("mix", "repetitive,unique", "query mixes (see edubot load --mix)")
	flag.StringVar(&o.profile, "profile", "", "save CPU profiles of each edubot under load into this folder")
	flag.BoolVar(&o.smoke, "smoke", false, "short run for CI: fails on errors, not on speed")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (binaries, logs)")
	flag.Parse()
	o.mixes = strings.Split(*mixes, ",")
	if o.smoke {
		o.rounds, o.dur, o.conns, o.users = 1, 1500*time.Millisecond, 8, 500
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) (err error) {
	tmp, err := os.MkdirTemp("", "edubot-loadbench-")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep || err != nil {
			fmt.Fprintln(os.Stderr, "loadbench: files kept in", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()
	edubot, echo := filepath.Join(tmp, "edubot"), filepath.Join(tmp, "echo")
	fmt.Fprintln(os.Stderr, "loadbench: building edubot and bench/echo")
	if err := goBuild(ctx, edubot, "./cmd/edubot", "-tags", "ne"); err != nil {
		return err
	}
	if err := goBuild(ctx, echo, "./bench/echo"); err != nil {
		return err
	}

	var servers []*server
	defer func() {
		for _, s := range servers {
			s.proc.stop()
		}
	}()
	adminToken := randomHex(16)
	start := func(name, bin string, args []string, env []string, addr string) error {
		s := &server{name: name, url: "http://" + addr + "/wechat", log: filepath.Join(tmp, slug(name)+".log"), runs: map[string][]report{}}
		logf, err := os.Create(s.log)
		if err != nil {
			return err
		}
		defer logf.Close()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdout, cmd.Stderr = logf, logf
		if s.proc, err = startProc(cmd); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		servers = append(servers, s)
		if err := waitHTTP(ctx, "http://"+addr+"/healthz", 60*time.Second); err != nil {
			return fmt.Errorf("%s did not come up (log: %s): %w", name, s.log, err)
		}
		if strings.HasPrefix(name, "edubot") && o.profile != "" {
			s.base = "http://" + addr + "/admin/api"
		}
		return nil
	}

	echoAddr := freeAddr()
	if err := start("gin + silenceper echo", echo, []string{"-addr", echoAddr}, nil, echoAddr); err != nil {
		return err
	}
	edubotEnv := []string{
		"EDUBOT_LOG_LEVEL=warn", "EDUBOT_ADMIN_PPROF=true",
		"EDUBOT_ADMIN_TOKENS=bench:publisher:" + adminToken,
		// The content set's dates are of November 2026: answers as then.
		"EDUBOT_NOW=2026-11-22",
		// Don't let the rate limit shape the run: a user sends a few
		// messages a run at most anyway.
		"EDUBOT_BOT_RATE_PER_MINUTE=1000",
	}
	content, err := filepath.Abs(o.content)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench: no redis-server on PATH: skipping edubot on real Redis")
	} else {
		redisAddr := freeAddr()
		_, port, _ := net.SplitHostPort(redisAddr)
		rcmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp)
		rcmd.Stdout, rcmd.Stderr = io.Discard, io.Discard
		rp, err := startProc(rcmd)
		if err != nil {
			return fmt.Errorf("redis-server: %w", err)
		}
		defer rp.stop()
		if err := waitTCP(ctx, redisAddr, 10*time.Second); err != nil {
			return fmt.Errorf("redis-server: %w", err)
		}
		addr := freeAddr()
		env := append(slices.Clone(edubotEnv), "EDUBOT_REDIS_ADDRS="+redisAddr)
		if err := start("edubot, real Redis", edubot, []string{"serve", "--addr", addr, "--content", content}, env, addr); err != nil {
			return err
		}
	}
	addr := freeAddr()
	if err := start("edubot, embedded Redis", edubot,
		[]string{"serve", "--addr", addr, "--content", content, "--data-dir", filepath.Join(tmp, "data")}, edubotEnv, addr); err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "loadbench: %d rounds × %d mixes × %d servers × %s, %d connections, %d users\n",
		o.rounds, len(o.mixes), len(servers), o.dur, o.conns, o.users)
	// Warm up (first requests load lazily built tables); not counted.
	warm := o
	warm.dur = min(o.dur/4, 2*time.Second)
	for _, s := range servers {
		if _, err := load(ctx, edubot, s.url, o.mixes[0], content, warm, 100); err != nil {
			return fmt.Errorf("%s: warm-up: %w", s.name, err)
		}
	}
	for r := 0; r < o.rounds; r++ {
		for _, mix := range o.mixes {
			// A different order each round, so no server always runs
			// right after another one's load.
			for i := range servers {
				s := servers[(i+r)%len(servers)]
				var prof chan error
				if o.profile != "" && s.base != "" && r == o.rounds-1 {
					prof = make(chan error, 1)
					go func() {
						prof <- cpuProfile(ctx, s.base, adminToken, o.dur-time.Second,
							filepath.Join(o.profile, "cpu-"+slug(s.name)+"-"+mix+".pprof"))
					}()
				}
				cpu0 := cpuTime(s.proc)
				rep, err := load(ctx, edubot, s.url, mix, content, o, int64(r))
				if err != nil {
					return fmt.Errorf("%s, %s mix: %w", s.name, mix, err)
				}
				if cpu0 >= 0 && rep.Replies > 0 {
					rep.CPUms = float64((cpuTime(s.proc) - cpu0).Microseconds()) / 1000 / float64(rep.Replies)
				}
				if prof != nil {
					if err := <-prof; err != nil {
						return fmt.Errorf("%s: profile: %w", s.name, err)
					}
				}
				fmt.Fprintf(os.Stderr, "  round %d %-10s %-24s %7.0f req/s  p50 %6.2f ms  p99 %7.2f ms  CPU %.2f ms/reply  errors %d\n",
					r+1, mix, s.name, rep.PerSecond, rep.P50ms, rep.P99ms, rep.CPUms, rep.Errors)
				s.runs[mix] = append(s.runs[mix], rep)
			}
		}
	}
	for _, s := range servers {
		if s.proc.exited() {
			return fmt.Errorf("%s exited during the run (log: %s)", s.name, s.log)
		}
	}
	return table(out, servers, o)
}

// load runs `edubot load` once against url.
func load(ctx context.Context, edubot, url, mix, content string, o options, round int64) (report, error) {
	args := []string{"load", "--url", url, "--mix", mix, "--users", strconv.Itoa(o.users),
		"-c", strconv.Itoa(o.conns), "-d", o.dur.String(), "--content", content, "--json",
		"--seed", strconv.FormatInt(round+1, 10)}
	cctx, cancel := context.WithTimeout(ctx, o.dur+30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(cctx, edubot, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return report{}, fmt.Errorf("edubot load: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return report{}, fmt.Errorf("edubot load output: %w", err)
	}
	return rep, nil
}

// table prints the medians, one table per mix, and fails on errors.
func table(out io.Writer, servers []*server, o options) error {
	fmt.Fprintf(out, "\n%d rounds interleaved, medians; %s a run, %d connections, %d users, safe mode, 127.0.0.1\n",
		o.rounds, o.dur, o.conns, o.users)
	var bad []string
	for _, mix := range o.mixes {
		fmt.Fprintf(out, "\n%s mix\n\n", mix)
		fmt.Fprintln(out, "| server | req/s | ratio to the echo | p50 | p99 | server CPU a reply | replies over 5 s | errors |")
		fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|")
		echo := median(servers[0].runs[mix], func(r report) float64 { return r.PerSecond })
		for _, s := range servers {
			runs := s.runs[mix]
			rate := median(runs, func(r report) float64 { return r.PerSecond })
			var over, errs int64
			for _, r := range runs {
				over += int64(r.Over5s)
				errs += r.Errors
				if r.Errors > 0 || r.Replies == 0 {
					bad = append(bad, fmt.Sprintf("%s, %s mix: %d errors, %d replies (first error: %s)", s.name, mix, r.Errors, r.Replies, r.FirstErr))
				}
			}
			fmt.Fprintf(out, "| %s | %.0f | %.2f | %.1f ms | %.1f ms | %.2f ms | %d | %d |\n", s.name, rate, rate/echo,
				median(runs, func(r report) float64 { return r.P50ms }),
				median(runs, func(r report) float64 { return r.P99ms }),
				median(runs, func(r report) float64 { return r.CPUms }), over, errs)
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func median(rs []report, f func(report) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// cpuProfile saves a CPU profile of d taken through the admin endpoint.
func cpuProfile(ctx context.Context, base, token string, d time.Duration, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	secs := max(1, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func goBuild(ctx context.Context, out, pkg string, flags ...string) error {
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// freeAddr is a loopback address with a port free right now.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitHTTP(ctx context.Context, url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", url, d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func waitTCP(ctx context.Context, addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cpuTime is the user+system CPU time p has used so far (Linux, from
// /proc; -1 elsewhere). CPU a reply is steadier than replies a second on a
// shared machine: it does not count the time the server waited for a core.
func cpuTime(p *proc) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(u+st) * 10 * time.Millisecond
}

// proc is a started child process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the child: SIGTERM, then SIGKILL after 10 s.
func (p *proc) stop() {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func slug(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer(" + ", "-", ", ", "-", " ", "-").Replace(s)
	return s
}
