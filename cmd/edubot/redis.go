package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/handlers"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/embedredis"
)

// openRedis connects to the configured Redis (one address, Cluster nodes or
// Sentinels through UniversalClient), or starts the embedded one when no
// address is configured. The returned close func closes both.
func openRedis(ctx context.Context, cfg config.Config, log *slog.Logger, hooks ...redis.Hook) (redis.UniversalClient, func() error, error) {
	timeout := cfg.Redis.Timeout
	opts := &redis.UniversalOptions{
		Addrs:        cfg.Redis.Addrs,
		MasterName:   cfg.Redis.MasterName,
		Username:     cfg.Redis.Username,
		Password:     cfg.Redis.Password,
		DB:           cfg.Redis.DB,
		DialTimeout:  2 * timeout,
		ReadTimeout:  timeout,
		WriteTimeout: timeout,
		PoolTimeout:  2 * timeout,
		MaxRetries:   1,
		// A caller's deadline (the bot's store_timeout) bounds the network
		// wait too, not only redis.timeout.
		ContextTimeoutEnabled: true,
	}
	// go-redis logs dial failures on stderr by itself; keep them in our log.
	redis.SetLogger(redisLogger{log})
	var emb *embedredis.Server
	if len(cfg.Redis.Addrs) == 0 {
		var err error
		emb, err = embedredis.Start(embedredis.Options{DataDir: cfg.DataDir, Logger: log})
		if err != nil {
			return nil, nil, err
		}
		// The store's per-message script runs in Go: miniredis's Lua costs
		// over a millisecond a call under its global lock.
		for src, fn := range redisstore.GoScripts() {
			emb.RunInGo(src, func(db embedredis.DB, keys, argv []string) (any, error) { return fn(db, keys, argv) })
		}
		for src, fn := range handlers.ReplayGoScripts() {
			emb.RunInGo(src, func(db embedredis.DB, keys, argv []string) (any, error) { return fn(db, keys, argv) })
		}
		opts.Addrs = []string{emb.Addr()}
		opts.Dialer = emb.Dialer()
		log.Warn("using the embedded Redis: for trying edubot only, not for production (set EDUBOT_REDIS_ADDRS)",
			"addr", emb.Addr(), "snapshot_dir", cfg.DataDir)
	}
	rdb := redis.NewUniversalClient(opts)
	if emb != nil {
		rdb.AddHook(emb.Hook())
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		cc.AddHook(reloadOnFailure{cc})
	}
	for _, h := range hooks {
		rdb.AddHook(h)
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		if emb != nil {
			_ = emb.Close()
		}
		return nil, nil, fmt.Errorf("redis %v: %w", opts.Addrs, err)
	}
	closeFn := func() error {
		err := rdb.Close()
		if emb != nil {
			if e := emb.Close(); e != nil && err == nil {
				err = e
			}
		}
		return err
	}
	return rdb, closeFn, nil
}

// redisLogger routes go-redis' own messages into slog at warn level.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// openSharedRedis opens the Redis a running serve uses, for commands that
// work beside it. The embedded Redis lives inside serve's process: another
// process cannot reach it, and a second one would overwrite its snapshot.
// hint says what to do instead.
func openSharedRedis(ctx context.Context, cfg config.Config, log *slog.Logger, cmd, hint string) (redis.UniversalClient, func() error, error) {
	if len(cfg.Redis.Addrs) == 0 {
		return nil, nil, fmt.Errorf("%s: set redis.addrs (EDUBOT_REDIS_ADDRS) to the Redis serve uses; %s", cmd, hint)
	}
	return openRedis(ctx, cfg, log)
}

// reloadOnFailure asks a Cluster client to reload the slot map when a
// command fails on the network or with CLUSTERDOWN. go-redis otherwise
// keeps sending a dead master's slots to it until its periodic reload (a
// minute): after a master is killed, its replica takes over within
// seconds, and the client should follow as fast. Reloads are coalesced by
// go-redis (one at a time, 200 ms apart).
type reloadOnFailure struct{ cc *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			h.cc.ReloadState(ctx)
		}
		return c, err
	}
}

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnFailure) check(ctx context.Context, err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	var reply redis.Error
	if errors.As(err, &reply) && !strings.HasPrefix(err.Error(), "CLUSTERDOWN") {
		return // an answer from a live node (a script error, a wrong type, …)
	}
	h.cc.ReloadState(ctx)
}
