// Package bot turns a user's message into a reply: matching against the
// content, dialogue (choices, follow-ups, clarifying questions), profiles,
// subscriptions, hand-off and sessions. It knows no HTTP, XML or SDK types;
// the stores it needs are interfaces declared here.
package bot

import (
	"context"
	"time"
)

// Message is one inbound message or event from a user, already decrypted
// and parsed by the webhook.
type Message struct {
	MsgID      string    // MsgId of an ordinary message; MsgID of a mass-send event; "" for other events
	User       string    // FromUserName: the user's openid
	Account    string    // ToUserName: the account's original id
	Type       string    // text, voice, image, video, shortvideo, location, link, event
	Text       string    // text content, or the voice Recognition
	Event      string    // for Type "event": subscribe, unsubscribe, CLICK, VIEW, SCAN, MASSSENDJOBFINISH, ...
	EventKey   string    // CLICK key, VIEW url, qrscene_… on subscribe
	CreateTime time.Time // CreateTime as sent by WeChat (seconds)
	Mass       *MassResult
}

// MassResult is what a MASSSENDJOBFINISH event reports.
type MassResult struct {
	MsgID       int64
	Status      string
	TotalCount  int
	FilterCount int
	SentCount   int
	ErrorCount  int
}

// Message types and events the bot distinguishes.
const (
	TypeText       = "text"
	TypeVoice      = "voice"
	TypeImage      = "image"
	TypeVideo      = "video"
	TypeShortVideo = "shortvideo"
	TypeLocation   = "location"
	TypeLink       = "link"
	TypeEvent      = "event"

	EventSubscribe   = "subscribe"
	EventUnsubscribe = "unsubscribe"
	EventClick       = "CLICK"
	EventView        = "VIEW"
	EventScan        = "SCAN"
	EventMassFinish  = "MASSSENDJOBFINISH"
)

// ReplyKind says what the webhook must send back.
type ReplyKind int

const (
	// ReplyNone: answer "success" (no reply, no retry).
	ReplyNone ReplyKind = iota
	// ReplyText: a text message (Text), at most MaxTextBytes.
	ReplyText
	// ReplyNews: a news card with one article (Article).
	ReplyNews
	// ReplyTransfer: hand the message to human agents (transfer_customer_service).
	ReplyTransfer
)

// MaxTextBytes is WeChat's limit for a passive text reply.
const MaxTextBytes = 2048

// Article is one news card.
type Article struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	PicURL      string `json:"pic_url,omitempty"`
	URL         string `json:"url"`
}

// Reply is what the bot answers. Answer and IDs say what produced it, for
// metrics, logs and the staff's statistics.
type Reply struct {
	Kind    ReplyKind `json:"kind"`
	Text    string    `json:"text,omitempty"`
	Article *Article  `json:"article,omitempty"`

	Answer string   `json:"answer,omitempty"` // one of the Answer* constants
	IDs    []string `json:"ids,omitempty"`    // content ids shown, best first

	// Duplicate is set when this reply answers a retry of a message or
	// event with the reply stored for its first delivery (metrics: retries
	// de-duplicated). Never stored.
	Duplicate bool `json:"-"`
	// Degraded is set when the store was slow or down and the reply came
	// from content alone, without memory (metrics, logs). Never stored.
	Degraded bool `json:"-"`
}

// What produced a reply (Reply.Answer); also the "kind" label of metrics.
const (
	AnswerRule     = "rule"
	AnswerFAQ      = "faq"
	AnswerNotice   = "notice"
	AnswerChoices  = "choices"
	AnswerSuggest  = "suggest" // "did you mean": a short list below the confident threshold
	AnswerFallback = "fallback"
	AnswerDialog   = "dialog" // profile, subscriptions, paging, clarifying, hand-off…
	AnswerEvent    = "event"  // welcome, menu click, media, …
	AnswerNone     = "none"   // nothing said ("success")
	// AnswerOutOfScope: the message is not for the bureau's content (about
	// the bot, one person's records, another service or another city); the
	// reply says so kindly and where to ask.
	AnswerOutOfScope = "out_of_scope"
)

// Interfaces the bot needs from other parts, declared here where they are
// used (implementations: stats/, broadcast/).

// Recorder keeps what people asked, for the staff's statistics: every
// answer's ids, every fallback's and every "did you mean" offer's question
// as the person typed it (text; staff read it, so not a normalised form
// nobody typed). user is the openid; implementations must store only a
// hash of it. Failures are the recorder's to log; they never change the
// reply.
type Recorder interface {
	Record(ctx context.Context, user, text string, r Reply, at time.Time)
}

// PickRecorder is implemented by recorders that also keep which item of a
// numbered list a person opened: a pick is evidence that the question
// means that item (staff may add it to the FAQ as an alternate).
type PickRecorder interface {
	Picked(ctx context.Context, user string, p Pick, at time.Time)
}

// Pick is one item opened from a numbered list.
type Pick struct {
	Query      string   `json:"query"`      // the question the list answered, as the person typed it
	Normalized string   `json:"normalized"` // its normalised form: picks are counted per (Normalized, ID)
	Offered    []string `json:"offered"`    // ids of the list, in order
	ID         string   `json:"id"`         // the item opened
	Position   int      `json:"position"`   // its number in the list, from 1
	Suggest    bool     `json:"suggest"`    // the list was a "did you mean" (猜你想问)
}

// MassResultSink receives WeChat's MASSSENDJOBFINISH counts for a
// broadcast job.
type MassResultSink interface {
	MassFinished(ctx context.Context, r MassResult) error
}

// Subscriber is a user subscribed to a tag, with the time of the user's
// last message (customer-service messages are allowed within 48 hours).
type Subscriber struct {
	OpenID       string
	SubscribedAt time.Time
	LastMessage  time.Time
}

// Forgetter deletes what another part of edubot keeps about a user, when
// the user unsubscribes (WeChat's rules require it).
type Forgetter interface {
	ForgetUser(ctx context.Context, openid string) error
}
