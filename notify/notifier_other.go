//go:build !linux

package notify

// NewDesktopNotifier returns the desktop Notifier for this platform. On
// Windows and macOS that is gen2brain/beeep with beeep.AppName set to
// appName: Windows shows WinRT toasts (register the app's AUMID to get its
// name and icon), macOS uses terminal-notifier or osascript. beeep cannot
// report clicks, so onClick is never called here. Call Notify from one
// goroutine (the Center's delivery worker): beeep blocks.
func NewDesktopNotifier(appName, iconPath string, onClick func(entryID int64)) Notifier {
	_ = onClick
	return newBeeepNotifier(appName, iconPath, false)
}
