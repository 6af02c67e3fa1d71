//go:build !linux && !darwin

package ipc

import "net"

// peerCredentials cannot tell who the peer is on this platform (Windows,
// the BSDs): the connection is accepted without a uid check. The socket
// lives in a per-user directory (on Windows under the user's profile,
// which other users cannot open), so only the same user can reach it.
func peerCredentials(*net.UnixConn) (credentials, error) {
	return credentials{}, nil
}
