package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/internal/limits"
)

// crud mounts list, read, create, update and delete for one kind.
func (a *api) crud(g *gin.RouterGroup, k store.Kind) {
	g.GET("", func(c *gin.Context) {
		set, err := a.Store.Export(c.Request.Context())
		if err != nil {
			a.fail(c, err)
			return
		}
		var items any
		n := 0
		switch k {
		case store.KindNotice:
			items, n = nonNil(set.Notices), len(set.Notices)
		case store.KindFAQ:
			items, n = nonNil(set.FAQs), len(set.FAQs)
		case store.KindRule:
			items, n = nonNil(set.Rules), len(set.Rules)
		case store.KindSynonym:
			items, n = nonNil(set.Synonyms), len(set.Synonyms)
		}
		c.JSON(http.StatusOK, gin.H{"items": items, "count": n})
	})
	g.GET("/:id", func(c *gin.Context) {
		item, err := a.get(c, k, c.Param("id"))
		if err != nil {
			a.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, item)
	})
	g.POST("", func(c *gin.Context) { a.put(c, k, "", store.Create) })
	g.PUT("/:id", func(c *gin.Context) { a.put(c, k, c.Param("id"), store.Update) })
	g.DELETE("/:id", func(c *gin.Context) {
		id := c.Param("id")
		if err := a.Store.Delete(c.Request.Context(), Actor(c), k, id); err != nil {
			a.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"deleted": id, "kind": k})
	})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *api) get(c *gin.Context, k store.Kind, id string) (any, error) {
	ctx := c.Request.Context()
	switch k {
	case store.KindNotice:
		return a.Store.Notice(ctx, id)
	case store.KindFAQ:
		return a.Store.FAQ(ctx, id)
	case store.KindRule:
		return a.Store.Rule(ctx, id)
	default:
		return a.Store.Synonym(ctx, id)
	}
}

// put decodes the body as one item of kind k and stores it. pathID is the
// id in the URL (update), which the body may omit but not contradict.
func (a *api) put(c *gin.Context, k store.Kind, pathID string, mode store.Mode) {
	item, err := decodeItem(c.Request.Body, k)
	if err != nil {
		a.fail(c, err)
		return
	}
	id := itemID(item)
	switch {
	case pathID != "" && id == "":
		setItemID(item, pathID)
	case pathID != "" && id != pathID:
		a.fail(c, bad("id", "id: the body says %q, the URL %q", id, pathID))
		return
	}
	ctx, actor := c.Request.Context(), Actor(c)
	switch x := item.(type) {
	case *content.Notice:
		err = a.Store.PutNotice(ctx, actor, x, mode)
	case *content.FAQ:
		err = a.Store.PutFAQ(ctx, actor, x, mode)
	case *content.Rule:
		err = a.Store.PutRule(ctx, actor, x, mode)
	case *content.SynonymGroup:
		err = a.Store.PutSynonym(ctx, actor, x, mode)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	status := http.StatusOK
	if mode == store.Create {
		status = http.StatusCreated
	}
	c.JSON(status, item)
}

func itemID(v any) string {
	switch x := v.(type) {
	case *content.Notice:
		return x.ID
	case *content.FAQ:
		return x.ID
	case *content.Rule:
		return x.ID
	case *content.SynonymGroup:
		return x.ID
	}
	return ""
}

func setItemID(v any, id string) {
	switch x := v.(type) {
	case *content.Notice:
		x.ID = id
	case *content.FAQ:
		x.ID = id
	case *content.Rule:
		x.ID = id
	case *content.SynonymGroup:
		x.ID = id
	}
}

// noticeJSON reads dates as strings, so a bad date is reported with its
// field name (encoding/json drops the field from TextUnmarshaler errors).
type noticeJSON struct {
	content.Notice
	Date    *string `json:"date"`
	Expires *string `json:"expires"`
}

// decodeItem reads one item; unknown fields, wrong types and bad dates are
// 400s naming the field.
func decodeItem(r io.Reader, k store.Kind) (any, error) {
	body, err := limits.ReadAll(r, limits.JSONBody)
	if err != nil {
		return nil, err // *limits.Error → 413
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, bad("body", "empty body: send the %s as JSON", k)
	}
	switch k {
	case store.KindNotice:
		var in noticeJSON
		if err := strictJSON(body, &in); err != nil {
			return nil, err
		}
		n := in.Notice
		if in.Date != nil && *in.Date != "" {
			d, err := content.ParseDate(*in.Date)
			if err != nil {
				return nil, bad("date", "date: %v", err)
			}
			n.Date = d
		}
		if in.Expires != nil && *in.Expires != "" {
			d, err := content.ParseDate(*in.Expires)
			if err != nil {
				return nil, bad("expires", "expires: %v", err)
			}
			n.Expires = d
		}
		return &n, nil
	case store.KindFAQ:
		var f content.FAQ
		return &f, strictJSON(body, &f)
	case store.KindRule:
		var r content.Rule
		return &r, strictJSON(body, &r)
	default:
		var g content.SynonymGroup
		return &g, strictJSON(body, &g)
	}
}

// strictJSON decodes one JSON value, refusing unknown fields and trailing
// data, with errors that name the field.
func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonErr(err)
	}
	if dec.More() {
		return bad("body", "body: one JSON object expected, found more data after it")
	}
	return nil
}

func jsonErr(err error) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se):
		return bad("body", "body: malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		// Fields of the embedded notice are reported as "Notice.x".
		field := strings.TrimPrefix(te.Field, "Notice.")
		if field == "" {
			field = "body"
		}
		return bad(field, "%s: want %s, got JSON %s", field, jsonType(te.Type.Kind().String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return bad("body", "body: incomplete JSON")
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	if msg := err.Error(); strings.HasPrefix(msg, `json: unknown field "`) {
		f := strings.TrimSuffix(strings.TrimPrefix(msg, `json: unknown field "`), `"`)
		return bad(f, "%s: unknown field", f)
	}
	return bad("body", "body: %v", err)
}

func jsonType(kind string) string {
	switch kind {
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	case "int", "int64", "float64":
		return "a number"
	}
	return "a " + kind
}
