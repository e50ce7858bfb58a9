package redisstore

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// ScriptDB is the keyspace as GoScripts see it (implemented by the
// embedded Redis, internal/embedredis.DB): scripts run one at a time.
type ScriptDB interface {
	Get(key string) (string, bool)
	Set(key, value string, ttl time.Duration) // ttl 0: no expiry
}

// GoScripts returns Go implementations of the store's Lua scripts, by Lua
// source, for an embedded Redis whose Lua is slow (miniredis builds an
// interpreter for every call). Each does what its script does; the
// store's tests run on both.
func GoScripts() map[string]func(db ScriptDB, keys, argv []string) (any, error) {
	return map[string]func(ScriptDB, []string, []string) (any, error){
		beginLua: beginGo,
	}
}

// beginGo is beginScript in Go; see it for KEYS, ARGV and the result.
func beginGo(db ScriptDB, keys, argv []string) (any, error) {
	if len(keys) < 6 || len(argv) < 7 {
		return nil, errScriptArgs
	}
	nilOr := func(v string, ok bool) any {
		if !ok {
			return nil
		}
		return v
	}
	if argv[0] == "1" {
		if v, ok := db.Get(keys[0]); ok {
			return []any{int64(0), v, int64(-1), int64(0)}, nil
		}
		db.Set(keys[0], argv[2], ms(argv[1]))
	}
	allowed := int64(-1)
	perMinute, _ := strconv.ParseFloat(argv[3], 64)
	if perMinute > 0 {
		// redis_rate's GCRA, as in the script.
		emission := 60 / perMinute
		burstOffset := emission * perMinute
		t := time.Now()
		now := float64(t.Unix()-1483228800) + float64(t.Nanosecond()/1000)/1e6
		tat := now
		if v, ok := db.Get(keys[1]); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				tat = f
			}
		}
		tat = math.Max(tat, now)
		newTat := tat + emission
		if now-(newTat-burstOffset) < 0 {
			return []any{int64(1), nil, int64(0), int64(0)}, nil
		}
		if reset := newTat - now; reset > 0 {
			// Lua writes numbers with %.14g.
			db.Set(keys[1], strconv.FormatFloat(newTat, 'g', 14, 64), time.Duration(math.Ceil(reset))*time.Second)
		}
		allowed = 1
	}
	if argv[4] != "1" {
		return []any{int64(1), nil, allowed, int64(0)}, nil
	}
	db.Set(keys[2], argv[5], ms(argv[6]))
	return []any{int64(1), nil, allowed, int64(1),
		nilOr(db.Get(keys[3])), nilOr(db.Get(keys[4])), nilOr(db.Get(keys[5]))}, nil
}

var errScriptArgs = errors.New("redisstore: script: too few keys or arguments")

func ms(s string) time.Duration {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n) * time.Millisecond
}
