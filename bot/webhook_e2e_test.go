package bot_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/bot/transcript"
	"github.com/gdjysjyj/edubot/handlers"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
)

// TestTranscriptsThroughTheWebhook plays every conversation end to end:
// signed and encrypted (safe mode) like WeChat, through two routers — two
// replicas — whose bots share one real Redis.
func TestTranscriptsThroughTheWebhook(t *testing.T) {
	scripts, err := transcript.Load("testdata/transcripts")
	if err != nil {
		t.Fatal(err)
	}
	wc := config.Default().WeChat
	wc.Token, wc.AESKey, wc.AppID = config.DevToken, config.DevAESKey, config.DevAppID
	for _, s := range scripts {
		t.Run(s.File, func(t *testing.T) {
			e := newEnv(t)
			start, _ := s.StartTime()
			e.clock.t = start
			var routers []*gin.Engine
			for range 2 {
				r, err := handlers.New(handlers.Deps{Bot: e.bot(), WeChat: wc, Now: e.clock.Now,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					t.Fatal(err)
				}
				routers = append(routers, r)
			}
			peer := &wechat.Peer{Token: wc.Token, AESKey: wc.AESKey, AppID: wc.AppID, Mode: wechat.ModeSafe, Now: e.clock.Now}
			for i, turn := range s.Turns {
				if d := turn.WaitFor(); d > 0 {
					e.clock.Add(d)
					continue
				}
				got := send(t, routers[turn.Replica], peer, outgoing(turn, s.User, e, int64(i+1)))
				if err := turn.Check(got); err != nil {
					t.Errorf("%s: turn %d (%s):\n%v", s.Name, i+1, turn.What(), err)
				}
				e.checkStats(t, s, i, turn)
				e.clock.Add(5e9)
			}
		})
	}
}

const testAccount = "gh_edubot_test"

// outgoing is the XML message WeChat would send for a turn.
func outgoing(turn transcript.Turn, user string, e *env, seq int64) wechat.Outgoing {
	now := e.clock.Now()
	id := now.Unix()*1000 + seq
	switch {
	case turn.Say != "":
		return wechat.TextMessage(testAccount, user, turn.Say, id, now)
	case turn.Voice != "":
		return wechat.VoiceMessage(testAccount, user, turn.Voice, id, now)
	case turn.Send == bot.TypeVoice:
		return wechat.VoiceMessage(testAccount, user, "", id, now) // recognition off
	case turn.Send != "":
		return wechat.MediaMessage(testAccount, user, turn.Send, id, now)
	case turn.Click != "":
		return wechat.EventMessage(testAccount, user, "CLICK", turn.Click, now)
	}
	return wechat.EventMessage(testAccount, user, turn.Event, turn.Key, now)
}

// send posts one sealed message through the router and reads the reply
// the way WeChat does.
func send(t *testing.T, r *gin.Engine, p *wechat.Peer, msg wechat.Outgoing) transcript.Seen {
	t.Helper()
	q, body, err := p.Seal(msg)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/wechat?"+q.Encode(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	got, err := p.Open(w.Body.Bytes())
	if err != nil {
		t.Fatalf("reply %q: %v", w.Body, err)
	}
	switch {
	case got.Success:
		return transcript.Seen{Kind: "none"}
	case got.MsgType == "text":
		return transcript.Seen{Kind: "text", Text: got.Content}
	case got.MsgType == "news":
		var parts []string
		for _, a := range got.Articles {
			parts = append(parts, a.Title, a.Description, a.PicURL, a.URL)
		}
		if len(got.Articles) != 1 {
			t.Errorf("a passive reply may carry one article, got %d", len(got.Articles))
		}
		return transcript.Seen{Kind: "news", Text: strings.Join(parts, "\n")}
	case got.MsgType == "transfer_customer_service":
		return transcript.Seen{Kind: "transfer"}
	}
	t.Fatalf("unexpected reply type %q", got.MsgType)
	return transcript.Seen{}
}
