// Package admin is the staff's JSON API under /admin/api: bearer-token
// authentication with roles (editor, publisher), content CRUD for notices,
// FAQs, rules and synonym groups, article import to a draft, export and
// import of whole content sets, what people asked, and the audit log.
//
// Statuses: 401 without a valid token, 403 for a token without the role,
// 400 for malformed input (the message names the field), 404 unknown id,
// 409 for a change the content set cannot take (duplicate id, a reference
// to nothing, deleting what others refer to), 413 for a body too large.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/importer"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/secure"
	"github.com/gdjysjyj/edubot/internal/limits"
	"github.com/gdjysjyj/edubot/stats"
)

// BasePath is where the API is mounted.
const BasePath = "/admin/api"

// Deps is what the API needs.
type Deps struct {
	Store  *store.Store     // runtime content (required)
	Stats  *stats.Recorder  // what people asked (required)
	Tokens []string         // config Admin.Tokens: "name:role:token"
	Logger *slog.Logger     // nil = discard
	Now    func() time.Time // "today" for drafts' dates without a year; nil = time.Now
	// Import tunes article import: default Source for pages naming no
	// publisher, and Segment (the search engine's segmenter, so the
	// importer loads no word list of its own).
	Import importer.Options
	// Location for statistics' days; nil = Asia/Shanghai.
	Location *time.Location
	// Fails limits failed authentications (nil: 10 per 5 minutes per
	// client address and per token name).
	Fails *secure.FailLimiter
	// MaxBody bounds request bodies (an uploaded set; items and pages have
	// smaller limits of their own); default limits.UploadBody (16 MiB).
	MaxBody int64
	// Pprof mounts Go's profiles at BasePath+PprofPath for publishers
	// (config admin.pprof; off by default).
	Pprof bool
}

type api struct {
	Deps
	log *slog.Logger

	dfMu      sync.Mutex
	dfVersion int64
	docFreq   func(string) (int, int)
}

// Register mounts the API on r under /admin/api and returns the
// authenticated group, so other packages add their routes behind the same
// tokens (e.g. grp.POST("/broadcasts", admin.RequireRole(admin.RolePublisher), h)).
// It fails on malformed token entries. With no tokens every request gets 401.
func Register(r *gin.Engine, d Deps) (*gin.RouterGroup, error) {
	if d.Store == nil || d.Stats == nil {
		return nil, errors.New("admin: Deps.Store and Deps.Stats are required")
	}
	auth, err := NewAuth(d.Tokens)
	if err != nil {
		return nil, err
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	auth.Log = d.Logger
	if d.Fails != nil {
		auth.Fails = d.Fails
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxBody <= 0 {
		d.MaxBody = limits.UploadBody
	}
	if d.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		d.Location = loc
	}
	if auth.Len() == 0 {
		d.Logger.Warn("admin API: no tokens configured (EDUBOT_ADMIN_TOKENS); every request is refused")
	}
	a := &api{Deps: d, log: d.Logger}
	g := r.Group(BasePath, secure.Headers(secure.CSPAPI), secure.CapBody(a.MaxBody), auth.Authenticate(d.Store.Audit()))
	ed := RequireRole(RoleEditor)

	g.GET("/whoami", ed, func(c *gin.Context) {
		v, _ := c.Get(ctxIdentity)
		c.JSON(http.StatusOK, v)
	})
	a.crud(g.Group("/notices", ed), store.KindNotice)
	a.crud(g.Group("/faqs", ed), store.KindFAQ)
	g.POST("/faqs/:id/alternates", ed, secure.CapBody(limits.JSONBody), a.addAlternate)
	a.crud(g.Group("/rules", ed), store.KindRule)
	a.crud(g.Group("/synonyms", ed), store.KindSynonym)
	g.POST("/import", ed, a.importDraft)
	g.GET("/export", ed, a.export)
	g.POST("/import-set", ed, a.importSet)
	g.GET("/stats/unanswered", ed, a.unanswered)
	g.GET("/stats/hits", ed, a.hits)
	g.GET("/stats/suggested", ed, a.suggested)
	g.GET("/stats/picks", ed, a.picks)
	g.GET("/audit", ed, a.audit)
	if d.Pprof {
		mountPprof(g)
	}
	return g, nil
}

// apiError is every error body: a message, and the field (or file and
// line) it is about when known.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	ID    string `json:"id,omitempty"`
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
}

func abort(c *gin.Context, status int, msg, field string) {
	c.AbortWithStatusJSON(status, apiError{Error: msg, Field: field})
}

// fail maps an error to a status; only unexpected ones are logged (once,
// here at the edge) and hidden behind a generic message.
func (a *api) fail(c *gin.Context, err error) {
	var (
		fe  *content.FieldError
		le  *content.LoadError
		mbe *http.MaxBytesError
		be  *badRequest
	)
	lim, tooMuch := limits.As(err)
	switch {
	case tooMuch:
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, apiError{Error: lim.Error(), Field: "body"})
	case errors.As(err, &mbe):
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("body over %d bytes", mbe.Limit)})
	case errors.As(err, &be):
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: be.msg, Field: be.field})
	case errors.As(err, &le):
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: le.Error(), Field: le.Field, ID: le.ID, File: le.File, Line: le.Line})
	case errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrExists):
		body := apiError{Error: err.Error()}
		if errors.As(err, &fe) {
			body.Field, body.ID = fe.Field, fe.ID
		}
		c.AbortWithStatusJSON(http.StatusConflict, body)
	case errors.As(err, &fe):
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: fe.Error(), Field: fe.Field, ID: fe.ID})
	case errors.Is(err, store.ErrNotFound):
		c.AbortWithStatusJSON(http.StatusNotFound, apiError{Error: err.Error()})
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, apiError{Error: "timed out; try again"})
	default:
		a.log.Error("admin API", "method", c.Request.Method, "path", c.FullPath(), "actor", Actor(c), "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, apiError{Error: "internal error; see the service log"})
	}
}

// badRequest is malformed input that names its field.
type badRequest struct{ field, msg string }

func (e *badRequest) Error() string { return e.msg }

func bad(field, format string, args ...any) error {
	return &badRequest{field: field, msg: fmt.Sprintf(format, args...)}
}

// parseDay reads a query parameter as YYYY-MM-DD (a whole day in the
// bureau's time zone) or RFC 3339; end selects the day's end.
func (a *api) parseDay(c *gin.Context, name string, end bool) (time.Time, error) {
	s := strings.TrimSpace(c.Query(name))
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(content.DateLayout, s, a.Location); err == nil {
		if end {
			t = t.AddDate(0, 0, 1).Add(-time.Second)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, bad(name, "%s: want YYYY-MM-DD or RFC 3339, got %q", name, s)
}
