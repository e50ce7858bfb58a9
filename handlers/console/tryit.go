package console

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/handlers/admin"
)

// 试一试: staff talk to the bot as a test user and see the phone's view.
// The messages go through the same dialogue as the webhook's (sessions,
// numbered choices, follow-ups) on a bot that records no statistics, as a
// user of their own: nothing here counts in 大家问了什么 or on the home page.
func init() {
	addPage(Page{Nav: "试一试", Path: "/try", Role: admin.RoleEditor, Order: 45, Mount: func(c *Console, r *Routes) {
		r.GET("/try", admin.RoleEditor, c.tryPage)
		r.POST("/try", admin.RoleEditor, c.trySay)
		r.POST("/try/reset", admin.RoleEditor, c.tryReset)
	}})
}

// tryUserPrefix starts the openid of every 试一试 user (the notes page
// labels their messages as tests).
const tryUserPrefix = "console-try-"

// tryUser is the staff member's own test user: a stable id per name, in
// the characters an openid has.
func tryUser(name string) string {
	h := sha256.Sum256([]byte(name))
	return tryUserPrefix + hex.EncodeToString(h[:6])
}

var trySeq atomic.Int64

type tryExchange struct {
	Said    string
	Reply   bot.Reply
	Explain *tryExplain // nil unless asked for
	OOB     bool        // htmx: also send an empty input (out of band)
}

type tryExplain struct {
	Decision   string
	Normalized string
	Tokens     []string
	Expansions []string
	Notes      []string
	Candidates []tryCandidate
}

type tryCandidate struct {
	search.Candidate
	Conf string // confidence in per cent
}

type tryData struct {
	Exchange *tryExchange // without htmx: the last exchange
	Explain  bool
}

func (c *Console) tryBot() Bot {
	if c.TryBot != nil {
		return c.TryBot
	}
	return c.Bot
}

func (c *Console) tryPage(g *gin.Context) {
	c.Render(g, http.StatusOK, "tryit", tryData{Explain: g.Query("explain") != ""}, nil)
}

var decisions = map[search.Decision]string{
	search.Answer: "直接回答", search.Choices: "列出几个让用户选", search.Suggest: "猜你想问", search.Fallback: "没有答案（兜底回复）",
}

func (c *Console) trySay(g *gin.Context) {
	f := NewForm(g)
	text := strings.TrimSpace(f.Get("text"))
	explain := f.Get("explain") != ""
	htmx := g.GetHeader("HX-Request") != ""
	if text == "" {
		f.Fail("text", "请输入要问的话。")
		if htmx {
			g.Status(http.StatusNoContent)
			return
		}
		c.Render(g, http.StatusUnprocessableEntity, "tryit", tryData{Explain: explain}, f)
		return
	}
	b := c.tryBot()
	if b == nil {
		c.NotFound(g, "试一试没有开启。")
		return
	}
	ctx := g.Request.Context()
	now := time.Now()
	m := bot.Message{
		MsgID: "try" + strconv.FormatInt(now.UnixNano(), 36) + strconv.FormatInt(trySeq.Add(1), 36),
		User:  tryUser(actor(g)), Account: "console", Type: bot.TypeText, Text: text, CreateTime: now,
	}
	ex := &tryExchange{Said: text, Reply: b.Handle(ctx, m)}
	if explain && c.Engine != nil {
		res := c.Engine.Match(ctx, search.Query{Text: text, Now: c.Now(), Explain: true})
		x := &tryExplain{Decision: decisions[res.Decision], Normalized: res.Analysis.Normalized}
		cands := res.Top
		if res.Explain != nil {
			x.Tokens, x.Expansions, x.Notes = res.Explain.Tokens, res.Explain.Expansions, res.Explain.Notes
			if len(res.Explain.Candidates) > 0 {
				cands = res.Explain.Candidates
			}
		}
		for _, cd := range cands[:min(len(cands), 8)] {
			x.Candidates = append(x.Candidates, tryCandidate{Candidate: cd, Conf: strconv.Itoa(int(cd.Confidence*100+0.5)) + "%"})
		}
		ex.Explain = x
	}
	if htmx {
		ex.OOB = true
		c.RenderFragment(g, http.StatusOK, "tryexchange", ex)
		return
	}
	c.Render(g, http.StatusOK, "tryit", tryData{Exchange: ex, Explain: explain}, nil)
}

// tryReset forgets the test user (as an unfollow does): profile, session,
// subscriptions, a hand-off.
func (c *Console) tryReset(g *gin.Context) {
	if b := c.tryBot(); b != nil {
		b.Handle(g.Request.Context(), bot.Message{User: tryUser(actor(g)), Type: bot.TypeEvent, Event: bot.EventUnsubscribe, CreateTime: time.Now()})
	}
	c.Flash(g, "已重新开始：测试用户的资料、订阅和对话都清空了。")
	g.Redirect(http.StatusSeeOther, BasePath+"/try")
}
