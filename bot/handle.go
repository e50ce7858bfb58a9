package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// seenTTL is how long the time of a user's last message is kept: a
// broadcast may only send customer-service messages within 48 hours of it.
const seenTTL = 7 * 24 * time.Hour

// Bot answers users. It is safe for concurrent use; all state is in the
// Store, so several replicas on one Redis behave as one.
type Bot struct {
	cfg    Config
	m      Matcher
	st     Store
	rec    Recorder
	mass   MassResultSink
	forget []Forgetter
	now    func() time.Time
	log    *slog.Logger
}

// New returns a bot. cfg's unset fields take DefaultConfig's values;
// deps.Store may be nil (no memory), deps.Recorder and deps.Mass too.
func New(cfg Config, deps Deps) *Bot {
	b := &Bot{
		cfg:    cfg.withDefaults(),
		m:      deps.Matcher,
		st:     deps.Store,
		rec:    deps.Recorder,
		mass:   deps.Mass,
		forget: deps.Forget,
		now:    deps.Now,
		log:    deps.Log,
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.m == nil {
		b.log.Error("bot: no matcher configured: every question gets the fallback")
	}
	return b
}

// Handle answers one message or event within ctx's deadline (or
// Config.Deadline when ctx has none). A retry of a delivery that is being
// or has been handled gets the first delivery's reply. When the store is
// slow or down, the reply comes from content alone.
func (b *Bot) Handle(ctx context.Context, m Message) Reply {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.cfg.Deadline)
		defer cancel()
	}
	t := &turn{b: b, m: m, now: b.now(), st: b.st}
	if m.User == "" {
		t.st = nil // nothing to remember anything by
	}
	if m.Type == TypeEvent && m.Event == EventUnsubscribe {
		// WeChat's rules: delete everything about the user. Not
		// de-duplicated: deleting twice is harmless.
		// Nobody waits for this reply: the whole deadline is the store's.
		if t.st != nil {
			if err := t.st.Forget(ctx, m.User); err != nil {
				b.log.Error("bot: deleting an unsubscribed user's data", "err", err)
			}
		}
		if m.User != "" {
			for _, f := range b.forget {
				if err := f.ForgetUser(ctx, m.User); err != nil {
					b.log.Error("bot: deleting an unsubscribed user's data", "err", err)
				}
			}
		}
		return Reply{Kind: ReplyNone, Answer: AnswerNone}
	}

	id := dedupID(m)
	claimed := false
	ts, _ := t.st.(TurnStore)
	if ts != nil {
		t.ts = ts
		t.begin(ctx, id)
	}
	if t.st != nil && id != "" {
		first, ok := t.claimed, t.begun
		if ts == nil {
			ok = t.call(ctx, "claim", func(ctx context.Context) (err error) {
				first, err = t.st.Claim(ctx, m.User, id, b.cfg.DedupTTL)
				return err
			})
		}
		switch {
		case ok && first:
			claimed = true
		case ok && !first:
			if t.stored != nil {
				r := *t.stored
				r.Duplicate = true
				return r
			}
			if r, done := b.waitResult(ctx, m.User, id); done {
				r.Duplicate = true
				return r
			}
			// The first delivery did not finish in time (or its reply was
			// lost): answer from content, and change no state twice.
			b.log.Warn("bot: retry without a stored reply, answering without memory", "id", id)
			t.st = nil
			t.degraded = true
		}
	}

	r := t.handle(ctx)
	r.Degraded = t.degraded
	if claimed || t.session != nil {
		// Store the reply even when ctx is nearly spent: a retry needs it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.StoreTimeout)
		if ts != nil {
			e := EndTurn{Session: t.session, SessionTTL: b.cfg.SessionTTL, Reply: r, DedupTTL: b.cfg.DedupTTL, Said: m.Text, Now: t.now}
			if claimed {
				e.ID = id
			}
			if err := ts.End(fctx, m.User, e); err != nil {
				b.log.Warn("bot: storing session and reply for retries", "err", err)
				r.Degraded = r.Degraded || t.session != nil
			}
		} else if err := b.st.Finish(fctx, m.User, id, r, b.cfg.DedupTTL); err != nil {
			b.log.Warn("bot: storing reply for retries", "err", err)
		}
		cancel()
	}
	return r
}

// begin does the turn's first store work — claim, rate limit, load — in
// one round trip. It asks for no more than handle would: Load records the
// time of the user's message, so only the paths that load ask for it.
func (t *turn) begin(ctx context.Context, id string) {
	m, b := t.m, t.b
	req := BeginTurn{ID: id, DedupTTL: b.cfg.DedupTTL, Now: t.now, SeenTTL: seenTTL}
	switch m.Type {
	case TypeText, TypeVoice:
		req.PerMinute = b.cfg.RatePerMinute
		req.Load = b.m != nil && strings.TrimSpace(m.Text) != ""
	case TypeEvent:
		switch m.Event {
		case EventSubscribe:
			req.Load = true
		case EventClick:
			req.PerMinute = b.cfg.RatePerMinute
			_, req.Load = b.cfg.Clicks[m.EventKey]
		}
	default:
		req.PerMinute = b.cfg.RatePerMinute
		req.Load = true
	}
	if req.ID == "" && req.PerMinute <= 0 && !req.Load {
		return
	}
	var got Begun
	t.begun = t.call(ctx, "begin", func(ctx context.Context) (err error) {
		got, err = t.ts.Begin(ctx, m.User, req)
		return err
	})
	if !t.begun {
		return
	}
	t.claimed = got.Claimed
	if !got.Claimed {
		if got.Done {
			t.stored = &got.Reply
		}
		return
	}
	t.rated, t.allowed = got.Rated, got.Allowed
	if got.Loaded {
		t.loaded, t.state = true, got.State
		t.checkProfile()
	}
}

// dedupID names one delivery: MsgId for messages (with the user in the
// key: MsgIds collide across users), CreateTime+Event for events, and the
// MsgID events carry (mass-send and template results): two mass sends
// finishing in the same second come from the same sender.
func dedupID(m Message) string {
	if m.Type == TypeEvent {
		if m.Event == "" || m.CreateTime.IsZero() {
			return ""
		}
		id := "e:" + strconv.FormatInt(m.CreateTime.Unix(), 10) + ":" + m.Event
		if m.MsgID != "" {
			id += ":" + m.MsgID
		}
		return id
	}
	if m.MsgID != "" {
		return "m:" + m.MsgID
	}
	if !m.CreateTime.IsZero() {
		return "t:" + strconv.FormatInt(m.CreateTime.Unix(), 10) + ":" + m.Type
	}
	return ""
}

// waitResult polls for the first delivery's reply, leaving time to answer
// from content if it never comes.
func (b *Bot) waitResult(ctx context.Context, user, id string) (Reply, bool) {
	deadline, _ := ctx.Deadline()
	reserve := 250 * time.Millisecond
	if left := time.Until(deadline); left < 4*reserve {
		reserve = left / 4
	}
	until := deadline.Add(-reserve)
	wait := 10 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, b.cfg.StoreTimeout)
		r, done, err := b.st.Result(cctx, user, id)
		cancel()
		if err != nil {
			b.log.Warn("bot: reading stored reply", "err", err)
			return Reply{}, false
		}
		if done {
			return r, true
		}
		if time.Now().Add(wait).After(until) {
			return Reply{}, false
		}
		select {
		case <-ctx.Done():
			return Reply{}, false
		case <-time.After(wait):
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
}

// turn is the handling of one message.
type turn struct {
	b        *Bot
	m        Message
	now      time.Time
	st       Store // nil once the store failed: answer without memory
	degraded bool

	loaded bool
	state  State

	// With a TurnStore: what Begin found, and the session End writes.
	ts             TurnStore
	begun, claimed bool
	stored         *Reply
	rated, allowed bool
	session        *Session

	typed string // the question as the person typed it (or a menu click's text)
}

// call runs one store operation with its own short timeout. On failure the
// rest of the turn goes on without the store.
func (t *turn) call(ctx context.Context, op string, f func(context.Context) error) bool {
	if t.st == nil {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, t.b.cfg.StoreTimeout)
	defer cancel()
	if err := f(cctx); err != nil {
		t.b.log.Log(context.Background(), logLevel(err), "bot: store unavailable, answering without memory", "op", op, "err", err)
		t.st = nil
		t.degraded = true
		return false
	}
	return true
}

// load reads the user's state once per turn.
func (t *turn) load(ctx context.Context) State {
	if t.loaded {
		return t.state
	}
	t.loaded = true
	t.call(ctx, "load", func(ctx context.Context) (err error) {
		t.state, err = t.st.Load(ctx, t.m.User, t.now, seenTTL)
		return err
	})
	t.checkProfile()
	return t.state
}

func (t *turn) checkProfile() {
	if p := t.state.Profile; !p.At.IsZero() && t.now.Sub(p.At) > t.b.cfg.ProfileTTL {
		t.state.Profile = Profile{} // expired (the key's TTL normally sees to it)
	}
}

// handedOff reports whether a person is answering the user. The time is
// checked here, not only by the key's TTL, so a fixed clock works too.
func (t *turn) handedOff(st State) bool {
	return !st.Handoff.IsZero() && t.now.Sub(st.Handoff) < t.b.cfg.HandoffTTL
}

// fresh reports whether the session still holds conversational context.
func (t *turn) fresh(s Session) bool {
	return !s.At.IsZero() && t.now.Sub(s.At) <= t.b.cfg.ContextTTL && t.now.Sub(s.At) >= -time.Minute
}

func (t *turn) saveSession(ctx context.Context, s Session) {
	s.At = t.now
	t.state.Session = s
	if t.ts != nil && t.st != nil {
		t.session = &s // End writes it with the reply: one round trip
		return
	}
	t.call(ctx, "save session", func(ctx context.Context) error {
		return t.st.SaveSession(ctx, t.m.User, s, t.b.cfg.SessionTTL)
	})
}

func (t *turn) handle(ctx context.Context) Reply {
	m := t.m
	switch m.Type {
	case TypeText, TypeVoice:
		if !t.allow(ctx) {
			return t.text(AnswerDialog, "您发消息太快啦，请稍等一分钟再问，我会继续为您解答。")
		}
		text := strings.TrimSpace(m.Text)
		if text == "" {
			if m.Type == TypeVoice {
				return t.text(AnswerEvent, "抱歉，没有听清您的语音，请用文字再说一次。")
			}
			return t.text(AnswerEvent, "请直接输入您想问的问题。")
		}
		return t.converse(ctx, text)
	case TypeEvent:
		switch m.Event {
		case EventSubscribe:
			t.load(ctx) // records the time of the user's last interaction
			return Reply{Kind: ReplyText, Text: cut(t.b.cfg.Welcome), Answer: AnswerEvent}
		case EventClick:
			if !t.allow(ctx) {
				return t.text(AnswerDialog, "您点得太快啦，请稍等一分钟再试。")
			}
			return t.click(ctx)
		case EventMassFinish:
			if t.b.mass != nil && m.Mass != nil {
				if err := t.b.mass.MassFinished(ctx, *m.Mass); err != nil {
					t.b.log.Error("bot: recording mass-send result", "msg_id", m.Mass.MsgID, "err", err)
				}
			}
			return Reply{Kind: ReplyNone, Answer: AnswerNone}
		default: // VIEW, SCAN, LOCATION, TEMPLATESENDJOBFINISH, …
			return Reply{Kind: ReplyNone, Answer: AnswerNone}
		}
	default:
		if !t.allow(ctx) {
			return Reply{Kind: ReplyNone, Answer: AnswerNone}
		}
		if t.handedOff(t.load(ctx)) {
			return Reply{Kind: ReplyTransfer, Answer: AnswerDialog}
		}
		what := map[string]string{TypeImage: "图片", TypeVideo: "视频", TypeShortVideo: "视频", TypeLocation: "位置",
			TypeLink: "链接"}[m.Type]
		if what == "" {
			what = "这类消息"
		}
		return t.text(AnswerEvent, fmt.Sprintf("我暂时还看不懂%s。我能回答开学放假、招生报名、考试安排、学生资助等问题，请直接用文字提问；"+
			"回复“订阅”可订阅通知，回复“人工”可联系工作人员。", what))
	}
}

// allow applies the per-user rate limit; without a store everyone is allowed.
func (t *turn) allow(ctx context.Context) bool {
	if t.rated {
		return t.allowed // Begin counted the message
	}
	ok := true
	t.call(ctx, "rate limit", func(ctx context.Context) (err error) {
		ok, err = t.st.Allow(ctx, t.m.User, t.b.cfg.RatePerMinute)
		return err
	})
	return ok
}

// text builds a text reply cut to WeChat's limit.
func (t *turn) text(answer, s string) Reply {
	return Reply{Kind: ReplyText, Text: cut(s), Answer: answer}
}

// errNoMatcher is logged when the bot was built without a matcher.
var errNoMatcher = errors.New("bot: no matcher")

// logLevel is debug for an error already reported once elsewhere (the
// Redis circuit breaker's: it logs the outage when it opens), warn
// otherwise, so an outage is not one warning per request.
func logLevel(err error) slog.Level {
	var r interface{ Reported() bool }
	if errors.As(err, &r) && r.Reported() {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
