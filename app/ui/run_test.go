package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
	"echotray/app/ipc"
	"echotray/history"
	"echotray/notify"
	"echotray/tray"
)

// runNow is the fixed clock of the Run tests.
var runNow = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)

// testLoop stands in for the Fyne app loop: the goroutine that runs Run
// runs the work handed to the bridge, in order, until quit.
type testLoop struct {
	mu   sync.Mutex
	fns  []func()
	wake chan struct{}
	stop chan struct{}
	once sync.Once
}

func newTestLoop() *testLoop {
	return &testLoop{wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

func (l *testLoop) do(f func()) {
	l.mu.Lock()
	l.fns = append(l.fns, f)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *testLoop) run() {
	for {
		for {
			l.mu.Lock()
			fns := l.fns
			l.fns = nil
			l.mu.Unlock()
			if len(fns) == 0 {
				break
			}
			for _, f := range fns {
				select {
				case <-l.stop:
					return
				default:
				}
				f()
			}
		}
		select {
		case <-l.wake:
		case <-l.stop:
			return
		}
	}
}

func (l *testLoop) quit() { l.once.Do(func() { close(l.stop) }) }

// fakeCore is the core's side of the socket, driven by the test.
type fakeCore struct {
	srv   *ipc.Server
	peers chan *ipc.Peer
	msgs  chan ipc.Message
}

func newFakeCore(t *testing.T) *fakeCore {
	t.Helper()
	f := &fakeCore{peers: make(chan *ipc.Peer, 4), msgs: make(chan ipc.Message, 64)}
	srv, err := ipc.Listen(ipc.ServerOptions{
		Path: filepath.Join(t.TempDir(), "core.sock"),
		OnConnect: func(p *ipc.Peer) {
			if p.Role == ipc.RoleWindow {
				f.peers <- p
			}
		},
		OnMessage: func(_ *ipc.Peer, m ipc.Message) { f.msgs <- m },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	t.Cleanup(func() { srv.Close() })
	return f
}

// expect returns the next message with op, skipping others, or fails.
func (f *fakeCore) expect(t *testing.T, op ipc.Op) ipc.Message {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-f.msgs:
			if m.Op == op {
				return m
			}
		case <-deadline:
			t.Fatalf("the core got no %s message", op)
			return ipc.Message{}
		}
	}
}

// quiet fails if a message with op arrives within d.
func (f *fakeCore) quiet(t *testing.T, op ipc.Op, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-f.msgs:
			if m.Op == op {
				t.Fatalf("unexpected %s message: %+v", op, m)
			}
		case <-deadline:
			return
		}
	}
}

// runHarness is Run against a fake core, with the test's loop as the Fyne
// thread.
type runHarness struct {
	t      *testing.T
	core   *fakeCore
	peer   *ipc.Peer
	loop   *testLoop
	c      *controller
	cfg    *app.ConfigStore
	store  *history.Store // the test's own handle on the history file
	done   chan error
	logins []app.LoginRequest // guarded by mu
	mu     sync.Mutex
}

type runSetup struct {
	hardExit func()
	show     ipc.Message
	idleExit time.Duration
	entries  []notify.Entry // stored before Run starts
}

func startRun(t *testing.T, setup runSetup) *runHarness {
	t.Helper()
	core := newFakeCore(t)
	a := test.NewTempApp(t)
	dir := t.TempDir()
	cfg, err := app.OpenConfig(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, history.FileName)
	storeOpts := history.Options{MaxEntries: -1, MaxAge: -1}
	st, err := history.Open(path, storeOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seed(t, st, setup.entries)

	if setup.hardExit == nil {
		setup.hardExit = func() { t.Error("the window process exited hard: its loop did not end after the core went away") }
	}
	h := &runHarness{t: t, core: core, loop: newTestLoop(), cfg: cfg, store: st, done: make(chan error, 1)}
	started := make(chan *controller, 1)
	s := seams{
		runOnUI: h.loop.do,
		loop:    h.loop.run,
		quit:    h.loop.quit,
		openStore: func(app.Config, *slog.Logger) (*history.Store, error) {
			return history.Open(path, storeOpts)
		},
		signIn: func(ctx context.Context, req app.LoginRequest) (app.User, string, error) {
			h.mu.Lock()
			h.logins = append(h.logins, req)
			h.mu.Unlock()
			token := ""
			if req.SessionOnly {
				token = "session-token"
			}
			return app.User{ID: "5", Name: "Alice Admin", Email: req.Email}, token, nil
		},
		check: func(context.Context, app.Config) (app.CheckResult, app.CheckResult) {
			return app.CheckResult{OK: true, Text: "API: fine."}, app.CheckResult{OK: true, Text: "WebSocket: fine."}
		},
		autostart: &fakeAutostart{},
		now:       func() time.Time { return runNow },
		started:   func(c *controller) { started <- c },
		hardExit:  setup.hardExit,
	}
	opts := Options{
		Info:     app.BuildInfo{Name: "EchoTray"},
		Config:   cfg,
		Socket:   core.srv.Path(),
		Show:     setup.show,
		IdleExit: setup.idleExit,
		History:  HistoryViewOptions{TimeRefresh: -1, Now: func() time.Time { return runNow }, Location: time.UTC},
	}
	go func() { h.done <- run(a, opts, s) }()
	t.Cleanup(func() {
		// Run must be over before the test app goes.
		core.srv.Close()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after the core closed")
		}
	})
	select {
	case h.peer = <-core.peers:
	case err := <-h.done:
		t.Fatalf("Run returned at once: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("the window process did not connect")
	}
	select {
	case h.c = <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not build its windows")
	}
	return h
}

// call runs f on the test loop (where the widgets live) and waits for it.
func (h *runHarness) call(f func()) {
	h.t.Helper()
	done := make(chan struct{})
	h.loop.do(func() {
		defer close(done)
		f()
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		h.t.Fatal("the UI loop did not run the call (has Run ended?)")
	}
}

// eventually waits until cond, checked on the loop, holds.
func (h *runHarness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		h.call(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *runHarness) send(m ipc.Message) {
	h.t.Helper()
	if err := h.peer.Send(m); err != nil {
		h.t.Fatal(err)
	}
}

func (h *runHarness) sendState(s ipc.State) { h.send(ipc.Message{Op: ipc.OpState, State: &s}) }

// historyReady waits until the history window shows its loaded view.
func (h *runHarness) historyReady() *HistoryView {
	h.t.Helper()
	var v *HistoryView
	h.eventually("the history view has loaded", func() bool {
		v = h.c.history
		return v != nil && v.loaded && v.inflight == 0
	})
	return v
}

// ended waits for Run to return.
func (h *runHarness) ended(within time.Duration) {
	h.t.Helper()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Fatalf("Run: %v", err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(within):
		h.t.Fatalf("Run did not return within %v", within)
	}
}

func menuLabels(m *fyne.MainMenu) []string {
	if m == nil || len(m.Items) == 0 {
		return nil
	}
	var out []string
	for _, it := range m.Items[0].Items {
		if it.IsSeparator {
			out = append(out, "—")
			continue
		}
		out = append(out, it.Label)
	}
	return out
}

func menuItem(m *fyne.MainMenu, label string) *fyne.MenuItem {
	if m == nil || len(m.Items) == 0 {
		return nil
	}
	for _, it := range m.Items[0].Items {
		if it.Label == label {
			return it
		}
	}
	return nil
}

func TestRunNotRunning(t *testing.T) {
	cfg, err := app.OpenConfig(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	err = Run(test.NewTempApp(t), Options{Config: cfg, Socket: filepath.Join(t.TempDir(), "nobody.sock")})
	if !errors.Is(err, ErrNotRunning) || err.Error() != "EchoTray is not running." {
		t.Errorf("Run without a core = %v, want %q", err, "EchoTray is not running.")
	}
}

func TestRunStateWithoutTray(t *testing.T) {
	h := startRun(t, runSetup{})
	banners := []string{app.NoTrayBanner, "Cannot reach the server: connection refused. EchoTray keeps trying."}
	h.sendState(ipc.State{Conn: "connected", User: "Alice Admin", Unread: 3, TrayPresent: false, Banners: banners})

	// No tray host: the history window opens by itself, with the state.
	v := h.historyReady()
	h.eventually("the title counts the unread entries", func() bool {
		return h.c.historyWin.shown && h.c.historyWin.Title() == "EchoTray — History (3 unread)"
	})
	var labels []string
	h.call(func() {
		if v.banner.Hidden || v.banner.Text != strings.Join(banners, "\n") {
			t.Errorf("banner %q hidden=%v", v.banner.Text, v.banner.Hidden)
		}
		labels = menuLabels(h.c.historyWin.MainMenu())
	})
	want := []string{"EchoTray — connected as Alice Admin · 3 unread", "—", tray.LabelOpenHistory, "—", tray.LabelPause,
		tray.LabelSettings, tray.LabelReconnect, tray.LabelSendTest, "—", tray.LabelSignOut, "—", tray.LabelQuit}
	if len(labels) != len(want) || !slices.Equal(labels[1:], want[1:]) {
		t.Errorf("window menu = %q, want %q", labels, want)
	}

	// The menu's actions are requests to the core.
	for _, tc := range []struct {
		label string
		check func(ipc.Message)
		op    ipc.Op
	}{
		{tray.LabelPause, func(m ipc.Message) {
			if !m.Until.Equal(runNow.Add(time.Hour)) {
				t.Errorf("pause until %v, want an hour from now", m.Until)
			}
		}, ipc.OpPause},
		{tray.LabelReconnect, nil, ipc.OpReconnect},
		{tray.LabelSendTest, nil, ipc.OpSendTest},
		{tray.LabelSettings, func(m ipc.Message) {
			if m.Window != app.WindowSettings {
				t.Errorf("settings asks to show %q", m.Window)
			}
		}, ipc.OpShow},
	} {
		h.call(func() {
			it := menuItem(h.c.historyWin.MainMenu(), tc.label)
			if it == nil || it.Disabled {
				t.Fatalf("menu item %q missing or disabled", tc.label)
			}
			it.Action()
		})
		m := h.core.expect(t, tc.op)
		if tc.check != nil {
			tc.check(m)
		}
	}

	// Sign out asks first, offering to remove this account's history.
	h.call(func() { menuItem(h.c.historyWin.MainMenu(), tray.LabelSignOut).Action() })
	h.core.quiet(t, ipc.OpSignOut, 100*time.Millisecond)
	h.call(func() {
		w := h.c.historyWin
		test.Tap(overlayWidget[*widget.Check](t, w, "Also remove this account's history from this computer"))
		test.Tap(overlayWidget[*widget.Button](t, w, "Sign out"))
	})
	if m := h.core.expect(t, ipc.OpSignOut); !m.Purge {
		t.Error("sign-out without the purge that was ticked")
	}

	// Paused: Resume instead of Pause; signed out: Sign in… asks the core.
	h.sendState(ipc.State{Conn: "signedout", PausedUntil: runNow.Add(30 * time.Minute), TrayPresent: false})
	h.eventually("the menu follows the state", func() bool {
		return menuItem(h.c.historyWin.MainMenu(), tray.LabelResume) != nil &&
			menuItem(h.c.historyWin.MainMenu(), tray.LabelSignIn) != nil
	})
	h.call(func() { menuItem(h.c.historyWin.MainMenu(), tray.LabelResume).Action() })
	h.core.expect(t, ipc.OpResume)
	h.call(func() { menuItem(h.c.historyWin.MainMenu(), tray.LabelSignIn).Action() })
	if m := h.core.expect(t, ipc.OpShow); m.Window != app.WindowSignIn {
		t.Errorf("sign in asks to show %q", m.Window)
	}

	// A tray host appears: the menu moves back to it.
	h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
	h.eventually("the window menu is gone", func() bool {
		return h.c.historyWin.MainMenu() == nil && h.c.historyWin.Title() == "EchoTray — History"
	})
}

func TestRunEntryAddedAndHistoryChanged(t *testing.T) {
	h := startRun(t, runSetup{show: ipc.Message{Window: app.WindowHistory}, entries: sampleEntries()})
	h.sendState(ipc.State{Conn: "connected", TrayPresent: true, Unread: 4})
	v := h.historyReady()
	h.call(func() {
		if len(v.ids) != 7 {
			t.Errorf("%d entries listed, want 7", len(v.ids))
		}
	})

	e := notify.Entry{Time: runNow, Channel: "tenant.1", Event: "PaymentReceived", Type: notify.TypeSuccess,
		Title: "Payment received", Message: "KES 2,000 from Amina"}
	if _, err := h.store.Add(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	h.send(ipc.Message{Op: ipc.OpEntryAdded, Added: &e})
	h.eventually("the new entry is at the top", func() bool {
		return len(v.ids) == 8 && v.ids[0] == e.ID && v.Unread() == 5
	})

	// Opening it marks it read: the core recounts and marks it read on
	// the server.
	h.call(func() { v.list.Select(0) })
	if m := h.core.expect(t, ipc.OpHistoryChanged); !slices.Equal(m.IDs, []int64{e.ID}) {
		t.Errorf("history-changed IDs %v, want [%d]", m.IDs, e.ID)
	}
	h.eventually("the entry is open", func() bool { return v.detailTitle.Text == "Payment received" && v.Unread() == 4 })
}

func TestRunShowHistoryEntry(t *testing.T) {
	entries := []notify.Entry{
		{Time: runNow.Add(-time.Hour), Title: "Router offline", Type: notify.TypeError},
		{Time: runNow.Add(-time.Minute), Title: "Voucher sold", Type: notify.TypeInfo},
		{Time: runNow, Title: "Payment received", Type: notify.TypeSuccess},
	}
	h := startRun(t, runSetup{entries: entries})
	h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
	h.call(func() {
		if h.c.historyWin != nil {
			t.Error("a history window was built without being asked for")
		}
	})
	var first int64
	if ids, err := h.store.ListIDs(context.Background(), history.Query{Limit: -1}); err != nil || len(ids) != 3 {
		t.Fatalf("ids %v, %v", ids, err)
	} else {
		first = ids[2] // the oldest
	}
	h.send(ipc.Message{Op: ipc.OpShow, Window: app.WindowHistory, Entry: first})
	h.eventually("the entry is selected and open", func() bool {
		v := h.c.history
		return h.c.historyWin != nil && h.c.historyWin.shown && v != nil &&
			v.selected == first && v.detailTitle.Text == "Router offline"
	})
}

func TestRunSignIn(t *testing.T) {
	for _, tc := range []struct {
		name        string
		keyringDown bool
		wantToken   string
	}{
		{"keyring", false, ""},
		{"session only", true, "session-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startRun(t, runSetup{})
			h.sendState(ipc.State{Conn: "expired", TrayPresent: true, KeyringDown: tc.keyringDown})
			h.send(ipc.Message{Op: ipc.OpShow, Window: app.WindowSignIn, Notice: app.ErrSessionExpired.Error()})
			h.eventually("the sign-in window shows the notice", func() bool {
				return h.c.loginWin.shown && h.c.login.notice.Text == app.ErrSessionExpired.Error()
			})
			h.call(func() {
				l := h.c.login
				if l.keyringBox.Visible() != tc.keyringDown {
					t.Errorf("session-only option shown=%v with the keyring down=%v", l.keyringBox.Visible(), tc.keyringDown)
				}
				l.server.SetText("https://billing.example.com")
				l.email.SetText("alice@example.com")
				l.password.SetText("secret")
				if tc.keyringDown {
					l.sessionOnly.SetChecked(true)
				}
				test.Tap(l.submit)
			})
			if m := h.core.expect(t, ipc.OpSignedIn); m.Token != tc.wantToken {
				t.Errorf("signed-in token %q, want %q", m.Token, tc.wantToken)
			}
			h.eventually("the sign-in window closes", func() bool { return !h.c.loginWin.shown })
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.logins) != 1 || h.logins[0].SessionOnly != tc.keyringDown || h.logins[0].Email != "alice@example.com" {
				t.Errorf("sign-ins %+v", h.logins)
			}
		})
	}
}

func TestRunSettingsSaved(t *testing.T) {
	h := startRun(t, runSetup{show: ipc.Message{Window: app.WindowSettings}})
	h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
	h.eventually("the settings window is open", func() bool { return h.c.settingsWin.shown })
	h.call(func() {
		h.c.settings.host.SetText("ws.example.com")
		test.Tap(h.c.settings.save)
	})
	h.core.expect(t, ipc.OpSettingsSaved)
	if got := h.cfg.File().Pusher.Host; got != "ws.example.com" {
		t.Errorf("saved host %q", got)
	}
	h.eventually("the settings window closes", func() bool { return !h.c.settingsWin.shown })
}

func TestRunCloseHistory(t *testing.T) {
	t.Run("with a tray host it hides", func(t *testing.T) {
		h := startRun(t, runSetup{show: ipc.Message{Window: app.WindowHistory}})
		h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
		h.historyReady()
		// The first time, it says EchoTray keeps running in the tray.
		h.call(h.c.onHistoryClose)
		h.call(func() {
			if !h.c.historyWin.shown || h.c.closeHint == nil {
				t.Fatal("no hint on the first close")
			}
			if !strings.Contains(dialogText(h.c.historyWin), "keeps running in the tray") {
				t.Errorf("hint %q", dialogText(h.c.historyWin))
			}
			test.Tap(overlayWidget[*widget.Button](t, h.c.historyWin, "OK, close the window"))
			if h.c.historyWin.shown {
				t.Error("history window still shown after the hint")
			}
		})
		h.core.quiet(t, ipc.OpQuit, 100*time.Millisecond)
		if !readWindowState(filepath.Join(filepath.Dir(h.cfg.Path()), windowStateFile)).CloseHintShown {
			t.Error("the hint was not remembered")
		}
		// Escape closes the hint too, and with it the window (here with
		// the state file gone, as on another computer).
		statePath := filepath.Join(filepath.Dir(h.cfg.Path()), windowStateFile)
		if err := os.Remove(statePath); err != nil {
			t.Fatal(err)
		}
		h.call(func() {
			h.c.showHistory(0)
			h.c.onHistoryClose()
			if h.c.closeHint == nil {
				t.Fatal("no hint")
			}
			h.c.historyWin.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
			if h.c.historyWin.shown || h.c.closeHint != nil {
				t.Error("Escape did not close the hint and the window")
			}
		})
		// Closing the window again over the hint closes both.
		if err := os.Remove(statePath); err != nil {
			t.Fatal(err)
		}
		h.call(func() {
			h.c.showHistory(0)
			h.c.onHistoryClose()
			if h.c.closeHint == nil {
				t.Fatal("no hint")
			}
			h.c.onHistoryClose()
			if h.c.historyWin.shown || h.c.closeHint != nil {
				t.Error("a second close over the hint did not close the window")
			}
		})
		// Then closing just hides it, also in a later window process.
		h.call(func() { h.c.showHistory(0) })
		h.call(h.c.onHistoryClose)
		h.call(func() {
			if h.c.historyWin.shown || h.c.closeHint != nil {
				t.Error("history window still shown, or the hint again")
			}
		})
	})
	t.Run("without one it quits", func(t *testing.T) {
		h := startRun(t, runSetup{})
		h.sendState(ipc.State{Conn: "connected", TrayPresent: false})
		h.eventually("the history window opens", func() bool { return h.c.historyWin != nil && h.c.historyWin.shown })
		h.call(h.c.onHistoryClose)
		h.core.expect(t, ipc.OpQuit)
		h.ended(2 * time.Second)
	})
}

func TestRunEndsWhenTheCoreGoes(t *testing.T) {
	h := startRun(t, runSetup{show: ipc.Message{Window: app.WindowHistory}})
	h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
	h.historyReady()
	start := time.Now()
	h.core.srv.Close() // says bye
	h.ended(2 * time.Second)
	t.Logf("Run returned %v after the core closed", time.Since(start))
}

// A UI thread that cannot run (a machine under heavy load) must not keep
// the window process of a dead core: it exits after coreGoneGrace anyway.
func TestRunExitsWhenTheUIThreadIsStuck(t *testing.T) {
	unblock := make(chan struct{})
	exited := make(chan time.Time, 1)
	h := startRun(t, runSetup{
		show: ipc.Message{Window: app.WindowHistory},
		hardExit: func() {
			exited <- time.Now()
			close(unblock)
		},
	})
	h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
	h.historyReady()
	h.loop.do(func() { <-unblock }) // the UI thread is stuck
	start := time.Now()
	h.core.srv.Close()
	select {
	case at := <-exited:
		if d := at.Sub(start); d < coreGoneGrace || d > coreGoneGrace+2*time.Second {
			t.Errorf("hard exit after %v, want about %v", d, coreGoneGrace)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the process did not exit while its UI thread was stuck")
	}
	h.ended(5 * time.Second)
}

func TestRunIdleExit(t *testing.T) {
	t.Run("nothing shown", func(t *testing.T) {
		h := startRun(t, runSetup{idleExit: 50 * time.Millisecond})
		h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
		h.ended(2 * time.Second)
	})
	t.Run("after the last window closes", func(t *testing.T) {
		h := startRun(t, runSetup{show: ipc.Message{Window: app.WindowSettings}, idleExit: 50 * time.Millisecond})
		h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
		time.Sleep(150 * time.Millisecond) // three idle periods with a window shown
		h.call(func() {
			if !h.c.settingsWin.shown {
				t.Fatal("the settings window is not shown")
			}
			h.c.settings.hide()
		})
		h.ended(2 * time.Second)
	})
	t.Run("not without a tray host", func(t *testing.T) {
		h := startRun(t, runSetup{idleExit: 50 * time.Millisecond})
		h.sendState(ipc.State{Conn: "connected", TrayPresent: false})
		h.eventually("the history window opens", func() bool { return h.c.historyWin != nil && h.c.historyWin.shown })
		h.call(func() { h.c.historyWin.Hide() }) // e.g. minimised away; the core said there is no tray
		select {
		case <-h.done:
			t.Fatal("the window process exited although no tray host can bring it back")
		case <-time.After(200 * time.Millisecond):
		}
	})
}

// The real sign-in: the token stays in the keyring unless the sign-in is
// session-only, when the core needs it.
func TestSessionSignIn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/login" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"token":"tok-123","user":{"id":5,"name":"Alice Admin","email":"alice@example.com"}}`))
	}))
	defer srv.Close()
	for _, sessionOnly := range []bool{false, true} {
		cfg, err := app.OpenConfig(t.TempDir(), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		secrets := app.NewMemorySecrets()
		sess := app.NewSession(app.SessionOptions{Config: cfg, Secrets: secrets, HTTP: srv.Client()})
		u, token, err := sessionSignIn(sess)(context.Background(), app.LoginRequest{
			Server: srv.URL, Email: "alice@example.com", Password: "pw", SessionOnly: sessionOnly})
		if err != nil || u.Name != "Alice Admin" {
			t.Fatalf("session only %v: %+v, %v", sessionOnly, u, err)
		}
		stored, _ := secrets.Get("alice@example.com")
		switch {
		case sessionOnly && (token != "tok-123" || stored != ""):
			t.Errorf("session only: token %q, keyring %q; want the token handed over, not stored", token, stored)
		case !sessionOnly && (token != "" || stored != "tok-123"):
			t.Errorf("keyring: token %q, keyring %q; want it in the keyring only", token, stored)
		}
	}
}

// overlayWidget returns the widget of type W with the given text in the
// window's top overlay (a dialog).
func overlayWidget[W interface {
	*widget.Button | *widget.Check
}](t *testing.T, w fyne.Window, text string) W {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog shown")
	}
	for _, o := range test.LaidOutObjects(top) {
		switch x := any(o).(type) {
		case *widget.Button:
			if x.Text == text {
				if got, ok := any(x).(W); ok {
					return got
				}
			}
		case *widget.Check:
			if x.Text == text {
				if got, ok := any(x).(W); ok {
					return got
				}
			}
		}
	}
	t.Fatalf("no %q in the dialog", text)
	return nil
}

// TestRunStatusLine: the history window's status line follows the core's
// state in words, and "Reconnect now" asks the core.
func TestRunStatusLine(t *testing.T) {
	h := startRun(t, runSetup{show: ipc.Message{Window: app.WindowHistory}})
	h.sendState(ipc.State{Conn: "connected", User: "Alice Wanjiru", TrayPresent: true, Account: "https://billing.example.com#5"})
	h.historyReady()
	h.eventually("connected as", func() bool { return h.c.status.text.Text == "Connected as Alice Wanjiru" })
	h.sendState(ipc.State{Conn: "offline", TrayPresent: true, Since: runNow.Add(-30 * time.Second),
		NextAttempt: runNow.Add(12 * time.Second), Reason: "The notification server did not answer."})
	h.eventually("offline with a countdown", func() bool {
		return strings.HasPrefix(h.c.status.text.Text, "Offline since ") && strings.HasSuffix(h.c.status.text.Text, " — next try in 12 s") &&
			h.c.status.reason.Text == "The notification server did not answer." && h.c.status.reconnect.Visible()
	})
	h.call(func() { test.Tap(h.c.status.reconnect) })
	h.core.expect(t, ipc.OpReconnect)
}

// TestRunBurstListsEveryEntry: 1,000 entry-added messages in a burst over
// the real socket; the open list shows every one within 2 s of the last.
func TestRunBurstListsEveryEntry(t *testing.T) {
	h := startRun(t, runSetup{show: ipc.Message{Window: app.WindowHistory}})
	h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
	v := h.historyReady()
	var batch []*notify.Entry
	for i := range 1000 {
		batch = append(batch, &notify.Entry{Time: runNow, Channel: "tenant.1", Event: "PaymentCompleted",
			Type: notify.TypeSuccess, Title: "Payment " + strconv.Itoa(i), Message: "KES 100"})
	}
	if _, err := h.store.AddBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, e := range batch {
		if err := h.peer.Send(ipc.Message{Op: ipc.OpEntryAdded, Added: e}); err != nil {
			t.Fatalf("after %d: %v", sent, err)
		}
		sent++
		if sent%200 == 0 {
			time.Sleep(20 * time.Millisecond) // as events arrive, not all in one write
		}
	}
	start := time.Now()
	deadline := start.Add(2 * time.Second)
	for {
		var n int
		h.call(func() { n = len(v.ids) })
		if n == 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("2 s after the burst the list shows %d of 1,000", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("every entry listed %v after the last was sent", time.Since(start))
}

// TestRunSignOutAsked: the core can ask the window process to ask before
// signing out (show "signout"); Cancel sends nothing, Sign out without the
// tick keeps the history.
func TestRunSignOutAsked(t *testing.T) {
	h := startRun(t, runSetup{})
	h.sendState(ipc.State{Conn: "connected", TrayPresent: true})
	h.send(ipc.Message{Op: ipc.OpShow, Window: windowSignOut})
	h.eventually("the question is shown", func() bool { return h.c.signOutDialog != nil && h.c.historyWin != nil && h.c.historyWin.shown })
	h.call(func() { test.Tap(overlayWidget[*widget.Button](t, h.c.historyWin, "Cancel")) })
	h.core.quiet(t, ipc.OpSignOut, 100*time.Millisecond)
	h.send(ipc.Message{Op: ipc.OpShow, Window: windowSignOut})
	h.eventually("asked again", func() bool { return h.c.historyWin.Canvas().Overlays().Top() != nil })
	h.call(func() { test.Tap(overlayWidget[*widget.Button](t, h.c.historyWin, "Sign out")) })
	if m := h.core.expect(t, ipc.OpSignOut); m.Purge {
		t.Error("purge without the tick")
	}
}
