//go:build (linux || freebsd || openbsd || netbsd) && !android

package tray

import (
	"testing"
	"time"
)

// TestHostWithoutSessionBus runs the real backend where systray cannot
// start (no session bus): Run still calls onReady, accepts values and ends
// on Quit without crashing. (fyne.io/systray would dereference its missing
// D-Bus connection when quitting.)
func TestHostWithoutSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+t.TempDir()+"/no-bus")
	if trayUnavailable() == nil {
		t.Skip("a session bus answered at a path that does not exist")
	}
	h := NewHost(nil)
	ready, exited, ended := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		h.Run(func() {
			h.SetIcon(IconPNG(Connected, 0))
			h.SetTooltip("no bus")
			h.SetMenu(Items(Model{State: Connected}, Actions{Quit: h.Quit}))
			close(ready)
		}, func() { close(exited) })
	}()
	for _, step := range []struct {
		name string
		ch   chan struct{}
	}{{"onReady", ready}, {"", nil}, {"onExit", exited}, {"Run to return", ended}} {
		if step.ch == nil {
			h.Quit()
			continue
		}
		select {
		case <-step.ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s", step.name)
		}
	}
}
