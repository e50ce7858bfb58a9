package console

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content/search"
)

// questionGroup is one question people asked without getting a direct
// answer: every way it was typed that normalises to the same text.
type questionGroup struct {
	Text       string   // the form typed most often
	Forms      []string // the other forms, most asked first
	Count      int64
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
	var typed []struct {
		text, outcome string
		count         int64
		last          time.Time
	}
	if c.Daily != nil {
		ts, err := c.Daily.Typed(ctx, since, until, "", 2000)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			typed = append(typed, struct {
				text, outcome string
				count         int64
				last          time.Time
			}{t.Text, t.Outcome, t.Count, t.Last})
		}
	} else {
		// Without the daily counters only the normalised fallbacks are known.
		qs, err := c.Stats.Unanswered(ctx, since, until, 500)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			typed = append(typed, struct {
				text, outcome string
				count         int64
				last          time.Time
			}{q.Text, bot.AnswerFallback, q.Count, q.Last})
		}
	}
	type formCount struct {
		text  string
		count int64
	}
	byNorm := map[string]*questionGroup{}
	forms := map[string]map[string]int64{}
	var order []string
	for _, t := range typed {
		norm := strings.TrimSpace(c.Engine.Analyze(t.text).Normalized)
		if norm == "" {
			norm = t.text
		}
		g := byNorm[norm]
		if g == nil {
			g = &questionGroup{Normalized: norm}
			byNorm[norm] = g
			forms[norm] = map[string]int64{}
			order = append(order, norm)
		}
		g.Count += t.count
		if t.outcome == bot.AnswerChoices || t.outcome == bot.AnswerSuggest { // a list was offered
			g.Choices += t.count
		} else {
			g.Fallback += t.count
		}
		if t.last.After(g.Last) {
			g.Last = t.last
		}
		forms[norm][t.text] += t.count
	}
	now := c.Now()
	var out []questionGroup
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
		res := c.Engine.Match(ctx, search.Query{Text: g.Text, Now: now})
		if res.Decision == search.Answer {
			continue // answered now
		}
		g.Top = res.Top
		if len(g.Top) > 3 {
			g.Top = g.Top[:3]
		}
		out = append(out, *g)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Text < out[j].Text
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
