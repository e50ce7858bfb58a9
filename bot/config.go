package bot

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/bot/menu"
	"github.com/gdjysjyj/edubot/internal/config"
)

// Config is the bot's behaviour. Zero durations and empty texts take the
// defaults of DefaultConfig.
type Config struct {
	Name     string // the account's name, used in the welcome
	Hotline  string // phone number (and hours) for people
	Welcome  string // reply to subscribe; "" = a default naming what to ask
	Fallback string // reply when nothing answers; "" = a default with hotline and hand-off
	// Scope: replies to messages that are not for the content (about the
	// bot, personal records, other services, other places); "" = defaults.
	Scope ScopeTexts

	// Clicks maps a CLICK key to a content id (notice, FAQ or rule), to
	// "action:NAME" (see menu.Actions) or to "text:QUERY" (answered as if
	// the user typed QUERY).
	Clicks map[string]string

	SessionTTL      time.Duration // how long a session is kept
	ContextTTL      time.Duration // follow-ups and numbered choices work this long after the last question
	ProfileTTL      time.Duration // region, grade, role
	DedupTTL        time.Duration // replies kept for WeChat's retries
	HandoffTTL      time.Duration // silence after a hand-off to a person
	SubscriptionTTL time.Duration // subscriptions, refreshed on every subscribe
	NoteTTL         time.Duration // questions left for staff outside office hours
	RatePerMinute   int           // messages a user may send a minute

	OfficeHours OfficeHours    // when people answer hand-offs
	Location    *time.Location // time zone of the office hours

	Deadline     time.Duration // whole handling when ctx has no deadline
	StoreTimeout time.Duration // one store call; past it the bot answers without memory
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	oh, _ := ParseOfficeHours("Mon-Fri 08:30-12:00,14:30-17:30")
	return Config{
		Name:            "揭阳教育",
		Hotline:         "0663-12340101",
		SessionTTL:      30 * time.Minute,
		ContextTTL:      10 * time.Minute,
		ProfileTTL:      30 * 24 * time.Hour,
		DedupTTL:        60 * time.Second,
		HandoffTTL:      30 * time.Minute,
		SubscriptionTTL: 365 * 24 * time.Hour,
		NoteTTL:         14 * 24 * time.Hour,
		RatePerMinute:   20,
		OfficeHours:     oh,
		Location:        loc,
		Deadline:        3 * time.Second,
		StoreTimeout:    300 * time.Millisecond,
	}
}

// withDefaults fills what is unset.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Name == "" {
		c.Name = d.Name
	}
	if c.Hotline == "" {
		c.Hotline = d.Hotline
	}
	for _, p := range []struct{ v, d *time.Duration }{
		{&c.SessionTTL, &d.SessionTTL}, {&c.ContextTTL, &d.ContextTTL}, {&c.ProfileTTL, &d.ProfileTTL},
		{&c.DedupTTL, &d.DedupTTL}, {&c.HandoffTTL, &d.HandoffTTL}, {&c.SubscriptionTTL, &d.SubscriptionTTL},
		{&c.NoteTTL, &d.NoteTTL}, {&c.Deadline, &d.Deadline}, {&c.StoreTimeout, &d.StoreTimeout},
	} {
		if *p.v <= 0 {
			*p.v = *p.d
		}
	}
	if c.RatePerMinute <= 0 {
		c.RatePerMinute = d.RatePerMinute
	}
	if c.Location == nil {
		c.Location = d.Location
	}
	if !c.OfficeHours.set {
		c.OfficeHours = d.OfficeHours
	}
	if c.Welcome == "" {
		c.Welcome = fmt.Sprintf("欢迎关注%s！\n我可以回答开学放假、招生报名、考试安排、学生资助等问题，直接发文字问我就行。\n"+
			"· 告诉我“我是××县的家长”“孩子读初二”，回答会更准确；\n· 回复“订阅”可订阅通知；\n· 回复“人工”联系工作人员。", c.Name)
	}
	c.Scope = c.Scope.withDefaults()
	if c.Fallback == "" {
		c.Fallback = fmt.Sprintf("抱歉，这个问题我暂时答不上来。\n您可以换个说法再问，或者问问开学、招生、考试、资助等事项。\n"+
			"咨询电话：%s\n回复“人工”可联系工作人员。", c.Hotline)
	}
	return c
}

// FromConfig maps the bot section of the settings (and the reply deadline
// of the webhook) to a Config; m, when not nil, adds the menu's CLICK keys
// (keys in c.Clicks win). It says which setting is wrong.
func FromConfig(c config.Bot, deadline time.Duration, m *menu.Menu) (Config, error) {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return Config{}, fmt.Errorf("config: bot.time_zone: %w", err)
	}
	oh, err := ParseOfficeHours(c.OfficeHours)
	if err != nil {
		return Config{}, fmt.Errorf("config: bot.office_hours: %w", err)
	}
	clicks := map[string]string{}
	if m != nil {
		maps.Copy(clicks, m.Clicks())
	}
	maps.Copy(clicks, c.Clicks)
	var errs []error
	for k, v := range clicks {
		if err := checkClick(v); err != nil {
			errs = append(errs, fmt.Errorf("config: bot.clicks[%s]: %w", k, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	cfg := Config{
		Name: c.Name, Hotline: c.Hotline, Welcome: c.Welcome, Fallback: c.Fallback,
		Scope:      ScopeTexts{AboutBot: c.AboutBot, Personal: c.Personal, OtherService: c.OtherService, OtherPlace: c.OtherPlace},
		Clicks:     clicks,
		SessionTTL: c.SessionTTL, ContextTTL: c.ContextTTL, ProfileTTL: c.ProfileTTL,
		DedupTTL: c.DedupTTL, HandoffTTL: c.HandoffTTL, SubscriptionTTL: c.SubscriptionTTL,
		NoteTTL: c.NoteTTL, RatePerMinute: c.RatePerMinute,
		OfficeHours: oh, Location: loc,
		Deadline: deadline, StoreTimeout: c.StoreTimeout,
	}
	return cfg.withDefaults(), nil
}

// checkClick checks the syntax of a CLICK mapping (content ids are checked
// when clicked: content changes at run time).
func checkClick(v string) error {
	switch {
	case strings.HasPrefix(v, "action:"):
		if !menu.IsAction(strings.TrimPrefix(v, "action:")) {
			return fmt.Errorf("unknown action %q (want one of %s)", strings.TrimPrefix(v, "action:"), strings.Join(menu.Actions, ", "))
		}
	case strings.HasPrefix(v, "text:"):
		if strings.TrimSpace(strings.TrimPrefix(v, "text:")) == "" {
			return errors.New("empty text")
		}
	case strings.TrimSpace(v) == "":
		return errors.New("empty mapping")
	}
	return nil
}

// Deps are the parts the bot works with. Matcher is required; Store may be
// nil (no memory: every message is answered from content alone).
type Deps struct {
	Matcher  Matcher
	Store    Store
	Recorder Recorder       // optional
	Mass     MassResultSink // optional
	// Forget are other parts that keep something about a user (e.g.
	// broadcast results); on unsubscribe each is told to delete it.
	Forget []Forgetter
	Now    func() time.Time
	Log    *slog.Logger
}
