package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gdjysjyj/edubot/content"
	"github.com/gdjysjyj/edubot/content/store"
)

// Form is what a person posted, with a message per wrong field. Rendering
// the page again with it keeps everything that was typed.
type Form struct {
	Values url.Values
	Errors map[string]string
}

// NewForm reads the posted fields (urlencoded or multipart).
func NewForm(g *gin.Context) *Form {
	f := &Form{Values: url.Values{}}
	if g.ContentType() == "multipart/form-data" {
		if g.Request.MultipartForm == nil {
			_ = g.Request.ParseMultipartForm(1 << 20)
		}
		if g.Request.MultipartForm != nil {
			for k, v := range g.Request.MultipartForm.Value {
				f.Values[k] = v
			}
		}
		return f
	}
	_ = g.Request.ParseForm()
	for k, v := range g.Request.PostForm {
		f.Values[k] = v
	}
	return f
}

// Get returns a field's value ("" when absent).
func (f *Form) Get(name string) string {
	if f == nil || f.Values == nil {
		return ""
	}
	return f.Values.Get(name)
}

// Has reports whether a checkbox or option with this value was posted.
func (f *Form) Has(name, value string) bool {
	if f == nil || f.Values == nil {
		return false
	}
	for _, v := range f.Values[name] {
		if v == value {
			return true
		}
	}
	return false
}

// Set sets a field's value (to prefill a form).
func (f *Form) Set(name, value string) {
	if f.Values == nil {
		f.Values = url.Values{}
	}
	f.Values.Set(name, value)
}

// Err is the message for a field ("" when it is fine).
func (f *Form) Err(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// Fail records a message for a field (the first one stays).
func (f *Form) Fail(name, msg string) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if _, ok := f.Errors[name]; !ok {
		f.Errors[name] = msg
	}
}

// OK reports whether no field failed.
func (f *Form) OK() bool { return f == nil || len(f.Errors) == 0 }

// FromError maps an error of the content store to the field it is about
// (a *content.FieldError's field, in Chinese) and reports whether it did;
// unexpected errors are left to the caller (c.Fail).
func (f *Form) FromError(err error) bool {
	var fe *content.FieldError
	switch {
	case errors.Is(err, store.ErrExists):
		f.Fail("id", "这个编号已经被使用，请换一个")
		return true
	case errors.As(err, &fe):
		field := fe.Field
		if field == "" || field == "set" {
			field = "_form"
		}
		f.Fail(field, fieldMessage(fe))
		return true
	case errors.Is(err, store.ErrNotFound):
		f.Fail("_form", "这一条已经不存在（可能刚被别人删除）")
		return true
	case errors.Is(err, store.ErrConflict):
		f.Fail("_form", "保存失败：内容同时被修改，或引用了不存在的条目。请刷新后再试。")
		return true
	}
	return false
}

var (
	reAtMost = regexp.MustCompile(`^at most (\d+) characters, has (\d+)$`)
	reNoRef  = regexp.MustCompile(`^no (notice|FAQ|faq) "([^"]*)"$`)
)

// fieldMessage says a content validation message in Chinese.
func fieldMessage(fe *content.FieldError) string {
	m := fe.Msg
	switch {
	case strings.HasPrefix(m, "required"):
		return "必填"
	case m == "must use only a-z, 0-9 and '-'":
		return "编号只能用小写字母 a-z、数字和 “-”，并以字母或数字开头"
	case m == "must be an http(s) URL":
		return "请填写以 http:// 或 https:// 开头的网址"
	case m == "is before date":
		return "失效日期不能早于发布日期"
	case m == "duplicate id":
		return "这个编号已经被使用，请换一个"
	case m == "at least one keyword required":
		return "至少填写一个关键词"
	case m == "empty keyword":
		return "关键词不能为空"
	case strings.HasPrefix(m, "exactly one of reply, notice, faq"):
		return "回复文字、通知、问答三者必须且只能选一个"
	case strings.HasPrefix(m, "a group needs at least two words"):
		return "一组同义词至少要有两个词"
	case strings.Contains(m, "is empty or holds a space"):
		return "每个词不能为空，也不能含空格或 #"
	case strings.Contains(m, "is not one of"):
		return "对象只能是：家长、教师、学生、工作人员"
	case strings.HasPrefix(m, "must be a file name"):
		return "文件名只能像 faq.yaml 这样（不含目录）"
	case strings.HasPrefix(m, "referred to by"), strings.Contains(m, "refers to"), strings.Contains(m, "used by"):
		return "其他条目引用了它，不能删除：" + m
	}
	if s := reAtMost.FindStringSubmatch(m); s != nil {
		return fmt.Sprintf("最多 %s 个字，现在有 %s 个", s[1], s[2])
	}
	if s := reNoRef.FindStringSubmatch(m); s != nil {
		return fmt.Sprintf("找不到编号为 %s 的条目", s[2])
	}
	return m
}

// splitList reads a list typed one per line or separated by commas
// (ASCII or Chinese), dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool {
		return r == '\n' || r == '\r' || r == ',' || r == '，' || r == '、' || r == ';' || r == '；'
	}) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitLines reads a list typed one per line.
func splitLines(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func urlQuery(s string) string { return url.QueryEscape(s) }

func sizeLabel(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d 字节", n)
}

var audienceLabels = map[string]string{"parents": "家长", "teachers": "教师", "students": "学生", "staff": "工作人员"}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"join":      strings.Join,
	"hasPrefix": strings.HasPrefix,
	"navID":     func(p string) string { return strings.Trim(strings.ReplaceAll(p, "/", "-"), "-") },
	"lines": func(s []string) string {
		return strings.Join(s, "\n")
	},
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02 15:04")
	},
	"audience": func(a string) string {
		if l, ok := audienceLabels[a]; ok {
			return l
		}
		return a
	},
	"role":    roleLabel,
	"percent": func(part, whole int64) string { return percent(part, whole) },
	"add":     func(a, b int) int { return a + b },
	"runes":   func(s string) int { return len([]rune(s)) },
	// dict builds a map for a partial: {{template "err" dict "f" .Form "name" "title"}}.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
	"list": func(v ...int) []int { return v },
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
}

func percent(part, whole int64) string {
	if whole <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(part)/float64(whole))
}
