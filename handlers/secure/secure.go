// Package secure holds the gin middleware the staff surfaces share (the
// admin API and the console): security headers on every response, and a
// limiter of failed authentications per client and per token name.
package secure

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Content-Security-Policy values. CSPAPI is for JSON answers (nothing may
// load, nothing may frame them); CSPPages for server-rendered pages whose
// scripts and styles are served by the same origin (vendored, embedded).
const (
	CSPAPI   = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	CSPPages = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)

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
// blocked until the window ends. It is kept in memory (per replica:
// n replicas allow n×Max) and bounded to MaxKeys keys, evicting expired
// windows first. Safe for concurrent use.
type FailLimiter struct {
	Max     int           // failures allowed in a window; default 10
	Window  time.Duration // default 5 minutes
	MaxKeys int           // default 10,000
	Now     func() time.Time

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

// Blocked reports whether key is over its failures and for how long more.
func (l *FailLimiter) Blocked(key string) (time.Duration, bool) {
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
// (Max or more: blocked from now on).
func (l *FailLimiter) Fail(key string) int {
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
