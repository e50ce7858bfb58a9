package embedredis

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A snapshot taken while clients write sorted sets, lists and streams (the
// stats and broadcast keys under load) neither crashes the server nor
// races: miniredis hands out its own maps and slices for these types, so
// they are copied while writers wait. Found under load: "concurrent map
// iteration and map write" in Save.
func TestSaveWhileWriting(t *testing.T) {
	ctx := context.Background()
	s, err := Start(Options{DataDir: t.TempDir(), SaveInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rdb := client(t, s)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m := strconv.Itoa(w*1_000_000 + i)
				p := rdb.Pipeline()
				p.ZIncrBy(ctx, "stats:asked", 1, m)
				p.LPush(ctx, "log", m)
				p.LTrim(ctx, "log", 0, 50)
				p.XAdd(ctx, &redis.XAddArgs{Stream: "events", MaxLen: 50, Values: []string{"m", m}})
				if _, err := p.Exec(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	saves := 0
	for time.Now().Before(deadline) {
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		saves++
	}
	close(stop)
	wg.Wait()
	if saves < 5 {
		t.Fatalf("only %d snapshots in 1.5 s", saves)
	}
	// The last snapshot holds what was written.
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	n := rdb.ZCard(ctx, "stats:asked").Val()
	s2, err := Start(Options{DataDir: s.path[:len(s.path)-len(SnapshotFile)-1], SaveInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s2.path = ""
	defer s2.Close()
	if got, _ := s2.mr.ZMembers("stats:asked"); int64(len(got)) != n {
		t.Errorf("snapshot has %d members, server %d", len(got), n)
	}
}
