package broadcast

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ResultInterrupted is the result of a recipient whose send was in flight
// when its worker's process died: WeChat's customer-service API has no
// idempotency key, so whether the message went out is unknown, and it is
// never sent again by itself.
const ResultInterrupted = "failed:interrupted"

// resendScript queues the interrupted recipients of a finished job again
// (KEYS: job, results, queue; ARGV: results TTL, then openid and
// last-message time pairs). The queue was deleted when the job retired:
// MKSTREAM makes it again. It returns how many were queued, or -1 when the
// job is not done.
var resendScript = redis.NewScript(`
if redis.call("HGET", KEYS[1], "state") ~= "done" then return -1 end
redis.pcall("XGROUP", "CREATE", KEYS[3], "w", "0", "MKSTREAM")
local n = 0
for i = 2, #ARGV, 2 do
  if redis.call("HGET", KEYS[2], ARGV[i]) == "failed:interrupted" then
    redis.call("HSET", KEYS[2], ARGV[i], "queued")
    redis.call("XADD", KEYS[3], "*", "op", "send", "to", ARGV[i], "last", ARGV[i+1])
    n = n + 1
  end
end
if n > 0 then
  redis.call("HINCRBY", KEYS[1], "failed", -n)
  if redis.call("HINCRBY", KEYS[1], "err:interrupted", -n) <= 0 then redis.call("HDEL", KEYS[1], "err:interrupted") end
  redis.call("HINCRBY", KEYS[1], "resent", n)
  redis.call("HSET", KEYS[1], "state", "running")
  redis.call("HDEL", KEYS[1], "finished_at")
  redis.call("EXPIRE", KEYS[2], ARGV[1])
end
return n`)

// ResendInterrupted sends a finished subscriber broadcast again to its
// interrupted recipients (ResultInterrupted) who are still subscribed to
// one of its tags: a publisher's choice of a possible second message over
// a possibly missing one. The usual rules apply (48-hour window, per-user
// quota, rate). It returns the job and how many were queued again.
func (s *Service) ResendInterrupted(ctx context.Context, id, actor string) (*Job, int, error) {
	j, err := s.Get(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if j.Channel != ChannelSubscribers {
		return nil, 0, stateErr(id, j.State, "only a broadcast to subscribers has interrupted recipients (a mass send is not sent twice by WeChat)")
	}
	if j.State != StateDone {
		return nil, 0, stateErr(id, j.State, "only a finished broadcast can be resent to its interrupted recipients")
	}
	results, err := s.rdb.HGetAll(ctx, s.rcptKey(id)).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("broadcast: resend %s: %w", id, err)
	}
	interrupted := map[string]bool{}
	for openid, r := range results {
		if r == ResultInterrupted {
			interrupted[openid] = true
		}
	}
	if len(interrupted) == 0 {
		return j, 0, nil
	}
	// The time of each one's last message, as a new job would have it;
	// someone no longer subscribed is left as they are.
	last := map[string]int64{}
	for _, tag := range strings.Split(j.Tag, ",") {
		subs, err := s.o.Subscribers.Subscribers(ctx, tag)
		if err != nil {
			return nil, 0, fmt.Errorf("broadcast: resend %s: subscribers of %s: %w", id, tag, err)
		}
		for _, sub := range subs {
			if interrupted[sub.OpenID] && sub.LastMessage.Unix() > last[sub.OpenID] {
				last[sub.OpenID] = sub.LastMessage.Unix()
			}
		}
	}
	args := []any{int(resultTTL.Seconds())}
	for openid, t := range last {
		args = append(args, openid, t)
	}
	// Active before the work exists (a crash after the script still leaves
	// it found), and again after: a worker retiring the job meanwhile may
	// have removed it (maybeRetire puts it back too).
	if err := s.rdb.SAdd(ctx, s.activeKey(), id).Err(); err != nil {
		return nil, 0, fmt.Errorf("broadcast: resend %s: %w", id, err)
	}
	n, err := resendScript.Run(ctx, s.rdb, []string{s.jobKey(id), s.rcptKey(id), s.queueKey(id)}, args...).Int()
	if err != nil {
		return nil, 0, fmt.Errorf("broadcast: resend %s: %w", id, err)
	}
	if n < 0 {
		j, _ := s.Get(ctx, id)
		state := "gone"
		if j != nil {
			state = j.State
		}
		return nil, 0, stateErr(id, state, "only a finished broadcast can be resent to its interrupted recipients")
	}
	if err := s.rdb.SAdd(ctx, s.activeKey(), id).Err(); err != nil {
		return nil, 0, fmt.Errorf("broadcast: resend %s: %w", id, err)
	}
	s.log.Info("broadcast resent to interrupted recipients", "job", id, "queued", n, "interrupted", len(interrupted), "by", actor)
	j, err = s.Get(ctx, id)
	return j, n, err
}
