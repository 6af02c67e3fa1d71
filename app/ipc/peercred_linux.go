//go:build linux

package ipc

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// peerCredentials reads the uid and pid of the peer process with
// SO_PEERCRED; the kernel records them when the peer connects.
func peerCredentials(c *net.UnixConn) (credentials, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return credentials{}, fmt.Errorf("peer credentials: %w", err)
	}
	var (
		cred    *unix.Ucred
		credErr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return credentials{}, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return credentials{}, fmt.Errorf("peer credentials: SO_PEERCRED: %w", credErr)
	}
	return credentials{known: true, uid: int(cred.Uid), pid: int(cred.Pid)}, nil
}
