package wechat

import (
	"strconv"
	"strings"
	"time"

	"github.com/gdjysjyj/edubot/bot"
)

// knownEvents maps events to the bot's spelling: WeChat's documentation
// and its servers have been seen to differ in case (click/CLICK).
var knownEvents = map[string]string{
	"subscribe":         bot.EventSubscribe,
	"unsubscribe":       bot.EventUnsubscribe,
	"click":             bot.EventClick,
	"view":              bot.EventView,
	"scan":              bot.EventScan,
	"masssendjobfinish": bot.EventMassFinish,
}

// ParseMessage reads a message's XML (the plaintext of a safe-mode
// message) into the bot's Message, as Open does after its checks.
func ParseMessage(x []byte) (bot.Message, error) {
	var w wireMessage
	if err := decodeWire(x, &w); err != nil {
		return bot.Message{}, err
	}
	return toMessage(&w), nil
}

// toMessage converts a parsed message to the bot's Message. Only text
// and recognised voice carry Text: other media get a reply that says what
// the bot can do, not a search for a caption.
func toMessage(m *wireMessage) bot.Message {
	out := bot.Message{
		User:    m.FromUserName,
		Account: m.ToUserName,
		Type:    strings.ToLower(m.MsgType),
	}
	// No CreateTime stays the zero time: the bot's de-duplication reads
	// that as "unknown", where 1970 would make every such message from a
	// user within a minute look like a retry of the first.
	if m.CreateTime > 0 {
		out.CreateTime = time.Unix(m.CreateTime, 0)
	}
	switch {
	case m.MsgID != 0:
		out.MsgID = strconv.FormatInt(m.MsgID, 10)
	case m.TemplateMsgID != 0: // mass-send and template events spell it MsgID
		out.MsgID = strconv.FormatInt(m.TemplateMsgID, 10)
	}
	switch out.Type {
	case bot.TypeText:
		out.Text = m.Content
	case bot.TypeVoice:
		out.Text = m.Recognition
	case bot.TypeEvent:
		ev := m.Event
		if known, ok := knownEvents[strings.ToLower(ev)]; ok {
			ev = known
		}
		out.Event = ev
		out.EventKey = m.EventKey
		if ev == bot.EventMassFinish {
			out.Mass = &bot.MassResult{
				MsgID:       m.TemplateMsgID,
				Status:      m.Status,
				TotalCount:  int(m.TotalCount),
				FilterCount: int(m.FilterCount),
				SentCount:   int(m.SentCount),
				ErrorCount:  int(m.ErrorCount),
			}
		}
	}
	return out
}
