package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/broadcast"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

// 群发 (publishers only): choose a notice and an audience, see how many it
// reaches and the account's remaining mass sends, preview on test phones,
// confirm, follow the progress, cancel. Editors neither see the link nor
// reach the pages (403).
func init() {
	funcs["state"] = func(s string) string {
		if l, ok := stateLabels[s]; ok {
			return l
		}
		return s
	}
	funcs["channel"] = func(j *broadcast.Job) string {
		if j.Channel == broadcast.ChannelTag {
			return channelLabels[j.Channel] + "「" + j.Tag + "」"
		}
		return channelLabels[j.Channel]
	}
	addPage(Page{Nav: "群发", Path: "/broadcasts", Role: admin.RolePublisher, Order: 50, Mount: func(c *Console, r *Routes) {
		p := admin.RolePublisher
		r.GET("/broadcasts", p, c.broadcastsPage)
		r.POST("/broadcasts", p, c.broadcastCreate)
		r.GET("/broadcasts/:id", p, c.broadcastPage)
		r.GET("/broadcasts/:id/progress", p, c.broadcastProgress)
		r.POST("/broadcasts/:id/preview", p, c.broadcastPreview)
		r.POST("/broadcasts/:id/confirm", p, c.broadcastConfirm)
		r.POST("/broadcasts/:id/cancel", p, c.broadcastCancel)
		r.POST("/broadcasts/:id/resend-interrupted", p, c.broadcastResend)
	}})
}

type noticeOption struct {
	ID, Title, Date string
	Tags            []string
}

type broadcastsData struct {
	Off     bool
	Notices []noticeOption
	Jobs    []*broadcast.Job
	Reach   broadcast.Reach
	Tags    []string // topics people subscribed to
}

var stateLabels = map[string]string{
	broadcast.StateDraft: "草稿（待预览）", broadcast.StatePreviewed: "已预览（待确认）", broadcast.StateQueued: "排队中",
	broadcast.StateRunning: "发送中", broadcast.StateSending: "提交微信中", broadcast.StateSubmitted: "微信已接收",
	broadcast.StateDone: "已完成", broadcast.StateCancelled: "已取消", broadcast.StateFailed: "失败",
}

var channelLabels = map[string]string{
	broadcast.ChannelSubscribers: "订阅了相关主题的用户", broadcast.ChannelAll: "全部关注者", broadcast.ChannelTag: "微信用户标签",
}

// broadcastNotices are the notices that can be sent: not expired, with a
// link, newest first.
func (c *Console) broadcastNotices() []noticeOption {
	set := c.Engine.Snapshot()
	if set == nil {
		return nil
	}
	now := c.Now().In(c.Location)
	var out []noticeOption
	for _, n := range set.Notices {
		if n.URL == "" || n.Expired(now) {
			continue
		}
		out = append(out, noticeOption{ID: n.ID, Title: n.Title, Date: n.Date.Format(content.DateLayout), Tags: n.Tags})
	}
	slices.SortStableFunc(out, func(a, b noticeOption) int { return strings.Compare(b.Date, a.Date) })
	return out
}

func (c *Console) broadcastsData(g *gin.Context) (broadcastsData, error) {
	d := broadcastsData{Off: c.Broadcasts == nil}
	if d.Off {
		return d, nil
	}
	d.Notices = c.broadcastNotices()
	jobs, err := c.Broadcasts.List(g.Request.Context(), 20)
	if err != nil {
		return d, err
	}
	for _, j := range jobs {
		c.localJob(j)
	}
	d.Jobs = jobs
	d.Reach, _ = c.Broadcasts.Reach(g.Request.Context(), &broadcast.Job{Channel: broadcast.ChannelAll})
	d.Tags = c.Engine.Tags()
	return d, nil
}

func (c *Console) broadcastsPage(g *gin.Context) {
	d, err := c.broadcastsData(g)
	if err != nil {
		c.Fail(g, err)
		return
	}
	f := &Form{}
	f.Set("to", broadcast.ChannelSubscribers)
	if n := g.Query("notice"); n != "" {
		f.Set("notice", n)
	}
	c.Render(g, http.StatusOK, "broadcasts", d, f)
}

func (c *Console) broadcastCreate(g *gin.Context) {
	if c.Broadcasts == nil {
		c.NotFound(g, "群发没有开启：需要配置微信接口（EDUBOT_WECHAT_APP_SECRET）。")
		return
	}
	f := NewForm(g)
	to := f.Get("to")
	if to == broadcast.ChannelTag {
		to = "tag:" + strings.TrimSpace(f.Get("tag"))
		if strings.TrimSpace(f.Get("tag")) == "" {
			f.Fail("tag", "请填写微信用户标签的名称。")
		}
	}
	if f.Get("notice") == "" {
		f.Fail("notice", "请选择要群发的通知。")
	}
	var j *broadcast.Job
	if f.OK() {
		var err error
		j, err = c.Broadcasts.Create(g.Request.Context(), broadcast.Request{Notice: f.Get("notice"), To: to, Actor: actor(g)})
		if err != nil && !c.broadcastFormError(g, f, err) {
			return
		}
	}
	if !f.OK() {
		d, err := c.broadcastsData(g)
		if err != nil {
			c.Fail(g, err)
			return
		}
		c.Render(g, http.StatusUnprocessableEntity, "broadcasts", d, f)
		return
	}
	c.audit(g, store.AuditEntry{Actor: actor(g), Action: "create", Kind: "broadcast", Item: j.ID, After: j})
	g.Redirect(http.StatusSeeOther, BasePath+"/broadcasts/"+j.ID)
}

// broadcastFormError puts an error the service returned beside its field;
// false when it was unexpected (the error page is shown).
func (c *Console) broadcastFormError(g *gin.Context, f *Form, err error) bool {
	var fe *broadcast.FieldError
	switch {
	case errors.As(err, &fe):
		field := fe.Field
		if field == "to" && f.Get("to") == broadcast.ChannelTag {
			field = "tag"
		}
		msg := fe.Msg
		switch {
		case strings.Contains(msg, "no tags"):
			msg = "这条通知没有主题标签，没有人能订阅它：请选择“全部关注者”或某个微信用户标签。"
		case strings.Contains(msg, "no user tag"):
			msg = "公众号没有这个用户标签。" + msg[strings.Index(msg, "("):]
		case strings.Contains(msg, "no preview openid"):
			msg = "请填写至少一个测试微信号（openid）。"
		case strings.Contains(msg, "expired"):
			msg = "这条通知已过期，不能群发。"
		}
		f.Fail(field, msg)
	case errors.Is(err, broadcast.ErrQuota), errors.Is(err, wxapi.ErrMassQuota):
		f.Fail("_form", "群发次数已用完："+quotaText(err))
	case errors.Is(err, broadcast.ErrState):
		f.Fail("_form", "这次群发的状态已经变了，不能这样做（"+err.Error()+"）。")
	case errors.Is(err, wxapi.ErrInvalidOpenID):
		f.Fail("openids", "微信说这个测试微信号没有关注公众号。")
	case errors.Is(err, broadcast.ErrWeChat):
		c.Logger.Warn("console: WeChat call failed", "errcode", wxapi.Code(err), "err", err)
		f.Fail("_form", "微信接口出错："+wxapi.Reason(err))
	default:
		c.Fail(g, err)
		return false
	}
	return true
}

func quotaText(err error) string {
	if strings.Contains(err.Error(), "服务号") {
		return "服务号每月只能群发 4 次。可以改为发给订阅了相关主题的用户。"
	}
	return "订阅号每天只能群发 1 次。可以改为发给订阅了相关主题的用户，或明天再发。"
}

type broadcastData struct {
	Job     *broadcast.Job
	State   string
	Channel string
	Reach   broadcast.Reach
	Results []resultRow
	Active  bool // the page follows the progress
	Preview []string
}

type resultRow struct{ OpenID, Result string }

func (c *Console) broadcastView(g *gin.Context) (*broadcastData, bool) {
	if c.Broadcasts == nil {
		c.NotFound(g, "群发没有开启：需要配置微信接口（EDUBOT_WECHAT_APP_SECRET）。")
		return nil, false
	}
	ctx := g.Request.Context()
	j, err := c.Broadcasts.Get(ctx, g.Param("id"))
	if errors.Is(err, broadcast.ErrNotFound) {
		c.NotFound(g, "没有这次群发。")
		return nil, false
	}
	if err != nil {
		c.Fail(g, err)
		return nil, false
	}
	c.localJob(j)
	d := &broadcastData{Job: j, State: stateLabels[j.State], Channel: channelLabels[j.Channel]}
	switch j.State {
	case broadcast.StateQueued, broadcast.StateRunning, broadcast.StateSending:
		d.Active = true
	}
	d.Reach, _ = c.Broadcasts.Reach(ctx, j)
	if !j.Mass() {
		res, err := c.Broadcasts.Results(ctx, j.ID)
		if err == nil {
			for o, r := range res {
				d.Results = append(d.Results, resultRow{OpenID: o, Result: resultLabel(r)})
			}
			slices.SortFunc(d.Results, func(a, b resultRow) int { return strings.Compare(a.OpenID, b.OpenID) })
			if len(d.Results) > 200 {
				d.Results = d.Results[:200]
			}
		}
	}
	return d, true
}

// localJob shows a job's times in the bureau's zone.
func (c *Console) localJob(j *broadcast.Job) {
	for _, t := range []*time.Time{&j.CreatedAt, &j.PreviewedAt, &j.ConfirmedAt, &j.FinishedAt} {
		if !t.IsZero() {
			*t = t.In(c.Location)
		}
	}
}

func resultLabel(r string) string {
	switch {
	case r == "sent":
		return "已发送"
	case r == "queued", strings.HasPrefix(r, "sending"):
		return "发送中"
	case r == "cancelled":
		return "已取消"
	case r == "skipped:"+broadcast.SkipOutsideWindow:
		return "跳过：48 小时内没有发过消息"
	case r == "skipped:"+broadcast.SkipUserQuota:
		return "跳过：客服消息条数已用完"
	case r == broadcast.ResultInterrupted:
		return "中断：发送时进程停止，不确定是否收到"
	case strings.HasPrefix(r, "failed:"):
		return "失败（" + strings.TrimPrefix(r, "failed:") + "）"
	}
	return r
}

func (c *Console) broadcastPage(g *gin.Context) {
	d, ok := c.broadcastView(g)
	if !ok {
		return
	}
	f := &Form{}
	f.Set("openids", strings.Join(c.previewDefaults(), "\n"))
	c.Render(g, http.StatusOK, "broadcast", d, f)
}

func (c *Console) previewDefaults() []string {
	if c.PreviewOpenIDs != nil {
		return c.PreviewOpenIDs
	}
	return nil
}

func (c *Console) broadcastProgress(g *gin.Context) {
	d, ok := c.broadcastView(g)
	if !ok {
		return
	}
	c.RenderFragment(g, http.StatusOK, "bcprogress", d)
}

// broadcastAction runs a state change and shows the job again, with the
// error beside the form that caused it.
func (c *Console) broadcastAction(g *gin.Context, action string, do func(f *Form) (*broadcast.Job, error), done string) {
	if c.Broadcasts == nil {
		c.NotFound(g, "群发没有开启。")
		return
	}
	f := NewForm(g)
	j, err := do(f)
	if err == nil && f.OK() {
		c.audit(g, store.AuditEntry{Actor: actor(g), Action: action, Kind: "broadcast", Item: j.ID, After: j})
		c.Flash(g, done)
		g.Redirect(http.StatusSeeOther, BasePath+"/broadcasts/"+j.ID)
		return
	}
	if errors.Is(err, broadcast.ErrNotFound) {
		c.NotFound(g, "没有这次群发。")
		return
	}
	if err != nil && !c.broadcastFormError(g, f, err) {
		return
	}
	d, ok := c.broadcastView(g)
	if !ok {
		return
	}
	c.Render(g, http.StatusUnprocessableEntity, "broadcast", d, f)
}

func (c *Console) broadcastPreview(g *gin.Context) {
	c.broadcastAction(g, "preview", func(f *Form) (*broadcast.Job, error) {
		ids := splitList(strings.ReplaceAll(f.Get("openids"), "\n", ","))
		if len(ids) == 0 {
			f.Fail("openids", "请填写至少一个测试微信号（openid）。")
			return nil, nil
		}
		return c.Broadcasts.Preview(g.Request.Context(), g.Param("id"), ids, actor(g))
	}, "预览已发到测试手机，请在手机上看过后再确认发送。")
}

func (c *Console) broadcastConfirm(g *gin.Context) {
	c.broadcastAction(g, "send", func(f *Form) (*broadcast.Job, error) {
		if f.Get("sure") == "" {
			f.Fail("sure", "请先勾选确认。")
			return nil, nil
		}
		return c.Broadcasts.Confirm(g.Request.Context(), g.Param("id"), actor(g))
	}, "已确认，开始发送。")
}

// broadcastResend sends again to the recipients a killed process left
// interrupted (the publisher accepts that some may get it twice).
func (c *Console) broadcastResend(g *gin.Context) {
	c.broadcastAction(g, "resend", func(f *Form) (*broadcast.Job, error) {
		if f.Get("sure") == "" {
			f.Fail("resend", "请先勾选确认。")
			return nil, nil
		}
		j, _, err := c.Broadcasts.ResendInterrupted(g.Request.Context(), g.Param("id"), actor(g))
		return j, err
	}, "已重新发送给中断的用户。")
}

func (c *Console) broadcastCancel(g *gin.Context) {
	c.broadcastAction(g, "cancel", func(f *Form) (*broadcast.Job, error) {
		return c.Broadcasts.Cancel(g.Request.Context(), g.Param("id"), actor(g))
	}, "已取消这次群发。")
}
