package notify

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// NewDesktopNotifier returns the desktop Notifier for Windows: WinRT toasts
// through gen2brain/beeep, whose application name is the toast's
// AppUserModelID. Toasts show the name and icon registered for that ID under
// HKCU\Software\Classes\AppUserModelId\<appID>: the installer registers it,
// and for a copy run without the installer (a portable or development build)
// this registers it too, pointing at iconPath, unless it already exists.
// beeep cannot report clicks, so onClick is never called here. Call Notify
// from one goroutine (the Center's delivery worker): beeep blocks.
func NewDesktopNotifier(appName, appID, iconPath string, onClick func(entryID int64)) Notifier {
	_ = onClick
	id := appName
	if appID != "" {
		id = appID
		// A failure leaves the toasts working, only without the name and
		// icon; the first delivery error, if any, is what the user sees.
		_ = registerAUMID(appID, appName, iconPath)
	}
	return newBeeepNotifier(id, iconPath, false)
}

// registerAUMID writes the toast identity of appID for the current user if
// nothing is registered for it yet.
func registerAUMID(appID, name, icon string) error {
	path := `Software\Classes\AppUserModelId\` + appID
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.QUERY_VALUE)
	if err == nil {
		k.Close()
		return nil
	}
	if !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("read toast identity: %w", err)
	}
	k, _, err = registry.CreateKey(registry.CURRENT_USER, path, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("register toast identity: %w", err)
	}
	defer k.Close()
	if err := k.SetStringValue("DisplayName", name); err != nil {
		return fmt.Errorf("register toast identity: %w", err)
	}
	if icon != "" {
		if err := k.SetStringValue("IconUri", icon); err != nil {
			return fmt.Errorf("register toast identity: %w", err)
		}
	}
	return nil
}
