package testredis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Slot returns the Redis Cluster hash slot of a key: CRC16 (XMODEM) of the
// key, or of its hash tag — the part between the first "{" and the next
// "}" when that is not empty — modulo 16384.
func Slot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// SlotCheck is a go-redis hook that fails the test when one command, one
// Lua script (EVAL/EVALSHA, also inside a pipeline) or one MULTI/EXEC
// names keys in more than one Cluster slot — what a Redis Cluster refuses
// with CROSSSLOT (go-redis refuses a cross-slot TxPipeline itself). The
// command is refused the same way, so the code under test sees what it
// would see on a Cluster. Plain pipelines may span slots: go-redis splits
// them by node.
type SlotCheck struct {
	t    testing.TB
	keys *keyTable
}

// NewSlotCheck returns the hook for a test. Key positions come from the
// server's COMMAND table (once per process), and from COMMAND GETKEYS for
// commands whose keys move (SORT … STORE, MIGRATE, …).
func NewSlotCheck(t testing.TB, tg Target) *SlotCheck {
	return &SlotCheck{t: t, keys: tableFor(tg)}
}

// ErrCrossSlot is what a refused command fails with.
type ErrCrossSlot struct{ What string }

func (e *ErrCrossSlot) Error() string {
	return "CROSSSLOT (testredis): keys in request don't hash to the same slot: " + e.What
}

var _ redis.Hook = (*SlotCheck)(nil)

// DialHook implements redis.Hook.
func (h *SlotCheck) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (h *SlotCheck) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := h.check(ctx, []redis.Cmder{cmd}, false); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (h *SlotCheck) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		tx := len(cmds) > 0 && strings.EqualFold(cmds[0].Name(), "multi")
		if err := h.check(ctx, cmds, tx); err != nil {
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		return next(ctx, cmds)
	}
}

// check returns an error (and fails the test) when a command, or the whole
// transaction, spans slots.
func (h *SlotCheck) check(ctx context.Context, cmds []redis.Cmder, tx bool) error {
	txSlot, txFirst := -1, ""
	for _, c := range cmds {
		keys := h.keys.of(ctx, c)
		for _, k := range keys {
			sl := Slot(k)
			if !tx {
				if Slot(keys[0]) != sl {
					return h.fail(fmt.Sprintf("%s %q (slot %d) and %q (slot %d)", c.Name(), keys[0], Slot(keys[0]), k, sl))
				}
				continue
			}
			if txSlot < 0 {
				txSlot, txFirst = sl, k
			} else if sl != txSlot {
				return h.fail(fmt.Sprintf("MULTI: %q (slot %d) and %s %q (slot %d)", txFirst, txSlot, c.Name(), k, sl))
			}
		}
	}
	return nil
}

func (h *SlotCheck) fail(what string) error {
	err := &ErrCrossSlot{What: what}
	// The hook may run after the test has ended (a worker still stopping):
	// Errorf would then panic. The error still reaches the caller.
	defer func() { _ = recover() }()
	h.t.Errorf("%v", err)
	return err
}

// keyTable knows where each command's keys are.
type keyTable struct {
	once  sync.Once
	info  map[string]*redis.CommandInfo
	meta  redis.UniversalClient // no hook: asks COMMAND and COMMAND GETKEYS
	tgErr error
}

var (
	tablesMu sync.Mutex
	tables   = map[string]*keyTable{}
)

func tableFor(tg Target) *keyTable {
	id := strings.Join(tg.Addrs, ",") + "/" + tg.MasterName
	tablesMu.Lock()
	defer tablesMu.Unlock()
	if kt := tables[id]; kt != nil {
		return kt
	}
	kt := &keyTable{meta: redis.NewUniversalClient(tg.Options())}
	tables[id] = kt
	return kt
}

func (kt *keyTable) load(ctx context.Context) {
	kt.once.Do(func() {
		kt.info, kt.tgErr = kt.meta.Command(context.WithoutCancel(ctx)).Result()
	})
}

// of returns the keys a command names.
func (kt *keyTable) of(ctx context.Context, c redis.Cmder) []string {
	args := c.Args()
	if len(args) < 2 {
		return nil
	}
	name := strings.ToLower(c.Name())
	str := func(i int) string { return fmt.Sprint(args[i]) }
	switch name {
	case "multi", "exec", "discard", "unwatch", "ping", "hello", "client", "cluster", "select", "auth",
		"command", "info", "script", "function", "readonly", "readwrite", "scan", "role", "sentinel":
		return nil
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		n, err := strconv.Atoi(str(2))
		if err != nil || n <= 0 || 3+n > len(args) {
			return nil
		}
		keys := make([]string, n)
		for i := range keys {
			keys[i] = str(3 + i)
		}
		return keys
	case "xread", "xreadgroup":
		for i := 1; i < len(args); i++ {
			if strings.EqualFold(str(i), "streams") {
				rest := args[i+1:]
				keys := make([]string, len(rest)/2)
				for j := range keys {
					keys[j] = fmt.Sprint(rest[j])
				}
				return keys
			}
		}
		return nil
	}
	kt.load(ctx)
	if kt.tgErr != nil {
		return nil
	}
	info := kt.info[name]
	switch {
	case name == "xgroup" || name == "xinfo" || name == "object" || name == "memory":
		return kt.getKeys(ctx, args) // the keys are the subcommand's
	case info == nil || info.FirstKeyPos <= 0:
		return nil
	}
	for _, f := range info.Flags {
		if f == "movablekeys" {
			return kt.getKeys(ctx, args)
		}
	}
	first, last, step := int(info.FirstKeyPos), int(info.LastKeyPos), int(info.StepCount)
	if last < 0 {
		last = len(args) + last
	}
	if step <= 0 {
		step = 1
	}
	var keys []string
	for i := first; i <= last && i < len(args); i += step {
		keys = append(keys, str(i))
	}
	return keys
}

// getKeys asks the server which arguments are keys.
func (kt *keyTable) getKeys(ctx context.Context, args []any) []string {
	res, err := kt.meta.Do(context.WithoutCancel(ctx), append([]any{"command", "getkeys"}, args...)...).StringSlice()
	if err != nil {
		return nil
	}
	return res
}
