package history

import (
	"fmt"
	"os"
	"path/filepath"
)

// DataDirEnv names the environment variable that, when set, replaces the
// per-OS data directory (tests, portable installs).
const DataDirEnv = "ECHOTRAY_DATA_DIR"

// FileName is the history database's file name inside the data
// directory.
const FileName = "history.db"

// DefaultPath returns where the history database lives: the file
// history.db in $ECHOTRAY_DATA_DIR when that is set, else in the per-OS user
// data directory:
//
//   - Linux and other Unix: $XDG_DATA_HOME/echotray, or ~/.local/share/echotray
//   - macOS: ~/Library/Application Support/EchoTray
//   - Windows: %LocalAppData%\EchoTray
//
// It does not create the directory; Open does.
func DefaultPath() (string, error) {
	if dir := os.Getenv(DataDirEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("history data directory from %s: %w", DataDirEnv, err)
		}
		return filepath.Join(abs, FileName), nil
	}
	dir, err := userDataDir()
	if err != nil {
		return "", fmt.Errorf("history data directory: %w", err)
	}
	return filepath.Join(dir, FileName), nil
}
