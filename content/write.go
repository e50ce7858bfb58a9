package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// marshalYAML writes v as block YAML, or, when a string holds a tab or a
// carriage return, in YAML's JSON-like flow style: go-yaml v1.19.2 writes
// those inside plain or literal scalars, and its parser then drops the tab
// ("a\tb" loads as "ab") or reads the carriage return as a line break.
func marshalYAML(v any) ([]byte, error) {
	// go-yaml writes a tab, \r or another control character into a plain
	// scalar ("-\x00" came out as a block sequence entry, found by
	// FuzzNoticeRoundTrip): such values go out double-quoted, as JSON.
	if js, err := json.Marshal(v); err == nil && hasControl(js) {
		return yaml.MarshalWithOptions(v, yaml.JSON())
	}
	out, err := yaml.MarshalWithOptions(v, yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return nil, err
	}
	// go-yaml also leaves other strings YAML reads as syntax unquoted (a
	// title "? 逛" came out as a mapping key, FuzzNoticeRoundTrip): block
	// style is kept only when it loads back to itself; else every string
	// goes out double-quoted.
	if !loadsBack(out, v) {
		return yaml.MarshalWithOptions(v, yaml.JSON())
	}
	return out, nil
}

// loadsBack reports whether out, written from v, loads into v's type and
// writes out the same again.
func loadsBack(out []byte, v any) bool {
	t := reflect.TypeOf(v)
	if t == nil {
		return true
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem() // go-yaml does not fill a **T
	}
	p := reflect.New(t)
	if err := yaml.Unmarshal(out, p.Interface()); err != nil {
		return false
	}
	again, err := yaml.MarshalWithOptions(p.Interface(), yaml.UseLiteralStyleIfMultiline(true))
	return err == nil && bytes.Equal(again, out)
}

// hasControl reports whether JSON text escapes a control character
// other than \n (JSON writes \t, \r and \u0000–\u001f) or holds a DEL.
func hasControl(js []byte) bool {
	return bytes.Contains(js, []byte(`\t`)) || bytes.Contains(js, []byte(`\r`)) ||
		bytes.Contains(js, []byte(`\u000`)) || bytes.Contains(js, []byte(`\u001`)) ||
		bytes.Contains(js, []byte(`\b`)) || bytes.Contains(js, []byte(`\f`)) || bytes.IndexByte(js, 0x7f) >= 0
}

// MarshalNotice renders a notice as a notices/*.md file.
func MarshalNotice(n *Notice) ([]byte, error) {
	meta, err := marshalYAML(n)
	if err != nil {
		return nil, fmt.Errorf("notice %s: %w", n.ID, err)
	}
	var b bytes.Buffer
	b.WriteString("---\n")
	b.Write(meta)
	b.WriteString("---\n")
	b.WriteString(strings.TrimSpace(n.Body))
	b.WriteString("\n")
	return b.Bytes(), nil
}

// Files renders the whole set as interchange-format files, by relative path.
func (s *Set) Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, n := range s.Notices {
		data, err := MarshalNotice(n)
		if err != nil {
			return nil, err
		}
		out["notices/"+n.ID+".md"] = data
	}
	byFile := map[string][]*FAQ{}
	for _, f := range s.FAQs {
		byFile[faqFile(f)] = append(byFile[faqFile(f)], f)
	}
	for file, list := range byFile {
		data, err := marshalYAML(list)
		if err != nil {
			return nil, fmt.Errorf("faq/%s: %w", file, err)
		}
		out["faq/"+file] = data
	}
	if len(s.Rules) > 0 {
		data, err := marshalYAML(s.Rules)
		if err != nil {
			return nil, fmt.Errorf("rules.yaml: %w", err)
		}
		out["rules.yaml"] = data
	}
	if len(s.Synonyms) > 0 {
		var b strings.Builder
		for _, g := range s.Synonyms {
			b.WriteString(strings.Join(g.Words, " "))
			b.WriteString("\n")
		}
		out["synonyms.txt"] = []byte(b.String())
	}
	return out, nil
}

// WriteDir writes the set into dir in the interchange format.
func (s *Set) WriteDir(dir string) error {
	files, err := s.Files()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write content: %w", err)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return fmt.Errorf("write content: %w", err)
		}
	}
	return nil
}
