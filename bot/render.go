package bot

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/content/search"
)

// PageSize is how many numbered choices one reply lists.
const PageSize = 5

// cut keeps s within MaxTextBytes, cutting on a rune boundary and marking
// the cut with an ellipsis.
func cut(s string) string {
	if len(s) <= MaxTextBytes {
		return s
	}
	const ell = "…"
	limit := MaxTextBytes - len(ell)
	for limit > 0 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return strings.TrimRightFunc(s[:limit], unicode.IsSpace) + ell
}

// renderResult turns a match into a reply, following its decision exactly.
func (b *Bot) renderResult(res search.Result, now time.Time) (Reply, []Item) {
	switch res.Decision {
	case search.Answer:
		if r, ok := b.renderItem(res.Best.Kind, res.Best.ID, now); ok {
			return r, b.items(res.Top, res.Best.ID)
		}
		b.log.Warn("bot: best answer vanished from the content", "id", res.Best.ID)
	case search.Choices:
		list := b.items(append(append([]search.Candidate{}, res.Choices...), res.Top...), "")
		if len(list) > 0 {
			return b.renderChoices(list, 0, "您想了解的是哪一个？"), list
		}
	case search.Suggest:
		// Below the confident threshold: never an answer, only the few
		// plausible items to pick from.
		list := b.items(res.Choices, "")
		if len(list) > MaxSuggest {
			list = list[:MaxSuggest]
		}
		if len(list) > 0 {
			return renderSuggest(list), list
		}
	}
	return b.fallback(), nil
}

// MaxSuggest is how many items a "did you mean" lists.
const MaxSuggest = 3

// renderSuggest lists a "did you mean" (猜你想问).
func renderSuggest(list []Item) Reply {
	var sb strings.Builder
	sb.WriteString("您是不是想问：")
	ids := make([]string, len(list))
	for i, it := range list {
		fmt.Fprintf(&sb, "\n%d. %s", i+1, it.Title)
		ids[i] = it.ID
	}
	sb.WriteString("\n回复序号查看；都不是的话，请换个说法再问。")
	return Reply{Kind: ReplyText, Text: cut(sb.String()), Answer: AnswerSuggest, IDs: ids}
}

func (b *Bot) fallback() Reply {
	return Reply{Kind: ReplyText, Text: cut(b.cfg.Fallback), Answer: AnswerFallback}
}

// maxList bounds the numbered list kept for paging.
const maxList = 15

// items turns candidates into numbered choices, without duplicates and
// without skip.
func (b *Bot) items(cs []search.Candidate, skip string) []Item {
	var out []Item
	seen := map[string]bool{skip: true}
	for _, c := range cs {
		if seen[c.ID] || len(out) == maxList {
			continue
		}
		seen[c.ID] = true
		out = append(out, Item{Kind: c.Kind, ID: c.ID, Title: b.itemTitle(c)})
	}
	return out
}

func (b *Bot) itemTitle(c search.Candidate) string {
	switch c.Kind {
	case search.KindFAQ:
		if f := b.m.FAQ(c.ID); f != nil {
			return f.Question
		}
	case search.KindNotice:
		if n := b.m.Notice(c.ID); n != nil {
			return n.Title
		}
	case search.KindRule:
		if r := b.m.Rule(c.ID); r != nil && len(r.Keywords) > 0 {
			return r.Keywords[0]
		}
	}
	return c.Title
}

// renderChoices lists list[from:from+PageSize], numbered from from+1.
func (b *Bot) renderChoices(list []Item, from int, header string) Reply {
	end := min(from+PageSize, len(list))
	var sb strings.Builder
	sb.WriteString(header)
	ids := make([]string, 0, end-from)
	for i := from; i < end; i++ {
		fmt.Fprintf(&sb, "\n%d. %s", i+1, list[i].Title)
		ids = append(ids, list[i].ID)
	}
	sb.WriteString("\n回复序号查看")
	if end < len(list) {
		sb.WriteString("，回复“更多”看其他结果")
	}
	sb.WriteString("。")
	return Reply{Kind: ReplyText, Text: cut(sb.String()), Answer: AnswerChoices, IDs: ids}
}

// renderItem answers with one piece of content.
func (b *Bot) renderItem(kind search.Kind, id string, now time.Time) (Reply, bool) {
	switch kind {
	case search.KindFAQ:
		return b.renderFAQ(id, now)
	case search.KindNotice:
		return b.renderNotice(id)
	case search.KindRule:
		r := b.m.Rule(id)
		if r == nil {
			return Reply{}, false
		}
		var out Reply
		var ok bool
		switch {
		case r.Notice != "":
			out, ok = b.renderNotice(r.Notice)
		case r.FAQ != "":
			out, ok = b.renderFAQ(r.FAQ, now)
		default:
			out, ok = Reply{Kind: ReplyText, Text: cut(strings.TrimSpace(r.Reply))}, true
		}
		if !ok {
			return Reply{}, false
		}
		out.Answer = AnswerRule
		out.IDs = append([]string{r.ID}, out.IDs...)
		return out, true
	}
	return Reply{}, false
}

// renderByID answers with the notice, FAQ or rule of that id.
func (b *Bot) renderByID(id string, now time.Time) (Reply, bool) {
	for _, k := range []search.Kind{search.KindFAQ, search.KindNotice, search.KindRule} {
		if r, ok := b.renderItem(k, id, now); ok {
			return r, true
		}
	}
	return Reply{}, false
}

// renderFAQ answers with the FAQ's text and, when it fits, a link to its
// first related notice that has not expired.
func (b *Bot) renderFAQ(id string, now time.Time) (Reply, bool) {
	f := b.m.FAQ(id)
	if f == nil {
		return Reply{}, false
	}
	text := strings.TrimSpace(f.Answer)
	ids := []string{f.ID}
	for _, nid := range f.Notices {
		n := b.m.Notice(nid)
		if n == nil || n.Expired(now) || n.URL == "" {
			continue
		}
		withLink := text + "\n\n详见《" + n.Title + "》：" + n.URL
		if len(withLink) <= MaxTextBytes {
			text = withLink
			ids = append(ids, n.ID)
		}
		break
	}
	return Reply{Kind: ReplyText, Text: cut(text), Answer: AnswerFAQ, IDs: ids}, true
}

// renderNotice answers with one news card.
func (b *Bot) renderNotice(id string) (Reply, bool) {
	n := b.m.Notice(id)
	if n == nil {
		return Reply{}, false
	}
	return Reply{
		Kind:    ReplyNews,
		Article: &Article{Title: n.Title, Description: n.Summary, PicURL: n.Cover, URL: n.URL},
		Answer:  AnswerNotice,
		IDs:     []string{n.ID},
	}, true
}

// roleNames are the profile roles in words.
var roleNames = map[string]string{"parents": "家长", "teachers": "教师", "students": "学生", "staff": "教育系统工作人员"}
