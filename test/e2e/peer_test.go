//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"echotray/app/ipc"
)

// peerEnv names the socket when this test binary runs as a foreign peer.
const peerEnv = "ECHOTRAY_E2E_PEER_SOCKET"

// Exit codes of runPeer.
const (
	peerWelcomed = 0
	peerRefused  = 3
)

// runPeer dials the core's socket as a launcher and reports what happened.
func runPeer(socket string) int {
	c, err := ipc.Dial(socket, ipc.RoleLauncher, 10*time.Second)
	if err != nil {
		fmt.Println("refused:", err)
		return peerRefused
	}
	c.Close()
	fmt.Println("welcomed by the core, pid", c.CorePID())
	return peerWelcomed
}

// nobody is the uid and gid the foreign peer runs as.
const nobody = 65534

// copyExecutable copies this test binary to a directory every user can
// read (go test keeps it in a private one).
func copyExecutable(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "echotray-e2e-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(dir, "peer")
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestSocketRejectsOtherUser: a process of another user that reaches the
// core's socket (its directory made traversable and the socket writable for
// everyone, which the core never does itself) is refused by the peer
// credential check; the core logs it and keeps serving its own user.
func TestSocketRejectsOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running a process as another user (uid 65534) needs root")
	}
	d := StartDesktop(t, DesktopOptions{})
	w, _ := startWatcher(t, d)
	a := d.NewApp(t)
	core := a.Start(t, "--hidden")
	w.waitItem(t)
	sock := d.socketPath()
	waitUntil(t, "the core's socket", func() bool {
		_, err := os.Stat(sock)
		return err == nil
	})

	// Open the way to the socket for everyone: the directories of the
	// test's temp tree above it traversable (the system temp dir above them
	// is), the socket writable.
	for _, dir := range []string{filepath.Dir(sock), d.Dir, filepath.Dir(d.Dir)} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, fi.Mode().Perm()|0o011); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}

	peer := exec.Command(copyExecutable(t))
	peer.Env = []string{peerEnv + "=" + sock, "PATH=/usr/bin:/bin"}
	peer.Dir = "/"
	peer.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := peer.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != peerRefused {
		t.Fatalf("a process of uid %d connecting to the core: %v\n%s", nobody, err, out)
	}
	if !strings.Contains(string(out), "another user") {
		t.Errorf("the refused peer was not told why:\n%s", out)
	}
	waitUntil(t, `"rejected a connection from another user" in the core's log`, func() bool {
		log := readAll(a.LogFile())
		return strings.Contains(log, "rejected a connection from another user") && strings.Contains(log, fmt.Sprintf("uid=%d", nobody))
	})
	if core.proc.Exited() {
		t.Fatal("the core ended after refusing a connection")
	}
	// Its own user still gets through: a second launch is answered.
	if r := a.Run(t, ""); r.Code != 0 {
		t.Errorf("second launch after the refusal:\n%s", r)
	}
	if core.proc.Exited() {
		t.Fatal("the core ended")
	}
}
