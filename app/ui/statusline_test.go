package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"echotray/app/ipc"
)

// statusFixture is a status line with a clock and a ticker the test
// drives.
type statusFixture struct {
	s          *statusLine
	now        time.Time
	q          *uiQueue
	ticks      chan time.Time
	started    int
	reconnects int
	signIns    int
}

func newStatusFixture(t *testing.T) *statusFixture {
	t.Helper()
	test.NewTempApp(t)
	f := &statusFixture{now: time.Date(2026, 12, 1, 14, 2, 0, 0, time.Local), q: &uiQueue{}}
	f.s = newStatusLine(func() time.Time { return f.now }, f.q.do, func() { f.reconnects++ }, func() { f.signIns++ })
	f.s.newTicker = func(d time.Duration) (<-chan time.Time, func()) {
		if d != time.Second {
			t.Errorf("ticker every %v, want 1 s", d)
		}
		f.started++
		f.ticks = make(chan time.Time)
		return f.ticks, func() {} // called by the ticker goroutine
	}
	t.Cleanup(f.s.Close)
	return f
}

// tick advances the clock by d and delivers one tick.
func (f *statusFixture) tick(t *testing.T, d time.Duration) {
	t.Helper()
	f.now = f.now.Add(d)
	select {
	case f.ticks <- f.now:
	case <-time.After(2 * time.Second):
		t.Fatal("no ticker goroutine takes the tick")
	}
	deadline := time.Now().Add(2 * time.Second)
	for f.q.flush() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the tick did not reach the UI")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStatusLineConnected(t *testing.T) {
	f := newStatusFixture(t)
	if f.s.text.Text != "Waiting for EchoTray…" {
		t.Errorf("before any state: %q", f.s.text.Text)
	}
	f.s.Set(ipc.State{Conn: "connected", User: "Alice Wanjiru"})
	if f.s.text.Text != "Connected as Alice Wanjiru" || f.s.reconnect.Visible() || f.s.warnRow.Visible() || f.s.ticking() {
		t.Errorf("connected: %q, reconnect %v, warning %v, ticking %v", f.s.text.Text, f.s.reconnect.Visible(), f.s.warnRow.Visible(), f.s.ticking())
	}
	// A partial failure shows as a warning line while connected.
	warn := "Connected, but personal notifications are unavailable: the server refused them."
	f.s.Set(ipc.State{Conn: "warning", User: "Alice Wanjiru", Warning: warn})
	if !f.s.warnRow.Visible() || f.s.warning.Text != warn || f.s.text.Text != "Connected as Alice Wanjiru" {
		t.Errorf("warning: shown %v, %q", f.s.warnRow.Visible(), f.s.warning.Text)
	}
	f.s.Set(ipc.State{Conn: "connected", User: "Alice Wanjiru", PausedUntil: f.now.Add(time.Hour)})
	if f.s.text.Text != "Connected as Alice Wanjiru · notifications paused until 15:02" || f.s.warnRow.Visible() {
		t.Errorf("paused: %q", f.s.text.Text)
	}
}

func TestStatusLineOfflineCountdown(t *testing.T) {
	f := newStatusFixture(t)
	since := f.now.Add(-10 * time.Second)
	f.s.Set(ipc.State{Conn: "offline", Since: since, NextAttempt: f.now.Add(12 * time.Second),
		Reason: "The notification server did not answer."})
	if f.s.text.Text != "Offline since 14:01 — next try in 12 s" || f.s.reason.Text != "The notification server did not answer." ||
		!f.s.reconnect.Visible() || !f.s.ticking() || f.started != 1 {
		t.Fatalf("offline: %q / %q, reconnect %v, ticking %v", f.s.text.Text, f.s.reason.Text, f.s.reconnect.Visible(), f.s.ticking())
	}
	// The countdown counts down, one ticker for all of it.
	f.tick(t, time.Second)
	if f.s.text.Text != "Offline since 14:01 — next try in 11 s" {
		t.Errorf("after a second: %q", f.s.text.Text)
	}
	f.tick(t, 11*time.Second)
	if !strings.HasSuffix(f.s.text.Text, "— trying again now") || f.s.ticking() {
		t.Errorf("at the attempt: %q, ticking %v", f.s.text.Text, f.s.ticking())
	}
	if f.started != 1 {
		t.Errorf("%d tickers started", f.started)
	}
	// Offline for over two minutes: who can help, with the reason.
	f.now = since.Add(3 * time.Minute)
	f.s.Set(ipc.State{Conn: "offline", Since: since, NextAttempt: f.now.Add(40 * time.Second),
		Reason: "The notification server refused the connection."})
	if f.s.text.Text != statusCantReach || !strings.HasPrefix(f.s.reason.Text, "The notification server refused the connection. Offline since 14:01 — next try in 40 s") {
		t.Errorf("long offline: %q / %q", f.s.text.Text, f.s.reason.Text)
	}
	// Reconnect now: asks the core, says so, no second press.
	test.Tap(f.s.reconnect)
	if f.reconnects != 1 || f.s.text.Text != statusReconnectOK || !f.s.reconnect.Disabled() || f.s.ticking() {
		t.Errorf("reconnect: %d requests, %q, disabled %v", f.reconnects, f.s.text.Text, f.s.reconnect.Disabled())
	}
	// Connected again: nothing ticks.
	f.s.Set(ipc.State{Conn: "connected", User: "Alice Wanjiru"})
	if f.s.ticking() || f.s.reconnect.Visible() {
		t.Error("still ticking or offering Reconnect when connected")
	}
}

func TestStatusLineSignedOut(t *testing.T) {
	f := newStatusFixture(t)
	f.s.Set(ipc.State{Conn: "signedout"})
	if !f.s.signIn.Visible() || f.s.reconnect.Visible() || !strings.HasPrefix(f.s.text.Text, "Not signed in") {
		t.Errorf("signed out: %q", f.s.text.Text)
	}
	test.Tap(f.s.signIn)
	if f.signIns != 1 {
		t.Error("Sign in… did not ask")
	}
	f.s.Set(ipc.State{Conn: "expired"})
	if !f.s.signIn.Visible() || !strings.Contains(f.s.text.Text, "sign in again") {
		t.Errorf("expired: %q", f.s.text.Text)
	}
}

func TestCountdownText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		500 * time.Millisecond: "1 s", 12 * time.Second: "12 s", 119 * time.Second: "119 s", 3 * time.Minute: "3 min",
	} {
		if got := countdownText(d); got != want {
			t.Errorf("countdownText(%v) = %q, want %q", d, got, want)
		}
	}
}
