package content_test

import (
	"testing"

	"github.com/gdjysjyj/edubot/content"
)

// An FAQ's file name becomes a path on export: only a plain faq/*.yaml
// name is valid.
func TestFAQFileIsAPlainName(t *testing.T) {
	for file, ok := range map[string]bool{
		"": true, "faq.yaml": true, "enrolment.yml": true,
		"../../etc/x.yaml": false, "a/b.yaml": false, `a\b.yaml`: false, ".yaml": false, "faq.txt": false, "..": false,
	} {
		f := &content.FAQ{ID: "f1", Question: "几号开学", Answer: "九月一日", File: file}
		if err := f.Validate(); (err == nil) != ok {
			t.Errorf("file %q: err %v, want valid=%v", file, err, ok)
		}
	}
}
