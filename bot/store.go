package bot

import (
	"context"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search"
)

// Matcher is what the bot needs from the search index (implemented by
// *search.Engine). It must be safe for concurrent use.
type Matcher interface {
	// Match answers q; with q.Analysis set (AnalyzeAt's reading of q.Text
	// at q.Now) it does not analyse the text again.
	Match(ctx context.Context, q search.Query) search.Result
	// AnalyzeAt reads text on its own, "today" being now: the one
	// analysis of a message that every decision of a turn reads.
	AnalyzeAt(text string, now time.Time) search.Analysis
	Notice(id string) *content.Notice
	FAQ(id string) *content.FAQ
	Rule(id string) *content.Rule
	Tags() []string    // topics people can subscribe to
	Regions() []string // regions named by the content
}

// Store keeps everything the bot remembers about users. Every method may
// return an error when the store is slow or down; the bot then answers from
// content alone. Implementation: bot/redisstore.
type Store interface {
	Deduper
	RateLimiter
	SessionStore
	ProfileStore
	SubscriptionStore
	HandoffStore
	// Forget deletes every piece of state about the user (unsubscribe).
	Forget(ctx context.Context, user string) error
}

// Deduper remembers the replies to WeChat's retries. id identifies one
// delivery of a user's message or event (see Handle).
type Deduper interface {
	// Claim marks the delivery as being handled for ttl; it reports false
	// when another delivery of the same message claimed it first.
	Claim(ctx context.Context, user, id string, ttl time.Duration) (bool, error)
	// Finish stores the reply given to the first delivery for ttl.
	Finish(ctx context.Context, user, id string, r Reply, ttl time.Duration) error
	// Result returns the stored reply; done is false while the first
	// delivery is still being handled (or its claim has lapsed).
	Result(ctx context.Context, user, id string) (r Reply, done bool, err error)
}

// RateLimiter counts a user's messages.
type RateLimiter interface {
	// Allow reports whether one more message fits in perMinute.
	Allow(ctx context.Context, user string, perMinute int) (bool, error)
}

// SessionStore keeps the conversation of one user.
type SessionStore interface {
	// Load returns the user's session, profile and hand-off state in one
	// round trip, and records now as the time of the user's last message
	// (kept for seenTTL: broadcasts may only send customer-service
	// messages within 48 hours of it).
	Load(ctx context.Context, user string, now time.Time, seenTTL time.Duration) (State, error)
	// SaveSession replaces the session; it expires after ttl.
	SaveSession(ctx context.Context, user string, s Session, ttl time.Duration) error
}

// ProfileStore keeps what a user said about themselves.
type ProfileStore interface {
	SaveProfile(ctx context.Context, user string, p Profile, ttl time.Duration) error
	DeleteProfile(ctx context.Context, user string) error
}

// SubscriptionStore keeps topic subscriptions, per user and per tag (the
// broadcast reads the per-tag side).
type SubscriptionStore interface {
	Subscribe(ctx context.Context, user, tag string, at time.Time, ttl time.Duration) error
	Unsubscribe(ctx context.Context, user, tag string) error
	// Subscriptions lists the user's tags, sorted.
	Subscriptions(ctx context.Context, user string) ([]string, error)
}

// HandoffStore keeps the hand-off to a person.
type HandoffStore interface {
	// StartHandoff makes the bot silent for the user for ttl.
	StartHandoff(ctx context.Context, user string, at time.Time, ttl time.Duration) error
	EndHandoff(ctx context.Context, user string) error
	// LeaveNote records a question for staff (outside office hours).
	LeaveNote(ctx context.Context, user string, n Note, ttl time.Duration) error
}

// State is what Load returns.
type State struct {
	Session Session   // zero when there is none
	Profile Profile   // zero when there is none
	Handoff time.Time // when the user was handed off to a person (zero: not); silent for Config.HandoffTTL
}

// Session is the short-term memory of a conversation.
type Session struct {
	At    time.Time `json:"at"`              // last update; the context fades after Config.ContextTTL
	Query string    `json:"query,omitempty"` // the last question as matched
	// Asked and Norm are the question a list answered as the person typed
	// it and normalised ("" after a follow-up: nobody typed the question
	// matched); a pick from the list is recorded with them.
	Asked string `json:"asked,omitempty"`
	Norm  string `json:"norm,omitempty"`
	// Suggest: List is a "did you mean" (猜你想问).
	Suggest bool   `json:"suggest,omitempty"`
	Topic   string `json:"topic,omitempty"`  // that question without region and grade words
	Region  string `json:"region,omitempty"` // region the last question was about
	Grade   string `json:"grade,omitempty"`  // grade the last question was about
	List    []Item `json:"list,omitempty"`   // candidates for numbered choices
	Shown   int    `json:"shown,omitempty"`  // how many of List have been shown (numbered 1..Shown)
	// Clarify is an open clarifying question.
	Clarify *Clarify `json:"clarify,omitempty"`
	// Note: outside office hours the user was asked to leave a message.
	Note bool `json:"note,omitempty"`
}

// Item is one numbered choice.
type Item struct {
	Kind  search.Kind `json:"kind"`
	ID    string      `json:"id"`
	Title string      `json:"title"`
}

// Clarify is a clarifying question waiting for its answer.
type Clarify struct {
	Query   string   `json:"query"`   // the original question
	Dim     string   `json:"dim"`     // "region" or "grade"
	Options []string `json:"options"` // numbered 1..n
	Items   []Item   `json:"items"`   // the candidates the question splits
	Attrs   []string `json:"attrs"`   // Items[i]'s region or grade
}

// Profile is what a user told about themselves; it is remembered for
// Config.ProfileTTL and used to rank answers.
type Profile struct {
	Region string    `json:"region,omitempty"`
	Grade  string    `json:"grade,omitempty"`
	Role   string    `json:"role,omitempty"` // parents, teachers, students, staff
	At     time.Time `json:"at,omitzero"`
}

// Empty reports whether nothing is stored.
func (p Profile) Empty() bool { return p.Region == "" && p.Grade == "" && p.Role == "" }

// Note is a question left for staff when nobody is on duty.
type Note struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// TurnStore is implemented by stores that do the usual work of a turn in
// two round trips: Begin before matching, End after it (bot/redisstore
// does). With other stores the bot makes the single calls of Store.
type TurnStore interface {
	// Begin does, in this order and each only when the previous step let
	// the message through: Deduper.Claim of req.ID (when it is not ""),
	// RateLimiter.Allow (when req.PerMinute > 0) and SessionStore.Load
	// (when req.Load is set).
	Begin(ctx context.Context, user string, req BeginTurn) (Begun, error)
	// End saves the session (when e.Session is not nil) and the reply for
	// retries of delivery e.ID (when it is not "").
	End(ctx context.Context, user string, e EndTurn) error
}

// BeginTurn says what TurnStore.Begin must do.
type BeginTurn struct {
	ID        string        // delivery to claim; "" = none
	DedupTTL  time.Duration // how long the claim and the stored reply live
	PerMinute int           // rate limit; 0 = not counted
	Load      bool          // read the state and record the time of the message
	Now       time.Time     // for Load
	SeenTTL   time.Duration // for Load
}

// Begun is what TurnStore.Begin found.
type Begun struct {
	// Claimed is false when another delivery of the message claimed it
	// first; Done and Reply then hold its reply, if it was stored already.
	Claimed bool
	Done    bool
	Reply   Reply
	// Rated: the rate limit was applied; Allowed: the message fits.
	Rated   bool
	Allowed bool
	// Loaded: State was read (and the time of the message recorded).
	Loaded bool
	State  State
}

// EndTurn says what TurnStore.End must write.
type EndTurn struct {
	Session    *Session // nil: the session is left as it is
	SessionTTL time.Duration
	ID         string // delivery whose reply retries get; "" = none
	Reply      Reply
	DedupTTL   time.Duration
	// Said is what the user sent (text, or a voice message's recognition)
	// at Now: the store keeps the last few turns for SessionTTL, so a note
	// left for staff shows the conversation before it.
	Said string
	Now  time.Time
}
