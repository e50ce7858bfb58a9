package bot

import (
	"context"
	"testing"
)

type forgetter struct{ users []string }

func (f *forgetter) ForgetUser(_ context.Context, openid string) error {
	f.users = append(f.users, openid)
	return nil
}

var _ Forgetter = (*forgetter)(nil)

// Unsubscribing tells every other part that keeps something about the user
// to delete it, and answers "success".
func TestUnsubscribeTellsForgetters(t *testing.T) {
	f := &forgetter{}
	b := New(Config{}, Deps{Forget: []Forgetter{f}})
	r := b.Handle(context.Background(), Message{User: "o-gone", Type: TypeEvent, Event: EventUnsubscribe})
	if r.Kind != ReplyNone {
		t.Errorf("reply kind = %v, want none (success)", r.Kind)
	}
	if len(f.users) != 1 || f.users[0] != "o-gone" {
		t.Errorf("forgetter told %v, want [o-gone]", f.users)
	}
}
