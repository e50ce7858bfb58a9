// Package breaker is a circuit breaker for Redis, as a go-redis v9 hook.
//
// After Failures consecutive commands fail by timing out or losing the
// connection, the breaker opens: every command fails at once with ErrOpen
// instead of waiting on a stalled Redis, so the bot answers from memory
// (without sessions) well inside WeChat's 5 s. While open, a background
// probe pings Redis after a short interval that doubles on each failed
// probe (Base, 2×Base, … up to Max); the first successful probe closes the
// breaker. Each state change is logged once, at warn (opened) or info
// (closed); nothing is logged per command.
package breaker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrOpen is returned, without touching the network, while the breaker is
// open. It has a method Reported() bool (true): the outage was logged once
// when the breaker opened, so callers may log it at debug instead of once
// per request.
var ErrOpen error = openError{}

type openError struct{}

func (openError) Error() string {
	return "redis circuit breaker open: Redis timed out repeatedly; answering without it"
}

// Reported says the breaker has logged this outage already.
func (openError) Reported() bool { return true }

// Options tune the breaker; zero fields take the defaults.
type Options struct {
	Failures     int           // consecutive failures that open it; default 3
	Base         time.Duration // first open interval; default 500ms
	Max          time.Duration // longest open interval; default 5s
	ProbeTimeout time.Duration // one probe's PING; default 1s
	Logger       *slog.Logger  // nil = discard
	// OnChange is told every state change (metrics); may be nil.
	OnChange func(open bool)
}

// Breaker is the hook. Add it to a client with Attach (it needs the client
// to probe). Safe for concurrent use.
type Breaker struct {
	opt   Options
	rdb   redis.UniversalClient
	open  atomic.Bool
	fails atomic.Int64
	opens atomic.Int64 // times opened

	mu       sync.Mutex
	interval time.Duration
	probing  bool
	stop     chan struct{}
	closed   sync.Once
}

// New returns a breaker with opt's settings.
func New(opt Options) *Breaker {
	if opt.Failures <= 0 {
		opt.Failures = 3
	}
	if opt.Base <= 0 {
		opt.Base = 500 * time.Millisecond
	}
	if opt.Max <= 0 {
		opt.Max = 5 * time.Second
	}
	if opt.ProbeTimeout <= 0 {
		opt.ProbeTimeout = time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Breaker{opt: opt, interval: opt.Base, stop: make(chan struct{})}
}

// Attach adds the breaker to rdb as a hook and remembers rdb for probing.
func (b *Breaker) Attach(rdb redis.UniversalClient) {
	b.rdb = rdb
	rdb.AddHook(b)
}

// Close stops a running probe (call before closing the client).
func (b *Breaker) Close() { b.closed.Do(func() { close(b.stop) }) }

// Open reports whether commands are refused at once.
func (b *Breaker) Open() bool { return b.open.Load() }

// Opened is how many times the breaker has opened.
func (b *Breaker) Opened() int64 { return b.opens.Load() }

type probeKey struct{}

// DialHook implements redis.Hook. Dials are let through: commands are
// refused before they ask the pool for a connection, and the pool's own
// background re-dial (after failed dials) must be able to succeed.
func (b *Breaker) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (b *Breaker) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if b.open.Load() && ctx.Value(probeKey{}) == nil {
			cmd.SetErr(ErrOpen)
			return ErrOpen
		}
		err := next(ctx, cmd)
		b.observe(ctx, err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (b *Breaker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if b.open.Load() && ctx.Value(probeKey{}) == nil {
			for _, c := range cmds {
				c.SetErr(ErrOpen)
			}
			return ErrOpen
		}
		err := next(ctx, cmds)
		b.observe(ctx, err)
		return err
	}
}

// observe counts a failure that says Redis is unreachable or stalled;
// any answer from Redis (even an error reply or nil) resets the count.
func (b *Breaker) observe(ctx context.Context, err error) {
	if ctx.Value(probeKey{}) != nil {
		return
	}
	if !Unavailable(err) {
		if err == nil || isReply(err) {
			b.fails.Store(0)
		}
		return
	}
	if b.fails.Add(1) >= int64(b.opt.Failures) {
		b.trip()
	}
}

func isReply(err error) bool {
	var re redis.Error
	return errors.Is(err, redis.Nil) || errors.As(err, &re)
}

// Unavailable reports whether err means Redis did not answer: a timeout
// (the caller's deadline included), a refused, reset or closed
// connection. A caller's own cancellation and Redis' error replies do not
// count.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || isReply(err) || errors.Is(err, ErrOpen) {
		return false
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &ne):
		return true
	}
	return false
}

// trip opens the breaker (once per episode) and starts the probe.
func (b *Breaker) trip() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open.Load() || b.probing {
		return
	}
	b.open.Store(true)
	b.opens.Add(1)
	b.interval = b.opt.Base
	b.probing = true
	b.opt.Logger.Warn("redis unavailable: circuit breaker open, answering without Redis",
		"after_failures", b.opt.Failures, "retry_in", b.interval)
	if b.opt.OnChange != nil {
		b.opt.OnChange(true)
	}
	go b.probe()
}

// probe waits, pings, and closes the breaker on success or doubles the
// interval on failure.
func (b *Breaker) probe() {
	since := time.Now()
	for {
		b.mu.Lock()
		wait := b.interval
		b.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-b.stop:
			t.Stop()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), probeKey{}, true), b.opt.ProbeTimeout)
		err := b.rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			b.mu.Lock()
			b.fails.Store(0)
			b.open.Store(false)
			b.probing = false
			b.interval = b.opt.Base
			b.mu.Unlock()
			b.opt.Logger.Info("redis answers again: circuit breaker closed", "open_for", time.Since(since).Round(time.Millisecond))
			if b.opt.OnChange != nil {
				b.opt.OnChange(false)
			}
			return
		}
		b.mu.Lock()
		b.interval = min(2*b.interval, b.opt.Max)
		b.mu.Unlock()
	}
}
