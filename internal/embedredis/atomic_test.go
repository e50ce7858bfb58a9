package embedredis

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The snapshot is synced to disk before it replaces the old one, and the
// folder after the rename; a failed sync leaves the old snapshot whole.
func TestSnapshotSyncedThenRenamed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SnapshotFile)
	var synced []string
	fsync = func(f *os.File) error {
		st, _ := f.Stat()
		if !st.IsDir() {
			if _, err := os.Stat(path); err == nil {
				if b, _ := os.ReadFile(path); string(b) == "new" {
					t.Error("the snapshot was replaced before its data was synced")
				}
			}
		}
		synced = append(synced, f.Name())
		return f.Sync()
	}
	t.Cleanup(func() { fsync = func(f *os.File) error { return f.Sync() } })

	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("snapshot %q, want new", b)
	}
	if len(synced) != 2 || filepath.Dir(synced[0]) != dir || synced[1] != dir {
		t.Errorf("synced %v, want the temporary file, then the folder", synced)
	}

	fsync = func(*os.File) error { return errors.New("disk gone") }
	if err := writeAtomic(path, []byte("torn")); err == nil {
		t.Fatal("a failed sync was not reported")
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("after a failed sync the snapshot is %q, want the previous one", b)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
