// Package broadcast pushes a published notice to the people who need it,
// within WeChat's rules: customer-service news messages to the subscribers
// of the notice's tags who wrote within 48 hours, or a mass send (群发) to a
// user tag or to every follower after a preview and a publisher's
// confirmation. A broadcast is a job in Redis processed by workers on any
// replica: rate limited, idempotent per recipient, resumable after a crash
// and cancellable, with its progress and results kept on the job.
package broadcast

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

// Channels a broadcast goes through.
const (
	ChannelSubscribers = "subscribers" // customer-service news to subscribers of the notice's tags
	ChannelTag         = "tag"         // mass send to a WeChat user tag
	ChannelAll         = "all"         // mass send to every follower
)

// States of a job.
const (
	StateDraft     = "draft"     // created; a mass send waits for its preview
	StatePreviewed = "previewed" // preview sent; waits for a publisher's confirmation
	StateQueued    = "queued"    // confirmed; waits for a worker
	StateRunning   = "running"   // subscribers: being sent
	StateSending   = "sending"   // mass: the sendall call is being made
	StateSubmitted = "submitted" // mass: WeChat accepted it; waits for MASSSENDJOBFINISH
	StateDone      = "done"
	StateCancelled = "cancelled"
	StateFailed    = "failed"
)

// Account types (config wechat.account_type) and their mass-send quotas.
const (
	AccountSubscription = "subscription" // 订阅号: 1 mass send a day
	AccountService      = "service"      // 服务号: 4 mass sends a month
)

// Skip reasons counted in Job.Skips.
const (
	SkipOutsideWindow = "outside_48h" // the user has not written within 48 hours (or WeChat said 45015)
	SkipUserQuota     = "user_quota"  // 5 customer-service messages since the user's last message (or 45047)
)

// Job is one broadcast and its progress.
type Job struct {
	ID      string `json:"id"`
	Notice  string `json:"notice"`
	Channel string `json:"channel"`
	Tag     string `json:"tag,omitempty"`    // subscribers: the notice's tags; tag: the WeChat tag's name
	TagID   int    `json:"tag_id,omitempty"` // tag: the WeChat tag id
	State   string `json:"state"`

	Article bot.Article `json:"article"`        // what a subscriber receives
	Text    string      `json:"text,omitempty"` // what a mass send says as text
	// Format of a mass send: FormatNews (图文, when the notice has a cover)
	// or FormatText; MediaID is the draft a 图文 mass send sends.
	Format  string `json:"format,omitempty"`
	MediaID string `json:"media_id,omitempty"`

	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	PreviewedBy string    `json:"previewed_by,omitempty"`
	PreviewedTo []string  `json:"previewed_to,omitempty"`
	PreviewedAt time.Time `json:"previewed_at,omitzero"`
	ConfirmedBy string    `json:"confirmed_by,omitempty"`
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	CancelledBy string    `json:"cancelled_by,omitempty"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`

	Total     int            `json:"total"`
	Sent      int            `json:"sent"`
	Skipped   int            `json:"skipped"`
	Failed    int            `json:"failed"`
	Cancelled int            `json:"cancelled"`
	Resent    int            `json:"resent,omitempty"` // interrupted recipients queued again (ResendInterrupted)
	Skips     map[string]int `json:"skips,omitempty"`  // reason → count
	Errors    map[string]int `json:"errors,omitempty"` // WeChat errcode (or "network", "interrupted") → count

	Error  string      `json:"error,omitempty"`  // why the job failed
	MsgID  int64       `json:"msg_id,omitempty"` // mass: WeChat's msg_id
	WeChat *MassCounts `json:"wechat,omitempty"` // mass: MASSSENDJOBFINISH counts
}

// MassCounts is what WeChat reported when a mass send finished.
type MassCounts struct {
	MsgID       int64  `json:"msg_id"`
	Status      string `json:"status"`
	TotalCount  int    `json:"total_count"`
	FilterCount int    `json:"filter_count"`
	SentCount   int    `json:"sent_count"`
	ErrorCount  int    `json:"error_count"`
}

// Mass reports whether the job is a mass send.
func (j *Job) Mass() bool { return j.Channel == ChannelTag || j.Channel == ChannelAll }

// Errors the service returns; handlers map them to HTTP statuses.
var (
	ErrNotFound = errors.New("no such broadcast")
	ErrState    = errors.New("broadcast is not in a state that allows this")
	ErrQuota    = errors.New("mass-send quota used up")
	ErrWeChat   = errors.New("WeChat API call failed") // wraps the *wxapi.APIError or network error too
)

// FieldError is bad input: Field names the request field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// stateErr says what state the job is in and what it needed.
func stateErr(id, state, want string) error {
	return fmt.Errorf("%w: broadcast %s is %s; %s", ErrState, id, state, want)
}

// Interfaces the service needs, declared here where they are used.

// API is the part of the WeChat API a broadcast uses (*wxapi.Client).
type API interface {
	SendNews(ctx context.Context, openid string, a wxapi.Article) error
	MassSendText(ctx context.Context, to wxapi.MassTarget, text, clientMsgID string) (int64, error)
	MassPreviewText(ctx context.Context, openid, text string) error
	UploadThumb(ctx context.Context, filename string, data []byte) (string, error)
	UploadImage(ctx context.Context, filename string, data []byte) (string, error)
	AddDraft(ctx context.Context, articles []wxapi.DraftArticle) (string, error)
	MassSendNews(ctx context.Context, to wxapi.MassTarget, mediaID string, ignoreReprint bool, clientMsgID string) (int64, error)
	MassPreviewNews(ctx context.Context, openid, mediaID string) error
	Tags(ctx context.Context) ([]wxapi.Tag, error)
}

// Notices looks up a notice by id (*search.Engine); nil if there is none.
type Notices interface {
	Notice(id string) *content.Notice
}

// Subscribers lists the subscribers of a tag with the time of their last
// message (bot/redisstore).
type Subscribers interface {
	Subscribers(ctx context.Context, tag string) ([]bot.Subscriber, error)
}

var (
	_ bot.MassResultSink = (*Service)(nil)
	_ bot.Forgetter      = (*Service)(nil)
)
