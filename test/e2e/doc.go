// Package e2e holds the end-to-end tests of the real echotray executables
// (build tag e2e):
//
//	go test -tags e2e -count=1 -timeout 30m -v ./test/e2e/
//
// TestMain builds both executables into one temporary directory exactly as
// the Makefile does: the core, `CGO_ENABLED=0 go build -tags nowindow -o
// DIR/echotray .` (no GUI toolkit), and the window program, `go build -tags
// migrated_fynedo -o DIR/echotray-window .` (cgo and Fyne, several minutes
// when cold). The core finds echotray-window next to itself and starts it
// for its windows. ECHOTRAY_E2E_BINARY names an echotray already built
// instead; echotray-window must be next to it.
//
// Every test gets a desktop of its own: Xvfb, a private D-Bus session bus
// (no service activation), an unlocked gnome-keyring-daemon, dunst as the
// notification server and dbus-monitor recording every Notify call and the
// server's replies (the notification ids); plus the real Soketi (devstack)
// and the Laravel stand-in. The binaries run with ECHOTRAY_CONFIG_DIR,
// _DATA_DIR and _CACHE_DIR in the test's temp dir, and HOME/XDG_* there
// too; the core's socket is in the desktop's XDG_RUNTIME_DIR.
//
// The tray is tested two ways. A fake StatusNotifierWatcher in the test
// (tray_test.go) lets the tests read what only the item shows (icon
// pixmaps, tooltip). A real tray host (panel_test.go): xfce4-panel, whose
// systray plugin owns org.kde.StatusNotifierWatcher, with Xfconf and the
// xfwm4 window manager, for the process model: the window process the
// core starts on demand, notification clicks, crashes of either process,
// the second launch and Quit. Processes are found in /proc (proc_test.go).
//
// Missing tools fail the run with the Debian package to install: xvfb,
// dbus-daemon, dbus-bin, gnome-keyring, libsecret-tools, dunst, and for the
// tray and window tests xdotool, x11-utils, xfce4-panel and xfwm4; Soketi
// needs Node.js and `make deps`.
//
// Hooks for more scenarios: StartDesktop(t, DesktopOptions{...}) returns a
// *Desktop whose Env, Start (any extra process on the same display and
// bus), NameHasOwner/WaitName (bus names), Notifications/WaitNotification
// and SecretSearch can be reused; StartPanel(t, d) adds the real tray
// host; Desktop.NewApp(t) gives an *App whose Run and Start run the core
// binary (Start with no arguments is the tray app) and whose ourProcs and
// windowProcs list its live processes.
package e2e
