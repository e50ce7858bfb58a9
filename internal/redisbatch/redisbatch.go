// Package redisbatch lets concurrent requests share Redis round trips
// (group commit): each request queues its commands, a few workers send
// whatever is queued as one pipeline, and each request reads its own
// commands' results. Under load one write and one read syscall, on both
// sides, serve many requests instead of one; a lone request goes out at
// once (nothing waits for a batch to fill).
package redisbatch

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("redisbatch: closed")

// Batcher sends queued commands in shared pipelines.
type Batcher struct {
	rdb     redis.UniversalClient
	in      chan *job
	max     int
	timeout time.Duration

	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
}

type job struct {
	ctx  context.Context
	fill func(redis.Pipeliner)
	done chan struct{}
}

// Options tune a Batcher; zero values take the defaults.
type Options struct {
	// Workers is how many pipelines may be in flight at once (default 4):
	// more than one so a slow batch does not hold up the next.
	Workers int
	// MaxBatch caps the requests in one pipeline (default 64).
	MaxBatch int
	// Timeout bounds one pipeline (default 3 s); each request also stops
	// waiting when its own context ends.
	Timeout time.Duration
}

// New starts the workers; Close stops them.
func New(rdb redis.UniversalClient, o Options) *Batcher {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	b := &Batcher{rdb: rdb, in: make(chan *job, o.Workers*o.MaxBatch), max: o.MaxBatch, timeout: o.Timeout}
	b.wg.Add(o.Workers)
	for range o.Workers {
		go b.work()
	}
	return b
}

// Do queues the commands fill adds to the pipeline and waits until they
// have run. fill must only queue commands (it runs on a worker, beside
// other requests' fills); afterwards the caller reads each of its
// commands' Err and value — an error of another request's command is not
// its own, so Do reports only its context's end or ErrClosed.
func (b *Batcher) Do(ctx context.Context, fill func(redis.Pipeliner)) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	j := &job{ctx: ctx, fill: fill, done: make(chan struct{})}
	select {
	case b.in <- j:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking requests, lets the queued ones run and waits for the
// workers.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Batcher) work() {
	defer b.wg.Done()
	batch := make([]*job, 0, b.max)
	for j := range b.in {
		batch = append(batch[:0], j)
	drain:
		for len(batch) < b.max {
			select {
			case j, ok := <-b.in:
				if !ok {
					break drain
				}
				batch = append(batch, j)
			default:
				break drain
			}
		}
		b.run(batch)
	}
}

// run sends one pipeline with the fills of the requests still waiting.
func (b *Batcher) run(batch []*job) {
	pipe := b.rdb.Pipeline()
	live := 0
	for _, j := range batch {
		if j.ctx.Err() != nil {
			continue // its caller has given up: do not run it late
		}
		j.fill(pipe)
		live++
	}
	if live > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		// Errors are per command (each caller checks its own); a
		// connection error is set on every command of the pipeline.
		_, _ = pipe.Exec(ctx)
		cancel()
	}
	for _, j := range batch {
		close(j.done)
	}
}
