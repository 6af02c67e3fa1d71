//go:build linux || darwin

package app

import (
	"errors"
	"fmt"
	"os"
)

// loginFile is how Linux (an XDG autostart entry) and macOS (a LaunchAgent)
// start EchoTray at login: one file, written or removed. The OS files say
// where it lives, what it holds, and whether its text switches it on.
type loginFile struct {
	path    func() (string, error)
	content func(exe string, args []string) string
	active  func(text string) bool
}

// Enable writes the file that starts exe at login; nothing is started now.
func (a Autostart) Enable(exe string) error {
	path, err := startFile.path()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, []byte(startFile.content(exe, a.args())), 0o644); err != nil {
		return fmt.Errorf("enable start at login: %w", err)
	}
	return nil
}

// Disable removes the file.
func (a Autostart) Disable() error {
	path, err := startFile.path()
	if err != nil {
		return err
	}
	if err := removeIfExists(path); err != nil {
		return fmt.Errorf("disable start at login: %w", err)
	}
	return nil
}

// Enabled reports whether the file exists and its text switches it on.
func (a Autostart) Enabled() (bool, error) {
	path, err := startFile.path()
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read start-at-login file: %w", err)
	}
	return startFile.active(string(data)), nil
}
