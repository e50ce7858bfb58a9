package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/redisstore"
	"github.com/gdjysjyj/edubot/handlers/secure"
	"github.com/gdjysjyj/edubot/internal/limits"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

// Inbox is the staff's inbox of notes people left outside office hours
// (implemented by *redisstore.Store).
type Inbox interface {
	Threads(ctx context.Context, limit int) ([]redisstore.Thread, error)
	// Thread returns redisstore.ErrNoThread for a person with no open notes.
	Thread(ctx context.Context, openid string) (redisstore.Thread, error)
	AddReply(ctx context.Context, openid, staff, text string, at time.Time) error
	DoneNotes(ctx context.Context, openid string) error
}

// TextSender sends a customer-service text message (*wxapi.Client). Its
// errors match wxapi.ErrOutsideWindow, ErrTooManyMessages, ErrInvalidOpenID.
type TextSender interface {
	SendText(ctx context.Context, openid, text string) error
}

// NotesDeps is what the notes routes need.
type NotesDeps struct {
	Inbox Inbox
	// Sender replies through WeChat; nil (no app secret configured) turns
	// replies off: 503, the notes can still be read and handled.
	Sender TextSender
	Now    func() time.Time // the bot's clock (the time of a user's last message is on it); nil = time.Now
	Logger *slog.Logger
}

// ReplyWindow is how long after a user's last message WeChat accepts
// customer-service messages to that user.
const ReplyWindow = 48 * time.Hour

// RegisterNotes mounts the staff inbox on g (the group Register returns),
// for editors and publishers:
//
//	GET  /notes?limit=N        people with open notes, latest first
//	GET  /notes/:id            one person (id = openid)
//	POST /notes/:id/handled    done: the notes leave the inbox
//	POST /notes/:id/reply      {"text":"…","handled":false} a customer-service message
//
// Reply statuses: 400 empty or too long text, 404 no open notes, 422
// outside the 48-hour window or over WeChat's 5 messages (45015/45047) or
// the person no longer follows, 502 WeChat refused otherwise, 503 replies
// not configured.
func RegisterNotes(g *gin.RouterGroup, d NotesDeps) error {
	if d.Inbox == nil {
		return errors.New("admin: NotesDeps.Inbox is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &notes{d: d}
	n := g.Group("/notes", RequireRole(RoleEditor), secure.CapBody(limits.JSONBody))
	n.GET("", h.list)
	n.GET("/:id", h.get)
	n.POST("/:id/handled", h.handled)
	n.POST("/:id/reply", h.reply)
	return nil
}

type notes struct{ d NotesDeps }

// NoteProfile is what the person told the bot about themselves.
type NoteProfile struct {
	Region string `json:"region,omitempty"`
	Grade  string `json:"grade,omitempty"`
	Role   string `json:"role,omitempty"` // parents, teachers, students, staff
}

// NoteEntry is a message the person left, or a reply staff sent (By).
type NoteEntry struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
	By   string    `json:"by,omitempty"`
}

// NoteThread is one person in the inbox, as the API and the console show it.
type NoteThread struct {
	ID           string            `json:"id"` // the openid
	At           time.Time         `json:"at"` // the latest note
	Profile      NoteProfile       `json:"profile"`
	LastMessage  *time.Time        `json:"last_message,omitempty"`
	ReplyUntil   *time.Time        `json:"reply_until,omitempty"` // end of the 48-hour window
	CanReply     bool              `json:"can_reply"`
	Messages     []NoteEntry       `json:"messages"`
	Conversation []redisstore.Turn `json:"conversation"`
	Replies      []NoteEntry       `json:"replies"`
}

// ViewThread turns a stored thread into what staff see, at now.
func ViewThread(th redisstore.Thread, now time.Time) NoteThread {
	v := NoteThread{
		ID: th.OpenID, At: th.Latest,
		Profile:      NoteProfile{Region: th.Profile.Region, Grade: th.Profile.Grade, Role: th.Profile.Role},
		Messages:     []NoteEntry{},
		Conversation: th.Conversation,
		Replies:      []NoteEntry{},
	}
	if v.Conversation == nil {
		v.Conversation = []redisstore.Turn{}
	}
	for _, n := range th.Notes {
		v.Messages = append(v.Messages, NoteEntry{Text: n.Text, At: n.At})
	}
	for _, r := range th.Replies {
		v.Replies = append(v.Replies, NoteEntry{Text: r.Text, At: r.At, By: r.Staff})
	}
	if !th.LastMessage.IsZero() {
		last, until := th.LastMessage, th.LastMessage.Add(ReplyWindow)
		v.LastMessage, v.ReplyUntil = &last, &until
		v.CanReply = now.Before(until)
	}
	return v
}

// openidRe: WeChat openids are 28 characters of [A-Za-z0-9_-]; test ids
// are shorter. Anything else cannot be one.
var openidRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (h *notes) id(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if !openidRe.MatchString(id) {
		abort(c, http.StatusBadRequest, "id must be an openid (letters, digits, - and _, at most 64)", "id")
		return "", false
	}
	return id, true
}

func (h *notes) list(c *gin.Context) {
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			abort(c, http.StatusBadRequest, "limit must be a number from 1 to 1000", "limit")
			return
		}
		limit = n
	}
	ths, err := h.d.Inbox.Threads(c.Request.Context(), limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	now := h.d.Now()
	out := make([]NoteThread, 0, len(ths))
	for _, th := range ths {
		out = append(out, ViewThread(th, now))
	}
	c.JSON(http.StatusOK, gin.H{"notes": out, "replies_enabled": h.d.Sender != nil})
}

func (h *notes) get(c *gin.Context) {
	id, ok := h.id(c)
	if !ok {
		return
	}
	th, err := h.d.Inbox.Thread(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ViewThread(th, h.d.Now()))
}

func (h *notes) handled(c *gin.Context) {
	id, ok := h.id(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if _, err := h.d.Inbox.Thread(ctx, id); err != nil {
		h.fail(c, err)
		return
	}
	if err := h.d.Inbox.DoneNotes(ctx, id); err != nil {
		h.fail(c, err)
		return
	}
	h.audit(c, "handled", id, nil)
	c.JSON(http.StatusOK, gin.H{"id": id, "handled": true})
}

// ReplyRequest is the body of POST /notes/:id/reply.
type ReplyRequest struct {
	Text    string `json:"text"`
	Handled bool   `json:"handled"` // also mark the notes handled once sent
}

// ErrRepliesOff: no WeChat API credentials, so no customer-service messages.
var ErrRepliesOff = errors.New("replies need the WeChat API: set wechat.app_id and EDUBOT_WECHAT_APP_SECRET")

// ErrOutsideWindow: the person's last message is more than 48 hours old
// (or unknown); WeChat would refuse with 45015.
var ErrOutsideWindow = errors.New("the person last wrote more than 48 hours ago: WeChat accepts no customer-service message now; call them or wait until they write again")

// errSend marks an error of the WeChat call (502 unless it is one of
// WeChat's answers about the person).
var errSend = errors.New("sending through WeChat")

// ReplyNote sends text to the person through the customer-service API and
// records it in the thread (and, with handled, closes the thread). It is
// the API's and the console's one way to reply. Errors: a *FieldError-like
// bad request (text), redisstore.ErrNoThread, ErrOutsideWindow,
// ErrRepliesOff, or the sender's (wxapi) error.
func ReplyNote(ctx context.Context, d NotesDeps, id, staff string, req ReplyRequest) (redisstore.Thread, error) {
	text := strings.TrimSpace(req.Text)
	if text == "" {
		return redisstore.Thread{}, bad("text", "text: write the reply")
	}
	if len(text) > bot.MaxTextBytes {
		return redisstore.Thread{}, bad("text", "text: at most %d bytes (about %d Chinese characters), got %d", bot.MaxTextBytes, bot.MaxTextBytes/3, len(text))
	}
	if !utf8.ValidString(text) {
		return redisstore.Thread{}, bad("text", "text: not valid UTF-8")
	}
	if d.Sender == nil {
		return redisstore.Thread{}, ErrRepliesOff
	}
	now := d.Now()
	th, err := d.Inbox.Thread(ctx, id)
	if err != nil {
		return th, err
	}
	if th.LastMessage.IsZero() || !now.Before(th.LastMessage.Add(ReplyWindow)) {
		return th, ErrOutsideWindow
	}
	if err := d.Sender.SendText(ctx, id, text); err != nil {
		return th, fmt.Errorf("%w: %w", errSend, err)
	}
	// Sent: recording it must not fail the request (the message is out).
	rctx := context.WithoutCancel(ctx)
	if err := d.Inbox.AddReply(rctx, id, staff, text, now); err != nil && !errors.Is(err, redisstore.ErrNoThread) {
		d.Logger.Warn("notes: reply sent but not recorded in the thread", "err", err)
	}
	if req.Handled {
		if err := d.Inbox.DoneNotes(rctx, id); err != nil {
			d.Logger.Warn("notes: reply sent but the notes not marked handled", "err", err)
		}
	}
	if th2, err := d.Inbox.Thread(rctx, id); err == nil {
		th = th2
	} else {
		th.Replies = append(th.Replies, redisstore.Entry{Text: text, At: now, Staff: staff})
	}
	return th, nil
}

func (h *notes) reply(c *gin.Context) {
	id, ok := h.id(c)
	if !ok {
		return
	}
	var req ReplyRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(c, err)
			return
		}
		msg := "body must be a JSON object {\"text\":\"…\"}"
		if errors.Is(err, io.EOF) {
			msg = "body is empty; want {\"text\":\"…\"}"
		}
		abort(c, http.StatusBadRequest, msg, "body")
		return
	}
	th, err := ReplyNote(c.Request.Context(), h.d, id, Actor(c), req)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.audit(c, "reply", id, gin.H{"text": strings.TrimSpace(req.Text), "handled": req.Handled})
	c.JSON(http.StatusOK, ViewThread(th, h.d.Now()))
}

func (h *notes) audit(c *gin.Context, action, id string, after any) {
	if err := Record(c, action, "note", id, nil, after); err != nil {
		h.d.Logger.Warn("notes audit", "action", action, "err", err)
	}
}

// NoteStatus maps a notes error to an HTTP status and a message for
// staff (the console uses it too); 500 for the unexpected.
func NoteStatus(err error) (int, string) {
	var be *badRequest
	var ae *wxapi.APIError
	switch {
	case errors.As(err, &be):
		return http.StatusBadRequest, be.msg
	case errors.Is(err, redisstore.ErrNoThread):
		return http.StatusNotFound, "no open notes from this person (already handled, or they unfollowed)"
	case errors.Is(err, ErrOutsideWindow):
		return http.StatusUnprocessableEntity, ErrOutsideWindow.Error()
	case errors.Is(err, wxapi.ErrOutsideWindow):
		return http.StatusUnprocessableEntity, "WeChat refused (45015): the person has not written within 48 hours"
	case errors.Is(err, wxapi.ErrTooManyMessages):
		return http.StatusUnprocessableEntity, "WeChat refused (45047): 5 messages have been sent since the person last wrote; wait until they write again"
	case errors.Is(err, wxapi.ErrInvalidOpenID):
		return http.StatusUnprocessableEntity, "WeChat refused (40003): the person no longer follows the account"
	case errors.Is(err, ErrRepliesOff):
		return http.StatusServiceUnavailable, ErrRepliesOff.Error()
	case errors.As(err, &ae):
		return http.StatusBadGateway, fmt.Sprintf("WeChat refused the message: %v", ae)
	case errors.Is(err, errSend) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		return http.StatusBadGateway, "WeChat could not be reached; try again"

	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timed out; try again"
	}
	return http.StatusInternalServerError, "internal error; see the service log"
}

func (h *notes) fail(c *gin.Context, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		abort(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", mbe.Limit), "")
		return
	}
	status, msg := NoteStatus(err)
	field := ""
	var be *badRequest
	if errors.As(err, &be) {
		field = be.field
	}
	switch {
	case status == http.StatusBadGateway:
		h.d.Logger.Warn("notes: WeChat refused a reply", "errcode", wxapi.Code(err), "err", err)
	case status == http.StatusInternalServerError:
		h.d.Logger.Error("notes API", "method", c.Request.Method, "path", c.FullPath(), "actor", Actor(c), "err", err)
	}
	abort(c, status, msg, field)
}
