//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package ipc

import "os"

// lockFile cannot lock on this platform: Listen then relies on connecting
// to the socket alone.
func lockFile(*os.File) error { return nil }

// isRefusedPlatform: errors.Is(err, ECONNREFUSED) says it.
func isRefusedPlatform(error) bool { return false }
