package content

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// MarshalNotice renders a notice as a notices/*.md file.
func MarshalNotice(n *Notice) ([]byte, error) {
	meta, err := yaml.MarshalWithOptions(n, yaml.UseLiteralStyleIfMultiline(true))
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
		data, err := yaml.MarshalWithOptions(list, yaml.UseLiteralStyleIfMultiline(true))
		if err != nil {
			return nil, fmt.Errorf("faq/%s: %w", file, err)
		}
		out["faq/"+file] = data
	}
	if len(s.Rules) > 0 {
		data, err := yaml.MarshalWithOptions(s.Rules, yaml.UseLiteralStyleIfMultiline(true))
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
