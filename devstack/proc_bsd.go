//go:build unix && !linux

package devstack

import "syscall"

// sysProcAttr puts Soketi in its own process group so Stop and Kill reach
// every process it starts.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
