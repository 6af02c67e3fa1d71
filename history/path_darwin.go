package history

import (
	"os"
	"path/filepath"
)

// userDataDir is ~/Library/Application Support/EchoTray, where macOS apps
// keep their data.
func userDataDir() (string, error) {
	dir, err := os.UserConfigDir() // ~/Library/Application Support
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "EchoTray"), nil
}
