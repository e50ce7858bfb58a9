// Package wxfake is a fake of the WeChat Official Account API for tests and
// local trials: the endpoints edubot calls (token, stable_token, custom
// send, mass send/preview/get as text or 图文 (mpnews), drafts, thumb
// material, tags, menu create/get, media/uploadimg), with
// WeChat's documented request validation, error codes, token expiry and
// quotas. It records every call it receives so tests can assert on exactly
// what WeChat would have been sent, and lets tests set who messaged when,
// expire tokens and inject errors. No test needs the real API.
package wxfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WeChat error codes the fake returns.
const (
	CodeOK              = 0
	CodeSystemBusy      = -1
	CodeInvalidToken    = 40001 // invalid credential (also a wrong AppSecret on /cgi-bin/token)
	CodeBadGrantType    = 40002
	CodeInvalidOpenID   = 40003
	CodeInvalidMsgType  = 40008
	CodeInvalidAppID    = 40013
	CodeButtonCount     = 40016
	CodeButtonType      = 40017
	CodeButtonName      = 40018
	CodeButtonKey       = 40019
	CodeSubButtonCount  = 40023
	CodeSubButtonType   = 40024
	CodeSubButtonName   = 40025
	CodeSubButtonKey    = 40026
	CodeSubButtonURL    = 40027
	CodeButtonURL       = 40055
	CodeIPNotWhitelist  = 40164
	CodeMissingToken    = 41001
	CodeTokenExpired    = 42001
	CodeEmptyNews       = 44003
	CodeEmptyText       = 44004
	CodeDataFormat      = 47001
	CodeArticleCount    = 45008
	CodeAPIQuota        = 45009
	CodeOutsideWindow   = 45015
	CodeMassQuota       = 45028
	CodeTooManyCS       = 45047
	CodeClientMsgIDUsed = 45065
	CodeInvalidTag      = 45159
	CodeUnauthorized    = 48001
	CodeUnknownMsgID    = 40007
	CodeInvalidMedia    = 40007 // invalid media_id (a draft or thumb the account does not have)
	CodeInvalidFileType = 40005
	CodeInvalidSize     = 40009
	CodeContentSize     = 45002 // article content over 20,000 characters
	CodeTitleSize       = 45003 // title over 64 characters
	CodeDigestSize      = 45004 // digest over 120 characters
)

// Limits WeChat applies (FACTS.md).
const (
	CSWindow      = 48 * time.Hour // customer-service messages after a user message
	CSPerWindow   = 5
	PreviewPerDay = 100
)

// Account types.
const (
	Subscription = "subscription" // 订阅号: 1 mass send a day
	Service      = "service"      // 服务号: 4 mass sends a month
)

// Config describes the fake account.
type Config struct {
	AppID, AppSecret string
	AccountType      string           // Subscription (default) or Service
	TokenTTL         time.Duration    // default 7200 s
	RotateGrace      time.Duration    // how long a classic token stays valid after the next fetch; default 5 min, <0 = at once
	Now              func() time.Time // default time.Now
	Location         *time.Location   // for the daily/monthly quotas; default Asia/Shanghai (UTC+8)
}

// Call is one request the fake received, with the errcode it answered.
type Call struct {
	Time    time.Time       `json:"time"`
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Query   url.Values      `json:"query,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
	ErrCode int             `json:"errcode"`
}

// Token is the access token a call carried ("" if none).
func (c Call) Token() string { return c.Query.Get("access_token") }

// Mass is one accepted mass send.
type Mass struct {
	MsgID       int64           `json:"msg_id"`
	ClientMsgID string          `json:"clientmsgid,omitempty"`
	ToAll       bool            `json:"is_to_all"`
	TagID       int             `json:"tag_id,omitempty"`
	Recipients  []string        `json:"recipients"`
	Body        json.RawMessage `json:"body"`
	At          time.Time       `json:"at"`
	MsgType     string          `json:"msgtype"`            // text or mpnews
	MediaID     string          `json:"media_id,omitempty"` // mpnews: the draft
	// IgnoreReprint is send_ignore_reprint; Reprint that the draft was
	// judged a reprint (MarkReprint), which stops the send unless ignored.
	IgnoreReprint bool `json:"send_ignore_reprint,omitempty"`
	Reprint       bool `json:"reprint,omitempty"`
}

// MassResult is what WeChat's MASSSENDJOBFINISH event would report.
type MassResult struct {
	MsgID                                          int64
	Status                                         string
	TotalCount, FilterCount, SentCount, ErrorCount int
}

type token struct {
	value   string
	expires time.Time
	revoked bool
}

type follower struct {
	lastMessage time.Time
	csSent      int // customer-service messages since lastMessage
	tags        map[int]bool
}

// Server is a running fake.
type Server struct {
	URL string
	srv *httptest.Server
	cfg Config

	mu           sync.Mutex
	calls        []Call
	tokens       map[string]*token
	classic      *token
	stable       *token
	followers    map[string]*follower
	tags         map[int]string
	nextTag      int
	masses       []*Mass
	byClient     map[string]*Mass
	nextMsgID    int64
	previews     map[string]int // day → count
	menu         json.RawMessage
	inject       map[string][]int
	blockedIP    bool
	unauthorized map[string]bool
	apiQuota     map[string]int // path → calls left (absent = unlimited)
	hook         func(Call)
	drafts       map[string]*Draft
	thumbs       map[string]bool // thumb media_ids
	reprints     map[string]bool // draft media_ids judged reprints
}

// New starts a fake on a local port. Close it when done.
func New(cfg Config) *Server {
	s := NewUnstarted(cfg)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// NewUnstarted returns a fake without a listener, to serve with Handler
// on an address of one's choosing (edubot wxfake).
func NewUnstarted(cfg Config) *Server {
	if cfg.AppID == "" {
		cfg.AppID = "wxfake0000000000"
	}
	if cfg.AppSecret == "" {
		cfg.AppSecret = "fakesecret"
	}
	if cfg.AccountType == "" {
		cfg.AccountType = Subscription
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 7200 * time.Second
	}
	if cfg.RotateGrace == 0 {
		cfg.RotateGrace = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	return &Server{
		cfg:          cfg,
		tokens:       map[string]*token{},
		followers:    map[string]*follower{},
		tags:         map[int]string{},
		nextTag:      100,
		byClient:     map[string]*Mass{},
		nextMsgID:    1000000001,
		previews:     map[string]int{},
		inject:       map[string][]int{},
		unauthorized: map[string]bool{},
		apiQuota:     map[string]int{},
		drafts:       map[string]*Draft{},
		thumbs:       map[string]bool{},
		reprints:     map[string]bool{},
	}
}

// Close stops the listener.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// Config returns the account's settings (AppID and AppSecret to configure a client).
func (s *Server) Config() Config { return s.cfg }

// --- test controls ---

// AddFollower makes openid a follower, in the named tags (created as needed).
func (s *Server) AddFollower(openid string, tags ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.follower(openid)
	for _, name := range tags {
		f.tags[s.tagID(name)] = true
	}
}

// UserMessaged records that openid (made a follower) sent a message at t:
// it opens a 48-hour customer-service window and resets the count.
func (s *Server) UserMessaged(openid string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.follower(openid)
	f.lastMessage, f.csSent = at, 0
}

func (s *Server) follower(openid string) *follower {
	f := s.followers[openid]
	if f == nil {
		f = &follower{tags: map[int]bool{}}
		s.followers[openid] = f
	}
	return f
}

func (s *Server) tagID(name string) int {
	for id, n := range s.tags {
		if n == name {
			return id
		}
	}
	s.nextTag++
	s.tags[s.nextTag] = name
	return s.nextTag
}

// TagID returns the id of a tag, creating it.
func (s *Server) TagID(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tagID(name)
}

// ExpireTokens makes every issued token expired (42001); the next
// stable_token call issues a new one.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.cfg.Now().Add(-time.Second)
	for _, t := range s.tokens {
		if t.expires.After(past) {
			t.expires = past
		}
	}
}

// RevokeTokens makes every issued token invalid (40001), as when another
// system force-refreshes the token.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
}

// InjectError makes the next calls to path answer with the given errcodes,
// one per call, after the token, permission and quota checks.
func (s *Server) InjectError(path string, codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject[path] = append(s.inject[path], codes...)
}

// SetIPWhitelisted toggles 40164 for every call (including token fetches).
func (s *Server) SetIPWhitelisted(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blockedIP = !ok
}

// SetUnauthorized makes calls to path answer 48001 (no permission).
func (s *Server) SetUnauthorized(path string, unauthorized bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unauthorized[path] = unauthorized
}

// SetAPIQuota allows n more successful-or-not calls to path; then 45009.
func (s *Server) SetAPIQuota(path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiQuota[path] = n
}

// OnCall registers a function run after each call is recorded (outside
// the fake's lock, so it may call ExpireTokens and the like).
func (s *Server) OnCall(fn func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// Calls returns every call received, oldest first; with paths, only those.
func (s *Server) Calls(paths ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(paths) == 0 || contains(paths, c.Path) {
			out = append(out, c)
		}
	}
	return out
}

// Delivered returns, per openid, how many customer-service messages were
// accepted (errcode 0).
func (s *Server) Delivered() map[string]int {
	out := map[string]int{}
	for _, c := range s.Calls(PathCustomSend) {
		if c.ErrCode != 0 {
			continue
		}
		var m struct {
			ToUser string `json:"touser"`
		}
		_ = json.Unmarshal(c.Body, &m)
		out[m.ToUser]++
	}
	return out
}

// Masses returns the accepted mass sends.
func (s *Server) Masses() []Mass {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mass, len(s.masses))
	for i, m := range s.masses {
		out[i] = *m
	}
	return out
}

// FinishMass returns the counts WeChat would report in MASSSENDJOBFINISH
// for msgID: every targeted follower counted as sent.
func (s *Server) FinishMass(msgID int64) (MassResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.masses {
		if m.MsgID == msgID {
			n := len(m.Recipients)
			if m.Reprint && !m.IgnoreReprint {
				// 原创校验: judged a reprint, and the sender chose not to send then.
				return MassResult{MsgID: msgID, Status: "err(30003)", TotalCount: n, FilterCount: n, ErrorCount: n}, true
			}
			return MassResult{MsgID: msgID, Status: "send success", TotalCount: n, FilterCount: n, SentCount: n}, true
		}
	}
	return MassResult{}, false
}

// Menu returns the menu last created (nil if none).
func (s *Server) Menu() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.menu
}

// --- HTTP ---

// Paths of the endpoints.
const (
	PathToken       = "/cgi-bin/token"
	PathStableToken = "/cgi-bin/stable_token"
	PathCustomSend  = "/cgi-bin/message/custom/send"
	PathMassSendAll = "/cgi-bin/message/mass/sendall"
	PathMassPreview = "/cgi-bin/message/mass/preview"
	PathMassGet     = "/cgi-bin/message/mass/get"
	PathTagsGet     = "/cgi-bin/tags/get"
	PathMenuCreate  = "/cgi-bin/menu/create"
	PathMenuGet     = "/cgi-bin/menu/get"
	PathUploadImg   = "/cgi-bin/media/uploadimg"
	PathAddMaterial = "/cgi-bin/material/add_material"
	PathDraftAdd    = "/cgi-bin/draft/add"
)

type reply map[string]any

func errReply(code int, msg string) reply {
	return reply{"errcode": code, "errmsg": fmt.Sprintf("%s rid: %s", msg, randHex(6))}
}

// ServeHTTP implements http.Handler: the WeChat endpoints, plus /_fake/
// control endpoints for standalone use.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.control(w, r)
		return
	}
	if r.URL.Path == PathUploadImg || r.URL.Path == PathAddMaterial {
		s.serveUpload(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	rep := s.handle(r.Method, r.URL.Path, r.URL.Query(), body)
	code, _ := rep["errcode"].(int)
	call := Call{Time: s.cfg.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), ErrCode: code}
	if json.Valid(body) {
		call.Body = json.RawMessage(body)
	} else if len(body) > 0 {
		call.Body, _ = json.Marshal(string(body))
	}
	s.calls = append(s.calls, call)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(call)
	}
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(rep)
}

// handle runs with s.mu held.
func (s *Server) handle(method, path string, q url.Values, body []byte) reply {
	if s.blockedIP {
		return errReply(CodeIPNotWhitelist, "invalid ip 127.0.0.1, not in whitelist")
	}
	switch path {
	case PathToken:
		return s.classicToken(q)
	case PathStableToken:
		if method != http.MethodPost {
			return errReply(CodeDataFormat, "data format error")
		}
		return s.stableToken(body)
	}
	handlers := map[string]func([]byte) reply{
		PathCustomSend:  s.customSend,
		PathMassSendAll: s.massSendAll,
		PathMassPreview: s.massPreview,
		PathMassGet:     s.massGet,
		PathTagsGet:     func([]byte) reply { return s.tagsGet() },
		PathMenuCreate:  s.menuCreate,
		PathMenuGet:     func([]byte) reply { return s.menuGet() },
		PathDraftAdd:    s.draftAdd,
	}
	h, ok := handlers[path]
	if !ok {
		return errReply(CodeDataFormat, "invalid url "+path+" (not in the fake)")
	}
	if rep := s.checkToken(q.Get("access_token")); rep != nil {
		return rep
	}
	if rep := s.quota(path); rep != nil {
		return rep
	}
	if method != http.MethodPost && path != PathTagsGet && path != PathMenuGet {
		return errReply(CodeDataFormat, "data format error: POST required")
	}
	return h(body)
}

// quota applies SetAPIQuota and InjectError to one call (s.mu held).
func (s *Server) quota(path string) reply {
	if s.unauthorized[path] {
		return errReply(CodeUnauthorized, "api unauthorized")
	}
	if left, ok := s.apiQuota[path]; ok {
		if left <= 0 {
			return errReply(CodeAPIQuota, "reach max api daily quota limit")
		}
		s.apiQuota[path] = left - 1
	}
	if codes := s.inject[path]; len(codes) > 0 {
		s.inject[path] = codes[1:]
		return errReply(codes[0], "injected error")
	}
	return nil
}

func (s *Server) checkToken(v string) reply {
	if v == "" {
		return errReply(CodeMissingToken, "access_token missing")
	}
	t := s.tokens[v]
	switch {
	case t == nil || t.revoked:
		return errReply(CodeInvalidToken, "invalid credential, access_token is invalid or not latest")
	case !s.cfg.Now().Before(t.expires):
		return errReply(CodeTokenExpired, "access_token expired")
	}
	return nil
}

func (s *Server) checkCredentials(appid, secret string) reply {
	if appid != s.cfg.AppID {
		return errReply(CodeInvalidAppID, "invalid appid")
	}
	if secret != s.cfg.AppSecret {
		return errReply(CodeInvalidToken, "invalid credential, access_token is invalid or not latest")
	}
	return nil
}

func (s *Server) issue() *token {
	t := &token{value: "FAKE_" + randHex(24), expires: s.cfg.Now().Add(s.cfg.TokenTTL)}
	s.tokens[t.value] = t
	return t
}

func (s *Server) tokenReply(t *token) reply {
	left := int(t.expires.Sub(s.cfg.Now()) / time.Second)
	return reply{"access_token": t.value, "expires_in": left}
}

// classicToken: every fetch issues a new token; the previous one stays
// valid for RotateGrace only.
func (s *Server) classicToken(q url.Values) reply {
	if q.Get("grant_type") != "client_credential" {
		return errReply(CodeBadGrantType, "invalid grant_type")
	}
	if rep := s.checkCredentials(q.Get("appid"), q.Get("secret")); rep != nil {
		return rep
	}
	if old := s.classic; old != nil {
		if until := s.cfg.Now().Add(s.cfg.RotateGrace); s.cfg.RotateGrace < 0 || until.Before(old.expires) {
			old.expires = until
			if s.cfg.RotateGrace < 0 {
				old.revoked = true
			}
		}
	}
	s.classic = s.issue()
	return s.tokenReply(s.classic)
}

// stableToken returns the current stable token while it is valid; a new
// one when it expired or was revoked, or on force_refresh (which
// invalidates the old one at once).
func (s *Server) stableToken(body []byte) reply {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errReply(CodeDataFormat, "data format error")
	}
	if req.GrantType != "client_credential" {
		return errReply(CodeBadGrantType, "invalid grant_type")
	}
	if rep := s.checkCredentials(req.AppID, req.Secret); rep != nil {
		return rep
	}
	cur := s.stable
	valid := cur != nil && !cur.revoked && s.cfg.Now().Before(cur.expires)
	if valid && !req.ForceRefresh {
		return s.tokenReply(cur)
	}
	if cur != nil {
		cur.revoked = true
	}
	s.stable = s.issue()
	return s.tokenReply(s.stable)
}

type article struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	PicURL      string `json:"picurl"`
}

func (s *Server) customSend(body []byte) reply {
	var req struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		News *struct {
			Articles []article `json:"articles"`
		} `json:"news"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errReply(CodeDataFormat, "data format error")
	}
	f := s.followers[req.ToUser]
	if f == nil {
		return errReply(CodeInvalidOpenID, "invalid openid")
	}
	switch req.MsgType {
	case "text":
		if req.Text == nil || strings.TrimSpace(req.Text.Content) == "" {
			return errReply(CodeEmptyText, "empty content")
		}
	case "news":
		if req.News == nil || len(req.News.Articles) == 0 {
			return errReply(CodeEmptyNews, "empty news data")
		}
		if len(req.News.Articles) > 1 {
			return errReply(CodeArticleCount, "article size out of limit")
		}
		if a := req.News.Articles[0]; a.Title == "" || a.URL == "" {
			return errReply(CodeEmptyNews, "empty news data: title and url required")
		}
	default:
		return errReply(CodeInvalidMsgType, "invalid message type")
	}
	now := s.cfg.Now()
	if f.lastMessage.IsZero() || now.Sub(f.lastMessage) > CSWindow {
		return errReply(CodeOutsideWindow, "response out of time limit or subscription is canceled")
	}
	if f.csSent >= CSPerWindow {
		return errReply(CodeTooManyCS, "out of response count limit")
	}
	f.csSent++
	return reply{"errcode": 0, "errmsg": "ok"}
}

type massRequest struct {
	Filter *struct {
		IsToAll bool `json:"is_to_all"`
		TagID   *int `json:"tag_id"`
	} `json:"filter"`
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	MpNews *struct {
		MediaID string `json:"media_id"`
	} `json:"mpnews"`
	ClientMsgID       string `json:"clientmsgid"`
	SendIgnoreReprint int    `json:"send_ignore_reprint"`
}

func (m massRequest) check() reply {
	switch m.MsgType {
	case "text":
		if m.Text == nil || strings.TrimSpace(m.Text.Content) == "" {
			return errReply(CodeEmptyText, "empty content")
		}
	case "mpnews":
		if m.MpNews == nil || m.MpNews.MediaID == "" {
			return errReply(40007, "invalid media_id")
		}
	default:
		return errReply(CodeInvalidMsgType, "invalid message type")
	}
	return nil
}

// massQuota reports whether another mass send is allowed now.
func (s *Server) massQuota() bool {
	now := s.cfg.Now().In(s.cfg.Location)
	n := 0
	for _, m := range s.masses {
		at := m.At.In(s.cfg.Location)
		switch s.cfg.AccountType {
		case Service:
			if at.Year() == now.Year() && at.Month() == now.Month() {
				n++
			}
		default:
			if at.Format("2006-01-02") == now.Format("2006-01-02") {
				n++
			}
		}
	}
	if s.cfg.AccountType == Service {
		return n < 4
	}
	return n < 1
}

func (s *Server) massSendAll(body []byte) reply {
	var req massRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Filter == nil {
		return errReply(CodeDataFormat, "data format error: filter required")
	}
	if rep := req.check(); rep != nil {
		return rep
	}
	if rep := s.checkDraft(req); rep != nil {
		return rep
	}
	if !req.Filter.IsToAll && req.Filter.TagID == nil {
		return errReply(CodeDataFormat, "data format error: tag_id required unless is_to_all")
	}
	if req.ClientMsgID != "" {
		if len(req.ClientMsgID) > 64 {
			return errReply(CodeDataFormat, "clientmsgid longer than 64 bytes")
		}
		if m := s.byClient[req.ClientMsgID]; m != nil && s.cfg.Now().Sub(m.At) < 24*time.Hour {
			rep := errReply(CodeClientMsgIDUsed, "clientmsgid exist")
			rep["msg_id"] = m.MsgID
			return rep
		}
	}
	var recipients []string
	m := &Mass{ClientMsgID: req.ClientMsgID, ToAll: req.Filter.IsToAll, Body: json.RawMessage(body), MsgType: req.MsgType}
	if req.MsgType == "mpnews" {
		m.MediaID, m.IgnoreReprint, m.Reprint = req.MpNews.MediaID, req.SendIgnoreReprint == 1, s.reprints[req.MpNews.MediaID]
	}
	if !req.Filter.IsToAll {
		m.TagID = *req.Filter.TagID
		if _, ok := s.tags[m.TagID]; !ok {
			return errReply(CodeInvalidTag, "invalid tag")
		}
	}
	for id, f := range s.followers {
		if m.ToAll || f.tags[m.TagID] {
			recipients = append(recipients, id)
		}
	}
	if !s.massQuota() {
		return errReply(CodeMassQuota, "has no masssend quota")
	}
	sort.Strings(recipients)
	m.Recipients, m.At, m.MsgID = recipients, s.cfg.Now(), s.nextMsgID
	s.nextMsgID++
	s.masses = append(s.masses, m)
	if m.ClientMsgID != "" {
		s.byClient[m.ClientMsgID] = m
	}
	return reply{"errcode": 0, "errmsg": "send job submission success", "msg_id": m.MsgID, "msg_data_id": m.MsgID * 10}
}

func (s *Server) massPreview(body []byte) reply {
	var req massRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return errReply(CodeDataFormat, "data format error")
	}
	if rep := req.check(); rep != nil {
		return rep
	}
	if rep := s.checkDraft(req); rep != nil {
		return rep
	}
	if s.followers[req.ToUser] == nil {
		return errReply(CodeInvalidOpenID, "invalid openid")
	}
	day := s.cfg.Now().In(s.cfg.Location).Format("2006-01-02")
	if s.previews[day] >= PreviewPerDay {
		return errReply(CodeAPIQuota, "reach max api daily quota limit")
	}
	s.previews[day]++
	return reply{"errcode": 0, "errmsg": "preview success", "msg_id": s.nextMsgID}
}

func (s *Server) massGet(body []byte) reply {
	var req struct {
		MsgID json.Number `json:"msg_id"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errReply(CodeDataFormat, "data format error")
	}
	id, _ := strconv.ParseInt(req.MsgID.String(), 10, 64)
	for _, m := range s.masses {
		if m.MsgID == id {
			return reply{"msg_id": id, "msg_status": "SEND_SUCCESS"}
		}
	}
	return errReply(CodeUnknownMsgID, "invalid msg_id")
}

func (s *Server) tagsGet() reply {
	type tag struct {
		ID    int    `json:"id"`
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	out := []tag{}
	for id, name := range s.tags {
		n := 0
		for _, f := range s.followers {
			if f.tags[id] {
				n++
			}
		}
		out = append(out, tag{id, name, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return reply{"tags": out}
}

type button struct {
	Type      string    `json:"type"`
	Name      string    `json:"name"`
	Key       string    `json:"key"`
	URL       string    `json:"url"`
	SubButton []*button `json:"sub_button"`
}

var buttonTypes = map[string]bool{"click": true, "view": true, "scancode_push": true, "scancode_waitmsg": true,
	"pic_sysphoto": true, "pic_photo_or_album": true, "pic_weixin": true, "location_select": true,
	"media_id": true, "article_id": true, "article_view_limited": true, "miniprogram": true}

// menuCreate validates like WeChat: 1–3 buttons, 0–5 sub-buttons, names
// of at most 16 (top) / 60 (sub) bytes, keys of at most 128 bytes, VIEW
// urls of at most 1024 bytes starting with http(s).
func (s *Server) menuCreate(body []byte) reply {
	var req struct {
		Button []*button `json:"button"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errReply(CodeDataFormat, "data format error")
	}
	if len(req.Button) < 1 || len(req.Button) > 3 {
		return errReply(CodeButtonCount, "invalid button size")
	}
	for _, b := range req.Button {
		if b.Name == "" || len(b.Name) > 16 {
			return errReply(CodeButtonName, "invalid button name size")
		}
		if len(b.SubButton) > 0 {
			if len(b.SubButton) > 5 {
				return errReply(CodeSubButtonCount, "invalid sub button size")
			}
			for _, sb := range b.SubButton {
				if !buttonTypes[sb.Type] {
					return errReply(CodeSubButtonType, "invalid sub button type")
				}
				if sb.Name == "" || len(sb.Name) > 60 {
					return errReply(CodeSubButtonName, "invalid sub button name size")
				}
				if sb.Type == "click" && (sb.Key == "" || len(sb.Key) > 128) {
					return errReply(CodeSubButtonKey, "invalid sub button key size")
				}
				if sb.Type == "view" && !validURL(sb.URL) {
					return errReply(CodeSubButtonURL, "invalid sub button url size")
				}
			}
			continue
		}
		if !buttonTypes[b.Type] {
			return errReply(CodeButtonType, "invalid button type")
		}
		if b.Type == "click" && (b.Key == "" || len(b.Key) > 128) {
			return errReply(CodeButtonKey, "invalid button key size")
		}
		if b.Type == "view" && !validURL(b.URL) {
			return errReply(CodeButtonURL, "invalid url")
		}
	}
	s.menu = append(json.RawMessage(nil), body...)
	return reply{"errcode": 0, "errmsg": "ok"}
}

// serveUpload is media/uploadimg (one jpg or png of at most 1 MB in the
// multipart field "media"; the reply is the image's URL) and
// material/add_material (type thumb: a jpg of at most 64 KB; type image:
// jpg or png of at most 10 MB; the reply is a media_id and URL).
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	var rep reply
	var size int64
	material := r.URL.Path == PathAddMaterial
	kind := r.URL.Query().Get("type")
	s.mu.Lock()
	if s.blockedIP {
		rep = errReply(CodeIPNotWhitelist, "invalid ip 127.0.0.1, not in whitelist")
	} else if rep = s.checkToken(r.URL.Query().Get("access_token")); rep == nil {
		rep = s.quota(r.URL.Path)
	}
	if rep == nil {
		s.mu.Unlock()
		f, hdr, err := r.FormFile("media")
		s.mu.Lock()
		limit, types := int64(1<<20), map[string]bool{"image/jpeg": true, "image/png": true}
		if material && kind == "thumb" {
			limit, types = 64<<10, map[string]bool{"image/jpeg": true}
		} else if material {
			limit = 10 << 20
		}
		switch {
		case material && kind != "thumb" && kind != "image":
			rep = errReply(CodeInvalidFileType, "invalid media type (the fake takes thumb and image)")
		case err != nil:
			rep = errReply(CodeDataFormat, "media file missing")
		case hdr.Size > limit:
			rep = errReply(CodeInvalidSize, "invalid image size")
		default:
			head := make([]byte, 8)
			n, _ := io.ReadFull(f, head)
			size = hdr.Size
			url := "http://mmbiz.qpic.cn/fake/" + randHex(8) + "/0"
			switch {
			case !types[http.DetectContentType(head[:n])]:
				rep = errReply(CodeInvalidFileType, "invalid file type")
			case material:
				id := "FAKE_MEDIA_" + randHex(12)
				if kind == "thumb" {
					s.thumbs[id] = true
				}
				rep = reply{"media_id": id, "url": url}
			default:
				rep = reply{"url": url}
			}
		}
		if f != nil {
			_ = f.Close()
		}
	}
	code, _ := rep["errcode"].(int)
	body, _ := json.Marshal(map[string]any{"media_bytes": size})
	s.calls = append(s.calls, Call{Time: s.cfg.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, ErrCode: code})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(rep)
}

func validURL(u string) bool {
	return len(u) <= 1024 && (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://"))
}

func (s *Server) menuGet() reply {
	if s.menu == nil {
		return errReply(46003, "menu no exist")
	}
	return reply{"menu": s.menu}
}

// control serves /_fake/: GET calls, POST message {"openid","tags"} (the
// user follows and messages now), POST expire, POST finish?msg_id=.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	switch r.URL.Path {
	case "/_fake/calls":
		_ = enc.Encode(s.Calls())
	case "/_fake/message":
		var req struct {
			OpenID string   `json:"openid"`
			Tags   []string `json:"tags"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.OpenID == "" {
			http.Error(w, `want {"openid":"…","tags":["…"]}`, http.StatusBadRequest)
			return
		}
		s.AddFollower(req.OpenID, req.Tags...)
		s.UserMessaged(req.OpenID, s.cfg.Now())
		_ = enc.Encode(map[string]string{"ok": req.OpenID})
	case "/_fake/expire":
		s.ExpireTokens()
		_ = enc.Encode(map[string]bool{"expired": true})
	case "/_fake/masses":
		_ = enc.Encode(s.Masses())
	case "/_fake/drafts":
		_ = enc.Encode(s.Drafts())
	case "/_fake/menu":
		_, _ = w.Write(append(s.Menu(), '\n'))
	default:
		http.NotFound(w, r)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
