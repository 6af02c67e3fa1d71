// Package tray is EchoTray's system tray: the model behind it (which state
// the icon shows, the tooltip text and the menu with its enabled items, as
// plain data) and Host, which shows that model through fyne.io/systray.
//
// The model is pure: it starts no goroutine and reads no clock (callers pass
// now). The core feeds it facts from the session and the connection and
// hands the result to a Host. The package does not import Fyne; the window
// process turns Items into Fyne menus itself.
package tray

import (
	"fmt"
	"math"
	"time"

	"echotray/assets"
	"echotray/notify"
)

// State is what the tray icon shows.
type State int

// The tray states. Paused is shown instead of Connecting or Connected while
// do-not-disturb is on; SignedOut, Expired and Offline win over it.
const (
	SignedOut  State = iota // no session: the sign-in window is the way in
	Connecting              // signed in, the connection is being set up
	Connected               // signed in and subscribed
	Offline                 // connection lost, retrying at Status.NextAttempt
	Expired                 // the backend ended the session (401): sign in again
	Paused                  // connected (or connecting) with notifications paused
	// Warning: connected, but part of it failed (a channel the server
	// will not authorise); Status.Warning says what. Shown over Paused.
	Warning
)

// String returns the state's name, which is also its icon name in assets:
// "signedout", "connecting", "connected", "offline", "expired", "paused".
func (s State) String() string {
	switch s {
	case SignedOut:
		return "signedout"
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Offline:
		return "offline"
	case Expired:
		return "expired"
	case Paused:
		return "paused"
	case Warning:
		return "warning"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// SignedIn reports whether a session exists in this state, i.e. whether the
// connection-related menu items apply.
func (s State) SignedIn() bool {
	switch s {
	case Connecting, Connected, Offline, Paused, Warning:
		return true
	}
	return false
}

// Status is the set of facts the tray is drawn from.
type Status struct {
	// Conn is the session and connection state: SignedOut, Expired,
	// Connecting, Connected or Offline. (Paused is derived, see Shown.)
	Conn State
	// User is the signed-in user's display name; empty when unknown.
	User string
	// NextAttempt is when the next connection attempt is due while Offline;
	// zero means no attempt is planned (the server refused the connection).
	NextAttempt time.Time
	// PausedUntil is the end of do-not-disturb: zero means not paused, a
	// far-future time (ten years or more ahead) means until resumed.
	PausedUntil time.Time
	// Warning is a plain sentence about a partial failure while
	// Connected ("Connected, but personal notifications are unavailable:
	// …"); it turns the icon to Warning. Empty when all is well.
	Warning string
}

// Paused reports whether do-not-disturb is on at now.
func (s Status) Paused(now time.Time) bool {
	return !s.PausedUntil.IsZero() && s.PausedUntil.After(now)
}

// Shown is the state the icon shows at now: Paused while do-not-disturb is
// on and the session is connecting or connected, else Conn.
func (s Status) Shown(now time.Time) State {
	if s.Conn == Connected && s.Warning != "" {
		return Warning
	}
	if s.Paused(now) && (s.Conn == Connecting || s.Conn == Connected) {
		return Paused
	}
	return s.Conn
}

// Tooltip is the tray tooltip at now, e.g. "EchoTray — connected as Alice ·
// 3 unread" or "Offline — next attempt in 12 s".
func Tooltip(s Status, unread int, now time.Time) string {
	var text string
	switch s.Shown(now) {
	case SignedOut:
		text = "EchoTray — not signed in"
	case Expired:
		text = "EchoTray — session expired, please sign in again"
	case Connecting:
		text = "EchoTray — connecting…"
	case Connected:
		text = "EchoTray — connected"
		if s.User != "" {
			text += " as " + s.User
		}
	case Offline:
		switch {
		case s.NextAttempt.IsZero():
			text = "Offline — not retrying; use Reconnect now"
		case s.NextAttempt.After(now):
			text = "Offline — next attempt in " + Countdown(s.NextAttempt.Sub(now))
		default:
			text = "Offline — reconnecting…"
		}
		if s.Paused(now) {
			text += " · notifications paused"
		}
	case Paused:
		text = "EchoTray — notifications paused " + PauseEnd(s.PausedUntil, now)
	case Warning:
		text = s.Warning
		if s.Paused(now) {
			text += " · notifications paused"
		}
	default:
		text = "EchoTray"
	}
	if unread > 0 {
		text += fmt.Sprintf(" · %d unread", unread)
	}
	return text
}

// Countdown renders a wait for a tooltip: "12 s" below a minute (rounded
// up, so it never shows "0 s" before the attempt), else whole minutes
// rounded up ("2 min").
func Countdown(d time.Duration) string {
	if d <= 0 {
		return "0 s"
	}
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(math.Ceil(d.Seconds())))
	}
	return fmt.Sprintf("%d min", int(math.Ceil(d.Minutes())))
}

// PauseEnd describes when a pause ends relative to now: "until resumed",
// "until 15:04" (today) or "until Mon 15:04".
func PauseEnd(until, now time.Time) string {
	if notify.UntilResumed(until, now) {
		return "until resumed"
	}
	until = until.In(now.Location())
	y1, m1, d1 := until.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return "until " + until.Format("15:04")
	}
	return "until " + until.Format("Mon 15:04")
}

// IconSize is the pixel size of the tray icons IconPNG returns.
const IconSize = 64

// IconPNG is the PNG tray icon for state, with the unread badge when
// unread > 0. The bytes are shared: callers must not modify them.
func IconPNG(state State, unread int) []byte {
	b, err := assets.TrayIconPNG(IconName(state), unread > 0, IconSize)
	if err != nil {
		// Every State has an icon (the tests check it); an unknown one is a
		// programming error, and the app icon is still a usable tray icon.
		return assets.AppIcon64PNG
	}
	return b
}

// IconName is the assets icon of a state. Warning has no icon of its own:
// it shows the attention icon of Expired (a bell with an exclamation mark).
func IconName(s State) string {
	if s == Warning {
		return Expired.String()
	}
	return s.String()
}
