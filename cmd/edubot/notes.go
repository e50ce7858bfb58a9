package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/handlers/admin"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

func init() {
	commands["notes"] = command{summary: "read and answer the messages people left for staff outside office hours", run: runNotes}
}

const notesUsage = `usage:
  edubot notes                       list the people who left messages, latest first
  edubot notes --reply ID "TEXT"     reply through WeChat's customer-service API (within 48 h of their last message)
  edubot notes --done ID             mark their messages handled (they leave the list)

It uses the same Redis as serve (redis.addrs / EDUBOT_REDIS_ADDRS); replies need
EDUBOT_WECHAT_APP_ID and EDUBOT_WECHAT_APP_SECRET. The same is in the admin API
(/admin/api/notes) and the staff console.

flags:`

// notesDeps builds what the notes routes and the CLI need: the inbox, and
// a WeChat client for replies when the app secret is configured.
func notesDeps(cfg config.Config, rdb redis.UniversalClient, now func() time.Time, log *slog.Logger) (admin.NotesDeps, error) {
	d := admin.NotesDeps{Inbox: redisstore.New(rdb, cfg.Redis.Prefix), Now: now, Logger: log}
	if cfg.WeChat.AppSecret == "" {
		return d, nil
	}
	api, err := wxapi.New(wxapi.Options{
		AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
		BaseURL: cfg.WeChat.APIBase, Timeout: cfg.WeChat.APITimeout,
		Redis: rdb, Prefix: cfg.Redis.Prefix, Logger: log,
	})
	if err != nil {
		return d, err
	}
	d.Sender = api
	return d, nil
}

// mountNotes adds /admin/api/notes to the admin API's group.
func mountNotes(g *gin.RouterGroup, d admin.NotesDeps) error {
	return admin.RegisterNotes(g, d)
}

func runNotes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, notesUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", os.Getenv("EDUBOT_CONFIG"), "YAML settings file")
	reply := fs.String("reply", "", "openid to reply to (the text follows the flags)")
	done := fs.String("done", "", "openid whose messages are handled")
	handled := fs.Bool("handled", false, "with --reply: also mark the messages handled")
	actor := fs.String("as", os.Getenv("USER"), "your name, shown with the reply")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *reply != "" && *done != "" || (*reply == "") != (fs.NArg() == 0) {
		fs.Usage()
		return errors.New("notes: give --reply ID \"TEXT\", --done ID, or nothing to list")
	}
	if *actor == "" {
		*actor = "cli"
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	rdb, closeRedis, err := openSharedRedis(ctx, cfg, log, "notes", "with the embedded Redis use /admin/api/notes or the console of the running service")
	if err != nil {
		return err
	}
	defer closeRedis()
	loc, _ := time.LoadLocation(cfg.Bot.TimeZone)
	now, err := clock(cfg.Now, loc)
	if err != nil {
		return err
	}
	d, err := notesDeps(cfg, rdb, now, log)
	if err != nil {
		return err
	}
	switch {
	case *done != "":
		if _, err := d.Inbox.Thread(ctx, *done); err != nil {
			return fmt.Errorf("notes: %s: %w", *done, err)
		}
		if err := d.Inbox.DoneNotes(ctx, *done); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: handled\n", *done)
		return nil
	case *reply != "":
		text := strings.Join(fs.Args(), " ")
		if _, err := admin.ReplyNote(ctx, d, *reply, "cli:"+*actor, admin.ReplyRequest{Text: text, Handled: *handled}); err != nil {
			_, msg := admin.NoteStatus(err)
			return fmt.Errorf("notes: reply to %s: %s", *reply, msg)
		}
		fmt.Fprintf(stdout, "%s: reply sent\n", *reply)
		return nil
	}
	threads, err := d.Inbox.Threads(ctx, 100)
	if err != nil {
		return err
	}
	if len(threads) == 0 {
		fmt.Fprintln(stdout, "no messages waiting")
		return nil
	}
	t := now()
	for _, th := range threads {
		printThread(stdout, admin.ViewThread(th, t), loc)
	}
	return nil
}

func printThread(w io.Writer, v admin.NoteThread, loc *time.Location) {
	at := func(t time.Time) string { return t.In(loc).Format("01-02 15:04") }
	who := strings.TrimSpace(strings.Join([]string{v.Profile.Region, v.Profile.Grade, v.Profile.Role}, " "))
	window := "no reply possible (last message over 48 h ago)"
	if v.CanReply {
		window = "reply until " + at(*v.ReplyUntil)
	}
	fmt.Fprintf(w, "== %s  %s  [%s]  %s\n", v.ID, at(v.At), who, window)
	for _, t := range v.Conversation {
		fmt.Fprintf(w, "   %s  问：%s\n              答：%s\n", at(t.At), t.Said, oneLine(t.Reply))
	}
	for _, m := range v.Messages {
		fmt.Fprintf(w, "   %s  留言：%s\n", at(m.At), m.Text)
	}
	for _, r := range v.Replies {
		fmt.Fprintf(w, "   %s  %s 回复：%s\n", at(r.At), r.By, r.Text)
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
