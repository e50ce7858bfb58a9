package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/handlers/admin"
	"github.com/gdjysjyj/edubot/stats"
)

func init() {
	addPage(Page{Path: "/", Role: admin.RoleEditor, Order: 0, Mount: func(c *Console, r *Routes) {
		r.GET("/", admin.RoleEditor, c.home)
	}})
}

type homeData struct {
	Today    stats.DayCount
	Answered int64
	Choices  int64
	Fallback int64
	Other    int64
	HasDaily bool
	Chart    chart
	// TopQuestions are today's most asked questions as typed; TopItems the
	// content that answered most, and Unanswered the questions without a
	// direct answer, over the last Days days.
	TopQuestions []questionGroup
	TopItems     []topItem
	Unanswered   []questionGroup
	Days         int
}

type topItem struct {
	ID, Kind, Title string
	Count, Offered  int64
}

// chart is the last 30 days as stacked bars, drawn as inline SVG.
type chart struct {
	W, H  int
	Bars  []bar
	Max   int64
	Ticks []tick
}

type bar struct {
	X, W    float64
	Label   string // MM-DD under some bars
	LabelX  float64
	Anchor  string // text-anchor of the label
	Title   string // tooltip
	Stacks  []stack
	ShowLab bool
}

type stack struct {
	Y, H  float64
	Class string
}

type tick struct {
	Y     float64
	Label string
}

var chartSeries = []struct{ Class, Label string }{
	{"s-answered", "直接回答"}, {"s-choices", "猜你想问"}, {"s-fallback", "没有答案"}, {"s-other", "其他（对话、指令、超出范围）"},
}

func (c *Console) home(g *gin.Context) {
	ctx := g.Request.Context()
	now := c.Now().In(c.Location)
	d := homeData{Days: 7}
	if c.Daily != nil {
		days, err := c.Daily.Days(ctx, now.AddDate(0, 0, -29), now)
		if err != nil {
			c.Fail(g, err)
			return
		}
		d.HasDaily = true
		if len(days) > 0 {
			d.Today = days[len(days)-1]
			d.Answered = d.Today.Answered()
			d.Choices = lists(d.Today)
			d.Fallback = d.Today.Outcomes[bot.AnswerFallback]
			d.Other = d.Today.Total - d.Answered - d.Choices - d.Fallback
		}
		d.Chart = drawChart(days)
	}
	asked, err := c.topQuestions(ctx, now, now, 10)
	if err != nil {
		c.Fail(g, err)
		return
	}
	d.TopQuestions = asked
	top, err := c.topItems(ctx, now.AddDate(0, 0, -(d.Days-1)), now, 10)
	if err != nil {
		c.Fail(g, err)
		return
	}
	d.TopItems = top
	groups, err := c.questionGroups(ctx, now.AddDate(0, 0, -(d.Days-1)), now, 200)
	if err != nil {
		c.Fail(g, err)
		return
	}
	if len(groups) > 10 {
		groups = groups[:10]
	}
	d.Unanswered = groups
	c.Render(g, http.StatusOK, "home", d, nil)
}

// topItems is the content answered most often in the period; content
// only offered in lists, never answered with, is not listed.
func (c *Console) topItems(ctx context.Context, since, until time.Time, n int) ([]topItem, error) {
	hits, err := c.Stats.Hits(ctx, since, until)
	if err != nil {
		return nil, err
	}
	acc := map[string]*topItem{}
	for _, h := range hits {
		t := acc[h.ID]
		if t == nil {
			t = &topItem{ID: h.ID}
			acc[h.ID] = t
		}
		t.Count += h.Count
		t.Offered += h.Offered
	}
	var out []topItem
	for _, t := range acc {
		if t.Count <= 0 {
			continue
		}
		t.Kind, t.Title = c.describe(t.ID)
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// describe names a content id for people: its kind and title or question.
func (c *Console) describe(id string) (kind, title string) {
	if n := c.Engine.Notice(id); n != nil {
		return "notice", n.Title
	}
	if f := c.Engine.FAQ(id); f != nil {
		return "faq", f.Question
	}
	if r := c.Engine.Rule(id); r != nil {
		return "rule", fmt.Sprintf("关键词：%v", r.Keywords)
	}
	return "", "（已删除）" + id
}

func drawChart(days []stats.DayCount) chart {
	ch := chart{W: 900, H: 240}
	const left, bottom, top = 34.0, 22.0, 8.0
	plotH := float64(ch.H) - bottom - top
	for _, d := range days {
		if d.Total > ch.Max {
			ch.Max = d.Total
		}
	}
	scaleMax := niceMax(ch.Max)
	for i := 0; i <= 4; i++ {
		v := scaleMax * int64(i) / 4
		ch.Ticks = append(ch.Ticks, tick{Y: top + plotH - plotH*float64(v)/float64(scaleMax), Label: fmt.Sprint(v)})
	}
	n := len(days)
	if n == 0 {
		return ch
	}
	slot := (float64(ch.W) - left) / float64(n)
	for i, d := range days {
		other := d.Total - d.Answered() - lists(d) - d.Outcomes[bot.AnswerFallback]
		vals := []int64{d.Answered(), lists(d), d.Outcomes[bot.AnswerFallback], other}
		b := bar{X: left + float64(i)*slot + slot*0.15, W: slot * 0.7, Label: d.Day.Format("01-02"), LabelX: left + (float64(i)+0.5)*slot,
			ShowLab: (i%5 == 0 && i < n-3) || i == n-1, Anchor: "middle",
			Title: fmt.Sprintf("%s：共 %d 条，直接回答 %d，猜你想问 %d，没有答案 %d",
				d.Day.Format("01-02"), d.Total, vals[0], vals[1], vals[2])}
		if i == n-1 {
			b.LabelX, b.Anchor = float64(ch.W)-1, "end" // inside the picture
		}
		y := top + plotH
		for k, v := range vals {
			if v <= 0 {
				continue
			}
			h := plotH * float64(v) / float64(scaleMax)
			y -= h
			b.Stacks = append(b.Stacks, stack{Y: y, H: h, Class: chartSeries[k].Class})
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

// lists is the day's messages answered with a list to pick from: "did
// you mean" below the confident threshold, or several equally good choices.
func lists(d stats.DayCount) int64 {
	return d.Outcomes[bot.AnswerSuggest] + d.Outcomes[bot.AnswerChoices]
}

// niceMax rounds a maximum up to 4, 8, 20, 40, 100… so ticks are round.
func niceMax(m int64) int64 {
	if m <= 4 {
		return 4
	}
	step := int64(1)
	for {
		for _, f := range []int64{1, 2, 5} {
			if top := 4 * f * step; top >= m {
				return top
			}
		}
		step *= 10
	}
}
