//go:build !windows

package history

import (
	"os"
	"path/filepath"
	"testing"

	"echotray/notify"
)

func TestStoreFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "echotray")
	path := filepath.Join(dir, FileName)
	// An existing file with a loose mode is narrowed.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustAdd(t, s, notify.Entry{Title: "x"})
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}

	// A directory Open creates is private.
	fresh := filepath.Join(t.TempDir(), "a", "b", FileName)
	s2, err := Open(fresh, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for _, d := range []string{filepath.Dir(fresh), filepath.Dir(filepath.Dir(fresh))} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode = %v, want no group/other access", d, fi.Mode().Perm())
		}
	}
}

func TestStoreDoesNotMoveAsideForOtherErrors(t *testing.T) {
	// A path under a regular file cannot be created: an error, nothing
	// moved, no file touched.
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(filepath.Join(blocker, FileName), Options{})
	if err == nil {
		t.Fatal("Open under a regular file succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory now holds %d entries, want just the blocker", len(entries))
	}
}
