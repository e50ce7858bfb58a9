//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/testredis"
)

// Failover under load: 32 WeChat clients in safe mode send steadily while
// one master is failed over on purpose and another is killed outright
// (SIGKILL). WeChat's rules are the measure: a reply later than 5 s is one
// the user never sees; a non-200 answer shows "该公众号暂时无法提供服务".

const (
	clients  = 32
	loadFor  = 16 * time.Second
	failAt   = 3 * time.Second // the planned failover
	killAt   = 8 * time.Second // the master killed
	tries    = 3               // WeChat's tries of one message
	tryLimit = 5 * time.Second // WeChat's wait for a reply
)

// report is what the load saw.
type report struct {
	messages, answered, over5s, non200, lost, doubled, retries atomic.Int64
	mu                                                         sync.Mutex
	lat                                                        []time.Duration
	// redelivered: for each retry answered, from the first delivery's
	// start to the retry's answer (to tell retries made while Redis was
	// in trouble from the others).
	redelivered []span
}

type span struct{ from, to time.Time }

// runLoad sends until ctx ends; each message comes from a new user (its
// keys land on any master) and every fourth is delivered a second time
// after its answer, as WeChat does when a reply was lost on the way: the
// second delivery must get the same answer, and be answered from the
// stored reply, not handled again (check compares the bot's count of
// de-duplicated retries with the retries sent: the replies are the same
// text either way, so only the count shows a retry handled twice).
func runLoad(ctx context.Context, t *testing.T, base string, rep *report) {
	p := peer()
	var seq atomic.Int64
	run := time.Now().UnixNano()
	questions := []string{"学校秋季几号开学", "新生哪天报到", "中考什么时候", "困难学生怎么申请资助", "寒假什么时候放", "惠来几号开学"}
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := seq.Add(1)
				msg := wechat.TextMessage("gh_edubot", fmt.Sprintf("fo-%d-%d", run, n), questions[n%int64(len(questions))], run+n, time.Now())
				rep.messages.Add(1)
				t0 := time.Now()
				first, ok := send(p, base, msg, rep)
				if !ok {
					rep.lost.Add(1)
					continue
				}
				rep.answered.Add(1)
				if n%4 == 0 {
					rep.retries.Add(1)
					again, ok := send(p, base, msg, rep)
					if ok && text(again.reply) != text(first.reply) {
						rep.doubled.Add(1)
					}
					if ok {
						rep.mu.Lock()
						rep.redelivered = append(rep.redelivered, span{t0, time.Now()})
						rep.mu.Unlock()
					}
				}
				time.Sleep(5 * time.Millisecond) // steady, not flat out: Redis and edubot share 2 cores with the load
			}
		}()
	}
	wg.Wait()
}

// send delivers a message up to three times, like WeChat.
func send(p *wechat.Peer, base string, msg wechat.Outgoing, rep *report) (delivery, bool) {
	for range tries {
		ctx, cancel := context.WithTimeout(context.Background(), tryLimit+time.Second)
		d := deliver(ctx, p, base, msg)
		cancel()
		rep.mu.Lock()
		rep.lat = append(rep.lat, d.took)
		rep.mu.Unlock()
		if d.took > tryLimit {
			rep.over5s.Add(1)
			continue
		}
		if d.err == nil && d.status == http.StatusOK {
			return d, true
		}
		rep.non200.Add(1)
	}
	return delivery{}, false
}

// degradedWatch polls the replies the bot gave without Redis: when the
// last one happened, and every poll interval that had one (Redis in
// trouble for some users). It also keeps the count of de-duplicated
// retries at the start.
type degradedWatch struct {
	addr        string
	dedupStart  float64
	mu          sync.Mutex
	start, last float64
	lastAt      time.Time
	trouble     []span
	stopped     chan struct{}
}

func watchDegraded(ctx context.Context, t *testing.T, addr string) *degradedWatch {
	w := &degradedWatch{addr: addr, start: metric(t, addr, "edubot_replies_degraded_total"),
		dedupStart: metric(t, addr, "edubot_retries_deduplicated_total"), stopped: make(chan struct{})}
	w.last = w.start
	go func() {
		defer close(w.stopped)
		prev := time.Now()
		for ctx.Err() == nil {
			v, now := metric(t, addr, "edubot_replies_degraded_total"), time.Now()
			w.mu.Lock()
			if v > w.last {
				w.last, w.lastAt = v, now
				w.trouble = append(w.trouble, span{prev, now})
			}
			w.mu.Unlock()
			prev = now
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return w
}

// duringTrouble reports whether s overlaps a poll interval with a
// degraded reply (with a margin for the poll itself).
func (w *degradedWatch) duringTrouble(s span) bool {
	const margin = 250 * time.Millisecond
	for _, tr := range w.trouble {
		if s.from.Before(tr.to.Add(margin)) && tr.from.Add(-margin).Before(s.to) {
			return true
		}
	}
	return false
}

// probe writes a key until that works again, with a new client each time
// (one that loads the slot map or asks the sentinels afresh): the time the
// data store itself needs to recover.
func probe(ctx context.Context, tg testredis.Target, key string, since time.Time) time.Duration {
	for ctx.Err() == nil {
		rdb := redis.NewUniversalClient(tg.Options())
		c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := rdb.Set(c, key, "1", time.Minute).Err()
		cancel()
		rdb.Close()
		if err == nil {
			return time.Since(since)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return -1
}

func kill9(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatalf("INFO on %s: %v", addr, err)
	}
	var pid int
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid <= 0 {
		t.Fatalf("no process_id from %s", addr)
	}
	// A redis-server scripts/test-cluster.sh started for this run.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d (%s): %v", pid, addr, err)
	}
}

func (rep *report) check(t *testing.T, what string, recovered time.Duration, w *degradedWatch, killed time.Time) {
	t.Helper()
	rep.mu.Lock()
	lat := slices.Clone(rep.lat)
	redelivered := slices.Clone(rep.redelivered)
	rep.mu.Unlock()
	<-w.stopped
	// Every retry answered must have been answered from the stored reply:
	// one the bot handled again shows only in its count. A retry may be
	// handled again only while Redis was in trouble for some users (the
	// first delivery could not store its reply, or the retry could not
	// read it: both answered from content, no state written twice).
	handledAgain := len(redelivered) - int(metric(t, w.addr, "edubot_retries_deduplicated_total")-w.dedupStart)
	inTrouble := 0
	for _, r := range redelivered {
		if w.duringTrouble(r) {
			inTrouble++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Millisecond)
	}
	botRecovery := "no degraded reply"
	if !w.lastAt.IsZero() {
		botRecovery = fmt.Sprintf("last degraded reply %.1f s after the kill", w.lastAt.Sub(killed).Seconds())
	}
	t.Logf("%s: %d messages (+%d redelivered), %d answered; over 5 s %d, non-200 %d, lost %d, a different answer to a retry %d; "+
		"retries handled again instead of answered from the stored reply %d (%d of the %d answered retries overlapped a reply without Redis); "+
		"p50 %s p99 %s max %s; killed master's slots writable again after %.1f s; %d replies without Redis (%s)",
		what, rep.messages.Load(), rep.retries.Load(), rep.answered.Load(), rep.over5s.Load(), rep.non200.Load(), rep.lost.Load(),
		rep.doubled.Load(), handledAgain, inTrouble, len(redelivered),
		pct(0.5), pct(0.99), lat[len(lat)-1].Round(time.Millisecond), recovered.Seconds(), int(w.last-w.start), botRecovery)
	if rep.over5s.Load() != 0 || rep.non200.Load() != 0 || rep.lost.Load() != 0 || rep.doubled.Load() != 0 {
		t.Errorf("%s: want 0 over 5 s, 0 non-200, 0 lost, 0 different answers to a retry", what)
	}
	if handledAgain > inTrouble {
		t.Errorf("%s: %d retries handled again, but only %d were made while Redis was in trouble: de-duplication failed with Redis up",
			what, handledAgain, inTrouble)
	}
	if recovered < 0 || recovered > 15*time.Second {
		t.Errorf("%s: Redis did not recover within 15 s (%v)", what, recovered)
	}
	if rep.answered.Load() < 300 {
		t.Errorf("%s: only %d messages answered: not a load", what, rep.answered.Load())
	}
}

func TestFailoverCluster(t *testing.T) {
	tg := testredis.Get(t)
	if !tg.Cluster() {
		t.Fatal("TestFailoverCluster needs EDUBOT_TEST_REDIS_ADDRS naming Cluster nodes")
	}
	prefix := "fo:" + testredis.Unique() + ":"
	bot := edubot(t, "edubot", prefix, "")
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: tg.Addrs, MaxRedirects: 8})
	defer rdb.Close()
	ctx := context.Background()
	masters, replicaOf := clusterRoles(t, rdb)
	if len(masters) != 3 {
		t.Fatalf("want 3 masters, have %v", masters)
	}
	// Fail over the first master's replica on purpose; kill the second.
	planned, doomed := masters[0], masters[1]
	doomedKey := keyOn(t, rdb, doomed, prefix)

	lctx, cancel := context.WithTimeout(ctx, loadFor)
	defer cancel()
	w := watchDegraded(lctx, t, bot.addr)
	rep := &report{}
	done := make(chan struct{})
	go func() { runLoad(lctx, t, "http://"+bot.addr, rep); close(done) }()

	time.Sleep(failAt)
	rc := redis.NewClient(&redis.Options{Addr: replicaOf[planned]})
	if err := rc.Do(ctx, "cluster", "failover").Err(); err != nil {
		t.Errorf("CLUSTER FAILOVER on %s: %v", replicaOf[planned], err)
	}
	rc.Close()
	time.Sleep(killAt - failAt)
	killed := time.Now()
	kill9(t, doomed)
	recovered := probe(lctx, tg, doomedKey, killed)
	<-done
	rep.check(t, "Cluster", recovered, w, killed)
	after, _ := clusterRoles(t, rdb)
	if !slices.Contains(after, replicaOf[planned]) || !slices.Contains(after, replicaOf[doomed]) {
		t.Errorf("masters after: %v; want %s (planned) and %s (replaced the killed one) among them", after, replicaOf[planned], replicaOf[doomed])
	}
}

// clusterRoles lists the masters (address order) and each master's replica.
func clusterRoles(t *testing.T, rdb *redis.ClusterClient) ([]string, map[string]string) {
	t.Helper()
	nodes, err := rdb.ClusterNodes(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	var masters []string
	replicas := map[string]string{} // master id → replica addr
	for _, line := range strings.Split(strings.TrimSpace(nodes), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || strings.Contains(f[2], "fail") {
			continue
		}
		addr := strings.SplitN(f[1], "@", 2)[0]
		ids[f[0]] = addr
		if strings.Contains(f[2], "master") {
			masters = append(masters, addr)
		} else {
			replicas[f[3]] = addr
		}
	}
	replicaOf := map[string]string{}
	for id, r := range replicas {
		replicaOf[ids[id]] = r
	}
	slices.Sort(masters)
	return masters, replicaOf
}

// keyOn finds a key the given master serves.
func keyOn(t *testing.T, rdb *redis.ClusterClient, master, prefix string) string {
	t.Helper()
	slots, err := rdb.ClusterSlots(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100000; i++ {
		k := fmt.Sprintf("%sprobe:%d", prefix, i)
		s := testredis.Slot(k)
		for _, r := range slots {
			if s >= r.Start && s <= r.End && len(r.Nodes) > 0 && r.Nodes[0].Addr == master {
				return k
			}
		}
	}
	t.Fatalf("no key on %s", master)
	return ""
}

func TestFailoverSentinel(t *testing.T) {
	tg := testredis.Get(t)
	if tg.MasterName == "" {
		t.Fatal("TestFailoverSentinel needs EDUBOT_TEST_REDIS_MASTER_NAME and the Sentinels in EDUBOT_TEST_REDIS_ADDRS")
	}
	prefix := "fo:" + testredis.Unique() + ":"
	bot := edubot(t, "edubot", prefix, "")
	ctx := context.Background()
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: tg.Addrs[0]})
	defer sentinel.Close()
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: tg.MasterName, SentinelAddrs: tg.Addrs})
	defer rdb.Close()
	master := func() string {
		a, err := sentinel.GetMasterAddrByName(ctx, tg.MasterName).Result()
		if err != nil || len(a) != 2 {
			t.Fatalf("master address: %v %v", a, err)
		}
		return a[0] + ":" + a[1]
	}
	first := master()

	lctx, cancel := context.WithTimeout(ctx, loadFor)
	defer cancel()
	w := watchDegraded(lctx, t, bot.addr)
	rep := &report{}
	done := make(chan struct{})
	go func() { runLoad(lctx, t, "http://"+bot.addr, rep); close(done) }()

	time.Sleep(failAt)
	if err := sentinel.Failover(ctx, tg.MasterName).Err(); err != nil {
		t.Errorf("SENTINEL FAILOVER: %v", err)
	}
	// The kill must hit the new master, once the sentinels have switched.
	var second string
	for deadline := time.Now().Add(killAt - failAt); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if second = master(); second != first {
			break
		}
	}
	if second == first {
		t.Fatalf("SENTINEL FAILOVER did not move the master from %s", first)
	}
	time.Sleep(time.Second) // the old master resyncs as the new one's replica
	killed := time.Now()
	kill9(t, second)
	recovered := probe(lctx, tg, prefix+"probe", killed)
	<-done
	rep.check(t, "Sentinel", recovered, w, killed)
	if third := master(); third == second {
		t.Errorf("the sentinels kept the killed master %s", second)
	}
}
