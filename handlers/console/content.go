package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
)

// kindInfo describes one kind of content for the generic pages.
type kindInfo struct {
	Kind  store.Kind
	Slug  string // URL segment
	Label string // in Chinese
	Form  string // template of its form
}

var kinds = []kindInfo{
	{store.KindNotice, "notices", "通知", "notice_form"},
	{store.KindFAQ, "faqs", "问答", "faq_form"},
	{store.KindRule, "rules", "关键词回复", "rule_form"},
	{store.KindSynonym, "synonyms", "同义词", "synonym_form"},
}

func init() {
	addPage(Page{Nav: "内容", Path: "/content", Role: admin.RoleEditor, Order: 10, Mount: func(c *Console, r *Routes) {
		r.GET("/content", admin.RoleEditor, func(g *gin.Context) {
			g.Redirect(http.StatusSeeOther, BasePath+"/content/notices")
		})
		for _, k := range kinds {
			base := "/content/" + k.Slug
			r.GET(base, admin.RoleEditor, c.contentList(k))
			r.GET(base+"/new", admin.RoleEditor, c.contentNew(k))
			r.POST(base+"/new", admin.RoleEditor, c.contentSave(k, true))
			r.POST(base+"/preview", admin.RoleEditor, c.contentPreview(k))
			r.GET(base+"/:id", admin.RoleEditor, c.contentEdit(k))
			r.POST(base+"/:id", admin.RoleEditor, c.contentSave(k, false))
			r.GET(base+"/:id/delete", admin.RoleEditor, c.contentDeletePage(k))
			r.POST(base+"/:id/delete", admin.RoleEditor, c.contentDelete(k))
		}
	}})
}

// listRow is one line of a content list.
type listRow struct {
	ID, Title, Detail string
	Region            string
	Tags              []string
	Date              string
	Expired           bool
}

type listData struct {
	Kind    kindInfo
	Kinds   []kindInfo
	Rows    []listRow
	Total   int
	Regions []string
	Tags    []string
	Q       string
	Region  string
	Tag     string
	Expired string // "", "yes", "no"
}

func contains(hay string, needle string) bool {
	return strings.Contains(strings.ToLower(hay), strings.ToLower(needle))
}

func (c *Console) contentList(k kindInfo) gin.HandlerFunc {
	return func(g *gin.Context) {
		set, err := c.Store.Export(g.Request.Context())
		if err != nil {
			c.Fail(g, err)
			return
		}
		d := listData{Kind: k, Kinds: kinds, Regions: set.Regions(), Tags: set.Tags(),
			Q: strings.TrimSpace(g.Query("q")), Region: g.Query("region"), Tag: g.Query("tag"), Expired: g.Query("expired")}
		now := c.Now()
		match := func(texts ...string) bool {
			if d.Q == "" {
				return true
			}
			for _, t := range texts {
				if contains(t, d.Q) {
					return true
				}
			}
			return false
		}
		switch k.Kind {
		case store.KindNotice:
			d.Total = len(set.Notices)
			for _, n := range set.Notices {
				exp := n.Expired(now)
				if !match(append([]string{n.ID, n.Title, n.Summary, n.Source, n.Body}, n.Keywords...)...) ||
					(d.Region != "" && n.Region != d.Region) || (d.Tag != "" && !slices.Contains(n.Tags, d.Tag)) ||
					(d.Expired == "yes" && !exp) || (d.Expired == "no" && exp) {
					continue
				}
				d.Rows = append(d.Rows, listRow{ID: n.ID, Title: n.Title, Detail: n.Summary, Region: n.Region, Tags: n.Tags, Date: n.Date.String(), Expired: exp})
			}
		case store.KindFAQ:
			d.Total = len(set.FAQs)
			for _, f := range set.FAQs {
				if !match(append(append([]string{f.ID, f.Question, f.Answer}, f.Alternates...), f.Keywords...)...) ||
					(d.Region != "" && f.Region != d.Region) {
					continue
				}
				d.Rows = append(d.Rows, listRow{ID: f.ID, Title: f.Question, Detail: f.Answer, Region: f.Region,
					Tags: []string{fmt.Sprintf("%d 种问法", 1+len(f.Alternates))}})
			}
		case store.KindRule:
			d.Total = len(set.Rules)
			for _, r := range set.Rules {
				if !match(append([]string{r.ID, r.Reply, r.Notice, r.FAQ}, r.Keywords...)...) {
					continue
				}
				detail := r.Reply
				switch {
				case r.Notice != "":
					detail = "→ 通知 " + r.Notice
				case r.FAQ != "":
					detail = "→ 问答 " + r.FAQ
				}
				mode := "包含"
				if r.Match == content.MatchExact {
					mode = "完全一致"
				}
				d.Rows = append(d.Rows, listRow{ID: r.ID, Title: strings.Join(r.Keywords, "、"), Detail: detail, Tags: []string{mode}})
			}
		case store.KindSynonym:
			d.Total = len(set.Synonyms)
			for _, s := range set.Synonyms {
				if !match(append([]string{s.ID}, s.Words...)...) {
					continue
				}
				d.Rows = append(d.Rows, listRow{ID: s.ID, Title: strings.Join(s.Words, " = ")})
			}
		}
		c.Render(g, http.StatusOK, "content_list", d, nil)
	}
}

// editData is a content form's data.
type editData struct {
	Kind    kindInfo
	Kinds   []kindInfo
	New     bool
	ID      string
	Preview *bot.Reply
	Regions []string
	Tags    []string
	// Audiences for the checkboxes.
	Audiences []string
	// From the questions page: the question this FAQ was written for.
	Asked string
}

func (c *Console) editData(k kindInfo, isNew bool, id string) editData {
	d := editData{Kind: k, Kinds: kinds, New: isNew, ID: id, Audiences: content.Audiences}
	if set := c.Engine.Snapshot(); set != nil {
		d.Regions, d.Tags = set.Regions(), set.Tags()
	}
	return d
}

func (c *Console) contentNew(k kindInfo) gin.HandlerFunc {
	return func(g *gin.Context) {
		f := &Form{}
		switch k.Kind {
		case store.KindNotice:
			f.Set("date", c.Now().In(c.Location).Format(content.DateLayout))
			f.Set("source", "揭阳市教育局")
		case store.KindFAQ:
			// From "questions people asked": the question as typed.
			if q := strings.TrimSpace(g.Query("question")); q != "" {
				f.Set("question", q)
			}
		case store.KindRule:
			f.Set("match", content.MatchContains)
		}
		d := c.editData(k, true, "")
		d.Asked = strings.TrimSpace(g.Query("question"))
		c.Render(g, http.StatusOK, k.Form, d, f)
	}
}

func (c *Console) contentEdit(k kindInfo) gin.HandlerFunc {
	return func(g *gin.Context) {
		id := g.Param("id")
		item, err := c.getItem(g, k, id)
		if errors.Is(err, store.ErrNotFound) {
			c.NotFound(g, fmt.Sprintf("没有编号为 %s 的%s（可能已被删除）。", id, k.Label))
			return
		}
		if err != nil {
			c.Fail(g, err)
			return
		}
		f := itemForm(item)
		d := c.editData(k, false, id)
		d.Preview = c.preview(item)
		c.Render(g, http.StatusOK, k.Form, d, f)
	}
}

func (c *Console) getItem(g *gin.Context, k kindInfo, id string) (any, error) {
	ctx := g.Request.Context()
	switch k.Kind {
	case store.KindNotice:
		return c.Store.Notice(ctx, id)
	case store.KindFAQ:
		return c.Store.FAQ(ctx, id)
	case store.KindRule:
		return c.Store.Rule(ctx, id)
	default:
		return c.Store.Synonym(ctx, id)
	}
}

// preview is the reply a phone shows for an item (nil: none, e.g. synonyms).
func (c *Console) preview(item any) *bot.Reply {
	var r bot.Reply
	switch x := item.(type) {
	case *content.Notice:
		r = bot.PreviewNotice(x)
	case *content.FAQ:
		r = bot.PreviewFAQ(x, c.Engine.Notice, c.Now())
	case *content.Rule:
		switch {
		case x.Notice != "":
			n := c.Engine.Notice(x.Notice)
			if n == nil {
				return nil
			}
			r = bot.PreviewNotice(n)
		case x.FAQ != "":
			f := c.Engine.FAQ(x.FAQ)
			if f == nil {
				return nil
			}
			r = bot.PreviewFAQ(f, c.Engine.Notice, c.Now())
		default:
			r = bot.Reply{Kind: bot.ReplyText, Text: strings.TrimSpace(x.Reply)}
		}
	default:
		return nil
	}
	return &r
}

// contentPreview renders the phone's view of the form as typed (htmx).
func (c *Console) contentPreview(k kindInfo) gin.HandlerFunc {
	return func(g *gin.Context) {
		f := NewForm(g)
		item := parseItem(k.Kind, f, g.Param("id"))
		c.RenderFragment(g, http.StatusOK, "phone", c.preview(item))
	}
}

func (c *Console) contentSave(k kindInfo, isNew bool) gin.HandlerFunc {
	return func(g *gin.Context) {
		f := NewForm(g)
		id := g.Param("id")
		item := parseItem(k.Kind, f, id)
		d := c.editData(k, isNew, id)
		d.Asked = f.Get("asked")
		if !f.OK() {
			d.Preview = c.preview(item)
			c.Render(g, http.StatusUnprocessableEntity, k.Form, d, f)
			return
		}
		mode := store.Update
		if isNew {
			mode = store.Create
		}
		ctx, who := g.Request.Context(), actor(g)
		var err error
		switch x := item.(type) {
		case *content.Notice:
			err = c.Store.PutNotice(ctx, who, x, mode)
		case *content.FAQ:
			err = c.Store.PutFAQ(ctx, who, x, mode)
		case *content.Rule:
			err = c.Store.PutRule(ctx, who, x, mode)
		case *content.SynonymGroup:
			err = c.Store.PutSynonym(ctx, who, x, mode)
		}
		if err != nil {
			if f.FromError(err) {
				d.Preview = c.preview(item)
				c.Render(g, http.StatusUnprocessableEntity, k.Form, d, f)
				return
			}
			c.Fail(g, err)
			return
		}
		newID := itemID(item)
		if d.Asked != "" {
			// Written for a question people asked: show what it gets now.
			c.Flash(g, fmt.Sprintf("已保存%s %s。", k.Label, newID))
			g.Redirect(http.StatusSeeOther, BasePath+"/questions/rerun?q="+urlQuery(d.Asked))
			return
		}
		if isNew {
			c.Flash(g, fmt.Sprintf("已创建%s %s，所有服务器立即生效。", k.Label, newID))
		} else {
			c.Flash(g, fmt.Sprintf("已保存%s %s，所有服务器立即生效。", k.Label, newID))
		}
		g.Redirect(http.StatusSeeOther, BasePath+"/content/"+k.Slug+"/"+newID)
	}
}

type deleteData struct {
	Kind    kindInfo
	ID      string
	Title   string
	Preview *bot.Reply
	Error   string
}

func (c *Console) contentDeletePage(k kindInfo) gin.HandlerFunc {
	return func(g *gin.Context) {
		id := g.Param("id")
		item, err := c.getItem(g, k, id)
		if errors.Is(err, store.ErrNotFound) {
			c.NotFound(g, fmt.Sprintf("没有编号为 %s 的%s（可能已被删除）。", id, k.Label))
			return
		}
		if err != nil {
			c.Fail(g, err)
			return
		}
		c.Render(g, http.StatusOK, "content_delete", deleteData{Kind: k, ID: id, Title: itemTitle(item), Preview: c.preview(item)}, nil)
	}
}

func (c *Console) contentDelete(k kindInfo) gin.HandlerFunc {
	return func(g *gin.Context) {
		id := g.Param("id")
		err := c.Store.Delete(g.Request.Context(), actor(g), k.Kind, id)
		if err != nil {
			f := &Form{}
			if !f.FromError(err) {
				c.Fail(g, err)
				return
			}
			msg := f.Err("_form")
			for _, v := range f.Errors {
				if msg == "" {
					msg = v
				}
			}
			if errors.Is(err, store.ErrConflict) {
				var fe *content.FieldError
				if errors.As(err, &fe) {
					msg = fmt.Sprintf("不能删除：%s 引用了它（%s）。请先修改或删除 %s。", fe.ID, fe.Field, fe.ID)
				}
			}
			item, _ := c.getItem(g, k, id)
			d := deleteData{Kind: k, ID: id, Error: msg}
			if item != nil {
				d.Title, d.Preview = itemTitle(item), c.preview(item)
			}
			c.Render(g, http.StatusConflict, "content_delete", d, nil)
			return
		}
		c.Flash(g, fmt.Sprintf("已删除%s %s。", k.Label, id))
		g.Redirect(http.StatusSeeOther, BasePath+"/content/"+k.Slug)
	}
}

func itemID(v any) string {
	switch x := v.(type) {
	case *content.Notice:
		return x.ID
	case *content.FAQ:
		return x.ID
	case *content.Rule:
		return x.ID
	case *content.SynonymGroup:
		return x.ID
	}
	return ""
}

func itemTitle(v any) string {
	switch x := v.(type) {
	case *content.Notice:
		return x.Title
	case *content.FAQ:
		return x.Question
	case *content.Rule:
		return strings.Join(x.Keywords, "、")
	case *content.SynonymGroup:
		return strings.Join(x.Words, " = ")
	}
	return ""
}

// itemForm fills a form from a stored item.
func itemForm(v any) *Form {
	f := &Form{}
	switch x := v.(type) {
	case *content.Notice:
		f.Set("id", x.ID)
		f.Set("title", x.Title)
		f.Set("date", x.Date.String())
		f.Set("source", x.Source)
		f.Set("url", x.URL)
		f.Set("cover", x.Cover)
		f.Set("summary", x.Summary)
		f.Set("keywords", strings.Join(x.Keywords, "，"))
		f.Set("tags", strings.Join(x.Tags, "，"))
		f.Values["audience"] = x.Audience
		f.Set("region", x.Region)
		f.Set("expires", x.Expires.String())
		f.Set("body", x.Body)
	case *content.FAQ:
		f.Set("id", x.ID)
		f.Set("question", x.Question)
		f.Set("alternates", strings.Join(x.Alternates, "\n"))
		f.Set("answer", x.Answer)
		f.Set("notices", strings.Join(x.Notices, "，"))
		f.Set("keywords", strings.Join(x.Keywords, "，"))
		f.Values["audience"] = x.Audience
		f.Set("region", x.Region)
		f.Set("file", x.File)
	case *content.Rule:
		f.Set("id", x.ID)
		f.Set("match", x.Match)
		f.Set("keywords", strings.Join(x.Keywords, "\n"))
		f.Set("reply", x.Reply)
		f.Set("notice", x.Notice)
		f.Set("faq", x.FAQ)
	case *content.SynonymGroup:
		f.Set("id", x.ID)
		f.Set("words", strings.Join(x.Words, "\n"))
	}
	return f
}

// parseItem builds an item from the form; what cannot be read (a date
// that is not YYYY-MM-DD) fails its field. pathID, when editing, is the id.
func parseItem(k store.Kind, f *Form, pathID string) any {
	id := strings.TrimSpace(f.Get("id"))
	if pathID != "" {
		id = pathID
	}
	trim := func(name string) string { return strings.TrimSpace(f.Get(name)) }
	date := func(name string, required bool) content.Date {
		s := trim(name)
		if s == "" {
			if required {
				f.Fail(name, "必填（格式：2026-09-01）")
			}
			return content.Date{}
		}
		d, err := content.ParseDate(s)
		if err != nil {
			f.Fail(name, "日期格式应为 2026-09-01")
		}
		return d
	}
	switch k {
	case store.KindNotice:
		return &content.Notice{
			ID: id, Title: trim("title"), Date: date("date", true), Source: trim("source"), URL: trim("url"),
			Cover: trim("cover"), Summary: trim("summary"), Keywords: splitList(f.Get("keywords")),
			Tags: splitList(f.Get("tags")), Audience: f.Values["audience"], Region: trim("region"),
			Expires: date("expires", false), Body: strings.TrimSpace(strings.ReplaceAll(f.Get("body"), "\r\n", "\n")),
		}
	case store.KindFAQ:
		return &content.FAQ{
			ID: id, Question: trim("question"), Alternates: splitLines(f.Get("alternates")),
			Answer: strings.TrimSpace(strings.ReplaceAll(f.Get("answer"), "\r\n", "\n")), Notices: splitList(f.Get("notices")),
			Keywords: splitList(f.Get("keywords")), Audience: f.Values["audience"], Region: trim("region"), File: trim("file"),
		}
	case store.KindRule:
		return &content.Rule{
			ID: id, Match: trim("match"), Keywords: splitLines(f.Get("keywords")),
			Reply: strings.TrimSpace(strings.ReplaceAll(f.Get("reply"), "\r\n", "\n")), Notice: trim("notice"), FAQ: trim("faq"),
		}
	default:
		return &content.SynonymGroup{ID: id, Words: splitList(strings.ReplaceAll(f.Get("words"), " ", "\n"))}
	}
}
