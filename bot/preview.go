package bot

import (
	"context"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search"
)

// Replies for staff (the console's previews and re-runs): rendered as the
// webhook's replies are, but nothing is remembered or recorded.

// Ask answers text as a first message from someone the bot does not know:
// match and render, without a session, statistics or rate limit.
func (b *Bot) Ask(ctx context.Context, text string) Reply {
	now := b.now()
	r, _ := b.renderResult(b.m.Match(ctx, search.Query{Text: text, Now: now}), now)
	return r
}

// PreviewNotice is the news card a notice is answered with (renderNotice).
func PreviewNotice(n *content.Notice) Reply {
	return Reply{
		Kind:    ReplyNews,
		Article: &Article{Title: n.Title, Description: n.Summary, PicURL: n.Cover, URL: n.URL},
		Answer:  AnswerNotice,
		IDs:     []string{n.ID},
	}
}

// PreviewFAQ is the text an FAQ is answered with (renderFAQ): its answer
// and, when it fits, a link to its first related notice that has not
// expired. notice looks related notices up (nil: none).
func PreviewFAQ(f *content.FAQ, notice func(id string) *content.Notice, now time.Time) Reply {
	text := strings.TrimSpace(f.Answer)
	ids := []string{f.ID}
	for _, nid := range f.Notices {
		var n *content.Notice
		if notice != nil {
			n = notice(nid)
		}
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
	return Reply{Kind: ReplyText, Text: cut(text), Answer: AnswerFAQ, IDs: ids}
}
