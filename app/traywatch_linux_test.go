//go:build integration

package app

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// privateSessionBus starts a dbus-daemon for the test and points
// DBUS_SESSION_BUS_ADDRESS at it.
func privateSessionBus(t *testing.T) {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("dbus-daemon (package dbus-daemon or dbus-x11) is needed: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(line))
}

func TestTrayWatchSeesWatcherComeAndGo(t *testing.T) {
	privateSessionBus(t)
	changes := make(chan bool, 4)
	w, err := NewTrayWatch(func(p bool) { changes <- p }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Present() {
		t.Fatal("a tray host on a fresh bus")
	}

	host, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	if reply, err := host.RequestName(StatusNotifierWatcher, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", StatusNotifierWatcher, reply, err)
	}
	expect(t, changes, true)
	if !w.Present() {
		t.Error("Present = false after the watcher appeared")
	}
	if _, err := host.ReleaseName(StatusNotifierWatcher); err != nil {
		t.Fatal(err)
	}
	expect(t, changes, false)
	if w.Present() {
		t.Error("Present = true after the watcher left")
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	w.Close() // idempotent
}

func TestTrayWatchPresentAtStart(t *testing.T) {
	privateSessionBus(t)
	host, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	if _, err := host.RequestName(StatusNotifierWatcher, dbus.NameFlagDoNotQueue); err != nil {
		t.Fatal(err)
	}
	w, err := NewTrayWatch(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if !w.Present() {
		t.Error("existing watcher not seen")
	}
}

func TestTrayWatchNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	w, err := NewTrayWatch(nil, nil)
	if err == nil {
		t.Error("no error without a session bus")
	}
	if w == nil || w.Present() {
		t.Fatal("without a session bus the watch must report no tray host")
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func expect(t *testing.T, ch <-chan bool, want bool) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("change %v, want %v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no change to %v reported", want)
	}
}
