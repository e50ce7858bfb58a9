// Package embedredis runs the embedded Redis (miniredis) that `serve` uses
// when no Redis address is configured: zero setup for trying edubot, not
// for production. Keys expire on the wall clock (within ExpireTick), and the data is kept in a
// snapshot file in the data directory — written shortly after each change
// (paced so that writing it takes at most 1/20 of the time) and on Close,
// loaded at start — so staff content, the audit log, subscriptions and
// question records survive a restart. Keys that expire within two minutes
// (de-duplication, rate limits) are left out. Keys expire from a heap of
// deadlines the hook learns from our own writes (expiry.go), not by
// miniredis's FastForward, which sorts every key. Scripts registered with
// RunInGo run in Go instead of miniredis's slow Lua.
package embedredis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// SnapshotFile is the snapshot's name inside the data directory.
const SnapshotFile = "embedded-redis.json"

// shortTTL: keys expiring sooner are left out of the snapshot.
const shortTTL = 2 * time.Minute

// Server is a running embedded Redis.
type Server struct {
	mr       *miniredis.Miniredis
	path     string // snapshot path; "" = no persistence
	log      *slog.Logger
	dirty    atomic.Bool
	saveMu   sync.Mutex
	stop     chan struct{}
	done     chan struct{}
	interval time.Duration
	tick     time.Duration
	sweepInt time.Duration
	exp      expirer
	scripts  goScripts
	lastSave atomic.Int64 // how long the last snapshot took (ns): saves are paced by it
	unix     net.Listener // in-process clients: a Unix socket (see Dialer)
	unixDir  string
}

// Options configure Start.
type Options struct {
	DataDir      string        // where the snapshot lives; "" disables persistence
	SaveInterval time.Duration // how soon after a change the snapshot is written (default 1s)
	ExpireTick   time.Duration // how often expired keys are removed (default 250ms)
	// SweepEvery is how often miniredis's FastForward walks every key
	// (default 1m): it expires keys whose TTL the hook did not see.
	SweepEvery time.Duration
	Logger     *slog.Logger
}

// Start starts miniredis on a free loopback port and loads the snapshot.
func Start(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SaveInterval <= 0 {
		opts.SaveInterval = time.Second
	}
	if opts.ExpireTick <= 0 {
		opts.ExpireTick = 250 * time.Millisecond
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = time.Minute
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	s := &Server{mr: mr, log: opts.Logger, stop: make(chan struct{}), done: make(chan struct{}), interval: opts.SaveInterval, tick: opts.ExpireTick, sweepInt: opts.SweepEvery}
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o750); err != nil {
			mr.Close()
			return nil, fmt.Errorf("embedded redis: data dir: %w", err)
		}
		s.path = filepath.Join(opts.DataDir, SnapshotFile)
		n, err := s.load()
		if err != nil {
			mr.Close()
			return nil, err
		}
		if n > 0 {
			s.log.Info("embedded redis: snapshot loaded", "keys", n, "file", s.path)
		}
	}
	if err := s.listenUnix(); err != nil {
		// Not fatal: clients keep the TCP port.
		s.log.Warn("embedded redis: no unix socket, clients use TCP", "err", err)
	}
	go s.saver()
	return s, nil
}

// listenUnix serves miniredis on a Unix socket as well: under load, the
// embedded server's loopback TCP (miniredis writes every reply of a
// pipeline with its own syscall) was 18% of edubot's CPU, and a Unix
// socket skips the TCP stack on both sides.
func (s *Server) listenUnix() error {
	dir, err := os.MkdirTemp("", "edubot-redis-")
	if err != nil {
		return err
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "redis.sock"))
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	s.unix, s.unixDir = ln, dir
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			s.mr.Server().ServeConn(c)
		}
	}()
	return nil
}

// Dialer is a go-redis dialer for clients in this process: the Unix
// socket when there is one, else the TCP address. Set it as the client's
// Dialer with Addr() as its address.
func (s *Server) Dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		if s.unix != nil {
			return d.DialContext(ctx, "unix", s.unix.Addr().String())
		}
		return d.DialContext(ctx, network, addr)
	}
}

// Addr is the host:port clients connect to.
func (s *Server) Addr() string { return s.mr.Addr() }

// Hook returns a go-redis hook that marks the data changed after every
// write command, so the snapshot follows changes, and runs the scripts
// registered with RunInGo. Add it to every client of this server.
func (s *Server) Hook() redis.Hook { return hook{s} }

// MarkDirty asks for a snapshot soon.
func (s *Server) MarkDirty() { s.dirty.Store(true) }

// Close writes the snapshot and stops the server.
func (s *Server) Close() error {
	close(s.stop)
	<-s.done
	err := s.Save()
	if s.unix != nil {
		s.unix.Close()
		defer os.RemoveAll(s.unixDir)
	}
	s.mr.Close()
	return err
}

// saver expires keys and writes the snapshot after changes. Keys in
// miniredis do not expire by themselves; its ClockTTL mode would expire
// them, but it sorts every key on every command (measured: 5.9 ms a
// command with a few thousand keys), and so does FastForward on every
// call: keys expire from our own deadlines (expireDue) and a rare sweep.
func (s *Server) saver() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	exp := time.NewTicker(s.tick)
	defer exp.Stop()
	sw := time.NewTicker(s.sweepInt)
	defer sw.Stop()
	last := time.Now()
	var saved time.Time
	for {
		select {
		case <-s.stop:
			return
		case now := <-exp.C:
			s.expireDue(now)
		case now := <-sw.C:
			s.sweep(now.Sub(last))
			last = now
		case <-t.C:
			// A snapshot reads every key under miniredis's lock and
			// writes them all: at tens of thousands of keys it took 40%
			// of the CPU at one a second. Paced to at most 1/20 of the
			// time, whatever the size.
			if time.Since(saved) < 20*time.Duration(s.lastSave.Load()) {
				continue
			}
			if s.dirty.Swap(false) {
				saved = time.Now()
				if err := s.Save(); err != nil {
					s.log.Error("embedded redis: snapshot", "err", err)
					s.dirty.Store(true)
				}
			}
		}
	}
}

// entry is one key in the snapshot.
type entry struct {
	Type   string             `json:"type"`
	TTLms  int64              `json:"ttl_ms,omitempty"`
	String string             `json:"string,omitempty"`
	Hash   map[string]string  `json:"hash,omitempty"`
	List   []string           `json:"list,omitempty"`
	Set    []string           `json:"set,omitempty"`
	ZSet   map[string]float64 `json:"zset,omitempty"`
	Stream []streamEntry      `json:"stream,omitempty"`
}

type streamEntry struct {
	ID     string   `json:"id"`
	Values []string `json:"values"`
}

type snapshot struct {
	Saved time.Time        `json:"saved"`
	Keys  map[string]entry `json:"keys"`
}

// Save writes the snapshot now (atomically: a temporary file renamed).
func (s *Server) Save() error {
	if s.path == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	start := time.Now()
	defer func() { s.lastSave.Store(int64(time.Since(start))) }()
	snap := snapshot{Saved: time.Now().UTC(), Keys: map[string]entry{}}
	for _, k := range s.mr.Keys() {
		// miniredis returns its own map and slices for sorted sets,
		// lists and streams: they are copied while commands wait on
		// the gate (one key at a time, so a reply waits microseconds),
		// never read while a ZINCRBY or XADD writes them.
		s.exp.gate.Lock()
		e, ok := s.read(k)
		s.exp.gate.Unlock()
		if ok {
			snap.Keys[k] = e
		}
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("embedded redis: snapshot: %w", err)
	}
	if err := writeAtomic(s.path, data); err != nil {
		return fmt.Errorf("embedded redis: snapshot: %w", err)
	}
	return nil
}

// fsync is (*os.File).Sync; tests replace it.
var fsync = func(f *os.File) error { return f.Sync() }

// writeAtomic writes data to a temporary file beside path, syncs it to
// disk, renames it over path and syncs the folder: after a crash or power
// loss the snapshot is the old one or the new one, never empty or torn.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := fsync(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := fsync(dir); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}

func (s *Server) read(k string) (entry, bool) {
	e := entry{Type: s.mr.Type(k)}
	ttl := s.mr.TTL(k)
	if left, ok := s.exp.remaining(k, ttl, time.Now()); ok {
		ttl = max(left, time.Millisecond)
	}
	if ttl > 0 {
		// Keys about to expire (a message's de-duplication, a rate
		// limit: a minute) are most of the keys under load and matter
		// only for that minute: not worth a snapshot.
		if ttl < shortTTL {
			return e, false
		}
		e.TTLms = ttl.Milliseconds()
	}
	var err error
	switch e.Type {
	case "string":
		e.String, err = s.mr.Get(k)
	case "hash":
		var fields []string
		fields, err = s.mr.HKeys(k)
		e.Hash = make(map[string]string, len(fields))
		for _, f := range fields {
			e.Hash[f] = s.mr.HGet(k, f)
		}
	case "list":
		var l []string
		l, err = s.mr.List(k)
		e.List = slices.Clone(l)
	case "set":
		e.Set, err = s.mr.Members(k)
	case "zset":
		var z map[string]float64
		z, err = s.mr.SortedSet(k)
		e.ZSet = maps.Clone(z)
	case "stream":
		var entries []miniredis.StreamEntry
		entries, err = s.mr.Stream(k)
		for _, se := range entries {
			e.Stream = append(e.Stream, streamEntry{ID: se.ID, Values: slices.Clone(se.Values)})
		}
	default:
		return e, false // hyperloglog and others: not used by edubot
	}
	if err != nil {
		return e, false // the key went away while we read it
	}
	return e, true
}

func (s *Server) load() (int, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("embedded redis: snapshot: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return 0, fmt.Errorf("embedded redis: snapshot %s is damaged (%v); move it away to start empty", s.path, err)
	}
	elapsed := time.Since(snap.Saved)
	keys := make([]string, 0, len(snap.Keys))
	for k := range snap.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		e := snap.Keys[k]
		ttl := time.Duration(e.TTLms) * time.Millisecond
		if e.TTLms > 0 {
			ttl -= elapsed
			if ttl <= 0 {
				continue // expired while we were down
			}
		}
		if err := s.write(k, e); err != nil {
			return n, fmt.Errorf("embedded redis: snapshot key %q: %w", k, err)
		}
		if ttl > 0 {
			s.mr.SetTTL(k, ttl)
			s.exp.file(k, ttl, time.Now())
		}
		n++
	}
	return n, nil
}

func (s *Server) write(k string, e entry) error {
	var err error
	switch e.Type {
	case "string":
		err = s.mr.Set(k, e.String)
	case "hash":
		fv := make([]string, 0, 2*len(e.Hash))
		for f, v := range e.Hash {
			fv = append(fv, f, v)
		}
		if len(fv) > 0 {
			s.mr.HSet(k, fv...)
		}
	case "list":
		if len(e.List) > 0 {
			_, err = s.mr.Push(k, e.List...)
		}
	case "set":
		if len(e.Set) > 0 {
			_, err = s.mr.SetAdd(k, e.Set...)
		}
	case "zset":
		for m, sc := range e.ZSet {
			if _, err = s.mr.ZAdd(k, sc, m); err != nil {
				break
			}
		}
	case "stream":
		for _, se := range e.Stream {
			if _, err = s.mr.XAdd(k, se.ID, se.Values); err != nil {
				break
			}
		}
	default:
		return fmt.Errorf("unknown type %q", e.Type)
	}
	return err
}

type hook struct{ s *Server }

// gated marks a context whose command holds the expiry gate.
type gated struct{}

func (h hook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if blocking(strings.ToLower(cmd.Name())) || ctx.Value(gated{}) != nil {
			return next(ctx, cmd)
		}
		h.s.exp.gate.RLock()
		defer h.s.exp.gate.RUnlock()
		ctx = context.WithValue(ctx, gated{}, true)
		if h.s.answerTTL(cmd) {
			return nil
		}
		var err error
		if h.s.runGo(cmd) {
			err = cmd.Err()
		} else {
			err = next(ctx, cmd)
			h.mark(cmd)
		}
		h.s.observe(cmd, time.Now())
		return err
	}
}

func (h hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		// A pipeline nested in one that holds gate (go-redis's HELLO when
		// it opens a connection) must not take it again: a waiting writer
		// would block it, and the writer waits for the outer one.
		lock := ctx.Value(gated{}) == nil
		for _, c := range cmds {
			if blocking(strings.ToLower(c.Name())) {
				lock = false
			}
		}
		if lock {
			h.s.exp.gate.RLock()
			defer h.s.exp.gate.RUnlock()
			ctx = context.WithValue(ctx, gated{}, true)
		}
		err := h.pipeline(ctx, next, cmds)
		now := time.Now()
		for _, c := range cmds {
			h.mark(c)
			if lock { // filing needs gate; otherwise the sweep expires them
				h.s.observe(c, now)
			}
		}
		return err
	}
}

// pipeline sends cmds in order, running registered Go scripts in Go (a
// pipeline of requests batched together carries their EVALSHAs): the
// commands between them go to the server as sub-pipelines. A MULTI/EXEC
// pipeline is sent whole (splitting it would break its atomicity).
func (h hook) pipeline(ctx context.Context, next redis.ProcessPipelineHook, cmds []redis.Cmder) error {
	if h.s.scripts.empty() {
		return next(ctx, cmds)
	}
	for _, c := range cmds {
		if n := strings.ToLower(c.Name()); n == "multi" || n == "exec" {
			return next(ctx, cmds)
		}
	}
	var first error
	keep := func(err error) {
		if first == nil && err != nil {
			first = err
		}
	}
	start := 0
	for i, c := range cmds {
		run := h.s.goScript(c)
		if run == nil {
			continue
		}
		if start < i {
			keep(next(ctx, cmds[start:i]))
		}
		run()
		keep(c.Err())
		start = i + 1
	}
	if start == 0 {
		return next(ctx, cmds)
	}
	if start < len(cmds) {
		keep(next(ctx, cmds[start:]))
	}
	return first
}

func (h hook) mark(cmd redis.Cmder) {
	if h.s.dirty.Load() {
		return
	}
	name := strings.ToUpper(cmd.Name())
	switch name {
	case "EVAL", "EVALSHA", "FCALL":
		h.s.dirty.Store(true) // scripts may write
		return
	}
	if !h.s.mr.IsReadOnlyCommand(name) {
		h.s.dirty.Store(true)
	}
}

// describe is used in logs.
func (s *Server) String() string {
	return "embedded redis on " + s.Addr() + " (snapshot " + strconv.Quote(s.path) + ")"
}
