package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
)

// load plays many WeChat deliveries at once against a running webhook, as
// WeChat would send them (signed and, by default, encrypted), and reports
// replies a second and latency percentiles. Questions are taken from the
// content set (FAQ questions and alternates, notice titles); every request
// comes from a fresh user so the per-user rate limit does not shape the run.
func init() {
	commands["load"] = command{summary: "load-test a running webhook (127.0.0.1 only) and report replies/s and latency", run: runLoad}
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/wechat", "webhook URL")
	conc := fs.Int("c", 32, "concurrent connections")
	dur := fs.Duration("d", 20*time.Second, "duration")
	mode := fs.String("mode", "safe", "safe | compatible | plain")
	dir := fs.String("content", "", "content folder to take questions from (default: built-in sample)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var m wechat.Mode
	switch *mode {
	case "safe":
		m = wechat.ModeSafe
	case "compatible":
		m = wechat.ModeCompatible
	case "plain":
		m = wechat.ModePlain
	default:
		return fmt.Errorf("load: --mode must be safe, compatible or plain")
	}
	var fsys = sample.FS()
	if *dir != "" {
		fsys = os.DirFS(*dir)
	}
	set, err := content.Load(fsys)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	var questions []string
	for _, f := range set.FAQs {
		questions = append(questions, f.Question)
		questions = append(questions, f.Alternates...)
	}
	for _, n := range set.Notices {
		questions = append(questions, n.Title)
	}
	if len(questions) == 0 {
		return errors.New("load: the content has no questions")
	}
	token, aesKey, appID := os.Getenv("EDUBOT_WECHAT_TOKEN"), os.Getenv("EDUBOT_WECHAT_AES_KEY"), os.Getenv("EDUBOT_WECHAT_APP_ID")
	if token == "" {
		token, aesKey = config.DevToken, config.DevAESKey
	}
	if appID == "" {
		appID = config.DevAppID
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConns: *conc, MaxIdleConnsPerHost: *conc},
	}
	peer := &wechat.Peer{Token: token, AESKey: aesKey, AppID: appID, Mode: m, Client: client}

	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var (
		seq      atomic.Int64
		firstErr atomic.Value
		errs     atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		kinds    = map[string]int{}
		wg       sync.WaitGroup
		start    = time.Now()
		runTag   = time.Now().UnixNano()
	)
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			mk := map[string]int{}
			for ctx.Err() == nil {
				n := seq.Add(1)
				q := questions[int(n)%len(questions)]
				user := fmt.Sprintf("load-%d-%d", runTag, n)
				t0 := time.Now()
				r, err := peer.Send(ctx, *url, wechat.TextMessage("gh_edubot", user, q, runTag+n, time.Now()))
				if ctx.Err() != nil {
					break
				}
				if err != nil {
					if errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				mine = append(mine, time.Since(t0))
				switch {
				case r.Success:
					mk["success"]++
				default:
					mk[r.MsgType]++
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			for k, v := range mk {
				kinds[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(lat) == 0 {
		return fmt.Errorf("load: no successful reply (%d errors)", errs.Load())
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Fprintf(stdout, "%s mode, %d connections, %s: %d replies, %.0f replies/s, %d errors\n",
		m, *conc, elapsed.Round(time.Millisecond), len(lat), float64(len(lat))/elapsed.Seconds(), errs.Load())
	fmt.Fprintf(stdout, "latency p50 %s  p90 %s  p99 %s  max %s\n",
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	if e, ok := firstErr.Load().(string); ok {
		fmt.Fprintf(stdout, "first error: %s\n", e)
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(stdout, "  %-8s %d\n", k, kinds[k])
	}
	return nil
}
