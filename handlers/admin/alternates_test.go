package admin

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/search"
	"github.com/gdjysjyj/edubot/content/store"
)

// Attaching an unanswered question to an FAQ in one call: the bot, whose
// index follows the store (as every replica's does), answers it with that
// FAQ; the audit log names who did it.
func TestAddAlternateThenBotAnswers(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	set, err := e.store.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.New(set, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = e.store.Follow(ctx, eng) }()
	defer func() { cancel(); <-done }()
	b := bot.New(bot.Config{}, bot.Deps{Matcher: eng, Now: func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }})

	faq := set.FAQs[len(set.FAQs)-1]
	const q = "娃娃的那个事情到底咋整嘛"
	ask := func() bot.Reply {
		return b.Handle(ctx, bot.Message{User: "o-alt", Type: bot.TypeText, Text: q, MsgID: time.Now().String(), CreateTime: time.Now()})
	}
	if r := ask(); r.Answer == bot.AnswerFAQ && slices.Contains(r.IDs, faq.ID) {
		t.Fatal("answered with the FAQ before the question was attached")
	}

	r := e.json("POST", "/admin/api/faqs/"+faq.ID+"/alternates", `{"question":"`+q+`"}`)
	if r.Code != 201 {
		t.Fatalf("attach: %d %s", r.Code, r.Body)
	}
	var out struct {
		FAQ       content.FAQ `json:"faq"`
		Unchanged bool        `json:"unchanged"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || !slices.Contains(out.FAQ.Alternates, q) || out.Unchanged {
		t.Fatalf("attach body: %s (%v)", r.Body, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		rep := ask()
		if rep.Answer == bot.AnswerFAQ && len(rep.IDs) > 0 && rep.IDs[0] == faq.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot does not answer the attached question with %s: %+v", faq.ID, rep)
		}
		time.Sleep(20 * time.Millisecond)
	}
	entries, err := e.store.Audit().List(ctx, store.AuditQuery{Item: faq.ID, Limit: 1})
	if err != nil || len(entries) != 1 || entries[0].Action != "add-alternate" || entries[0].Actor != "ann" {
		t.Fatalf("audit: %+v %v", entries, err)
	}

	// The same question again: 200, unchanged, nothing audited.
	if r := e.json("POST", "/admin/api/faqs/"+faq.ID+"/alternates", `{"question":" `+q+` "}`); r.Code != 200 {
		t.Fatalf("again: %d %s", r.Code, r.Body)
	}
	for _, c := range []struct {
		path, body string
		code       int
		field      string
	}{
		{"/admin/api/faqs/" + faq.ID + "/alternates", `{"question":""}`, 400, "question"},
		{"/admin/api/faqs/" + faq.ID + "/alternates", `{"q":"x"}`, 400, "q"},
		{"/admin/api/faqs/" + faq.ID + "/alternates", ``, 400, "body"},
		{"/admin/api/faqs/faq-none/alternates", `{"question":"x"}`, 404, ""},
	} {
		if r := e.json("POST", c.path, c.body); r.Code != c.code || r.Err.Field != c.field {
			t.Errorf("POST %s %s: %d field %q, want %d %q", c.path, c.body, r.Code, r.Err.Field, c.code, c.field)
		}
	}
	if r := e.do("POST", "/admin/api/faqs/"+faq.ID+"/alternates", "", "application/json", []byte(`{"question":"x"}`)); r.Code != 401 {
		t.Errorf("without a token: %d", r.Code)
	}
}
