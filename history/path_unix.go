//go:build !windows && !darwin

package history

import (
	"errors"
	"os"
	"path/filepath"
)

// userDataDir follows the XDG base directory specification: $XDG_DATA_HOME
// when it is an absolute path, else ~/.local/share.
func userDataDir() (string, error) {
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "echotray"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	if home == "" {
		return "", errors.New("no home directory")
	}
	return filepath.Join(home, ".local", "share", "echotray"), nil
}
