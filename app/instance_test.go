package app

import (
	"os"
	"path/filepath"
	"testing"
)

// shortTempDir is a temp dir with a short path: a Unix socket path is
// limited to about 100 bytes, which t.TempDir() under a long test name can
// exceed.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "et")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestInstanceSocketPath(t *testing.T) {
	runtimeDir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	got, err := InstanceSocketPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(runtimeDir, "echotray.sock"); got != want {
		t.Errorf("with XDG_RUNTIME_DIR: %s, want %s", got, want)
	}

	cache := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("ECHOTRAY_CACHE_DIR", cache)
	got, err = InstanceSocketPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "echotray.sock"); got != want {
		t.Errorf("without XDG_RUNTIME_DIR: %s, want %s", got, want)
	}
}
