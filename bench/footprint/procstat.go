package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// procSample is what the kernel reports about one process at one moment.
type procSample struct {
	RSSKiB int64   // VmRSS from /proc/PID/status
	PssKiB int64   // Pss from /proc/PID/smaps_rollup
	CPU    float64 // utime+stime, seconds, every thread of the process
	// Switches counts context switches (voluntary and not) of the
	// process's live threads: how often it wakes up.
	Switches int64
}

// readCPU returns utime+stime of pid in seconds.
func readCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	cpu, err := statCPU(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return cpu, nil
}

// statCPU reads utime+stime, in seconds, from the text of /proc/PID/stat.
func statCPU(b []byte) (float64, error) {
	f, ok := fieldsAfterName(b)
	if !ok {
		return 0, fmt.Errorf("no ')' in %q", b)
	}
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the name", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("utime %q stime %q", f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// kibField reads "Name:   1234 kB" from a /proc file.
func kibField(path, name string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, name+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, name)
}

// sample reads RSS, PSS and CPU time of pid.
func sample(pid int) (procSample, error) {
	var s procSample
	var err error
	if s.RSSKiB, err = kibField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS"); err != nil {
		return s, err
	}
	if s.PssKiB, err = kibField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss"); err != nil {
		return s, err
	}
	if s.CPU, err = readCPU(pid); err != nil {
		return s, err
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		st := fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name())
		v, err1 := kibField(st, "voluntary_ctxt_switches")
		n, err2 := kibField(st, "nonvoluntary_ctxt_switches")
		if err1 == nil && err2 == nil {
			s.Switches += v + n
		}
	}
	return s, nil
}

// fieldsAfterName splits the text of /proc/PID/stat after the command
// name: field 2 is in parentheses and may hold spaces and parentheses, so
// the fields after it start at the last ')'. f[0] is field 3 (the state).
func fieldsAfterName(b []byte) (f []string, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	return strings.Fields(string(b[i+1:])), true
}

// statFields is fieldsAfterName of pid's /proc/PID/stat.
func statFields(pid int) ([]string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, false
	}
	return fieldsAfterName(b)
}

// alive reports whether /proc/PID exists and the process is not a zombie.
func alive(pid int) bool {
	f, ok := statFields(pid)
	return ok && len(f) > 0 && f[0] != "Z"
}

// exists reports whether /proc/PID exists at all (a zombie too: it is gone
// only once its parent has reaped it).
func exists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// liveProcs returns the pids of the processes that are not zombies and
// for which keep, given the pid and its stat fields after the name (f[1]
// the parent, f[2] the process group), returns true.
func liveProcs(keep func(pid int, f []string) bool) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, ok := statFields(pid)
		if !ok || len(f) < 3 || f[0] == "Z" {
			continue
		}
		if keep(pid, f) {
			out = append(out, pid)
		}
	}
	return out
}

// children returns the pids whose parent is ppid and whose executable's
// base name is name ("" for any).
func children(ppid int, name string) []int {
	return liveProcs(func(pid int, f []string) bool {
		if p, _ := strconv.Atoi(f[1]); p != ppid {
			return false
		}
		if name == "" {
			return true
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		return err == nil && filepath.Base(exe) == name
	})
}

// inGroup returns the live pids of process group pgid.
func inGroup(pgid int) []int {
	return liveProcs(func(_ int, f []string) bool {
		g, _ := strconv.Atoi(f[2])
		return g == pgid
	})
}
