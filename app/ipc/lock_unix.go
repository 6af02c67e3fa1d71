//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package ipc

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on f without waiting. flock locks
// belong to the open file, not the process: a second open in this process
// conflicts too.
func lockFile(f *os.File) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lockErr error
	if err := raw.Control(func(fd uintptr) {
		for {
			lockErr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
			if !errors.Is(lockErr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	if errors.Is(lockErr, unix.EWOULDBLOCK) {
		return errLocked
	}
	return lockErr
}

// isRefusedPlatform: on unix systems errors.Is(err, ECONNREFUSED) says it.
func isRefusedPlatform(error) bool { return false }
