//go:build !windows

package history

import "os"

// restrictMode makes a history file readable and writable by its owner only.
func restrictMode(path string) error {
	return os.Chmod(path, 0o600)
}
