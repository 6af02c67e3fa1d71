package app

import (
	"errors"
	"fmt"
	"os"
)

// autostartPath is ~/.config/autostart/echotray.desktop ($XDG_CONFIG_HOME
// is honoured).
func autostartPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("autostart: %w", err)
	}
	return xdgAutostartPath(dir), nil
}

// Enable writes the XDG autostart entry that starts exe at login.
func (a Autostart) Enable(exe string) error {
	path, err := autostartPath()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, []byte(desktopEntry(exe, a.args())), 0o644); err != nil {
		return fmt.Errorf("enable start at login: %w", err)
	}
	return nil
}

// Disable removes the autostart entry.
func (a Autostart) Disable() error {
	path, err := autostartPath()
	if err != nil {
		return err
	}
	if err := removeIfExists(path); err != nil {
		return fmt.Errorf("disable start at login: %w", err)
	}
	return nil
}

// Enabled reports whether the autostart entry exists and is not switched
// off (Hidden=true or X-GNOME-Autostart-enabled=false, as desktop settings
// tools do).
func (a Autostart) Enabled() (bool, error) {
	path, err := autostartPath()
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read autostart entry: %w", err)
	}
	return desktopEntryActive(string(data)), nil
}
