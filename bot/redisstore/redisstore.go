// Package redisstore keeps the bot's memory in Redis: replies for WeChat's
// retries, sessions, profiles, subscriptions, hand-offs, notes for staff and
// the per-user rate limit. Every key starts with the configured prefix and
// has a TTL; a user's keys carry the hash tag {u:OPENID} so they live in one
// Cluster slot. KEYS.md documents the schema.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/internal/redisbatch"
)

// Store implements bot.Store on Redis (a single node, Sentinel or Cluster).
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	limiter *redis_rate.Limiter
	// Begin's and End's shared round trips; nil: each turn has its own.
	beginBatch, batch *redisbatch.Batcher
}

// WithBatchers makes Begin and End share round trips with concurrent
// turns: Begins go out together through begin, Ends through end. Two
// batchers, not one, so a pipeline holds only scripts or only plain
// commands: the embedded Redis runs scripts in Go and sends the rest, and
// a pipeline mixing both became one sub-pipeline per gap (15% of its CPU).
// It returns s.
func (s *Store) WithBatchers(begin, end *redisbatch.Batcher) *Store {
	s.beginBatch, s.batch = begin, end
	return s
}

var _ bot.Store = (*Store)(nil)

// New returns a store whose keys all start with prefix (e.g. "edubot:").
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix, limiter: redis_rate.NewLimiter(rdb)}
}

// Prefix returns the prefix of every key.
func (s *Store) Prefix() string { return s.prefix }

// Per-user key names (after prefix + "{u:OPENID}:").
const (
	kSession = "session"
	kProfile = "profile"
	kHandoff = "handoff"
	kSeen    = "seen"
	kSubs    = "subs"
	kNotes   = "notes"
	kRate    = "rate"
	kDedup   = "dedup:"
	// kKeys indexes the user's keys whose names are not fixed (dedup:…):
	// a sorted set of key → expiry (unix ms), so Forget deletes them
	// without scanning the keyspace.
	kKeys = "keys"
	// keysMargin keeps an index entry (and the index) a little past the
	// key's own TTL: Finish rewrites the key after the claim.
	keysMargin = 10 * time.Second
)

// user is the key of one piece of a user's state.
func (s *Store) user(openid, name string) string {
	return s.prefix + "{u:" + openid + "}:" + name
}

// rateKey is what redis_rate is given; it stores "rate:" + this.
func (s *Store) rateKey(openid string) string { return s.user(openid, kRate) }

func (s *Store) tagKey(tag string) string { return s.prefix + "sub:" + tag }
func (s *Store) tagsKey() string          { return s.prefix + "subtags" }
func (s *Store) notesKey() string         { return s.prefix + "notes" }

// pending is the value of a claimed delivery that has no reply yet.
const pending = "…"

// Claim implements bot.Deduper with SET NX.
func (s *Store) Claim(ctx context.Context, user, id string, ttl time.Duration) (bool, error) {
	k := s.user(user, kDedup+id)
	var set *redis.BoolCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		set = p.SetNX(ctx, k, pending, ttl)
		s.index(ctx, p, user, k, ttl)
		return nil
	})
	ok := set.Val()
	if err != nil {
		return false, fmt.Errorf("redisstore: claim: %w", err)
	}
	return ok, nil
}

// index records key in the user's key index (in p, one round trip with
// the write), dropping entries already expired.
func (s *Store) index(ctx context.Context, p redis.Pipeliner, user, key string, ttl time.Duration) {
	idx := s.user(user, kKeys)
	now := time.Now()
	p.ZAdd(ctx, idx, redis.Z{Score: float64(now.Add(ttl + keysMargin).UnixMilli()), Member: key})
	p.ZRemRangeByScore(ctx, idx, "-inf", strconv.FormatInt(now.UnixMilli(), 10))
	p.PExpire(ctx, idx, ttl+keysMargin)
}

// Finish implements bot.Deduper.
func (s *Store) Finish(ctx context.Context, user, id string, r bot.Reply, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redisstore: finish: %w", err)
	}
	if err := s.rdb.Set(ctx, s.user(user, kDedup+id), b, ttl).Err(); err != nil {
		return fmt.Errorf("redisstore: finish: %w", err)
	}
	return nil
}

// Result implements bot.Deduper.
func (s *Store) Result(ctx context.Context, user, id string) (bot.Reply, bool, error) {
	v, err := s.rdb.Get(ctx, s.user(user, kDedup+id)).Result()
	if errors.Is(err, redis.Nil) || v == pending {
		return bot.Reply{}, false, nil
	}
	if err != nil {
		return bot.Reply{}, false, fmt.Errorf("redisstore: result: %w", err)
	}
	var r bot.Reply
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return bot.Reply{}, false, fmt.Errorf("redisstore: result: %w", err)
	}
	return r, true, nil
}

// Allow implements bot.RateLimiter with redis_rate (GCRA in one Lua script).
func (s *Store) Allow(ctx context.Context, user string, perMinute int) (bool, error) {
	res, err := s.limiter.Allow(ctx, s.rateKey(user), redis_rate.PerMinute(perMinute))
	if err != nil {
		return false, fmt.Errorf("redisstore: rate limit: %w", err)
	}
	return res.Allowed > 0, nil
}

// Load implements bot.SessionStore in one round trip.
func (s *Store) Load(ctx context.Context, user string, now time.Time, seenTTL time.Duration) (bot.State, error) {
	pipe := s.rdb.Pipeline()
	sess := pipe.Get(ctx, s.user(user, kSession))
	prof := pipe.Get(ctx, s.user(user, kProfile))
	hand := pipe.Get(ctx, s.user(user, kHandoff))
	pipe.Set(ctx, s.user(user, kSeen), now.Unix(), seenTTL)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return bot.State{}, fmt.Errorf("redisstore: load: %w", err)
	}
	var st bot.State
	if err := decode(sess, &st.Session); err != nil {
		return bot.State{}, fmt.Errorf("redisstore: load session: %w", err)
	}
	if err := decode(prof, &st.Profile); err != nil {
		return bot.State{}, fmt.Errorf("redisstore: load profile: %w", err)
	}
	if at, err := hand.Int64(); err == nil {
		st.Handoff = time.Unix(at, 0)
	}
	return st, nil
}

// decode reads a JSON value; a missing key leaves v as it is.
func decode(cmd *redis.StringCmd, v any) error {
	b, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (s *Store) setJSON(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, key, b, ttl).Err()
}

// SaveSession implements bot.SessionStore.
func (s *Store) SaveSession(ctx context.Context, user string, sess bot.Session, ttl time.Duration) error {
	if err := s.setJSON(ctx, s.user(user, kSession), sess, ttl); err != nil {
		return fmt.Errorf("redisstore: save session: %w", err)
	}
	return nil
}

// SaveProfile implements bot.ProfileStore.
func (s *Store) SaveProfile(ctx context.Context, user string, p bot.Profile, ttl time.Duration) error {
	if err := s.setJSON(ctx, s.user(user, kProfile), p, ttl); err != nil {
		return fmt.Errorf("redisstore: save profile: %w", err)
	}
	return nil
}

// DeleteProfile implements bot.ProfileStore.
func (s *Store) DeleteProfile(ctx context.Context, user string) error {
	if err := s.rdb.Del(ctx, s.user(user, kProfile)).Err(); err != nil {
		return fmt.Errorf("redisstore: delete profile: %w", err)
	}
	return nil
}

// Subscribe implements bot.SubscriptionStore: the user's hash (the
// authority) and the tag's hash (the broadcast's index) both get the tag.
func (s *Store) Subscribe(ctx context.Context, user, tag string, at time.Time, ttl time.Duration) error {
	if strings.TrimSpace(tag) == "" {
		return errors.New("redisstore: subscribe: empty tag")
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.user(user, kSubs), tag, at.Unix())
		p.Expire(ctx, s.user(user, kSubs), ttl)
		p.HSet(ctx, s.tagKey(tag), user, at.Unix())
		p.Expire(ctx, s.tagKey(tag), ttl)
		p.SAdd(ctx, s.tagsKey(), tag)
		p.Expire(ctx, s.tagsKey(), ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: subscribe: %w", err)
	}
	return nil
}

// Unsubscribe implements bot.SubscriptionStore.
func (s *Store) Unsubscribe(ctx context.Context, user, tag string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, s.user(user, kSubs), tag)
		p.HDel(ctx, s.tagKey(tag), user)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: unsubscribe: %w", err)
	}
	return nil
}

// Subscriptions implements bot.SubscriptionStore.
func (s *Store) Subscriptions(ctx context.Context, user string) ([]string, error) {
	tags, err := s.rdb.HKeys(ctx, s.user(user, kSubs)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: subscriptions: %w", err)
	}
	slices.Sort(tags)
	return tags, nil
}

// StartHandoff implements bot.HandoffStore.
func (s *Store) StartHandoff(ctx context.Context, user string, at time.Time, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.user(user, kHandoff), at.Unix(), ttl).Err(); err != nil {
		return fmt.Errorf("redisstore: start handoff: %w", err)
	}
	return nil
}

// EndHandoff implements bot.HandoffStore.
func (s *Store) EndHandoff(ctx context.Context, user string) error {
	if err := s.rdb.Del(ctx, s.user(user, kHandoff)).Err(); err != nil {
		return fmt.Errorf("redisstore: end handoff: %w", err)
	}
	return nil
}

// maxNotes bounds the notes kept per user.
const maxNotes = 20

// LeaveNote implements bot.HandoffStore: the note goes to the user's list,
// and the user into the staff's index of open notes.
func (s *Store) LeaveNote(ctx context.Context, user string, n bot.Note, ttl time.Duration) error {
	// The conversation before the note goes with it (inbox.go); without it
	// the note is still kept.
	before, _ := s.recentTurns(ctx, user)
	b, err := json.Marshal(Entry{Text: n.Text, At: n.At, Before: before})
	if err != nil {
		return fmt.Errorf("redisstore: leave note: %w", err)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		k := s.user(user, kNotes)
		p.RPush(ctx, k, b)
		p.LTrim(ctx, k, -maxNotes, -1)
		p.Expire(ctx, k, ttl)
		p.ZAdd(ctx, s.notesKey(), redis.Z{Score: float64(n.At.Unix()), Member: user})
		p.Expire(ctx, s.notesKey(), ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: leave note: %w", err)
	}
	return nil
}

// UserNotes are the notes one user left for staff.
type UserNotes struct {
	OpenID string
	Notes  []bot.Note
}

// Notes lists the users who left notes, latest first (at most limit), with
// their notes: the staff's inbox of questions asked outside office hours.
func (s *Store) Notes(ctx context.Context, limit int) ([]UserNotes, error) {
	users, err := s.rdb.ZRevRange(ctx, s.notesKey(), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: notes: %w", err)
	}
	cmds := make([]*redis.StringSliceCmd, len(users))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = p.LRange(ctx, s.user(u, kNotes), 0, -1)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: notes: %w", err)
	}
	var out []UserNotes
	for i, u := range users {
		un := UserNotes{OpenID: u}
		for _, v := range cmds[i].Val() {
			var e Entry
			if json.Unmarshal([]byte(v), &e) == nil && e.Staff == "" { // not a staff reply
				un.Notes = append(un.Notes, bot.Note{Text: e.Text, At: e.At})
			}
		}
		if len(un.Notes) > 0 {
			out = append(out, un)
		}
	}
	return out, nil
}

// DoneNotes removes a user's notes once staff have answered them.
func (s *Store) DoneNotes(ctx context.Context, user string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.user(user, kNotes))
		p.ZRem(ctx, s.notesKey(), user)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: done notes: %w", err)
	}
	return nil
}

// Forget implements bot.Store: it deletes every key of the user and the
// user's entries in shared keys (tag subscribers, staff notes index).
func (s *Store) Forget(ctx context.Context, user string) error {
	// Tags to clean: the user's own list and, in case it expired first,
	// every tag that has subscribers.
	own, err := s.rdb.HKeys(ctx, s.user(user, kSubs)).Result()
	if err != nil {
		return fmt.Errorf("redisstore: forget: %w", err)
	}
	all, err := s.rdb.SMembers(ctx, s.tagsKey()).Result()
	if err != nil {
		return fmt.Errorf("redisstore: forget: %w", err)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, tag := range append(own, all...) {
			p.HDel(ctx, s.tagKey(tag), user)
		}
		p.ZRem(ctx, s.notesKey(), user)
		for _, k := range []string{kSession, kProfile, kHandoff, kSeen, kSubs, kNotes, kLog} {
			p.Del(ctx, s.user(user, k))
		}
		p.Del(ctx, "rate:"+s.rateKey(user)) // redis_rate's own prefix
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: forget: %w", err)
	}
	// The keys whose names are not fixed (stored replies of retries), by
	// the user's index: no SCAN of the keyspace.
	idx := s.user(user, kKeys)
	keys, err := s.rdb.ZRange(ctx, idx, 0, -1).Result()
	if err != nil {
		return fmt.Errorf("redisstore: forget: %w", err)
	}
	// One hash tag, one slot: a single DEL is fine in a Cluster.
	if err := s.rdb.Del(ctx, append(keys, idx)...).Err(); err != nil {
		return fmt.Errorf("redisstore: forget: %w", err)
	}
	return nil
}

// Subscribers lists the users subscribed to tag, with the time they
// subscribed and the time of their last message (zero when older than a
// week). Entries whose user no longer holds the tag are dropped.
func (s *Store) Subscribers(ctx context.Context, tag string) ([]bot.Subscriber, error) {
	members, err := s.rdb.HKeys(ctx, s.tagKey(tag)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: subscribers of %q: %w", tag, err)
	}
	out, err := s.describe(ctx, members, []string{tag})
	if err != nil {
		return nil, fmt.Errorf("redisstore: subscribers of %q: %w", tag, err)
	}
	return out, nil
}

// AllSubscribers lists every user subscribed to at least one tag, once,
// with the earliest subscription time.
func (s *Store) AllSubscribers(ctx context.Context) ([]bot.Subscriber, error) {
	tags, err := s.SubscribedTags(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var members []string
	for _, tag := range tags {
		ms, err := s.rdb.HKeys(ctx, s.tagKey(tag)).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: all subscribers: %w", err)
		}
		for _, m := range ms {
			if !seen[m] {
				seen[m] = true
				members = append(members, m)
			}
		}
	}
	out, err := s.describe(ctx, members, tags)
	if err != nil {
		return nil, fmt.Errorf("redisstore: all subscribers: %w", err)
	}
	return out, nil
}

// SubscribedTags lists the tags that have (or recently had) subscribers.
func (s *Store) SubscribedTags(ctx context.Context) ([]string, error) {
	tags, err := s.rdb.SMembers(ctx, s.tagsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: subscribed tags: %w", err)
	}
	slices.Sort(tags)
	return tags, nil
}

// describeBatch bounds one pipeline.
const describeBatch = 500

// describe reads, for each user, the subscription times of tags (the
// earliest counts) and the last-message time; users holding none of tags
// are left out.
func (s *Store) describe(ctx context.Context, users, tags []string) ([]bot.Subscriber, error) {
	var out []bot.Subscriber
	for start := 0; start < len(users); start += describeBatch {
		batch := users[start:min(start+describeBatch, len(users))]
		subs := make([]*redis.SliceCmd, len(batch))
		seen := make([]*redis.StringCmd, len(batch))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, u := range batch {
				subs[i] = p.HMGet(ctx, s.user(u, kSubs), tags...)
				seen[i] = p.Get(ctx, s.user(u, kSeen))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		for i, u := range batch {
			var at int64
			for _, v := range subs[i].Val() {
				str, ok := v.(string)
				if !ok {
					continue
				}
				if t, err := strconv.ParseInt(str, 10, 64); err == nil && (at == 0 || t < at) {
					at = t
				}
			}
			if at == 0 {
				continue // stale index entry: the user's own list no longer has the tag
			}
			sub := bot.Subscriber{OpenID: u, SubscribedAt: time.Unix(at, 0)}
			if t, err := strconv.ParseInt(seen[i].Val(), 10, 64); err == nil {
				sub.LastMessage = time.Unix(t, 0)
			}
			out = append(out, sub)
		}
	}
	return out, nil
}
