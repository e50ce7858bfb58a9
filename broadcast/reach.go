package broadcast

import (
	"context"
	"fmt"
	"strings"
)

// Reach is who a broadcast would go to now and what the account has left:
// what a publisher checks before confirming (the staff console shows it).
type Reach struct {
	// Subscribers channel: everyone subscribed to one of the notice's
	// tags, and how many of them wrote within 48 hours (only they can get
	// a customer-service message).
	Subscribers, Reachable int
	// Tag channel: followers in the WeChat user tag; -1 when unknown
	// (to all: WeChat counts the followers itself).
	TagFollowers int
	// Mass sends used and allowed in the current day (订阅号) or month (服务号).
	QuotaUsed, QuotaLimit int
	Period                string // e.g. 2026-11-22 or 2026-11
}

// QuotaLeft is the number of mass sends left in the period.
func (r Reach) QuotaLeft() int { return max(r.QuotaLimit-r.QuotaUsed, 0) }

// Reach counts the recipients of a job and the account's remaining mass
// sends (one round trip per tag, and a tag list from WeChat for a tag).
func (s *Service) Reach(ctx context.Context, j *Job) (Reach, error) {
	now := s.now()
	used, limit, key := s.quotaUsed(ctx, now)
	r := Reach{QuotaUsed: used, QuotaLimit: limit, Period: key[strings.LastIndex(key, ":")+1:], TagFollowers: -1}
	switch j.Channel {
	case ChannelSubscribers:
		seen := map[string]bool{}
		for _, tag := range strings.Split(j.Tag, ",") {
			subs, err := s.o.Subscribers.Subscribers(ctx, tag)
			if err != nil {
				return r, fmt.Errorf("broadcast: reach: %w", err)
			}
			for _, sub := range subs {
				if seen[sub.OpenID] {
					continue
				}
				seen[sub.OpenID] = true
				r.Subscribers++
				if !sub.LastMessage.IsZero() && now.Sub(sub.LastMessage) <= csWindow {
					r.Reachable++
				}
			}
		}
	case ChannelTag:
		tags, err := s.o.API.Tags(ctx)
		if err != nil {
			return r, fmt.Errorf("%w: list user tags: %w", ErrWeChat, err)
		}
		for _, t := range tags {
			if t.ID == j.TagID {
				r.TagFollowers = t.Count
			}
		}
	}
	return r, nil
}
