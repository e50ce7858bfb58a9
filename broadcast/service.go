package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

// Options configure a Service.
type Options struct {
	Redis          redis.UniversalClient
	Prefix         string // key prefix, e.g. "edubot:"
	API            API
	Notices        Notices
	Subscribers    Subscribers
	AccountType    string         // AccountSubscription (default) or AccountService
	PreviewOpenIDs []string       // default test openids for previews
	RatePerSecond  int            // customer-service messages a second, across replicas; default 20
	Workers        int            // workers per process; default 2
	Location       *time.Location // quota days and months; default Asia/Shanghai
	Now            func() time.Time
	Logger         *slog.Logger
	ClaimIdle      time.Duration // take over work a crashed worker held this long; default 1 min
	DraftTTL       time.Duration // an unconfirmed draft (or previewed job) expires; default 7 days
	Poll           time.Duration // idle workers look for work this often; default 500 ms
	// SendTimeout bounds one call to WeChat. It runs on a context detached
	// from shutdown, so a send in flight is finished and recorded, not
	// abandoned; a recipient claimed longer ago than this (plus a second)
	// belongs to a worker that died. Default 30 s.
	SendTimeout time.Duration
	// Images fetches a notice's cover for a 图文 mass send; default HTTPImages.
	Images Images
	// SendIgnoreReprint is WeChat's send_ignore_reprint for 图文 mass sends:
	// when the originality check judges the notice a reprint, true sends
	// it anyway (as a reprint), false lets WeChat stop the send.
	SendIgnoreReprint bool
}

// Service creates, runs and reports broadcasts. Safe for concurrent use.
type Service struct {
	o   Options
	rdb redis.UniversalClient
	log *slog.Logger
	now func() time.Time

	// beforeSend, if set (tests), runs after a recipient is claimed and
	// before the message goes out; an error simulates a crash there.
	beforeSend func(jobID, openid string) error
	// granted, if set (tests), runs when the shared rate limit lets one
	// message through, with the wall-clock second it was counted in.
	granted func(second int64)
}

// New returns a service. Call Run to process jobs.
func New(o Options) (*Service, error) {
	if o.Redis == nil || o.API == nil || o.Notices == nil || o.Subscribers == nil {
		return nil, errors.New("broadcast: Redis, API, Notices and Subscribers are required")
	}
	switch o.AccountType {
	case "":
		o.AccountType = AccountSubscription
	case AccountSubscription, AccountService:
	default:
		return nil, fmt.Errorf("broadcast: account type must be %s or %s, got %q", AccountSubscription, AccountService, o.AccountType)
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 20
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		o.Location = loc
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DraftTTL <= 0 {
		o.DraftTTL = 7 * 24 * time.Hour
	}
	if o.ClaimIdle <= 0 {
		o.ClaimIdle = time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.Images == nil {
		o.Images = HTTPImages{}
	}
	return &Service{o: o, rdb: o.Redis, log: o.Logger, now: o.Now}, nil
}

// Redis keys. Every key of one job shares the hash tag {bc:ID}, so the
// scripts that touch several of them work on Redis Cluster.
//
//	PREFIX bc:jobs            zset of job ids by creation time
//	PREFIX bc:active          set of jobs workers must look at
//	PREFIX bc:{ID}            hash: the job (fields below)
//	PREFIX bc:{ID}:r          hash: openid → queued|sending|sent|skipped:…|failed:…|cancelled (30 days)
//	PREFIX bc:{ID}:q          stream of work items, consumer group "w"
//	PREFIX bc:mass:MSGID      job id of a mass send (30 days)
//	PREFIX bc:quota:PERIOD    mass sends reserved in a day (订阅号) or month (服务号)
//	PREFIX bc:rate:SECOND     customer-service messages sent in one second
//	PREFIX {u:OPENID}:bc:cs:T customer-service messages since the user's message at T (48 h)
func (s *Service) jobKey(id string) string   { return s.o.Prefix + "bc:{" + id + "}" }
func (s *Service) rcptKey(id string) string  { return s.o.Prefix + "bc:{" + id + "}:r" }
func (s *Service) queueKey(id string) string { return s.o.Prefix + "bc:{" + id + "}:q" }
func (s *Service) jobsKey() string           { return s.o.Prefix + "bc:jobs" }
func (s *Service) activeKey() string         { return s.o.Prefix + "bc:active" }
func (s *Service) massKey(msgID int64) string {
	return s.o.Prefix + "bc:mass:" + strconv.FormatInt(msgID, 10)
}
func (s *Service) userCSKey(openid string, last time.Time) string {
	return s.o.Prefix + "{u:" + openid + "}:bc:cs:" + strconv.FormatInt(last.Unix(), 10)
}

const (
	group     = "w"
	resultTTL = 30 * 24 * time.Hour
)

// Request creates a broadcast.
type Request struct {
	Notice string // notice id
	To     string // "subscribers", "all" or "tag:NAME" (a WeChat user tag, by name or id)
	Actor  string // who asks (audit)
}

// ParseTo splits a --to / "to" value into channel and tag.
func ParseTo(to string) (channel, tag string, err error) {
	to = strings.TrimSpace(to)
	switch {
	case to == ChannelSubscribers, to == ChannelAll:
		return to, "", nil
	case strings.HasPrefix(to, "tag:") && strings.TrimSpace(to[4:]) != "":
		return ChannelTag, strings.TrimSpace(to[4:]), nil
	}
	return "", "", fieldErr("to", "want subscribers, all or tag:NAME, got %q", to)
}

// Create makes a draft broadcast of a notice. A mass send is refused
// here already when the account's quota is used up.
func (s *Service) Create(ctx context.Context, r Request) (*Job, error) {
	if strings.TrimSpace(r.Notice) == "" {
		return nil, fieldErr("notice", "required: the id of a published notice")
	}
	n := s.o.Notices.Notice(r.Notice)
	if n == nil {
		return nil, fieldErr("notice", "no notice with id %q", r.Notice)
	}
	now := s.now()
	if n.Expired(now.In(s.o.Location)) {
		return nil, fieldErr("notice", "notice %s expired on %s", n.ID, n.Expires)
	}
	channel, tag, err := ParseTo(r.To)
	if err != nil {
		return nil, err
	}
	j := &Job{
		ID:        newID(now),
		Notice:    n.ID,
		Channel:   channel,
		State:     StateDraft,
		Article:   bot.Article{Title: n.Title, Description: n.Summary, PicURL: n.Cover, URL: n.URL},
		CreatedBy: r.Actor,
		CreatedAt: now,
	}
	switch channel {
	case ChannelSubscribers:
		if len(n.Tags) == 0 {
			return nil, fieldErr("notice", "notice %s has no tags, so nobody can have subscribed to it: send it to all or to tag:NAME", n.ID)
		}
		j.Tag = strings.Join(n.Tags, ",")
	case ChannelTag, ChannelAll:
		if channel == ChannelTag {
			if j.TagID, j.Tag, err = s.resolveTag(ctx, tag); err != nil {
				return nil, err
			}
		}
		j.Text = massText(j.Article)
		// 图文 when there is a cover (the article needs a thumb); text and
		// link otherwise.
		j.Format = FormatText
		if n.Cover != "" {
			j.Format = FormatNews
		}
		if used, limit, key := s.quotaUsed(ctx, now); used >= limit {
			return nil, s.quotaErr(key, limit)
		}
	}
	if j.Article.URL == "" {
		return nil, fieldErr("notice", "notice %s has no url to link to", n.ID)
	}
	meta, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	// The job and its queue share a slot ({ID}) and are made together; the
	// list of jobs is in another slot (a Cluster refuses one MULTI across
	// slots), so it comes second: a job that missed it is a draft nobody
	// sees, never a listed job without a body.
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.jobKey(j.ID), "meta", meta, "state", j.State)
	pipe.XGroupCreateMkStream(ctx, s.queueKey(j.ID), group, "0")
	// A draft nobody confirms goes away (confirming or cancelling it
	// removes the expiry: see transition).
	pipe.Expire(ctx, s.jobKey(j.ID), s.o.DraftTTL)
	pipe.Expire(ctx, s.queueKey(j.ID), s.o.DraftTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("broadcast: create: %w", err)
	}
	if err := s.rdb.ZAdd(ctx, s.jobsKey(), redis.Z{Score: float64(now.UnixMilli()), Member: j.ID}).Err(); err != nil {
		return nil, fmt.Errorf("broadcast: create: %w", err)
	}
	s.log.Info("broadcast created", "job", j.ID, "notice", j.Notice, "channel", j.Channel, "by", r.Actor)
	return j, nil
}

// resolveTag finds a WeChat user tag by name or id.
func (s *Service) resolveTag(ctx context.Context, tag string) (int, string, error) {
	tags, err := s.o.API.Tags(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("%w: list user tags: %w", ErrWeChat, err)
	}
	id, numErr := strconv.Atoi(tag)
	var names []string
	for _, t := range tags {
		if t.Name == tag || (numErr == nil && t.ID == id) {
			return t.ID, t.Name, nil
		}
		names = append(names, t.Name)
	}
	return 0, "", fieldErr("to", "the account has no user tag %q (tags: %s)", tag, strings.Join(names, ", "))
}

// massText is what a mass send says: title, summary and link, within
// WeChat's text limit.
func massText(a bot.Article) string {
	const max = 1800 // bytes; WeChat's limit for text is about 2048
	head, tail := "【"+a.Title+"】\n", "\n详情："+a.URL
	desc := a.Description
	for len(head)+len(desc)+len(tail) > max && desc != "" {
		_, size := utf8.DecodeLastRuneInString(desc)
		desc = desc[:len(desc)-size]
	}
	return head + desc + tail
}

// Preview sends a mass send (or a subscriber message) to test openids
// only: to, or the configured preview openids. A mass send must be
// previewed before it can be confirmed.
func (s *Service) Preview(ctx context.Context, id string, to []string, actor string) (*Job, error) {
	j, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.State != StateDraft && j.State != StatePreviewed {
		return nil, stateErr(id, j.State, "only a draft can be previewed")
	}
	if len(to) == 0 {
		to = s.o.PreviewOpenIDs
	}
	if len(to) == 0 {
		return nil, fieldErr("openids", "no preview openid: give one or set broadcast.preview_openids")
	}
	var mediaID string
	if j.Mass() && j.Format == FormatNews {
		if mediaID, err = s.draftFor(ctx, j); err != nil {
			return nil, err
		}
	}
	for _, openid := range to {
		if strings.TrimSpace(openid) == "" {
			return nil, fieldErr("openids", "empty openid")
		}
		if mediaID != "" {
			err = s.o.API.MassPreviewNews(ctx, openid, mediaID)
		} else if j.Mass() {
			err = s.o.API.MassPreviewText(ctx, openid, j.Text)
		} else {
			err = s.o.API.SendNews(ctx, openid, toAPI(j.Article))
		}
		if err != nil {
			return nil, fmt.Errorf("%w: preview to %s: %w", ErrWeChat, openid, err)
		}
	}
	now := s.now()
	toJSON, _ := json.Marshal(to)
	res, err := transition.Run(ctx, s.rdb, []string{s.jobKey(id), s.queueKey(id)},
		StatePreviewed, "", StateDraft, StatePreviewed).Text()
	if err != nil {
		return nil, fmt.Errorf("broadcast: preview: %w", err)
	}
	if strings.HasPrefix(res, "!") {
		return nil, stateErr(id, res[1:], "only a draft can be previewed")
	}
	if err := s.rdb.HSet(ctx, s.jobKey(id), "previewed_by", actor, "previewed_at", now.UnixMilli(), "previewed_to", toJSON).Err(); err != nil {
		return nil, fmt.Errorf("broadcast: preview: %w", err)
	}
	s.log.Info("broadcast previewed", "job", id, "recipients", len(to), "by", actor)
	return s.Get(ctx, id)
}

// Confirm queues the broadcast for sending. A mass send must have been
// previewed, and takes one of the account's mass sends (refused with
// ErrQuota when none is left).
func (s *Service) Confirm(ctx context.Context, id, actor string) (*Job, error) {
	j, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	from := []any{StateDraft, StatePreviewed}
	if j.Mass() {
		if j.State == StateDraft {
			return nil, stateErr(id, j.State, "a mass send must be previewed before it is confirmed")
		}
		from = []any{StatePreviewed}
	}
	if j.State != StateDraft && j.State != StatePreviewed {
		return nil, stateErr(id, j.State, "only a draft or previewed broadcast can be confirmed")
	}
	var quotaKey string
	if j.Mass() {
		if quotaKey, err = s.reserveQuota(ctx); err != nil {
			return nil, err
		}
	}
	op := "expand"
	if j.Mass() {
		op = "mass"
	}
	// Listed as active before the work item exists, so no worker misses it.
	if err := s.rdb.SAdd(ctx, s.activeKey(), id).Err(); err != nil {
		s.releaseQuotaKey(ctx, quotaKey)
		return nil, fmt.Errorf("broadcast: confirm: %w", err)
	}
	args := append([]any{StateQueued, op}, from...)
	res, err := transition.Run(ctx, s.rdb, []string{s.jobKey(id), s.queueKey(id)}, args...).Text()
	if err == nil && strings.HasPrefix(res, "!") {
		err = stateErr(id, res[1:], "only a draft or previewed broadcast can be confirmed")
	}
	if err != nil {
		s.releaseQuotaKey(ctx, quotaKey)
		return nil, fmt.Errorf("broadcast: confirm: %w", err)
	}
	fields := []any{"confirmed_by", actor, "confirmed_at", s.now().UnixMilli()}
	if quotaKey != "" {
		fields = append(fields, "quota_key", quotaKey)
	}
	if err := s.rdb.HSet(ctx, s.jobKey(id), fields...).Err(); err != nil {
		return nil, fmt.Errorf("broadcast: confirm: %w", err)
	}
	s.log.Info("broadcast confirmed", "job", id, "channel", j.Channel, "by", actor)
	return s.Get(ctx, id)
}

// Cancel stops a broadcast that has not finished: recipients not yet
// reached are counted as cancelled. A mass send can be cancelled only
// before it goes to WeChat.
func (s *Service) Cancel(ctx context.Context, id, actor string) (*Job, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	res, err := transition.Run(ctx, s.rdb, []string{s.jobKey(id), s.queueKey(id)},
		StateCancelled, "", StateDraft, StatePreviewed, StateQueued, StateRunning).Text()
	if err != nil {
		return nil, fmt.Errorf("broadcast: cancel: %w", err)
	}
	if strings.HasPrefix(res, "!") {
		want := "only an unfinished broadcast can be cancelled"
		if res[1:] == StateSending || res[1:] == StateSubmitted {
			want = "the mass send has already gone to WeChat"
		}
		return nil, stateErr(id, res[1:], want)
	}
	if err := s.rdb.HSet(ctx, s.jobKey(id), "cancelled_by", actor).Err(); err != nil {
		return nil, fmt.Errorf("broadcast: cancel: %w", err)
	}
	s.releaseQuota(ctx, id)
	if res == StateDraft || res == StatePreviewed {
		s.finishJob(ctx, id)
	}
	s.log.Info("broadcast cancelled", "job", id, "was", res, "by", actor)
	return s.Get(ctx, id)
}

// Get returns a job with its progress.
func (s *Service) Get(ctx context.Context, id string) (*Job, error) {
	if id == "" || strings.ContainsAny(id, "{}") {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	h, err := s.rdb.HGetAll(ctx, s.jobKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("broadcast: get %s: %w", id, err)
	}
	if h["meta"] == "" {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	var j Job
	if err := json.Unmarshal([]byte(h["meta"]), &j); err != nil {
		return nil, fmt.Errorf("broadcast: job %s: %w", id, err)
	}
	num := func(k string) int { n, _ := strconv.Atoi(h[k]); return n }
	ms := func(k string) time.Time {
		n, _ := strconv.ParseInt(h[k], 10, 64)
		if n == 0 {
			return time.Time{}
		}
		return time.UnixMilli(n)
	}
	j.State = h["state"]
	j.Total, j.Sent, j.Skipped, j.Failed, j.Cancelled = num("total"), num("sent"), num("skipped"), num("failed"), num("cancelled")
	j.Resent = num("resent")
	j.PreviewedBy, j.PreviewedAt = h["previewed_by"], ms("previewed_at")
	_ = json.Unmarshal([]byte(h["previewed_to"]), &j.PreviewedTo)
	j.ConfirmedBy, j.ConfirmedAt = h["confirmed_by"], ms("confirmed_at")
	j.CancelledBy, j.FinishedAt = h["cancelled_by"], ms("finished_at")
	j.Error = h["error"]
	j.MediaID = h["media_id"]
	j.MsgID, _ = strconv.ParseInt(h["msg_id"], 10, 64)
	if h["wechat"] != "" {
		j.WeChat = new(MassCounts)
		_ = json.Unmarshal([]byte(h["wechat"]), j.WeChat)
	}
	for k, v := range h {
		n, _ := strconv.Atoi(v)
		if r, ok := strings.CutPrefix(k, "skip:"); ok {
			if j.Skips == nil {
				j.Skips = map[string]int{}
			}
			j.Skips[r] = n
		} else if c, ok := strings.CutPrefix(k, "err:"); ok {
			if j.Errors == nil {
				j.Errors = map[string]int{}
			}
			j.Errors[c] = n
		}
	}
	return &j, nil
}

// List returns the newest jobs first, at most limit (default 50).
func (s *Service) List(ctx context.Context, limit int) ([]*Job, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	ids, err := s.rdb.ZRevRange(ctx, s.jobsKey(), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("broadcast: list: %w", err)
	}
	out := make([]*Job, 0, len(ids))
	for _, id := range ids {
		j, err := s.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// Results returns each recipient's result (openid → sent, skipped:REASON,
// failed:CODE, cancelled, or queued/sending while in progress).
func (s *Service) Results(ctx context.Context, id string) (map[string]string, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	r, err := s.rdb.HGetAll(ctx, s.rcptKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("broadcast: results: %w", err)
	}
	return r, nil
}

// MassFinished records WeChat's MASSSENDJOBFINISH counts on the job that
// made the mass send (bot.MassResultSink). It returns ErrNotFound for a
// mass send edubot did not make (e.g. one from the platform's editor).
func (s *Service) MassFinished(ctx context.Context, r bot.MassResult) error {
	id, err := s.rdb.Get(ctx, s.massKey(r.MsgID)).Result()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("%w: no broadcast made mass send %d", ErrNotFound, r.MsgID)
	}
	if err != nil {
		return fmt.Errorf("broadcast: mass finished: %w", err)
	}
	data, _ := json.Marshal(MassCounts(r))
	state := StateDone
	if r.SentCount == 0 && r.ErrorCount > 0 {
		state = StateFailed
	}
	fields := []any{"wechat", data, "state", state, "total", r.TotalCount,
		"sent", r.SentCount, "failed", r.ErrorCount, "skipped", r.TotalCount - r.SentCount - r.ErrorCount,
		"finished_at", s.now().UnixMilli()}
	if why := massStatusError(r.Status); why != "" {
		fields = append(fields, "error", why)
	}
	if err := s.rdb.HSet(ctx, s.jobKey(id), fields...).Err(); err != nil {
		return fmt.Errorf("broadcast: mass finished: %w", err)
	}
	s.log.Info("mass send finished", "job", id, "msg_id", r.MsgID, "status", r.Status, "sent", r.SentCount, "errors", r.ErrorCount)
	return nil
}

// --- quota ---

// quotaPeriod returns the quota key and limit for now.
func (s *Service) quotaPeriod(now time.Time) (key string, limit int) {
	local := now.In(s.o.Location)
	if s.o.AccountType == AccountService {
		return s.o.Prefix + "bc:quota:" + local.Format("2006-01"), 4
	}
	return s.o.Prefix + "bc:quota:" + local.Format("2006-01-02"), 1
}

func (s *Service) quotaUsed(ctx context.Context, now time.Time) (used, limit int, key string) {
	key, limit = s.quotaPeriod(now)
	used, _ = s.rdb.Get(ctx, key).Int()
	return used, limit, key
}

func (s *Service) quotaErr(key string, limit int) error {
	period := key[strings.LastIndex(key, ":")+1:]
	if s.o.AccountType == AccountService {
		return fmt.Errorf("%w: a service account (服务号) may mass-send %d times a month and %s's are used; send to subscribers instead, or wait for next month", ErrQuota, limit, period)
	}
	return fmt.Errorf("%w: a subscription account (订阅号) may mass-send once a day and today's (%s) is used; send to subscribers instead, or wait until tomorrow", ErrQuota, period)
}

var reserve = redis.NewScript(`
local n = tonumber(redis.call("GET", KEYS[1]) or "0")
if n >= tonumber(ARGV[1]) then return -1 end
n = redis.call("INCR", KEYS[1])
redis.call("EXPIRE", KEYS[1], ARGV[2])
return n`)

// reserveQuota takes one mass send of the current period, or refuses.
func (s *Service) reserveQuota(ctx context.Context) (string, error) {
	key, limit := s.quotaPeriod(s.now())
	n, err := reserve.Run(ctx, s.rdb, []string{key}, limit, int((40 * 24 * time.Hour).Seconds())).Int()
	if err != nil {
		return "", fmt.Errorf("broadcast: quota: %w", err)
	}
	if n < 0 {
		return "", s.quotaErr(key, limit)
	}
	return key, nil
}

var decrPositive = redis.NewScript(`
if tonumber(redis.call("GET", KEYS[1]) or "0") > 0 then return redis.call("DECR", KEYS[1]) end
return 0`)

func (s *Service) releaseQuotaKey(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := decrPositive.Run(context.WithoutCancel(ctx), s.rdb, []string{key}).Err(); err != nil {
		s.log.Warn("broadcast: release quota", "err", err)
	}
}

// releaseQuota gives back the mass send a job reserved, once.
func (s *Service) releaseQuota(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	key, err := s.rdb.HGet(ctx, s.jobKey(id), "quota_key").Result()
	if err != nil || key == "" {
		return
	}
	if n, err := s.rdb.HDel(ctx, s.jobKey(id), "quota_key").Result(); err == nil && n == 1 {
		s.releaseQuotaKey(ctx, key)
	}
}

// --- scripts shared with the workers ---

// transition moves the job (KEYS[1]) to ARGV[1] if it is in one of
// ARGV[3..], adding a work item with op ARGV[2] (if not "") to the queue
// (KEYS[2]). It returns the previous state, or "!STATE" when refused.
var transition = redis.NewScript(`
local s = redis.call("HGET", KEYS[1], "state")
if not s then return "!missing" end
for i = 3, #ARGV do
  if s == ARGV[i] then
    redis.call("HSET", KEYS[1], "state", ARGV[1])
    if ARGV[2] ~= "" then redis.call("XADD", KEYS[2], "*", "op", ARGV[2]) end
    -- A draft expires (Options.DraftTTL); a job past draft is kept.
    if ARGV[1] ~= "draft" and ARGV[1] ~= "previewed" then
      redis.call("PERSIST", KEYS[1])
      redis.call("PERSIST", KEYS[2])
    end
    return s
  end
end
return "!" .. s`)

func toAPI(a bot.Article) wxapi.Article {
	return wxapi.Article{Title: a.Title, Description: a.Description, URL: a.URL, PicURL: a.PicURL}
}

// newID is sortable by time and unique across replicas: b20261124-215701-3fa9c2.
func newID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "b" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// forgetScript removes one user from a job's recipient results, unless a
// worker still has the user queued or in flight (the marker is what keeps
// the send at most once; it goes with the job's 30-day results).
var forgetScript = redis.NewScript(`
local v = redis.call("HGET", KEYS[1], ARGV[1])
if not v then return 0 end
if v == "queued" or string.sub(v, 1, 8) == "sending:" then return 0 end
return redis.call("HDEL", KEYS[1], ARGV[1])
`)

// ForgetUser implements bot.Forgetter: when a user unsubscribes, their
// openid is removed from the recipient results of every job.
func (s *Service) ForgetUser(ctx context.Context, openid string) error {
	// Older jobs' results have expired (resultTTL after they ended); the
	// margin covers jobs that ran long.
	since := s.o.Now().Add(-2 * resultTTL).UnixMilli()
	ids, err := s.rdb.ZRangeByScore(ctx, s.jobsKey(), &redis.ZRangeBy{Min: strconv.FormatInt(since, 10), Max: "+inf"}).Result()
	if err != nil {
		return fmt.Errorf("broadcast: forget user: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	// One round trip, whatever the number of jobs.
	pipe := s.rdb.Pipeline()
	for _, id := range ids {
		forgetScript.Eval(ctx, pipe, []string{s.rcptKey(id)}, openid)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("broadcast: forget user: %w", err)
	}
	return nil
}
