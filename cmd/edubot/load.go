package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
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
// content set (FAQ questions and alternates, notice titles). The mix says
// how they are drawn: "repetitive" is real traffic (a few questions asked
// by very many, Zipf-distributed), "unique" makes every message's text
// different, "cycle" takes them in turn. Messages come from --users
// distinct users (0: a fresh user for every message).
func init() {
	commands["load"] = command{summary: "load-test a running webhook (127.0.0.1 only) and report replies/s and latency", run: runLoad}
}

// loadReport is what load prints with --json.
type loadReport struct {
	Mode      string         `json:"mode"`
	Mix       string         `json:"mix"`
	Conns     int            `json:"conns"`
	Users     int            `json:"users"`
	Seconds   float64        `json:"seconds"`
	Replies   int            `json:"replies"`
	PerSecond float64        `json:"per_second"`
	Errors    int64          `json:"errors"`
	FirstErr  string         `json:"first_error,omitempty"`
	Over5s    int            `json:"over_5s"`
	P50ms     float64        `json:"p50_ms"`
	P90ms     float64        `json:"p90_ms"`
	P99ms     float64        `json:"p99_ms"`
	MaxMs     float64        `json:"max_ms"`
	Kinds     map[string]int `json:"kinds"`
}

// uniqueNames make a message's text unique without changing what it asks:
// a signature of a made-up name (surname + two given characters), as people
// sign messages. 24×32×32 names, and a counter beyond that.
var (
	surnames = []rune("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华")
	given    = []rune("子涵欣怡梓萱诗雨晨浩宇轩然博文思远嘉琪俊熙睿泽佳一可心若依沐阳景天明")
)

func uniqueName(n int64) string {
	var b strings.Builder
	b.WriteRune(surnames[n%int64(len(surnames))])
	n /= int64(len(surnames))
	b.WriteRune(given[n%int64(len(given))])
	n /= int64(len(given))
	b.WriteRune(given[n%int64(len(given))])
	n /= int64(len(given))
	if n > 0 {
		fmt.Fprintf(&b, "%d", n)
	}
	return b.String()
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/wechat", "webhook URL")
	conc := fs.Int("c", 32, "concurrent connections")
	dur := fs.Duration("d", 20*time.Second, "duration")
	mode := fs.String("mode", "safe", "safe | compatible | plain")
	dir := fs.String("content", "", "content folder to take questions from (default: built-in sample)")
	mix := fs.String("mix", "cycle", "how questions are drawn: repetitive (Zipf, like real traffic) | unique (every text differs) | cycle")
	users := fs.Int("users", 0, "distinct users sending (0: a fresh user for every message)")
	seed := fs.Uint64("seed", 1, "random seed of the repetitive mix")
	asJSON := fs.Bool("json", false, "print the report as JSON")
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
		return errors.New("load: --mode must be safe, compatible or plain")
	}
	switch *mix {
	case "repetitive", "unique", "cycle":
	default:
		return errors.New("load: --mix must be repetitive, unique or cycle")
	}
	if *users < 0 || *conc <= 0 {
		return errors.New("load: --users must be ≥ 0 and -c > 0")
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
	// The repetitive mix: a fixed shuffle (so the popular questions are
	// not all of one kind) drawn with a Zipf law (s = 1.1).
	rng := rand.New(rand.NewPCG(*seed, 7))
	rng.Shuffle(len(questions), func(i, j int) { questions[i], questions[j] = questions[j], questions[i] })
	cdf := make([]float64, len(questions))
	total := 0.0
	for i := range questions {
		total += 1 / math.Pow(float64(i+1), 1.1)
		cdf[i] = total
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
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(*seed, uint64(w)+100))
			var mine []time.Duration
			mk := map[string]int{}
			for ctx.Err() == nil {
				n := seq.Add(1)
				var q string
				switch *mix {
				case "cycle":
					q = questions[int(n)%len(questions)]
				case "repetitive":
					i, _ := slices.BinarySearch(cdf, r.Float64()*total)
					q = questions[min(i, len(questions)-1)]
				case "unique":
					q = questions[int(n)%len(questions)] + " —" + uniqueName(n)
				}
				u := n
				if *users > 0 {
					u = n % int64(*users)
				}
				user := fmt.Sprintf("load-%d-%d", runTag, u)
				t0 := time.Now()
				rep, err := peer.Send(ctx, *url, wechat.TextMessage("gh_edubot", user, q, runTag+n, time.Now()))
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
				case rep.Success:
					mk["success"]++
				default:
					mk[rep.MsgType]++
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			for k, v := range mk {
				kinds[k] += v
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(lat) == 0 {
		e, _ := firstErr.Load().(string)
		return fmt.Errorf("load: no successful reply (%d errors; first: %s)", errs.Load(), e)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	rep := loadReport{
		Mode: m.String(), Mix: *mix, Conns: *conc, Users: *users, Seconds: elapsed.Seconds(),
		Replies: len(lat), PerSecond: float64(len(lat)) / elapsed.Seconds(), Errors: errs.Load(),
		P50ms: ms(pct(0.50)), P90ms: ms(pct(0.90)), P99ms: ms(pct(0.99)), MaxMs: ms(lat[len(lat)-1]),
		Kinds: kinds,
	}
	rep.FirstErr, _ = firstErr.Load().(string)
	rep.Over5s = len(lat) - sort.Search(len(lat), func(i int) bool { return lat[i] > 5*time.Second })
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "%s mode, %s mix, %d connections, %s: %d replies, %.0f replies/s, %d errors, %d over 5 s\n",
		m, *mix, *conc, elapsed.Round(time.Millisecond), len(lat), rep.PerSecond, rep.Errors, rep.Over5s)
	fmt.Fprintf(stdout, "latency p50 %s  p90 %s  p99 %s  max %s\n",
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	if rep.FirstErr != "" {
		fmt.Fprintf(stdout, "first error: %s\n", rep.FirstErr)
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
