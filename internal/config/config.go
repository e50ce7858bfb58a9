// Package config reads edubot's settings: defaults, then an optional YAML
// file, then EDUBOT_* environment variables. Secrets (token, AES keys, app
// secret, admin tokens) come only from the environment or from files named
// by *_FILE variables, and are never logged.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/goccy/go-yaml"

	"github.com/gdjysjyj/edubot/internal/yamlx"
)

// Config is every setting. YAML keys and env names are listed in
// configs/config.example.yaml.
type Config struct {
	Addr           string    `yaml:"addr" env:"ADDR"`                       // listen address
	TrustedProxies []string  `yaml:"trusted_proxies" env:"TRUSTED_PROXIES"` // proxies whose X-Forwarded-For is trusted
	Content        string    `yaml:"content" env:"CONTENT"`                 // content folder that seeds an empty store; "" = built-in sample
	DataDir        string    `yaml:"data_dir" env:"DATA_DIR"`               // snapshots of the embedded Redis
	Now            string    `yaml:"now" env:"NOW"`                         // fixed "today" (YYYY-MM-DD) for demos and reproducible runs
	Log            Log       `yaml:"log" envPrefix:"LOG_"`
	Redis          Redis     `yaml:"redis" envPrefix:"REDIS_"`
	WeChat         WeChat    `yaml:"wechat" envPrefix:"WECHAT_"`
	Bot            Bot       `yaml:"bot" envPrefix:"BOT_"`
	Admin          Admin     `yaml:"admin" envPrefix:"ADMIN_"`
	Broadcast      Broadcast `yaml:"broadcast" envPrefix:"BROADCAST_"`
	Stats          Stats     `yaml:"stats" envPrefix:"STATS_"`
	Match          Match     `yaml:"match" envPrefix:"MATCH_"`
	Readiness      Readiness `yaml:"readiness" envPrefix:"READINESS_"`
	Console        Console   `yaml:"console" envPrefix:"CONSOLE_"`
}

// Console settings of the staff console (/console).
type Console struct {
	SessionIdle time.Duration `yaml:"session_idle" env:"SESSION_IDLE"` // logged out after this long without a request
	SessionMax  time.Duration `yaml:"session_max" env:"SESSION_MAX"`   // logged out this long after logging in, active or not
	LoginLimit  int           `yaml:"login_limit" env:"LOGIN_LIMIT"`   // failed logins per client address, and per name, in LoginWindow
	LoginWindow time.Duration `yaml:"login_window" env:"LOGIN_WINDOW"` // before further logins are refused
}

// Readiness settings of /readyz.
type Readiness struct {
	// RequireRedis makes /readyz fail while Redis is unavailable. Off by
	// default: the bot answers without Redis (no sessions), and a Redis
	// blip must not take every replica out of the load balancer.
	RequireRedis bool `yaml:"require_redis" env:"REQUIRE_REDIS"`
}

// Log settings.
type Log struct {
	Level  string `yaml:"level" env:"LEVEL"`   // debug, info, warn, error
	Format string `yaml:"format" env:"FORMAT"` // text or json
}

// Redis settings. No address means the embedded Redis (development only).
type Redis struct {
	Addrs      []string      `yaml:"addrs" env:"ADDRS"`             // one address, several Cluster nodes, or Sentinels
	MasterName string        `yaml:"master_name" env:"MASTER_NAME"` // Sentinel master name
	Username   string        `yaml:"username" env:"USERNAME"`
	Password   string        `yaml:"-" env:"PASSWORD,unset"` // secret
	DB         int           `yaml:"db" env:"DB"`
	Prefix     string        `yaml:"prefix" env:"PREFIX"` // prefix of every key
	Timeout    time.Duration `yaml:"timeout" env:"TIMEOUT"`
}

// WeChat settings of the Official Account.
type WeChat struct {
	AppID         string        `yaml:"app_id" env:"APP_ID"`
	AppSecret     string        `yaml:"-" env:"APP_SECRET,unset"`            // secret
	Token         string        `yaml:"-" env:"TOKEN,unset"`                 // secret: the server configuration token
	AESKey        string        `yaml:"-" env:"AES_KEY,unset"`               // secret: EncodingAESKey (43 chars)
	PrevAESKey    string        `yaml:"-" env:"PREV_AES_KEY,unset"`          // secret: the previous EncodingAESKey, during rotation
	AccountType   string        `yaml:"account_type" env:"ACCOUNT_TYPE"`     // subscription (订阅号) or service (服务号)
	Mode          string        `yaml:"mode" env:"MODE"`                     // plain, compat or safe; "" = safe with an AES key, plain without
	AccountID     string        `yaml:"account_id" env:"ACCOUNT_ID"`         // original id (gh_…); messages to another ToUserName get 403
	TimestampSkew time.Duration `yaml:"timestamp_skew" env:"TIMESTAMP_SKEW"` // replay window
	MaxBody       int64         `yaml:"max_body" env:"MAX_BODY"`             // bytes
	ReplyDeadline time.Duration `yaml:"reply_deadline" env:"REPLY_DEADLINE"` // whole handling, well inside WeChat's 5 s
	APIBase       string        `yaml:"api_base" env:"API_BASE"`             // WeChat API base URL (a proxy, or the fake in tests)
	APITimeout    time.Duration `yaml:"api_timeout" env:"API_TIMEOUT"`
	DevKeys       bool          `yaml:"-" env:"-"` // set when the development token and key are in use
}

// Bot behaviour.
type Bot struct {
	Name     string `yaml:"name" env:"NAME"`
	Hotline  string `yaml:"hotline" env:"HOTLINE"`
	Welcome  string `yaml:"welcome" env:"WELCOME"`
	Fallback string `yaml:"fallback" env:"FALLBACK"`
	// Replies to messages that are not for the content; "" = built-in texts.
	// {name}, {hotline}; AboutBot also {topics}, {examples} (from the content).
	AboutBot      string            `yaml:"about_bot" env:"ABOUT_BOT"`         // 你是谁, 你是机器人吗
	Personal      string            `yaml:"personal" env:"PERSONAL"`           // one person's records (成绩, a teacher's phone)
	OtherService  string            `yaml:"other_service" env:"OTHER_SERVICE"` // 驾校, 社保, 医保
	OtherPlace    string            `yaml:"other_place" env:"OTHER_PLACE"`     // another city's matters
	Menu          string            `yaml:"menu" env:"MENU"`                   // menu definition (configs/menu.yaml)
	Clicks        map[string]string `yaml:"clicks" env:"-"`                    // CLICK key → content id or action
	SessionTTL    time.Duration     `yaml:"session_ttl" env:"SESSION_TTL"`
	ContextTTL    time.Duration     `yaml:"context_ttl" env:"CONTEXT_TTL"`
	ProfileTTL    time.Duration     `yaml:"profile_ttl" env:"PROFILE_TTL"`
	DedupTTL      time.Duration     `yaml:"dedup_ttl" env:"DEDUP_TTL"`
	RatePerMinute int               `yaml:"rate_per_minute" env:"RATE_PER_MINUTE"`
	HandoffTTL    time.Duration     `yaml:"handoff_ttl" env:"HANDOFF_TTL"`
	OfficeHours   string            `yaml:"office_hours" env:"OFFICE_HOURS"` // e.g. "Mon-Fri 08:30-12:00,14:30-17:30"
	TimeZone      string            `yaml:"time_zone" env:"TIME_ZONE"`
	// SubscriptionTTL keeps topic subscriptions (refreshed on every subscribe).
	SubscriptionTTL time.Duration `yaml:"subscription_ttl" env:"SUBSCRIPTION_TTL"`
	// NoteTTL keeps questions left for staff outside office hours.
	NoteTTL time.Duration `yaml:"note_ttl" env:"NOTE_TTL"`
	// StoreTimeout bounds one Redis call of the bot; past it the bot answers without memory.
	StoreTimeout time.Duration `yaml:"store_timeout" env:"STORE_TIMEOUT"`
}

// Admin API settings.
type Admin struct {
	// Tokens: "name:role:token" entries (role editor or publisher), from
	// EDUBOT_ADMIN_TOKENS (comma separated) or the file EDUBOT_ADMIN_TOKENS_FILE.
	Tokens []string `yaml:"-" env:"TOKENS,unset"`
	// Pprof serves Go's profiles at /admin/api/debug/pprof/ to publisher
	// tokens; off by default.
	Pprof bool `yaml:"pprof" env:"PPROF"`
}

// Broadcast settings.
type Broadcast struct {
	PreviewOpenIDs []string `yaml:"preview_openids" env:"PREVIEW_OPENIDS"`
	RatePerSecond  int      `yaml:"rate_per_second" env:"RATE_PER_SECOND"`
	Workers        int      `yaml:"workers" env:"WORKERS"`
	// DraftTTL: a broadcast nobody confirms is deleted after this.
	DraftTTL time.Duration `yaml:"draft_ttl" env:"DRAFT_TTL"`
	// SendIgnoreReprint: a 图文 mass send goes out even when WeChat's
	// originality check judges the notice a reprint (send_ignore_reprint).
	SendIgnoreReprint bool `yaml:"send_ignore_reprint" env:"SEND_IGNORE_REPRINT"`
	// ClaimIdle: work a replica that died was holding is taken over by the
	// others after this long.
	ClaimIdle time.Duration `yaml:"claim_idle" env:"CLAIM_IDLE"`
}

// Match tunes when the bot answers, lists choices or says it does not know.
// The confidence is calibrated (0..1, the same meaning on any content set).
type Match struct {
	Threshold    float64 `yaml:"threshold" env:"THRESHOLD"`         // below it: the fallback
	ChoiceMargin float64 `yaml:"choice_margin" env:"CHOICE_MARGIN"` // runner-up this close and different: a numbered list
	// SuggestFloor: from this confidence up to Threshold the bot answers
	// with a short "did you mean" list of its best candidates; below it,
	// the fallback. At most Threshold.
	SuggestFloor float64 `yaml:"suggest_floor" env:"SUGGEST_FLOOR"`
	// CacheSize bounds the in-process answer cache (entries of matches and
	// of analyses each); 0 turns it off. Edits clear it at once.
	CacheSize int `yaml:"cache_size" env:"CACHE_SIZE"`
}

// Stats settings (what people asked).
type Stats struct {
	Retention time.Duration `yaml:"retention" env:"RETENTION"`
	// Salt keys the HMAC of user ids in the records (secret; EDUBOT_STATS_SALT
	// or EDUBOT_STATS_SALT_FILE). Empty: a random salt kept in Redis.
	Salt string `yaml:"-" env:"SALT,unset"`
}

// Development credentials: used only when none are configured, and logged
// loudly so nobody deploys them.
const (
	DevToken  = "edubot-dev-token"
	DevAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	DevAppID  = "wxedubotdev00000"
)

// Default returns the settings used when nothing is configured.
func Default() Config {
	return Config{
		Addr:           "127.0.0.1:8080",
		TrustedProxies: nil,
		DataDir:        "data",
		Log:            Log{Level: "info", Format: "text"},
		Redis:          Redis{Prefix: "edubot:", Timeout: 500 * time.Millisecond},
		WeChat: WeChat{
			AccountType:   "subscription",
			TimestampSkew: 300 * time.Second,
			MaxBody:       64 << 10,
			ReplyDeadline: 3 * time.Second,
			APIBase:       "https://api.weixin.qq.com",
			APITimeout:    5 * time.Second,
		},
		Bot: Bot{
			Name:            "揭阳教育",
			Hotline:         "0663-12340101（工作日8:30—12:00、14:30—17:30）",
			SessionTTL:      30 * time.Minute,
			ContextTTL:      10 * time.Minute,
			ProfileTTL:      30 * 24 * time.Hour,
			DedupTTL:        60 * time.Second,
			RatePerMinute:   20,
			HandoffTTL:      30 * time.Minute,
			OfficeHours:     "Mon-Fri 08:30-12:00,14:30-17:30",
			TimeZone:        "Asia/Shanghai",
			SubscriptionTTL: 365 * 24 * time.Hour,
			NoteTTL:         14 * 24 * time.Hour,
			StoreTimeout:    300 * time.Millisecond,
			Menu:            "configs/menu.yaml",
		},
		Broadcast: Broadcast{RatePerSecond: 20, Workers: 2, SendIgnoreReprint: true, ClaimIdle: time.Minute, DraftTTL: 7 * 24 * time.Hour},
		Stats:     Stats{Retention: 90 * 24 * time.Hour},
		Match:     Match{Threshold: 0.50, SuggestFloor: 0.20, ChoiceMargin: 0.035, CacheSize: 4096},
		Console:   Console{SessionIdle: 2 * time.Hour, SessionMax: 12 * time.Hour, LoginLimit: 5, LoginWindow: 15 * time.Minute},
	}
}

// Load reads defaults, then the YAML file at path (if path is not ""),
// then the environment, and validates the result.
func Load(path string) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := yamlx.Strict(data, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %s", path, yaml.FormatError(err, false, true))
		}
	}
	if err := env.ParseWithOptions(&cfg, env.Options{Prefix: "EDUBOT_"}); err != nil {
		return cfg, fmt.Errorf("config: environment: %w", err)
	}
	if err := readSecretFiles(&cfg); err != nil {
		return cfg, err
	}
	if cfg.WeChat.Token == "" && cfg.WeChat.AESKey == "" {
		cfg.WeChat.Token, cfg.WeChat.AESKey, cfg.WeChat.DevKeys = DevToken, DevAESKey, true
		if cfg.WeChat.AppID == "" {
			cfg.WeChat.AppID = DevAppID
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// readSecretFiles reads EDUBOT_*_FILE variables (Docker/Kubernetes secrets).
func readSecretFiles(cfg *Config) error {
	files := []struct {
		env string
		dst *string
	}{
		{"EDUBOT_WECHAT_TOKEN_FILE", &cfg.WeChat.Token},
		{"EDUBOT_WECHAT_AES_KEY_FILE", &cfg.WeChat.AESKey},
		{"EDUBOT_WECHAT_PREV_AES_KEY_FILE", &cfg.WeChat.PrevAESKey},
		{"EDUBOT_WECHAT_APP_SECRET_FILE", &cfg.WeChat.AppSecret},
		{"EDUBOT_REDIS_PASSWORD_FILE", &cfg.Redis.Password},
		{"EDUBOT_STATS_SALT_FILE", &cfg.Stats.Salt},
	}
	for _, f := range files {
		p := os.Getenv(f.env)
		if p == "" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("config: %s: %w", f.env, err)
		}
		*f.dst = strings.TrimSpace(string(data))
	}
	if p := os.Getenv("EDUBOT_ADMIN_TOKENS_FILE"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("config: EDUBOT_ADMIN_TOKENS_FILE: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				cfg.Admin.Tokens = append(cfg.Admin.Tokens, line)
			}
		}
	}
	return nil
}

// Validate says which setting is wrong and why.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", name, fmt.Sprintf(format, args...)))
	}
	if c.Addr == "" {
		bad("addr", "required")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"console.session_idle", c.Console.SessionIdle}, {"console.session_max", c.Console.SessionMax}, {"console.login_window", c.Console.LoginWindow}} {
		if d.v <= 0 {
			bad(d.name, "must be positive, got %s", d.v)
		}
	}
	if c.Console.LoginLimit < 1 {
		bad("console.login_limit", "must be at least 1, got %d", c.Console.LoginLimit)
	}
	if c.Console.SessionMax < c.Console.SessionIdle {
		bad("console.session_max", "must not be shorter than console.session_idle (%s), got %s", c.Console.SessionIdle, c.Console.SessionMax)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	if c.WeChat.Token == "" {
		bad("EDUBOT_WECHAT_TOKEN", "required when an AES key is set")
	}
	for name, k := range map[string]string{"EDUBOT_WECHAT_AES_KEY": c.WeChat.AESKey, "EDUBOT_WECHAT_PREV_AES_KEY": c.WeChat.PrevAESKey} {
		if k != "" && len(k) != 43 {
			bad(name, "an EncodingAESKey has 43 characters, this one has %d", len(k))
		}
	}
	switch c.WeChat.Mode {
	case "", "plain":
	case "compat", "safe":
		if c.WeChat.AESKey == "" {
			bad("wechat.mode", "%s needs EDUBOT_WECHAT_AES_KEY", c.WeChat.Mode)
		}
	default:
		bad("wechat.mode", "must be plain, compat or safe (or empty: safe with an AES key), got %q", c.WeChat.Mode)
	}
	switch c.WeChat.AccountType {
	case "subscription", "service":
	default:
		bad("wechat.account_type", "must be subscription (订阅号) or service (服务号), got %q", c.WeChat.AccountType)
	}
	if c.Redis.Timeout <= 0 {
		// go-redis reads a negative timeout as "none": a hung Redis would
		// then hold every reply past WeChat's 5 s.
		bad("redis.timeout", "must be positive, got %s", c.Redis.Timeout)
	}
	if c.WeChat.TimestampSkew <= 0 {
		bad("wechat.timestamp_skew", "must be positive")
	}
	if c.WeChat.MaxBody < 1024 {
		bad("wechat.max_body", "must be at least 1024 bytes")
	}
	if c.WeChat.ReplyDeadline <= 0 || c.WeChat.ReplyDeadline >= 5*time.Second {
		bad("wechat.reply_deadline", "must be between 0 and WeChat's 5s, got %s", c.WeChat.ReplyDeadline)
	}
	if c.Now != "" {
		if _, err := time.Parse("2006-01-02", c.Now); err != nil {
			bad("now", "want YYYY-MM-DD, got %q", c.Now)
		}
	}
	if _, err := time.LoadLocation(c.Bot.TimeZone); err != nil {
		bad("bot.time_zone", "%v", err)
	}
	if c.Bot.RatePerMinute <= 0 {
		bad("bot.rate_per_minute", "must be positive")
	}
	for i, t := range c.Admin.Tokens {
		parts := strings.SplitN(t, ":", 3)
		if len(parts) != 3 || parts[0] == "" || len(parts[2]) < 16 || (parts[1] != "editor" && parts[1] != "publisher") {
			bad("EDUBOT_ADMIN_TOKENS", "entry %d must be name:editor|publisher:token with a token of at least 16 characters", i+1)
		}
	}
	if c.Broadcast.DraftTTL <= 0 {
		bad("broadcast.draft_ttl", "must be positive")
	}
	if c.Broadcast.Workers < 1 {
		bad("broadcast.workers", "must be at least 1")
	}
	if c.Broadcast.ClaimIdle < time.Second {
		bad("broadcast.claim_idle", "must be at least 1s, got %s", c.Broadcast.ClaimIdle)
	}
	if c.Match.Threshold <= 0 || c.Match.Threshold >= 1 {
		bad("match.threshold", "must be between 0 and 1, got %v", c.Match.Threshold)
	}
	if c.Match.SuggestFloor <= 0 || c.Match.SuggestFloor > c.Match.Threshold {
		bad("match.suggest_floor", "must be above 0 and at most match.threshold (%v), got %v", c.Match.Threshold, c.Match.SuggestFloor)
	}
	if c.Match.CacheSize < 0 {
		bad("match.cache_size", "must be 0 (off) or more, got %d", c.Match.CacheSize)
	}
	if c.Match.ChoiceMargin < 0 || c.Match.ChoiceMargin >= 0.5 {
		bad("match.choice_margin", "must be between 0 and 0.5, got %v", c.Match.ChoiceMargin)
	}
	if c.Stats.Retention <= 0 {
		bad("stats.retention", "must be positive")
	}
	return errors.Join(errs...)
}

// LogValue keeps secrets out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("content", c.Content),
		slog.Any("redis_addrs", c.Redis.Addrs),
		slog.String("app_id", c.WeChat.AppID),
		slog.Bool("dev_keys", c.WeChat.DevKeys),
		slog.String("wechat_mode", c.WeChat.Mode),
		slog.Int("admin_tokens", len(c.Admin.Tokens)),
	)
}
