package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example file documents every setting with its default: loading it
// must give exactly the defaults.
func TestExampleIsDefaults(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "configs", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != def.Addr || cfg.WeChat.ReplyDeadline != def.WeChat.ReplyDeadline ||
		cfg.Bot.ProfileTTL != def.Bot.ProfileTTL || cfg.Stats.Retention != def.Stats.Retention ||
		cfg.Redis.Prefix != def.Redis.Prefix || cfg.Bot.Hotline != def.Bot.Hotline ||
		cfg.Match != def.Match || cfg.Bot.StoreTimeout != def.Bot.StoreTimeout || cfg.Bot.NoteTTL != def.Bot.NoteTTL {
		t.Errorf("example differs from defaults:\n%+v\n%+v", cfg, def)
	}
}

func TestEnvOverridesAndDevKeys(t *testing.T) {
	t.Setenv("EDUBOT_ADDR", "0.0.0.0:9000")
	t.Setenv("EDUBOT_WECHAT_REPLY_DEADLINE", "2s")
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9000" || cfg.WeChat.ReplyDeadline != 2*time.Second {
		t.Errorf("env not applied: %s %s", cfg.Addr, cfg.WeChat.ReplyDeadline)
	}
	if !cfg.WeChat.DevKeys || cfg.WeChat.Token != DevToken {
		t.Error("no token configured: development keys expected")
	}
}

func TestSecretFromFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDUBOT_WECHAT_TOKEN_FILE", p)
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WeChat.Token != "s3cret-token" || cfg.WeChat.DevKeys {
		t.Errorf("token from file = %q (dev %v)", cfg.WeChat.Token, cfg.WeChat.DevKeys)
	}
}

// Invalid settings fail at start with the setting's name and the reason.
func TestInvalidNamesSetting(t *testing.T) {
	cases := map[string][2]string{
		"short aes key":  {"EDUBOT_WECHAT_AES_KEY", "tooshort"},
		"deadline > 5s":  {"EDUBOT_WECHAT_REPLY_DEADLINE", "6s"},
		"bad log level":  {"EDUBOT_LOG_LEVEL", "loud"},
		"bad admin role": {"EDUBOT_ADMIN_TOKENS", "ann:owner:0123456789abcdef"},
		"no login limit": {"EDUBOT_CONSOLE_LOGIN_LIMIT", "0"},
		"session max":    {"EDUBOT_CONSOLE_SESSION_MAX", "1h"},
	}
	want := map[string]string{
		"short aes key":  "EDUBOT_WECHAT_AES_KEY",
		"deadline > 5s":  "wechat.reply_deadline",
		"bad log level":  "log.level",
		"bad admin role": "EDUBOT_ADMIN_TOKENS",
		"no login limit": "console.login_limit",
		"session max":    "console.session_max",
	}
	for name, kv := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv(kv[0], kv[1])
			if kv[0] == "EDUBOT_WECHAT_AES_KEY" {
				t.Setenv("EDUBOT_WECHAT_TOKEN", "tok")
			}
			_, err := Load("")
			if err == nil || !strings.Contains(err.Error(), want[name]) {
				t.Fatalf("err = %v, want it to name %s", err, want[name])
			}
		})
	}
}

func TestUnknownYAMLKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("bot:\n  hotlin: 123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "hotlin") {
		t.Fatalf("err = %v, want the unknown key named", err)
	}
}

// go-yaml panics on a tagged scalar where a list belongs; Load must say so.
func TestYAMLTheParserPanicsOn(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("trusted_proxies: !00 000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want an error naming the file", err)
	}
}

func TestRedisTimeoutMustBePositive(t *testing.T) {
	for _, v := range []string{"0s", "-1s"} {
		t.Setenv("EDUBOT_REDIS_TIMEOUT", v)
		if _, err := Load(""); err == nil || !strings.Contains(err.Error(), "redis.timeout") {
			t.Errorf("redis timeout %s: err = %v, want it to name redis.timeout", v, err)
		}
	}
}

// The did-you-mean floor is settable and must lie between 0 and the
// confident threshold: a floor above it would let a list replace answers.
func TestSuggestFloor(t *testing.T) {
	t.Setenv("EDUBOT_MATCH_SUGGEST_FLOOR", "0.3")
	cfg, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Match.SuggestFloor != 0.3 {
		t.Errorf("suggest floor = %v, want 0.3 from the environment", cfg.Match.SuggestFloor)
	}
	for _, v := range []string{"0", "-0.1", "0.6"} {
		t.Setenv("EDUBOT_MATCH_SUGGEST_FLOOR", v)
		if _, err := Load(""); err == nil || !strings.Contains(err.Error(), "match.suggest_floor") {
			t.Errorf("floor %s: err = %v, want it to name match.suggest_floor", v, err)
		}
	}
}
