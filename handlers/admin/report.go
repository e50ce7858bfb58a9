package admin

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/stats"
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

// listInPeriod answers a report over since/until with limit: the shared
// shape of unanswered, suggested and picks ({"since","until",key: [...]}).
func listInPeriod[T any](a *api, c *gin.Context, key string, fetch func(ctx context.Context, since, until time.Time, limit int) ([]T, error)) {
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
	list, err := fetch(c.Request.Context(), since, until, limit)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"since": since, "until": until, key: nonNil(list)})
}

// unanswered: the most asked questions the bot could not answer.
func (a *api) unanswered(c *gin.Context) { listInPeriod(a, c, "questions", a.Stats.Unanswered) }

// suggested: questions answered with a "did you mean" list, as typed.
func (a *api) suggested(c *gin.Context) { listInPeriod(a, c, "questions", a.Stats.Suggested) }

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

// picks: which item people opened from a list, per normalised question
// and item (id=a,b selects items): candidates for new FAQ alternates.
func (a *api) picks(c *gin.Context) {
	ids := idsParam(c)
	listInPeriod(a, c, "picks", func(ctx context.Context, since, until time.Time, limit int) ([]stats.PickCount, error) {
		return a.Stats.Picks(ctx, since, until, limit, ids...)
	})
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
