package bot

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/content/search"
)

// ScopeTexts are the replies to messages that are not for the bureau's
// content. Each may use {name} (Config.Name), {hotline} (Config.Hotline);
// AboutBot also {topics} (the content's subscription topics) and
// {examples} (example questions taken from the content, one a line).
type ScopeTexts struct {
	AboutBot     string // 你是谁, 你是机器人吗: who the bot is and what it answers
	Personal     string // one person's records (成绩, a teacher's phone): the bot cannot see them
	OtherService string // another public service (驾校, 社保): another department
	OtherPlace   string // another city's matters: that city's bureau
}

func defaultScopeTexts() ScopeTexts {
	return ScopeTexts{
		AboutBot: "您好，我是“{name}”的自动答复助手（不是真人）。我能回答{topics}等方面的问题，" +
			"都来自本局发布的通知和常见问题解答。{examples}\n直接发文字问我就行；回复“人工”可联系工作人员。",
		Personal: "抱歉，我看不到个人的信息（比如孩子的成绩、学籍，老师的电话），没法帮您查询。" +
			"请直接联系孩子所在的学校或班主任；其他问题可拨打咨询电话：{hotline}。",
		OtherService: "这个问题不归教育部门管，我答不上来。请向负责的部门咨询，也可以拨打政务服务便民热线12345。" +
			"开学、招生、考试、资助等教育方面的问题，欢迎继续问我。",
		OtherPlace: "“{name}”只解答本地的教育事项，其他城市的安排请咨询当地的教育局（可拨打当地的12345热线）。" +
			"本地的问题欢迎继续问我。",
	}
}

func (s ScopeTexts) withDefaults() ScopeTexts {
	d := defaultScopeTexts()
	for _, p := range []struct{ v, d *string }{
		{&s.AboutBot, &d.AboutBot}, {&s.Personal, &d.Personal}, {&s.OtherService, &d.OtherService}, {&s.OtherPlace, &d.OtherPlace},
	} {
		if strings.TrimSpace(*p.v) == "" {
			*p.v = *p.d
		}
	}
	return s
}

// outOfScope answers a message the matcher reads as not for the bureau's
// content, kindly and with where to ask — never with an unrelated FAQ. A
// keyword rule staff configured still wins.
func (t *turn) outOfScope(ctx context.Context, res search.Result) (Reply, bool) {
	if res.Analysis.Scope == search.InScope || (res.Decision == search.Answer && res.Best.Kind == search.KindRule) {
		return Reply{}, false
	}
	cfg := t.b.cfg
	var tmpl string
	switch res.Analysis.Scope {
	case search.AboutBot:
		tmpl = cfg.Scope.AboutBot
	case search.Personal:
		tmpl = cfg.Scope.Personal
	case search.OtherService:
		tmpl = cfg.Scope.OtherService
	case search.OtherPlace:
		tmpl = cfg.Scope.OtherPlace
	default:
		return Reply{}, false // a scope this version does not know: answer as usual
	}
	r := strings.NewReplacer("{name}", cfg.Name, "{hotline}", cfg.Hotline)
	text := r.Replace(tmpl)
	if strings.Contains(text, "{topics}") || strings.Contains(text, "{examples}") {
		topics, examples := t.b.introduce(ctx, t.now)
		text = strings.NewReplacer("{topics}", topics, "{examples}", examples).Replace(text)
	}
	return t.text(AnswerOutOfScope, text), true
}

// introduce names what the content covers: up to five of its topics, and
// up to three of its FAQ questions as examples, each the best FAQ of one
// topic — so the self-introduction follows the content, whatever the city.
func (b *Bot) introduce(ctx context.Context, now time.Time) (topics, examples string) {
	tags := b.m.Tags()
	if len(tags) > 5 {
		tags = tags[:5]
	}
	topics = strings.Join(tags, "、")
	if topics == "" {
		topics = "本局通知、办事指南"
	}
	var qs []string
	for _, tag := range tags {
		if len(qs) == 3 {
			break
		}
		res := b.m.Match(ctx, search.Query{Text: tag, Now: now})
		for _, c := range res.Top {
			if c.Kind != search.KindFAQ {
				continue
			}
			if f := b.m.FAQ(c.ID); f != nil && !slices.Contains(qs, f.Question) {
				qs = append(qs, f.Question)
			}
			break
		}
	}
	if len(qs) > 0 {
		examples = "\n例如：\n· " + strings.Join(qs, "\n· ")
	}
	return topics, examples
}
