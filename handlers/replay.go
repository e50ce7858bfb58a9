package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/handlers/wechat"
)

// ReplayGuard remembers the signatures of accepted webhook requests.
//
// Claim records sig with a digest of the body for ttl and reports whether
// the signature was seen before with another body. The same signature with
// the same body is a retry of one delivery (WeChat resends an unanswered
// message; the bot's MsgId de-duplication answers it with the stored
// reply), not a replay: only a signed URL reused for another body is one.
type ReplayGuard interface {
	Claim(ctx context.Context, sig string, bodyDigest string, ttl time.Duration) (reused bool, err error)
}

var errReused = errors.New("signature already used with another body")

// claim refuses a signature reused for another body. Redis trouble lets
// the request through (the signature and the window were checked; the
// replay memory is a second line) and is logged at debug.
//
// An encrypted message needs no claim: its msg_signature covers the
// ciphertext, the only part the bot reads, so a reused URL can only carry
// the same message again — a retry the MsgId de-duplication answers. That
// saves a Redis round trip (on its own hash slot) on every safe-mode
// request; plaintext, whose body no signature covers, is still claimed.
func (w *webhook) claim(ctx context.Context, in *wechat.Inbound, q url.Values, body []byte) error {
	if w.replay == nil || in.Safe {
		return nil
	}
	sig := q.Get("signature") + ":" + q.Get("msg_signature")
	sum := sha256.Sum256(body)
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	reused, err := w.replay.Claim(ctx, sig, hex.EncodeToString(sum[:16]), w.replayTTL)
	if err != nil {
		w.log.Debug("replay memory unavailable; request let through", "err", err)
		return nil
	}
	if reused {
		return errReused
	}
	return nil
}

// RedisReplay is the ReplayGuard on Redis: one key per signature,
// SET NX with the timestamp window as its TTL.
type RedisReplay struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisReplay keeps signatures under prefix+"wx:sig:".
func NewRedisReplay(rdb redis.UniversalClient, prefix string) *RedisReplay {
	return &RedisReplay{rdb: rdb, prefix: prefix}
}

// claimScript: SET NX; when the key exists, 1 if it holds another body's
// digest (a replay), else 0 (a retry of the same delivery).
var claimScript = redis.NewScript(claimLua)

const claimLua = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
return 1`

// ScriptDB is the keyspace as the embedded Redis's Go scripts see it
// (internal/embedredis.DB).
type ScriptDB interface {
	Get(key string) (string, bool)
	Set(key, value string, ttl time.Duration)
}

// ReplayGoScripts returns claimScript in Go, by its Lua source, for the
// embedded Redis, whose Lua costs about a millisecond a call under its
// global lock (14% of its CPU under load, run on every request).
func ReplayGoScripts() map[string]func(db ScriptDB, keys, argv []string) (any, error) {
	return map[string]func(ScriptDB, []string, []string) (any, error){claimLua: claimGo}
}

func claimGo(db ScriptDB, keys, argv []string) (any, error) {
	if len(keys) < 1 || len(argv) < 2 {
		return nil, errors.New("replay: script: too few keys or arguments")
	}
	v, ok := db.Get(keys[0])
	if !ok {
		ms, err := strconv.ParseInt(argv[1], 10, 64)
		if err != nil || ms <= 0 {
			return nil, errors.New("replay: script: bad TTL")
		}
		db.Set(keys[0], argv[0], time.Duration(ms)*time.Millisecond)
		return int64(0), nil
	}
	if v == argv[0] {
		return int64(0), nil
	}
	return int64(1), nil
}

// Claim implements ReplayGuard.
func (r *RedisReplay) Claim(ctx context.Context, sig, digest string, ttl time.Duration) (bool, error) {
	n, err := claimScript.Run(ctx, r.rdb, []string{r.prefix + "wx:sig:" + sig}, digest, ttl.Milliseconds()).Int()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
