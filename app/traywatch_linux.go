package app

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/godbus/dbus/v5"
)

// TrayWatch tells whether a tray host (a StatusNotifierWatcher on the
// session bus) exists, and reports when one appears or goes away, e.g. when
// the AppIndicator extension is switched on or the panel restarts.
type TrayWatch struct {
	conn     *dbus.Conn
	onChange func(present bool)
	log      *slog.Logger

	mu      sync.Mutex
	present bool

	done      chan struct{}
	closeOnce sync.Once
}

// NewTrayWatch checks the session bus for a StatusNotifierWatcher and keeps
// watching it on a private connection. onChange (may be nil) runs on the
// watch's goroutine, never under a lock, when presence changes. Without a
// session bus it returns an error and a watch that reports no tray host.
func NewTrayWatch(onChange func(present bool), logger *slog.Logger) (*TrayWatch, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &TrayWatch{onChange: onChange, log: logger, done: make(chan struct{})}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		close(w.done)
		return w, fmt.Errorf("tray host check: connect to the session bus: %w", err)
	}
	w.conn = conn
	// Subscribe before asking, so that no change falls in between.
	if err := conn.AddMatchSignal(
		dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, StatusNotifierWatcher),
	); err != nil {
		conn.Close()
		close(w.done)
		return w, fmt.Errorf("tray host check: watch %s: %w", StatusNotifierWatcher, err)
	}
	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals)
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, StatusNotifierWatcher).Store(&has); err != nil {
		conn.Close()
		close(w.done)
		return w, fmt.Errorf("tray host check: NameHasOwner(%s): %w", StatusNotifierWatcher, err)
	}
	w.present = has
	go w.run(signals)
	return w, nil
}

// SetOnChange replaces the callback run when presence changes.
func (w *TrayWatch) SetOnChange(fn func(present bool)) {
	w.mu.Lock()
	w.onChange = fn
	w.mu.Unlock()
}

// Present reports whether a tray host exists now.
func (w *TrayWatch) Present() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.present
}

// Close stops watching and closes the private bus connection. It is safe
// to call more than once.
func (w *TrayWatch) Close() error {
	var err error
	w.closeOnce.Do(func() {
		if w.conn != nil {
			err = w.conn.Close()
		}
		<-w.done
	})
	return err
}

func (w *TrayWatch) run(signals chan *dbus.Signal) {
	defer close(w.done)
	for sig := range signals { // closed when the connection closes
		if sig == nil || sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) < 3 {
			continue
		}
		if name, _ := sig.Body[0].(string); name != StatusNotifierWatcher {
			continue
		}
		owner, _ := sig.Body[2].(string)
		present := owner != ""
		w.mu.Lock()
		changed := present != w.present
		w.present = present
		onChange := w.onChange
		w.mu.Unlock()
		if changed {
			w.log.Info("tray host changed", "present", present)
			if onChange != nil {
				onChange(present)
			}
		}
	}
}
