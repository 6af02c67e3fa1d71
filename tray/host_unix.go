//go:build (linux || freebsd || openbsd || netbsd) && !android

package tray

import "github.com/godbus/dbus/v5"

// trayUnavailable reports why fyne.io/systray cannot work here: on these
// systems it serves a StatusNotifierItem on the session bus, and without
// one it would crash when quitting. The connection is the shared one
// systray uses too.
func trayUnavailable() error {
	_, err := dbus.SessionBus()
	return err
}
