package limits

import (
	"io/fs"
	"testing"
)

// Any bytes as an uploaded zip: no panic, and what is unpacked stays
// within the limits.
func FuzzOpenZip(f *testing.F) {
	f.Add(zipOf(f, map[string]string{"faq/a.yaml": "- id: a\n"}))
	f.Add(zipOf(f, map[string]string{"set/notices/n.md": "---\nid: n\n---\n正文"}))
	f.Add([]byte("PK\x03\x04"))
	l := Zip{MaxEntries: 50, MaxEntry: 64 << 10, MaxTotal: 256 << 10, MaxRatio: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys, err := OpenZip(data, l)
		if err != nil {
			return
		}
		var total int64
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, rerr := fs.ReadFile(fsys, p)
			if rerr == nil {
				if int64(len(b)) > l.MaxEntry {
					t.Fatalf("%s: %d bytes over the entry limit", p, len(b))
				}
				total += int64(len(b))
			}
			return nil
		})
		if total > l.MaxTotal {
			t.Fatalf("%d bytes unpacked, over the total limit", total)
		}
	})
}
