package admin

import (
	"archive/zip"
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gdjysjyj/edubot/internal/limits"
)

// zipBomb is one entry of 200 MB of '#': about 200 KB zipped.
func zipBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("notices/bomb.md")
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("#"), 1<<20)
	for range 200 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The zip bomb of the hardening report (4.5 GB resident, 26 s, no answer)
// is refused with 413 naming the limit, at once, without inflating it.
func TestImportSetZipBomb(t *testing.T) {
	e := newEnv(t)
	bomb := zipBomb(t)
	t.Logf("bomb: %d bytes zipped, 200 MB unpacked", len(bomb))
	before, _ := e.store.Current()

	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	r := e.do("POST", "/admin/api/import-set", editorToken, "application/zip", bomb)
	took := time.Since(start)
	runtime.ReadMemStats(&m1)

	if r.Code != 413 {
		t.Fatalf("status %d, want 413: %s", r.Code, r.Body)
	}
	if !strings.Contains(r.Err.Error, "limit") || !strings.Contains(r.Err.Error, "notices/bomb.md") {
		t.Errorf("message does not name the limit and the file: %q", r.Err.Error)
	}
	if took > time.Second {
		t.Errorf("answered in %s, want under 1 s", took)
	}
	// Everything the request allocated, not only what is live after it:
	// the bomb must never have been inflated.
	if grew := m1.TotalAlloc - m0.TotalAlloc; grew > limits.ZipTotal {
		t.Errorf("the request allocated %d MB, more than the %d MB limit", grew>>20, limits.ZipTotal>>20)
	} else {
		t.Logf("answered in %s, allocated %d KB", took.Round(time.Microsecond), grew>>10)
	}
	if after, _ := e.store.Current(); after != before {
		t.Error("a refused set changed the content")
	}
}

// A zip whose header lies about the size (declares a few bytes, inflates
// to 200 MB) is refused as soon as one limit's worth is read.
func TestImportSetLyingZip(t *testing.T) {
	e := newEnv(t)
	bomb := zipBomb(t)
	// Patch the declared uncompressed size (local header and central
	// directory) down to 1,000 bytes.
	lie := bytes.Clone(bomb)
	patchSizes(t, lie, 200<<20, 1000)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	r := e.do("POST", "/admin/api/import-set", editorToken, "application/zip", lie)
	took := time.Since(start)
	runtime.ReadMemStats(&m1)
	if r.Code != 413 && r.Code != 400 {
		t.Fatalf("status %d, want 413 or 400: %s", r.Code, r.Body)
	}
	if took > time.Second {
		t.Errorf("answered in %s, want under 1 s", took)
	}
	if grew := m1.TotalAlloc - m0.TotalAlloc; grew > limits.ZipTotal {
		t.Errorf("the request allocated %d MB, more than the %d MB limit", grew>>20, limits.ZipTotal>>20)
	}
}

// patchSizes replaces every little-endian uint32 from with to (the size
// fields of the local header and the central directory).
func patchSizes(t *testing.T, b []byte, from, to uint32) {
	t.Helper()
	le := func(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	n := bytes.Count(b, le(from))
	if n == 0 {
		t.Fatal("size field not found")
	}
	copy(b, bytes.ReplaceAll(b, le(from), le(to)))
}

func TestBodyLimitsPerRoute(t *testing.T) {
	e := newEnv(t)
	huge := `{"id":"x","question":"` + strings.Repeat("问", limits.JSONBody/3+10) + `"}`
	if r := e.json("POST", "/admin/api/faqs", huge); r.Code != 413 || !strings.Contains(r.Err.Error, "body limit") {
		t.Errorf("a 1 MB+ FAQ: %d %q, want 413 naming the body limit", r.Code, r.Err.Error)
	}
	page := "<html><body><p>" + strings.Repeat("通知", limits.PageBody/6+10) + "</p></body></html>"
	if r := e.do("POST", "/admin/api/import", editorToken, "text/html", []byte(page)); r.Code != 413 {
		t.Errorf("a 4 MB+ page: %d %q, want 413", r.Code, r.Err.Error)
	}
}
