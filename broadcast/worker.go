package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/internal/wxapi"
)

// csWindow and csPerWindow are WeChat's customer-service limits.
const (
	csWindow     = 48 * time.Hour
	csPerWindow  = 5
	maxMassTries = 5
)

// Run processes broadcast jobs with the configured number of workers until
// ctx is cancelled (pass the server-lifetime context), then returns after
// the workers have stopped. Work a stopped or crashed worker held is taken
// over by any worker after ClaimIdle.
func (s *Service) Run(ctx context.Context) error {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	base := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	var wg sync.WaitGroup
	for i := 0; i < s.o.Workers; i++ {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			s.worker(ctx, name)
		}(fmt.Sprintf("%s-%d", base, i))
	}
	s.log.Info("broadcast workers started", "workers", s.o.Workers)
	wg.Wait()
	s.log.Info("broadcast workers stopped")
	return nil
}

func (s *Service) worker(ctx context.Context, consumer string) {
	idle := time.NewTimer(0)
	defer idle.Stop()
	for ctx.Err() == nil {
		ids, err := s.rdb.SMembers(ctx, s.activeKey()).Result()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("broadcast: list active jobs", "err", err)
		}
		sort.Strings(ids) // oldest first
		worked := false
		for _, id := range ids {
			if ctx.Err() != nil {
				return
			}
			n, err := s.poll(ctx, consumer, id)
			if errors.Is(err, errCrash) {
				return // stopping, or a crash simulated by a test
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("broadcast: worker", "job", id, "err", err)
			}
			worked = worked || n > 0
		}
		if worked {
			continue
		}
		idle.Reset(s.o.Poll)
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
		}
	}
}

// poll takes up to a few work items of one job — first those a crashed
// worker left behind, then new ones — and processes them.
func (s *Service) poll(ctx context.Context, consumer, id string) (int, error) {
	q := s.queueKey(id)
	msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: q, Group: group, Consumer: consumer, MinIdle: s.o.ClaimIdle, Start: "0-0", Count: 5,
	}).Result()
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		return 0, s.rdb.SRem(ctx, s.activeKey(), id).Err()
	}
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	if len(msgs) == 0 {
		streams, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: consumer, Streams: []string{q, ">"}, Count: 5, Block: -1,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("read: %w", err)
		}
		for _, st := range streams {
			msgs = append(msgs, st.Messages...)
		}
	}
	if len(msgs) == 0 {
		return 0, s.maybeRetire(ctx, id)
	}
	for _, m := range msgs {
		if ctx.Err() != nil {
			// Stopping: what is left stays pending and is claimed later.
			return 0, nil
		}
		if err := s.process(ctx, id, m); err != nil {
			if errors.Is(err, errCrash) {
				return 0, err
			}
			if errors.Is(err, errRetry) {
				continue // left pending: retried after ClaimIdle
			}
			s.log.Warn("broadcast: work item", "job", id, "err", err)
			continue
		}
		ack := context.WithoutCancel(ctx)
		if err := s.rdb.XAck(ack, q, group, m.ID).Err(); err != nil {
			return 0, fmt.Errorf("ack: %w", err)
		}
		s.rdb.XDel(ack, q, m.ID)
	}
	return len(msgs), nil
}

// retireScript deletes a job's drained queue once the job is over, in
// one step: a resend (ResendInterrupted) that reopens the job and queues
// work in between is never deleted with it. KEYS: job, queue.
var retireScript = redis.NewScript(`
local s = redis.call("HGET", KEYS[1], "state")
if s and s ~= "done" and s ~= "cancelled" and s ~= "failed" and s ~= "submitted" then return 0 end
if redis.call("XLEN", KEYS[2]) > 0 then return 0 end
redis.call("DEL", KEYS[2])
return 1`)

// maybeRetire drops a job from the active set once it is over and its
// queue is drained.
func (s *Service) maybeRetire(ctx context.Context, id string) error {
	n, err := retireScript.Run(ctx, s.rdb, []string{s.jobKey(id), s.queueKey(id)}).Int()
	if err != nil || n == 0 {
		return err
	}
	s.finishJob(ctx, id)
	// A resend may have reopened the job after the script and before the
	// job left the active set: put it back.
	if state, err := s.rdb.HGet(ctx, s.jobKey(id), "state").Result(); err == nil && state == StateRunning {
		return s.rdb.SAdd(ctx, s.activeKey(), id).Err()
	}
	return nil
}

// finishJob stamps the end of a stopped job and retires it.
func (s *Service) finishJob(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	state, _ := s.rdb.HGet(ctx, s.jobKey(id), "state").Result()
	if state == StateCancelled || state == StateFailed {
		s.rdb.HSetNX(ctx, s.jobKey(id), "finished_at", s.now().UnixMilli())
	}
	s.rdb.SRem(ctx, s.activeKey(), id)
}

var (
	errCrash = errors.New("simulated crash")
	errRetry = errors.New("retry later")
)

func (s *Service) process(ctx context.Context, id string, m redis.XMessage) error {
	op, _ := m.Values["op"].(string)
	switch op {
	case "expand":
		return s.expand(ctx, id)
	case "send":
		to, _ := m.Values["to"].(string)
		last, _ := strconv.ParseInt(fmt.Sprint(m.Values["last"]), 10, 64)
		return s.sendOne(ctx, id, to, time.Unix(last, 0))
	case "mass":
		return s.massSend(ctx, id, m)
	}
	return fmt.Errorf("unknown work item %q", op)
}

// expand turns a confirmed subscriber broadcast into one work item per
// subscriber, in one script: a retried expand adds nothing. ARGV: TTL of
// the results, now (ms), then openid and last-message time pairs.
var expandScript = redis.NewScript(`
if redis.call("HGET", KEYS[1], "state") ~= "queued" then return -1 end
local n = 0
for i = 3, #ARGV, 2 do
  if redis.call("HSETNX", KEYS[2], ARGV[i], "queued") == 1 then
    redis.call("XADD", KEYS[3], "*", "op", "send", "to", ARGV[i], "last", ARGV[i+1])
    n = n + 1
  end
end
redis.call("EXPIRE", KEYS[2], ARGV[1])
if n == 0 then
  redis.call("HSET", KEYS[1], "total", 0, "state", "done", "finished_at", ARGV[2])
else
  redis.call("HSET", KEYS[1], "total", n, "state", "running")
end
return n`)

func (s *Service) expand(ctx context.Context, id string) error {
	j, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if j.State != StateQueued {
		return nil
	}
	last := map[string]time.Time{}
	for _, tag := range strings.Split(j.Tag, ",") {
		subs, err := s.o.Subscribers.Subscribers(ctx, tag)
		if err != nil {
			return fmt.Errorf("subscribers of %s: %w", tag, err)
		}
		for _, sub := range subs {
			if sub.OpenID == "" {
				continue
			}
			if t, ok := last[sub.OpenID]; !ok || sub.LastMessage.After(t) {
				last[sub.OpenID] = sub.LastMessage
			}
		}
	}
	openids := make([]string, 0, len(last))
	for o := range last {
		openids = append(openids, o)
	}
	sort.Strings(openids)
	args := []any{int(resultTTL.Seconds()), s.now().UnixMilli()} // finished_at, for an empty job
	for _, o := range openids {
		args = append(args, o, last[o].Unix())
	}
	n, err := expandScript.Run(ctx, s.rdb, []string{s.jobKey(id), s.rcptKey(id), s.queueKey(id)}, args...).Int()
	if err != nil {
		return fmt.Errorf("expand: %w", err)
	}
	if n >= 0 {
		s.log.Info("broadcast started", "job", id, "recipients", n)
	}
	return nil
}

// claimScript is the per-recipient marker: queued → "sending:T" (T the
// claim time, ms), once. ARGV: openid, now (ms), how long a claim may
// legitimately be in flight (ms). It returns ok; cancelled (the job was
// stopped meanwhile); busy (another worker is sending right now — the
// work item was taken over while its holder was still at it); interrupted
// (a claim older than that: its worker died mid-send); or done.
var claimScript = redis.NewScript(`
local v = redis.call("HGET", KEYS[2], ARGV[1])
local s = redis.call("HGET", KEYS[1], "state")
if v == "queued" and (s == "cancelled" or s == "failed") then return "cancelled" end
if v == "queued" then redis.call("HSET", KEYS[2], ARGV[1], "sending:" .. ARGV[2]) return "ok" end
if v and string.sub(v, 1, 8) == "sending:" then
  local at = tonumber(string.sub(v, 9)) or 0
  if tonumber(ARGV[2]) - at < tonumber(ARGV[3]) then return "busy" end
  return "interrupted"
end
return "done"`)

// finishScript records one recipient's result and the job's counters; the
// job is done when every recipient has a result.
var finishScript = redis.NewScript(`
local v = redis.call("HGET", KEYS[2], ARGV[1])
if v ~= "queued" and string.sub(v or "", 1, 8) ~= "sending:" then return 0 end
redis.call("HSET", KEYS[2], ARGV[1], ARGV[2])
redis.call("HINCRBY", KEYS[1], ARGV[3], 1)
if ARGV[4] ~= "" then redis.call("HINCRBY", KEYS[1], ARGV[4], 1) end
local h = redis.call("HMGET", KEYS[1], "total", "sent", "skipped", "failed", "cancelled", "state")
local done = 0
for i = 2, 5 do done = done + (tonumber(h[i]) or 0) end
if done >= (tonumber(h[1]) or 0) then
  if h[6] == "running" then redis.call("HSET", KEYS[1], "state", "done") end
  redis.call("HSETNX", KEYS[1], "finished_at", ARGV[5])
end
return 1`)

// record stores a recipient's result: counter is sent, skipped, failed or
// cancelled; detail ("skip:REASON", "err:CODE") is counted too.
func (s *Service) record(ctx context.Context, id, openid, result, counter, detail string) error {
	ctx = context.WithoutCancel(ctx)
	return finishScript.Run(ctx, s.rdb, []string{s.jobKey(id), s.rcptKey(id)},
		openid, result, counter, detail, s.now().UnixMilli()).Err()
}

func (s *Service) sendOne(ctx context.Context, id, openid string, last time.Time) error {
	now := s.now()
	if last.IsZero() || now.Sub(last) > csWindow {
		// Nothing may go out, so there is nothing to claim.
		return s.record(ctx, id, openid, "skipped:"+SkipOutsideWindow, "skipped", "skip:"+SkipOutsideWindow)
	}
	// The rate limit is waited for before the claim, so a claim's age is
	// the time of one send only.
	if err := s.wait(ctx); err != nil {
		if ctx.Err() != nil {
			return errCrash // stopping: the item stays pending for whoever takes it over
		}
		// A Redis error is not a stop: the worker goes on, the item stays
		// pending and is taken over after ClaimIdle.
		return fmt.Errorf("rate limit: %w", err)
	}
	// Claim ages use the wall clock (worker liveness), not the injected one.
	claim, err := claimScript.Run(ctx, s.rdb, []string{s.jobKey(id), s.rcptKey(id)},
		openid, time.Now().UnixMilli(), (s.o.SendTimeout + time.Second).Milliseconds()).Text()
	if err != nil {
		return fmt.Errorf("claim recipient: %w", err)
	}
	switch claim {
	case "cancelled":
		return s.record(ctx, id, openid, "cancelled", "cancelled", "")
	case "done":
		return nil
	case "busy":
		return errRetry
	case "interrupted":
		// A worker stopped between marking and recording: the message may
		// have gone out. Never risk sending it twice.
		s.log.Warn("broadcast: recipient interrupted mid-send; not resent", "job", id)
		return s.record(ctx, id, openid, ResultInterrupted, "failed", "err:interrupted")
	}
	// WeChat allows 5 customer-service messages per user message.
	csKey := s.userCSKey(openid, last)
	pipe := s.rdb.TxPipeline()
	cnt := pipe.Incr(ctx, csKey)
	pipe.Expire(ctx, csKey, last.Add(csWindow).Sub(now)) // relative: the injected clock, not Redis's
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("user quota: %w", err)
	}
	if cnt.Val() > csPerWindow {
		return s.record(ctx, id, openid, "skipped:"+SkipUserQuota, "skipped", "skip:"+SkipUserQuota)
	}
	j, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if s.beforeSend != nil {
		if err := s.beforeSend(id, openid); err != nil {
			return errCrash
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.SendTimeout)
	err = s.o.API.SendNews(sctx, openid, toAPI(j.Article))
	cancel()
	switch {
	case err == nil:
		return s.record(ctx, id, openid, "sent", "sent", "")
	case errors.Is(err, wxapi.ErrOutsideWindow):
		return s.record(ctx, id, openid, "skipped:"+SkipOutsideWindow, "skipped", "skip:"+SkipOutsideWindow)
	case errors.Is(err, wxapi.ErrTooManyMessages):
		return s.record(ctx, id, openid, "skipped:"+SkipUserQuota, "skipped", "skip:"+SkipUserQuota)
	}
	code := "network"
	if c := wxapi.Code(err); c != 0 {
		code = strconv.Itoa(c)
	}
	if rerr := s.record(ctx, id, openid, "failed:"+code, "failed", "err:"+code); rerr != nil {
		return rerr
	}
	if wxapi.Fatal(err) {
		// Every further call would fail the same way: stop the job.
		s.rdb.HSet(context.WithoutCancel(ctx), s.jobKey(id), "state", StateFailed, "error", err.Error())
		s.log.Error("broadcast stopped by WeChat", "job", id, "err", err)
	}
	return nil
}

var rateScript = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("EXPIRE", KEYS[1], 2) end
return n`)

// wait blocks until the shared rate limit allows one more message:
// RatePerSecond across every replica, counted per wall-clock second.
func (s *Service) wait(ctx context.Context) error {
	for {
		now := time.Now()
		key := s.o.Prefix + "bc:rate:" + strconv.FormatInt(now.Unix(), 10)
		n, err := rateScript.Run(ctx, s.rdb, []string{key}).Int()
		if err != nil {
			return err
		}
		if n <= s.o.RatePerSecond {
			if s.granted != nil {
				s.granted(now.Unix())
			}
			return nil
		}
		t := time.NewTimer(now.Truncate(time.Second).Add(time.Second).Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// massStart: queued → sending; sending again when a worker died mid-call
// (the clientmsgid makes the repeat harmless). Returns the attempt number
// or -1 when the job is no longer to be sent.
var massStart = redis.NewScript(`
local s = redis.call("HGET", KEYS[1], "state")
if s ~= "queued" and s ~= "sending" then return -1 end
redis.call("HSET", KEYS[1], "state", "sending")
return redis.call("HINCRBY", KEYS[1], "attempts", 1)`)

func (s *Service) massSend(ctx context.Context, id string, _ redis.XMessage) error {
	attempt, err := massStart.Run(ctx, s.rdb, []string{s.jobKey(id)}).Int()
	if err != nil {
		return fmt.Errorf("mass: %w", err)
	}
	if attempt < 0 {
		return nil
	}
	j, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	to := wxapi.MassTarget{ToAll: j.Channel == ChannelAll, TagID: j.TagID}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.SendTimeout)
	msgID, err := s.sendMass(sctx, j, to)
	cancel()
	bg := context.WithoutCancel(ctx)
	if err != nil {
		if wxapi.Code(err) == 0 && attempt < maxMassTries {
			// Network trouble: WeChat may or may not have it; the retry
			// carries the same clientmsgid.
			s.log.Warn("broadcast: mass send failed; will retry", "job", id, "attempt", attempt, "err", err)
			return errRetry
		}
		if !errors.Is(err, wxapi.ErrMassQuota) {
			s.releaseQuota(bg, id) // nothing went out
		}
		s.rdb.HSet(bg, s.jobKey(id), "state", StateFailed, "error", err.Error(), "finished_at", s.now().UnixMilli())
		s.log.Error("broadcast: mass send refused", "job", id, "err", err)
		return nil
	}
	// msg_id → job first (another slot than the job, so not in one MULTI):
	// MASSSENDJOBFINISH can find the job as soon as it is marked submitted.
	// If the second write is lost, the job stays "sending" and the retry
	// carries the same clientmsgid, which WeChat does not send twice.
	if err := s.rdb.Set(bg, s.massKey(msgID), id, resultTTL).Err(); err != nil {
		return fmt.Errorf("mass: record: %w", err)
	}
	if err := s.rdb.HSet(bg, s.jobKey(id), "state", StateSubmitted, "msg_id", msgID).Err(); err != nil {
		return fmt.Errorf("mass: record: %w", err)
	}
	s.log.Info("mass send submitted", "job", id, "msg_id", msgID)
	return nil
}

// sendMass makes the sendall call: 图文 from the job's draft, or text. A
// draft WeChat no longer knows (40007: deleted in the editor, or never
// made) is uploaded again, once.
func (s *Service) sendMass(ctx context.Context, j *Job, to wxapi.MassTarget) (int64, error) {
	if j.Format != FormatNews {
		return s.o.API.MassSendText(ctx, to, j.Text, j.ID)
	}
	for try := 0; ; try++ {
		mediaID, err := s.draftFor(ctx, j)
		if err != nil {
			return 0, err
		}
		msgID, err := s.o.API.MassSendNews(ctx, to, mediaID, s.o.SendIgnoreReprint, j.ID)
		if try == 0 && errors.Is(err, wxapi.ErrInvalidMedia) {
			s.log.Warn("broadcast: WeChat does not know the draft; uploading it again", "job", j.ID)
			if err := s.rdb.HDel(ctx, s.jobKey(j.ID), "media_id").Err(); err != nil {
				return 0, fmt.Errorf("mass: %w", err)
			}
			continue
		}
		return msgID, err
	}
}
