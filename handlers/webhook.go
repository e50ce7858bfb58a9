package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/bot"
	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/metrics"
)

// Apology is sent when the bot overran its deadline or failed: WeChat shows
// its own "该公众号暂时无法提供服务" for anything late or invalid, which
// tells the user less.
const Apology = "抱歉，系统正忙，请稍后再发一次。"

// webhook answers WeChat's server: GET for the URL check, POST for
// messages and events.
type webhook struct {
	srv      *wechat.Server
	bot      Handler
	log      *slog.Logger
	m        *metrics.Metrics
	maxBody  int64
	deadline time.Duration

	replay    ReplayGuard
	replayTTL time.Duration
}

// Statuses (also in the README):
//
//	200 echostr / reply XML / "success"   verified; answered; nothing to say (also in safe mode)
//	403, no body                          signature or msg_signature wrong or missing;
//	                                      timestamp outside ±timestamp_skew (replay);
//	                                      a signature already used with another body;
//	                                      plaintext in safe mode; ToUserName not account_id
//	413, no body                          body over max_body
//	400, no body                          malformed XML, missing fields, unknown encrypt_type,
//	                                      no echostr, decryption failed with every key
func (w *webhook) refuse(c *gin.Context, err error, start time.Time) {
	status, outcome := http.StatusBadRequest, metrics.OutcomeMalformed
	switch {
	case errors.Is(err, wechat.ErrSignature):
		status, outcome = http.StatusForbidden, metrics.OutcomeBadSignature
	case errors.Is(err, wechat.ErrReplay), errors.Is(err, errReused):
		status, outcome = http.StatusForbidden, metrics.OutcomeReplay
	case errors.Is(err, wechat.ErrPlaintext):
		status, outcome = http.StatusForbidden, metrics.OutcomePlaintext
	case errors.Is(err, wechat.ErrAccount):
		status, outcome = http.StatusForbidden, metrics.OutcomeWrongAccount
	case errors.Is(err, wechat.ErrDecrypt):
		outcome = metrics.OutcomeDecrypt
	case errors.Is(err, errTooLarge):
		status, outcome = http.StatusRequestEntityTooLarge, metrics.OutcomeTooLarge
	}
	w.log.Warn("webhook refused", "method", c.Request.Method, "status", status, "outcome", outcome,
		"reason", err.Error(), "client", c.ClientIP(), "ms", time.Since(start).Milliseconds())
	w.m.Request(outcome)
	c.AbortWithStatus(status)
}

var errTooLarge = errors.New("body too large")

func (w *webhook) verify(c *gin.Context) {
	start := time.Now()
	echo, err := w.srv.Verify(c.Request.URL.Query())
	if err != nil {
		w.refuse(c, err, start)
		return
	}
	w.log.Info("webhook verified", "client", c.ClientIP())
	w.m.Request(metrics.OutcomeVerified)
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(echo))
}

func (w *webhook) message(c *gin.Context) {
	start := time.Now()
	q := c.Request.URL.Query()
	// Signature and window before reading the body: unsigned traffic costs
	// us no more than a hash.
	if err := w.srv.Check(q); err != nil {
		w.refuse(c, err, start)
		return
	}
	body, err := w.readBody(c)
	if err != nil {
		w.refuse(c, err, start)
		return
	}
	in, err := w.srv.Open(q, body)
	if err != nil {
		w.refuse(c, err, start)
		return
	}
	if err := w.claim(c.Request.Context(), in, q, body); err != nil {
		w.refuse(c, err, start)
		return
	}
	w.m.RequestBytes(len(body))

	ctx, cancel := context.WithTimeout(c.Request.Context(), w.deadline)
	defer cancel()
	reply, trouble := w.handle(ctx, in.Message)
	if reply.Kind == bot.ReplyText && len(reply.Text) > bot.MaxTextBytes {
		w.log.Warn("reply text over WeChat's limit, cut", "bytes", len(reply.Text), "answer", reply.Answer)
	}
	out, err := w.srv.Seal(in, reply)
	if err != nil {
		// Seal falls back to "success"; the reply is lost, the request is not.
		w.log.Error("webhook reply not sealed", "err", err, "answer", reply.Answer)
	}

	outcome := trouble
	if outcome == "" {
		outcome = metrics.OutcomeReplied
		if string(out) == wechat.Success {
			outcome = metrics.OutcomeSuccess
		}
	}
	w.m.Request(outcome)
	if reply.Duplicate {
		// A retry of a delivery already answered: count the retry, not
		// the answer a second time.
		w.m.RetryDeduplicated()
	} else {
		w.m.Answer(reply.Answer)
	}
	if reply.Degraded {
		w.m.Degraded()
	}
	elapsed := time.Since(start)
	w.m.ReplyLatency(elapsed)
	// No text, no openid at info level.
	attrs := []any{"type", in.Message.Type, "outcome", outcome, "answer", reply.Answer,
		"safe", in.Safe, "prev_key", in.PrevKey, "ms", elapsed.Milliseconds()}
	if in.Message.Event != "" {
		attrs = append(attrs, "event", in.Message.Event)
	}
	if reply.Duplicate {
		attrs = append(attrs, "retry", true)
	}
	if reply.Degraded {
		attrs = append(attrs, "degraded", true)
	}
	if len(reply.IDs) > 0 {
		attrs = append(attrs, "ids", reply.IDs)
	}
	w.log.Info("webhook", attrs...)

	ct := "text/xml; charset=utf-8"
	if string(out) == wechat.Success {
		ct = "text/plain; charset=utf-8"
	}
	c.Data(http.StatusOK, ct, out)
}

// readBody reads at most maxBody bytes; more is errTooLarge.
func (w *webhook) readBody(c *gin.Context) ([]byte, error) {
	if c.Request.ContentLength > w.maxBody {
		return nil, fmt.Errorf("%w: Content-Length %d over %d", errTooLarge, c.Request.ContentLength, w.maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, w.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: over %d bytes", errTooLarge, w.maxBody)
		}
		return nil, fmt.Errorf("%w: reading body: %v", wechat.ErrMalformed, err)
	}
	return body, nil
}

// handle runs the bot with a safety net: the bot is meant to answer within
// ctx's deadline by itself (degrading when Redis is slow); if it overruns
// or panics the user gets a short apology before WeChat's 5 s run out. The
// goroutine of an overrunning bot finishes on its own; its reply is
// dropped.
func (w *webhook) handle(ctx context.Context, m bot.Message) (bot.Reply, string) {
	type result struct {
		reply bot.Reply
		panic any
		stack []byte
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{panic: p, stack: debug.Stack()}
			}
		}()
		done <- result{reply: w.bot.Handle(ctx, m)}
	}()

	// Grace after the deadline for the bot's own degraded answer, but
	// well before WeChat gives up at 5 s.
	grace := min(500*time.Millisecond, (5*time.Second-w.deadline)/2)
	timer := time.NewTimer(w.deadline + max(grace, 0))
	defer timer.Stop()
	select {
	case r := <-done:
		if r.panic != nil {
			w.log.Error("bot panicked", "type", m.Type, "event", m.Event, "panic", fmt.Sprint(r.panic), "stack", string(r.stack))
			return apology(m), metrics.OutcomePanic
		}
		return r.reply, ""
	case <-timer.C:
		w.log.Error("bot overran the reply deadline", "type", m.Type, "event", m.Event, "deadline", w.deadline)
		return apology(m), metrics.OutcomeDeadline
	}
}

// apology is a short text for a user's message; events get "success"
// (nobody is waiting for an answer to a menu view or an unsubscribe).
func apology(m bot.Message) bot.Reply {
	if m.Type == bot.TypeEvent {
		return bot.Reply{Kind: bot.ReplyNone, Answer: bot.AnswerNone}
	}
	return bot.Reply{Kind: bot.ReplyText, Text: Apology, Answer: "error"}
}
