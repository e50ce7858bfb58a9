package content

import (
	"maps"
	"testing"
)

// Notices need not be named by id: an error about one names its real file,
// and of two with the same id, the later one.
func TestDuplicateNoticeNamesItsOwnFile(t *testing.T) {
	m := maps.Clone(goodFS(t))
	m["notices/z-copy.md"] = m["notices/n-1.md"]
	_, err := Load(m)
	le, ok := err.(*LoadError)
	if !ok || le.File != "notices/z-copy.md" || le.Field != "id" {
		t.Fatalf("err = %v, want a duplicate id in notices/z-copy.md", err)
	}
}
