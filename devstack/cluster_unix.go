//go:build unix

package devstack

import "syscall"

// raiseFileLimit sets the soft open-file limit to the hard one. Go raises
// its own soft limit at start-up but restores the original for the
// processes it starts, unless the program sets the limit itself, as here.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// fileLimit returns the open-file limit child processes get (after
// raiseFileLimit), or 0 if unknown.
func fileLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 0
	}
	return int(lim.Cur)
}
