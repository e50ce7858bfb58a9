package main

// The harness of the browser tests (console_e2e_test.go): the real
// `edubot serve` on 127.0.0.1:0 with the test redis-server and the fake
// WeChat API, driven by one headless Chromium (Debian's `chromium`) for
// all stories. Chromium missing is a failure, not a skip: `make test`
// installs it.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
	"github.com/gdjysjyj/edubot/internal/testredis"
	"github.com/gdjysjyj/edubot/internal/wxfake"
)

// Accounts of the browser tests.
const (
	e2eEditor       = "ann"
	e2eEditorTok    = "ann-editor-token-0123456789"
	e2ePublisher    = "pat"
	e2ePublisherTok = "pat-publisher-token-0123456789"
	e2eTester       = "o-tester-phone-0001" // the preview phone
	// e2eToday is a Sunday: outside office hours all day, so 转人工 leaves
	// a message for staff whatever the time CI runs.
	e2eToday = "2026-11-22"
)

// EnvChromium names the browser binary (default: chromium on PATH, then
// /usr/bin/chromium); EnvScreenshots=1 makes the stories write
// docs/screenshots/*.png.
const (
	EnvChromium    = "EDUBOT_CHROMIUM"
	EnvScreenshots = "EDUBOT_SCREENSHOTS"
)

type harness struct {
	t       *testing.T
	base    string // http://127.0.0.1:PORT
	fake    *wxfake.Server
	rdb     redis.UniversalClient
	prefix  string
	browser context.Context // its Chromium is running; tabs are its children
	peer    *wechat.Peer
	msgID   int64
	shots   string // folder for screenshots; "" = none
}

// chromiumPath finds the browser or fails the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Fatalf("no chromium found for the browser tests: run `make test` (it installs Debian's chromium) or set %s", EnvChromium)
	return ""
}

// startHarness starts serve and the browser; both stop when t ends.
func startHarness(t *testing.T) *harness {
	t.Helper()
	chromium := chromiumPath(t)
	rdb, prefix := testredis.New(t)
	fake := wxfake.New(wxfake.Config{})
	t.Cleanup(fake.Close)
	fake.AddFollower(e2eTester)
	fake.UserMessaged(e2eTester, time.Now())

	for k, v := range map[string]string{
		"EDUBOT_REDIS_ADDRS":               testredis.Addr(t),
		"EDUBOT_REDIS_PREFIX":              prefix,
		"EDUBOT_WECHAT_APP_ID":             fake.Config().AppID,
		"EDUBOT_WECHAT_APP_SECRET":         fake.Config().AppSecret,
		"EDUBOT_WECHAT_API_BASE":           fake.URL,
		"EDUBOT_WECHAT_TOKEN":              "",
		"EDUBOT_WECHAT_AES_KEY":            "",
		"EDUBOT_ADMIN_TOKENS":              e2eEditor + ":editor:" + e2eEditorTok + "," + e2ePublisher + ":publisher:" + e2ePublisherTok,
		"EDUBOT_BROADCAST_PREVIEW_OPENIDS": e2eTester,
		"EDUBOT_NOW":                       e2eToday,
		"EDUBOT_CONTENT":                   "",
		"EDUBOT_LOG_LEVEL":                 "warn",
	} {
		t.Setenv(k, v)
	}
	base, stop := startServe(t, t.TempDir())
	t.Cleanup(stop)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Run starts Chromium; it must not carry a timeout.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browser, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v", chromium, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start within 60 s", chromium)
	}

	h := &harness{t: t, base: base, fake: fake, rdb: rdb, prefix: prefix, browser: browser,
		peer:  &wechat.Peer{Token: config.DevToken, AESKey: config.DevAESKey, AppID: fake.Config().AppID, Mode: wechat.ModeSafe},
		msgID: time.Now().UnixNano()}
	if os.Getenv(EnvScreenshots) == "1" {
		h.shots = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(h.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// tab is one browser tab with its own cookies (a fresh browser context),
// closed when t ends.
type tab struct {
	h   *harness
	t   *testing.T
	ctx context.Context
}

func (h *harness) tab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(h.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	return &tab{h: h, t: t, ctx: ctx}
}

// stepTimeout bounds one browser step: a page that never shows what a
// step waits for fails the story instead of hanging it.
const stepTimeout = 15 * time.Second

// do runs browser steps; a failure ends the story with what the page shows.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\npage %s:\n%s", what, err, b.url(), b.bodyText())
	}
}

// run runs one step that returns a value.
func runStep[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v\npage %s:\n%s", what, err, b.url(), b.bodyText())
	}
	return v
}

func (b *tab) url() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	u, _ := chromedp.Run(ctx, chromedp.Location())
	return u
}

// bodyText is what the page shows (for failure messages).
func (b *tab) bodyText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if r := []rune(s); len(r) > 1500 {
		s = string(r[:1500]) + "…"
	}
	return s
}

// open navigates to a console path (or an absolute URL).
func (b *tab) open(path string) {
	b.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = b.h.base + path
	}
	b.do("open "+path, chromedp.Navigate(u))
}

// waitText waits until the element sel contains want.
func (b *tab) waitText(sel, want string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : ""; })()`, sel)
	var last string
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err == nil {
			last = s
			if strings.Contains(s, want) {
				return
			}
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("waiting for %q in %s: it shows %q\npage %s:\n%s", want, sel, last, b.url(), b.bodyText())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// text is the visible text of the first element matching sel ("" when none).
func (b *tab) text(sel string) string {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : ""; })()`, sel)
	return runStep(b, "read "+sel, chromedp.Evaluate[string](js))
}

// fill sets a field's value as typing would end up (input and change
// events fire, so htmx previews follow). Typing key by key is slow and
// unreliable for Chinese text, which an input method composes anyway.
func (b *tab) fill(sel, text string) {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	b.setValue(sel, text)
}

// setValue sets a field's value (also hidden or long ones, selects).
func (b *tab) setValue(sel, v string) {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.focus(); e.value = %q;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return e.value; })()`, sel, v)
	if got := runStep(b, "set "+sel, chromedp.Evaluate[string](js)); got != v {
		b.t.Fatalf("set %s: the field holds %q", sel, got)
	}
}

// click clicks the first element matching sel and lets the page settle.
func (b *tab) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	b.settle()
}

// settle waits for a navigation or request the last step started.
func (b *tab) settle() {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState + (document.querySelector(".htmx-request") ? "-busy" : "")`))
		if err == nil && s == "complete" {
			return
		}
		if ctx.Err() != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// login signs in through the login page and lands on the home page.
func (b *tab) login(name, token string) {
	b.t.Helper()
	b.open("/console/login")
	b.fill("#name", name)
	b.fill("#token", token)
	b.click("#login")
	b.waitText("body", name)
}

// shot writes docs/screenshots/NAME.png when screenshots are on.
func (b *tab) shot(name string) {
	b.t.Helper()
	if b.h.shots == "" {
		return
	}
	// From the top, nothing focused: a full-page shot of a scrolled page
	// draws the sticky header in the middle.
	runStep(b, "scroll to the top", chromedp.Evaluate[bool](`(() => { if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0); return true; })()`))
	png := runStep(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.h.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// phone makes the tab phone-sized (an iPhone-like 390×844 viewport).
func (b *tab) phone() {
	b.t.Helper()
	b.do("phone size", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
}

// ask sends a signed, encrypted text message to the webhook as WeChat
// would and returns what the phone shows (text, or a news card's title
// and description).
func (h *harness) ask(t *testing.T, user, text string) string {
	t.Helper()
	h.msgID++
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := h.peer.Send(ctx, h.base+"/wechat", wechat.TextMessage("gh_e2e", user, text, h.msgID, time.Now()))
	if err != nil {
		t.Fatalf("webhook %q: %v", text, err)
	}
	if len(r.Articles) > 0 {
		return r.Articles[0].Title + "\n" + r.Articles[0].Description
	}
	return r.Content
}
