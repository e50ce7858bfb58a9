package broadcast

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

// A worker dies after marking two recipients and before their sends: the
// job finishes with them interrupted (never resent by itself); a publisher
// resends to them, and the one still subscribed gets it.
func TestResendInterrupted(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	ids := manySubscribers(e, 20)
	first := e.service(Options{Workers: 1})
	ctx := context.Background()
	j, _ := first.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	if _, _, err := first.ResendInterrupted(ctx, j.ID, "li"); !errors.Is(err, ErrState) {
		t.Errorf("resend of a draft: %v, want ErrState", err)
	}
	if _, err := first.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	crashed := make(chan string, 1)
	first.beforeSend = func(_, openid string) error {
		if n.Add(1) == 8 {
			crashed <- openid
			return errors.New("crash") // the process dies here: recipient marked, nothing sent
		}
		return nil
	}
	run(t, first)
	victim := <-crashed
	restarted := e.service(Options{Workers: 2})
	run(t, restarted)
	j = waitState(t, restarted, j.ID, StateDone)
	if j.Sent != 19 || j.Failed != 1 || j.Errors["interrupted"] != 1 {
		t.Fatalf("before the resend: %+v, want 19 sent and 1 interrupted", j)
	}
	checkExactlyOnce(t, e, ids, victim)

	j, queued, err := restarted.ResendInterrupted(ctx, j.ID, "wang")
	if err != nil || queued != 1 || j.Resent != 1 {
		t.Fatalf("resend: queued %d, %+v, %v; want 1", queued, j, err)
	}
	j = waitState(t, restarted, j.ID, StateDone)
	if j.Sent != 20 || j.Failed != 0 || j.Errors["interrupted"] != 0 || j.FinishedAt.IsZero() {
		t.Errorf("after the resend: %+v, want 20 sent, none failed", j)
	}
	checkExactlyOnce(t, e, ids)
	if res, _ := restarted.Results(ctx, j.ID); res[victim] != "sent" {
		t.Errorf("%s: result %q after the resend", victim, res[victim])
	}
	// Nothing left to resend: nothing goes out again.
	if _, queued, err := restarted.ResendInterrupted(ctx, j.ID, "wang"); err != nil || queued != 0 {
		t.Errorf("second resend: queued %d, %v; want 0", queued, err)
	}
	checkExactlyOnce(t, e, ids)
}

// An interrupted recipient who unsubscribed meanwhile is not sent to; a
// mass send has no interrupted recipients to resend.
func TestResendInterruptedSkipsTheUnsubscribedAndMassSends(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	manySubscribers(e, 5)
	s := e.service(Options{Workers: 1})
	ctx := context.Background()
	j, _ := s.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	if _, err := s.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	j = waitState(t, s, j.ID, StateDone)
	// As a takeover leaves it: o01 interrupted, counted failed.
	if err := s.rdb.HSet(ctx, s.rcptKey(j.ID), "o01", ResultInterrupted).Err(); err != nil {
		t.Fatal(err)
	}
	s.rdb.HSet(ctx, s.jobKey(j.ID), "sent", 4, "failed", 1, "err:interrupted", 1)
	e.subs.mu.Lock()
	e.subs.m["开学"] = slices.DeleteFunc(e.subs.m["开学"], func(b bot.Subscriber) bool { return b.OpenID == "o01" })
	e.subs.mu.Unlock()
	j, queued, err := s.ResendInterrupted(ctx, j.ID, "wang")
	if err != nil || queued != 0 || j.State != StateDone || j.Failed != 1 {
		t.Errorf("resend to an unsubscribed recipient: queued %d, %+v, %v; want nothing queued", queued, j, err)
	}
	if got := e.fake.Delivered()["o01"]; got != 1 {
		t.Errorf("o01 received %d messages, want only the first", got)
	}

	e.fake.AddFollower("tester")
	m, _ := s.Create(ctx, Request{Notice: "n-enrol", To: "all"})
	if _, _, err := s.ResendInterrupted(ctx, m.ID, "wang"); !errors.Is(err, ErrState) {
		t.Errorf("resend of a mass send: %v, want ErrState", err)
	}
}
