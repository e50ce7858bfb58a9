package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gdjysjyj/edubot/handlers/wechat"
	"github.com/gdjysjyj/edubot/internal/config"
)

// chat plays the WeChat server against a running webhook, so a developer
// can talk to the bot as a parent would, without WeChat.
func init() {
	commands["chat"] = command{
		summary: "talk to a running webhook as WeChat would (signed, encrypted), one line a message",
		run:     runChat,
	}
}

const chatHelp = `Type a question and press Enter. Commands:
  /subscribe [SCENE]   follow the account (SCENE: a QR code scene, e.g. qrscene_school)
  /unsubscribe         unfollow (the bot deletes what it kept about you)
  /click KEY           tap a menu button with this CLICK key
  /view URL            tap a menu link
  /voice TEXT          a voice message that WeChat recognised as TEXT
  /image, /video, /location   send a picture, a video, a location
  /user OPENID         continue as another user
  /help                this text
  /quit                leave (or Ctrl-D)`

type chatSession struct {
	peer     *wechat.Peer
	url      string
	account  string // the account's original id (ToUserName)
	name     string // the account's display name
	user     string
	msgID    int64
	lastTime int64
	out      io.Writer
	errw     io.Writer
	timing   bool // show how long each reply took (interactive use)
	failures int
}

func runChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/wechat", "the webhook's URL")
	user := fs.String("user", "oEdubotChatUser000000000001", "the openid to send as")
	plain := fs.Bool("plain", false, "plain mode (明文模式) instead of safe mode (安全模式); serve must run with wechat.mode plain or compat")
	compatible := fs.Bool("compatible", false, "compatible mode (兼容模式): plain fields and ciphertext")
	account := fs.String("account", "gh_edubotdev0", "the account's original id (ToUserName)")
	cfgPath := fs.String("config", "", "YAML config file (token, AES key and app id come from the same env vars as serve)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: edubot chat [--url URL] [--user OPENID] [--plain|--compatible] [--config FILE]")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\n"+chatHelp)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("chat: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	mode := wechat.ModeSafe
	switch {
	case *plain && *compatible:
		return errors.New("chat: --plain and --compatible exclude each other")
	case *plain:
		mode = wechat.ModePlain
	case *compatible:
		mode = wechat.ModeCompatible
	}
	if mode != wechat.ModePlain && cfg.WeChat.AESKey == "" {
		return errors.New("chat: no AES key configured (EDUBOT_WECHAT_AES_KEY): use --plain")
	}
	s := &chatSession{
		peer: &wechat.Peer{Token: cfg.WeChat.Token, AESKey: cfg.WeChat.AESKey, AppID: cfg.WeChat.AppID, Mode: mode,
			Client: &http.Client{Timeout: 10 * time.Second}},
		url: *url, account: *account, name: cfg.Bot.Name, user: *user,
		// Ids that grow across runs too, so a new session's first message
		// is never taken for a retry of an old one.
		msgID: time.Now().UnixMilli() * 1000,
		out:   stdout, errw: stderr,
	}
	interactive := isTerminal(os.Stdin)
	s.timing = interactive
	if interactive {
		fmt.Fprintf(stderr, "edubot chat → %s as %s (%s mode%s). /help for commands, /quit to leave.\n",
			s.url, s.user, mode, map[bool]string{true: ", development keys", false: ""}[cfg.WeChat.DevKeys])
	}
	return s.run(ctx, os.Stdin, interactive)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run reads lines until /quit or the end of input. With piped input it
// returns an error when any message failed, so scripts notice.
func (s *chatSession) run(ctx context.Context, in io.Reader, prompt bool) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines := make(chan string)
	go func() {
		defer close(lines)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		if prompt {
			fmt.Fprint(s.out, "你> ")
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return s.result()
		case line, ok = <-lines:
		}
		if !ok {
			if prompt {
				fmt.Fprintln(s.out)
			}
			return s.result()
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !prompt {
			fmt.Fprintf(s.out, "你> %s\n", line) // echo, so a transcript reads like a chat
		}
		if quit := s.line(ctx, line); quit {
			return s.result()
		}
	}
}

func (s *chatSession) result() error {
	if s.failures > 0 {
		return fmt.Errorf("chat: %d message(s) failed", s.failures)
	}
	return nil
}

// line handles one input line; it reports whether to quit.
func (s *chatSession) line(ctx context.Context, line string) bool {
	now := time.Now()
	if !strings.HasPrefix(line, "/") {
		s.send(ctx, wechat.TextMessage(s.account, s.user, line, s.nextID(), now))
		return false
	}
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch cmd {
	case "/quit", "/exit":
		return true
	case "/help":
		fmt.Fprintln(s.out, chatHelp)
	case "/user":
		if arg == "" {
			fmt.Fprintf(s.out, "(you are %s)\n", s.user)
			return false
		}
		s.user = arg
		fmt.Fprintf(s.out, "(now talking as %s)\n", s.user)
	case "/subscribe":
		if arg != "" && !strings.HasPrefix(arg, "qrscene_") {
			arg = "qrscene_" + arg // WeChat prefixes the scene of a QR code on subscribe
		}
		s.send(ctx, wechat.EventMessage(s.account, s.user, "subscribe", arg, s.eventTime(now)))
	case "/unsubscribe":
		s.send(ctx, wechat.EventMessage(s.account, s.user, "unsubscribe", "", s.eventTime(now)))
	case "/click":
		if arg == "" {
			fmt.Fprintln(s.errw, "usage: /click KEY")
			return false
		}
		s.send(ctx, wechat.EventMessage(s.account, s.user, "CLICK", arg, s.eventTime(now)))
	case "/view":
		if arg == "" {
			fmt.Fprintln(s.errw, "usage: /view URL")
			return false
		}
		s.send(ctx, wechat.EventMessage(s.account, s.user, "VIEW", arg, s.eventTime(now)))
	case "/voice":
		if arg == "" {
			fmt.Fprintln(s.errw, "usage: /voice TEXT")
			return false
		}
		s.send(ctx, wechat.VoiceMessage(s.account, s.user, arg, s.nextID(), now))
	case "/image", "/video", "/location":
		s.send(ctx, wechat.MediaMessage(s.account, s.user, cmd[1:], s.nextID(), now))
	default:
		fmt.Fprintf(s.errw, "unknown command %s; /help lists them\n", cmd)
	}
	return false
}

func (s *chatSession) nextID() int64 {
	s.msgID++
	return s.msgID
}

// eventTime keeps event CreateTimes strictly increasing: events are
// de-duplicated on user, CreateTime and event, and two taps in one second
// are two taps.
func (s *chatSession) eventTime(now time.Time) time.Time {
	t := now.Unix()
	if t <= s.lastTime {
		t = s.lastTime + 1
	}
	s.lastTime = t
	return time.Unix(t, 0)
}

func (s *chatSession) send(ctx context.Context, msg wechat.Outgoing) {
	start := time.Now()
	got, err := s.peer.Send(ctx, s.url, msg)
	if err != nil {
		s.failures++
		fmt.Fprintf(s.errw, "! %v\n", err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintln(s.errw, "  nothing listens there: start the server with `edubot serve` or pass --url")
		}
		return
	}
	s.print(got, time.Since(start))
}

// print shows a reply the way the phone does.
func (s *chatSession) print(r wechat.Received, took time.Duration) {
	switch {
	case r.Success:
		fmt.Fprintf(s.out, "%s  （没有回复）\n", s.name)
	case r.MsgType == "text":
		fmt.Fprintf(s.out, "%s> %s\n", s.name, indent(r.Content))
	case r.MsgType == "news":
		for _, a := range r.Articles {
			printCard(s.out, s.name, a)
		}
	case r.MsgType == "transfer_customer_service":
		fmt.Fprintf(s.out, "%s  （已转接人工客服，请等待客服回复）\n", s.name)
	default:
		fmt.Fprintf(s.out, "%s  [%s]\n%s\n", s.name, r.MsgType, r.XML)
	}
	if s.timing {
		fmt.Fprintf(s.out, "    (%d ms)\n", took.Milliseconds())
	}
}

const cardWidth = 40 // columns, counting a Chinese character as two

func printCard(w io.Writer, name string, a wechat.ReceivedArticle) {
	rule := strings.Repeat("─", cardWidth)
	fmt.Fprintf(w, "%s>\n┌%s\n", name, rule)
	for _, l := range wrap(a.Title, cardWidth-2) {
		fmt.Fprintf(w, "│ %s\n", l)
	}
	if a.Description != "" {
		fmt.Fprintf(w, "│\n")
		for _, l := range wrap(a.Description, cardWidth-2) {
			fmt.Fprintf(w, "│ %s\n", l)
		}
	}
	if a.PicURL != "" {
		fmt.Fprintf(w, "│ [图片] %s\n", a.PicURL)
	}
	fmt.Fprintf(w, "├%s\n│ 阅读全文 → %s\n└%s\n", rule, a.URL, rule)
}

// wrap breaks s into lines of at most width columns (CJK = 2 columns).
func wrap(s string, width int) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		var b strings.Builder
		cols := 0
		for _, r := range para {
			w := 1
			if r >= 0x1100 && utf8.RuneLen(r) >= 3 {
				w = 2
			}
			if cols+w > width {
				lines = append(lines, b.String())
				b.Reset()
				cols = 0
			}
			b.WriteRune(r)
			cols += w
		}
		lines = append(lines, b.String())
	}
	return lines
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }
