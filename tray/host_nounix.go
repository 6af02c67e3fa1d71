//go:build !((linux || freebsd || openbsd || netbsd) && !android)

package tray

// trayUnavailable is nil: fyne.io/systray needs no bus on Windows and macOS.
func trayUnavailable() error { return nil }
