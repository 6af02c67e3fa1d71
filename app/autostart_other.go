//go:build !linux && !windows && !darwin

package app

// Enable reports ErrAutostartUnsupported.
func (a Autostart) Enable(exe string) error { return ErrAutostartUnsupported }

// Disable has nothing to remove.
func (a Autostart) Disable() error { return nil }

// Enabled is always false.
func (a Autostart) Enabled() (bool, error) { return false, nil }
