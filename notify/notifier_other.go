//go:build !linux && !windows

package notify

// NewDesktopNotifier returns the desktop Notifier for this platform. On
// macOS that is gen2brain/beeep with beeep.AppName set to appName
// (terminal-notifier or osascript; a bundled app is attributed by its bundle,
// so appID is not needed). beeep cannot report clicks, so onClick is never
// called here. Call Notify from one goroutine (the Center's delivery worker):
// beeep blocks.
func NewDesktopNotifier(appName, appID, iconPath string, onClick func(entryID int64)) Notifier {
	_, _ = appID, onClick
	return newBeeepNotifier(appName, iconPath, false)
}
