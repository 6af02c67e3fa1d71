package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/app/ipc"
	"echotray/tray"
)

// longOffline is how long the connection may be down before the status
// line stops saying "next try" first and says the server cannot be
// reached, with who can help.
const longOffline = 2 * time.Minute

// Texts of the status line.
const (
	statusCantReach   = "Can't reach the notification server — ask your administrator"
	statusReconnect   = "Reconnect now"
	statusSignIn      = "Sign in…"
	statusReconnectOK = "Reconnecting…"
)

// statusLine is the line at the top of the history window that says how
// the connection stands, in words: "Connected as Alice Wanjiru", "Offline
// since 14:02 — next try in 12 s" with a "Reconnect now" button, the plain
// reason, and a warning line for a partial failure (a channel that could
// not be authorised).
//
// A countdown is kept up to date by one ticker that runs only while a
// countdown is shown; otherwise nothing runs. Fyne thread only.
type statusLine struct {
	box       *fyne.Container
	icon      *widget.Icon
	text      *widget.Label // the headline
	reason    *widget.Label // the plain reason, when offline
	warning   *widget.Label // the partial failure, when connected
	warnRow   *fyne.Container
	reconnect *widget.Button
	signIn    *widget.Button

	now     func() time.Time
	runOnUI func(func())
	// newTicker starts the countdown's ticker; tests replace it.
	newTicker func(d time.Duration) (c <-chan time.Time, stop func())

	state      ipc.State
	have       bool
	requested  bool // "Reconnect now" was pressed; until the next state
	tickStop   chan struct{}
	tickerDone chan struct{}
}

// newStatusLine builds the status line; onReconnect and onSignIn run on
// the Fyne thread when their buttons are pressed.
func newStatusLine(now func() time.Time, runOnUI func(func()), onReconnect, onSignIn func()) *statusLine {
	s := &statusLine{now: now, runOnUI: runOnUI}
	s.newTicker = func(d time.Duration) (<-chan time.Time, func()) {
		t := time.NewTicker(d)
		return t.C, t.Stop
	}
	s.icon = widget.NewIcon(theme.MoreHorizontalIcon())
	s.text = label(&widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Wrapping: fyne.TextWrapWord})
	s.reason = label(&widget.Label{Wrapping: fyne.TextWrapWord})
	s.reason.Hide()
	// The warning icon says it is a warning; the text keeps the text colour
	// (the theme's orange is 2.1:1 on the light background).
	s.warning = label(&widget.Label{Wrapping: fyne.TextWrapWord})
	s.warnRow = container.NewBorder(nil, nil, widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon())), nil, s.warning)
	s.warnRow.Hide()
	s.reconnect = widget.NewButtonWithIcon(statusReconnect, theme.ViewRefreshIcon(), func() {
		s.requested = true
		s.render()
		if onReconnect != nil {
			onReconnect()
		}
	})
	s.reconnect.Hide()
	s.signIn = widget.NewButtonWithIcon(statusSignIn, theme.LoginIcon(), func() {
		if onSignIn != nil {
			onSignIn()
		}
	})
	s.signIn.Hide()
	head := container.NewBorder(nil, nil, s.icon, container.NewHBox(s.reconnect, s.signIn), s.text)
	s.box = container.NewVBox(head, s.reason, s.warnRow, widget.NewSeparator())
	s.text.SetText("Waiting for EchoTray…")
	return s
}

// Set shows the core's state.
func (s *statusLine) Set(st ipc.State) {
	s.state, s.have = st, true
	s.requested = false
	s.render()
}

// Close stops the countdown's ticker.
func (s *statusLine) Close() { s.stopTicker() }

// render fills the line from the state and starts or stops the ticker.
func (s *statusLine) render() {
	st := s.state
	now := s.now()
	head, reason, icon, countdown := s.describe(st, now)
	s.text.SetText(head)
	s.setIcon(icon)
	if reason == "" {
		s.reason.Hide()
	} else {
		s.reason.SetText(reason)
		s.reason.Show()
	}
	if conn := stateNamed(st.Conn); st.Warning != "" && (conn == tray.Connected || conn == tray.Paused || conn == tray.Warning) {
		s.warning.SetText(st.Warning)
		s.warnRow.Show()
	} else {
		s.warnRow.Hide()
	}
	switch stateNamed(st.Conn) {
	case tray.Offline, tray.Connecting:
		s.reconnect.Show()
		if s.requested {
			s.reconnect.Disable()
		} else {
			s.reconnect.Enable()
		}
	default:
		s.reconnect.Hide()
	}
	if s.have && (st.Conn == tray.SignedOut.String() || st.Conn == tray.Expired.String()) {
		s.signIn.Show()
	} else {
		s.signIn.Hide()
	}
	if countdown {
		s.startTicker()
	} else {
		s.stopTicker()
	}
}

// describe is the headline, the second line, the icon and whether a
// countdown is shown, for st at now.
func (s *statusLine) describe(st ipc.State, now time.Time) (head, reason string, icon fyne.Resource, countdown bool) {
	if !s.have {
		return "Waiting for EchoTray…", "", theme.MoreHorizontalIcon(), false
	}
	okIcon := theme.NewSuccessThemedResource(theme.ConfirmIcon())
	errIcon := theme.NewErrorThemedResource(theme.ErrorIcon())
	warnIcon := theme.NewWarningThemedResource(theme.WarningIcon())
	switch stateNamed(st.Conn) {
	case tray.Connected, tray.Paused, tray.Warning:
		head = "Connected"
		if st.User != "" {
			head += " as " + st.User
		}
		if !st.PausedUntil.IsZero() && st.PausedUntil.After(now) {
			if st.PausedUntil.Sub(now) > 365*24*time.Hour {
				head += " · notifications paused"
			} else {
				head += " · notifications paused until " + clock(st.PausedUntil, now)
			}
		}
		if st.Warning != "" {
			return head, "", warnIcon, false
		}
		return head, "", okIcon, false
	case tray.SignedOut:
		return "Not signed in — sign in to receive notifications", "", theme.AccountIcon(), false
	case tray.Expired:
		return "Your sign-in has ended — sign in again to receive notifications", st.Reason, warnIcon, false
	case tray.Offline:
		if s.requested {
			return statusReconnectOK, st.Reason, errIcon, false
		}
		line := "Offline"
		if !st.Since.IsZero() {
			line += " since " + clock(st.Since, now)
		}
		if next := st.NextAttempt.Sub(now); !st.NextAttempt.IsZero() && next > 0 {
			line += " — next try in " + countdownText(next)
			countdown = true
		} else {
			line += " — trying again now"
		}
		if !st.Since.IsZero() && now.Sub(st.Since) >= longOffline {
			// Long enough that waiting does not help: say who can.
			r := line + "."
			if st.Reason != "" {
				r = st.Reason + " " + r
			}
			return statusCantReach, r, errIcon, countdown
		}
		return line, st.Reason, errIcon, countdown
	}
	if s.requested {
		return statusReconnectOK, "", theme.MoreHorizontalIcon(), false
	}
	return "Connecting…", st.Reason, theme.MoreHorizontalIcon(), false
}

func (s *statusLine) setIcon(r fyne.Resource) {
	if s.icon.Resource == nil || s.icon.Resource.Name() != r.Name() {
		s.icon.SetResource(r)
	}
}

// clock is t as the time of day, with the date when it is not today.
func clock(t, now time.Time) string {
	t = t.In(now.Location())
	if sameDay(t, now) {
		return t.Format("15:04")
	}
	return t.Format("2 Jan 15:04")
}

// countdownText is d in whole seconds up to two minutes, then minutes:
// "12 s", "3 min".
func countdownText(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 120 {
		return fmt.Sprintf("%d s", secs)
	}
	return fmt.Sprintf("%d min", (secs+59)/60)
}

// startTicker starts the one-second ticker of the countdown, unless it
// runs.
func (s *statusLine) startTicker() {
	if s.tickStop != nil {
		return
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	s.tickStop, s.tickerDone = stop, done
	c, stopTicker := s.newTicker(time.Second)
	go func() {
		defer close(done)
		defer stopTicker()
		for {
			select {
			case <-stop:
				return
			case <-c:
				s.runOnUI(func() {
					if s.tickStop == stop { // not stopped or restarted since
						s.render()
					}
				})
			}
		}
	}()
}

// stopTicker stops the countdown's ticker, if it runs.
func (s *statusLine) stopTicker() {
	if s.tickStop == nil {
		return
	}
	close(s.tickStop)
	s.tickStop = nil
}

// ticking reports whether the countdown's ticker runs (tests).
func (s *statusLine) ticking() bool { return s.tickStop != nil }
