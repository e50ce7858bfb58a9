// Package transcript reads scripted conversations (testdata/transcripts/
// *.yaml: the user says…, the bot's reply must contain…) and checks
// replies against them. Tests play them through bot.Handle and through the
// webhook end to end.
//
// Format:
//
//	name: 编号选择                      # what the conversation shows
//	user: u-choices                     # the user's openid (default: file name)
//	start: 2026-11-24T10:00:00+08:00    # clock at the first turn (default: a Tuesday 10:00 in Shanghai)
//	turns:
//	  - say: 学校几号开学               # a text message; or voice: (recognised text), send: image|video|
//	                                    # shortvideo|location|link, event: subscribe|unsubscribe|VIEW|…
//	                                    # (key: EventKey), click: KEY, wait: 11m (moves the clock)
//	    replica: 1                      # which bot process answers (default 0)
//	    kind: text                      # text | news | transfer | none
//	    answer: choices                 # Reply.Answer: faq, notice, rule, choices, fallback, dialog, event, none
//	    expect: [回复序号查看]           # all must appear in the reply (text, or the card's title, description and url)
//	    not: [人工客服]                  # none may appear
//	    # What staff see in the statistics afterwards (stats, on the same Redis):
//	    unanswered: 校车几点到             # among the unanswered questions, as typed
//	    suggested: 学校几号报到            # among the questions offered a "did you mean", as typed
//	    picked: {query: 学校几号报到, id: faq-x, position: 2, suggest: true, offered: [faq-a, faq-x]}
//	                                      # a pick of that item from that list is recorded
package transcript

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/internal/yamlx"
	"github.com/gdjysjyj/edubot/stats"
)

// Script is one conversation.
type Script struct {
	File  string `yaml:"-"`
	Name  string `yaml:"name"`
	User  string `yaml:"user"`
	Start string `yaml:"start"`
	Turns []Turn `yaml:"turns"`
}

// Turn is one thing the user does, and what the bot must answer.
type Turn struct {
	Say   string `yaml:"say"`
	Voice string `yaml:"voice"`
	Send  string `yaml:"send"`
	Event string `yaml:"event"`
	Key   string `yaml:"key"`
	Click string `yaml:"click"`
	Wait  string `yaml:"wait"`

	Replica int `yaml:"replica"`

	Kind   string   `yaml:"kind"`
	Answer string   `yaml:"answer"`
	Expect []string `yaml:"expect"`
	Not    []string `yaml:"not"`

	Unanswered string    `yaml:"unanswered"`
	Suggested  string    `yaml:"suggested"`
	Picked     *PickWant `yaml:"picked"`
}

// PickWant is a pick the statistics must hold after a turn.
type PickWant struct {
	Query    string   `yaml:"query"`
	ID       string   `yaml:"id"`
	Position int      `yaml:"position"`
	Suggest  bool     `yaml:"suggest"`
	Offered  []string `yaml:"offered"`
}

// HasStats reports whether the turn checks the statistics.
func (t Turn) HasStats() bool { return t.Unanswered != "" || t.Suggested != "" || t.Picked != nil }

// CheckStats says how the statistics of the day of at differ from what the
// turn expects.
func (t Turn) CheckStats(ctx context.Context, r *stats.Recorder, at time.Time) error {
	var errs []error
	if t.Unanswered != "" {
		qs, err := r.Unanswered(ctx, at, at, 500)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(qs, func(q stats.Question) bool { return q.Text == t.Unanswered }) {
			errs = append(errs, fmt.Errorf("%q is not among the unanswered questions %+v", t.Unanswered, qs))
		}
	}
	if t.Suggested != "" {
		qs, err := r.Suggested(ctx, at, at, 500)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(qs, func(q stats.Suggestion) bool { return q.Text == t.Suggested }) {
			errs = append(errs, fmt.Errorf("%q is not among the \"did you mean\" questions %+v", t.Suggested, qs))
		}
	}
	if w := t.Picked; w != nil {
		ps, err := r.Picks(ctx, at, at, 500, w.ID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(ps, func(p stats.PickCount) bool {
			return p.Query == w.Query && p.ID == w.ID && p.Position == w.Position && p.Suggest == w.Suggest &&
				(w.Offered == nil || slices.Equal(p.Offered, w.Offered))
		}) {
			errs = append(errs, fmt.Errorf("no pick %+v among %+v", *w, ps))
		}
	}
	return errors.Join(errs...)
}

// DefaultStart is the clock at the first turn when a script sets none:
// a Tuesday morning in Shanghai, inside the default office hours.
var DefaultStart = time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// StartTime is the script's clock at its first turn.
func (s Script) StartTime() (time.Time, error) {
	if s.Start == "" {
		return DefaultStart, nil
	}
	t, err := time.Parse(time.RFC3339, s.Start)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: start: %w", s.File, err)
	}
	return t, nil
}

// WaitFor is how far the turn moves the clock (0 for other turns).
func (t Turn) WaitFor() time.Duration {
	d, _ := time.ParseDuration(t.Wait)
	return d
}

// Load reads every *.yaml file of dir, sorted by name.
func Load(dir string) ([]Script, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	sort.Strings(files)
	var out []Script
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("transcript: %w", err)
		}
		var s Script
		if err := yamlx.Strict(data, &s); err != nil {
			return nil, fmt.Errorf("transcript %s: %s", f, yaml.FormatError(err, false, true))
		}
		s.File = filepath.Base(f)
		if s.User == "" {
			s.User = "u-" + strings.TrimSuffix(s.File, ".yaml")
		}
		if err := s.validate(); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("transcript: no *.yaml in %s", dir)
	}
	return out, nil
}

func (s Script) validate() error {
	if _, err := s.StartTime(); err != nil {
		return err
	}
	if len(s.Turns) == 0 {
		return fmt.Errorf("transcript %s: no turns", s.File)
	}
	for i, t := range s.Turns {
		n := 0
		for _, v := range []string{t.Say, t.Voice, t.Send, t.Event, t.Click, t.Wait} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("transcript %s: turn %d: want exactly one of say, voice, send, event, click, wait", s.File, i+1)
		}
		if t.Wait != "" {
			if d, err := time.ParseDuration(t.Wait); err != nil || d <= 0 {
				return fmt.Errorf("transcript %s: turn %d: wait %q is not a positive duration", s.File, i+1, t.Wait)
			}
		}
		switch t.Kind {
		case "", "text", "news", "transfer", "none":
		default:
			return fmt.Errorf("transcript %s: turn %d: kind %q (want text, news, transfer or none)", s.File, i+1, t.Kind)
		}
	}
	return nil
}

// Seen is a reply as the user sees it.
type Seen struct {
	Kind   string // text, news, transfer, none
	Answer string // Reply.Answer when known ("" through the webhook)
	Text   string // the text, or the card's title, description, picture and url
}

// Check says how the reply differs from what the turn expects.
func (t Turn) Check(got Seen) error {
	var errs []error
	if t.Kind != "" && t.Kind != got.Kind {
		errs = append(errs, fmt.Errorf("kind %s, want %s", got.Kind, t.Kind))
	}
	if t.Answer != "" && got.Answer != "" && t.Answer != got.Answer {
		errs = append(errs, fmt.Errorf("answer %s, want %s", got.Answer, t.Answer))
	}
	for _, e := range t.Expect {
		if !strings.Contains(got.Text, e) {
			errs = append(errs, fmt.Errorf("missing %q", e))
		}
	}
	for _, n := range t.Not {
		if strings.Contains(got.Text, n) {
			errs = append(errs, fmt.Errorf("must not contain %q", n))
		}
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("reply (%s) was: %q", got.Kind, got.Text))
	}
	return errors.Join(errs...)
}

// What returns the turn as a short label for test output.
func (t Turn) What() string {
	switch {
	case t.Say != "":
		return "say " + t.Say
	case t.Voice != "":
		return "voice " + t.Voice
	case t.Send != "":
		return "send " + t.Send
	case t.Event != "":
		return "event " + t.Event + " " + t.Key
	case t.Click != "":
		return "click " + t.Click
	}
	return "wait " + t.Wait
}

// Message is the bot.Message the turn sends (not for wait turns). seq
// makes MsgIds unique within a run.
func (t Turn) Message(user string, now time.Time, seq int) bot.Message {
	m := bot.Message{User: user, Account: "gh_transcript", CreateTime: now, MsgID: fmt.Sprintf("%d%06d", now.Unix(), seq)}
	switch {
	case t.Say != "":
		m.Type, m.Text = bot.TypeText, t.Say
	case t.Voice != "":
		m.Type, m.Text = bot.TypeVoice, t.Voice
	case t.Send != "":
		m.Type = t.Send
	case t.Click != "":
		m.Type, m.Event, m.EventKey, m.MsgID = bot.TypeEvent, bot.EventClick, t.Click, ""
	case t.Event != "":
		m.Type, m.Event, m.EventKey, m.MsgID = bot.TypeEvent, t.Event, t.Key, ""
	}
	return m
}

// SeenOf shows a bot.Reply as the user sees it.
func SeenOf(r bot.Reply) Seen {
	s := Seen{Answer: r.Answer}
	switch r.Kind {
	case bot.ReplyText:
		s.Kind, s.Text = "text", r.Text
	case bot.ReplyNews:
		s.Kind = "news"
		if a := r.Article; a != nil {
			s.Text = strings.Join([]string{a.Title, a.Description, a.PicURL, a.URL}, "\n")
		}
	case bot.ReplyTransfer:
		s.Kind = "transfer"
	default:
		s.Kind = "none"
	}
	return s
}
