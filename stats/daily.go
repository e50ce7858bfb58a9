package stats

// Daily counters for the staff console, separate from Recorder: messages
// per day by what answered them, and the questions people asked, as they
// typed them, by what answered them (a rule, an FAQ, a notice, a list of
// choices or "did you mean", or nothing).
//
// Keys (under the prefix, hash tag {stats}):
//
//	{stats}:day:YYYYMMDD                hash: outcome (bot.Answer*) → messages
//	{stats}:typed:OUTCOME:YYYYMMDD      sorted set: text as typed → times asked
//	{stats}:typedlast:OUTCOME:YYYYMMDD  hash: text as typed → last time (unix seconds)

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
)

// DailyOptions configure a Daily.
type DailyOptions struct {
	Retention time.Duration  // default 90 days
	Location  *time.Location // default Asia/Shanghai
	Logger    *slog.Logger
	Now       func() time.Time // default time.Now (serve --now fixes it)
	Queue     int              // records waiting for the writer; default 4096
	Timeout   time.Duration    // one batch's write; default 200ms
}

// Daily counts messages per day by outcome, off the reply path: Wrap
// queues a record, Run writes them in batches; a full queue drops (Dropped).
type Daily struct {
	rdb     redis.UniversalClient
	p       string
	opts    DailyOptions
	q       chan dailyRec
	running atomic.Bool
	dropped atomic.Int64
}

type dailyRec struct {
	outcome, text string
	at            time.Time
	done          chan struct{}
}

// NewDaily returns the counters with keys under prefix.
func NewDaily(rdb redis.UniversalClient, prefix string, opts DailyOptions) *Daily {
	if opts.Retention <= 0 {
		opts.Retention = 90 * 24 * time.Hour
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		opts.Location = loc
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Queue <= 0 {
		opts.Queue = 4096
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 200 * time.Millisecond
	}
	return &Daily{rdb: rdb, p: prefix + "{stats}:", opts: opts, q: make(chan dailyRec, opts.Queue)}
}

// Handler answers a message (*bot.Bot; handlers.Handler).
type Handler interface {
	Handle(ctx context.Context, m bot.Message) bot.Reply
}

type counted struct {
	h Handler
	d *Daily
}

func (c counted) Handle(ctx context.Context, m bot.Message) bot.Reply {
	r := c.h.Handle(ctx, m)
	c.d.Count(m, r)
	return r
}

// Wrap returns h counting every text or voice message it answers.
func (d *Daily) Wrap(h Handler) Handler { return counted{h: h, d: d} }

// Outcomes whose questions are kept as typed: those without a direct
// answer (what staff should answer next), and those answered from the
// content (what people ask most). Dialog turns, events and out-of-scope
// messages are not questions for the bureau's content; they are only
// counted.
var (
	unansweredOutcomes = []string{bot.AnswerFallback, bot.AnswerChoices, bot.AnswerSuggest}
	askedOutcomes      = append([]string{bot.AnswerRule, bot.AnswerFAQ, bot.AnswerNotice}, unansweredOutcomes...)
)

func keepsText(outcome string) bool { return slices.Contains(askedOutcomes, outcome) }

// Count queues one answered message (events and retries are not counted).
func (d *Daily) Count(m bot.Message, r bot.Reply) {
	if r.Duplicate || (m.Type != bot.TypeText && m.Type != bot.TypeVoice) {
		return
	}
	rec := dailyRec{outcome: r.Answer, at: d.opts.Now()}
	if rec.outcome == "" {
		rec.outcome = bot.AnswerNone
	}
	if keepsText(rec.outcome) {
		rec.text = strings.TrimSpace(m.Text)
		if utf8.RuneCountInString(rec.text) > maxTextRunes {
			rec.text = string([]rune(rec.text)[:maxTextRunes])
		}
	}
	select {
	case d.q <- rec:
	default:
		if n := d.dropped.Add(1); n&(n-1) == 0 {
			d.opts.Logger.Warn("stats: daily queue full, records dropped", "dropped", n)
		}
	}
}

// Dropped is how many records a full queue dropped.
func (d *Daily) Dropped() int64 { return d.dropped.Load() }

// Run writes queued records until ctx ends, then what is still queued.
func (d *Daily) Run(ctx context.Context) {
	if !d.running.CompareAndSwap(false, true) {
		return
	}
	defer d.running.Store(false)
	batch := make([]dailyRec, 0, maxBatch)
	take := func(b []dailyRec) []dailyRec {
		for len(b) < maxBatch {
			select {
			case e := <-d.q:
				b = append(b, e)
			default:
				return b
			}
		}
		return b
	}
	for {
		select {
		case <-ctx.Done():
			for {
				if batch = take(batch[:0]); len(batch) == 0 {
					return
				}
				d.write(ctx, batch)
			}
		case e := <-d.q:
			d.write(ctx, take(append(batch[:0], e)))
		}
	}
}

func (d *Daily) write(ctx context.Context, batch []dailyRec) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.Timeout)
	defer cancel()
	pipe := d.rdb.Pipeline()
	for _, e := range batch {
		if e.done != nil {
			continue
		}
		local := e.at.In(d.opts.Location)
		day := dayKey(local)
		y, m, dd := local.Date()
		expireAt := time.Date(y, m, dd+1, 0, 0, 0, 0, d.opts.Location).Add(d.opts.Retention)
		k := d.p + "day:" + day
		pipe.HIncrBy(ctx, k, e.outcome, 1)
		pipe.ExpireAt(ctx, k, expireAt)
		if e.text != "" {
			z, h := d.p+"typed:"+e.outcome+":"+day, d.p+"typedlast:"+e.outcome+":"+day
			pipe.ZIncrBy(ctx, z, 1, e.text)
			pipe.HSet(ctx, h, e.text, e.at.Unix())
			pipe.ExpireAt(ctx, z, expireAt)
			pipe.ExpireAt(ctx, h, expireAt)
		}
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			d.opts.Logger.Log(context.Background(), logLevel(err), "stats: daily write failed", "records", len(batch), "err", fmt.Errorf("stats: %w", err))
		}
	}
	for _, e := range batch {
		if e.done != nil {
			close(e.done)
		}
	}
}

// Flush waits until what was queued before it is written; without Run
// running, it writes the queue itself.
func (d *Daily) Flush(ctx context.Context) error {
	if !d.running.Load() {
		for {
			var batch []dailyRec
		take:
			for len(batch) < maxBatch {
				select {
				case e := <-d.q:
					batch = append(batch, e)
				default:
					break take
				}
			}
			if len(batch) == 0 {
				return nil
			}
			d.write(ctx, batch)
		}
	}
	done := make(chan struct{})
	select {
	case d.q <- dailyRec{done: done}:
	case <-ctx.Done():
		return fmt.Errorf("stats: flush: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stats: flush: %w", ctx.Err())
	}
}

// DayCount is one day's messages by outcome.
type DayCount struct {
	Day      time.Time        // midnight in the bureau's time zone
	Outcomes map[string]int64 // bot.Answer* → messages
	Total    int64
}

// Answered is the day's messages answered directly (rule, FAQ, notice).
func (c DayCount) Answered() int64 {
	return c.Outcomes[bot.AnswerRule] + c.Outcomes[bot.AnswerFAQ] + c.Outcomes[bot.AnswerNotice]
}

func (d *Daily) dayList(since, until time.Time) []time.Time {
	s, u := since.In(d.opts.Location), until.In(d.opts.Location)
	first := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, d.opts.Location)
	var out []time.Time
	for t := first; !t.After(u) && len(out) < 400; t = t.AddDate(0, 0, 1) {
		out = append(out, t)
	}
	return out
}

// Days returns the counts of every day from since to until (inclusive,
// days with no messages included), oldest first.
func (d *Daily) Days(ctx context.Context, since, until time.Time) ([]DayCount, error) {
	if err := d.Flush(ctx); err != nil {
		return nil, err
	}
	days := d.dayList(since, until)
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(days))
	for i, t := range days {
		cmds[i] = pipe.HGetAll(ctx, d.p+"day:"+dayKey(t))
	}
	if len(days) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("stats: days: %w", err)
		}
	}
	out := make([]DayCount, len(days))
	for i, t := range days {
		out[i] = DayCount{Day: t, Outcomes: map[string]int64{}}
		for k, v := range cmds[i].Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			out[i].Outcomes[k] = n
			out[i].Total += n
		}
	}
	return out, nil
}

// Typed is a question as people typed it, over a period.
type Typed struct {
	Text    string
	Outcome string // what answered it: bot.AnswerRule, AnswerFAQ, AnswerNotice, AnswerChoices, AnswerSuggest or AnswerFallback
	Count   int64
	Last    time.Time
}

// Typed returns the questions that got outcome (bot.AnswerFallback,
// bot.AnswerChoices or bot.AnswerSuggest; "" all three) from since to
// until, as typed, most asked first.
func (d *Daily) Typed(ctx context.Context, since, until time.Time, outcome string, limit int) ([]Typed, error) {
	outcomes := unansweredOutcomes
	if outcome != "" {
		outcomes = []string{outcome}
	}
	return d.typed(ctx, since, until, outcomes, limit)
}

// Asked returns every question people asked from since to until, as
// typed, whatever answered it: one entry per text and outcome, most asked
// first. (Days recorded before answered questions were kept have their
// unanswered ones only.)
func (d *Daily) Asked(ctx context.Context, since, until time.Time, limit int) ([]Typed, error) {
	return d.typed(ctx, since, until, askedOutcomes, limit)
}

func (d *Daily) typed(ctx context.Context, since, until time.Time, outcomes []string, limit int) ([]Typed, error) {
	if err := d.Flush(ctx); err != nil {
		return nil, err
	}
	days := d.dayList(since, until)
	type pair struct {
		z *redis.ZSliceCmd
		h *redis.MapStringStringCmd
		o string
	}
	var cmds []pair
	pipe := d.rdb.Pipeline()
	for _, t := range days {
		for _, o := range outcomes {
			cmds = append(cmds, pair{
				z: pipe.ZRangeWithScores(ctx, d.p+"typed:"+o+":"+dayKey(t), 0, -1),
				h: pipe.HGetAll(ctx, d.p+"typedlast:"+o+":"+dayKey(t)),
				o: o,
			})
		}
	}
	if len(cmds) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("stats: typed: %w", err)
		}
	}
	type key struct{ text, o string }
	acc := map[key]*Typed{}
	for _, c := range cmds {
		last := c.h.Val()
		for _, z := range c.z.Val() {
			text, _ := z.Member.(string)
			k := key{text, c.o}
			t := acc[k]
			if t == nil {
				t = &Typed{Text: text, Outcome: c.o}
				acc[k] = t
			}
			t.Count += int64(z.Score)
			if v, _ := strconv.ParseInt(last[text], 10, 64); v > 0 {
				if at := time.Unix(v, 0).In(d.opts.Location); at.After(t.Last) {
					t.Last = at
				}
			}
		}
	}
	out := make([]Typed, 0, len(acc))
	for _, t := range acc {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Text < out[j].Text
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
