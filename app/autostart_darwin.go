package app

import (
	"errors"
	"fmt"
	"os"
)

// autostartPath is ~/Library/LaunchAgents/net.traidnet.echotray.plist.
func autostartPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: %w", err)
	}
	return launchAgentPath(home), nil
}

// Enable writes the LaunchAgent that starts exe at login. launchd reads it
// at the next login; nothing is started now.
func (a Autostart) Enable(exe string) error {
	path, err := autostartPath()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, []byte(launchAgentPlist(exe, a.args())), 0o644); err != nil {
		return fmt.Errorf("enable start at login: %w", err)
	}
	return nil
}

// Disable removes the LaunchAgent.
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

// Enabled reports whether the LaunchAgent exists.
func (a Autostart) Enabled() (bool, error) {
	path, err := autostartPath()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("autostart: %w", err)
	}
	return true, nil
}
