package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content/search"
)

// Sessions live in Redis across deploys: a stored one that does not hold
// together (more shown than listed, fewer attributes than items) gets an
// answer, not a panic.
func TestMalformedStoredSessionIsNoPanic(t *testing.T) {
	e := newEnv(t)
	b := e.bot()
	ctx := context.Background()
	item := bot.Item{Kind: search.KindFAQ, ID: "faq-x", Title: "x"}
	for user, s := range map[string]bot.Session{
		"u-list":    {Query: "报到", List: []bot.Item{item}, Shown: 3},
		"u-clarify": {Query: "报到", Clarify: &bot.Clarify{Query: "报到", Dim: "region", Options: []string{"榕城区", "揭东区"}, Items: []bot.Item{item, item}, Attrs: []string{"榕城区"}}},
	} {
		s.At = e.clock.Now()
		if err := e.store.SaveSession(ctx, user, s, time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{"3", "2"} {
			if r := b.Handle(ctx, textMsg(user, text)); r.Kind == bot.ReplyNone {
				t.Errorf("%s: %q got no reply", user, text)
			}
		}
	}
}
