//go:build !unix

package devstack

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to add where there are no process groups.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// terminateGroup cannot deliver SIGTERM here, so it kills the process:
// clients then see an abrupt drop rather than close code 4200.
func terminateGroup(p *os.Process) { killGroup(p) }

// killGroup kills the process.
func killGroup(p *os.Process) {
	if p != nil {
		_ = p.Kill()
	}
}
