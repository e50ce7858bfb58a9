// Package menu reads the Official Account's custom menu (configs/menu.yaml):
// buttons, sub-buttons, CLICK keys mapped to content or dialogue actions,
// and VIEW links. It validates the menu against WeChat's limits and writes
// the JSON body of WeChat's menu/create API, so `edubot menu push` can send
// it and the bot can answer every CLICK key.
package menu

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/gdjysjyj/edubot/internal/yamlx"
)

// Button types the menu supports.
const (
	TypeClick = "click"
	TypeView  = "view"
)

// Dialogue actions a CLICK key may trigger.
const (
	ActionHelp          = "help"          // the welcome text: what the bot can do
	ActionTopics        = "topics"        // list the topics one can subscribe to
	ActionSubscriptions = "subscriptions" // the user's subscriptions
	ActionProfile       = "profile"       // what is stored about the user
	ActionHandoff       = "handoff"       // talk to a person
	ActionHotline       = "hotline"       // the hotline
)

// Actions lists every action.
var Actions = []string{ActionHelp, ActionTopics, ActionSubscriptions, ActionProfile, ActionHandoff, ActionHotline}

// IsAction reports whether a is a known action.
func IsAction(a string) bool { return slices.Contains(Actions, a) }

// WeChat's limits for a custom menu.
const (
	MaxButtons      = 3
	MaxSubButtons   = 5
	MaxNameBytes    = 16 // top-level button
	MaxSubNameBytes = 60
	MaxKeyBytes     = 128
	MaxURLBytes     = 1024
)

// Menu is a validated custom menu.
type Menu struct {
	Buttons []Button `yaml:"button" json:"button"`
}

// Button is a button or a sub-button. A top-level button either has
// SubButtons (and no type) or is itself a click or view button.
type Button struct {
	Name string `yaml:"name" json:"name"`
	Type string `yaml:"type,omitempty" json:"type,omitempty"` // click or view
	Key  string `yaml:"key,omitempty" json:"key,omitempty"`   // click: the EventKey WeChat sends
	URL  string `yaml:"url,omitempty" json:"url,omitempty"`   // view: the page to open

	// What a click does: exactly one of these.
	Content string `yaml:"content,omitempty" json:"-"` // a notice, FAQ or rule id
	Action  string `yaml:"action,omitempty" json:"-"`  // one of Actions
	Text    string `yaml:"text,omitempty" json:"-"`    // answered as if the user typed it

	SubButtons []Button `yaml:"sub_button,omitempty" json:"sub_button,omitempty"`
}

// Load reads and validates a menu file.
func Load(path string) (*Menu, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("menu: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse reads and validates a menu. Errors name the line and the button.
func Parse(data []byte) (*Menu, error) {
	var m Menu
	if err := yamlx.Strict(data, &m); err != nil {
		return nil, fmt.Errorf("menu: %s", yaml.FormatError(err, false, false))
	}
	if errs := m.validate(); len(errs) > 0 {
		file, _ := parser.ParseBytes(data, 0)
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = fmt.Errorf("menu: line %d: %s: %s", lineOf(file, e.path), e.where, e.msg)
		}
		return nil, errors.Join(out...)
	}
	return &m, nil
}

type verr struct{ path, where, msg string }

func (m *Menu) validate() []verr {
	var errs []verr
	if len(m.Buttons) == 0 {
		return []verr{{"$", "button", "the menu needs at least one button"}}
	}
	if len(m.Buttons) > MaxButtons {
		errs = append(errs, verr{"$.button", "button", fmt.Sprintf("WeChat allows at most %d buttons, got %d", MaxButtons, len(m.Buttons))})
	}
	keys := map[string]string{}
	for i, b := range m.Buttons {
		path := fmt.Sprintf("$.button[%d]", i)
		where := fmt.Sprintf("button %d %q", i+1, b.Name)
		if len(b.SubButtons) > 0 {
			if b.Type != "" || b.Key != "" || b.URL != "" || b.Content != "" || b.Action != "" || b.Text != "" {
				errs = append(errs, verr{path, where, "a button with sub_button takes only a name"})
			}
			if len(b.SubButtons) > MaxSubButtons {
				errs = append(errs, verr{path, where, fmt.Sprintf("WeChat allows at most %d sub-buttons, got %d", MaxSubButtons, len(b.SubButtons))})
			}
			errs = append(errs, checkName(path, where, b.Name, MaxNameBytes)...)
			for j, s := range b.SubButtons {
				sp := fmt.Sprintf("%s.sub_button[%d]", path, j)
				sw := fmt.Sprintf("button %d.%d %q", i+1, j+1, s.Name)
				if len(s.SubButtons) > 0 {
					errs = append(errs, verr{sp, sw, "sub-buttons cannot have sub-buttons"})
				}
				errs = append(errs, checkName(sp, sw, s.Name, MaxSubNameBytes)...)
				errs = append(errs, checkLeaf(sp, sw, s, keys)...)
			}
			continue
		}
		errs = append(errs, checkName(path, where, b.Name, MaxNameBytes)...)
		errs = append(errs, checkLeaf(path, where, b, keys)...)
	}
	return errs
}

func checkName(path, where, name string, max int) []verr {
	switch {
	case strings.TrimSpace(name) == "":
		return []verr{{path, where, "name is required"}}
	case len(name) > max:
		return []verr{{path, where, fmt.Sprintf("name has %d bytes, WeChat allows %d", len(name), max)}}
	}
	return nil
}

func checkLeaf(path, where string, b Button, keys map[string]string) []verr {
	var errs []verr
	bad := func(format string, args ...any) { errs = append(errs, verr{path, where, fmt.Sprintf(format, args...)}) }
	switch b.Type {
	case TypeClick:
		switch {
		case b.Key == "":
			bad("a click button needs a key")
		case len(b.Key) > MaxKeyBytes:
			bad("key has %d bytes, WeChat allows %d", len(b.Key), MaxKeyBytes)
		case keys[b.Key] != "":
			bad("key %q is already used by %s", b.Key, keys[b.Key])
		default:
			keys[b.Key] = where
		}
		n := 0
		for _, s := range []string{b.Content, b.Action, b.Text} {
			if strings.TrimSpace(s) != "" {
				n++
			}
		}
		if n != 1 {
			bad("a click button needs exactly one of content (an id), action (%s) or text", strings.Join(Actions, ", "))
		}
		if b.Action != "" && !IsAction(b.Action) {
			bad("unknown action %q (want one of %s)", b.Action, strings.Join(Actions, ", "))
		}
		if b.URL != "" {
			bad("a click button takes no url")
		}
	case TypeView:
		switch {
		case b.URL == "":
			bad("a view button needs a url")
		case !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://"):
			bad("url must be an http(s) URL")
		case len(b.URL) > MaxURLBytes:
			bad("url has %d bytes, WeChat allows %d", len(b.URL), MaxURLBytes)
		}
		if b.Key != "" || b.Content != "" || b.Action != "" || b.Text != "" {
			bad("a view button takes only name and url")
		}
	case "":
		bad("type is required (click or view), or sub_button")
	default:
		bad("type %q is not supported (want click or view)", b.Type)
	}
	return errs
}

// lineOf finds the line of a YAML path, or 0 when it cannot.
func lineOf(file *ast.File, path string) int {
	if file == nil {
		return 0
	}
	p, err := yaml.PathString(path)
	if err != nil {
		return 0
	}
	n, err := p.FilterFile(file)
	if err != nil || n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// Clicks maps every CLICK key to what it does, in the syntax of
// bot.Config.Clicks: a content id, "action:NAME" or "text:QUERY".
func (m *Menu) Clicks() map[string]string {
	out := map[string]string{}
	var walk func(bs []Button)
	walk = func(bs []Button) {
		for _, b := range bs {
			if b.Type == TypeClick {
				switch {
				case b.Content != "":
					out[b.Key] = strings.TrimSpace(b.Content)
				case b.Action != "":
					out[b.Key] = "action:" + b.Action
				default:
					out[b.Key] = "text:" + strings.TrimSpace(b.Text)
				}
			}
			walk(b.SubButtons)
		}
	}
	walk(m.Buttons)
	return out
}

// JSON returns the body of WeChat's menu/create API
// ({"button":[…]}), without the bot-side fields.
func (m *Menu) JSON() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("menu: %w", err)
	}
	return b, nil
}
