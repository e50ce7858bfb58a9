// Package wxapi is edubot's client of the WeChat Official Account API:
// one stable access token shared by every replica through Redis (fetched
// with silenceper's credential.NewStableAccessToken, refreshed by one
// replica at a time under a Redis lock), customer-service messages, mass
// send and preview, user tags and the custom menu. Every call has a
// timeout and a context; a call refused with 40001/42001 refreshes the
// token once and is retried.
package wxapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// DefaultBase is WeChat's API host; silenceper has it written into its URLs.
const DefaultBase = "https://api.weixin.qq.com"

// Options configure a Client.
type Options struct {
	AppID, AppSecret string
	BaseURL          string        // API base (a proxy, or the fake in tests); default DefaultBase
	Timeout          time.Duration // per HTTP call; default 5 s
	Redis            redis.UniversalClient
	Prefix           string        // Redis key prefix, e.g. "edubot:"
	LockTTL          time.Duration // how long one replica may hold the refresh lock; default 10 s
	Logger           *slog.Logger
}

// Client calls the WeChat API. Safe for concurrent use.
type Client struct {
	appID    string
	base     string
	http     *http.Client
	rdb      redis.UniversalClient
	stable   *credential.StableAccessToken
	tokenKey string
	lockKey  string
	lockTTL  time.Duration
	log      *slog.Logger
}

// sdkOnce installs silenceper's process-wide settings once; sdkBase is
// the API base its URL modifier rewrites to (replaced by later clients,
// read by the modifier without locks).
var (
	sdkOnce sync.Once
	sdkBase atomic.Pointer[string]
)

// configureSDK points silenceper's hard-coded URLs at base and gives its
// HTTP client a timeout (it has none by default). Both are process-wide,
// so they are installed once; the base is one per process.
func configureSDK(base string, timeout time.Duration) {
	sdkBase.Store(&base)
	sdkOnce.Do(func() {
		util.DefaultHTTPClient = &http.Client{Timeout: timeout}
		util.SetURIModifier(func(uri string) string {
			if rest, ok := strings.CutPrefix(uri, DefaultBase); ok {
				return *sdkBase.Load() + rest
			}
			return uri
		})
	})
}

// New returns a client. It configures silenceper's process-wide URL
// modifier and HTTP client: create clients once, at start-up.
func New(o Options) (*Client, error) {
	if o.AppID == "" || o.AppSecret == "" {
		return nil, errors.New("wxapi: wechat app_id and EDUBOT_WECHAT_APP_SECRET are required to call the WeChat API")
	}
	if o.Redis == nil {
		return nil, errors.New("wxapi: a Redis client is required (the token is shared through it)")
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBase
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if !strings.HasPrefix(o.BaseURL, "http://") && !strings.HasPrefix(o.BaseURL, "https://") {
		return nil, fmt.Errorf("wxapi: wechat.api_base must be an http(s) URL, got %q", o.BaseURL)
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.LockTTL <= 0 {
		o.LockTTL = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	configureSDK(o.BaseURL, o.Timeout)
	// silenceper builds the cache key as "<prefix>_stable_access_token_<appid>".
	cachePrefix := o.Prefix + "wx:token"
	h := credential.NewStableAccessToken(o.AppID, o.AppSecret, cachePrefix, NewCache(o.Redis, o.Timeout))
	stable, ok := h.(*credential.StableAccessToken)
	if !ok {
		return nil, fmt.Errorf("wxapi: unexpected silenceper token handle %T", h)
	}
	return &Client{
		appID:    o.AppID,
		base:     o.BaseURL,
		http:     &http.Client{Timeout: o.Timeout},
		rdb:      o.Redis,
		stable:   stable,
		tokenKey: fmt.Sprintf("%s_stable_access_token_%s", cachePrefix, o.AppID),
		lockKey:  o.Prefix + "wx:token:lock",
		lockTTL:  o.LockTTL,
		log:      o.Logger,
	}, nil
}

// Token returns the shared access token, fetching one if none is cached.
func (c *Client) Token(ctx context.Context) (string, error) {
	v, err := c.rdb.Get(ctx, c.tokenKey).Result()
	switch {
	case err == nil && v != "":
		return v, nil
	case err != nil && !errors.Is(err, redis.Nil):
		return "", fmt.Errorf("wxapi: token cache: %w", err)
	}
	return c.refresh(ctx, "")
}

var releaseLock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// refresh gets a token other than bad (a token WeChat just refused, or
// "") while holding the Redis lock, so that one replica at a time talks to
// WeChat; the others wait for the cache to fill.
func (c *Client) refresh(ctx context.Context, bad string) (string, error) {
	id := randHex(8)
	wait := time.NewTimer(0)
	defer wait.Stop()
	deadline := time.Now().Add(2 * c.lockTTL)
	for {
		ok, err := c.rdb.SetNX(ctx, c.lockKey, id, c.lockTTL).Result()
		if err != nil {
			return "", fmt.Errorf("wxapi: token lock: %w", err)
		}
		if ok {
			break
		}
		// Someone else is refreshing: use their token when it lands.
		if v, err := c.rdb.Get(ctx, c.tokenKey).Result(); err == nil && v != "" && v != bad {
			return v, nil
		}
		if time.Now().After(deadline) {
			return "", errors.New("wxapi: timed out waiting for another replica to refresh the access token")
		}
		wait.Reset(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-wait.C:
		}
	}
	defer func() {
		// Release with a fresh context: the caller's may be cancelled.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = releaseLock.Run(rctx, c.rdb, []string{c.lockKey}, id).Err()
	}()

	if v, err := c.rdb.Get(ctx, c.tokenKey).Result(); err == nil && v != "" && v != bad {
		return v, nil
	}
	if bad != "" {
		if err := c.rdb.Del(ctx, c.tokenKey).Err(); err != nil {
			return "", fmt.Errorf("wxapi: token cache: %w", err)
		}
	}
	tok, err := c.stable.GetAccessTokenContext(ctx)
	if err != nil {
		return "", fromSDK("stable_token", err)
	}
	if tok == bad {
		// WeChat still hands out the token it refused: force a new one
		// (this invalidates the old token for every caller).
		c.log.Warn("wechat refused the current stable token; forcing a refresh")
		res, err := c.stable.GetAccessTokenDirectly(ctx, true)
		if err != nil {
			return "", fromSDK("stable_token", err)
		}
		tok = res.AccessToken
		if ttl := time.Duration(res.ExpiresIn-300) * time.Second; ttl > 0 {
			if err := c.rdb.Set(ctx, c.tokenKey, tok, ttl).Err(); err != nil {
				return "", fmt.Errorf("wxapi: token cache: %w", err)
			}
		}
	}
	c.log.Info("wechat access token refreshed")
	return tok, nil
}

type commonReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// call sends one API request (POST with a JSON body, or GET when body is
// nil) and decodes the reply into out (also when WeChat answers an error,
// for replies that carry data with it). On 40001/42001 it refreshes the
// token once and retries: WeChat rejected the call before doing anything.
func (c *Client) call(ctx context.Context, api string, body, out any) error {
	var payload []byte
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // WeChat shows "&" and "<" literally
		if err := enc.Encode(body); err != nil {
			return fmt.Errorf("wechat %s: encode: %w", api, err)
		}
		payload = buf.Bytes()
	}
	tok, err := c.Token(ctx)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		raw, err := c.do(ctx, api, tok, payload)
		if err != nil {
			return err
		}
		var cr commonReply
		if err := json.Unmarshal(raw, &cr); err != nil {
			return fmt.Errorf("wechat %s: decode reply: %w", api, err)
		}
		if (cr.ErrCode == 40001 || cr.ErrCode == 42001) && attempt == 0 {
			c.log.Info("wechat token refused; refreshing once", "api", api, "errcode", cr.ErrCode)
			if tok, err = c.refresh(ctx, tok); err != nil {
				return err
			}
			continue
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("wechat %s: decode reply: %w", api, err)
			}
		}
		if cr.ErrCode != 0 {
			return &APIError{API: api, Code: cr.ErrCode, Msg: cr.ErrMsg}
		}
		return nil
	}
}

func (c *Client) do(ctx context.Context, api, tok string, payload []byte) ([]byte, error) {
	method := http.MethodGet
	var rd io.Reader
	if payload != nil {
		method, rd = http.MethodPost, bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/cgi-bin/"+api+"?access_token="+tok, rd)
	if err != nil {
		return nil, fmt.Errorf("wechat %s: %w", api, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL holds the token: report the API name only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("wechat %s: %w", api, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("wechat %s: read reply: %w", api, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("wechat %s: HTTP %d", api, resp.StatusCode)
	}
	return raw, nil
}

// Article is one news card of a customer-service message.
type Article struct {
	Title, Description, URL, PicURL string
}

// SendNews sends a customer-service news message with one article to
// openid (allowed within 48 hours of the user's last message, 5 times).
func (c *Client) SendNews(ctx context.Context, openid string, a Article) error {
	msg := &message.CustomerMessage{
		ToUser:  openid,
		Msgtype: message.MsgTypeNews,
		News: &message.MediaNews{Articles: []message.MediaArticles{{
			Title: a.Title, Description: a.Description, URL: a.URL, Picurl: a.PicURL,
		}}},
	}
	return c.call(ctx, "message/custom/send", msg, nil)
}

// SendText sends a customer-service text message.
func (c *Client) SendText(ctx context.Context, openid, text string) error {
	return c.call(ctx, "message/custom/send", message.NewCustomerTextMessage(openid, text), nil)
}

// MassTarget says who a mass send goes to: every follower, or one tag.
type MassTarget struct {
	ToAll bool
	TagID int
}

type massText struct {
	Content string `json:"content"`
}

// MassSendText mass-sends a text message. clientMsgID (at most 64 bytes)
// makes a retried request harmless: if WeChat already accepted a send
// with it, the earlier msg_id is returned and nothing is sent again.
func (c *Client) MassSendText(ctx context.Context, to MassTarget, text, clientMsgID string) (msgID int64, err error) {
	filter := map[string]any{"is_to_all": to.ToAll}
	if !to.ToAll {
		filter["tag_id"] = to.TagID
	}
	req := map[string]any{
		"filter":      filter,
		"msgtype":     "text",
		"text":        massText{Content: text},
		"clientmsgid": clientMsgID,
	}
	var out struct {
		MsgID int64 `json:"msg_id"`
	}
	err = c.call(ctx, "message/mass/sendall", req, &out)
	if errors.Is(err, ErrClientMsgIDUsed) && out.MsgID != 0 {
		return out.MsgID, nil
	}
	if err != nil {
		return 0, err
	}
	return out.MsgID, nil
}

// MassPreviewText sends the mass message to one follower only (100 a day).
func (c *Client) MassPreviewText(ctx context.Context, openid, text string) error {
	req := map[string]any{"touser": openid, "msgtype": "text", "text": massText{Content: text}}
	return c.call(ctx, "message/mass/preview", req, nil)
}

// MassStatus returns WeChat's status of a mass send (SEND_SUCCESS, SENDING, SEND_FAIL, DELETE).
func (c *Client) MassStatus(ctx context.Context, msgID int64) (string, error) {
	var out struct {
		Status string `json:"msg_status"`
	}
	if err := c.call(ctx, "message/mass/get", map[string]any{"msg_id": msgID}, &out); err != nil {
		return "", err
	}
	return out.Status, nil
}

// Tag is a user tag of the account.
type Tag struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Tags lists the account's user tags.
func (c *Client) Tags(ctx context.Context) ([]Tag, error) {
	var out struct {
		Tags []Tag `json:"tags"`
	}
	if err := c.call(ctx, "tags/get", nil, &out); err != nil {
		return nil, err
	}
	return out.Tags, nil
}

// Button is one custom-menu button as the menu/create API takes it.
type Button struct {
	Type      string   `json:"type,omitempty"` // click, view, …; empty for a button with sub-buttons
	Name      string   `json:"name"`
	Key       string   `json:"key,omitempty"`
	URL       string   `json:"url,omitempty"`
	SubButton []Button `json:"sub_button,omitempty"`
}

// CreateMenu replaces the account's custom menu.
func (c *Client) CreateMenu(ctx context.Context, buttons []Button) error {
	return c.call(ctx, "menu/create", map[string]any{"button": buttons}, nil)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateMenuJSON replaces the custom menu with a ready menu/create body
// ({"button":[…]}, e.g. from bot/menu).
func (c *Client) CreateMenuJSON(ctx context.Context, body []byte) error {
	if !json.Valid(body) {
		return errors.New("wechat menu/create: body is not JSON")
	}
	return c.call(ctx, "menu/create", json.RawMessage(body), nil)
}
