package ipc

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// errLocked is returned by acquireLock when another process (or another
// Listen in this one) holds the lock.
var errLocked = errors.New("locked by another process")

// instanceLock is the core's lock on the lock file next to its socket,
// held while the server lives. The operating system releases it when the
// process ends, however it ends.
type instanceLock struct {
	f *os.File // nil once released
}

// acquireLock opens (or creates, mode 0600) the lock file at path and
// locks it without waiting: errLocked if someone else holds it. The file
// is kept open, not inherited by child processes, and holds the pid of the
// holder for people to read.
func acquireLock(path string) (*instanceLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &instanceLock{f: f}, nil
}

// release gives the lock up. The file stays: removing it would let two
// processes lock two different files of the same name.
func (l *instanceLock) release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
