// Package handlers is edubot's HTTP edge: the gin router with the WeChat
// webhook, /healthz, /readyz and /metrics, and the hook where the admin API
// mounts its routes. It is the only place that chooses HTTP statuses.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/metrics"
)

// Handler answers one message; *bot.Bot implements it. It must return by
// ctx's deadline (the webhook answers with an apology shortly after it
// anyway) and should not panic (the webhook recovers and apologises).
type Handler interface {
	Handle(ctx context.Context, m bot.Message) bot.Reply
}

// DefaultWebhookPath is where WeChat's server configuration points.
const DefaultWebhookPath = "/wechat"

// Deps is everything the router needs.
type Deps struct {
	Bot            Handler
	WeChat         config.WeChat // Token, AESKey, PrevAESKey, AppID, TimestampSkew, MaxBody, ReplyDeadline
	TrustedProxies []string      // config.Config.TrustedProxies; nil trusts none
	// Ready says whether this replica can answer (content loaded, not
	// shutting down); nil = always. Called by /readyz with a 2 s timeout.
	// Only ErrNotLoaded and ErrShuttingDown are shown as the reason;
	// anything else is "unavailable" (the full error goes to the log).
	Ready func(ctx context.Context) error
	// Redis reports Redis' health for /readyz's body; nil = not reported.
	// It makes /readyz fail only with RequireRedis (readiness.require_redis):
	// the bot answers without Redis (no sessions), so by default a Redis
	// outage must not take every replica out of the load balancer.
	Redis        func(ctx context.Context) error
	RequireRedis bool
	Logger       *slog.Logger        // nil = discard
	Metrics      *metrics.Metrics    // nil = a fresh set (still served on /metrics)
	Mount        func(r *gin.Engine) // adds more routes (the admin API); may be nil
	// Replay remembers the signatures of accepted messages for the
	// timestamp window; nil remembers nothing (a signed URL may then be
	// reused within the window).
	Replay      ReplayGuard
	WebhookPath string // "" = DefaultWebhookPath
	// Now is the wall clock for the replay window; nil = time.Now. It is
	// not the content's fixed "today" (serve --now): WeChat's timestamps
	// are always real.
	Now func() time.Time
}

// New builds the router. It fails on settings it cannot use (an AES key
// that does not decode, a proxy that is not an IP or CIDR).
func New(d Deps) (*gin.Engine, error) {
	if d.Bot == nil {
		return nil, errors.New("handlers: Deps.Bot is required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	if d.WebhookPath == "" {
		d.WebhookPath = DefaultWebhookPath
	}
	if d.WeChat.MaxBody <= 0 {
		d.WeChat.MaxBody = config.Default().WeChat.MaxBody
	}
	if d.WeChat.ReplyDeadline <= 0 {
		d.WeChat.ReplyDeadline = config.Default().WeChat.ReplyDeadline
	}
	if d.WeChat.TimestampSkew <= 0 {
		d.WeChat.TimestampSkew = config.Default().WeChat.TimestampSkew
	}
	srv, err := wechat.NewServer(wechat.Config{
		Token:         d.WeChat.Token,
		AESKey:        d.WeChat.AESKey,
		PrevAESKey:    d.WeChat.PrevAESKey,
		AppID:         d.WeChat.AppID,
		TimestampSkew: d.WeChat.TimestampSkew,
		Mode:          d.WeChat.Mode,
		AccountID:     d.WeChat.AccountID,
	}, d.Now)
	if err != nil {
		return nil, fmt.Errorf("handlers: %w", err)
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, fmt.Errorf("handlers: trusted_proxies: %w", err)
	}
	r.Use(recovery(d.Logger, d.WebhookPath), accessLog(d.Logger, d.WebhookPath))

	wh := &webhook{srv: srv, bot: d.Bot, log: d.Logger, m: d.Metrics,
		maxBody: d.WeChat.MaxBody, deadline: d.WeChat.ReplyDeadline,
		replay: d.Replay, replayTTL: 2*d.WeChat.TimestampSkew + time.Minute}
	r.GET(d.WebhookPath, wh.verify)
	r.POST(d.WebhookPath, wh.message)

	alive := func(c *gin.Context) { c.String(http.StatusOK, "ok\n") }
	r.GET("/healthz", alive)
	r.HEAD("/healthz", alive)
	ready := readiness(d.Ready, d.Redis, d.RequireRedis, d.Logger)
	r.GET("/readyz", ready)
	r.HEAD("/readyz", ready)
	r.GET("/metrics", gin.WrapH(d.Metrics.Handler()))

	if d.Mount != nil {
		d.Mount(r)
	}
	return r, nil
}

// Reasons /readyz may show; any other error from Deps.Ready is shown as
// "unavailable" (never an address or an internal error).
var (
	ErrNotLoaded    = errors.New("content not loaded")
	ErrShuttingDown = errors.New("shutting down")
)

// readiness answers 200 when this replica can answer, 503 with a short
// reason otherwise (the load balancer stops sending traffic). Redis'
// health is in the body ("redis": "ok" or "unavailable") and fails the
// check only when requireRedis is set.
func readiness(check, redisCheck func(context.Context) error, requireRedis bool, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		body := gin.H{"status": "ready"}
		status := http.StatusOK
		if check != nil {
			if err := check(ctx); err != nil {
				reason := "unavailable"
				switch {
				case errors.Is(err, ErrNotLoaded):
					reason = ErrNotLoaded.Error()
				case errors.Is(err, ErrShuttingDown):
					reason = ErrShuttingDown.Error()
				}
				log.Warn("not ready", "reason", reason, "err", err)
				body["status"], body["reason"], status = "not ready", reason, http.StatusServiceUnavailable
			}
		}
		if redisCheck != nil {
			if err := redisCheck(ctx); err != nil {
				log.Debug("readiness: redis unavailable", "err", err)
				body["redis"] = "unavailable"
				if requireRedis && status == http.StatusOK {
					body["status"], body["reason"], status = "not ready", "redis unavailable", http.StatusServiceUnavailable
				}
			} else {
				body["redis"] = "ok"
			}
		}
		c.JSON(status, body)
	}
}

// recovery logs a panic with its stack once and answers without leaking
// it: an empty 500 elsewhere, "success" on the webhook, where WeChat must
// never see a 500 (it would show the user an error and retry).
func recovery(log *slog.Logger, webhookPath string) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared, never wrapped
				panic(rec)
			}
			log.Error("panic", "path", c.FullPath(), "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			if c.FullPath() == webhookPath {
				c.Abort()
				c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(wechat.Success))
				return
			}
			c.AbortWithStatus(http.StatusInternalServerError)
		}()
		c.Next()
	}
}

// accessLog writes one line per request without the query string (in
// safe mode it holds the openid). The webhook logs its own, richer line;
// probes and scrapes go to debug.
func accessLog(log *slog.Logger, webhookPath string) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == webhookPath {
			return
		}
		level := slog.LevelInfo
		switch route {
		case "/healthz", "/readyz", "/metrics":
			level = slog.LevelDebug
		}
		if route == "" {
			route = "(no route)"
		}
		log.Log(c.Request.Context(), level, "http", "method", c.Request.Method, "route", route,
			"status", c.Writer.Status(), "ms", time.Since(start).Milliseconds(), "client", c.ClientIP())
	}
}
