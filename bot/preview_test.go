package bot

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/sample"
	"github.com/gdjysjyj/edubot/content/search"
)

// The console's previews must be exactly what the webhook answers: the
// preview functions render every sample FAQ and notice as the bot does.
func TestPreviewsMatchReplies(t *testing.T) {
	set, err := content.Load(sample.FS())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	eng, err := search.New(set, search.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	b := New(Config{}, Deps{Matcher: eng, Now: func() time.Time { return now }})
	for _, f := range set.FAQs {
		want, _ := b.renderFAQ(f.ID, now)
		if got := PreviewFAQ(f, set.Notice, now); !reflect.DeepEqual(got, want) {
			t.Errorf("FAQ %s: preview %+v, reply %+v", f.ID, got, want)
		}
	}
	for _, n := range set.Notices {
		want, _ := b.renderNotice(n.ID)
		if got := PreviewNotice(n); !reflect.DeepEqual(got, want) {
			t.Errorf("notice %s: preview %+v, reply %+v", n.ID, got, want)
		}
	}
	// Ask renders the match as Handle would, without a store.
	f := set.FAQs[0]
	if r := b.Ask(context.Background(), f.Question); r.Answer != AnswerFAQ || r.IDs[0] != f.ID {
		t.Errorf("Ask(%q) = %+v", f.Question, r)
	}
}
