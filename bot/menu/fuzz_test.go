package menu_test

import (
	"testing"

	"github.com/gdjysjyj/edubot/bot/menu"
)

// A menu file with any bytes is a menu or an error, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("button:\n  - name: 开学\n    type: click\n    key: K\n    text: 开学时间\n"))
	f.Add([]byte("button:\n  - name: 更多\n    sub_button:\n      - name: 官网\n        type: view\n        url: https://example.org\n"))
	f.Add([]byte("button: !00 000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := menu.Parse(data)
		if err == nil && m == nil {
			t.Fatal("no menu and no error")
		}
	})
}
