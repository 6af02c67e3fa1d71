//go:build !windows

package tray

// platformIcon returns the PNG tray icon as is: fyne.io/systray takes PNG
// on Linux (StatusNotifierItem IconPixmap) and macOS.
func platformIcon(png []byte) ([]byte, error) { return png, nil }
