package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
)

func init() {
	addPage(Page{Nav: "大家问了什么", Path: "/questions", Role: admin.RoleEditor, Order: 30, Mount: func(c *Console, r *Routes) {
		r.GET("/questions", admin.RoleEditor, c.questions)
		r.GET("/questions/faqs", admin.RoleEditor, c.questionFAQs)
		r.POST("/questions/attach", admin.RoleEditor, c.questionAttach)
		r.GET("/questions/rerun", admin.RoleEditor, c.questionRerun)
	}})
}

type questionsData struct {
	Days   int
	Groups []questionGroupView
}

type questionGroupView struct {
	questionGroup
	N    int
	FAQs []faqOption // FAQs to attach it to: the matcher's guesses first
}

type faqOption struct {
	ID, Question string
	Checked      bool
}

func (c *Console) questions(g *gin.Context) {
	days, _ := strconv.Atoi(g.DefaultQuery("days", "7"))
	if days != 1 && days != 7 && days != 30 && days != 90 {
		days = 7
	}
	now := c.Now().In(c.Location)
	groups, err := c.questionGroups(g.Request.Context(), now.AddDate(0, 0, -(days-1)), now, 100)
	if err != nil {
		c.Fail(g, err)
		return
	}
	d := questionsData{Days: days}
	for i, gr := range groups {
		v := questionGroupView{questionGroup: gr, N: i + 1}
		for _, cand := range gr.Top {
			if cand.Kind == search.KindFAQ {
				if f := c.Engine.FAQ(cand.ID); f != nil {
					v.FAQs = append(v.FAQs, faqOption{ID: f.ID, Question: f.Question})
				}
			}
		}
		d.Groups = append(d.Groups, v)
	}
	c.Render(g, http.StatusOK, "questions", d, nil)
}

// searchFAQs finds FAQs for a staff search: the matcher's candidates for
// the words, then FAQs whose question or answer contains them.
func (c *Console) searchFAQs(g *gin.Context, q string, limit int) []faqOption {
	q = strings.TrimSpace(q)
	var out []faqOption
	seen := map[string]bool{}
	add := func(f *content.FAQ) {
		if f != nil && !seen[f.ID] && len(out) < limit {
			seen[f.ID] = true
			out = append(out, faqOption{ID: f.ID, Question: f.Question})
		}
	}
	if q == "" {
		return nil
	}
	res := c.Engine.Match(g.Request.Context(), search.Query{Text: q, Now: c.Now()})
	for _, cand := range append(append([]search.Candidate{res.Best}, res.Choices...), res.Top...) {
		if cand.Kind == search.KindFAQ {
			add(c.Engine.FAQ(cand.ID))
		}
	}
	if set := c.Engine.Snapshot(); set != nil {
		for _, f := range set.FAQs {
			if contains(f.ID, q) || contains(f.Question, q) || contains(f.Answer, q) {
				add(f)
			}
		}
	}
	return out
}

type faqSearchData struct {
	N    string
	FAQs []faqOption
	Q    string
}

// questionFAQs answers the FAQ search of one question's attach form (htmx).
func (c *Console) questionFAQs(g *gin.Context) {
	// Nothing is preselected: the matcher's guess for an unanswered
	// question is often wrong, and attaching it there would teach the bot a
	// wrong answer.
	opts := c.searchFAQs(g, g.Query("faq_q"), 8)
	c.RenderFragment(g, http.StatusOK, "faqoptions", faqSearchData{N: g.Query("n"), FAQs: opts, Q: g.Query("faq_q")})
}

// questionAttach adds the question to the chosen FAQ as another way of
// asking, then shows what the question gets now.
func (c *Console) questionAttach(g *gin.Context) {
	f := NewForm(g)
	q := strings.TrimSpace(f.Get("question"))
	id := strings.TrimSpace(f.Get("faq"))
	if q == "" {
		c.errorPage(g, http.StatusUnprocessableEntity, "缺少问题", "没有收到要添加的问题，请返回重试。")
		return
	}
	if id == "" {
		c.Flash(g, fmt.Sprintf("请先为“%s”选一条问答（可以用搜索框找）。", q))
		g.Redirect(http.StatusSeeOther, BasePath+"/questions")
		return
	}
	faq, err := c.Store.AddAlternate(g.Request.Context(), actor(g), id, q)
	switch {
	case errors.Is(err, store.ErrUnchanged):
		c.Flash(g, fmt.Sprintf("问答“%s”已经有这种问法了。", faq.Question))
	case errors.Is(err, store.ErrNotFound):
		c.Flash(g, fmt.Sprintf("没有编号为 %s 的问答（可能刚被删除），请重新选择。", id))
		g.Redirect(http.StatusSeeOther, BasePath+"/questions")
		return
	case err != nil:
		ff := &Form{}
		if ff.FromError(err) {
			for _, msg := range ff.Errors {
				c.Flash(g, "没有添加："+msg)
			}
			g.Redirect(http.StatusSeeOther, BasePath+"/questions")
			return
		}
		c.Fail(g, err)
		return
	default:
		c.Flash(g, fmt.Sprintf("已把“%s”加为问答“%s”的另一种问法，所有服务器立即生效。", q, faq.Question))
	}
	g.Redirect(http.StatusSeeOther, BasePath+"/questions/rerun?q="+urlQuery(q)+"&faq="+urlQuery(id))
}

type rerunData struct {
	Question string
	Reply    bot.Reply
	Expected string // the FAQ it was attached to, if any
	Answered bool   // the reply is a direct answer
	Hit      bool   // … with the expected item
}

// questionRerun asks the question again and shows the reply it gets now.
func (c *Console) questionRerun(g *gin.Context) {
	q := strings.TrimSpace(g.Query("q"))
	if q == "" {
		g.Redirect(http.StatusSeeOther, BasePath+"/questions")
		return
	}
	d := rerunData{Question: q, Expected: g.Query("faq")}
	if c.Bot != nil {
		d.Reply = c.Bot.Ask(g.Request.Context(), q)
	} else {
		res := c.Engine.Match(g.Request.Context(), search.Query{Text: q, Now: c.Now()})
		if res.Decision == search.Answer {
			if f := c.Engine.FAQ(res.Best.ID); f != nil {
				d.Reply = bot.PreviewFAQ(f, c.Engine.Notice, c.Now())
			} else if n := c.Engine.Notice(res.Best.ID); n != nil {
				d.Reply = bot.PreviewNotice(n)
			}
		}
	}
	switch d.Reply.Answer {
	case bot.AnswerFAQ, bot.AnswerNotice, bot.AnswerRule:
		d.Answered = true
	}
	d.Hit = d.Expected != "" && len(d.Reply.IDs) > 0 && d.Reply.IDs[0] == d.Expected
	c.Render(g, http.StatusOK, "rerun", d, nil)
}
