package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/importer"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/internal/config"
)

func init() {
	commands["import"] = command{summary: "turn a scraped article (text or HTML) into a draft notice", run: runImport}
	commands["export"] = command{summary: "write the runtime content (in Redis) as a content folder or zip", run: runExport}
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: edubot import [flags] FILE   (FILE - reads stdin)\n\n"+
			"Prints a draft notice (a notices/*.md file: YAML front matter and body) for review.\n"+
			"Nothing goes live until a person saves it (admin API POST /admin/api/notices, or\n"+
			"the file in a content folder).\n\nflags:")
		fs.PrintDefaults()
	}
	url := fs.String("url", "", "the article's address, when the page holds none")
	source := fs.String("source", "", "the publisher, when the page names none")
	date := fs.String("date", "", "publication date YYYY-MM-DD, overriding the page's")
	now := fs.String("now", "", "today, YYYY-MM-DD: the year of dates written without one (default: today)")
	asJSON := fs.Bool("json", false, "print the draft and warnings as JSON")
	out := fs.String("out", "", "also write the draft into this content folder's notices/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import: one FILE expected")
	}
	var page []byte
	var err error
	if name := fs.Arg(0); name == "-" {
		page, err = io.ReadAll(io.LimitReader(os.Stdin, 32<<20))
	} else {
		page, err = os.ReadFile(name)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	opts := importer.Options{URL: *url, Source: *source, Now: time.Now()}
	if *date != "" {
		if opts.Date, err = content.ParseDate(*date); err != nil {
			return fmt.Errorf("import: --date: %w", err)
		}
	}
	if *now != "" {
		d, err := content.ParseDate(*now)
		if err != nil {
			return fmt.Errorf("import: --now: %w", err)
		}
		opts.Now = d.Time
	}
	d, err := importer.Import(page, opts)
	if err != nil {
		return err
	}
	md, err := d.Markdown()
	if err != nil {
		return err
	}
	if *out != "" {
		p := filepath.Join(*out, "notices", d.Notice.ID+".md")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if err := os.WriteFile(p, md, 0o644); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		fmt.Fprintln(stderr, "draft written to", p)
	}
	for _, w := range d.Warnings {
		fmt.Fprintln(stderr, "check:", w)
	}
	if err := d.Notice.Validate(); err != nil {
		fmt.Fprintln(stderr, "not yet a valid notice:", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	_, err = stdout.Write(md)
	return err
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", os.Getenv("EDUBOT_CONFIG"), "YAML settings file")
	out := fs.String("out", "", "a folder, or a file ending in .zip (required)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: edubot export --out DIR|FILE.zip\n\n"+
			"Reads the runtime content from the configured Redis (EDUBOT_REDIS_ADDRS). With the\n"+
			"embedded Redis, use the running service's GET /admin/api/export instead.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errors.New("export: --out is required")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	rdb, closeRedis, err := openSharedRedis(ctx, cfg, log, "export", "with the embedded Redis use GET /admin/api/export on the running service")
	if err != nil {
		return err
	}
	defer closeRedis()
	set, err := store.New(rdb, cfg.Redis.Prefix, store.Options{Logger: log}).Export(ctx)
	if err != nil {
		return err
	}
	if len(set.Notices)+len(set.FAQs)+len(set.Rules) == 0 {
		return errors.New("export: the store holds no content (never seeded?)")
	}
	if strings.HasSuffix(*out, ".zip") {
		if err := writeZip(*out, set); err != nil {
			return err
		}
	} else if err := set.WriteDir(*out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d notices, %d FAQs, %d rules, %d synonym groups to %s\n",
		len(set.Notices), len(set.FAQs), len(set.Rules), len(set.Synonyms), *out)
	return nil
}

func writeZip(name string, set *content.Set) error {
	files, err := set.Files()
	if err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err == nil {
			_, err = w.Write(files[n])
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("export: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	return f.Close()
}
