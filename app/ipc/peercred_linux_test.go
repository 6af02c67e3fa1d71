package ipc

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobody is the uid (and gid) the child process runs as.
const nobody = 65534

// TestOtherUserRejectedAsRoot runs, as root, a child process as uid 65534
// that dials the server: the kernel's SO_PEERCRED says another user.
func TestOtherUserRejectedAsRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user; TestOtherUserRejected covers the check")
	}
	// The socket's directory must be traversable and the socket writable
	// for the other user, or the kernel refuses before the server sees
	// anything. Listen leaves an existing directory's mode alone.
	dir := shortTempDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServerAt(t, filepath.Join(dir, "e.sock"), nil)
	if err := os.Chmod(s.Path(), 0o666); err != nil {
		t.Fatal(err)
	}
	// The test binary lives in a 0700 build directory: copy it where the
	// other user may run it.
	exe := filepath.Join(dir, "ipc.test")
	copyFile(t, exe)

	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=dial", helperSockEnv+"="+s.Path())
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot run a process as uid %d here: %v", nobody, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-errc
		t.Fatalf("child did not finish:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "dial error:") || !strings.Contains(out.String(), "another user") {
		t.Errorf("child output: %s", out.String())
	}
	line := s.log.waitLog(t, "level=WARN", `msg="rejected a connection from another user"`)
	for _, want := range []string{
		fmt.Sprintf("uid=%d", nobody),
		fmt.Sprintf("pid=%d", cmd.Process.Pid),
		"want_uid=0",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q without %q", line, want)
		}
	}
	nothing(t, s.rec.connects, "OnConnect")

	// Root itself is still welcome.
	c, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// copyFile copies the running test binary to dst with mode 0755.
func copyFile(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
