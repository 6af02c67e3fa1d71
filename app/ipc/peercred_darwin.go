//go:build darwin

package ipc

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// peerCredentials reads the uid of the peer process with LOCAL_PEERCRED
// and, best effort, its pid with LOCAL_PEERPID.
func peerCredentials(c *net.UnixConn) (credentials, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return credentials{}, fmt.Errorf("peer credentials: %w", err)
	}
	var (
		cred    *unix.Xucred
		credErr error
		pid     int
	)
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
		if p, err := unix.GetsockoptInt(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERPID); err == nil {
			pid = p
		}
	}); err != nil {
		return credentials{}, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return credentials{}, fmt.Errorf("peer credentials: LOCAL_PEERCRED: %w", credErr)
	}
	return credentials{known: true, uid: int(cred.Uid), pid: pid}, nil
}
