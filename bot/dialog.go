package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/bot/menu"
	"github.com/gdjysjyj/edubot/content/search"
)

// Commands, compared with the compact form of a message. Hand-off words
// must match the whole message: 人工智能 is a question, not a hand-off.
var (
	cmdHandoff      = []string{"人工", "转人工", "人工客服", "人工服务", "转人工客服", "找人工", "我要人工", "真人客服", "联系人工", "接人工", "人工咨询"}
	cmdEndHandoff   = []string{"结束人工", "退出人工", "结束人工服务", "取消人工"}
	cmdProfile      = []string{"我的信息", "我的资料", "查看我的信息"}
	cmdClearProfile = []string{"清除我的信息", "删除我的信息", "清空我的信息", "清除信息"}
	cmdMySubs       = []string{"我的订阅", "查看订阅", "订阅列表"}
	cmdMore         = []string{"更多", "下一页", "换一批", "还有吗", "还有呢", "再来", "more"}
)

// converse answers a text (or recognised voice) message.
func (t *turn) converse(ctx context.Context, text string) Reply {
	b := t.b
	if b.m == nil {
		b.log.Error("bot: cannot answer", "err", errNoMatcher)
		return b.fallback()
	}
	// The message is analysed once; every decision of the turn reads it,
	// and the match reuses it.
	a := b.m.AnalyzeAt(text, t.now)
	t.typed = text
	c := compact(text)
	st := t.load(ctx)

	if t.handedOff(st) {
		if slices.Contains(cmdEndHandoff, c) {
			return t.endHandoff(ctx)
		}
		// A person is answering: stay silent, pass the message on.
		return Reply{Kind: ReplyTransfer, Answer: AnswerDialog}
	}
	sess := st.Session
	if !t.fresh(sess) {
		sess = Session{} // the context has faded
	}

	switch {
	case slices.Contains(cmdHandoff, c):
		return t.handoff(ctx, sess, false)
	case slices.Contains(cmdEndHandoff, c):
		return t.text(AnswerDialog, "您现在没有在人工服务中，可以直接向我提问。")
	case slices.Contains(cmdProfile, c):
		return t.showProfile()
	case slices.Contains(cmdClearProfile, c):
		return t.clearProfile(ctx)
	case slices.Contains(cmdMySubs, c):
		return t.mySubscriptions(ctx)
	case slices.Contains(cmdMore, c):
		return t.more(ctx, sess)
	}
	if r, ok := t.subscriptionCommand(ctx, c); ok {
		return r
	}
	if sess.Note {
		if !a.Empty {
			return t.leaveNote(ctx, sess, text)
		}
		sess.Note = false // a greeting is not a message for staff
	}
	if sess.Clarify != nil {
		if r, ok := t.resolveClarify(ctx, sess, a, c); ok {
			return r
		}
		sess.Clarify = nil // not an answer to the question: ask once only
	}
	if n, ok := parseChoice(c); ok {
		return t.choose(ctx, sess, n)
	}

	// What the user says about themselves is remembered; it ranks answers
	// from the next question on, so this one is answered as it stands.
	prof := st.Profile
	if upd, pure := detectProfile(c, a); !upd.Empty() {
		t.saveProfile(ctx, merge(prof, upd))
		if pure {
			return t.profileSaved(upd)
		}
	}

	q := search.Query{Text: text, Now: t.now, Region: prof.Region, Grade: prof.Grade, Role: prof.Role, Analysis: &a}
	asked := text
	if region, grade, ok := followUp(sess, a); ok {
		// 那惠来呢: the last topic with this region or grade. Nobody typed
		// the question matched, so a pick from its list is not evidence.
		region, grade = orElse(region, sess.Region), orElse(grade, sess.Grade)
		q.Text = strings.Join(slices.DeleteFunc([]string{region, grade, sess.Topic}, func(s string) bool { return s == "" }), " ")
		q.Region, q.Grade = orElse(region, q.Region), orElse(grade, q.Grade)
		q.Analysis = nil // another text
		asked = ""
	}
	return t.ask(ctx, q, asked, true)
}

// ask matches q and answers; with mayClarify a split by region or grade
// that neither the message nor the profile settles is asked about first.
// asked is q's text as the person typed it ("" when the bot composed it).
func (t *turn) ask(ctx context.Context, q search.Query, asked string, mayClarify bool) Reply {
	b := t.b
	res := b.m.Match(ctx, q)
	an := res.Analysis
	next := Session{Query: q.Text, Topic: topicOf(an), Region: first(an.Regions), Grade: first(an.Grades)}
	said := orElse(asked, t.typed) // what the statistics show staff
	if r, ok := t.outOfScope(ctx, res); ok {
		t.saveSession(ctx, next)
		t.record(ctx, said, r)
		return r
	}
	if mayClarify && res.Decision == search.Choices {
		if cl := t.clarifying(res, q); cl != nil {
			next.Clarify = cl
			t.saveSession(ctx, next)
			r := clarifyReply(cl)
			t.record(ctx, said, r)
			return r
		}
	}
	r, list := b.renderResult(res, t.now)
	next.List = list
	switch r.Answer {
	case AnswerChoices:
		next.Shown = min(PageSize, len(list))
		next.Asked, next.Norm = asked, an.Normalized
	case AnswerSuggest:
		next.Shown, next.Suggest = len(list), true
		next.Asked, next.Norm = asked, an.Normalized
	}
	if asked == "" {
		next.Norm = ""
	}
	t.saveSession(ctx, next)
	t.record(ctx, said, r)
	return r
}

func (t *turn) record(ctx context.Context, text string, r Reply) {
	if t.b.rec != nil && t.m.User != "" {
		t.b.rec.Record(ctx, t.m.User, strings.TrimSpace(text), r, t.now)
	}
}

// topicOf is what a follow-up such as 那惠来呢 keeps of a question: the
// matcher's reading of it without its region and grade words.
func topicOf(a search.Analysis) string { return a.Topic }

// followUp recognises a message that only names a region and/or a grade
// (那惠来呢, 初一呢, 北川羌族自治县的呢) while a topic is in context, as the
// matcher reads it: its FollowUp, or a region or grade with no meaningful
// token besides (那北川县呢 leaves a 县 the matcher's topic keeps).
func followUp(sess Session, a search.Analysis) (region, grade string, ok bool) {
	if sess.Topic == "" || (len(a.Regions) == 0 && len(a.Grades) == 0) {
		return "", "", false
	}
	if !a.FollowUp && slices.ContainsFunc(a.Tokens, func(tok string) bool { return !slices.Contains(a.Grades, tok) }) {
		return "", "", false
	}
	return first(a.Regions), first(a.Grades), true
}

// clarifying decides whether choices split only by region or by grade
// that the question leaves open, and builds the question.
func (t *turn) clarifying(res search.Result, q search.Query) *Clarify {
	b := t.b
	items := b.items(res.Choices, "")
	if len(items) < 2 {
		return nil
	}
	try := func(dim string, attr func(Item) string) *Clarify {
		cl := &Clarify{Query: q.Text, Dim: dim, Items: items}
		for _, it := range items {
			v := attr(it)
			if v == "" {
				return nil // some choice is not about one region/grade
			}
			cl.Attrs = append(cl.Attrs, v)
			if !slices.Contains(cl.Options, v) {
				cl.Options = append(cl.Options, v)
			}
		}
		if len(cl.Options) < 2 {
			return nil
		}
		return cl
	}
	if q.Region == "" && len(res.Analysis.Regions) == 0 {
		if cl := try("region", b.itemRegion); cl != nil {
			return cl
		}
	}
	if q.Grade == "" && len(res.Analysis.Grades) == 0 {
		if cl := try("grade", b.itemGrade); cl != nil {
			return cl
		}
	}
	return nil
}

func (b *Bot) itemRegion(it Item) string {
	switch it.Kind {
	case search.KindFAQ:
		if f := b.m.FAQ(it.ID); f != nil && f.Region != "" {
			return f.Region
		}
	case search.KindNotice:
		if n := b.m.Notice(it.ID); n != nil && n.Region != "" {
			return n.Region
		}
	}
	return first(b.m.AnalyzeAt(it.Title, time.Time{}).Regions)
}

func (b *Bot) itemGrade(it Item) string {
	return first(b.m.AnalyzeAt(it.Title, time.Time{}).Grades)
}

func clarifyReply(cl *Clarify) Reply {
	var sb strings.Builder
	if cl.Dim == "region" {
		sb.WriteString("各地安排不同，请问您问的是哪个地区？")
	} else {
		sb.WriteString("各年级安排不同，请问是哪个年级？")
	}
	for i, o := range cl.Options {
		fmt.Fprintf(&sb, "\n%d. %s", i+1, o)
	}
	sb.WriteString("\n回复序号即可。")
	ids := make([]string, len(cl.Items))
	for i, it := range cl.Items {
		ids[i] = it.ID
	}
	return Reply{Kind: ReplyText, Text: cut(sb.String()), Answer: AnswerChoices, IDs: ids}
}

// resolveClarify takes the answer to a clarifying question (a number or
// the region/grade itself), remembers it in the profile, and answers the
// original question.
func (t *turn) resolveClarify(ctx context.Context, sess Session, a search.Analysis, c string) (Reply, bool) {
	cl := sess.Clarify
	chosen := ""
	if n, ok := parseChoice(c); ok {
		if n < 1 || n > len(cl.Options) {
			return t.text(AnswerDialog, fmt.Sprintf("请回复1—%d之间的序号，或直接输入新的问题。", len(cl.Options))), true
		}
		chosen = cl.Options[n-1]
	} else {
		named := a.Regions
		if cl.Dim == "grade" {
			named = a.Grades
		}
		for _, o := range cl.Options {
			if slices.Contains(named, o) || c == o {
				chosen = o
				break
			}
		}
		if chosen == "" {
			return Reply{}, false
		}
	}
	prof := t.state.Profile
	upd := Profile{}
	q := search.Query{Text: cl.Query, Now: t.now, Region: prof.Region, Grade: prof.Grade, Role: prof.Role}
	if cl.Dim == "region" {
		upd.Region, q.Region = chosen, chosen
	} else {
		upd.Grade, q.Grade = chosen, chosen
	}
	t.saveProfile(ctx, merge(prof, upd))

	var match []Item
	for i, it := range cl.Items {
		// Sessions outlive deploys: a stored one need not be well formed.
		if i < len(cl.Attrs) && cl.Attrs[i] == chosen {
			match = append(match, it)
		}
	}
	if len(match) == 1 {
		if r, ok := t.b.renderItem(match[0].Kind, match[0].ID, t.now); ok {
			next := Session{Query: cl.Query, Topic: sess.Topic} // the topic of cl.Query, saved with the question
			if cl.Dim == "region" {
				next.Region = chosen
			} else {
				next.Grade = chosen
			}
			t.saveSession(ctx, next)
			t.record(ctx, cl.Query, r)
			return r, true
		}
	}
	return t.ask(ctx, q, cl.Query, false), true
}

// choose opens the n-th item of the list shown last.
func (t *turn) choose(ctx context.Context, sess Session, n int) Reply {
	if sess.Shown == 0 {
		return t.text(AnswerDialog, "现在没有可选的列表，请直接输入您的问题。")
	}
	if n < 1 || n > sess.Shown {
		return t.text(AnswerDialog, fmt.Sprintf("请回复1—%d之间的序号，或直接输入新的问题。", sess.Shown))
	}
	if n > len(sess.List) { // a stored session from another version
		return t.text(AnswerDialog, "这条内容已经更新或下线了，请直接输入您的问题。")
	}
	it := sess.List[n-1]
	r, ok := t.b.renderItem(it.Kind, it.ID, t.now)
	if !ok {
		return t.text(AnswerDialog, "这条内容已经更新或下线了，请直接输入您的问题。")
	}
	t.saveSession(ctx, sess) // keep the list: the user may open another
	t.record(ctx, orElse(sess.Asked, sess.Query), r)
	if pr, ok := t.b.rec.(PickRecorder); ok && sess.Asked != "" && t.m.User != "" {
		p := Pick{Query: sess.Asked, Normalized: sess.Norm, ID: it.ID, Position: n, Suggest: sess.Suggest}
		for _, o := range sess.List[:min(sess.Shown, len(sess.List))] {
			p.Offered = append(p.Offered, o.ID)
		}
		pr.Picked(ctx, t.m.User, p, t.now)
	}
	return r
}

// more shows the next page of the list.
func (t *turn) more(ctx context.Context, sess Session) Reply {
	if len(sess.List) == 0 {
		return t.text(AnswerDialog, "请先输入您的问题，我再为您列出相关内容。")
	}
	if sess.Shown >= len(sess.List) {
		return t.text(AnswerDialog, "没有更多了。您可以换个说法再问，或回复“人工”联系工作人员。")
	}
	header := "还有这些："
	if sess.Shown == 0 {
		header = "您可能还想看："
	}
	r := t.b.renderChoices(sess.List, sess.Shown, header)
	sess.Shown = min(sess.Shown+PageSize, len(sess.List))
	t.saveSession(ctx, sess)
	return r
}

// detectProfile finds what a user says about themselves (我是普宁的家长,
// 孩子读初二): the region, grade and role the matcher read, when the message
// speaks of the user. pure reports that the message says nothing else.
func detectProfile(c string, a search.Analysis) (Profile, bool) {
	marked := false
	for _, m := range profileMarkers {
		if strings.Contains(c, m) {
			marked = true
			break
		}
	}
	if !marked {
		return Profile{}, false
	}
	var p Profile
	if len(a.Regions) == 1 {
		p.Region = a.Regions[0]
	}
	if len(a.Grades) == 1 {
		p.Grade = a.Grades[0]
	}
	p.Role = a.Role
	if p.Empty() {
		return p, false
	}
	for _, tok := range a.Tokens {
		if !slices.Contains(a.Grades, tok) && !slices.Contains(selfWords, tok) {
			return p, false
		}
	}
	return p, true
}

func merge(p, upd Profile) Profile {
	p.Region = orElse(upd.Region, p.Region)
	p.Grade = orElse(upd.Grade, p.Grade)
	p.Role = orElse(upd.Role, p.Role)
	return p
}

func (t *turn) saveProfile(ctx context.Context, p Profile) {
	p.At = t.now
	t.state.Profile = p
	t.call(ctx, "save profile", func(ctx context.Context) error {
		return t.st.SaveProfile(ctx, t.m.User, p, t.b.cfg.ProfileTTL)
	})
}

func describeProfile(p Profile) string {
	var parts []string
	if p.Region != "" {
		parts = append(parts, "地区："+p.Region)
	}
	if p.Grade != "" {
		parts = append(parts, "年级："+p.Grade)
	}
	if p.Role != "" {
		parts = append(parts, "身份："+orElse(roleNames[p.Role], p.Role))
	}
	return strings.Join(parts, "\n")
}

func (t *turn) profileSaved(upd Profile) Reply {
	if t.st == nil {
		return t.text(AnswerDialog, "抱歉，现在暂时记不住您的信息，请直接提问，例如在问题里带上地区和年级。")
	}
	return t.text(AnswerDialog, fmt.Sprintf("好的，已记住：\n%s\n之后会优先按这些信息回答（保存%d天）。发送“我的信息”查看，“清除我的信息”删除。",
		describeProfile(upd), int(t.b.cfg.ProfileTTL.Hours()/24)))
}

func (t *turn) showProfile() Reply {
	if t.st == nil {
		return t.text(AnswerDialog, "抱歉，暂时查不到您的信息，请稍后再试。")
	}
	p := t.state.Profile
	if p.Empty() {
		return t.text(AnswerDialog, "还没有保存您的信息。您可以告诉我，例如“我是普宁的家长”“孩子读初二”，回答会更准确。")
	}
	return t.text(AnswerDialog, fmt.Sprintf("已保存的信息：\n%s\n（保存%d天；发送“清除我的信息”删除）",
		describeProfile(p), int(t.b.cfg.ProfileTTL.Hours()/24)))
}

func (t *turn) clearProfile(ctx context.Context) Reply {
	ok := t.call(ctx, "delete profile", func(ctx context.Context) error { return t.st.DeleteProfile(ctx, t.m.User) })
	if !ok {
		return t.text(AnswerDialog, "抱歉，现在没能删除您的信息，请稍后再试。")
	}
	return t.text(AnswerDialog, "已清除您的地区、年级和身份信息。")
}

// subscriptionCommand handles 订阅, 订阅 X, 退订 X and 取消订阅 X.
func (t *turn) subscriptionCommand(ctx context.Context, c string) (Reply, bool) {
	var rest string
	unsub := false
	switch {
	case strings.HasPrefix(c, "取消订阅"):
		rest, unsub = strings.TrimPrefix(c, "取消订阅"), true
	case strings.HasPrefix(c, "退订"):
		rest, unsub = strings.TrimPrefix(c, "退订"), true
	case strings.HasPrefix(c, "订阅"):
		rest = strings.TrimPrefix(c, "订阅")
	default:
		return Reply{}, false
	}
	rest = strings.TrimPrefix(rest, "了")
	for _, s := range []string{"的通知", "通知", "的消息", "消息", "信息", "主题"} {
		if r := strings.TrimSuffix(rest, s); r != rest {
			rest = r
			break
		}
	}
	if rest == "" || rest == "列表" {
		if unsub {
			return t.mySubscriptions(ctx), true
		}
		return t.topics(), true
	}
	tag := t.findTag(rest)
	if tag == "" {
		if utf8.RuneCountInString(rest) > 6 {
			return Reply{}, false // a question that starts with 订阅, not a command
		}
		return t.text(AnswerDialog, fmt.Sprintf("没有“%s”这个主题。%s", rest, t.topicList())), true
	}
	if unsub {
		if !t.call(ctx, "unsubscribe", func(ctx context.Context) error { return t.st.Unsubscribe(ctx, t.m.User, tag) }) {
			return t.text(AnswerDialog, "抱歉，现在没能退订，请稍后再试。"), true
		}
		return t.text(AnswerDialog, fmt.Sprintf("已退订“%s”。", tag)), true
	}
	if !t.call(ctx, "subscribe", func(ctx context.Context) error {
		return t.st.Subscribe(ctx, t.m.User, tag, t.now, t.b.cfg.SubscriptionTTL)
	}) {
		return t.text(AnswerDialog, "抱歉，现在没能订阅，请稍后再试。"), true
	}
	return t.text(AnswerDialog, fmt.Sprintf("已订阅“%s”，有新通知时会推送给您。发送“我的订阅”查看，“退订 %s”取消。", tag, tag)), true
}

// findTag finds the content tag a subscription command names.
func (t *turn) findTag(s string) string {
	tags := t.b.m.Tags()
	for _, tag := range tags {
		if compact(tag) == s {
			return tag
		}
	}
	var found []string
	for _, tag := range tags {
		if ct := compact(tag); ct != "" && strings.Contains(s, ct) {
			found = append(found, tag)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

func (t *turn) topicList() string {
	var tags []string
	if t.b.m != nil {
		tags = t.b.m.Tags()
	}
	if len(tags) == 0 {
		return "暂时没有可订阅的主题。"
	}
	return "可订阅的主题：" + strings.Join(tags, "、") + "。\n回复“订阅 主题”即可，例如“订阅 " + tags[0] + "”。"
}

func (t *turn) topics() Reply {
	return t.text(AnswerDialog, t.topicList())
}

func (t *turn) mySubscriptions(ctx context.Context) Reply {
	var tags []string
	if !t.call(ctx, "subscriptions", func(ctx context.Context) (err error) {
		tags, err = t.st.Subscriptions(ctx, t.m.User)
		return err
	}) {
		return t.text(AnswerDialog, "抱歉，暂时查不到您的订阅，请稍后再试。")
	}
	if len(tags) == 0 {
		return t.text(AnswerDialog, "您还没有订阅任何主题。"+t.topicList())
	}
	return t.text(AnswerDialog, "您已订阅："+strings.Join(tags, "、")+"。\n回复“退订 主题”可取消。")
}

// handoff hands the user to a person in office hours, or takes a message
// for staff outside them.
func (t *turn) handoff(ctx context.Context, sess Session, viaClick bool) Reply {
	cfg := t.b.cfg
	if cfg.OfficeHours.Open(t.now.In(cfg.Location)) {
		t.call(ctx, "start handoff", func(ctx context.Context) error {
			return t.st.StartHandoff(ctx, t.m.User, t.now, cfg.HandoffTTL)
		})
		if viaClick {
			// A menu click is an event: WeChat cannot transfer it, the
			// user's next message goes to the agents.
			return t.text(AnswerDialog, "已为您转接人工客服，请直接发送您的问题。发送“结束人工”可回到自动回复。")
		}
		return Reply{Kind: ReplyTransfer, Answer: AnswerDialog}
	}
	if sess.Query != "" && (sess.Topic != "" || sess.Region != "" || sess.Grade != "") { // a question, not a greeting
		t.call(ctx, "leave note", func(ctx context.Context) error {
			return t.st.LeaveNote(ctx, t.m.User, Note{Text: sess.Query, At: t.now}, cfg.NoteTTL)
		})
	}
	next := sess
	next.Note = true
	next.Clarify = nil
	t.saveSession(ctx, next)
	msg := fmt.Sprintf("现在不是人工服务时间（%s）。", cfg.OfficeHours)
	if t.st != nil {
		msg += "请直接留言您的问题和联系方式，工作人员上班后会尽快回复；"
	}
	return t.text(AnswerDialog, msg+"紧急事项请拨打"+cfg.Hotline+"。")
}

func (t *turn) leaveNote(ctx context.Context, sess Session, text string) Reply {
	ok := t.call(ctx, "leave note", func(ctx context.Context) error {
		return t.st.LeaveNote(ctx, t.m.User, Note{Text: text, At: t.now}, t.b.cfg.NoteTTL)
	})
	sess.Note = false
	t.saveSession(ctx, sess)
	if !ok {
		return t.text(AnswerDialog, "抱歉，留言没有保存成功，请拨打"+t.b.cfg.Hotline+"。")
	}
	return t.text(AnswerDialog, "已记下您的留言，工作人员上班后会尽快回复。您也可以继续向我提问。")
}

func (t *turn) endHandoff(ctx context.Context) Reply {
	t.call(ctx, "end handoff", func(ctx context.Context) error { return t.st.EndHandoff(ctx, t.m.User) })
	return t.text(AnswerDialog, "已结束人工服务，您可以继续向我提问。")
}

// click answers a menu click with what its key maps to.
func (t *turn) click(ctx context.Context) Reply {
	b := t.b
	key := t.m.EventKey
	v, ok := b.cfg.Clicks[key]
	if !ok {
		b.log.Warn("bot: menu key not configured", "key", key)
		return t.text(AnswerEvent, "这个菜单暂时没有内容，请直接输入您的问题。")
	}
	st := t.load(ctx)
	sess := st.Session
	if !t.fresh(sess) {
		sess = Session{}
	}
	switch {
	case strings.HasPrefix(v, "action:"):
		switch strings.TrimPrefix(v, "action:") {
		case menu.ActionHelp:
			return t.text(AnswerEvent, b.cfg.Welcome)
		case menu.ActionTopics:
			return t.topics()
		case menu.ActionSubscriptions:
			return t.mySubscriptions(ctx)
		case menu.ActionProfile:
			return t.showProfile()
		case menu.ActionHandoff:
			if t.handedOff(st) {
				return t.text(AnswerDialog, "您已在人工服务中，请直接发送您的问题。发送“结束人工”可回到自动回复。")
			}
			return t.handoff(ctx, sess, true)
		case menu.ActionHotline:
			return t.text(AnswerEvent, "咨询电话："+b.cfg.Hotline)
		}
		b.log.Warn("bot: unknown menu action", "key", key, "action", v)
		return t.text(AnswerEvent, "这个菜单暂时没有内容，请直接输入您的问题。")
	case strings.HasPrefix(v, "text:"):
		if b.m == nil {
			return b.fallback()
		}
		q := strings.TrimPrefix(v, "text:")
		t.typed = q
		return t.ask(ctx, search.Query{Text: q, Now: t.now, Region: st.Profile.Region, Grade: st.Profile.Grade, Role: st.Profile.Role},
			q, true)
	}
	if b.m != nil {
		if r, ok := b.renderByID(v, t.now); ok {
			t.record(ctx, "", r) // a hit on that content, for the statistics
			return r
		}
	}
	b.log.Warn("bot: menu key names missing content", "key", key, "id", v)
	return t.text(AnswerEvent, "这部分内容正在更新，请直接输入您的问题。")
}

func first(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
