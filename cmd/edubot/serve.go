package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/menu"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/answercache"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers"
	"github.com/gdjysjyj/edubot/handlers/admin"
	"github.com/gdjysjyj/edubot/handlers/console"
	"github.com/gdjysjyj/edubot/handlers/secure"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/breaker"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/metrics"
	"github.com/gdjysjyj/edubot/internal/redisbatch"
	"github.com/gdjysjyj/edubot/stats"
)

func init() {
	commands["serve"] = command{summary: "run the webhook, admin API and broadcast workers", run: runServe}
}

// onListen is told the address serve listens on (tests start serve on port 0).
var onListen = func(addr string) {}

// serveFlags are the command-line overrides of the settings.
type serveFlags struct {
	config, content, addr, now, dataDir string
	insecureDev                         bool
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", os.Getenv("EDUBOT_CONFIG"), "YAML settings file (see configs/config.example.yaml)")
	fs.StringVar(&f.content, "content", "", "content folder that seeds an empty store (default: built-in sample)")
	fs.StringVar(&f.addr, "addr", "", "listen address (default 127.0.0.1:8080)")
	fs.StringVar(&f.now, "now", "", "fix today's date, YYYY-MM-DD (demos, reproducible runs)")
	fs.StringVar(&f.dataDir, "data-dir", "", "embedded Redis snapshot directory (default data)")
	fs.BoolVar(&f.insecureDev, "insecure-dev", false, "allow a non-loopback address with the development token and key or without admin tokens")
	err := fs.Parse(args)
	return f, err
}

// loadConfig reads the settings and applies the flags.
func loadConfig(f serveFlags) (config.Config, error) {
	cfg, err := config.Load(f.config)
	if err != nil {
		return cfg, err
	}
	if f.content != "" {
		cfg.Content = f.content
	}
	if f.addr != "" {
		cfg.Addr = f.addr
	}
	if f.now != "" {
		cfg.Now = f.now
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	return cfg, cfg.Validate()
}

// checkExposure refuses to listen beyond this machine with the public
// development keys, or with no admin tokens (nobody could manage the
// content), unless --insecure-dev says it is meant.
func checkExposure(cfg config.Config, insecureDev bool) error {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("config: addr %q: %w", cfg.Addr, err)
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) || insecureDev {
		return nil
	}
	var why []string
	if cfg.WeChat.DevKeys {
		why = append(why, "the development token and EncodingAESKey (set EDUBOT_WECHAT_TOKEN and EDUBOT_WECHAT_AES_KEY)")
	}
	if len(cfg.Admin.Tokens) == 0 {
		why = append(why, "no admin tokens (set EDUBOT_ADMIN_TOKENS)")
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s, beyond this machine, with %s; use a loopback address, or pass --insecure-dev to run so anyway",
		cfg.Addr, strings.Join(why, " and "))
}

// newLogger builds the process logger from the log settings.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// clock returns "now": the real time, or the fixed day at today's time of
// day when a date is configured (so office hours still move).
func clock(fixed string, loc *time.Location) (func() time.Time, error) {
	if fixed == "" {
		return time.Now, nil
	}
	day, err := time.ParseInLocation("2006-01-02", fixed, loc)
	if err != nil {
		return nil, fmt.Errorf("now: want YYYY-MM-DD, got %q", fixed)
	}
	return func() time.Time {
		t := time.Now().In(loc)
		y, m, d := t.Date()
		since := t.Sub(time.Date(y, m, d, 0, 0, 0, 0, loc))
		return day.Add(since)
	}, nil
}

// loadSeed reads the content folder, or the built-in sample. A malformed
// set fails here, naming the file, line and field.
func loadSeed(dir string) (*content.Set, string, error) {
	var fsys fs.FS = sample.FS()
	source := "built-in sample"
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, "", fmt.Errorf("content: %w", err)
		}
		if !st.IsDir() {
			return nil, "", fmt.Errorf("content: %s is not a folder", dir)
		}
		fsys = os.DirFS(dir)
		if abs, err := filepath.Abs(dir); err == nil {
			source = abs
		} else {
			source = dir
		}
	}
	set, err := content.Load(fsys)
	if err != nil {
		return nil, "", fmt.Errorf("content %s: %w", source, err)
	}
	return set, source, nil
}

// seedRecord remembers which folder seeded the runtime content, so that
// starting with another folder replaces a set nobody has edited yet, but
// never staff edits.
type seedRecord struct {
	Source  string `json:"source"`
	Version int64  `json:"version"`
}

// seedStore returns what the runtime content is: the folder (or sample)
// when it seeded or re-seeded the store or seeded it before, else a note
// that Redis' edited content is served instead.
func seedStore(ctx context.Context, rdb redis.UniversalClient, prefix string, st *store.Store, set *content.Set, source string, log *slog.Logger) (string, error) {
	key := prefix + "content-seed"
	record := func() error {
		v, err := st.Version(ctx)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(seedRecord{Source: source, Version: v})
		return rdb.Set(ctx, key, b, 0).Err()
	}
	seeded, err := st.Seed(ctx, "seed", set)
	if err != nil {
		return "", fmt.Errorf("seed content: %w", err)
	}
	if seeded {
		log.Info("content store seeded", "source", source, "notices", len(set.Notices), "faqs", len(set.FAQs), "rules", len(set.Rules))
		return source, record()
	}
	var rec seedRecord
	if b, err := rdb.Get(ctx, key).Bytes(); err == nil {
		_ = json.Unmarshal(b, &rec)
	}
	if rec.Source == source {
		if v, err := st.Version(ctx); err == nil && rec.Version != v {
			return "redis (staff edits over " + source + ")", nil
		}
		return source, nil
	}
	v, err := st.Version(ctx)
	if err != nil {
		return "", fmt.Errorf("seed content: %w", err)
	}
	if rec.Source != "" && rec.Version == v {
		if err := st.ImportSet(ctx, "seed", set); err != nil {
			return "", fmt.Errorf("seed content: replace %s with %s: %w", rec.Source, source, err)
		}
		log.Info("content store re-seeded: the previous seed had no staff edits", "from", rec.Source, "to", source)
		return source, record()
	}
	log.Warn("the runtime content in Redis has staff edits and wins over the content folder; use the admin API's import to replace it",
		"seeded_from", rec.Source, "folder", source)
	if rec.Source == "" {
		return "redis (staff edits; " + source + " not applied)", nil
	}
	return "redis (staff edits over " + rec.Source + "; " + source + " not applied)", nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	wechat.QuietLogrus(log)
	if err := checkExposure(cfg, f.insecureDev); err != nil {
		return err
	}
	loc, _ := time.LoadLocation(cfg.Bot.TimeZone)
	now, err := clock(cfg.Now, loc)
	if err != nil {
		return err
	}
	if cfg.WeChat.DevKeys {
		// Never the values: they are public, but a log line with a
		// token in it teaches the wrong habit and trips secret scanners.
		log.Warn("using the development token and EncodingAESKey (public, in the source): set EDUBOT_WECHAT_TOKEN and EDUBOT_WECHAT_AES_KEY before connecting a real account",
			"app_id", cfg.WeChat.AppID)
	}
	log.Info("webhook mode", "mode", wechat.ResolveMode(cfg.WeChat.Mode, cfg.WeChat.AESKey),
		"aes_key", cfg.WeChat.AESKey != "", "previous_aes_key", cfg.WeChat.PrevAESKey != "",
		"account_id_checked", cfg.WeChat.AccountID != "")
	if cfg.Now != "" {
		log.Info("today is fixed", "now", cfg.Now)
	}

	// Content is checked before anything else starts: a broken set fails fast.
	seed, source, err := loadSeed(cfg.Content)
	if err != nil {
		return err
	}

	m := metrics.New()
	rdb, closeRedis, err := openRedis(ctx, cfg, log, m.RedisHook())
	if err != nil {
		return err
	}
	defer func() {
		if err := closeRedis(); err != nil {
			log.Error("closing redis", "err", err)
		}
	}()
	prefix := cfg.Redis.Prefix
	// Past repeated timeouts, stop waiting on Redis: the bot answers from
	// memory at once and a background probe finds Redis again.
	redisUp := prometheus.NewGauge(prometheus.GaugeOpts{Name: "edubot_redis_up",
		Help: "1 while Redis answers, 0 while the circuit breaker is open."})
	redisUp.Set(1)
	brk := breaker.New(breaker.Options{Logger: log, OnChange: func(open bool) {
		if open {
			redisUp.Set(0)
		} else {
			redisUp.Set(1)
		}
	}})
	brk.Attach(rdb)
	defer brk.Close()
	// Turns share Redis round trips (group commit): under load one
	// pipeline carries many users' Begins, another their Ends.
	beginBatch, endBatch := redisbatch.New(rdb, redisbatch.Options{}), redisbatch.New(rdb, redisbatch.Options{})
	defer beginBatch.Close()
	defer endBatch.Close()
	m.Registry().MustRegister(redisUp, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "edubot_redis_breaker_opened_total",
		Help: "Times the Redis circuit breaker opened.",
	}, func() float64 { return float64(brk.Opened()) }))

	// Work that outlives a request runs on this context; it ends after the
	// HTTP server has drained.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var workers sync.WaitGroup
	defer func() {
		stopWork()
		workers.Wait()
	}()

	contentStore := store.New(rdb, prefix, store.Options{Logger: log, Now: now})
	served, err := seedStore(ctx, rdb, prefix, contentStore, seed, source, log)
	if err != nil {
		return err
	}
	set, err := contentStore.Load(ctx)
	if err != nil {
		return fmt.Errorf("load content: %w", err)
	}
	engine, err := search.New(set, search.Options{Logger: log, Now: now, Threshold: cfg.Match.Threshold, SuggestFloor: cfg.Match.SuggestFloor, ChoiceMargin: cfg.Match.ChoiceMargin})
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	// Building the index of a large set leaves garbage of about its own
	// size (100,000 notices: the process peaked at 1.1 GiB for a 0.5 GiB
	// live heap): give it back to the OS now, not at some later GC.
	debug.FreeOSMemory()
	// Repeated questions are answered from memory; every change Follow
	// applies goes through the cache, which then forgets what it knew.
	cache := answercache.New(engine, answercache.Options{Size: cacheSize(cfg.Match.CacheSize), Now: now})
	registerCacheMetrics(m.Registry(), cache)
	workers.Add(1)
	go func() {
		defer workers.Done()
		if err := contentStore.Follow(workCtx, cache); err != nil {
			log.Error("following content changes stopped", "err", err)
		}
	}()

	mn, err := loadMenu(cfg.Bot.Menu, log)
	if err != nil {
		return err
	}
	botCfg, err := bot.FromConfig(cfg.Bot, cfg.WeChat.ReplyDeadline, mn)
	if err != nil {
		return err
	}
	// Statistics are written in batches off the reply path (Queue); the
	// writer drains the queue when the server stops.
	recorder, err := stats.New(ctx, rdb, prefix, stats.Options{Retention: cfg.Stats.Retention, Salt: cfg.Stats.Salt, Location: loc, Logger: log, Queue: 4096, Now: now})
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	m.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "edubot_stats_dropped_total",
		Help: "Question records dropped because the stats writer's queue was full.",
	}, func() float64 { return float64(recorder.Dropped()) }))
	workers.Add(1)
	go func() {
		defer workers.Done()
		recorder.Run(workCtx)
	}()
	bcast, err := startBroadcasts(workCtx, &workers, cfg, rdb, engine, now, log)
	if err != nil {
		return err
	}
	var mass bot.MassResultSink // MASSSENDJOBFINISH → the broadcast job
	var forget []bot.Forgetter  // unsubscribe → delete the user's broadcast results
	if bcast != nil {
		mass = bcast
		forget = append(forget, bcast)
	}
	b := bot.New(botCfg, bot.Deps{
		Matcher:  cache,
		Store:    redisstore.New(rdb, prefix).WithBatchers(beginBatch, endBatch),
		Recorder: recorder,
		Mass:     mass,
		Forget:   forget,
		Now:      now,
		Log:      log,
	})

	var shuttingDown atomic.Bool
	// Messages per day by outcome and unanswered questions as typed, for
	// the staff console; written off the reply path like the recorder's.
	daily := stats.NewDaily(rdb, prefix, stats.DailyOptions{Retention: cfg.Stats.Retention, Location: loc, Logger: log, Now: now})
	workers.Add(1)
	go func() {
		defer workers.Done()
		daily.Run(workCtx)
	}()

	router, err := handlers.New(handlers.Deps{
		Bot:            daily.Wrap(b),
		WeChat:         cfg.WeChat,
		TrustedProxies: cfg.TrustedProxies,
		Logger:         log,
		Metrics:        m,
		Ready: func(ctx context.Context) error {
			if shuttingDown.Load() {
				return handlers.ErrShuttingDown
			}
			if cur, _ := contentStore.Current(); cur == nil {
				return handlers.ErrNotLoaded
			}
			return nil
		},
		Redis: func(ctx context.Context) error {
			if brk.Open() {
				return breaker.ErrOpen
			}
			ctx, cancel := context.WithTimeout(ctx, cfg.Redis.Timeout)
			defer cancel()
			return rdb.Ping(ctx).Err()
		},
		RequireRedis: cfg.Readiness.RequireRedis,
		Replay:       handlers.NewRedisReplay(rdb, prefix),
	})
	if err != nil {
		return err
	}
	// The staff's API; other staff routes (broadcasts) join its group.
	adminAPI, err := admin.Register(router, admin.Deps{
		Store: contentStore, Stats: recorder, Tokens: cfg.Admin.Tokens,
		Logger: log, Now: now, Location: loc, Pprof: cfg.Admin.Pprof,
		// Failed authentications count on every replica together.
		Fails: &secure.FailLimiter{Redis: rdb, Prefix: prefix},
	})
	if err != nil {
		return err
	}
	if err := mountBroadcasts(adminAPI, bcast, log); err != nil {
		return err
	}
	notes, err := notesDeps(cfg, rdb, now, log)
	if err != nil {
		return err
	}
	if err := mountNotes(adminAPI, notes); err != nil {
		return err
	}
	// 试一试 talks to a bot that records no statistics.
	tryBot := bot.New(botCfg, bot.Deps{Matcher: engine, Store: redisstore.New(rdb, prefix), Now: now, Log: log})
	if _, err := console.Register(router, console.Deps{
		Store: contentStore, Stats: recorder, Daily: daily, Engine: engine, Bot: b,
		Redis: rdb, Prefix: prefix, Tokens: cfg.Admin.Tokens, Logger: log, Now: now, Location: loc,
		Notes: &notes, TryBot: tryBot, Broadcasts: bcast, PreviewOpenIDs: cfg.Broadcast.PreviewOpenIDs,
		SessionIdle: cfg.Console.SessionIdle, SessionMax: cfg.Console.SessionMax,
		LoginLimit: cfg.Console.LoginLimit, LoginWindow: cfg.Console.LoginWindow,
	}); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	onListen(ln.Addr().String())
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// The content actually served: after staff edits that is Redis' set,
	// not the --content folder.
	log.Info("edubot ready",
		"webhook", "http://"+ln.Addr().String()+handlers.DefaultWebhookPath,
		"console", "http://"+ln.Addr().String()+console.BasePath+"/",
		"content", served, "notices", len(set.Notices), "faqs", len(set.FAQs),
		"startup", time.Since(start).Round(time.Millisecond))

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	// Stop accepting, let in-flight replies finish, then stop the workers
	// (deferred) and close Redis (deferred last).
	log.Info("shutting down")
	shuttingDown.Store(true) // /readyz says so while in-flight replies finish
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Error("http shutdown", "err", err)
	}
	return nil
}

// loadMenu reads the menu definition. A missing file at the default path
// only means no menu; a configured file that is missing or wrong is an error.
func loadMenu(path string, log *slog.Logger) (*menu.Menu, error) {
	if path == "" {
		return nil, nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && path == config.Default().Bot.Menu {
		log.Info("no menu definition; CLICK events get no content", "path", path)
		return nil, nil
	}
	mn, err := menu.Load(path)
	if err != nil {
		return nil, fmt.Errorf("config: bot.menu: %w", err)
	}
	return mn, nil
}

// cacheSize maps config match.cache_size (0: off) to answercache's Size
// (0: default, negative: off).
func cacheSize(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// registerCacheMetrics exports the answer cache's hits and misses; the hit
// rate is hits / (hits + misses) of kind="match".
func registerCacheMetrics(reg prometheus.Registerer, c *answercache.Cache) {
	for _, kind := range []string{"match", "analyze"} {
		count := func(hit bool) func() float64 {
			return func() float64 {
				st := c.Stats()
				switch {
				case kind == "match" && hit:
					return float64(st.MatchHits)
				case kind == "match":
					return float64(st.MatchMisses)
				case hit:
					return float64(st.AnalyzeHits)
				default:
					return float64(st.AnalyzeMisses)
				}
			}
		}
		labels := prometheus.Labels{"kind": kind}
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "edubot_answer_cache_hits_total", ConstLabels: labels,
				Help: "Matches (kind=match) and analyses (kind=analyze) answered from the in-process cache."}, count(true)),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "edubot_answer_cache_misses_total", ConstLabels: labels,
				Help: "Matches and analyses the cache did not hold (computed, then kept)."}, count(false)),
		)
	}
}
