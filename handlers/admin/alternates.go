package admin

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content/store"
)

// addAlternate: POST /faqs/:id/alternates {"question": "…"} adds a way of
// asking to an FAQ in one call (an unanswered question staff attach to
// it). 201 with the FAQ when added, 200 with "unchanged": true when the
// FAQ already has that question; every replica answers it at once (the
// content store's change stream) and the audit log records "add-alternate".
func (a *api) addAlternate(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		a.fail(c, err)
		return
	}
	var in struct {
		Question string `json:"question"`
	}
	if len(body) == 0 {
		a.fail(c, bad("body", `empty body: send {"question": "…"}`))
		return
	}
	if err := strictJSON(body, &in); err != nil {
		a.fail(c, err)
		return
	}
	f, err := a.Store.AddAlternate(c.Request.Context(), Actor(c), c.Param("id"), in.Question)
	switch {
	case errors.Is(err, store.ErrUnchanged):
		c.JSON(http.StatusOK, gin.H{"faq": f, "unchanged": true})
	case err != nil:
		a.fail(c, err)
	default:
		c.JSON(http.StatusCreated, gin.H{"faq": f, "unchanged": false})
	}
}
