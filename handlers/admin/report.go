package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content/store"
)

// period reads since/until (default: the last 7 days up to now, on the
// API's clock: serve --now moves the window too).
func (a *api) period(c *gin.Context) (since, until time.Time, err error) {
	if since, err = a.parseDay(c, "since", false); err != nil {
		return
	}
	if until, err = a.parseDay(c, "until", true); err != nil {
		return
	}
	if until.IsZero() {
		until = a.Now()
	}
	if since.IsZero() {
		since = until.AddDate(0, 0, -7)
	}
	if since.After(until) {
		err = bad("since", "since: %s is after until %s", since.Format(time.DateOnly), until.Format(time.DateOnly))
	}
	return
}

func intParam(c *gin.Context, name string, def, max int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, bad(name, "%s: want a number from 1 to %d, got %q", name, max, s)
	}
	return n, nil
}

// unanswered: the most asked questions the bot could not answer.
func (a *api) unanswered(c *gin.Context) {
	since, until, err := a.period(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	limit, err := intParam(c, "limit", 50, 500)
	if err != nil {
		a.fail(c, err)
		return
	}
	qs, err := a.Stats.Unanswered(c.Request.Context(), since, until, limit)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"since": since, "until": until, "questions": nonNil(qs)})
}

// idsParam reads id=a,b&id=c.
func idsParam(c *gin.Context) []string {
	var ids []string
	for _, s := range c.QueryArray("id") {
		for _, id := range strings.Split(s, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// suggested: questions answered with a "did you mean" list, as typed.
func (a *api) suggested(c *gin.Context) {
	since, until, err := a.period(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	limit, err := intParam(c, "limit", 50, 500)
	if err != nil {
		a.fail(c, err)
		return
	}
	qs, err := a.Stats.Suggested(c.Request.Context(), since, until, limit)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"since": since, "until": until, "questions": nonNil(qs)})
}

// picks: which item people opened from a list, per normalised question
// and item (id=a,b selects items): candidates for new FAQ alternates.
func (a *api) picks(c *gin.Context) {
	since, until, err := a.period(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	limit, err := intParam(c, "limit", 50, 500)
	if err != nil {
		a.fail(c, err)
		return
	}
	ps, err := a.Stats.Picks(c.Request.Context(), since, until, limit, idsParam(c)...)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"since": since, "until": until, "picks": nonNil(ps)})
}

// hits: replies per content id per day (ids=a,b selects items).
func (a *api) hits(c *gin.Context) {
	since, until, err := a.period(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	hits, err := a.Stats.Hits(c.Request.Context(), since, until, idsParam(c)...)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"since": since, "until": until, "hits": nonNil(hits)})
}

// audit: staff actions, newest first (item=, actor=, since=, until=, limit=).
func (a *api) audit(c *gin.Context) {
	since, err := a.parseDay(c, "since", false)
	if err != nil {
		a.fail(c, err)
		return
	}
	until, err := a.parseDay(c, "until", true)
	if err != nil {
		a.fail(c, err)
		return
	}
	limit, err := intParam(c, "limit", 100, 1000)
	if err != nil {
		a.fail(c, err)
		return
	}
	entries, err := a.Store.Audit().List(c.Request.Context(), store.AuditQuery{
		Since: since, Until: until, Item: c.Query("item"), Actor: c.Query("actor"), Limit: limit,
	})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"entries": nonNil(entries)})
}
