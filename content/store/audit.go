package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// AuditEntry is one staff action: who did what to which item, when, and
// the item before and after (nil when it did not exist).
type AuditEntry struct {
	ID     string    `json:"id"` // stream id, set when read
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // token name
	Action string    `json:"action"` // create, update, delete, import-set, seed, or another package's verb
	Kind   string    `json:"kind"`   // notice, faq, rule, synonym, set, broadcast, …
	Item   string    `json:"item,omitempty"`
	Before any       `json:"before,omitempty"`
	After  any       `json:"after,omitempty"`
}

// AuditLog is the staff actions' log, a Redis stream without expiry,
// trimmed to its most recent entries.
type AuditLog struct {
	rdb redis.UniversalClient
	key string
	max int64
	now func() time.Time
}

// NewAuditLog returns the audit log under prefix, the one the content store
// writes (for other packages' staff actions, e.g. broadcasts).
func NewAuditLog(rdb redis.UniversalClient, prefix string, now func() time.Time) *AuditLog {
	if now == nil {
		now = time.Now
	}
	return &AuditLog{rdb: rdb, key: prefix + "{content}:audit", max: 100000, now: now}
}

func (a *AuditLog) values(e AuditEntry) []any {
	if e.At.IsZero() {
		e.At = a.now()
	}
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("%q", fmt.Sprint(v))
		}
		return string(b)
	}
	return []any{
		"at", e.At.UnixMilli(), "actor", e.Actor, "action", e.Action, "kind", e.Kind,
		"item", e.Item, "before", enc(e.Before), "after", enc(e.After),
	}
}

// add queues an entry in p (inside the change's MULTI).
func (a *AuditLog) add(ctx context.Context, p redis.Pipeliner, e AuditEntry) {
	p.XAdd(ctx, &redis.XAddArgs{Stream: a.key, MaxLen: a.max, Approx: true, Values: a.values(e)})
}

// Record appends an entry on its own (for actions outside the content
// store's transactions). Before and After are stored as JSON.
func (a *AuditLog) Record(ctx context.Context, e AuditEntry) error {
	err := a.rdb.XAdd(ctx, &redis.XAddArgs{Stream: a.key, MaxLen: a.max, Approx: true, Values: a.values(e)}).Err()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditQuery selects entries; zero fields select everything.
type AuditQuery struct {
	Since, Until time.Time
	Item         string // only entries about this item id
	Actor        string
	Limit        int // default 100, at most 1000
}

// List returns matching entries, newest first.
func (a *AuditLog) List(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	end, start := "+", "-"
	if !q.Until.IsZero() {
		end = strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	if !q.Since.IsZero() {
		start = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	var out []AuditEntry
	// Page through the stream, filtering, until enough entries are found.
	for len(out) < q.Limit {
		msgs, err := a.rdb.XRevRangeN(ctx, a.key, end, start, 500).Result()
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		for _, m := range msgs {
			e := decodeAudit(m)
			if (q.Item == "" || e.Item == q.Item) && (q.Actor == "" || e.Actor == q.Actor) {
				out = append(out, e)
				if len(out) == q.Limit {
					break
				}
			}
		}
		if len(msgs) < 500 {
			break
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
	return out, nil
}

func decodeAudit(m redis.XMessage) AuditEntry {
	str := func(k string) string {
		v, _ := m.Values[k].(string)
		return v
	}
	raw := func(k string) any {
		if s := str(k); s != "" {
			return json.RawMessage(s)
		}
		return nil
	}
	ms, _ := strconv.ParseInt(str("at"), 10, 64)
	return AuditEntry{
		ID: m.ID, At: time.UnixMilli(ms), Actor: str("actor"), Action: str("action"),
		Kind: str("kind"), Item: str("item"), Before: raw("before"), After: raw("after"),
	}
}
