package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content/store"
	"github.com/gdjysjyj/edubot/handlers/admin"
)

func init() {
	addPage(Page{Nav: "操作记录", Path: "/audit", Role: admin.RoleEditor, Order: 90, Mount: func(c *Console, r *Routes) {
		r.GET("/audit", admin.RoleEditor, c.auditPage)
	}})
}

type auditRow struct {
	store.AuditEntry
	Verb    string
	What    string
	Changes []fieldChange
	HasDiff bool
}

// fieldChange is one field that differs between before and after.
type fieldChange struct {
	Field         string
	Before, After string
}

type auditData struct {
	Rows  []auditRow
	Actor string
	Item  string
	Since string
	Error string
}

var verbs = map[string]string{
	"create": "新建", "update": "修改", "delete": "删除", "add-alternate": "添加问法",
	"import-set": "导入整套内容", "seed": "初始内容", "login": "登录", "logout": "退出",
	"login-failed": "登录失败", "login-refused": "登录被限制", "send": "群发", "cancel": "取消",
}

var kindLabels = map[string]string{
	"notice": "通知", "faq": "问答", "rule": "关键词回复", "synonym": "同义词", "set": "内容", "console": "工作台", "broadcast": "群发",
}

func (c *Console) auditPage(g *gin.Context) {
	d := auditData{Actor: strings.TrimSpace(g.Query("actor")), Item: strings.TrimSpace(g.Query("item")), Since: strings.TrimSpace(g.Query("since"))}
	q := store.AuditQuery{Actor: d.Actor, Item: d.Item, Limit: 200}
	if d.Since != "" {
		t, err := time.ParseInLocation("2006-01-02", d.Since, c.Location)
		if err != nil {
			d.Error = "日期格式应为 2026-09-01"
		} else {
			q.Since = t
		}
	}
	entries, err := c.Store.Audit().List(g.Request.Context(), q)
	if err != nil {
		c.Fail(g, err)
		return
	}
	for _, e := range entries {
		e.At = e.At.In(c.Location)
		row := auditRow{AuditEntry: e, Verb: label(verbs, e.Action), What: label(kindLabels, e.Kind)}
		row.Changes = diffJSON(e.Before, e.After)
		row.HasDiff = len(row.Changes) > 0
		d.Rows = append(d.Rows, row)
	}
	status := http.StatusOK
	if d.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	c.Render(g, status, "audit", d, nil)
}

func label(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// diffJSON lists the fields whose values differ between two JSON objects
// (an absent side is empty), in field order.
func diffJSON(before, after any) []fieldChange {
	b, a := asMap(before), asMap(after)
	if b == nil && a == nil {
		return nil
	}
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		return fieldOrder(names[i]) < fieldOrder(names[j]) || (fieldOrder(names[i]) == fieldOrder(names[j]) && names[i] < names[j])
	})
	var out []fieldChange
	for _, k := range names {
		bv, av := show(b[k]), show(a[k])
		if bv != av {
			out = append(out, fieldChange{Field: k, Before: bv, After: av})
		}
	}
	return out
}

var order = []string{"id", "title", "question", "alternates", "answer", "date", "expires", "summary", "url", "cover", "source", "region", "tags", "keywords", "audience", "notices", "match", "reply", "notice", "faq", "words", "body"}

func fieldOrder(k string) int {
	for i, o := range order {
		if o == k {
			return i
		}
	}
	return len(order)
}

func asMap(v any) map[string]any {
	var raw []byte
	switch x := v.(type) {
	case nil:
		return nil
	case json.RawMessage:
		raw = x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		raw = b
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		// Not an object (a number, a list): show it whole.
		return map[string]any{"": string(raw)}
	}
	return m
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = show(p)
		}
		return strings.Join(parts, "\n")
	case float64:
		return fmt.Sprint(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
