package redisbatch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/internal/testredis"
)

// pipelines counts the pipelines a client sends.
type pipelines struct{ n atomic.Int64 }

func (p *pipelines) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (p *pipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (p *pipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		p.n.Add(1)
		return next(ctx, cmds)
	}
}

// Many concurrent requests each get their own results, errors included,
// in fewer pipelines than requests.
func TestConcurrentRequestsShareRoundTrips(t *testing.T) {
	rdb, prefix := testredis.New(t)
	count := &pipelines{}
	rdb.AddHook(count)
	b := New(rdb, Options{Workers: 2})
	defer b.Close()
	ctx := context.Background()

	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("%s{u:%d}:k", prefix, i)
			var set *redis.StatusCmd
			var get, missing *redis.StringCmd
			if err := b.Do(ctx, func(p redis.Pipeliner) {
				set = p.Set(ctx, key, i, time.Minute)
				get = p.Get(ctx, key)
				missing = p.Get(ctx, key+":none")
			}); err != nil {
				errs <- err
				return
			}
			if set.Err() != nil || get.Val() != fmt.Sprint(i) || missing.Err() != redis.Nil {
				errs <- fmt.Errorf("request %d: set %v, get %q %v, missing %v", i, set.Err(), get.Val(), get.Err(), missing.Err())
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := count.n.Load(); got >= n {
		t.Errorf("%d pipelines for %d concurrent requests: nothing was shared", got, n)
	} else {
		t.Logf("%d requests in %d pipelines", n, got)
	}
}

// A request whose caller has given up is not run late; after Close,
// Do refuses.
func TestGivenUpAndClosed(t *testing.T) {
	rdb, prefix := testredis.New(t)
	b := New(rdb, Options{Workers: 1})
	ctx := context.Background()
	key := prefix + "late"

	// Hold the only worker so the next request waits in the queue.
	release := make(chan struct{})
	held := make(chan struct{})
	go func() {
		_ = b.Do(ctx, func(redis.Pipeliner) { close(held); <-release })
	}()
	<-held
	gone, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Do(gone, func(p redis.Pipeliner) { p.Set(ctx, key, "late", time.Minute) }) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("given up: %v, want context.Canceled", err)
	}
	close(release)
	b.Close()
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("the given-up request ran late: exists=%d %v", n, err)
	}
	if err := b.Do(ctx, func(p redis.Pipeliner) { p.Ping(ctx) }); err != ErrClosed {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}
