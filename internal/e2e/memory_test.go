//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// TestMemoryPerFollower measures what a follower costs in Redis after a
// week of use (docs/capacity.md): N users each say who they are, subscribe
// to a topic and ask questions through a real edubot process; then the
// keys that expire within a week (every key whose PTTL is under 7 days)
// are dropped, and INFO memory and the key count are compared with
// the empty store. It needs a Redis of its own (it reads used_memory of
// the whole server): EDUBOT_TEST_REDIS_ADDR, not run by make test.
//
//	EDUBOT_E2E_BIN=bin/edubot EDUBOT_TEST_REDIS_ADDR=127.0.0.1:PORT go test -tags e2e -run TestMemoryPerFollower -v ./internal/e2e/
func TestMemoryPerFollower(t *testing.T) {
	const users, questions = 1000, 8
	tg := testredis.Get(t)
	rdb := redis.NewUniversalClient(tg.Options())
	defer rdb.Close()
	ctx := context.Background()
	prefix := "mem:" + testredis.Unique() + ":"
	bot := edubot(t, "edubot", prefix, "")
	time.Sleep(500 * time.Millisecond) // the content seed and the stats salt are written
	before, keysBefore := usedMemory(t, rdb), dbsize(t, rdb)

	started := time.Now()
	p := peer()
	asks := []string{"学校秋季几号开学", "新生哪天报到", "中考什么时候", "困难学生怎么申请资助", "寒假什么时候放", "惠来几号开学", "校车怎么坐", "食堂收费标准"}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				user := fmt.Sprintf("o%027d", u) // an openid is 28 characters
				say := append([]string{"我是普宁的家长，孩子读初二", "订阅 开学"}, asks[:questions]...)
				for i, s := range say {
					d := deliver(ctx, p, "http://"+bot.addr, wechat.TextMessage("gh_edubot", user, s, int64(u*100+i), time.Now()))
					if d.err != nil || d.status != 200 {
						t.Errorf("user %d: %d %v", u, d.status, d.err)
						return
					}
				}
			}
		}()
	}
	for u := range users {
		work <- u
	}
	close(work)
	wg.Wait()
	time.Sleep(time.Second) // the stats queue is flushed
	all := dbsize(t, rdb)
	// A week later every key with a TTL under 7 days has expired by
	// itself (stored replies, sessions, the conversation log, rate-limit
	// state, seen signatures…); keys without a TTL, or a longer one, stay.
	// PTTL decides, not a list of patterns, so a new short-lived key is
	// counted right without editing this test.
	keys, err := testredis.Keys(ctx, rdb, "*")
	if err != nil {
		t.Fatal(err)
	}
	// Measured from the start, so a key made with a 7-day TTL (the time
	// of a user's last message, expiring on a whole second) is one the
	// week leaves.
	week := 7*24*time.Hour - time.Since(started) - time.Minute
	kept := map[string]int{}           // key shape → keys left, for the log
	gone := map[string]time.Duration{} // key shape → longest TTL dropped
	usage := map[string]int64{}        // per-user, stats, other → bytes
	for _, k := range keys {
		if !strings.Contains(k, prefix) {
			continue // not this run's (the Redis is meant to be ours alone)
		}
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", k, err)
		}
		if ttl >= 0 && ttl < week { // -1: no expiry, -2: already gone
			if err := rdb.Del(ctx, k).Err(); err != nil {
				t.Fatalf("DEL %s: %v", k, err)
			}
			shape := keyShape(strings.Replace(k, prefix, "", 1))
			gone[shape] = max(gone[shape], ttl.Round(time.Second))
			continue
		}
		if ttl != -2 {
			shape := keyShape(strings.Replace(k, prefix, "", 1))
			kept[shape]++
			// MEMORY USAGE: which keys the per-follower bytes are in.
			group := "other"
			switch {
			case strings.HasPrefix(shape, "{u:*}"):
				group = "{u:*}"
			case strings.HasPrefix(shape, "{stats}"):
				group = "{stats}"
			}
			n, err := rdb.MemoryUsage(ctx, k).Result()
			if err != nil {
				t.Fatalf("MEMORY USAGE %s: %v", k, err)
			}
			usage[group] += n
		}
	}
	after, keysAfter := usedMemory(t, rdb), dbsize(t, rdb)
	perUser := float64(after-before) / users
	t.Logf("%d followers × %d messages: %d keys right after (%d before), %d after a week's expiries: %.1f keys and %.0f bytes of Redis memory per follower",
		users, questions+2, all, keysBefore, keysAfter, float64(keysAfter-keysBefore)/users, perUser)
	t.Logf("keys left, by shape: %v", kept)
	t.Logf("keys dropped, by shape and longest TTL: %v", gone)
	t.Logf("MEMORY USAGE of the keys left: per-user {u:…} %.0f bytes per follower, {stats} %.0f, other %d bytes in all",
		float64(usage["{u:*}"])/users, float64(usage["{stats}"])/users, usage["other"])
	if perUser <= 0 || perUser > 4096 {
		t.Errorf("%.0f bytes per follower: want a positive figure under 4 KiB", perUser)
	}
}

var (
	userTag = regexp.MustCompile(`\{u:[^}]*\}`)
	digits  = regexp.MustCompile(`[0-9a-f]{6,}|[0-9]+`)
)

// keyShape is a key with the openid and numbers (days, hashes) blanked.
func keyShape(k string) string {
	return digits.ReplaceAllString(userTag.ReplaceAllString(k, "{u:*}"), "N")
}

func usedMemory(t *testing.T, rdb redis.UniversalClient) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no used_memory")
	return 0
}

func dbsize(t *testing.T, rdb redis.UniversalClient) int64 {
	n, err := rdb.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
