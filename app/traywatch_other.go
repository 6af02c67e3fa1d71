//go:build !linux

package app

import "log/slog"

// TrayWatch tells whether a tray host exists. Windows and macOS always have
// one (the notification area and the menu bar).
type TrayWatch struct{}

// NewTrayWatch returns a watch that always reports a tray host.
func NewTrayWatch(onChange func(present bool), logger *slog.Logger) (*TrayWatch, error) {
	return &TrayWatch{}, nil
}

// Present is always true.
func (w *TrayWatch) Present() bool { return true }

// Close does nothing.
func (w *TrayWatch) Close() error { return nil }

// SetOnChange does nothing: presence never changes.
func (w *TrayWatch) SetOnChange(fn func(present bool)) {}
