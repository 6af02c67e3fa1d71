//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procInfo is a running process as /proc shows it.
type procInfo struct {
	PID, PPID int
	Exe       string   // the executable's path
	Args      []string // the command line
	env       []string
}

func (p procInfo) String() string {
	return fmt.Sprintf("pid %d (parent %d): %s", p.PID, p.PPID, strings.Join(p.Args, " "))
}

// readProc reads a live process; ok is false for one that has gone or is a
// zombie (it has exited, nobody collected it yet).
func readProc(pid int) (p procInfo, ok bool) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return p, false
	}
	// "pid (comm) S ppid …"; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return p, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 || f[0] == "Z" || f[0] == "X" {
		return p, false
	}
	p.PID = pid
	p.PPID, _ = strconv.Atoi(f[1])
	if p.Exe, err = os.Readlink(filepath.Join(dir, "exe")); err != nil {
		return p, false
	}
	cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
	p.Args = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	environ, _ := os.ReadFile(filepath.Join(dir, "environ"))
	p.env = strings.Split(strings.TrimRight(string(environ), "\x00"), "\x00")
	return p, true
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	_, ok := readProc(pid)
	return ok
}

// ourProcs lists the live processes of the binaries under test (their
// executable is in buildDir) that run for this App (its config dir is in
// their environment): the core and the window process.
func (a *App) ourProcs() []procInfo {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []procInfo
	mark := "ECHOTRAY_CONFIG_DIR=" + filepath.Join(a.Dir, "config")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readProc(pid)
		if ok && filepath.Dir(p.Exe) == buildDir && slices.Contains(p.env, mark) {
			out = append(out, p)
		}
	}
	return out
}

// windowProcs lists the window processes of this App: echotray-window
// running `window`.
func (a *App) windowProcs() []procInfo {
	var out []procInfo
	for _, p := range a.ourProcs() {
		if p.Exe == windowBinary && slices.Contains(p.Args, "window") {
			out = append(out, p)
		}
	}
	return out
}

// waitWindowProc waits until exactly one window process runs as a child of
// the core corePID, showing window at start (its --show argument), and
// other than every pid in not; it returns it.
func (a *App) waitWindowProc(t *testing.T, corePID int, window string, not ...int) procInfo {
	t.Helper()
	var found procInfo
	waitUntil(t, fmt.Sprintf("a window process (echotray-window window --show %s) started by the core", window), func() bool {
		ws := a.windowProcs()
		if len(ws) != 1 || slices.Contains(not, ws[0].PID) {
			return false
		}
		found = ws[0]
		return true
	})
	if found.PPID != corePID {
		t.Errorf("the window process %v is not the core's (pid %d) child", found, corePID)
	}
	if i := slices.Index(found.Args, "--show"); i < 0 || i+1 >= len(found.Args) || found.Args[i+1] != window {
		t.Errorf("the window process was started as %q, want --show %s", found.Args, window)
	}
	return found
}

// waitGone waits until pid has exited, for limit at most; it returns how
// long that took.
func waitGone(t *testing.T, pid int, limit time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	waitUntilFor(t, limit, what, func() bool { return !alive(pid) })
	return time.Since(start)
}

// kill9 sends SIGKILL to pid.
func kill9(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
}

// PID is the process id of a background run.
func (r *Running) PID() int { return r.proc.cmd.Process.Pid }

// WindowLogFile returns the path of the window process's log file.
func (a *App) WindowLogFile() string {
	return filepath.Join(a.Dir, "cache", "logs", "echotray-window.log")
}
