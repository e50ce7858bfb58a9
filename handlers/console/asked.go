package console

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/stats"
)

// questionGroup is one question people asked: every way it was typed
// that normalises to the same text.
type questionGroup struct {
	Text       string   // the form typed most often
	Forms      []string // the other forms, most asked first
	Count      int64
	Answered   int64 // times a rule, an FAQ or a notice answered it
	Fallback   int64 // times it got "no answer"
	Choices    int64 // times it got a "did you mean" list
	Last       time.Time
	Normalized string
	Top        []search.Candidate // the matcher's best guesses now (for "attach to")
}

// questionGroups groups the questions without a direct answer in the
// period by their normalised text and leaves out those the matcher now
// answers directly (staff answered them since).
func (c *Console) questionGroups(ctx context.Context, since, until time.Time, limit int) ([]questionGroup, error) {
	var typed []stats.Typed
	if c.Daily != nil {
		var err error
		if typed, err = c.Daily.Typed(ctx, since, until, "", 2000); err != nil {
			return nil, err
		}
	} else {
		// Without the daily counters only the normalised fallbacks are known.
		qs, err := c.Stats.Unanswered(ctx, since, until, 500)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			typed = append(typed, stats.Typed{Text: q.Text, Outcome: bot.AnswerFallback, Count: q.Count, Last: q.Last})
		}
	}
	now := c.Now()
	var out []questionGroup
	for _, g := range c.groupTyped(typed) {
		res := c.Engine.Match(ctx, search.Query{Text: g.Text, Now: now})
		if res.Decision == search.Answer {
			continue // answered now
		}
		g.Top = res.Top
		if len(g.Top) > 3 {
			g.Top = g.Top[:3]
		}
		out = append(out, g)
	}
	return firstGroups(out, limit), nil
}

// topQuestions are the questions people asked most in the period, as
// they typed them, however they were answered. Nil without the daily
// counters: the recorder keeps no answered question's text.
func (c *Console) topQuestions(ctx context.Context, since, until time.Time, limit int) ([]questionGroup, error) {
	if c.Daily == nil {
		return nil, nil
	}
	typed, err := c.Daily.Asked(ctx, since, until, 5000)
	if err != nil {
		return nil, err
	}
	return firstGroups(c.groupTyped(typed), limit), nil
}

// groupTyped merges the questions that normalise alike into one group,
// shown as the form typed most often; groups asked 0 times are dropped.
func (c *Console) groupTyped(typed []stats.Typed) []questionGroup {
	type formCount struct {
		text  string
		count int64
	}
	byNorm := map[string]*questionGroup{}
	forms := map[string]map[string]int64{}
	var order []string
	for _, t := range typed {
		if t.Count <= 0 {
			continue
		}
		norm := strings.TrimSpace(c.Engine.Analyze(t.Text).Normalized)
		if norm == "" {
			norm = t.Text
		}
		g := byNorm[norm]
		if g == nil {
			g = &questionGroup{Normalized: norm}
			byNorm[norm] = g
			forms[norm] = map[string]int64{}
			order = append(order, norm)
		}
		g.Count += t.Count
		switch t.Outcome {
		case bot.AnswerChoices, bot.AnswerSuggest: // a list was offered
			g.Choices += t.Count
		case bot.AnswerFallback:
			g.Fallback += t.Count
		default:
			g.Answered += t.Count
		}
		if t.Last.After(g.Last) {
			g.Last = t.Last
		}
		forms[norm][t.Text] += t.Count
	}
	out := make([]questionGroup, 0, len(order))
	for _, norm := range order {
		g := byNorm[norm]
		var fs []formCount
		for t, n := range forms[norm] {
			fs = append(fs, formCount{t, n})
		}
		sort.Slice(fs, func(i, j int) bool {
			if fs[i].count != fs[j].count {
				return fs[i].count > fs[j].count
			}
			return fs[i].text < fs[j].text
		})
		g.Text = fs[0].text
		for _, f := range fs[1:] {
			g.Forms = append(g.Forms, f.text)
		}
		out = append(out, *g)
	}
	return out
}

// firstGroups sorts groups most asked first and keeps limit (0 = all).
func firstGroups(gs []questionGroup, limit int) []questionGroup {
	sort.SliceStable(gs, func(i, j int) bool {
		if gs[i].Count != gs[j].Count {
			return gs[i].Count > gs[j].Count
		}
		return gs[i].Text < gs[j].Text
	})
	if limit > 0 && len(gs) > limit {
		gs = gs[:limit]
	}
	return gs
}
