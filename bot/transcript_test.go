package bot_test

import (
	"context"
	"testing"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/transcript"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
)

// TestTranscripts plays every conversation of testdata/transcripts through
// two bot replicas sharing one real Redis.
func TestTranscripts(t *testing.T) {
	scripts, err := transcript.Load("testdata/transcripts")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		t.Run(s.File, func(t *testing.T) {
			e := newEnv(t)
			start, _ := s.StartTime()
			e.clock.t = start
			replicas := []*bot.Bot{e.bot(), e.bot()}
			for i, turn := range s.Turns {
				if d := turn.WaitFor(); d > 0 {
					e.clock.Add(d)
					continue
				}
				if turn.Replica < 0 || turn.Replica >= len(replicas) {
					t.Fatalf("turn %d: no replica %d", i+1, turn.Replica)
				}
				r := replicas[turn.Replica].Handle(context.Background(), turn.Message(s.User, e.clock.Now(), i))
				if err := turn.Check(transcript.SeenOf(r)); err != nil {
					t.Errorf("%s: turn %d (%s):\n%v", s.Name, i+1, turn.What(), err)
				}
				e.clock.Add(5e9) // people take a few seconds to type
			}
		})
	}
}

// TestSampleTranscripts plays conversations on the built-in sample content
// with the real search engine: what a new user sees in `edubot chat`.
func TestSampleTranscripts(t *testing.T) {
	scripts, err := transcript.Load("testdata/transcripts-sample")
	if err != nil {
		t.Fatal(err)
	}
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.New(set, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		t.Run(s.File, func(t *testing.T) {
			e := newEnv(t)
			start, _ := s.StartTime()
			e.clock.t = start
			mk := func() *bot.Bot {
				return bot.New(e.cfg, bot.Deps{Matcher: eng, Store: e.store, Now: e.clock.Now})
			}
			replicas := []*bot.Bot{mk(), mk()}
			for i, turn := range s.Turns {
				if d := turn.WaitFor(); d > 0 {
					e.clock.Add(d)
					continue
				}
				r := replicas[turn.Replica].Handle(context.Background(), turn.Message(s.User, e.clock.Now(), i))
				if err := turn.Check(transcript.SeenOf(r)); err != nil {
					t.Errorf("%s: turn %d (%s):\n%v", s.Name, i+1, turn.What(), err)
				}
				e.clock.Add(5e9)
			}
		})
	}
}
