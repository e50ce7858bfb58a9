package bot

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/bot/menu"
	"github.com/gdjysjyj/edubot/internal/config"
)

func TestParseChoice(t *testing.T) {
	cases := map[string]int{
		"2": 2, "２": 2, "二": 2, "两": 2, "第二个": 2, "第2条": 2, "第２个": 2, "选3": 3, "我选第三个": 3,
		"十": 10, "十二": 12, "二十": 20, "第十一项": 11, "5号": 5, "1。": 1, " 4 ": 4,
	}
	for in, want := range cases {
		if got, ok := parseChoice(compact(in)); !ok || got != want {
			t.Errorf("parseChoice(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0", "2026", "二年级", "开学", "三天", "100"} {
		if got, ok := parseChoice(compact(in)); ok {
			t.Errorf("parseChoice(%q) = %d, want no choice", in, got)
		}
	}
}

func TestCutKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("教", MaxTextBytes) // 3 bytes each
	c := cut(s)
	if len(c) > MaxTextBytes || !utf8.ValidString(c) || !strings.HasSuffix(c, "…") {
		t.Fatalf("cut: %d bytes, valid %v", len(c), utf8.ValidString(c))
	}
	if short := "短答复"; cut(short) != short {
		t.Fatal("a short text must stay as it is")
	}
}

func TestOfficeHours(t *testing.T) {
	oh, err := ParseOfficeHours("Mon-Fri 08:30-12:00,14:30-17:30; Sat 09:00-11:00")
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("CST", 8*3600)
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, loc) } // 23 Nov 2026 is a Monday
	for _, c := range []struct {
		t    time.Time
		open bool
	}{
		{at(23, 8, 29), false}, {at(23, 8, 30), true}, {at(24, 11, 59), true}, {at(24, 12, 0), false},
		{at(27, 15, 0), true}, {at(28, 10, 0), true}, {at(28, 11, 0), false}, {at(29, 10, 0), false},
	} {
		if got := oh.Open(c.t); got != c.open {
			t.Errorf("Open(%s) = %v", c.t.Format("Mon 15:04"), got)
		}
	}
	if s := oh.String(); s != "周一至周五 08:30—12:00、14:30—17:30；周六 09:00—11:00" {
		t.Errorf("String() = %q", s)
	}
	for _, bad := range []string{"Mon 08:00", "Xyz 08:00-09:00", "Mon 09:00-08:00", "Mon-Fri 8h-9h"} {
		if _, err := ParseOfficeHours(bad); err == nil {
			t.Errorf("ParseOfficeHours(%q) accepted", bad)
		}
	}
	none, err := ParseOfficeHours("")
	if err != nil || !none.Empty() || none.Open(at(24, 10, 0)) {
		t.Fatal("no hours must mean never open")
	}
	cfg := Config{OfficeHours: none}.withDefaults()
	if !cfg.OfficeHours.Empty() {
		t.Fatal("configured empty hours were replaced by the default")
	}
}

func TestFromConfig(t *testing.T) {
	c := config.Default().Bot
	m, err := menu.Load("../configs/menu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Clicks = map[string]string{"EXTRA": "text:开学", "HELP": "action:hotline"}
	cfg, err := FromConfig(c, 3*time.Second, m)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Clicks["EXTRA"] != "text:开学" || cfg.Clicks["HELP"] != "action:hotline" || cfg.Clicks["HANDOFF"] != "action:handoff" {
		t.Fatalf("clicks: %v", cfg.Clicks)
	}
	if cfg.ContextTTL != 10*time.Minute || cfg.RatePerMinute != 20 || cfg.Deadline != 3*time.Second || cfg.Location.String() != "Asia/Shanghai" {
		t.Fatalf("settings: %+v", cfg)
	}
	if !strings.Contains(cfg.Fallback, c.Hotline) || !strings.Contains(cfg.Welcome, c.Name) {
		t.Fatal("default texts must name the hotline and the account")
	}
	for name, mod := range map[string]func(*config.Bot){
		"bot.office_hours": func(b *config.Bot) { b.OfficeHours = "Mon 25:00-26:00" },
		"bot.time_zone":    func(b *config.Bot) { b.TimeZone = "Mars/Base" },
		"bot.clicks[K]":    func(b *config.Bot) { b.Clicks = map[string]string{"K": "action:nothing"} },
	} {
		c := config.Default().Bot
		mod(&c)
		if _, err := FromConfig(c, time.Second, nil); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
