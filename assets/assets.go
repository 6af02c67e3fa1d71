// Package assets embeds EchoTray's icons as PNG bytes: the application icon
// and one tray icon per connection state, each with and without the unread
// badge.
//
// It imports no GUI toolkit: the tray process hands the bytes to the system
// tray, and the window process wraps them in Fyne resources itself
// (fyne.NewStaticResource(name, assets.AppIconPNG)).
//
// The PNG files in icons/ are drawn by the generator in gen/ and committed;
// regenerate them with `go generate ./assets`.
package assets

//go:generate go run ./gen -out icons

import (
	"embed"
	"fmt"
)

//go:embed icons/*.png
var icons embed.FS

// TrayStates lists the states a tray icon exists for. The names match the
// file names in icons/ (tray-<state>[-unread]-<size>.png).
var TrayStates = []string{"connecting", "connected", "offline", "expired", "paused", "signedout"}

// TraySizes are the pixel sizes every tray icon is drawn at.
var TraySizes = []int{32, 64}

// File names of the application icon, for callers that need a name with
// the bytes (a Fyne resource, a file written to disk).
const (
	AppIconName   = "echotray.png"
	AppIcon64Name = "echotray-64.png"
	AppIcon32Name = "echotray-32.png"
)

// AppIconPNG is the 512 px application icon (the one FyneApp.toml names).
// Callers must not modify it.
var AppIconPNG = mustLoad(AppIconName)

// AppIcon64PNG is the application icon at 64 px, for window icons,
// notifications and as the fallback tray icon. Callers must not modify it.
var AppIcon64PNG = mustLoad(AppIcon64Name)

// AppIcon32PNG is the application icon at 32 px. Callers must not modify it.
var AppIcon32PNG = mustLoad(AppIcon32Name)

var trayIcons = loadTray()

// TrayIconPNG returns the PNG bytes of the tray icon of state at size px
// (one of TraySizes), with the unread badge if unread is set. It returns an
// error for an unknown state or size. The bytes are shared: callers must not
// modify them.
func TrayIconPNG(state string, unread bool, size int) ([]byte, error) {
	b, ok := trayIcons[TrayIconName(state, unread, size)]
	if !ok {
		return nil, fmt.Errorf("assets: no tray icon for state %q at %d px", state, size)
	}
	return b, nil
}

// TrayIconName is the file name of a tray icon, e.g.
// "tray-connected-unread-64.png"; a useful resource name for the bytes
// TrayIconPNG returns.
func TrayIconName(state string, unread bool, size int) string {
	name := "tray-" + state
	if unread {
		name += "-unread"
	}
	return fmt.Sprintf("%s-%d.png", name, size)
}

func loadTray() map[string][]byte {
	m := make(map[string][]byte)
	for _, st := range TrayStates {
		for _, unread := range []bool{false, true} {
			for _, size := range TraySizes {
				name := TrayIconName(st, unread, size)
				m[name] = mustLoad(name)
			}
		}
	}
	return m
}

// mustLoad reads an embedded icon. The files are embedded at build time and
// checked by the tests, so a missing one is a programming error.
func mustLoad(name string) []byte {
	data, err := icons.ReadFile("icons/" + name)
	if err != nil {
		panic(fmt.Sprintf("assets: embedded icon %s: %v", name, err))
	}
	return data
}
