package broadcast

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/internal/wxfake"
)

// One replica's worker is stopped mid-job while another replica runs: the
// other takes the job over; every recipient gets the message exactly once.
func TestWorkerStoppedMidJobAnotherTakesOver(t *testing.T) {
	e := newEnv(t, wxfake.Config{})
	ids := manySubscribers(e, 30)
	a, b := e.service(Options{Workers: 1}), e.service(Options{Workers: 1})
	ctx := context.Background()
	j, _ := a.Create(ctx, Request{Notice: "n-typhoon", To: "subscribers"})
	if _, err := a.Confirm(ctx, j.ID, "li"); err != nil {
		t.Fatal(err)
	}
	var byA, byB atomic.Int32
	tenth := make(chan struct{})
	a.beforeSend = func(string, string) error {
		if byA.Add(1) == 10 {
			close(tenth)
			time.Sleep(50 * time.Millisecond) // the stop arrives while this send is in flight
		}
		return nil
	}
	b.beforeSend = func(string, string) error { byB.Add(1); time.Sleep(2 * time.Millisecond); return nil }
	stopA := run(t, a)
	<-tenth
	run(t, b)
	stopA()
	j = waitState(t, b, j.ID, StateDone)
	if j.Sent != 30 || j.Failed != 0 {
		t.Errorf("final: %+v, want 30 sent", j)
	}
	if byB.Load() == 0 {
		t.Error("the other replica sent nothing: it did not take over")
	}
	checkExactlyOnce(t, e, ids)
}
