package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
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
func (w *webhook) claim(ctx context.Context, q url.Values, body []byte) error {
	if w.replay == nil {
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
var claimScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
return 1`)

// Claim implements ReplayGuard.
func (r *RedisReplay) Claim(ctx context.Context, sig, digest string, ttl time.Duration) (bool, error) {
	n, err := claimScript.Run(ctx, r.rdb, []string{r.prefix + "wx:sig:" + sig}, digest, ttl.Milliseconds()).Int()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
