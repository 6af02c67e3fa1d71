//go:build unix

package devstack

import (
	"os"
	"syscall"
)

// terminateGroup sends SIGTERM to the process group led by p.
func terminateGroup(p *os.Process) {
	signalGroup(p, syscall.SIGTERM)
}

// killGroup sends SIGKILL to the process group led by p, so that no child
// of Soketi survives it. A group that is already gone is not an error.
func killGroup(p *os.Process) {
	signalGroup(p, syscall.SIGKILL)
}

func signalGroup(p *os.Process, sig syscall.Signal) {
	if p == nil {
		return
	}
	// The child was started with Setpgid, so its pid is its group id.
	if err := syscall.Kill(-p.Pid, sig); err != nil {
		_ = p.Signal(sig) // group gone or not ours: fall back to the leader
	}
}
