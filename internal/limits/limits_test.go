package limits

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
)

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadAllRefusesPastTheLimit(t *testing.T) {
	b, err := ReadAll(strings.NewReader("12345"), 5)
	if err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q %v", b, err)
	}
	_, err = ReadAll(strings.NewReader("123456"), 5)
	le, ok := As(err)
	if !ok || le.Limit != "body" || le.Max != 5 {
		t.Fatalf("past the limit: %v", err)
	}
	if !strings.Contains(err.Error(), "body limit of 5 bytes") {
		t.Errorf("message does not name the limit: %v", err)
	}
}

func TestOpenZipLimits(t *testing.T) {
	many := map[string]string{}
	for i := range 11 {
		many[fmt.Sprintf("faq/%d.yaml", i)] = "x"
	}
	big := strings.Repeat("#", 200<<10) // compresses far beyond 100:1
	varied := make([]byte, 100<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range varied {
		varied[i] = byte('a' + r.IntN(26))
	}
	cases := []struct {
		name  string
		files map[string]string
		l     Zip
		limit string
	}{
		{"entries", many, Zip{MaxEntries: 10}, "zip entries"},
		{"entry size", map[string]string{"a.md": string(varied)}, Zip{MaxEntry: 50 << 10}, "zip entry size"},
		{"total size", map[string]string{"a.md": string(varied), "b.md": string(varied)}, Zip{MaxTotal: 150 << 10}, "zip total size"},
		{"ratio", map[string]string{"a.md": big}, Zip{}, "zip compression ratio"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := OpenZip(zipOf(t, c.files), c.l)
			le, ok := As(err)
			if !ok || le.Limit != c.limit {
				t.Fatalf("want the %s limit, got %v", c.limit, err)
			}
		})
	}
}

func TestOpenZipReadsAndEntersTopFolder(t *testing.T) {
	fsys, err := OpenZip(zipOf(t, map[string]string{"set/faq/a.yaml": "A", "set/rules.yaml": "R"}), Zip{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "faq/a.yaml")
	if err != nil || string(b) != "A" {
		t.Fatalf("faq/a.yaml: %q %v", b, err)
	}
	for _, bad := range []string{"../x.md", "/etc/passwd", `a\b.md`} {
		if _, err := OpenZip(zipOf(t, map[string]string{bad: "x"}), Zip{}); !errors.Is(err, ErrNotZip) {
			t.Errorf("%q: want ErrNotZip, got %v", bad, err)
		}
	}
	if _, err := OpenZip([]byte("not a zip"), Zip{}); !errors.Is(err, ErrNotZip) {
		t.Errorf("garbage: %v", err)
	}
}

// A zip whose header understates an entry's size is refused when the
// inflated bytes pass the limit, not trusted.
func TestOpenZipLyingHeader(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "a.md", Method: zip.Store, CRC32: 0, CompressedSize64: 1000, UncompressedSize64: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bytes.Repeat([]byte("x"), 1000))
	zw.Close()
	if _, err := OpenZip(buf.Bytes(), Zip{MaxEntry: 100}); err == nil {
		t.Fatal("a lying header was accepted")
	}
}
