// Package stats keeps what people asked, so staff know what to write next:
// every fallback and every "did you mean" offer (the question as typed,
// time, count, a hashed user id — never the openid), every answer's content
// ids, and which item of a list people opened (evidence for a new FAQ
// alternate), per day in the bureau's time zone. Records expire after a
// retention period (default 90 days).
//
// Keys (under the prefix, in one Cluster slot through the hash tag {stats}):
//
//	{stats}:salt               the user-id salt when none is configured
//	{stats}:fb:YYYYMMDD        sorted set: normalised fallback text → count
//	{stats}:fblast:YYYYMMDD    hash: text → last time (unix seconds)
//	{stats}:fbu:YYYYMMDD:H     set of hashed users who asked text H (a set,
//	                           not a HyperLogLog: the embedded Redis's snapshot keeps sets)
//	{stats}:fbev:YYYYMMDD      stream: every fallback (text, at, user hash)
//	{stats}:hits:YYYYMMDD      hash: content id → replies that answered with it
//	{stats}:offered:YYYYMMDD   hash: content id → times offered in a list of choices
//	{stats}:sg:YYYYMMDD        sorted set: question as typed → times a "did you mean" was offered
//	{stats}:sglast:YYYYMMDD    hash: that question → last offer (JSON: at, ids)
//	{stats}:pk:YYYYMMDD        sorted set: normalised question + "\x1f" + id → times opened from a list
//	{stats}:pkl:YYYYMMDD       hash: the same member → last pick (JSON: query as typed, offered, position, suggest, at)
//	{stats}:pku:YYYYMMDD:H     set of hashed users who made pick H
package stats

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
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

// Options configure a Recorder.
type Options struct {
	// Salt keys the HMAC of user ids. Empty: a random salt kept in Redis,
	// shared by every replica.
	Salt      string
	Retention time.Duration  // default 90 days
	Location  *time.Location // days are counted here; default Asia/Shanghai
	Logger    *slog.Logger
	// Now is the clock of records without a time and of the default
	// reporting window (the last 7 days); default time.Now (serve --now
	// fixes it, so the window is the fixed day's week).
	Now func() time.Time
	// Timeout bounds one Record call (or one batch), so a slow Redis never
	// delays replies.
	Timeout time.Duration // default 200ms
	// Queue > 0 makes Record asynchronous: records wait in a queue of this
	// size and Run writes them in batches, one pipelined round trip each.
	// When the queue is full a record is dropped and counted (Dropped):
	// a reply never waits for the statistics. 0: Record writes before it
	// returns.
	Queue int
}

// Recorder records questions and answers in Redis and answers the staff's
// queries. It implements bot.Recorder.
type Recorder struct {
	rdb  redis.UniversalClient
	p    string
	salt []byte
	opts Options

	q       chan entry // nil: synchronous
	running atomic.Bool
	dropped atomic.Int64
}

// entry is one queued Record or Picked, or a Flush marker (done != nil).
type entry struct {
	user, text string
	rep        bot.Reply
	pick       *bot.Pick
	at         time.Time
	done       chan struct{}
}

// maxBatch bounds the records written in one round trip.
const maxBatch = 256

var (
	_ bot.Recorder     = (*Recorder)(nil)
	_ bot.PickRecorder = (*Recorder)(nil)
)

// maxTextRunes bounds a stored question: longer ones are cut.
const maxTextRunes = 200

// New returns a Recorder with keys under prefix. Without a configured salt
// it reads (or creates) the shared one in Redis.
func New(ctx context.Context, rdb redis.UniversalClient, prefix string, opts Options) (*Recorder, error) {
	if opts.Retention <= 0 {
		opts.Retention = 90 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
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
	if opts.Timeout <= 0 {
		opts.Timeout = 200 * time.Millisecond
	}
	r := &Recorder{rdb: rdb, p: prefix + "{stats}:", opts: opts}
	if opts.Queue > 0 {
		r.q = make(chan entry, opts.Queue)
	}
	if opts.Salt != "" {
		r.salt = []byte(opts.Salt)
		return r, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("stats: salt: %w", err)
	}
	if err := rdb.SetNX(ctx, r.p+"salt", hex.EncodeToString(b), 0).Err(); err != nil {
		return nil, fmt.Errorf("stats: salt: %w", err)
	}
	salt, err := rdb.Get(ctx, r.p+"salt").Result()
	if err != nil {
		return nil, fmt.Errorf("stats: salt: %w", err)
	}
	r.salt = []byte(salt)
	return r, nil
}

// HashUser returns the stored form of an openid: HMAC-SHA256 with the salt,
// 16 hex digits — enough to count distinct people, useless to find them.
func (r *Recorder) HashUser(openid string) string {
	m := hmac.New(sha256.New, r.salt)
	m.Write([]byte(openid))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

func dayKey(t time.Time) string { return t.Format("20060102") }

func textHash(text string) string {
	s := sha256.Sum256([]byte(text))
	return hex.EncodeToString(s[:6])
}

// Record implements bot.Recorder: a fallback's or a "did you mean"
// offer's question as typed, or the ids an answer showed. Errors are
// logged, never returned: they must not change replies. With
// Options.Queue it only queues the record (see Run).
func (r *Recorder) Record(ctx context.Context, user, text string, rep bot.Reply, at time.Time) {
	r.submit(ctx, entry{user: user, text: text, rep: rep, at: at})
}

// Picked implements bot.PickRecorder: the item a person opened from a
// list, counted per (normalised question, item).
func (r *Recorder) Picked(ctx context.Context, user string, p bot.Pick, at time.Time) {
	r.submit(ctx, entry{user: user, pick: &p, at: at})
}

func (r *Recorder) submit(ctx context.Context, e entry) {
	if e.at.IsZero() {
		e.at = r.opts.Now()
	}
	if r.q != nil {
		if !e.worth() {
			return
		}
		select {
		case r.q <- e:
		default:
			if n := r.dropped.Add(1); n&(n-1) == 0 { // 1, 2, 4, …: not a log line per record
				r.opts.Logger.Warn("stats: queue full, records dropped", "dropped", n)
			}
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	pipe := r.rdb.Pipeline()
	r.add(ctx, pipe, e)
	if pipe.Len() == 0 {
		return
	}
	if _, err := pipe.Exec(ctx); err != nil {
		r.opts.Logger.Log(context.Background(), logLevel(err), "stats: record failed", "err", fmt.Errorf("stats: %w", err))
	}
}

// worth reports whether the record writes anything.
func (e entry) worth() bool {
	if e.pick != nil {
		return e.pick.ID != "" && strings.TrimSpace(e.pick.Query) != ""
	}
	if e.rep.Answer == bot.AnswerFallback {
		return strings.TrimSpace(e.text) != ""
	}
	return len(e.rep.IDs) > 0
}

// Dropped returns how many records were dropped because the queue was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Run writes queued records until ctx ends, then writes what is still
// queued and returns. Run it once, on the server's lifetime context, when
// Options.Queue is set; it returns at once otherwise.
func (r *Recorder) Run(ctx context.Context) {
	if r.q == nil || !r.running.CompareAndSwap(false, true) {
		return
	}
	defer r.running.Store(false)
	batch := make([]entry, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			for { // what is queued now still counts
				batch = r.take(batch[:0])
				if len(batch) == 0 {
					return
				}
				r.write(ctx, batch)
			}
		case e := <-r.q:
			r.write(ctx, r.take(append(batch[:0], e)))
		}
	}
}

// take adds to batch what is queued, without waiting, up to maxBatch.
func (r *Recorder) take(batch []entry) []entry {
	for len(batch) < maxBatch {
		select {
		case e := <-r.q:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// write writes a batch in one round trip and releases its Flush markers.
// The end of ctx stops Run, not a write: only the timeout bounds it.
func (r *Recorder) write(ctx context.Context, batch []entry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.Timeout)
	defer cancel()
	pipe := r.rdb.Pipeline()
	for _, e := range batch {
		if e.done == nil {
			r.add(ctx, pipe, e)
		}
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			r.opts.Logger.Log(context.Background(), logLevel(err), "stats: record failed", "records", pipe.Len(), "err", fmt.Errorf("stats: %w", err))
		}
	}
	for _, e := range batch {
		if e.done != nil {
			close(e.done)
		}
	}
}

// Flush waits until the records queued before it are written (while Run
// runs), so the queries see them.
func (r *Recorder) Flush(ctx context.Context) error {
	if r.q == nil || !r.running.Load() {
		return nil
	}
	done := make(chan struct{})
	select {
	case r.q <- entry{done: done}:
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

// add queues a record's commands on pipe (none when it says nothing).
func (r *Recorder) add(ctx context.Context, pipe redis.Pipeliner, e entry) {
	user, rep, at := e.user, e.rep, e.at
	local := at.In(r.opts.Location)
	day := dayKey(local)
	// Keys live for the retention period after the end of their day.
	y, m, d := local.Date()
	expireAt := time.Date(y, m, d+1, 0, 0, 0, 0, r.opts.Location).Add(r.opts.Retention)
	switch {
	case e.pick != nil:
		r.addPick(ctx, pipe, e, day, expireAt)
	case rep.Answer == bot.AnswerFallback:
		text := cleanText(e.text)
		if text == "" {
			return
		}
		uh := r.HashUser(user)
		keys := []string{r.p + "fb:" + day, r.p + "fblast:" + day, r.p + "fbu:" + day + ":" + textHash(text), r.p + "fbev:" + day}
		pipe.ZIncrBy(ctx, keys[0], 1, text)
		pipe.HSet(ctx, keys[1], text, at.Unix())
		pipe.SAdd(ctx, keys[2], uh)
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: keys[3], MaxLen: 100000, Approx: true,
			Values: []any{"text", text, "at", at.Unix(), "user", uh}})
		for _, k := range keys {
			pipe.ExpireAt(ctx, k, expireAt)
		}
	case len(rep.IDs) > 0:
		key := r.p + "hits:" + day
		if rep.Answer == bot.AnswerChoices || rep.Answer == bot.AnswerSuggest {
			key = r.p + "offered:" + day
		}
		for _, id := range rep.IDs {
			pipe.HIncrBy(ctx, key, id, 1)
		}
		pipe.ExpireAt(ctx, key, expireAt)
		if text := cleanText(e.text); rep.Answer == bot.AnswerSuggest && text != "" {
			last, _ := json.Marshal(offer{At: at.Unix(), IDs: rep.IDs})
			sg, sgl := r.p+"sg:"+day, r.p+"sglast:"+day
			pipe.ZIncrBy(ctx, sg, 1, text)
			pipe.HSet(ctx, sgl, text, last)
			pipe.ExpireAt(ctx, sg, expireAt)
			pipe.ExpireAt(ctx, sgl, expireAt)
		}
	}
}

// cleanText is a question as stored: spaces trimmed and collapsed, at most
// maxTextRunes.
func cleanText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxTextRunes {
		s = string([]rune(s)[:maxTextRunes])
	}
	return s
}

// offer is the last "did you mean" offered for a question.
type offer struct {
	At  int64    `json:"at"`
	IDs []string `json:"ids"`
}

// lastPick is the last pick of a (question, item), as stored.
type lastPick struct {
	Query    string   `json:"query"`
	Offered  []string `json:"offered"`
	Position int      `json:"position"`
	Suggest  bool     `json:"suggest"`
	At       int64    `json:"at"`
}

// pickSep joins a normalised question and an item id in a member name.
const pickSep = "\x1f"

func (r *Recorder) addPick(ctx context.Context, pipe redis.Pipeliner, e entry, day string, expireAt time.Time) {
	p := e.pick
	query := cleanText(p.Query)
	question := cleanText(p.Normalized)
	if question == "" {
		question = query
	}
	if query == "" || p.ID == "" {
		return
	}
	member := question + pickSep + p.ID
	last, _ := json.Marshal(lastPick{Query: query, Offered: p.Offered, Position: p.Position, Suggest: p.Suggest, At: e.at.Unix()})
	keys := []string{r.p + "pk:" + day, r.p + "pkl:" + day, r.p + "pku:" + day + ":" + textHash(member)}
	pipe.ZIncrBy(ctx, keys[0], 1, member)
	pipe.HSet(ctx, keys[1], member, last)
	pipe.SAdd(ctx, keys[2], r.HashUser(e.user))
	for _, k := range keys {
		pipe.ExpireAt(ctx, k, expireAt)
	}
}

// Question is one unanswered question over a period.
type Question struct {
	Text  string    `json:"text"`
	Count int64     `json:"count"` // times asked
	Users int64     `json:"users"` // distinct people
	Last  time.Time `json:"last"`  // last time asked
}

// days lists the day keys from since to until (inclusive), at most the
// retention period.
func (r *Recorder) days(since, until time.Time) ([]string, error) {
	if until.IsZero() {
		until = r.opts.Now()
	}
	if since.IsZero() {
		since = until.Add(-7 * 24 * time.Hour)
	}
	if since.After(until) {
		return nil, errors.New("since is after until")
	}
	s, u := since.In(r.opts.Location), until.In(r.opts.Location)
	first := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, r.opts.Location)
	if lim := u.Add(-r.opts.Retention - 24*time.Hour); first.Before(lim) {
		first = time.Date(lim.Year(), lim.Month(), lim.Day(), 0, 0, 0, 0, r.opts.Location)
	}
	var out []string
	for d := first; !d.After(u); d = d.AddDate(0, 0, 1) {
		out = append(out, dayKey(d))
	}
	return out, nil
}

// Unanswered returns the most asked fallback questions between since and
// until (whole days in the bureau's time zone), most asked first.
func (r *Recorder) Unanswered(ctx context.Context, since, until time.Time, limit int) ([]Question, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	days, err := r.days(since, until)
	if err != nil {
		return nil, err
	}
	counts := map[string]float64{}
	last := map[string]int64{}
	pipe := r.rdb.Pipeline()
	zs := make([]*redis.ZSliceCmd, len(days))
	hs := make([]*redis.MapStringStringCmd, len(days))
	for i, d := range days {
		zs[i] = pipe.ZRangeWithScores(ctx, r.p+"fb:"+d, 0, -1)
		hs[i] = pipe.HGetAll(ctx, r.p+"fblast:"+d)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("stats: %w", err)
	}
	for i := range days {
		for _, z := range zs[i].Val() {
			counts[z.Member.(string)] += z.Score
		}
		for text, ts := range hs[i].Val() {
			if v, _ := strconv.ParseInt(ts, 10, 64); v > last[text] {
				last[text] = v
			}
		}
	}
	out := make([]Question, 0, len(counts))
	for text, c := range counts {
		out = append(out, Question{Text: text, Count: int64(c), Last: time.Unix(last[text], 0).In(r.opts.Location)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Text < out[j].Text
	})
	if len(out) > limit {
		out = out[:limit]
	}
	// Distinct people per question across the period: the union's size.
	pipe = r.rdb.Pipeline()
	users := make([]*redis.StringSliceCmd, len(out))
	for i, q := range out {
		keys := make([]string, len(days))
		for j, d := range days {
			keys[j] = r.p + "fbu:" + d + ":" + textHash(q.Text)
		}
		users[i] = pipe.SUnion(ctx, keys...)
	}
	if len(out) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
	}
	for i := range out {
		out[i].Users = int64(len(users[i].Val()))
	}
	return out, nil
}

// DayHits is how often one content item was used on one day.
type DayHits struct {
	Day     string `json:"day"` // YYYY-MM-DD
	ID      string `json:"id"`
	Count   int64  `json:"count"`   // replies that answered with it
	Offered int64  `json:"offered"` // times it was one of several choices offered
}

// Hits returns replies per content id per day between since and until
// (answers and offers among choices), by day then most used first. ids, when given, selects items.
func (r *Recorder) Hits(ctx context.Context, since, until time.Time, ids ...string) ([]DayHits, error) {
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	days, err := r.days(since, until)
	if err != nil {
		return nil, err
	}
	pipe := r.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(days))
	offered := make([]*redis.MapStringStringCmd, len(days))
	for i, d := range days {
		hs[i] = pipe.HGetAll(ctx, r.p+"hits:"+d)
		offered[i] = pipe.HGetAll(ctx, r.p+"offered:"+d)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("stats: %w", err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []DayHits
	for i, d := range days {
		byID := map[string]*DayHits{}
		var day []DayHits
		add := func(m map[string]string, offered bool) {
			for id, c := range m {
				if len(want) > 0 && !want[id] {
					continue
				}
				h := byID[id]
				if h == nil {
					h = &DayHits{Day: d[:4] + "-" + d[4:6] + "-" + d[6:], ID: id}
					byID[id] = h
				}
				n, _ := strconv.ParseInt(c, 10, 64)
				if offered {
					h.Offered = n
				} else {
					h.Count = n
				}
			}
		}
		add(hs[i].Val(), false)
		add(offered[i].Val(), true)
		for _, h := range byID {
			day = append(day, *h)
		}
		sort.Slice(day, func(a, b int) bool {
			if day[a].Count != day[b].Count {
				return day[a].Count > day[b].Count
			}
			if day[a].Offered != day[b].Offered {
				return day[a].Offered > day[b].Offered
			}
			return day[a].ID < day[b].ID
		})
		out = append(out, day...)
	}
	return out, nil
}

// Suggestion is a question people were offered a "did you mean" for.
type Suggestion struct {
	Text    string    `json:"text"`    // as typed
	Count   int64     `json:"count"`   // times offered
	Offered []string  `json:"offered"` // ids of the last offer, in order
	Last    time.Time `json:"last"`
}

// Suggested returns the questions most often answered with a "did you
// mean" between since and until, most frequent first.
func (r *Recorder) Suggested(ctx context.Context, since, until time.Time, limit int) ([]Suggestion, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	counts, lasts, err := r.sumDays(ctx, since, until, "sg:", "sglast:")
	if err != nil {
		return nil, err
	}
	out := make([]Suggestion, 0, len(counts))
	for text, c := range counts {
		s := Suggestion{Text: text, Count: int64(c)}
		var o offer
		if json.Unmarshal([]byte(lasts[text]), &o) == nil {
			s.Offered, s.Last = o.IDs, time.Unix(o.At, 0).In(r.opts.Location)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Text < out[j].Text
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// PickCount is how often people who asked one question opened one item of
// a list: evidence that the question means the item (add it as the FAQ's
// alternate).
type PickCount struct {
	Question string    `json:"question"` // normalised: picks are counted by it
	Query    string    `json:"query"`    // the last pick's question as the person typed it
	ID       string    `json:"id"`       // the item opened
	Count    int64     `json:"count"`    // times opened
	Users    int64     `json:"users"`    // distinct people
	Position int       `json:"position"` // its number in the last list
	Offered  []string  `json:"offered"`  // ids of the last list, in order
	Suggest  bool      `json:"suggest"`  // the last list was a "did you mean"
	Last     time.Time `json:"last"`
}

// Picks returns what people opened from lists between since and until,
// per (normalised question, item), most picked first; ids, when given,
// selects items.
func (r *Recorder) Picks(ctx context.Context, since, until time.Time, limit int, ids ...string) ([]PickCount, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	counts, lasts, err := r.sumDays(ctx, since, until, "pk:", "pkl:")
	if err != nil {
		return nil, err
	}
	out := make([]PickCount, 0, len(counts))
	for member, c := range counts {
		question, id, ok := strings.Cut(member, pickSep)
		if !ok || (len(ids) > 0 && !slices.Contains(ids, id)) {
			continue
		}
		p := PickCount{Question: question, ID: id, Count: int64(c)}
		var l lastPick
		if json.Unmarshal([]byte(lasts[member]), &l) == nil {
			p.Query, p.Position, p.Offered, p.Suggest = l.Query, l.Position, l.Offered, l.Suggest
			p.Last = time.Unix(l.At, 0).In(r.opts.Location)
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Question != out[j].Question {
			return out[i].Question < out[j].Question
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	days, _ := r.days(since, until)
	pipe := r.rdb.Pipeline()
	users := make([]*redis.StringSliceCmd, len(out))
	for i, p := range out {
		keys := make([]string, len(days))
		for j, d := range days {
			keys[j] = r.p + "pku:" + d + ":" + textHash(p.Question+pickSep+p.ID)
		}
		users[i] = pipe.SUnion(ctx, keys...)
	}
	if len(out) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
	}
	for i := range out {
		out[i].Users = int64(len(users[i].Val()))
	}
	return out, nil
}

// sumDays adds up the sorted sets zkey+DAY over the period and returns,
// per member, the total and the latest value of the hashes hkey+DAY.
func (r *Recorder) sumDays(ctx context.Context, since, until time.Time, zkey, hkey string) (map[string]float64, map[string]string, error) {
	if err := r.Flush(ctx); err != nil {
		return nil, nil, err
	}
	days, err := r.days(since, until)
	if err != nil {
		return nil, nil, err
	}
	pipe := r.rdb.Pipeline()
	zs := make([]*redis.ZSliceCmd, len(days))
	hs := make([]*redis.MapStringStringCmd, len(days))
	for i, d := range days {
		zs[i] = pipe.ZRangeWithScores(ctx, r.p+zkey+d, 0, -1)
		hs[i] = pipe.HGetAll(ctx, r.p+hkey+d)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("stats: %w", err)
	}
	counts := map[string]float64{}
	lasts := map[string]string{}
	for i := range days { // oldest day first: later days' values win
		for _, z := range zs[i].Val() {
			counts[z.Member.(string)] += z.Score
		}
		maps.Copy(lasts, hs[i].Val())
	}
	return counts, lasts, nil
}

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
