// Package metrics holds edubot's Prometheus collectors: webhook requests by
// outcome, reply latency, answers by kind, retries de-duplicated and Redis
// errors. Each Metrics has its own registry, so tests and several servers
// in one process never collide on the global one.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Webhook outcomes (label "outcome" of edubot_webhook_requests_total).
const (
	OutcomeReplied      = "replied"       // a message answered with a text, news or transfer reply
	OutcomeSuccess      = "success"       // a message answered with "success" (nothing to say)
	OutcomeVerified     = "verified"      // GET URL verification answered with echostr
	OutcomeBadSignature = "bad_signature" // 403
	OutcomeReplay       = "replay"        // 403: timestamp outside the window, or a signature reused for another body
	OutcomePlaintext    = "plaintext"     // 403: a plaintext message in safe mode
	OutcomeWrongAccount = "wrong_account" // 403: ToUserName is not the configured account id
	OutcomeTooLarge     = "too_large"     // 413
	OutcomeMalformed    = "malformed"     // 400: bad XML or missing fields
	OutcomeDecrypt      = "decrypt"       // 400: decryption failed with every key
	OutcomeDeadline     = "deadline"      // the handler overran its deadline; a short apology was sent
	OutcomePanic        = "panic"         // the handler panicked; a short apology was sent
)

// Metrics is the set of collectors. Its methods are safe for concurrent use
// and do nothing on a nil *Metrics, so packages can take one optionally.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      prometheus.Histogram
	answers      *prometheus.CounterVec
	retries      prometheus.Counter
	redisErrors  *prometheus.CounterVec
	degraded     prometheus.Counter
	webhookBytes prometheus.Histogram
}

// New registers every collector (and the Go and process collectors) on a
// fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edubot_webhook_requests_total",
			Help: "WeChat webhook requests by outcome.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "edubot_reply_seconds",
			Help: "Time from a webhook request's arrival to its reply being written (WeChat gives up after 5 s).",
			// Dense below 0.1 s where replies should be, then up to WeChat's limit.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 4, 5},
		}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edubot_answers_total",
			Help: "Replies by what produced them: rule, faq, notice, choices, fallback, dialog, event, none.",
		}, []string{"kind"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edubot_retries_deduplicated_total",
			Help: "WeChat retries answered with the first delivery's reply instead of being handled again.",
		}),
		redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edubot_redis_errors_total",
			Help: "Redis commands that failed (a missing key is not a failure), by command.",
		}, []string{"command"}),
		degraded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edubot_replies_degraded_total",
			Help: "Replies made from content alone because Redis was slow or down (no session features).",
		}),
		webhookBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edubot_webhook_request_bytes",
			Help:    "Size of accepted webhook request bodies.",
			Buckets: prometheus.ExponentialBuckets(256, 2, 9), // 256 B … 64 KiB
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.answers, m.retries, m.redisErrors, m.degraded, m.webhookBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where other packages may register their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request counts one webhook request with its outcome (Outcome* constants).
func (m *Metrics) Request(outcome string) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(outcome).Inc()
}

// ReplyLatency observes the time one webhook request took.
func (m *Metrics) ReplyLatency(d time.Duration) {
	if m == nil {
		return
	}
	m.latency.Observe(d.Seconds())
}

// RequestBytes observes the size of an accepted webhook body.
func (m *Metrics) RequestBytes(n int) {
	if m == nil {
		return
	}
	m.webhookBytes.Observe(float64(n))
}

// Answer counts one reply by kind (bot.Answer* values; "" counts as "none").
func (m *Metrics) Answer(kind string) {
	if m == nil {
		return
	}
	if kind == "" {
		kind = "none"
	}
	m.answers.WithLabelValues(kind).Inc()
}

// RetryDeduplicated counts one WeChat retry answered from the first
// delivery's reply (the webhook calls it for bot.Reply.Duplicate).
func (m *Metrics) RetryDeduplicated() {
	if m == nil {
		return
	}
	m.retries.Inc()
}

// Degraded counts one reply made without Redis (slow or down).
func (m *Metrics) Degraded() {
	if m == nil {
		return
	}
	m.degraded.Inc()
}

// RedisError counts one failed Redis command.
func (m *Metrics) RedisError(command string) {
	if m == nil {
		return
	}
	m.redisErrors.WithLabelValues(command).Inc()
}

// RedisHook returns a go-redis v9 hook that counts failed commands, dials
// and pipelines. redis.Nil (a missing key) is an answer, not an error.
// Add it with client.AddHook(m.RedisHook()).
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m} }

type redisHook struct{ m *Metrics }

var _ redis.Hook = redisHook{}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			h.m.RedisError("dial")
		}
		return conn, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if failed(cmd, err) {
			h.m.RedisError(commandName(cmd))
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		// A pipeline's error is its first failed command's; count each
		// failed command so the figures match unpipelined use. An error
		// with no failed command (a broken connection) counts once.
		cmdErr := false
		for _, c := range cmds {
			if c.Err() != nil {
				cmdErr = true
			}
			if failed(c, c.Err()) {
				h.m.RedisError(commandName(c))
			}
		}
		if !cmdErr && err != nil && !errors.Is(err, redis.Nil) {
			h.m.RedisError("pipeline")
		}
		return err
	}
}

// failed says whether err is a failure worth counting. Not counted: a
// missing key (redis.Nil), NOSCRIPT (go-redis then sends the script with
// EVAL, as designed) and the CLIENT SETINFO / MAINT_NOTIFICATIONS
// handshake that go-redis tries on connect and lets servers refuse
// (miniredis and older Redis do).
func failed(cmd redis.Cmder, err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || strings.HasPrefix(err.Error(), "NOSCRIPT") {
		return false
	}
	if args := cmd.Args(); strings.EqualFold(cmd.Name(), "client") && len(args) > 1 &&
		(strings.EqualFold(fmt.Sprint(args[1]), "setinfo") || strings.EqualFold(fmt.Sprint(args[1]), "maint_notifications")) {
		return false
	}
	return true
}

// commandName keeps the label set small: scripts and unknown names share
// labels instead of one per SHA or typo.
func commandName(cmd redis.Cmder) string {
	name := strings.ToLower(cmd.Name())
	if name == "" {
		return "unknown"
	}
	if len(name) > 32 {
		return "other"
	}
	return name
}
