package transcript_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/transcript"
)

func TestLoadRejectsBadScripts(t *testing.T) {
	for name, body := range map[string]string{
		"two actions": "turns:\n  - {say: 你好, click: K}\n",
		"bad wait":    "turns:\n  - {wait: soon}\n",
		"bad kind":    "turns:\n  - {say: 你好, kind: picture}\n",
		"no turns":    "name: empty\n",
		"typo":        "turns:\n  - {sya: 你好}\n",
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "x.yaml"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := transcript.Load(dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheck(t *testing.T) {
	turn := transcript.Turn{Say: "报到", Kind: "text", Answer: bot.AnswerChoices, Expect: []string{"1. "}, Not: []string{"抱歉"}}
	ok := transcript.SeenOf(bot.Reply{Kind: bot.ReplyText, Text: "1. 一\n2. 二", Answer: bot.AnswerChoices})
	if err := turn.Check(ok); err != nil {
		t.Fatal(err)
	}
	bad := transcript.SeenOf(bot.Reply{Kind: bot.ReplyText, Text: "抱歉", Answer: bot.AnswerFallback})
	err := turn.Check(bad)
	if err == nil || !strings.Contains(err.Error(), `missing "1. "`) || !strings.Contains(err.Error(), "answer fallback") {
		t.Fatalf("check: %v", err)
	}
	news := transcript.SeenOf(bot.Reply{Kind: bot.ReplyNews, Article: &bot.Article{Title: "标题", URL: "https://x.example/"}})
	if news.Kind != "news" || !strings.Contains(news.Text, "https://x.example/") {
		t.Fatalf("news: %+v", news)
	}
}
