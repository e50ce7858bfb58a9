package embedredis

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// DB is the keyspace as a Go implementation of a script sees it. Scripts
// run one at a time (RunInGo), as Lua scripts do.
type DB interface {
	// Get returns the string at key; false when there is none.
	Get(key string) (string, bool)
	// Set stores value at key, expiring after ttl (0: never).
	Set(key, value string, ttl time.Duration)
}

// GoScript is a Go implementation of a Lua script: keys and argv as the
// script gets them; the result in go-redis's types (int64, string, nil,
// []any), as EVAL would return it.
type GoScript func(db DB, keys, argv []string) (any, error)

// goScripts are the registered implementations, by the SHA-1 of the Lua.
type goScripts struct {
	mu  sync.RWMutex
	fns map[string]GoScript
	run sync.Mutex // one script at a time
}

// RunInGo makes this server's clients (those with Hook) run fn instead of
// the Lua script src. miniredis builds a new Lua interpreter for every
// EVAL, under its global lock: 1–1.5 ms a call, 30× a plain command,
// which made a script on every message the embedded Redis's bottleneck.
// fn must do what the script does; scripts registered here run one at a
// time. Register before clients use the script.
func (s *Server) RunInGo(src string, fn GoScript) {
	s.scripts.mu.Lock()
	defer s.scripts.mu.Unlock()
	if s.scripts.fns == nil {
		s.scripts.fns = map[string]GoScript{}
	}
	s.scripts.fns[sha1Hex(src)] = fn
}

// empty reports whether no script is registered.
func (g *goScripts) empty() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.fns) == 0
}

func sha1Hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// runGo runs cmd in Go when it is EVAL or EVALSHA of a registered script;
// it reports whether it did.
func (s *Server) runGo(cmd redis.Cmder) bool {
	run := s.goScript(cmd)
	if run == nil {
		return false
	}
	run()
	return true
}

// goScript returns what runs cmd in Go when it is EVAL or EVALSHA of a
// registered script, else nil.
func (s *Server) goScript(cmd redis.Cmder) func() {
	args := cmd.Args()
	if len(args) < 3 {
		return nil
	}
	name := strings.ToLower(cmd.Name())
	if name != "evalsha" && name != "eval" {
		return nil
	}
	c, ok := cmd.(*redis.Cmd)
	if !ok {
		return nil
	}
	if s.scripts.empty() {
		return nil
	}
	sha := argString(args[1])
	if name == "eval" {
		sha = sha1Hex(sha)
	}
	s.scripts.mu.RLock()
	fn := s.scripts.fns[sha]
	s.scripts.mu.RUnlock()
	if fn == nil {
		return nil
	}
	numKeys, err := strconv.Atoi(argString(args[2]))
	if err != nil || numKeys < 0 || 3+numKeys > len(args) {
		return nil // let Redis report it
	}
	return func() {
		strs := make([]string, len(args)-3)
		for i, a := range args[3:] {
			strs[i] = argString(a)
		}
		s.scripts.run.Lock()
		v, err := fn(directDB{s.mr}, strs[:numKeys], strs[numKeys:])
		s.scripts.run.Unlock()
		s.dirty.Store(true)
		if err != nil {
			c.SetErr(err)
		} else {
			c.SetVal(v)
		}
	}
}

// argString is an argument as go-redis writes it on the wire.
func argString(a any) string {
	switch v := a.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "1"
		}
		return "0"
	case nil:
		return ""
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case time.Duration:
		return strconv.FormatInt(int64(v), 10)
	default:
		return fmt.Sprint(v)
	}
}

type directDB struct{ mr *miniredis.Miniredis }

func (d directDB) Get(key string) (string, bool) {
	v, err := d.mr.Get(key)
	return v, err == nil
}

func (d directDB) Set(key, value string, ttl time.Duration) {
	_ = d.mr.Set(key, value) // replaces any type, as SET does
	if ttl > 0 {
		d.mr.SetTTL(key, ttl)
	}
}
