// Package content holds the bureau's content model — notices, FAQs, keyword
// rules and synonym groups — and reads and writes the interchange format
// described in FORMAT.md (a folder of notices/*.md, faq/*.yaml, rules.yaml
// and synonyms.txt).
package content

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Audiences a notice or FAQ may name.
var Audiences = []string{"parents", "teachers", "students", "staff"}

// Rule match modes.
const (
	MatchExact    = "exact"
	MatchContains = "contains"
)

// Limits from the interchange format.
const (
	MaxTitleRunes   = 64
	MaxSummaryRunes = 120
	MaxAnswerRunes  = 600
)

// Date is a calendar day (YYYY-MM-DD) in the bureau's time zone.
type Date struct{ time.Time }

// DateLayout is the interchange format's date layout.
const DateLayout = "2006-01-02"

// ParseDate parses a YYYY-MM-DD day.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("want YYYY-MM-DD, got %q", s)
	}
	return Date{t}, nil
}

// String formats the day as YYYY-MM-DD, or "" for the zero day.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(DateLayout)
}

// MarshalText implements encoding.TextMarshaler (used by JSON and YAML).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// MarshalJSON writes "YYYY-MM-DD" (without it, the embedded time.Time's
// MarshalJSON would write a full RFC 3339 timestamp).
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "YYYY-MM-DD", "" or null; a full RFC 3339 timestamp
// is accepted too (data written before dates were plain days).
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*d = Date{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("want a \"YYYY-MM-DD\" string, got %s", s)
	}
	s = s[1 : len(s)-1]
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		*d = Date{time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
		return nil
	}
	return d.UnmarshalText([]byte(s))
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Notice is one published article.
type Notice struct {
	ID       string   `json:"id" yaml:"id"`
	Title    string   `json:"title" yaml:"title"`
	Date     Date     `json:"date" yaml:"date"`
	Source   string   `json:"source" yaml:"source"`
	URL      string   `json:"url" yaml:"url"`
	Cover    string   `json:"cover,omitempty" yaml:"cover,omitempty"`
	Summary  string   `json:"summary" yaml:"summary"`
	Keywords []string `json:"keywords,omitempty" yaml:"keywords,omitempty"`
	Tags     []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	Audience []string `json:"audience,omitempty" yaml:"audience,omitempty"`
	Region   string   `json:"region,omitempty" yaml:"region,omitempty"`
	Expires  Date     `json:"expires,omitzero" yaml:"expires,omitempty"`
	// Term, ValidFrom and ValidUntil say which school term or dates the
	// notice applies to (see TermRange); all optional.
	Term       string `json:"term,omitempty" yaml:"term,omitempty"`
	ValidFrom  Date   `json:"valid_from,omitzero" yaml:"valid_from,omitempty"`
	ValidUntil Date   `json:"valid_until,omitzero" yaml:"valid_until,omitempty"`
	Body       string `json:"body" yaml:"-"`
}

// Expired reports whether the notice has expired as of now.
func (n *Notice) Expired(now time.Time) bool {
	if n.Expires.IsZero() {
		return false
	}
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return today.After(n.Expires.Time)
}

// FAQ is one question with its answer.
type FAQ struct {
	ID         string   `json:"id" yaml:"id"`
	Question   string   `json:"question" yaml:"question"`
	Alternates []string `json:"alternates,omitempty" yaml:"alternates,omitempty"`
	Answer     string   `json:"answer" yaml:"answer"`
	Notices    []string `json:"notices,omitempty" yaml:"notices,omitempty"`
	Keywords   []string `json:"keywords,omitempty" yaml:"keywords,omitempty"`
	Audience   []string `json:"audience,omitempty" yaml:"audience,omitempty"`
	Region     string   `json:"region,omitempty" yaml:"region,omitempty"`
	// Term, ValidFrom and ValidUntil say which school term or dates the
	// answer applies to (see TermRange); all optional.
	Term       string `json:"term,omitempty" yaml:"term,omitempty"`
	ValidFrom  Date   `json:"valid_from,omitzero" yaml:"valid_from,omitempty"`
	ValidUntil Date   `json:"valid_until,omitzero" yaml:"valid_until,omitempty"`
	// File is the faq/*.yaml file the entry lives in (without directory);
	// exports write it back there. Empty means "faq.yaml".
	File string `json:"file,omitempty" yaml:"-"`
}

// Rule is a keyword auto-reply rule, checked before any search.
type Rule struct {
	ID       string   `json:"id" yaml:"id"`
	Match    string   `json:"match" yaml:"match"`
	Keywords []string `json:"keywords" yaml:"keywords"`
	Reply    string   `json:"reply,omitempty" yaml:"reply,omitempty"`
	Notice   string   `json:"notice,omitempty" yaml:"notice,omitempty"`
	FAQ      string   `json:"faq,omitempty" yaml:"faq,omitempty"`
}

// SynonymGroup is one line of synonyms.txt: words that mean the same.
type SynonymGroup struct {
	ID    string   `json:"id"` // stable: "syn-" + first word, unique in the set
	Words []string `json:"words"`
}

// Set is a whole content set.
type Set struct {
	Notices  []*Notice       `json:"notices"`
	FAQs     []*FAQ          `json:"faqs"`
	Rules    []*Rule         `json:"rules"`
	Synonyms []*SynonymGroup `json:"synonyms"`
}

// Notice returns the notice with that id, or nil.
func (s *Set) Notice(id string) *Notice {
	for _, n := range s.Notices {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// FAQ returns the FAQ with that id, or nil.
func (s *Set) FAQ(id string) *FAQ {
	for _, f := range s.FAQs {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// Rule returns the rule with that id, or nil.
func (s *Set) Rule(id string) *Rule {
	for _, r := range s.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Tags lists the distinct notice tags in order of first appearance.
func (s *Set) Tags() []string {
	var out []string
	for _, n := range s.Notices {
		for _, t := range n.Tags {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// Regions lists the distinct regions named by notices and FAQs.
func (s *Set) Regions() []string {
	var out []string
	add := func(r string) {
		if r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, n := range s.Notices {
		add(n.Region)
	}
	for _, f := range s.FAQs {
		add(f.Region)
	}
	return out
}

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// FieldError says which field of which item is wrong and why.
type FieldError struct {
	ID    string // item id, if known
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s: field %q: %s", e.ID, e.Field, e.Msg)
	}
	return fmt.Sprintf("field %q: %s", e.Field, e.Msg)
}

func fieldErr(id, field, format string, args ...any) *FieldError {
	return &FieldError{ID: id, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func checkID(id string) *FieldError {
	if id == "" {
		return fieldErr("", "id", "required")
	}
	if !idRe.MatchString(id) {
		return fieldErr(id, "id", "must use only a-z, 0-9 and '-'")
	}
	return nil
}

func checkAudience(id string, aud []string) *FieldError {
	for _, a := range aud {
		if !slices.Contains(Audiences, a) {
			return fieldErr(id, "audience", "%q is not one of %s", a, strings.Join(Audiences, ", "))
		}
	}
	return nil
}

func checkURL(id, field, u string, required bool) *FieldError {
	if u == "" {
		if required {
			return fieldErr(id, field, "required")
		}
		return nil
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return fieldErr(id, field, "must be an http(s) URL")
	}
	return nil
}

// Validate checks a notice on its own (not against the rest of a set).
func (n *Notice) Validate() error {
	if e := checkID(n.ID); e != nil {
		return e
	}
	switch {
	case strings.TrimSpace(n.Title) == "":
		return fieldErr(n.ID, "title", "required")
	case utf8.RuneCountInString(n.Title) > MaxTitleRunes:
		return fieldErr(n.ID, "title", "at most %d characters, has %d", MaxTitleRunes, utf8.RuneCountInString(n.Title))
	case n.Date.IsZero():
		return fieldErr(n.ID, "date", "required (YYYY-MM-DD)")
	case strings.TrimSpace(n.Source) == "":
		return fieldErr(n.ID, "source", "required")
	case strings.TrimSpace(n.Summary) == "":
		return fieldErr(n.ID, "summary", "required")
	case utf8.RuneCountInString(n.Summary) > MaxSummaryRunes:
		return fieldErr(n.ID, "summary", "at most %d characters, has %d", MaxSummaryRunes, utf8.RuneCountInString(n.Summary))
	}
	if e := checkURL(n.ID, "url", n.URL, true); e != nil {
		return e
	}
	if e := checkURL(n.ID, "cover", n.Cover, false); e != nil {
		return e
	}
	if !n.Expires.IsZero() && n.Expires.Before(n.Date.Time) {
		return fieldErr(n.ID, "expires", "is before date")
	}
	if e := checkAudience(n.ID, n.Audience); e != nil {
		return e
	}
	if e := checkPeriod(n.ID, n.Term, n.ValidFrom, n.ValidUntil); e != nil {
		return e
	}
	return nil
}

// Validate checks an FAQ on its own (not against the rest of a set).
func (f *FAQ) Validate() error {
	if e := checkID(f.ID); e != nil {
		return e
	}
	switch {
	case strings.TrimSpace(f.Question) == "":
		return fieldErr(f.ID, "question", "required")
	case strings.TrimSpace(f.Answer) == "":
		return fieldErr(f.ID, "answer", "required")
	case utf8.RuneCountInString(f.Answer) > MaxAnswerRunes:
		return fieldErr(f.ID, "answer", "at most %d characters, has %d", MaxAnswerRunes, utf8.RuneCountInString(f.Answer))
	}
	if e := checkAudience(f.ID, f.Audience); e != nil {
		return e
	}
	if e := checkPeriod(f.ID, f.Term, f.ValidFrom, f.ValidUntil); e != nil {
		return e
	}
	// File becomes a path on export (zip entry, `edubot export --out`):
	// a plain faq/*.yaml name only, never "../…".
	if f.File != "" && (f.File != path.Base(f.File) || strings.ContainsAny(f.File, `/\`) ||
		!(strings.HasSuffix(f.File, ".yaml") || strings.HasSuffix(f.File, ".yml")) || strings.HasPrefix(f.File, ".")) {
		return fieldErr(f.ID, "file", "must be a file name like faq.yaml (no folders), got %q", f.File)
	}
	return nil
}

// Validate checks a rule on its own (not against the rest of a set).
func (r *Rule) Validate() error {
	if e := checkID(r.ID); e != nil {
		return e
	}
	if r.Match != MatchExact && r.Match != MatchContains {
		return fieldErr(r.ID, "match", "must be %q or %q, got %q", MatchExact, MatchContains, r.Match)
	}
	if len(r.Keywords) == 0 {
		return fieldErr(r.ID, "keywords", "at least one keyword required")
	}
	for _, k := range r.Keywords {
		if strings.TrimSpace(k) == "" {
			return fieldErr(r.ID, "keywords", "empty keyword")
		}
	}
	n := 0
	for _, s := range []string{r.Reply, r.Notice, r.FAQ} {
		if strings.TrimSpace(s) != "" {
			n++
		}
	}
	if n != 1 {
		return fieldErr(r.ID, "reply", "exactly one of reply, notice, faq is required")
	}
	return nil
}

// Validate checks a synonym group.
func (g *SynonymGroup) Validate() error {
	if len(g.Words) < 2 {
		return fieldErr(g.ID, "words", "a group needs at least two words")
	}
	for _, w := range g.Words {
		if strings.TrimSpace(w) == "" || strings.ContainsAny(w, " \t#") {
			return fieldErr(g.ID, "words", "word %q is empty or holds a space or '#'", w)
		}
	}
	return nil
}

// SynonymID derives a group's stable id from its first word.
func SynonymID(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return "syn-" + words[0]
}

// CheckRefs checks what spans items: unique ids across all kinds and
// references from FAQs and rules to notices and FAQs that exist.
func (s *Set) CheckRefs() error {
	seen := map[string]bool{}
	dup := func(id string) error {
		if seen[id] {
			return fieldErr(id, "id", "duplicate id")
		}
		seen[id] = true
		return nil
	}
	for _, n := range s.Notices {
		if err := dup(n.ID); err != nil {
			return err
		}
	}
	for _, f := range s.FAQs {
		if err := dup(f.ID); err != nil {
			return err
		}
	}
	for _, r := range s.Rules {
		if err := dup(r.ID); err != nil {
			return err
		}
	}
	for _, g := range s.Synonyms {
		if err := dup(g.ID); err != nil {
			return err
		}
	}
	for _, f := range s.FAQs {
		for _, id := range f.Notices {
			if s.Notice(id) == nil {
				return fieldErr(f.ID, "notices", "no notice %q", id)
			}
		}
	}
	for _, r := range s.Rules {
		if r.Notice != "" && s.Notice(r.Notice) == nil {
			return fieldErr(r.ID, "notice", "no notice %q", r.Notice)
		}
		if r.FAQ != "" && s.FAQ(r.FAQ) == nil {
			return fieldErr(r.ID, "faq", "no FAQ %q", r.FAQ)
		}
	}
	return nil
}
