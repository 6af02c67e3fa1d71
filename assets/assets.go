// Package assets embeds EchoTray's icons: the application icon and one tray
// icon per connection state, each with and without the unread badge.
//
// The PNG files in icons/ are drawn by the generator in gen/ and committed;
// regenerate them with `go generate ./assets`.
package assets

//go:generate go run ./gen -out icons

import (
	"embed"
	"fmt"

	"fyne.io/fyne/v2"
)

//go:embed icons/*.png
var icons embed.FS

// TrayStates lists the states a tray icon exists for. The names match the
// file names in icons/ (tray-<state>[-unread]-<size>.png).
var TrayStates = []string{"connecting", "connected", "offline", "expired", "paused", "signedout"}

// TraySizes are the pixel sizes every tray icon is drawn at.
var TraySizes = []int{32, 64}

// AppIcon is the 512 px application icon (the one FyneApp.toml names).
var AppIcon = mustLoad("echotray.png")

// AppIcon64 is the application icon at 64 px, for window icons and
// notifications.
var AppIcon64 = mustLoad("echotray-64.png")

// AppIcon32 is the application icon at 32 px.
var AppIcon32 = mustLoad("echotray-32.png")

var trayIcons = loadTray()

// TrayIcon returns the tray icon of state at size px (32 or 64), with the
// unread badge if unread is set. It returns an error for an unknown state or
// size.
func TrayIcon(state string, unread bool, size int) (fyne.Resource, error) {
	r, ok := trayIcons[trayName(state, unread, size)]
	if !ok {
		return nil, fmt.Errorf("assets: no tray icon for state %q at %d px", state, size)
	}
	return r, nil
}

func trayName(state string, unread bool, size int) string {
	name := "tray-" + state
	if unread {
		name += "-unread"
	}
	return fmt.Sprintf("%s-%d.png", name, size)
}

func loadTray() map[string]fyne.Resource {
	m := make(map[string]fyne.Resource)
	for _, st := range TrayStates {
		for _, unread := range []bool{false, true} {
			for _, size := range TraySizes {
				name := trayName(st, unread, size)
				m[name] = mustLoad(name)
			}
		}
	}
	return m
}

// mustLoad reads an embedded icon. The files are embedded at build time and
// checked by the tests, so a missing one is a programming error.
func mustLoad(name string) fyne.Resource {
	data, err := icons.ReadFile("icons/" + name)
	if err != nil {
		panic(fmt.Sprintf("assets: embedded icon %s: %v", name, err))
	}
	return fyne.NewStaticResource(name, data)
}
