package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/broadcast"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
	"github.com/gdjysjyj/edubot/handlers/broadcastapi"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

func init() {
	commands["broadcast"] = command{summary: "push a notice to subscribers or mass-send it (preview, then confirm)", run: runBroadcast}
}

const broadcastUsage = `usage:
  edubot broadcast --notice ID --to subscribers          send now to subscribers who wrote within 48 h
  edubot broadcast --notice ID --to all|tag:NAME [--preview OPENID]...
                                                         create a mass send and preview it
  edubot broadcast --confirm JOB                         send a previewed mass send
  edubot broadcast --status JOB | --cancel JOB | --list

It uses the same Redis as serve (redis.addrs / EDUBOT_REDIS_ADDRS) and the
WeChat API (EDUBOT_WECHAT_APP_ID, EDUBOT_WECHAT_APP_SECRET). Jobs it starts
are processed here until they finish; if interrupted, serve's workers carry
them on.

flags:`

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runBroadcast(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("broadcast", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, broadcastUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", os.Getenv("EDUBOT_CONFIG"), "YAML settings file")
	notice := fs.String("notice", "", "id of the notice to push")
	to := fs.String("to", "", "subscribers, all, or tag:NAME (a WeChat user tag)")
	var preview multiFlag
	fs.Var(&preview, "preview", "test openid to preview a mass send to (repeatable; default broadcast.preview_openids)")
	confirm := fs.String("confirm", "", "confirm (send) the previewed job")
	status := fs.String("status", "", "print a job's progress")
	cancel := fs.String("cancel", "", "cancel a job")
	list := fs.Bool("list", false, "list recent jobs")
	actor := fs.String("as", os.Getenv("USER"), "your name, for the audit trail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	modes := 0
	for _, set := range []bool{*notice != "" || *to != "", *confirm != "", *status != "", *cancel != "", *list} {
		if set {
			modes++
		}
	}
	if modes != 1 || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("broadcast: give one of --notice/--to, --confirm, --status, --cancel or --list")
	}
	if *actor == "" {
		*actor = "cli"
	}
	actorName := "cli:" + *actor

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	rdb, closeRedis, err := openSharedRedis(ctx, cfg, log, "broadcast", "with the embedded Redis use /admin/api/broadcasts on the running service")
	if err != nil {
		return err
	}
	defer closeRedis()
	set, err := store.New(rdb, cfg.Redis.Prefix, store.Options{Logger: log}).Load(ctx)
	if err != nil {
		return fmt.Errorf("broadcast: content: %w", err)
	}
	svc, err := newBroadcastService(cfg, rdb, set, time.Now, log)
	if err != nil {
		return err
	}

	show := func(j *broadcast.Job) error {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(j)
	}
	switch {
	case *status != "":
		j, err := svc.Get(ctx, *status)
		if err != nil {
			return err
		}
		return show(j)
	case *list:
		jobs, err := svc.List(ctx, 20)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			fmt.Fprintf(stdout, "%s  %-10s %-11s %-24s sent %d skipped %d failed %d\n",
				j.ID, j.State, j.Channel, j.Notice, j.Sent, j.Skipped, j.Failed)
		}
		return nil
	case *cancel != "":
		j, err := svc.Cancel(ctx, *cancel, actorName)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "cancelled %s\n", j.ID)
		return nil
	case *confirm != "":
		j, err := svc.Confirm(ctx, *confirm, actorName)
		if err != nil {
			return err
		}
		return followJob(ctx, svc, j.ID, stdout)
	}

	if *notice == "" || *to == "" {
		return errors.New("broadcast: --notice and --to go together")
	}
	j, err := svc.Create(ctx, broadcast.Request{Notice: *notice, To: *to, Actor: actorName})
	if err != nil {
		return err
	}
	if j.Mass() {
		id := j.ID
		if j, err = svc.Preview(ctx, id, preview, actorName); err != nil {
			return fmt.Errorf("%w (job %s stays a draft: preview it with the admin API, or --cancel it)", err, id)
		}
		fmt.Fprintf(stdout, "mass send %s created and previewed to %s.\nCheck the preview on those phones, then send it with:\n  edubot broadcast --confirm %s\n",
			j.ID, strings.Join(j.PreviewedTo, ", "), j.ID)
		return nil
	}
	if len(preview) > 0 {
		if _, err := svc.Preview(ctx, j.ID, preview, actorName); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "broadcast %s previewed; send it with: edubot broadcast --confirm %s\n", j.ID, j.ID)
		return nil
	}
	if _, err := svc.Confirm(ctx, j.ID, actorName); err != nil {
		return err
	}
	return followJob(ctx, svc, j.ID, stdout)
}

// newBroadcastService builds the broadcast service (serve and the CLI).
func newBroadcastService(cfg config.Config, rdb redis.UniversalClient, notices broadcast.Notices, now func() time.Time, log *slog.Logger) (*broadcast.Service, error) {
	api, err := wxapi.New(wxapi.Options{
		AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
		BaseURL: cfg.WeChat.APIBase, Timeout: cfg.WeChat.APITimeout,
		Redis: rdb, Prefix: cfg.Redis.Prefix, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	loc, _ := time.LoadLocation(cfg.Bot.TimeZone)
	return broadcast.New(broadcast.Options{
		Redis: rdb, Prefix: cfg.Redis.Prefix, API: api,
		Notices: notices, Subscribers: redisstore.New(rdb, cfg.Redis.Prefix),
		AccountType: cfg.WeChat.AccountType, PreviewOpenIDs: cfg.Broadcast.PreviewOpenIDs,
		RatePerSecond: cfg.Broadcast.RatePerSecond, Workers: cfg.Broadcast.Workers, DraftTTL: cfg.Broadcast.DraftTTL,
		SendIgnoreReprint: cfg.Broadcast.SendIgnoreReprint,
		// A send cannot outlast the API call's timeout: a claim older than
		// that belongs to a replica that died mid-send.
		ClaimIdle: cfg.Broadcast.ClaimIdle, SendTimeout: cfg.WeChat.APITimeout,
		Location: loc, Now: now, Logger: log,
	})
}

// startBroadcasts is serve's part: the service on the live search index,
// its workers on the server-lifetime context (they stop when it ends, and
// workers.Wait waits for them). Without an AppSecret the WeChat API cannot
// be called: broadcasts are off (nil) and a warning says why.
func startBroadcasts(workCtx context.Context, workers *sync.WaitGroup, cfg config.Config, rdb redis.UniversalClient,
	notices broadcast.Notices, now func() time.Time, log *slog.Logger) (*broadcast.Service, error) {
	if cfg.WeChat.AppSecret == "" {
		log.Warn("broadcasts are off: set EDUBOT_WECHAT_APP_SECRET (and wechat.app_id) to call the WeChat API")
		return nil, nil
	}
	svc, err := newBroadcastService(cfg, rdb, notices, now, log)
	if err != nil {
		return nil, err
	}
	workers.Add(1)
	go func() {
		defer workers.Done()
		_ = svc.Run(workCtx)
	}()
	return svc, nil
}

// mountBroadcasts adds /admin/api/broadcasts to the admin API's group.
func mountBroadcasts(g *gin.RouterGroup, svc *broadcast.Service, log *slog.Logger) error {
	if svc == nil {
		return nil
	}
	return broadcastapi.Register(g, broadcastapi.Deps{
		Service: svc, RequireRole: admin.RequireRole, Actor: admin.Actor, Audit: admin.Record, Logger: log,
	})
}

// followJob runs workers here and prints progress until the job is over
// (or handed to WeChat, for a mass send).
func followJob(ctx context.Context, svc *broadcast.Service, id string, stdout io.Writer) error {
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = svc.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		j, err := svc.Get(ctx, id)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s: %s, %d of %d: sent %d, skipped %d, failed %d, cancelled %d",
			j.ID, j.State, j.Sent+j.Skipped+j.Failed+j.Cancelled, j.Total, j.Sent, j.Skipped, j.Failed, j.Cancelled)
		if j.Mass() {
			line = fmt.Sprintf("%s: %s", j.ID, j.State)
		}
		if line != last {
			fmt.Fprintln(stdout, line)
			last = line
		}
		switch j.State {
		case broadcast.StateDone, broadcast.StateCancelled:
			printBreakdown(stdout, j)
			return nil
		case broadcast.StateSubmitted:
			fmt.Fprintf(stdout, "WeChat accepted the mass send (msg_id %d); it reports the counts to the webhook when it is done (MASSSENDJOBFINISH): edubot broadcast --status %s\n", j.MsgID, j.ID)
			return nil
		case broadcast.StateFailed:
			printBreakdown(stdout, j)
			return fmt.Errorf("broadcast %s failed: %s", j.ID, j.Error)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(stdout, "interrupted; the job goes on in serve's workers: edubot broadcast --status %s\n", id)
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func printBreakdown(w io.Writer, j *broadcast.Job) {
	for reason, n := range j.Skips {
		fmt.Fprintf(w, "  skipped %-12s %d\n", reason, n)
	}
	for code, n := range j.Errors {
		fmt.Fprintf(w, "  failed  errcode %-6s %d\n", code, n)
	}
}
