package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/bot"
)

// The staff's inbox: notes people left outside office hours, the
// conversation before each, and the replies staff sent. A note is only
// useful with what was said before it ("那惠来呢" alone says nothing), so
// every turn's question and reply are kept for the session's lifetime
// (at most maxTurns) and copied into a note when one is left.

const (
	kLog     = "log" // the last turns, for the conversation before a note
	maxTurns = 8
	// maxReplyRunes bounds a reply kept in the log: staff need the gist.
	maxReplyRunes = 300
)

// Turn is one exchange: what the user said and what the bot answered.
type Turn struct {
	At     time.Time `json:"at"`
	Said   string    `json:"said"`
	Reply  string    `json:"reply,omitempty"`  // the text, a news card's title, or what happened
	Answer string    `json:"answer,omitempty"` // bot.Answer*: faq, notice, fallback, …
}

// Entry is one element of a user's notes list: a note the user left (with
// the conversation before it), or a reply staff sent (Staff is who).
type Entry struct {
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
	Before []Turn    `json:"before,omitempty"`
	Staff  string    `json:"staff,omitempty"`
}

// turnOf summarises a turn for the log; ok is false when there is nothing
// to keep (an event, an empty message).
func turnOf(e bot.EndTurn) (Turn, bool) {
	if e.Said == "" {
		return Turn{}, false
	}
	t := Turn{At: e.Now, Said: clip(e.Said, maxReplyRunes), Answer: e.Reply.Answer}
	switch e.Reply.Kind {
	case bot.ReplyText:
		t.Reply = clip(e.Reply.Text, maxReplyRunes)
	case bot.ReplyNews:
		if e.Reply.Article != nil {
			t.Reply = "【图文】" + e.Reply.Article.Title
		}
	case bot.ReplyTransfer:
		t.Reply = "（转给人工客服）"
	}
	return t, true
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// turnLog is the turn as End appends it to the user's log (in End's
// round trip, none of its own); nil when there is nothing to log.
func (s *Store) turnLog(e bot.EndTurn) []byte {
	t, ok := turnOf(e)
	if !ok || e.SessionTTL <= 0 {
		return nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil
	}
	return b
}

// recentTurns reads the user's log, oldest first.
func (s *Store) recentTurns(ctx context.Context, user string) ([]Turn, error) {
	vals, err := s.rdb.LRange(ctx, s.user(user, kLog), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	var out []Turn
	for _, v := range vals {
		var t Turn
		if json.Unmarshal([]byte(v), &t) == nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// Thread is everything staff see of one person in the inbox.
type Thread struct {
	OpenID string
	Latest time.Time // the latest note (the inbox's order)
	Notes  []Entry   // what the person left for staff, oldest first
	// Conversation is the turns before the notes, from every note's copy,
	// each once, oldest first.
	Conversation []Turn
	Replies      []Entry // what staff sent, oldest first
	Profile      bot.Profile
	LastMessage  time.Time // zero when unknown (older than a week): no reply possible
}

// ErrNoThread is returned for a person who has no open notes.
var ErrNoThread = errors.New("no open notes from this user")

// Threads lists the people with open notes, the latest first (at most
// limit), in two round trips.
func (s *Store) Threads(ctx context.Context, limit int) ([]Thread, error) {
	if limit <= 0 {
		limit = 100
	}
	zs, err := s.rdb.ZRevRangeWithScores(ctx, s.notesKey(), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: threads: %w", err)
	}
	users := make([]string, len(zs))
	for i, z := range zs {
		users[i], _ = z.Member.(string)
	}
	out, err := s.threads(ctx, users)
	if err != nil {
		return nil, fmt.Errorf("redisstore: threads: %w", err)
	}
	return out, nil
}

// Thread returns one person's open notes; ErrNoThread when there are none.
func (s *Store) Thread(ctx context.Context, openid string) (Thread, error) {
	out, err := s.threads(ctx, []string{openid})
	if err != nil {
		return Thread{}, fmt.Errorf("redisstore: thread: %w", err)
	}
	if len(out) == 0 {
		return Thread{}, ErrNoThread
	}
	return out[0], nil
}

func (s *Store) threads(ctx context.Context, users []string) ([]Thread, error) {
	if len(users) == 0 {
		return nil, nil
	}
	type cmds struct {
		in    *redis.FloatCmd
		notes *redis.StringSliceCmd
		prof  *redis.StringCmd
		seen  *redis.StringCmd
	}
	cs := make([]cmds, len(users))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cs[i] = cmds{
				in:    p.ZScore(ctx, s.notesKey(), u),
				notes: p.LRange(ctx, s.user(u, kNotes), 0, -1),
				prof:  p.Get(ctx, s.user(u, kProfile)),
				seen:  p.Get(ctx, s.user(u, kSeen)),
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var out []Thread
	for i, u := range users {
		c := cs[i]
		score, err := c.in.Result()
		if err != nil {
			continue // not in the inbox (handled, or forgotten)
		}
		th := Thread{OpenID: u, Latest: time.Unix(int64(score), 0)}
		seen := map[string]bool{}
		for _, v := range c.notes.Val() {
			var e Entry
			if json.Unmarshal([]byte(v), &e) != nil {
				continue
			}
			if e.Staff != "" {
				th.Replies = append(th.Replies, e)
				continue
			}
			for _, t := range e.Before {
				k := strconv.FormatInt(t.At.UnixNano(), 10) + "\x00" + t.Said
				if !seen[k] {
					seen[k] = true
					th.Conversation = append(th.Conversation, t)
				}
			}
			e.Before = nil
			th.Notes = append(th.Notes, e)
		}
		if len(th.Notes) == 0 {
			continue
		}
		slices.SortStableFunc(th.Conversation, func(a, b Turn) int { return a.At.Compare(b.At) })
		_ = decode(c.prof, &th.Profile) // a profile that does not decode is shown as none
		if t, err := strconv.ParseInt(c.seen.Val(), 10, 64); err == nil {
			th.LastMessage = time.Unix(t, 0)
		}
		out = append(out, th)
	}
	return out, nil
}

// AddReply records a reply staff sent to a person with open notes; it
// lives as long as the notes. ErrNoThread when the person has none.
func (s *Store) AddReply(ctx context.Context, openid, staff, text string, at time.Time) error {
	if staff == "" {
		return errors.New("redisstore: add reply: staff name required")
	}
	b, err := json.Marshal(Entry{Text: text, At: at, Staff: staff})
	if err != nil {
		return fmt.Errorf("redisstore: add reply: %w", err)
	}
	k := s.user(openid, kNotes)
	// RPUSHX: a list that expired or was handled meanwhile is not revived
	// without its notes.
	n, err := s.rdb.RPushX(ctx, k, b).Result()
	if err != nil {
		return fmt.Errorf("redisstore: add reply: %w", err)
	}
	if n == 0 {
		return ErrNoThread
	}
	if n > maxNotes {
		s.rdb.LTrim(ctx, k, -maxNotes, -1)
	}
	return nil
}
