package bot_test

import (
	"context"
	"io/fs"
	"os"
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
				e.checkStats(t, s, i, turn)
				e.clock.Add(5e9) // people take a few seconds to type
			}
		})
	}
}

// TestSampleTranscripts plays conversations on the built-in sample content
// with the real search engine: what a new user sees in `edubot chat`.
func TestSampleTranscripts(t *testing.T) {
	playWithEngine(t, "testdata/transcripts-sample", sample.FS())
}

// TestOtherCityTranscripts plays conversations with the real search
// engine on another city's content (绵阳, with 北川羌族自治县): follow-ups
// by full and short county names.
func TestOtherCityTranscripts(t *testing.T) {
	playWithEngine(t, "testdata/transcripts-mianyang", os.DirFS("../testdata/heldout/mianyang"))
}

func playWithEngine(t *testing.T, dir string, fsys fs.FS) {
	scripts, err := transcript.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := content.Load(fsys)
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
				return bot.New(e.cfg, bot.Deps{Matcher: eng, Store: e.store, Recorder: e.rec, Now: e.clock.Now})
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
				e.checkStats(t, s, i, turn)
				e.clock.Add(5e9)
			}
		})
	}
}

// checkStats checks what staff see in the statistics after a turn.
func (e *env) checkStats(t *testing.T, s transcript.Script, i int, turn transcript.Turn) {
	t.Helper()
	if !turn.HasStats() {
		return
	}
	if err := turn.CheckStats(context.Background(), e.stats, e.clock.Now()); err != nil {
		t.Errorf("%s: turn %d (%s): statistics:\n%v", s.Name, i+1, turn.What(), err)
	}
}
