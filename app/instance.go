package app

import (
	"fmt"
	"os"
	"path/filepath"
)

// instanceSocketName is the file name of the single-instance socket.
const instanceSocketName = "echotray.sock"

// InstanceSocketPath is the per-user path of the single-instance socket:
// $XDG_RUNTIME_DIR/echotray.sock when that directory exists, else
// echotray.sock in CacheDir (created with mode 0700).
func InstanceSocketPath() (string, error) {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return filepath.Join(dir, instanceSocketName), nil
		}
	}
	dir, err := CacheDir()
	if err != nil {
		return "", fmt.Errorf("single-instance socket: %w", err)
	}
	return filepath.Join(dir, instanceSocketName), nil
}
