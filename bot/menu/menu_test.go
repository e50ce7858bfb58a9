package menu_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gdjysjyj/edubot/bot/menu"
)

func TestTheShippedMenuIsValid(t *testing.T) {
	m, err := menu.Load("../../configs/menu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clicks := m.Clicks()
	if clicks["HANDOFF"] != "action:handoff" || clicks["STUDENT_AID"] != "faq-student-aid" || !strings.HasPrefix(clicks["TERM_START"], "text:") {
		t.Fatalf("clicks: %v", clicks)
	}
}

func TestJSONIsWeChatsMenuCreateBody(t *testing.T) {
	m, err := menu.Parse([]byte(`
button:
  - name: 问答
    sub_button:
      - {name: 开学, type: click, key: K1, content: faq-1}
      - {name: 帮助, type: click, key: K2, action: help}
  - name: 官网
    type: view
    url: https://edu.example.org/
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string][]map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := `{"button":[{"name":"问答","sub_button":[{"name":"开学","type":"click","key":"K1"},{"name":"帮助","type":"click","key":"K2"}]},{"name":"官网","type":"view","url":"https://edu.example.org/"}]}`
	if string(b) != want {
		t.Fatalf("JSON\n got %s\nwant %s", b, want)
	}
}

func TestInvalidMenusSayWhereAndWhy(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"too many buttons", `
button:
  - {name: A, type: view, url: "https://a.example/"}
  - {name: B, type: view, url: "https://a.example/"}
  - {name: C, type: view, url: "https://a.example/"}
  - {name: D, type: view, url: "https://a.example/"}
`, "at most 3 buttons"},
		{"name too long", `
button:
  - {name: 这个按钮的名字太长了, type: view, url: "https://a.example/"}
`, "line 3: button 1"},
		{"duplicate key", `
button:
  - name: 组
    sub_button:
      - {name: A, type: click, key: K, action: help}
      - {name: B, type: click, key: K, action: topics}
`, `line 6: button 1.2 "B": key "K" is already used`},
		{"click without target", `
button:
  - {name: A, type: click, key: K}
`, "exactly one of content"},
		{"unknown action", `
button:
  - {name: A, type: click, key: K, action: dance}
`, `unknown action "dance"`},
		{"view without url", `
button:
  - {name: A, type: view}
`, "needs a url"},
		{"unsupported type", `
button:
  - {name: A, type: miniprogram, key: K}
`, `type "miniprogram" is not supported`},
		{"unknown field", `
button:
  - {name: A, type: view, url: "https://a.example/", colour: red}
`, "colour"},
		{"six sub-buttons", `
button:
  - name: 组
    sub_button:
      - {name: A, type: click, key: K1, action: help}
      - {name: B, type: click, key: K2, action: help}
      - {name: C, type: click, key: K3, action: help}
      - {name: D, type: click, key: K4, action: help}
      - {name: E, type: click, key: K5, action: help}
      - {name: F, type: click, key: K6, action: help}
`, "at most 5 sub-buttons"},
		{"empty", `button: []`, "at least one button"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := menu.Parse([]byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}
