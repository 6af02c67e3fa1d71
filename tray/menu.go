package tray

import "time"

// Menu labels.
const (
	LabelOpenHistory = "Open history"
	LabelSignIn      = "Sign in…"
	LabelPause       = "Pause notifications for 1 hour"
	LabelResume      = "Resume notifications"
	LabelSettings    = "Settings"
	LabelReconnect   = "Reconnect now"
	LabelSendTest    = "Send test notification"
	LabelSignOut     = "Sign out"
	LabelQuit        = "Quit"
)

// Model is everything the menu depends on.
type Model struct {
	// State is the shown state (Status.Shown).
	State State
	// Paused is whether do-not-disturb is on: the pause item then resumes.
	Paused bool
	// Summary is a one-line status shown as the first, disabled item, for
	// trays that show no tooltip (GNOME's AppIndicator); empty for none.
	Summary string
}

// NewModel builds the menu model from a status at now. Its Summary is the
// tooltip without the reconnect countdown, so that the model (and the menu
// built from it) changes only when something the user cares about does.
func NewModel(s Status, unread int, now time.Time) Model {
	summary := Tooltip(s, unread, now)
	if s.Shown(now) == Offline && !s.NextAttempt.IsZero() {
		// "reconnecting…" instead of the countdown.
		summary = Tooltip(Status{Conn: Offline, NextAttempt: now, PausedUntil: s.PausedUntil}, unread, now)
	}
	return Model{State: s.Shown(now), Paused: s.Paused(now), Summary: summary}
}

// Actions are the menu's callbacks. A nil action leaves its item disabled.
// Where they run is up to whoever shows the menu: Host runs them on its
// click goroutine (see Host.SetMenu), so they should hand the work to the
// caller's own loop rather than do it there.
type Actions struct {
	OpenHistory func()
	SignIn      func()
	Pause       func() // pause for one hour
	Resume      func()
	Settings    func()
	Reconnect   func()
	SendTest    func()
	SignOut     func()
	Quit        func() // stop the service, then quit the app
}

// Item is one entry of the tray menu as plain data, independent of the
// toolkit that shows it.
type Item struct {
	// Label is the text shown; empty for a separator.
	Label string
	// Action runs when the item is picked; nil for a separator. An item
	// whose action is nil is always Disabled.
	Action func()
	// Disabled items are shown greyed out and cannot be picked.
	Disabled bool
	// Separator is a divider line; it has no label or action.
	Separator bool
	// IsQuit marks the item that quits the app (menus that have a native
	// quit entry, such as macOS's application menu, may place it there).
	IsQuit bool
}

// separator is a separator item.
var separator = Item{Separator: true}

// Items builds the tray menu:
//
//	[status line, disabled]
//	────
//	Open history
//	Sign in…                        (only when signed out or expired)
//	────
//	Pause notifications for 1 hour  (Resume notifications while paused)
//	Settings
//	Reconnect now
//	Send test notification
//	────
//	Sign out
//	────
//	Quit
//
// Pause, Reconnect now and Sign out are disabled without a session; Resume
// stays enabled so a pause can always be lifted, and a test notification
// needs no session. The status line is left out when m.Summary is empty.
func Items(m Model, a Actions) []Item {
	signedIn := m.State.SignedIn()
	var items []Item
	if m.Summary != "" {
		items = append(items, item(m.Summary, nil, false), separator)
	}
	items = append(items, item(LabelOpenHistory, a.OpenHistory, true))
	if !signedIn {
		items = append(items, item(LabelSignIn, a.SignIn, true))
	}
	items = append(items, separator)
	if m.Paused {
		items = append(items, item(LabelResume, a.Resume, true))
	} else {
		items = append(items, item(LabelPause, a.Pause, signedIn))
	}
	items = append(items,
		item(LabelSettings, a.Settings, true),
		item(LabelReconnect, a.Reconnect, signedIn),
		item(LabelSendTest, a.SendTest, true), // works without a session too
		separator,
		item(LabelSignOut, a.SignOut, signedIn),
		separator,
	)
	quit := item(LabelQuit, a.Quit, true)
	quit.IsQuit = true
	return append(items, quit)
}

// item is a menu item, disabled when it doesn't apply or has no action.
func item(label string, action func(), applies bool) Item {
	return Item{Label: label, Action: action, Disabled: !applies || action == nil}
}
