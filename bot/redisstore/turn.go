package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
)

var _ bot.TurnStore = (*Store)(nil)

// beginScript is Claim, Allow and Load in one round trip, each step only
// when the one before let the message through — the same as the single
// calls, minus four round trips. The rate limit is redis_rate's GCRA
// (github.com/go-redis/redis_rate/v10, allowN with cost 1) on the same key
// and with the same stored value, so Allow and Begin count together.
//
// KEYS: dedup, rate ("rate:" + rateKey), seen, session, profile, handoff,
// the user's key index.
// ARGV: claim (0/1), dedup TTL ms, pending value, per minute (0: not
// counted), load (0/1), now (unix s), seen TTL ms, index margin ms.
// Returns {claimed, stored reply|nil, allowed (-1: not rated), loaded,
// session|nil, profile|nil, handoff|nil}.
var beginScript = redis.NewScript(beginLua)

const beginLua = `
redis.replicate_commands()
if ARGV[1] == "1" then
  if not redis.call("SET", KEYS[1], ARGV[3], "PX", ARGV[2], "NX") then
    return {0, redis.call("GET", KEYS[1]), -1, 0}
  end
  -- The user's key index (Forget deletes by it, without SCAN).
  local t = redis.call("TIME")
  local ms = t[1] * 1000 + math.floor(t[2] / 1000)
  local keep = tonumber(ARGV[2]) + tonumber(ARGV[8])
  redis.call("ZADD", KEYS[7], ms + keep, KEYS[1])
  redis.call("ZREMRANGEBYSCORE", KEYS[7], "-inf", ms)
  redis.call("PEXPIRE", KEYS[7], keep)
end
local allowed = -1
local per_minute = tonumber(ARGV[4])
if per_minute > 0 then
  local emission_interval = 60 / per_minute
  local burst_offset = emission_interval * per_minute
  local now = redis.call("TIME")
  now = (now[1] - 1483228800) + (now[2] / 1000000)
  local tat = redis.call("GET", KEYS[2])
  if not tat then
    tat = now
  else
    tat = tonumber(tat)
  end
  tat = math.max(tat, now)
  local new_tat = tat + emission_interval
  if now - (new_tat - burst_offset) < 0 then
    return {1, false, 0, 0}
  end
  local reset_after = new_tat - now
  if reset_after > 0 then
    redis.call("SET", KEYS[2], new_tat, "EX", math.ceil(reset_after))
  end
  allowed = 1
end
if ARGV[5] ~= "1" then
  return {1, false, allowed, 0}
end
redis.call("SET", KEYS[3], ARGV[6], "PX", ARGV[7])
return {1, false, allowed, 1, redis.call("GET", KEYS[4]), redis.call("GET", KEYS[5]), redis.call("GET", KEYS[6])}
`

// Begin implements bot.TurnStore.
func (s *Store) Begin(ctx context.Context, user string, req bot.BeginTurn) (bot.Begun, error) {
	keys := []string{
		s.user(user, kDedup+req.ID), "rate:" + s.rateKey(user), // redis_rate's own prefix
		s.user(user, kSeen), s.user(user, kSession), s.user(user, kProfile), s.user(user, kHandoff),
		s.user(user, kKeys),
	}
	perMinute := max(req.PerMinute, 0)
	args := []any{flag(req.ID != ""), req.DedupTTL.Milliseconds(), pending,
		perMinute, flag(req.Load), req.Now.Unix(), req.SeenTTL.Milliseconds(), keysMargin.Milliseconds()}
	v, err := s.begin(ctx, keys, args)
	if err != nil {
		return bot.Begun{}, fmt.Errorf("redisstore: begin: %w", err)
	}
	if len(v) < 4 {
		return bot.Begun{}, fmt.Errorf("redisstore: begin: %d values", len(v))
	}
	var b bot.Begun
	b.Claimed = v[0] == int64(1)
	if !b.Claimed {
		if stored, ok := v[1].(string); ok && stored != pending {
			if err := json.Unmarshal([]byte(stored), &b.Reply); err != nil {
				return bot.Begun{}, fmt.Errorf("redisstore: begin: stored reply: %w", err)
			}
			b.Done = true
		}
		return b, nil
	}
	if a, _ := v[2].(int64); a >= 0 {
		b.Rated, b.Allowed = true, a == 1
	}
	if v[3] != int64(1) || len(v) < 7 {
		return b, nil
	}
	b.Loaded = true
	if err := decodeValue(v[4], &b.State.Session); err != nil {
		return bot.Begun{}, fmt.Errorf("redisstore: begin: session: %w", err)
	}
	if err := decodeValue(v[5], &b.State.Profile); err != nil {
		return bot.Begun{}, fmt.Errorf("redisstore: begin: profile: %w", err)
	}
	if h, ok := v[6].(string); ok {
		if at, err := strconv.ParseInt(h, 10, 64); err == nil {
			b.State.Handoff = time.Unix(at, 0)
		}
	}
	return b, nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodeValue reads a JSON value returned by a script; nil (no key)
// leaves v as it is.
func decodeValue(x any, v any) error {
	s, ok := x.(string)
	if !ok {
		if x == nil {
			return nil
		}
		return errors.New("not a string")
	}
	return json.Unmarshal([]byte(s), v)
}

// End implements bot.TurnStore in one round trip.
func (s *Store) End(ctx context.Context, user string, e bot.EndTurn) error {
	if e.Session == nil && e.ID == "" && e.Said == "" {
		return nil
	}
	var session, reply []byte
	var err error
	if e.Session != nil {
		if session, err = json.Marshal(e.Session); err != nil {
			return fmt.Errorf("redisstore: end: session: %w", err)
		}
	}
	if e.ID != "" {
		if reply, err = json.Marshal(e.Reply); err != nil {
			return fmt.Errorf("redisstore: end: reply: %w", err)
		}
	}
	logged := s.turnLog(e)
	queue := func(pipe redis.Pipeliner) {
		if session != nil {
			pipe.Set(ctx, s.user(user, kSession), session, e.SessionTTL)
		}
		if reply != nil {
			pipe.Set(ctx, s.user(user, kDedup+e.ID), reply, e.DedupTTL)
		}
		if logged != nil {
			k := s.user(user, kLog)
			pipe.RPush(ctx, k, logged)
			pipe.LTrim(ctx, k, -maxTurns, -1)
			pipe.PExpire(ctx, k, e.SessionTTL)
		}
	}
	if s.batch == nil {
		pipe := s.rdb.Pipeline()
		queue(pipe)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("redisstore: end: %w", err)
		}
		return nil
	}
	// Shared with other requests' commands: this turn's own commands
	// carry its errors.
	var cmds []redis.Cmder
	if err := s.batch.Do(ctx, func(p redis.Pipeliner) {
		n := p.Len()
		queue(p)
		cmds = p.Cmds()[n:]
	}); err != nil {
		return fmt.Errorf("redisstore: end: %w", err)
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return fmt.Errorf("redisstore: end: %w", err)
		}
	}
	return nil
}

// begin runs the begin script, in a round trip shared with other
// requests when the store has a batcher. A server that does not know the
// script yet (NOSCRIPT: first use, a restarted or failed-over node) gets
// it by a round trip of this request's own.
func (s *Store) begin(ctx context.Context, keys []string, args []any) ([]any, error) {
	if s.beginBatch == nil {
		return beginScript.Run(ctx, s.rdb, keys, args...).Slice()
	}
	var cmd *redis.Cmd
	if err := s.beginBatch.Do(ctx, func(p redis.Pipeliner) { cmd = beginScript.EvalSha(ctx, p, keys, args...) }); err != nil {
		return nil, err
	}
	v, err := cmd.Slice()
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		return beginScript.Run(ctx, s.rdb, keys, args...).Slice()
	}
	return v, err
}
