package embedredis

import (
	"container/heap"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// expirer removes keys when their TTL runs out, without miniredis's
// FastForward: that walks and sorts every key (allKeys) and was 23–60% of
// the embedded server's CPU at 4 calls a second with tens of thousands of
// keys. Instead the hook reads, after every command that can set a TTL
// (SET, SETEX, EXPIRE…, and scripts: their KEYS), the TTL miniredis holds
// and files the key's deadline in a min-heap; a tick deletes the keys
// whose deadline passed. Keys whose TTL was set some other way (a client
// without the hook, a script touching keys it did not declare) still
// expire by a rare full FastForward sweep (sweepEvery).
//
// Before deleting, the expirer checks that the TTL miniredis holds is still
// the one we filed (minus the sweeps since): a TTL changed behind our back
// (PERSIST, SET without EX, an undeclared key) is left to the sweep rather
// than deleted early. Commands hold gate for reading while they run and
// the expirer holds it for writing while it checks and deletes, so a key
// re-written at the moment it expires is not deleted after the write.
type expirer struct {
	gate sync.RWMutex // commands: RLock; check-and-delete and sweeps: Lock

	mu   sync.Mutex
	recs map[string]*ttlRec
	h    deadlineHeap
	// swept is the total FastForward so far: miniredis's TTLs have been
	// lowered by it, so a TTL filed at swept=a reads ttl-(swept-a) now.
	swept time.Duration
}

// ttlRec is what we know of one key's TTL.
type ttlRec struct {
	deadline time.Time     // when the key expires
	ttl      time.Duration // the TTL miniredis held when we filed it…
	sweptAt  time.Duration // …at this total FastForward
	queued   time.Time     // the earliest deadline of this key in the heap (zero: none)
}

type heapItem struct {
	at  time.Time
	key string
}

type deadlineHeap []heapItem

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(heapItem)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// file records that key has ttl left now (as miniredis holds it). The
// caller holds gate (either way), so no sweep runs meanwhile.
func (e *expirer) file(key string, ttl time.Duration, now time.Time) {
	if ttl <= 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.recs == nil {
		e.recs = map[string]*ttlRec{}
	}
	r := e.recs[key]
	if r == nil {
		r = &ttlRec{}
		e.recs[key] = r
	}
	r.deadline, r.ttl, r.sweptAt = now.Add(ttl), ttl, e.swept
	// A later deadline (a sliding session, a re-armed key) needs no new
	// heap entry: the earlier one is re-queued when it comes due. Only an
	// earlier one is pushed, so the heap holds about one entry per key.
	if r.queued.IsZero() || r.deadline.Before(r.queued) {
		r.queued = r.deadline
		heap.Push(&e.h, heapItem{at: r.deadline, key: key})
	}
}

// remaining is key's TTL by the wall clock, when we know it and miniredis
// still holds the TTL we filed (held is what miniredis holds now).
func (e *expirer) remaining(key string, held time.Duration, now time.Time) (time.Duration, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.recs[key]
	if r == nil || held != r.ttl-(e.swept-r.sweptAt) {
		return 0, false
	}
	return r.deadline.Sub(now), true
}

// due pops the keys whose deadline passed; keys whose deadline moved later
// are re-queued. The caller holds gate for writing.
func (e *expirer) due(now time.Time) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var keys []string
	for len(e.h) > 0 && !e.h[0].at.After(now) {
		it := heap.Pop(&e.h).(heapItem)
		r := e.recs[it.key]
		if r == nil || !r.queued.Equal(it.at) {
			continue // a stale entry: a newer, earlier one was pushed
		}
		if r.deadline.After(now) {
			r.queued = r.deadline
			heap.Push(&e.h, heapItem{at: r.deadline, key: it.key})
			continue
		}
		keys = append(keys, it.key)
	}
	return keys
}

// expired reports whether miniredis still holds the TTL filed for key (so
// it is the key we filed, not one re-written since), and forgets the key.
func (e *expirer) expired(key string, held time.Duration) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.recs[key]
	delete(e.recs, key)
	return r != nil && held == r.ttl-(e.swept-r.sweptAt)
}

// expireDue deletes the keys whose TTL ran out.
func (s *Server) expireDue(now time.Time) {
	e := &s.exp
	e.gate.Lock()
	defer e.gate.Unlock()
	for _, k := range e.due(now) {
		if e.expired(k, s.mr.TTL(k)) {
			s.mr.Del(k)
		}
	}
}

// sweep is the fallback: miniredis's own FastForward over every key.
func (s *Server) sweep(d time.Duration) {
	e := &s.exp
	e.gate.Lock()
	defer e.gate.Unlock()
	s.mr.FastForward(d)
	e.mu.Lock()
	e.swept += d
	e.mu.Unlock()
}

// blocking commands wait for data; they must not hold gate (the expirer
// would wait for them, and every other command behind it).
func blocking(name string) bool {
	switch name {
	case "blpop", "brpop", "blmove", "brpoplpush", "bzpopmin", "bzpopmax", "blmpop", "bzmpop",
		"xread", "xreadgroup", "wait", "subscribe", "psubscribe":
		return true
	}
	return false
}

// ttlKeys are the keys whose TTL cmd may have set.
func ttlKeys(cmd redis.Cmder) []string {
	args := cmd.Args()
	if len(args) < 2 {
		return nil
	}
	switch strings.ToLower(cmd.Name()) {
	case "set":
		if len(args) > 3 {
			return []string{argString(args[1])}
		}
	case "setex", "psetex", "getex", "expire", "pexpire", "expireat", "pexpireat":
		return []string{argString(args[1])}
	case "eval", "evalsha", "evalsha_ro", "eval_ro", "fcall", "fcall_ro":
		if len(args) < 3 {
			return nil
		}
		n, err := strconv.Atoi(argString(args[2]))
		if err != nil || n <= 0 || 3+n > len(args) {
			return nil
		}
		keys := make([]string, n)
		for i, a := range args[3 : 3+n] {
			keys[i] = argString(a)
		}
		return keys
	}
	return nil
}

// observe files the TTLs cmd set. The caller holds gate for reading.
func (s *Server) observe(cmd redis.Cmder, now time.Time) {
	for _, k := range ttlKeys(cmd) {
		s.exp.file(k, s.mr.TTL(k), now)
	}
}

// answerTTL answers TTL and PTTL from the wall-clock deadline: miniredis's
// own TTLs only go down at a sweep. It reports whether it answered.
func (s *Server) answerTTL(cmd redis.Cmder) bool {
	name := strings.ToLower(cmd.Name())
	if name != "ttl" && name != "pttl" {
		return false
	}
	args := cmd.Args()
	c, ok := cmd.(*redis.DurationCmd)
	if !ok || len(args) != 2 {
		return false
	}
	now := time.Now()
	left, ok := s.exp.remaining(argString(args[1]), s.mr.TTL(argString(args[1])), now)
	if !ok {
		return false
	}
	if left < time.Millisecond {
		left = time.Millisecond // due: the expirer removes it at its next tick
	}
	if name == "ttl" {
		left = (left + 500*time.Millisecond).Truncate(time.Second) // as Redis rounds
	} else {
		left = left.Truncate(time.Millisecond)
	}
	c.SetVal(left)
	return true
}
