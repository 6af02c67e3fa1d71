//go:build windows

package ipc

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile locks the first byte of f exclusively with LockFileEx, failing
// at once (LOCKFILE_FAIL_IMMEDIATELY) if another handle holds it. The lock
// belongs to the handle: a second open in this process conflicts too.
func lockFile(f *os.File) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lockErr error
	if err := raw.Control(func(fd uintptr) {
		lockErr = windows.LockFileEx(windows.Handle(fd),
			windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, new(windows.Overlapped))
	}); err != nil {
		return err
	}
	if errors.Is(lockErr, windows.ERROR_LOCK_VIOLATION) {
		return errLocked
	}
	return lockErr
}

// isRefusedPlatform reports Winsock's "connection refused", which is not
// syscall.ECONNREFUSED on Windows.
func isRefusedPlatform(err error) bool { return errors.Is(err, windows.WSAECONNREFUSED) }
