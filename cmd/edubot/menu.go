package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot/menu"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

func init() {
	commands["menu"] = command{summary: "push the custom menu (configs/menu.yaml) to WeChat: menu push", run: runMenu}
}

func runMenu(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "push" {
		fmt.Fprintln(stderr, "usage: edubot menu push [--file configs/menu.yaml] [--dry-run]")
		return errors.New("menu: the only subcommand is push")
	}
	fs := flag.NewFlagSet("menu push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", os.Getenv("EDUBOT_CONFIG"), "YAML settings file")
	file := fs.String("file", "", "menu definition (default bot.menu, configs/menu.yaml)")
	dry := fs.Bool("dry-run", false, "print the menu/create body instead of sending it")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *file == "" {
		*file = cfg.Bot.Menu
	}
	m, err := menu.Load(*file)
	if err != nil {
		return err
	}
	body, err := m.JSON()
	if err != nil {
		return err
	}
	if *dry {
		var pretty any
		_ = json.Unmarshal(body, &pretty)
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(pretty)
	}
	log := newLogger(cfg.Log, stderr)
	// The token is shared through Redis with serve; without a configured
	// Redis a throwaway in-memory one holds it for this call.
	var rdb redis.UniversalClient
	if len(cfg.Redis.Addrs) > 0 {
		r, closeRedis, err := openRedis(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer closeRedis()
		rdb = r
	} else {
		mr, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("menu: in-memory redis: %w", err)
		}
		defer mr.Close()
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		defer c.Close()
		rdb = c
	}
	api, err := wxapi.New(wxapi.Options{
		AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
		BaseURL: cfg.WeChat.APIBase, Timeout: cfg.WeChat.APITimeout,
		Redis: rdb, Prefix: cfg.Redis.Prefix, Logger: log,
	})
	if err != nil {
		return err
	}
	if err := api.CreateMenuJSON(ctx, body); err != nil {
		return fmt.Errorf("menu push: %w", err)
	}
	fmt.Fprintf(stdout, "menu from %s pushed: %d buttons, %d click keys\n", *file, len(m.Buttons), len(m.Clicks()))
	return nil
}
