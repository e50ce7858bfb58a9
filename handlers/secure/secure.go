// Package secure holds the gin middleware the staff surfaces share (the
// admin API and the console): security headers on every response, and a
// limiter of failed authentications per client and per token name.
package secure

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
)

// Content-Security-Policy values. CSPAPI is for JSON answers (nothing may
// load, nothing may frame them); CSPPages for server-rendered pages whose
// scripts and styles are served by the same origin (vendored, embedded).
const (
	CSPAPI   = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	CSPPages = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)

// CapBody limits a route's request body to n bytes: reading past it fails
// with *http.MaxBytesError, which the handlers turn into 413. JSON routes
// take limits.JSONBody; the group-wide cap is sized for uploads.
func CapBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		}
		c.Next()
	}
}

// Headers sets the security headers on every response of the routes it is
// used on: the given Content-Security-Policy, no MIME sniffing, no framing,
// no referrer, and no caching of staff data by shared caches.
func Headers(csp string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "no-store")
		}
		c.Next()
	}
}

// FailLimiter counts failed authentications by key ("client:IP",
// "name:ann") in fixed windows: past Max failures in Window the key is
// blocked until the window ends. With Redis set the counts are shared by
// every replica (n replicas do not allow n×Max); the in-memory count is
// kept too, bounded to MaxKeys keys, and decides alone while Redis does
// not answer, so a Redis outage never lifts the limit. Safe for
// concurrent use.
type FailLimiter struct {
	Max     int           // failures allowed in a window; default 10
	Window  time.Duration // default 5 minutes
	MaxKeys int           // default 10,000
	Now     func() time.Time
	// Redis, when set, holds the shared counts under Prefix+"{authfail}:".
	Redis  redis.UniversalClient
	Prefix string

	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func (l *FailLimiter) defaults() {
	if l.Max <= 0 {
		l.Max = 10
	}
	if l.Window <= 0 {
		l.Window = 5 * time.Minute
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = 10000
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	if l.keys == nil {
		l.keys = map[string]*window{}
	}
}

// sharedWait bounds a Redis call of the limiter: an authentication must
// not wait on a stalled Redis longer than this.
const sharedWait = 300 * time.Millisecond

func (l *FailLimiter) sharedKey(key string) string { return l.Prefix + "{authfail}:" + key }

// Blocked reports whether key is over its failures and for how long more.
func (l *FailLimiter) Blocked(ctx context.Context, key string) (time.Duration, bool) {
	left, blocked := l.blockedLocal(key)
	if blocked || l.Redis == nil {
		return left, blocked
	}
	ctx, cancel := context.WithTimeout(ctx, sharedWait)
	defer cancel()
	p := l.Redis.Pipeline()
	n := p.Get(ctx, l.sharedKey(key))
	ttl := p.PTTL(ctx, l.sharedKey(key))
	if _, err := p.Exec(ctx); err != nil {
		return left, false // redis.Nil (no failures) or Redis away: memory decides
	}
	count, _ := n.Int()
	if count < l.Max {
		return 0, false
	}
	return max(ttl.Val(), time.Second), true
}

func (l *FailLimiter) blockedLocal(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.defaults()
	w := l.keys[key]
	if w == nil {
		return 0, false
	}
	left := w.start.Add(l.Window).Sub(l.Now())
	if left <= 0 {
		delete(l.keys, key)
		return 0, false
	}
	return left, w.n >= l.Max
}

// Fail counts one failure of key and returns the failures in its window
// on all replicas (Max or more: blocked from now on).
func (l *FailLimiter) Fail(ctx context.Context, key string) int {
	n := l.failLocal(key)
	if l.Redis == nil {
		return n
	}
	ctx, cancel := context.WithTimeout(ctx, sharedWait)
	defer cancel()
	p := l.Redis.Pipeline()
	shared := p.Incr(ctx, l.sharedKey(key))
	p.ExpireNX(ctx, l.sharedKey(key), l.Window)
	if _, err := p.Exec(ctx); err != nil {
		return n
	}
	return max(n, int(shared.Val()))
}

func (l *FailLimiter) failLocal(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.defaults()
	now := l.Now()
	w := l.keys[key]
	if w == nil || now.Sub(w.start) >= l.Window {
		if len(l.keys) >= l.MaxKeys {
			l.evict(now)
		}
		w = &window{start: now}
		l.keys[key] = w
	}
	w.n++
	return w.n
}

// evict drops expired windows, then (still full) arbitrary ones: an
// attacker with many addresses can at worst reset others' counts, never
// grow the map.
func (l *FailLimiter) evict(now time.Time) {
	for k, w := range l.keys {
		if now.Sub(w.start) >= l.Window {
			delete(l.keys, k)
		}
	}
	for k := range l.keys {
		if len(l.keys) < l.MaxKeys {
			break
		}
		delete(l.keys, k)
	}
}

// TooMany answers 429 with Retry-After (whole seconds, at least 1).
func TooMany(c *gin.Context, retry time.Duration, body any) {
	c.Header("Retry-After", strconv.Itoa(max(1, int(retry.Round(time.Second)/time.Second))))
	c.AbortWithStatusJSON(http.StatusTooManyRequests, body)
}
