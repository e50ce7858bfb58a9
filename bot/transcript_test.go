package bot_test

import (
	"context"
	"testing"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/transcript"
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
