package app

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
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

func TestInstanceSecondLaunchShowsFirst(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "echotray.sock")
	shown := make(chan struct{}, 4)
	first, err := ClaimInstance(path, func() { shown <- struct{}{} }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	for i := range 2 {
		second, err := ClaimInstance(path, func() { t.Error("second instance got a show request") }, nil)
		if !errors.Is(err, ErrAlreadyRunning) {
			if second != nil {
				second.Close()
			}
			t.Fatalf("launch %d: err = %v, want ErrAlreadyRunning", i+2, err)
		}
		select {
		case <-shown:
		case <-time.After(5 * time.Second):
			t.Fatalf("launch %d: the first instance was not asked to show", i+2)
		}
	}
}

func TestInstanceStaleSocketIsTakenOver(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "echotray.sock")
	// A crashed instance leaves its socket file behind.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}

	shown := make(chan struct{}, 1)
	in, err := ClaimInstance(path, func() { shown <- struct{}{} }, nil)
	if err != nil {
		t.Fatalf("stale socket not taken over: %v", err)
	}
	defer in.Close()
	if err := sendShow(path); err != nil {
		t.Fatalf("new instance does not answer: %v", err)
	}
	<-shown
}

func TestInstanceStaleRegularFile(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "echotray.sock")
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := ClaimInstance(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	in.Close()
}

func TestInstanceCloseRemovesSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "echotray.sock")
	in, err := ClaimInstance(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there after Close: %v", err)
	}
	// The next launch becomes the instance.
	again, err := ClaimInstance(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
}

func TestInstanceUnknownCommand(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "echotray.sock")
	in, err := ClaimInstance(path, func() { t.Error("onShow for an unknown command") }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("explode\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	if got := string(buf[:n]); got != "unknown command\n" {
		t.Errorf("reply %q", got)
	}
}

func TestInstanceMissingDirectoryIsCreated(t *testing.T) {
	dir := filepath.Join(shortTempDir(t), "sub")
	in, err := ClaimInstance(filepath.Join(dir, "e.sock"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("socket directory mode %v, want 0700", perm)
	}
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
