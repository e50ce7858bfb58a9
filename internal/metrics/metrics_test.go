package metrics_test

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/internal/metrics"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

func TestRedisHookCountsFailuresNotMisses(t *testing.T) {
	rdb, prefix := testredis.New(t)
	m := metrics.New()
	rdb.AddHook(m.RedisHook())
	ctx := context.Background()

	if err := rdb.Get(ctx, prefix+"missing").Err(); err != redis.Nil {
		t.Fatalf("GET missing: %v, want redis.Nil", err)
	}
	if err := rdb.Set(ctx, prefix+"s", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	// LPUSH on a string key: WRONGTYPE, a real failure.
	if err := rdb.LPush(ctx, prefix+"s", "x").Err(); err == nil {
		t.Fatal("LPUSH on a string succeeded")
	}
	pipe := rdb.Pipeline()
	pipe.Get(ctx, prefix+"s")
	pipe.Incr(ctx, prefix+"s") // not an integer
	pipe.Get(ctx, prefix+"missing2")
	if _, err := pipe.Exec(ctx); err == nil {
		t.Fatal("pipeline with INCR on a string succeeded")
	}

	// A script's first run answers NOSCRIPT to EVALSHA; go-redis then
	// sends EVAL. That is how scripts work, not a failure.
	script := redis.NewScript("return redis.call('GET', KEYS[1]) .. '" + testredis.Unique() + "'")
	if err := script.Run(ctx, rdb, []string{prefix + "s"}).Err(); err != nil {
		t.Fatal(err)
	}

	got := scrape(t, m)
	if strings.Contains(got, `command="evalsha"`) {
		t.Errorf("NOSCRIPT counted as an error:\n%s", grep(got, "edubot_redis"))
	}
	for _, want := range []string{
		`edubot_redis_errors_total{command="lpush"} 1`,
		`edubot_redis_errors_total{command="incr"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q:\n%s", want, grep(got, "edubot_redis"))
		}
	}
	if strings.Contains(got, `command="client"`) || strings.Contains(got, `command="pipeline"`) {
		t.Errorf("connection handshake counted as an error:\n%s", grep(got, "edubot_redis"))
	}
	if strings.Contains(got, `command="get"`) {
		t.Errorf("a missing key was counted as an error:\n%s", grep(got, "edubot_redis"))
	}
}

func TestRedisHookCountsDialFailures(t *testing.T) {
	// A port nobody listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	m := metrics.New()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	rdb.AddHook(m.RedisHook())
	if err := rdb.Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING to a closed port succeeded")
	}
	got := scrape(t, m)
	if !strings.Contains(got, `edubot_redis_errors_total{command="dial"}`) {
		t.Errorf("dial failure not counted:\n%s", grep(got, "edubot_redis"))
	}
}

func TestCountersAndNilSafety(t *testing.T) {
	m := metrics.New()
	m.Request(metrics.OutcomeReplied)
	m.Request(metrics.OutcomeReplied)
	m.Request(metrics.OutcomeBadSignature)
	m.Answer("faq")
	m.Answer("")
	m.RetryDeduplicated()
	m.ReplyLatency(30 * time.Millisecond)

	got := scrape(t, m)
	for _, want := range []string{
		`edubot_webhook_requests_total{outcome="replied"} 2`,
		`edubot_webhook_requests_total{outcome="bad_signature"} 1`,
		`edubot_answers_total{kind="faq"} 1`,
		`edubot_answers_total{kind="none"} 1`,
		`edubot_retries_deduplicated_total 1`,
		`edubot_reply_seconds_bucket{le="0.05"} 1`,
		`edubot_reply_seconds_bucket{le="0.025"} 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if n := strings.Count(got, "edubot_webhook_requests_total{"); n != 2 {
		t.Errorf("%d outcome series, want 2", n)
	}

	var nilM *metrics.Metrics // packages may run without metrics
	nilM.Request("x")
	nilM.Answer("x")
	nilM.RetryDeduplicated()
	nilM.ReplyLatency(time.Second)
	nilM.RedisError("get")
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// miniredis (the embedded default) refuses CLIENT SETINFO, which go-redis
// sends on connect and ignores: not an error anybody should be paged for.
func TestRedisHookIgnoresClientSetinfo(t *testing.T) {
	mr := miniredis.RunT(t)
	m := metrics.New()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	rdb.AddHook(m.RedisHook())
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if got := grep(scrape(t, m), "edubot_redis_errors_total{"); got != "" {
		t.Errorf("errors counted on a healthy connection:\n%s", got)
	}
}
