// Package e2e holds the end-to-end tests of the real echotray binary (build
// tag e2e):
//
//	go test -tags e2e -count=1 -timeout 30m -v ./test/e2e/
//
// TestMain builds the binary once (go build -tags migrated_fynedo; cgo and
// Fyne, several minutes when cold) unless ECHOTRAY_E2E_BINARY names one
// already built. Every test gets a desktop of its own: Xvfb, a private
// D-Bus session bus (no service activation), an unlocked
// gnome-keyring-daemon, dunst as the notification server and dbus-monitor
// recording every Notify call; plus the real Soketi (devstack) and the
// Laravel stand-in. The binary runs with ECHOTRAY_CONFIG_DIR, _DATA_DIR and
// _CACHE_DIR in the test's temp dir, and HOME/XDG_* there too.
//
// Missing tools fail the run with the Debian package to install: xvfb,
// dbus-daemon, dbus-bin, gnome-keyring, libsecret-tools, dunst; Soketi needs
// Node.js and `make deps`.
//
// Hooks for more scenarios (e.g. the tray on a StatusNotifierWatcher):
// StartDesktop(t, DesktopOptions{...}) returns a *Desktop whose Env, Start
// (any extra process on the same display and bus, such as a
// StatusNotifierWatcher), NameHasOwner/WaitName (bus names),
// Notifications/WaitNotification and SecretSearch can be reused;
// Desktop.NewApp(t) gives an *App whose Run and Start run the binary (Start
// with no arguments is the tray app).
package e2e
