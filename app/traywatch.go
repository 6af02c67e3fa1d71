package app

// StatusNotifierWatcher is the D-Bus name of the tray host on Linux desktops
// (KDE Plasma, GNOME's AppIndicator extension, waybar, …). fyne.io/systray
// registers the tray icon with it; without it there is no tray icon.
const StatusNotifierWatcher = "org.kde.StatusNotifierWatcher"

// NoTrayBanner is shown on the history window when no tray host exists.
const NoTrayBanner = "No system tray was found (GNOME needs the AppIndicator extension), " +
	"so this window stays open: closing it quits EchoTray. " +
	"Install and enable \"AppIndicator and KStatusNotifierItem Support\" to keep EchoTray in the tray."
