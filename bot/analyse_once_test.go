package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
)

// countingMatcher counts the analyses a turn asks for: the message's own
// (AnalyzeAt) and those Match must make because it got none for its text.
type countingMatcher struct {
	*search.Engine
	mu               sync.Mutex
	analyses, reused int
	matchesWithout   int
}

func (c *countingMatcher) AnalyzeAt(text string, now time.Time) search.Analysis {
	c.mu.Lock()
	c.analyses++
	c.mu.Unlock()
	return c.Engine.AnalyzeAt(text, now)
}

func (c *countingMatcher) Match(ctx context.Context, q search.Query) search.Result {
	c.mu.Lock()
	if q.Analysis != nil && q.Analysis.Normalized != "" {
		c.reused++
	} else {
		c.matchesWithout++
	}
	c.mu.Unlock()
	return c.Engine.Match(ctx, q)
}

func (c *countingMatcher) take() (analyses, reused, without int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, r, w := c.analyses, c.reused, c.matchesWithout
	c.analyses, c.reused, c.matchesWithout = 0, 0, 0
	return a, r, w
}

// TestOneAnalysisPerMessage: a question is analysed once and the match
// reuses that analysis; a follow-up (那惠来呢) adds only the analysis of
// the question it stands for.
func TestOneAnalysisPerMessage(t *testing.T) {
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.New(set, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.clock.t = time.Date(2026, 8, 20, 10, 0, 0, 0, tuesdayMorning.Location())
	cm := &countingMatcher{Engine: eng}
	b := bot.New(e.cfg, bot.Deps{Matcher: cm, Store: e.store, Now: e.clock.Now})
	ctx := context.Background()
	for _, tc := range []struct {
		say                       string
		analyses, reused, without int
	}{
		{"普宁几号开学", 1, 1, 0},
		{"那惠来呢", 1, 0, 1}, // the message, then the question it stands for
		{"我是揭西的老师", 1, 0, 0},
		{"一年级报名要带什么材料", 1, 1, 0},
	} {
		r := b.Handle(ctx, textMsg("u-once", tc.say))
		a, re, w := cm.take()
		if a != tc.analyses || re != tc.reused || w != tc.without {
			t.Errorf("%s (%s): %d analyses, %d matches reusing one, %d matches analysing; want %d, %d, %d",
				tc.say, r.Answer, a, re, w, tc.analyses, tc.reused, tc.without)
		}
		e.clock.Add(5 * time.Second)
	}
}
