package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
)

// 留言: the messages people left for staff outside office hours, with
// the conversation before them; staff reply through WeChat's
// customer-service API within 48 hours and mark them handled.
func init() {
	addPage(Page{Nav: "留言", Path: "/notes", Role: admin.RoleEditor, Order: 40, Mount: func(c *Console, r *Routes) {
		r.GET("/notes", admin.RoleEditor, c.notesPage)
		r.POST("/notes/:id/reply", admin.RoleEditor, c.noteReply)
		r.POST("/notes/:id/handled", admin.RoleEditor, c.noteHandled)
	}})
}

type notesData struct {
	Off            bool // no inbox configured
	RepliesEnabled bool
	Threads        []noteThreadView
	ErrID          string // the thread the form's error is about
}

type noteThreadView struct {
	admin.NoteThread
	N      int
	Test   bool // a 试一试 user, not a real person
	Who    string
	Window string // what the 48-hour window allows
}

func (c *Console) noteViews(g *gin.Context) (notesData, error) {
	d := notesData{Off: c.Notes == nil}
	if d.Off {
		return d, nil
	}
	d.RepliesEnabled = c.Notes.Sender != nil
	ths, err := c.Notes.Inbox.Threads(g.Request.Context(), 200)
	if err != nil {
		return d, err
	}
	now := c.Now()
	for i, th := range ths {
		v := noteThreadView{NoteThread: admin.ViewThread(th, now), N: i + 1, Test: strings.HasPrefix(th.OpenID, tryUserPrefix)}
		c.localTimes(&v.NoteThread)
		var who []string
		if p := v.Profile; p.Region != "" || p.Grade != "" || p.Role != "" {
			if p.Region != "" {
				who = append(who, p.Region)
			}
			if p.Grade != "" {
				who = append(who, p.Grade)
			}
			if l, ok := audienceLabels[p.Role]; ok {
				who = append(who, l)
			}
		}
		v.Who = strings.Join(who, " · ")
		switch {
		case v.CanReply:
			v.Window = "可在 " + v.ReplyUntil.Format("01-02 15:04") + " 前通过微信回复"
		case v.LastMessage != nil:
			v.Window = "对方最后发消息已超过 48 小时，微信不允许再回复；请电话联系或等对方再次发消息"
		default:
			v.Window = "不知道对方最后发消息的时间（超过 7 天），微信不允许回复"
		}
		d.Threads = append(d.Threads, v)
	}
	return d, nil
}

// localTimes shows every time in the bureau's zone.
func (c *Console) localTimes(v *admin.NoteThread) {
	loc := c.Location
	v.At = v.At.In(loc)
	if v.LastMessage != nil {
		t := v.LastMessage.In(loc)
		v.LastMessage = &t
	}
	if v.ReplyUntil != nil {
		t := v.ReplyUntil.In(loc)
		v.ReplyUntil = &t
	}
	for i := range v.Messages {
		v.Messages[i].At = v.Messages[i].At.In(loc)
	}
	for i := range v.Replies {
		v.Replies[i].At = v.Replies[i].At.In(loc)
	}
	for i := range v.Conversation {
		v.Conversation[i].At = v.Conversation[i].At.In(loc)
	}
}

func (c *Console) notesPage(g *gin.Context) {
	d, err := c.noteViews(g)
	if err != nil {
		c.Fail(g, err)
		return
	}
	c.Render(g, http.StatusOK, "notes", d, nil)
}

func (c *Console) noteReply(g *gin.Context) {
	if c.Notes == nil {
		c.NotFound(g, "留言功能没有开启。")
		return
	}
	f := NewForm(g)
	id := g.Param("id")
	req := admin.ReplyRequest{Text: f.Get("text"), Handled: f.Get("handled") != ""}
	_, err := admin.ReplyNote(g.Request.Context(), *c.Notes, id, actor(g), req)
	if err != nil {
		status, msg := admin.NoteStatus(err)
		if status == http.StatusInternalServerError {
			c.Fail(g, err)
			return
		}
		f.Fail("text", noteMessage(status, msg))
		d, lerr := c.noteViews(g)
		if lerr != nil {
			c.Fail(g, lerr)
			return
		}
		d.ErrID = id
		if status == http.StatusBadRequest {
			status = http.StatusUnprocessableEntity
		}
		c.Render(g, status, "notes", d, f)
		return
	}
	c.audit(g, store.AuditEntry{Actor: actor(g), Action: "reply", Kind: "note", Item: id,
		After: map[string]any{"text": strings.TrimSpace(req.Text), "handled": req.Handled}})
	msg := "回复已通过微信发出。"
	if req.Handled {
		msg = "回复已通过微信发出，留言已标记为处理完。"
	}
	c.Flash(g, msg)
	g.Redirect(http.StatusSeeOther, BasePath+"/notes")
}

// noteMessage says in Chinese what went wrong with a reply.
func noteMessage(status int, msg string) string {
	switch {
	case status == http.StatusBadRequest && strings.Contains(msg, "write the reply"):
		return "请填写回复内容。"
	case status == http.StatusBadRequest && strings.Contains(msg, "at most"):
		return "回复太长：微信一条消息最多约 680 个汉字。"
	case status == http.StatusNotFound:
		return "这条留言已经处理完，或对方已取消关注。"
	case strings.Contains(msg, "45047"):
		return "微信拒绝：对方上次发消息后已经收到 5 条客服消息，要等对方再发消息才能回复。"
	case strings.Contains(msg, "40003"):
		return "微信拒绝：对方已取消关注公众号。"
	case status == http.StatusUnprocessableEntity:
		return "对方最后发消息已超过 48 小时，微信不允许回复；请电话联系或等对方再次发消息。"
	case status == http.StatusServiceUnavailable && strings.Contains(msg, "APP_SECRET"):
		return "没有配置微信接口（EDUBOT_WECHAT_APP_SECRET），不能通过微信回复。"
	case status == http.StatusServiceUnavailable:
		return "超时了，请再试一次。"
	}
	return "微信拒绝了这条消息，请稍后再试。（" + msg + "）"
}

func (c *Console) noteHandled(g *gin.Context) {
	if c.Notes == nil {
		c.NotFound(g, "留言功能没有开启。")
		return
	}
	id := g.Param("id")
	ctx := g.Request.Context()
	if _, err := c.Notes.Inbox.Thread(ctx, id); err != nil {
		if status, _ := admin.NoteStatus(err); status == http.StatusNotFound {
			c.Flash(g, "这条留言已经处理完了。")
			g.Redirect(http.StatusSeeOther, BasePath+"/notes")
			return
		}
		c.Fail(g, err)
		return
	}
	if err := c.Notes.Inbox.DoneNotes(ctx, id); err != nil {
		c.Fail(g, err)
		return
	}
	c.audit(g, store.AuditEntry{Actor: actor(g), Action: "handled", Kind: "note", Item: id})
	c.Flash(g, "已标记为处理完。")
	g.Redirect(http.StatusSeeOther, BasePath+"/notes")
}
