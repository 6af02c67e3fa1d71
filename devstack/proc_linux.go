package devstack

import "syscall"

// sysProcAttr puts Soketi in its own process group (so Stop and Kill reach
// every process it starts) and has the kernel kill it if the Go process
// dies first, e.g. when a test binary times out.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
