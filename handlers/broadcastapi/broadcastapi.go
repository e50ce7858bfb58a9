// Package broadcastapi is the admin HTTP API of broadcasts
// (/admin/api/broadcasts): create, list, progress, preview, confirm,
// cancel and resend to interrupted recipients, for tokens with the
// publisher role. It maps the broadcast service's errors to HTTP
// statuses; authentication and the audit log come from the admin API as
// functions, so this package does not depend on how they are built.
package broadcastapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/broadcast"
	"github.com/gdjysjyj/edubot/handlers/secure"
	"github.com/gdjysjyj/edubot/internal/limits"
	"github.com/gdjysjyj/edubot/internal/wxapi"
)

// RolePublisher is the role every broadcast route requires.
const RolePublisher = "publisher"

// Deps are what the routes need. RequireRole, Actor and Audit are
// handlers/admin's RequireRole, Actor and Record.
type Deps struct {
	Service     *broadcast.Service
	RequireRole func(role string) gin.HandlerFunc
	Actor       func(c *gin.Context) string
	Audit       func(c *gin.Context, action, kind, item string, before, after any) error
	Logger      *slog.Logger
}

// Register mounts the routes on g (the authenticated /admin/api group):
//
//	POST /broadcasts               {"notice":"ID","to":"subscribers|all|tag:NAME"} → 201 job (draft)
//	GET  /broadcasts?limit=N       newest first
//	GET  /broadcasts/:id           the job with its progress
//	GET  /broadcasts/:id/results   each recipient's result
//	POST /broadcasts/:id/preview   {"openids":["…"]} (optional: default broadcast.preview_openids)
//	POST /broadcasts/:id/confirm   queue it for sending
//	POST /broadcasts/:id/cancel
//	POST /broadcasts/:id/resend-interrupted   a finished broadcast to subscribers: send again to
//	                                          the recipients a killed process left interrupted
func Register(g *gin.RouterGroup, d Deps) error {
	if d.Service == nil || d.RequireRole == nil || d.Actor == nil {
		return errors.New("broadcastapi: Service, RequireRole and Actor are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{d: d}
	b := g.Group("/broadcasts", d.RequireRole(RolePublisher), secure.CapBody(limits.JSONBody))
	b.POST("", h.create)
	b.GET("", h.list)
	b.GET("/:id", h.get)
	b.GET("/:id/results", h.results)
	b.POST("/:id/preview", h.preview)
	b.POST("/:id/confirm", h.confirm)
	b.POST("/:id/cancel", h.cancel)
	b.POST("/:id/resend-interrupted", h.resendInterrupted)
	return nil
}

type handler struct{ d Deps }

// apiError is the error body, like the rest of the admin API.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

type createRequest struct {
	Notice string `json:"notice"`
	To     string `json:"to"`
}

func (h *handler) create(c *gin.Context) {
	var req createRequest
	if !bindJSON(c, &req, false) {
		return
	}
	j, err := h.d.Service.Create(c.Request.Context(), broadcast.Request{Notice: req.Notice, To: req.To, Actor: h.d.Actor(c)})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.audit(c, "create", j.ID, j)
	c.JSON(http.StatusCreated, j)
}

func (h *handler) list(c *gin.Context) {
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: "limit must be a number from 1 to 500", Field: "limit"})
			return
		}
		limit = n
	}
	jobs, err := h.d.Service.List(c.Request.Context(), limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"broadcasts": jobs})
}

func (h *handler) get(c *gin.Context) {
	j, err := h.d.Service.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, j)
}

func (h *handler) results(c *gin.Context) {
	r, err := h.d.Service.Results(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"results": r})
}

type previewRequest struct {
	OpenIDs []string `json:"openids"`
}

func (h *handler) preview(c *gin.Context) {
	var req previewRequest
	if !bindJSON(c, &req, true) {
		return
	}
	j, err := h.d.Service.Preview(c.Request.Context(), c.Param("id"), req.OpenIDs, h.d.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.audit(c, "preview", j.ID, j.PreviewedTo)
	c.JSON(http.StatusOK, j)
}

func (h *handler) confirm(c *gin.Context) {
	j, err := h.d.Service.Confirm(c.Request.Context(), c.Param("id"), h.d.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.audit(c, "send", j.ID, j)
	c.JSON(http.StatusOK, j)
}

func (h *handler) cancel(c *gin.Context) {
	j, err := h.d.Service.Cancel(c.Request.Context(), c.Param("id"), h.d.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.audit(c, "cancel", j.ID, j)
	c.JSON(http.StatusOK, j)
}

// resendInterrupted answers the job and how many recipients were queued
// again (0: none was interrupted, or none is still subscribed).
func (h *handler) resendInterrupted(c *gin.Context) {
	j, n, err := h.d.Service.ResendInterrupted(c.Request.Context(), c.Param("id"), h.d.Actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	if n > 0 {
		h.audit(c, "resend", j.ID, gin.H{"queued": n, "resent": j.Resent})
	}
	c.JSON(http.StatusOK, gin.H{"broadcast": j, "queued": n})
}

// bindJSON decodes the body; an empty body is fine when optional.
func bindJSON(c *gin.Context, v any, optional bool) bool {
	err := c.ShouldBindJSON(v)
	if err == nil || (optional && errors.Is(err, io.EOF)) {
		return true
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("body over %d bytes", mbe.Limit)})
		return false
	}
	msg := "body must be a JSON object"
	if errors.Is(err, io.EOF) {
		msg = "body is empty; want a JSON object"
	}
	c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: msg + ": " + err.Error(), Field: "body"})
	return false
}

func (h *handler) audit(c *gin.Context, action, id string, after any) {
	if h.d.Audit == nil {
		return
	}
	if err := h.d.Audit(c, action, "broadcast", id, nil, after); err != nil {
		h.d.Logger.Warn("broadcast audit", "action", action, "job", id, "err", err)
	}
}

// fail maps an error to a status. Only unexpected errors are logged,
// once, here at the edge.
func (h *handler) fail(c *gin.Context, err error) {
	var fe *broadcast.FieldError
	var ae *wxapi.APIError
	switch {
	case errors.As(err, &fe):
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: err.Error(), Field: fe.Field})
	case errors.Is(err, broadcast.ErrNotFound):
		c.AbortWithStatusJSON(http.StatusNotFound, apiError{Error: err.Error()})
	case errors.Is(err, broadcast.ErrState):
		c.AbortWithStatusJSON(http.StatusConflict, apiError{Error: err.Error()})
	case errors.Is(err, broadcast.ErrQuota), errors.Is(err, wxapi.ErrMassQuota):
		c.AbortWithStatusJSON(http.StatusTooManyRequests, apiError{Error: err.Error()})
	case errors.Is(err, wxapi.ErrInvalidOpenID):
		c.AbortWithStatusJSON(http.StatusBadRequest, apiError{Error: err.Error(), Field: "openids"})
	case errors.Is(err, wxapi.ErrOutsideWindow), errors.Is(err, wxapi.ErrTooManyMessages):
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, apiError{Error: err.Error()})
	case errors.As(err, &ae) || errors.Is(err, broadcast.ErrWeChat):
		h.d.Logger.Warn("broadcast API: WeChat call failed", "path", c.FullPath(), "errcode", wxapi.Code(err), "err", err)
		c.AbortWithStatusJSON(http.StatusBadGateway, apiError{Error: wxapi.Reason(err)})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, apiError{Error: "timed out; try again"})
	default:
		h.d.Logger.Error("broadcast API", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, apiError{Error: "internal error; see the service log"})
	}
}
