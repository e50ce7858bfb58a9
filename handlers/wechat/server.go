// Package wechat speaks the Official Account server protocol for the
// webhook: it checks signatures and the replay window, decrypts safe-mode
// messages (with the previous EncodingAESKey too, during rotation), converts
// silenceper's MixMessage to a bot.Message and a bot.Reply to WeChat's reply
// XML, encrypted and signed in safe mode. It is the only package that
// imports silenceper's message types for the server side.
//
// It does not use silenceper's Server.Serve: that writes nothing on a bad
// signature, reads bodies without limit, knows one AES key only, has no
// replay window and, in safe mode, encrypts an empty message where WeChat
// wants "success". The SDK's signature, AES and message types are used
// instead. HTTP statuses are chosen by the caller (package handlers) from
// the sentinel errors here.
//
// Peer, in peer.go, plays the WeChat server for `edubot chat` and tests.
package wechat

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/gdjysjyj/edubot/bot"
)

// Errors of Verify and Open, for the caller to map to statuses. Each is
// wrapped with the reason, which is safe to log (no text, no openid).
var (
	ErrSignature = errors.New("bad signature")            // signature or msg_signature wrong or missing
	ErrReplay    = errors.New("timestamp outside window") // stale, future or unparseable timestamp
	ErrMalformed = errors.New("malformed message")        // XML that does not parse, or lacks required fields
	ErrDecrypt   = errors.New("decryption failed")        // no configured key opens the message
	ErrPlaintext = errors.New("plaintext refused")        // safe mode: a message without encryption
	ErrAccount   = errors.New("wrong account")            // ToUserName is not the configured account
)

// Webhook modes (config wechat.mode).
const (
	// ModeNamePlain accepts plaintext messages signed over token,
	// timestamp and nonce only (the body is not covered: anyone holding a
	// signed URL can post any body within the window). Encrypted messages
	// are still opened when a key is configured.
	ModeNamePlain = "plain"
	// ModeNameCompat accepts plaintext, but whenever the body carries an
	// Encrypt element (with or without encrypt_type=aes) its
	// msg_signature must be right and the decrypted message is used, never
	// the plain fields beside it.
	ModeNameCompat = "compat"
	// ModeNameSafe accepts only encrypted messages with a valid
	// msg_signature; plaintext gets ErrPlaintext (403).
	ModeNameSafe = "safe"
)

// ResolveMode is the effective mode: the configured one, or, when none
// is, safe with an AES key and plain without.
func ResolveMode(mode, aesKey string) string {
	if mode != "" {
		return mode
	}
	if aesKey != "" {
		return ModeNameSafe
	}
	return ModeNamePlain
}

// Config is what the protocol needs from the WeChat settings.
type Config struct {
	Token         string
	AESKey        string        // current EncodingAESKey; "" = plain mode only
	PrevAESKey    string        // previous EncodingAESKey, tried when the current one fails
	AppID         string        // checked inside decrypted messages and put into encrypted replies
	TimestampSkew time.Duration // replay window either side of now
	Mode          string        // plain, compat or safe; "" = ResolveMode
	AccountID     string        // the account's original id (gh_…); "" = ToUserName not checked
}

// Server checks, opens and answers webhook requests. It holds no
// per-request state and is safe for concurrent use.
type Server struct {
	token   string
	appID   string
	mode    string
	account string
	keys    []aesKey // current first, then previous
	skew    time.Duration
	now     func() time.Time
}

// NewServer validates the settings once, so a bad key fails at start-up
// rather than on the first message. now may be nil (time.Now).
func NewServer(cfg Config, now func() time.Time) (*Server, error) {
	if cfg.Token == "" {
		return nil, errors.New("wechat: token is required")
	}
	if cfg.TimestampSkew <= 0 {
		return nil, errors.New("wechat: timestamp skew must be positive")
	}
	if now == nil {
		now = time.Now
	}
	s := &Server{token: cfg.Token, appID: cfg.AppID, skew: cfg.TimestampSkew, now: now,
		mode: ResolveMode(cfg.Mode, cfg.AESKey), account: cfg.AccountID}
	switch s.mode {
	case ModeNamePlain:
	case ModeNameCompat, ModeNameSafe:
		if cfg.AESKey == "" {
			return nil, fmt.Errorf("wechat: mode %s needs an AES key", s.mode)
		}
	default:
		return nil, fmt.Errorf("wechat: mode must be plain, compat or safe, got %q", cfg.Mode)
	}
	for _, k := range []struct{ name, v string }{{"AES key", cfg.AESKey}, {"previous AES key", cfg.PrevAESKey}} {
		if k.v == "" {
			continue
		}
		key, err := decodeAESKey(k.v)
		if err != nil {
			return nil, fmt.Errorf("wechat: %s: %w", k.name, err)
		}
		s.keys = append(s.keys, key)
	}
	if cfg.PrevAESKey != "" && cfg.AESKey == "" {
		return nil, errors.New("wechat: a previous AES key without a current one")
	}
	return s, nil
}

// Mode is the effective webhook mode (plain, compat or safe).
func (s *Server) Mode() string { return s.mode }

// Verify answers WeChat's URL check (GET): it returns the echostr to send
// back when signature and timestamp are right.
func (s *Server) Verify(q url.Values) (string, error) {
	if err := s.Check(q); err != nil {
		return "", err
	}
	echo := q.Get("echostr")
	if echo == "" {
		return "", fmt.Errorf("%w: no echostr", ErrMalformed)
	}
	return echo, nil
}

// Inbound is one opened request: the message for the bot and what Seal
// needs to answer it in the same mode with the same key.
type Inbound struct {
	Message bot.Message
	Safe    bool // encrypt_type=aes (safe or compatible mode): the reply is encrypted
	PrevKey bool // opened with the previous EncodingAESKey

	to, from string // as received: the reply swaps them
	key      aesKey
}

// Open checks a POST (signature, replay window, msg_signature in safe
// mode), decrypts it when needed and parses the message.
func (s *Server) Open(q url.Values, body []byte) (*Inbound, error) {
	if err := s.Check(q); err != nil {
		return nil, err
	}
	in := &Inbound{}
	raw := body
	et := q.Get("encrypt_type")
	switch et {
	case "", "raw", "aes":
	default:
		return nil, fmt.Errorf("%w: unknown encrypt_type %q", ErrMalformed, et)
	}
	encrypted := et == "aes"
	if s.mode == ModeNameSafe && !encrypted {
		return nil, fmt.Errorf("%w: safe mode takes encrypted messages only (encrypt_type=aes)", ErrPlaintext)
	}
	// The outer XML: the envelope in safe mode; in compatible mode the
	// plain message and its encrypted copy, so it is read once and read
	// again only when the copy is there.
	var env, mix wireMessage
	if encrypted || s.mode == ModeNameCompat {
		if err := decodeWire(body, &env); err != nil {
			return nil, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
		}
		// Compatible mode: an Encrypt element is checked and used even
		// when encrypt_type is missing, so a forged plain copy beside
		// the ciphertext is never what the bot reads.
		encrypted = encrypted || env.Encrypt != ""
	}
	if encrypted {
		in.Safe = true
		if len(s.keys) == 0 {
			return nil, fmt.Errorf("%w: encrypted message but no AES key configured", ErrDecrypt)
		}
		if env.Encrypt == "" {
			return nil, fmt.Errorf("%w: envelope has no Encrypt", ErrMalformed)
		}
		if !sameSignature(q.Get("msg_signature"), sign(s.token, q.Get("timestamp"), q.Get("nonce"), env.Encrypt)) {
			return nil, fmt.Errorf("%w: msg_signature", ErrSignature)
		}
		if s.account != "" && env.ToUserName != "" && env.ToUserName != s.account {
			return nil, fmt.Errorf("%w: ToUserName is not the configured account id", ErrAccount)
		}
		var err error
		raw, in.key, in.PrevKey, err = s.open(env.Encrypt)
		if err != nil {
			return nil, err
		}
	}

	if encrypted || s.mode != ModeNameCompat {
		if err := decodeWire(raw, &mix); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	} else {
		mix = env // a plain body in compatible mode: read above
	}
	if mix.FromUserName == "" || mix.ToUserName == "" || mix.MsgType == "" {
		return nil, fmt.Errorf("%w: FromUserName, ToUserName and MsgType are required", ErrMalformed)
	}
	if s.account != "" && mix.ToUserName != s.account {
		return nil, fmt.Errorf("%w: ToUserName is not the configured account id", ErrAccount)
	}
	in.to, in.from = mix.ToUserName, mix.FromUserName
	in.Message = toMessage(&mix)
	return in, nil
}

// open tries the current key, then the previous one (WeChat's documented
// rotation: messages encrypted with the old key may still arrive).
func (s *Server) open(ciphertext string) ([]byte, aesKey, bool, error) {
	var errs []error
	for i, k := range s.keys {
		msg, err := decrypt(k, ciphertext, s.appID)
		if err == nil {
			return msg, k, i > 0, nil
		}
		errs = append(errs, err)
	}
	return nil, nil, false, fmt.Errorf("%w: %v", ErrDecrypt, errors.Join(errs...))
}

// Check verifies signature (present in every mode) and the replay
// window. The signature comes first so unsigned probes learn nothing about
// the clock.
func (s *Server) Check(q url.Values) error {
	ts, nc := q.Get("timestamp"), q.Get("nonce")
	if !sameSignature(q.Get("signature"), sign(s.token, ts, nc)) {
		return fmt.Errorf("%w: signature", ErrSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not a number", ErrReplay, ts)
	}
	now := s.now()
	if d := now.Sub(time.Unix(sec, 0)); d > s.skew || d < -s.skew {
		return fmt.Errorf("%w: timestamp is %s from now, window is ±%s", ErrReplay, d.Round(time.Second), s.skew)
	}
	return nil
}

// Success is the body that tells WeChat "no reply, do not retry".
const Success = "success"

// Seal turns the bot's reply into the response body: "success" when there
// is nothing to say (also in safe mode), else the reply XML, encrypted and
// signed in safe mode with the key that opened the message.
func (s *Server) Seal(in *Inbound, r bot.Reply) ([]byte, error) {
	x, err := ReplyXML(in.from, in.to, s.now(), in.Message, r)
	if err != nil || x == nil {
		return []byte(Success), err
	}
	if !in.Safe {
		return x, nil
	}
	enc, err := encrypt(in.key, randomBytes(16), x, s.appID)
	if err != nil {
		return []byte(Success), fmt.Errorf("wechat: seal: %w", err)
	}
	// One reading of the clock: a signature over one second and a
	// Timestamp of the next would fail WeChat's check.
	sec := s.now().Unix()
	ts, nc := strconv.FormatInt(sec, 10), nonce()
	// silenceper's ResponseEncryptedXMLMsg, as xml.Marshal writes it.
	var w xmlWriter
	w.open("xml")
	w.text("Encrypt", enc)
	w.text("MsgSignature", sign(s.token, ts, nc, enc))
	w.num("TimeStamp", sec)
	w.text("Nonce", nc)
	w.close("xml")
	return w.b, nil
}

// ReplyXML renders r as WeChat's passive reply from account to user, or
// nil when WeChat must get "success": nothing to say, an empty text or
// card, or a hand-off asked for an event (WeChat hands over user messages
// only). Text is cut at MaxTextBytes on a character boundary as a last
// guard; the bot should already keep within it.
func ReplyXML(user, account string, now time.Time, m bot.Message, r bot.Reply) ([]byte, error) {
	var typ message.MsgType
	switch r.Kind {
	case bot.ReplyNone:
		return nil, nil
	case bot.ReplyText:
		if strings.TrimSpace(r.Text) == "" {
			return nil, nil
		}
		typ = message.MsgTypeText
	case bot.ReplyNews:
		if a := r.Article; a == nil || a.Title == "" {
			return nil, nil
		}
		typ = message.MsgTypeNews
	case bot.ReplyTransfer:
		if m.Type == bot.TypeEvent {
			return nil, nil
		}
		typ = message.MsgTypeTransfer
	default:
		return nil, fmt.Errorf("wechat: unknown reply kind %d", r.Kind)
	}
	// Written directly, byte for byte what xml.Marshal makes of
	// silenceper's reply types (TestReplyXMLAsSilenceper): marshalling
	// them by reflection was half the cost of sealing a reply.
	var w xmlWriter
	w.open("xml")
	w.cdata("ToUserName", user)
	w.cdata("FromUserName", account)
	w.num("CreateTime", now.Unix())
	w.text("MsgType", string(typ))
	switch r.Kind {
	case bot.ReplyText:
		w.cdata("Content", TruncateText(r.Text, bot.MaxTextBytes))
	case bot.ReplyNews:
		a := r.Article
		w.num("ArticleCount", 1)
		w.open("Articles")
		w.open("item")
		w.textOmitEmpty("Title", a.Title)
		w.textOmitEmpty("Description", a.Description)
		w.textOmitEmpty("PicUrl", a.PicURL)
		w.textOmitEmpty("Url", a.URL)
		w.close("item")
		w.close("Articles")
	}
	w.close("xml")
	return w.b, nil
}

// TruncateText cuts s to at most max bytes without splitting a character,
// ending with "…" when it cut.
func TruncateText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ell = "…"
	cut := max - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}
