// Package limits bounds what a request may make the process hold: bodies
// (JSON, pasted pages, uploads) and zip archives (entry count, per-entry and
// total unpacked size, compression ratio). Everything is read through a
// limit, so a 200 MB zip bomb is refused after reading its directory and at
// most one limit's worth of bytes, never unpacked into memory. A refusal is
// an *Error naming the limit; HTTP handlers answer it with 413.
//
// The package has no HTTP dependency: the admin API, the console and the
// command-line tools use the same helpers.
package limits

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"
)

// Defaults. A content set of 10,000 notices is about 40 MB unpacked and
// 8 MB zipped; a bureau's article page is well under 1 MB.
const (
	JSONBody    = 1 << 20  // one item as JSON (a notice, FAQ, rule, broadcast)
	PageBody    = 4 << 20  // a pasted article page (HTML or text) to import
	UploadBody  = 16 << 20 // an uploaded content set (zip or JSON)
	ZipEntries  = 20000    // files and folders in a zip
	ZipEntry    = 8 << 20  // one file unpacked
	ZipTotal    = 64 << 20 // every file unpacked
	ZipRatio    = 100      // unpacked ÷ packed, for files over RatioFloor
	RatioFloor  = 64 << 10 // small files may compress well without being bombs
	maxNameSize = 1024
)

// Error is a refused input: which limit it passed and the limit's value.
type Error struct {
	Limit string // e.g. "body", "zip entries", "zip entry size", "zip total size", "zip compression ratio"
	Max   int64  // the limit (bytes, entries or the ratio)
	What  string // the file inside an archive, when the limit is per file
}

func (e *Error) Error() string {
	unit := " bytes"
	switch e.Limit {
	case "zip entries":
		unit = " entries"
	case "zip compression ratio":
		unit = ":1"
	}
	if e.What != "" {
		return fmt.Sprintf("%s: over the %s limit of %d%s", e.What, e.Limit, e.Max, unit)
	}
	return fmt.Sprintf("over the %s limit of %d%s", e.Limit, e.Max, unit)
}

// As reports whether err is (or wraps) a refused limit.
func As(err error) (*Error, bool) {
	var le *Error
	ok := errors.As(err, &le)
	return le, ok
}

// ReadAll reads r to the end, refusing (with *Error{Limit: "body"}) as soon
// as more than max bytes arrive: at most max+1 bytes are held. An
// *http.MaxBytesError from a wrapped body is turned into the same *Error.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		// http.MaxBytesReader's error, without importing net/http.
		if strings.Contains(err.Error(), "request body too large") {
			return nil, &Error{Limit: "body", Max: max}
		}
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(b)) > max {
		return nil, &Error{Limit: "body", Max: max}
	}
	return b, nil
}

// Zip is the set of limits for unpacking an archive. Zero fields take the
// package defaults.
type Zip struct {
	MaxEntries int   // files and folders
	MaxEntry   int64 // bytes of one file unpacked
	MaxTotal   int64 // bytes of all files unpacked
	MaxRatio   int64 // unpacked ÷ packed of one file over RatioFloor bytes
}

func (l Zip) withDefaults() Zip {
	if l.MaxEntries <= 0 {
		l.MaxEntries = ZipEntries
	}
	if l.MaxEntry <= 0 {
		l.MaxEntry = ZipEntry
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = ZipTotal
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = ZipRatio
	}
	return l
}

// ErrNotZip is returned (wrapped) when the data is not a zip archive.
var ErrNotZip = errors.New("not a zip file")

// OpenZip unpacks a zip held in memory into a read-only file system,
// within l. The directory is checked first (declared sizes and ratios), so
// a bomb is refused before a byte is inflated; then every file is inflated
// through a limit, so an archive that lies about its sizes is refused as
// soon as it passes one. Names with "..", absolute paths or backslashes
// are refused. A zip holding one top folder (as made by zipping the folder
// itself) is entered.
func OpenZip(data []byte, l Zip) (fs.FS, error) {
	l = l.withDefaults()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotZip, err)
	}
	if len(zr.File) > l.MaxEntries {
		return nil, &Error{Limit: "zip entries", Max: int64(l.MaxEntries)}
	}
	var declared uint64
	for _, f := range zr.File {
		if err := checkName(f.Name); err != nil {
			return nil, err
		}
		if f.FileInfo().IsDir() {
			continue
		}
		if f.UncompressedSize64 > uint64(l.MaxEntry) {
			return nil, &Error{Limit: "zip entry size", Max: l.MaxEntry, What: f.Name}
		}
		if f.UncompressedSize64 > RatioFloor && f.UncompressedSize64 > uint64(l.MaxRatio)*max(f.CompressedSize64, 1) {
			return nil, &Error{Limit: "zip compression ratio", Max: l.MaxRatio, What: f.Name}
		}
		declared += f.UncompressedSize64
		if declared > uint64(l.MaxTotal) {
			return nil, &Error{Limit: "zip total size", Max: l.MaxTotal}
		}
	}
	out := fstest.MapFS{}
	var total int64
	tops := map[string]bool{}
	for _, f := range zr.File {
		name := path.Clean(strings.TrimPrefix(f.Name, "./"))
		if top, _, ok := strings.Cut(name, "/"); ok {
			tops[top] = true
		} else if !f.FileInfo().IsDir() {
			tops[""] = true
		} else {
			tops[name] = true
		}
		if f.FileInfo().IsDir() {
			out[name] = &fstest.MapFile{Mode: fs.ModeDir | 0o755, ModTime: f.Modified}
			continue
		}
		b, err := readEntry(f, min(l.MaxEntry, l.MaxTotal-total))
		if err != nil {
			return nil, err
		}
		total += int64(len(b))
		out[name] = &fstest.MapFile{Data: b, Mode: 0o644, ModTime: f.Modified}
	}
	if len(tops) == 1 && !tops[""] && !tops["notices"] && !tops["faq"] {
		for top := range tops {
			return fs.Sub(out, top)
		}
	}
	return out, nil
}

// readEntry inflates one file, refusing at limit+1 bytes whatever its
// header says.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotZip, f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotZip, f.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, &Error{Limit: "zip entry size", Max: limit, What: f.Name}
	}
	return b, nil
}

// checkName refuses names that would leave the folder or that no content
// folder has.
func checkName(name string) error {
	if len(name) > maxNameSize {
		return fmt.Errorf("%w: a file name of %d bytes", ErrNotZip, len(name))
	}
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) ||
		clean == ".." || strings.HasPrefix(clean, "../") || !fs.ValidPath(clean) {
		return fmt.Errorf("%w: unsafe file name %q", ErrNotZip, name)
	}
	return nil
}
