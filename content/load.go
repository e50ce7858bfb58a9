package content

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/gdjysjyj/edubot/internal/yamlx"
)

// LoadError names the file, line and field of a malformed content set.
type LoadError struct {
	File  string
	Line  int // 1-based; 0 when unknown
	Field string
	ID    string
	Msg   string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.ID != "" {
		fmt.Fprintf(&b, ": %s", e.ID)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads a whole content set from fsys (a folder in the interchange
// format) and validates it. The error is a *LoadError.
func Load(fsys fs.FS) (*Set, error) {
	set := &Set{}
	noticeFiles := map[*Notice]string{} // notices need not be named by id
	notices, err := fs.Glob(fsys, "notices/*.md")
	if err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	sort.Strings(notices)
	for _, name := range notices {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, &LoadError{File: name, Msg: err.Error()}
		}
		n, err := ParseNotice(name, data)
		if err != nil {
			return nil, err
		}
		noticeFiles[n] = name
		set.Notices = append(set.Notices, n)
	}
	faqs, err := fs.Glob(fsys, "faq/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list faqs: %w", err)
	}
	more, _ := fs.Glob(fsys, "faq/*.yml")
	faqs = append(faqs, more...)
	sort.Strings(faqs)
	for _, name := range faqs {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, &LoadError{File: name, Msg: err.Error()}
		}
		list, err := ParseFAQs(name, data)
		if err != nil {
			return nil, err
		}
		set.FAQs = append(set.FAQs, list...)
	}
	if data, err := fs.ReadFile(fsys, "rules.yaml"); err == nil {
		if set.Rules, err = ParseRules("rules.yaml", data); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &LoadError{File: "rules.yaml", Msg: err.Error()}
	}
	if data, err := fs.ReadFile(fsys, "synonyms.txt"); err == nil {
		if set.Synonyms, err = ParseSynonyms("synonyms.txt", data); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &LoadError{File: "synonyms.txt", Msg: err.Error()}
	}
	if len(set.Notices)+len(set.FAQs)+len(set.Rules) == 0 {
		return nil, &LoadError{File: ".", Msg: "no notices/*.md, faq/*.yaml or rules.yaml: not a content set"}
	}
	if err := set.CheckRefs(); err != nil {
		return nil, locate(set, noticeFiles, err)
	}
	return set, nil
}

// locate turns a cross-item FieldError into a LoadError naming the file
// of the item it is about. Of a duplicate id that is the later item, as
// CheckRefs reads notices, FAQs, rules and synonyms in that order: the
// last match wins.
func locate(set *Set, noticeFiles map[*Notice]string, err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return err
	}
	le := &LoadError{File: ".", Field: fe.Field, ID: fe.ID, Msg: fe.Msg}
	for _, n := range set.Notices {
		if n.ID == fe.ID {
			le.File = noticeFiles[n]
		}
	}
	for _, f := range set.FAQs {
		if f.ID == fe.ID {
			le.File = "faq/" + faqFile(f)
		}
	}
	for _, r := range set.Rules {
		if r.ID == fe.ID {
			le.File = "rules.yaml"
		}
	}
	for _, g := range set.Synonyms {
		if g.ID == fe.ID {
			le.File = "synonyms.txt"
		}
	}
	return le
}

func faqFile(f *FAQ) string {
	if f.File == "" {
		return "faq.yaml"
	}
	return f.File
}

// frontMatter splits "---\nYAML\n---\nbody" and returns the YAML, the body
// and the line the YAML starts on.
func frontMatter(data []byte) (meta, body []byte, ok bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return nil, nil, false
	}
	rest := data[4:]
	end := bytes.Index(rest, []byte("\n---"))
	if end < 0 {
		return nil, nil, false
	}
	meta = rest[:end+1]
	body = rest[end+4:]
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	} else {
		body = nil
	}
	return meta, body, true
}

// ParseNotice parses one notices/*.md file. name is used in errors.
func ParseNotice(name string, data []byte) (*Notice, error) {
	meta, body, ok := frontMatter(data)
	if !ok {
		return nil, &LoadError{File: name, Line: 1, Msg: "must start with YAML front matter between '---' lines"}
	}
	// Dates are read as text first so a bad one is reported with its field and line.
	var raw struct {
		ID       string   `yaml:"id"`
		Title    string   `yaml:"title"`
		Date     string   `yaml:"date"`
		Source   string   `yaml:"source"`
		URL      string   `yaml:"url"`
		Cover    string   `yaml:"cover"`
		Summary  string   `yaml:"summary"`
		Keywords []string `yaml:"keywords"`
		Tags     []string `yaml:"tags"`
		Audience []string `yaml:"audience"`
		Region   string   `yaml:"region"`
		Expires  string   `yaml:"expires"`
		Term     string   `yaml:"term"`
		From     string   `yaml:"valid_from"`
		Until    string   `yaml:"valid_until"`
	}
	if err := yamlx.Strict(meta, &raw); err != nil {
		return nil, yamlErr(name, 1, err)
	}
	n := Notice{ID: raw.ID, Title: raw.Title, Source: raw.Source, URL: raw.URL, Cover: raw.Cover,
		Summary: raw.Summary, Keywords: raw.Keywords, Tags: raw.Tags, Audience: raw.Audience, Region: raw.Region, Term: raw.Term}
	for _, d := range []struct {
		field string
		text  string
		dst   *Date
	}{{"date", raw.Date, &n.Date}, {"expires", raw.Expires, &n.Expires}, {"valid_from", raw.From, &n.ValidFrom}, {"valid_until", raw.Until, &n.ValidUntil}} {
		if d.text == "" {
			continue
		}
		v, err := ParseDate(d.text)
		if err != nil {
			return nil, fieldLoadErr(name, meta, 1, "", &FieldError{ID: n.ID, Field: d.field, Msg: err.Error()})
		}
		*d.dst = v
	}
	n.Body = strings.TrimSpace(string(body))
	if err := n.Validate(); err != nil {
		return nil, fieldLoadErr(name, meta, 1, "", err)
	}
	return &n, nil
}

// ParseFAQs parses one faq/*.yaml file.
func ParseFAQs(name string, data []byte) ([]*FAQ, error) {
	var list []*FAQ
	if err := yamlx.Strict(data, &list); err != nil {
		return nil, yamlErr(name, 0, err)
	}
	for i, f := range list {
		if f == nil {
			return nil, &LoadError{File: name, Line: itemLine(data, i, ""), Msg: fmt.Sprintf("entry %d is empty", i+1)}
		}
		f.File = path.Base(name)
		if err := f.Validate(); err != nil {
			return nil, fieldLoadErr(name, data, 0, fmt.Sprintf("$[%d]", i), err)
		}
	}
	return list, nil
}

// ParseRules parses rules.yaml.
func ParseRules(name string, data []byte) ([]*Rule, error) {
	var list []*Rule
	if err := yamlx.Strict(data, &list); err != nil {
		return nil, yamlErr(name, 0, err)
	}
	for i, r := range list {
		if r == nil {
			return nil, &LoadError{File: name, Line: itemLine(data, i, ""), Msg: fmt.Sprintf("entry %d is empty", i+1)}
		}
		if err := r.Validate(); err != nil {
			return nil, fieldLoadErr(name, data, 0, fmt.Sprintf("$[%d]", i), err)
		}
	}
	return list, nil
}

// ParseSynonyms parses synonyms.txt: one group per line, '#' comments.
func ParseSynonyms(name string, data []byte) ([]*SynonymGroup, error) {
	var out []*SynonymGroup
	for i, line := range strings.Split(string(data), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		words := strings.Fields(strings.ReplaceAll(line, "　", " "))
		if len(words) == 0 {
			continue
		}
		g := &SynonymGroup{ID: SynonymID(words), Words: words}
		if err := g.Validate(); err != nil {
			var fe *FieldError
			errors.As(err, &fe)
			return nil, &LoadError{File: name, Line: i + 1, Field: fe.Field, Msg: fe.Msg}
		}
		out = append(out, g)
	}
	return out, nil
}

func yamlErr(name string, lineOffset int, err error) error {
	le := &LoadError{File: name, Msg: yaml.FormatError(err, false, false)}
	var se yaml.Error
	if errors.As(err, &se) {
		if tk := se.GetToken(); tk != nil && tk.Position != nil {
			le.Line = tk.Position.Line + lineOffset
		}
		le.Msg = se.GetMessage()
		if uf := unknownField(le.Msg); uf != "" {
			le.Field = uf
		}
	}
	if le.Line == 0 {
		le.Line = lineOffset
	}
	if i := strings.IndexByte(le.Msg, '\n'); i > 0 {
		le.Msg = le.Msg[:i]
	}
	return le
}

func unknownField(msg string) string {
	const p = `unknown field "`
	i := strings.Index(msg, p)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(p):]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

// fieldLoadErr converts a validation FieldError into a LoadError, finding
// the field's line in the YAML source (prefix is the item's YAML path).
func fieldLoadErr(name string, src []byte, lineOffset int, prefix string, err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return &LoadError{File: name, Msg: err.Error()}
	}
	le := &LoadError{File: name, Field: fe.Field, ID: fe.ID, Msg: fe.Msg}
	p := "$"
	if prefix != "" {
		p = prefix
	}
	if l := nodeLine(src, p+"."+fe.Field); l > 0 {
		le.Line = l + lineOffset
	} else if l := nodeLine(src, p); l > 0 {
		le.Line = l + lineOffset
	} else {
		le.Line = lineOffset
	}
	return le
}

func itemLine(src []byte, i int, field string) int {
	p := fmt.Sprintf("$[%d]", i)
	if field != "" {
		p += "." + field
	}
	return nodeLine(src, p)
}

// nodeLine returns the 1-based line of the YAML node at path p, or 0
// (also when the parser panics: the line is a courtesy).
func nodeLine(src []byte, p string) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	ypath, err := yaml.PathString(p)
	if err != nil {
		return 0
	}
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		return 0
	}
	node, err := ypath.FilterFile(file)
	if err != nil || node == nil || node.GetToken() == nil || node.GetToken().Position == nil {
		return 0
	}
	line = node.GetToken().Position.Line
	// A field's value node sits on the key's line, except block scalars.
	if tk := node.GetToken(); tk.Prev != nil && tk.Prev.Position != nil && tk.Prev.Position.Line < line && strings.HasPrefix(strings.TrimSpace(tk.Prev.Value), "|") {
		line = tk.Prev.Position.Line
	}
	return line
}
