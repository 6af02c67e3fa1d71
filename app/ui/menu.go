package ui

import (
	"fyne.io/fyne/v2"

	"echotray/app/ipc"
	"echotray/tray"
)

// fyneMenu turns the tray menu's plain items into a Fyne menu (the history
// window's main menu when no tray host shows the icon). Actions run on the
// Fyne thread, as Fyne calls menu actions there.
func fyneMenu(title string, items []tray.Item) *fyne.Menu {
	out := make([]*fyne.MenuItem, 0, len(items))
	for _, it := range items {
		if it.Separator {
			out = append(out, fyne.NewMenuItemSeparator())
			continue
		}
		mi := fyne.NewMenuItem(it.Label, it.Action)
		mi.Disabled = it.Disabled || it.Action == nil
		mi.IsQuit = it.IsQuit
		out = append(out, mi)
	}
	return fyne.NewMenu(title, out...)
}

// trayStatus is the tray's status from the core's state.
func trayStatus(s ipc.State) tray.Status {
	return tray.Status{Conn: stateNamed(s.Conn), User: s.User, NextAttempt: s.NextAttempt, PausedUntil: s.PausedUntil}
}

// stateNamed is the tray state whose String is name (ipc.State.Conn);
// Connecting for an unknown name.
func stateNamed(name string) tray.State {
	for _, st := range []tray.State{tray.SignedOut, tray.Connecting, tray.Connected, tray.Offline, tray.Expired, tray.Paused, tray.Warning} {
		if st.String() == name {
			return st
		}
	}
	return tray.Connecting
}
