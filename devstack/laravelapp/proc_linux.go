package laravelapp

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr starts the server in its own process group (its workers
// inherit it) and has the kernel kill the main process if the Go process
// dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// groupPIDs returns the live (not zombie) processes of process group pgid,
// found in /proc, plus the children of pgid's leader wherever they are.
func groupPIDs(pgid int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if alive(pid, pgid) {
			pids = append(pids, pid)
		}
	}
	for _, c := range children(pgid) {
		if !slices.Contains(pids, c) && alive(c, -1) {
			pids = append(pids, c)
		}
	}
	return pids
}

// children lists the children of pid from /proc/<pid>/task/*/children.
func children(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// alive reports whether pid runs (is not a zombie) and, when pgid >= 0, is
// in process group pgid (so a reused PID is not mistaken for ours).
func alive(pid, pgid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
		return false
	}
	if pgid < 0 {
		return true
	}
	g, err := strconv.Atoi(f[2])
	return err == nil && g == pgid
}

// signalGroup sends SIGTERM (or SIGKILL) to process group pgid and to each
// of pids.
func signalGroup(pgid int, pids []int, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pgid, sig)
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
}

func platformSupported() error { return nil }

// getpgid returns this process's group (for tests).
func getpgid() int { return syscall.Getpgrp() }

// ownerEnv marks the app's processes with the PID of the Go process that
// started them, so that workers orphaned by a killed test binary can be
// recognised by a later Start.
const ownerEnv = "ECHOTRAY_LARAVELAPP_OWNER"

// sweepOrphans kills php processes left by an earlier runner that died
// without stopping them (PHP's workers survive their parent, and a SIGKILL
// of the Go process leaves no chance to stop them): processes whose
// environment names an owner PID that no longer runs. Processes of runners
// still alive are never touched. It returns the PIDs it killed, and
// removes their storage directories.
func sweepOrphans() []int {
	var killed []int
	storage := map[string]bool{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid, -1) {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		owner, dir := 0, ""
		for _, kv := range strings.Split(string(env), "\x00") {
			if v, ok := strings.CutPrefix(kv, ownerEnv+"="); ok {
				owner, _ = strconv.Atoi(v)
			} else if v, ok := strings.CutPrefix(kv, "APP_STORAGE="); ok {
				dir = v
			}
		}
		if owner == 0 || owner == os.Getpid() || alive(owner, -1) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
		}
		if isStorageDir(dir) {
			storage[dir] = true
		}
	}
	for dir := range storage {
		_ = os.RemoveAll(dir)
	}
	return killed
}

// isStorageDir reports whether dir looks like a storage directory Start
// made (an absolute path whose last element starts with storagePrefix).
func isStorageDir(dir string) bool {
	return filepath.IsAbs(dir) && strings.HasPrefix(filepath.Base(dir), storagePrefix)
}
