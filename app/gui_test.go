package app

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"echotray/notify"
	"echotray/realtime"
	"echotray/tray"
)

// fakeTray records what the GUI shows in the tray.
type fakeTray struct {
	icons    []string
	tooltips []string
	menus    []*fyne.Menu
	window   fyne.Window
}

func (f *fakeTray) SetMenu(m *fyne.Menu)    { f.menus = append(f.menus, m) }
func (f *fakeTray) SetIcon(r fyne.Resource) { f.icons = append(f.icons, r.Name()) }
func (f *fakeTray) SetTooltip(s string)     { f.tooltips = append(f.tooltips, s) }
func (f *fakeTray) SetWindow(w fyne.Window) { f.window = w }

func (f *fakeTray) icon() string    { return f.icons[len(f.icons)-1] }
func (f *fakeTray) tooltip() string { return f.tooltips[len(f.tooltips)-1] }
func (f *fakeTray) menu() *fyne.Menu {
	return f.menus[len(f.menus)-1]
}

// item finds a menu item by label in the current menu.
func (f *fakeTray) item(t *testing.T, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range f.menu().Items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no %q in the tray menu", label)
	return nil
}

// fakeService records the GUI's calls.
type fakeService struct {
	mu       sync.Mutex
	calls    []string
	started  []User
	prefs    []notify.Prefs
	applied  []Config
	running  bool
	startErr error
	testErr  error
}

func (f *fakeService) record(c string) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

func (f *fakeService) Start(u User) error {
	f.record("start")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, u)
	f.running = f.startErr == nil
	return f.startErr
}
func (f *fakeService) Stop() error {
	f.record("stop")
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	return nil
}
func (f *fakeService) SignOut(ctx context.Context) error {
	f.record("signout")
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	return nil
}
func (f *fakeService) Reconnect() { f.record("reconnect") }
func (f *fakeService) SendTest(ctx context.Context) (notify.Entry, error) {
	f.record("test")
	return notify.Entry{}, f.testErr
}
func (f *fakeService) SetPrefs(p notify.Prefs) {
	f.mu.Lock()
	f.prefs = append(f.prefs, p)
	f.mu.Unlock()
}
func (f *fakeService) ApplyConfig(cfg Config) error {
	f.record("apply")
	f.mu.Lock()
	f.applied = append(f.applied, cfg)
	f.mu.Unlock()
	return nil
}
func (f *fakeService) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running
}
func (f *fakeService) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakeSession answers Restore with queued results.
type fakeSession struct {
	mu       sync.Mutex
	restores []error // nil entry: success
	calls    int
	called   chan struct{}
	keyring  error
}

func (f *fakeSession) Restore(ctx context.Context) (User, error) {
	f.mu.Lock()
	f.calls++
	var err error
	if len(f.restores) > 0 {
		err, f.restores = f.restores[0], f.restores[1:]
	}
	f.mu.Unlock()
	if f.called != nil {
		f.called <- struct{}{}
	}
	if err != nil {
		return User{}, err
	}
	return User{ID: "5", Name: "Alice", Email: "alice@example.com"}, nil
}

func (f *fakeSession) Login(ctx context.Context, req LoginRequest) (User, error) {
	return User{ID: "5", Name: "Alice", Email: req.Email}, nil
}

func (f *fakeSession) KeyringAvailable() error { return f.keyring }

// fakeNotifier records notifications.
type fakeNotifier struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (f *fakeNotifier) Notify(ctx context.Context, m notify.Message) error {
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	f.mu.Unlock()
	return nil
}

type guiFixture struct {
	g        *gui
	tray     *fakeTray
	svc      *fakeService
	sess     *fakeSession
	notifier *fakeNotifier
	cfg      *ConfigStore
	store    *notify.Store
	q        *uiQueue
	now      time.Time
	quits    int
}

func newTestGUI(t *testing.T, sess *fakeSession, trayPresent, hidden bool) *guiFixture {
	t.Helper()
	a := test.NewTempApp(t)
	dir := t.TempDir()
	cfg, err := OpenConfig(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	store, err := notify.OpenStore(filepath.Join(dir, "history.db"), notify.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &guiFixture{
		tray: &fakeTray{}, svc: &fakeService{}, sess: sess, notifier: &fakeNotifier{},
		cfg: cfg, store: store, q: &uiQueue{ready: make(chan struct{}, 1)},
		now: time.Date(2026, 3, 4, 10, 0, 0, 0, time.Local),
	}
	f.g = newGUI(guiDeps{
		app:       a,
		config:    cfg,
		session:   sess,
		store:     store,
		tray:      f.tray,
		autostart: &fakeAutostart{},
		history:   HistoryViewOptions{TimeRefresh: -1},
		hidden:    hidden,
		iconPath:  "/tmp/echotray.png",
		now:       func() time.Time { return f.now },
		runOnUI:   f.q.do,
		quit:      func() { f.quits++ },
	})
	f.g.history.schedule = f.q.do // its batched redraws go through the queue too
	f.g.attach(f.svc, f.notifier)
	f.g.start(trayPresent)
	f.g.onStarted()
	t.Cleanup(func() {
		f.g.shutdown()
		f.q.flush()
	})
	return f
}

// settle lets the GUI's workers finish and runs their UI work.
func (f *guiFixture) settle() {
	for range 3 {
		f.g.bg.Wait()
		f.q.flush()
	}
}

func (f *guiFixture) shown(w fyne.Window) bool { return w.(*trackedWindow).shown }

func TestGUIStartSignedOut(t *testing.T) {
	f := newTestGUI(t, &fakeSession{restores: []error{ErrNotSignedIn}}, true, true)
	f.settle()
	if !f.shown(f.g.login.win) {
		t.Error("sign-in window not shown when nobody is signed in")
	}
	if f.shown(f.g.historyWin) {
		t.Error("history window shown although starting hidden with a tray")
	}
	if !strings.HasPrefix(f.tray.icon(), "tray-signedout") || f.tray.tooltip() != "EchoTray — not signed in" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	f.tray.item(t, tray.LabelSignIn)
	if !f.tray.item(t, tray.LabelSignOut).Disabled {
		t.Error("Sign out enabled while signed out")
	}
	if f.tray.window != f.g.historyWin {
		t.Error("left click does not show the history window")
	}
}

func TestGUIStartSignedOutShowsOnlySignIn(t *testing.T) {
	f := newTestGUI(t, &fakeSession{restores: []error{ErrNotSignedIn}}, true, false)
	f.settle()
	if !f.shown(f.g.login.win) || f.shown(f.g.historyWin) {
		t.Errorf("signed out, normal start: sign-in shown %v, history shown %v; want only the sign-in window",
			f.shown(f.g.login.win), f.shown(f.g.historyWin))
	}
	// After signing in, the history window opens.
	fill(&testLogin{loginWindow: f.g.login}, "https://billing.example.com", "alice@example.com", "pw")
	test.Tap(f.g.login.submit)
	f.g.login.pending.Wait()
	f.settle()
	if f.shown(f.g.login.win) || !f.shown(f.g.historyWin) {
		t.Error("after signing in: want the history window instead of the sign-in window")
	}
}

func TestGUIRestoreConnects(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, false)
	f.settle()
	if len(f.svc.started) != 1 || f.svc.started[0].Name != "Alice" {
		t.Fatalf("service started for %+v", f.svc.started)
	}
	if f.shown(f.g.login.win) {
		t.Error("sign-in window shown with a valid token")
	}
	if !f.shown(f.g.historyWin) {
		t.Error("history window not shown on a normal start")
	}
	if !strings.HasPrefix(f.tray.icon(), "tray-connecting") {
		t.Errorf("icon %s", f.tray.icon())
	}
	f.g.hooks().OnState(realtime.StateChange{Previous: realtime.StateConnecting, Current: realtime.StateConnected})
	f.settle()
	if f.tray.icon() != "tray-connected-64.png" || f.tray.tooltip() != "EchoTray — connected as Alice" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}

	// Offline: the tooltip counts down to the next attempt.
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateUnavailable, NextAttempt: f.now.Add(12 * time.Second), Err: errors.New("connection refused")})
	f.settle()
	if f.tray.icon() != "tray-offline-64.png" || f.tray.tooltip() != "Offline — next attempt in 12 s" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	menus := len(f.tray.menus)
	f.now = f.now.Add(5 * time.Second)
	f.g.refreshTray() // what the ticker does every second
	if f.tray.tooltip() != "Offline — next attempt in 7 s" {
		t.Errorf("tooltip %q", f.tray.tooltip())
	}
	if len(f.tray.menus) != menus {
		t.Error("the countdown rebuilt the tray menu")
	}
}

func TestGUIUnreadBadge(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, false)
	f.settle()
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateConnected})
	e := &notify.Entry{Time: f.now, Channel: "tenant.1", Event: "UserCreated", Type: notify.TypeInfo, Title: "User Created", Message: "Bob joined"}
	if _, err := f.store.Add(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	f.g.hooks().OnStored(*e)
	f.settle()
	if f.tray.icon() != "tray-connected-unread-64.png" || f.tray.tooltip() != "EchoTray — connected as Alice · 1 unread" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	if got := f.g.historyWin.Title(); got != "EchoTray — History (1 unread)" {
		t.Errorf("history title %q", got)
	}
}

func TestGUISessionExpiry(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	f.settle()
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.g.hooks().OnExpired(ErrSessionExpired)
	f.settle()
	if f.tray.icon() != "tray-expired-64.png" || f.tray.tooltip() != "EchoTray — session expired, please sign in again" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	if !f.shown(f.g.login.win) || f.g.login.notice.Text != "Session expired, please sign in again" || !f.g.login.notice.Visible() {
		t.Errorf("sign-in window: shown %v notice %q", f.shown(f.g.login.win), f.g.login.notice.Text)
	}
	if len(f.notifier.msgs) != 1 || f.notifier.msgs[0].Body != "Session expired, please sign in again" {
		t.Errorf("desktop notifications %+v", f.notifier.msgs)
	}
	if !f.tray.item(t, tray.LabelReconnect).Disabled {
		t.Error("Reconnect enabled after expiry")
	}

	// Late state news from the stopped connection changes nothing.
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateConnecting})
	f.settle()
	if f.tray.icon() != "tray-expired-64.png" {
		t.Errorf("icon %s after a late state change", f.tray.icon())
	}

	// Signing in again connects.
	fill(&testLogin{loginWindow: f.g.login}, "https://billing.example.com", "alice@example.com", "pw")
	test.Tap(f.g.login.submit)
	f.g.login.pending.Wait()
	f.settle()
	if len(f.svc.started) != 2 || !strings.HasPrefix(f.tray.icon(), "tray-connecting") {
		t.Errorf("after signing in again: starts %d icon %s", len(f.svc.started), f.tray.icon())
	}
}

func TestGUIRestoreExpired(t *testing.T) {
	f := newTestGUI(t, &fakeSession{restores: []error{ErrSessionExpired}}, true, true)
	f.settle()
	if f.tray.icon() != "tray-expired-64.png" || f.g.login.notice.Text != "Session expired, please sign in again" {
		t.Errorf("icon %s notice %q", f.tray.icon(), f.g.login.notice.Text)
	}
	if len(f.svc.started) != 0 {
		t.Error("service started with an expired token")
	}
}

func TestGUIRestoreKeyringUnavailable(t *testing.T) {
	err := &KeyringError{Op: "read", Unavailable: true, Err: errors.New("no Secret Service")}
	f := newTestGUI(t, &fakeSession{restores: []error{err}}, true, true)
	f.settle()
	if !f.shown(f.g.login.win) || !f.g.login.keyringBox.Visible() {
		t.Error("keyring problem: the session-only sign-in is not offered")
	}
}

func TestGUIKeyringProbeOffersSessionOnly(t *testing.T) {
	f := newTestGUI(t, &fakeSession{restores: []error{ErrNotSignedIn}, keyring: ErrKeyringUnavailable}, true, true)
	f.settle()
	if !f.g.login.keyringBox.Visible() {
		t.Error("keyring known to be missing, but the session-only option is not offered up front")
	}
}

func TestGUIRestoreRetriesWhenOffline(t *testing.T) {
	sess := &fakeSession{
		restores: []error{&APIError{Kind: KindUnreachable, Message: "Cannot reach http://x: connection refused"}},
		called:   make(chan struct{}, 4),
	}
	f := newTestGUI(t, sess, true, true)
	<-sess.called
	// The loop reports offline (through the UI queue), then waits.
	timeout := time.After(30 * time.Second)
	for f.q.flush(); f.g.status.Conn != tray.Offline; f.q.flush() {
		select {
		case <-f.q.ready:
		case <-timeout:
			t.Fatal("tray never went offline")
		}
	}
	if f.tray.tooltip() != "Offline — next attempt in 2 s" {
		t.Errorf("tooltip %q", f.tray.tooltip())
	}
	// Reconnect now retries at once.
	f.tray.item(t, tray.LabelReconnect).Action()
	select {
	case <-sess.called:
	case <-time.After(30 * time.Second):
		t.Fatal("Reconnect now did not retry the restore")
	}
	f.settle()
	if len(f.svc.started) != 1 {
		t.Fatalf("service not started after the retry: %v", f.svc.Calls())
	}
}

func TestGUIPauseAndResume(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	f.settle()
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()
	f.tray.item(t, tray.LabelPause).Action()
	until := f.now.Add(time.Hour)
	if got := f.cfg.File().Notifications.PausedUntil; !got.Equal(until) {
		t.Errorf("saved pause %v, want %v", got, until)
	}
	if n := len(f.svc.prefs); n == 0 || !f.svc.prefs[n-1].PausedUntil.Equal(until) {
		t.Errorf("prefs not applied: %+v", f.svc.prefs)
	}
	if f.tray.icon() != "tray-paused-64.png" || f.tray.tooltip() != "EchoTray — notifications paused until 11:00" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	f.tray.item(t, tray.LabelResume).Action()
	if !f.cfg.File().Notifications.PausedUntil.IsZero() || f.tray.icon() != "tray-connected-64.png" {
		t.Errorf("resume: saved %v icon %s", f.cfg.File().Notifications.PausedUntil, f.tray.icon())
	}
	// A pause ends by itself; the ticker notices.
	f.tray.item(t, tray.LabelPause).Action()
	f.now = f.now.Add(61 * time.Minute)
	f.g.refreshTray()
	if f.tray.icon() != "tray-connected-64.png" {
		t.Errorf("icon %s after the pause ended", f.tray.icon())
	}
	f.tray.item(t, tray.LabelPause)
}

func TestGUIMenuActions(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	f.settle()
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()

	f.tray.item(t, tray.LabelOpenHistory).Action()
	if !f.shown(f.g.historyWin) {
		t.Error("Open history did not show the window")
	}
	f.tray.item(t, tray.LabelSettings).Action()
	if !f.shown(f.g.settings.win) {
		t.Error("Settings did not open")
	}
	f.tray.item(t, tray.LabelReconnect).Action()
	f.tray.item(t, tray.LabelSendTest).Action()
	f.settle()
	calls := strings.Join(f.svc.Calls(), " ")
	if !strings.Contains(calls, "reconnect") || !strings.Contains(calls, "test") {
		t.Errorf("service calls %q", calls)
	}

	f.tray.item(t, tray.LabelSignOut).Action()
	if !strings.HasPrefix(f.tray.icon(), "tray-signedout") {
		t.Errorf("icon %s after signing out", f.tray.icon())
	}
	f.settle()
	if !strings.Contains(strings.Join(f.svc.Calls(), " "), "signout") || !f.shown(f.g.login.win) {
		t.Error("Sign out did not sign out and open the sign-in window")
	}
}

func TestGUIQuitStopsServiceFirst(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, false)
	f.settle()
	f.tray.item(t, tray.LabelQuit).Action()
	f.settle()
	if f.quits != 1 {
		t.Fatalf("app quit %d times", f.quits)
	}
	calls := f.svc.Calls()
	if len(calls) == 0 || calls[len(calls)-1] != "stop" {
		t.Errorf("service calls %q: want stop before quitting", calls)
	}
	if f.shown(f.g.historyWin) || f.shown(f.g.login.win) {
		t.Error("windows left open while quitting")
	}
}

func TestGUICloseHidesWithTray(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, false)
	f.settle()
	f.g.onHistoryClose()
	f.settle()
	if f.shown(f.g.historyWin) || f.quits != 0 {
		t.Errorf("close with a tray: shown %v quits %d", f.shown(f.g.historyWin), f.quits)
	}
	if f.g.history.banner.Visible() {
		t.Errorf("banner %q with a tray host", f.g.history.banner.Text)
	}
}

func TestGUINoTrayHost(t *testing.T) {
	// Start hidden is ignored without a tray: the window stays reachable.
	f := newTestGUI(t, &fakeSession{}, false, true)
	f.settle()
	if !f.shown(f.g.historyWin) {
		t.Fatal("history window hidden without a tray host")
	}
	if !f.g.history.banner.Visible() || !strings.Contains(f.g.history.banner.Text, "No system tray was found (GNOME needs the AppIndicator extension)") {
		t.Errorf("banner %q", f.g.history.banner.Text)
	}
	// The tray appears (extension enabled): the banner goes, closing hides.
	f.g.setTrayPresent(true)
	if f.g.history.banner.Visible() {
		t.Error("banner kept after the tray appeared")
	}
	f.g.onHistoryClose()
	if f.shown(f.g.historyWin) || f.quits != 0 {
		t.Error("close did not just hide once a tray exists")
	}
	// The tray goes away while hidden: the window comes back.
	f.g.setTrayPresent(false)
	if !f.shown(f.g.historyWin) {
		t.Error("tray gone but the history window stays hidden")
	}
	// Without a tray, closing the window quits (after stopping the service).
	f.g.onHistoryClose()
	f.settle()
	if f.quits != 1 {
		t.Errorf("close without a tray: quits %d", f.quits)
	}
}

func TestGUIBannersCombine(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, false, false)
	f.settle()
	f.g.hooks().OnDeliveryError(errors.New("org.freedesktop.Notifications was not provided"))
	f.settle()
	text := f.g.history.banner.Text
	if !strings.HasPrefix(text, NoTrayBanner+"\n") || !strings.Contains(text, "Desktop notifications are not working: Org.freedesktop.Notifications was not provided.") {
		t.Errorf("banner %q", text)
	}
	f.g.hooks().OnDeliveryError(nil)
	f.settle()
	if f.g.history.banner.Text != NoTrayBanner {
		t.Errorf("banner after recovery %q", f.g.history.banner.Text)
	}
}

func TestGUIStartFailureShown(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	f.svc.startErr = errors.New("realtime: Config.Key is required")
	f.g.startService(User{Name: "Alice"})
	f.settle()
	if f.tray.tooltip() != "Offline — not retrying; use Reconnect now" {
		t.Errorf("tooltip %q", f.tray.tooltip())
	}
	if !strings.Contains(f.g.history.banner.Text, "Cannot connect: Realtime: Config.Key is required.") {
		t.Errorf("banner %q", f.g.history.banner.Text)
	}
}

func TestGUINotificationClickSelects(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	f.settle()
	e := &notify.Entry{Time: f.now, Channel: "tenant.1", Event: "PaymentFailed", Type: notify.TypeError, Title: "Payment Failed", Message: "Card declined"}
	if _, err := f.store.Add(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	f.g.hooks().OnStored(*e)
	f.settle()
	// The view batches added rows for a moment; a click comes later than
	// that in real life, so load the row before clicking.
	f.g.history.Reload()
	f.g.onNotificationClick(e.ID)
	f.settle()
	if !f.shown(f.g.historyWin) {
		t.Error("clicking a notification did not show the history")
	}
	if f.g.history.selected != e.ID {
		t.Errorf("selected %d, want %d", f.g.history.selected, e.ID)
	}
}

func TestGUIFailedConnectionIsNotExpiry(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	f.settle()
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateFailed, Err: realtime.ErrUnauthorized})
	f.settle()
	if f.tray.icon() == "tray-offline-64.png" {
		t.Error("an auth failure is shown as offline; the expiry hook handles it")
	}
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateFailed, Err: errors.New("app key not in this cluster")})
	f.settle()
	if f.tray.icon() != "tray-offline-64.png" || !strings.Contains(f.g.history.banner.Text, "The WebSocket server refused the connection: App key not in this cluster.") {
		t.Errorf("icon %s banner %q", f.tray.icon(), f.g.history.banner.Text)
	}
}

// until runs the queued UI work until cond holds (workers queue it from
// their goroutines), failing after 30 s (a bound for a loaded CI machine;
// it normally takes milliseconds).
func (f *guiFixture) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for f.q.flush(); !cond(); f.q.flush() {
		select {
		case <-f.q.ready:
		case <-timeout:
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}

// Signing out while the stored session is still being restored (server
// unreachable), then signing in again, must end the restore attempts: a
// late successful restore would start the service a second time and leave
// the tray saying "connecting" for a connection that is long up.
func TestGUISignOutEndsRestoreAttempts(t *testing.T) {
	sess := &fakeSession{
		restores: []error{&APIError{Kind: KindUnreachable, Message: "Cannot reach http://x: connection refused"}},
		called:   make(chan struct{}, 4),
	}
	f := newTestGUI(t, sess, true, true)
	<-sess.called
	f.until(t, "offline while restoring", func() bool { return f.g.status.Conn == tray.Offline })

	f.tray.item(t, tray.LabelSignOut).Action()
	f.until(t, "sign-in window after signing out", func() bool { return f.shown(f.g.login.win) })
	fill(&testLogin{loginWindow: f.g.login}, "https://billing.example.com", "alice@example.com", "pw")
	test.Tap(f.g.login.submit)
	f.g.login.pending.Wait()
	f.settle()
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()

	// The restore loop's timer fires (or Reconnect now is used).
	select {
	case f.g.retry <- struct{}{}:
	default:
	}
	f.settle()
	if n := len(f.svc.started); n != 1 {
		t.Errorf("service started %d times; the old restore attempt started it again", n)
	}
	if f.tray.icon() != "tray-connected-64.png" {
		t.Errorf("tray %s %q after a stale restore; want connected", f.tray.icon(), f.tray.tooltip())
	}
}

// When the connection cannot be set up (bad settings), the tray says "use
// Reconnect now" and the banner says to check the settings: both must try
// to start the service again.
func TestGUIStartFailureRetried(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	f.svc.mu.Lock()
	f.svc.startErr = errors.New("the Pusher host \"ws://x\" must be a bare host name")
	f.svc.mu.Unlock()
	f.settle()
	if f.tray.tooltip() != "Offline — not retrying; use Reconnect now" {
		t.Fatalf("tooltip %q", f.tray.tooltip())
	}

	// The settings are fixed and saved: the service starts.
	f.svc.mu.Lock()
	f.svc.startErr = nil
	f.svc.mu.Unlock()
	f.g.applyConfig(f.cfg.Effective())
	f.settle()
	if n := len(f.svc.started); n != 2 || !f.svc.Running() {
		t.Fatalf("after saving the settings: %d starts, running %v; want a new start", n, f.svc.Running())
	}
	if !strings.HasPrefix(f.tray.icon(), "tray-connecting") || strings.Contains(f.g.history.banner.Text, "Cannot connect") {
		t.Errorf("tray %s banner %q", f.tray.icon(), f.g.history.banner.Text)
	}

	// The same through Reconnect now.
	f.svc.mu.Lock()
	f.svc.startErr = errors.New("still wrong")
	f.svc.mu.Unlock()
	f.g.startService(User{ID: "5", Name: "Alice"})
	f.settle()
	f.svc.mu.Lock()
	f.svc.startErr = nil
	f.svc.mu.Unlock()
	f.tray.item(t, tray.LabelReconnect).Action()
	f.settle()
	if n := len(f.svc.started); n != 4 || !f.svc.Running() {
		t.Errorf("after Reconnect now: %d starts, running %v; want a new start", n, f.svc.Running())
	}
}

// closingNotifier is a notifier with a connection to close.
type closingNotifier struct {
	fakeNotifier
	closed int
}

func (c *closingNotifier) Close() error { c.closed++; return nil }

// The desktop notifier (a D-Bus connection and its signal goroutine) is the
// GUI's: the service leaves it open, so quitting must close it.
func TestGUIShutdownClosesNotifier(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	n := &closingNotifier{}
	f.g.attach(f.svc, n)
	f.settle()
	f.g.shutdown()
	if n.closed != 1 {
		t.Errorf("notifier closed %d times at shutdown, want 1", n.closed)
	}
}

// Without a tray host the tray menu is out of reach: the history window,
// which stays open then, carries it as its main menu (Settings, Sign out,
// Pause …), and gives it back to the tray when one appears.
func TestGUINoTrayHostWindowMenu(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, false, true)
	f.settle()
	find := func(label string) *fyne.MenuItem {
		t.Helper()
		mm := f.g.historyWin.MainMenu()
		if mm == nil || len(mm.Items) == 0 {
			t.Fatal("no menu on the history window without a tray host")
		}
		for _, it := range mm.Items[0].Items {
			if it.Label == label {
				return it
			}
		}
		t.Fatalf("no %q in the history window's menu", label)
		return nil
	}
	find(tray.LabelSettings).Action()
	if !f.shown(f.g.settings.win) {
		t.Error("Settings from the window menu did not open the settings")
	}
	find(tray.LabelSignOut).Action()
	f.settle()
	if !f.shown(f.g.login.win) {
		t.Error("Sign out from the window menu did not sign out")
	}
	// Signed out now: the window's menu follows the state.
	find(tray.LabelSignIn)

	f.g.setTrayPresent(true)
	if f.g.historyWin.MainMenu() != nil {
		t.Error("the window keeps the menu although the tray shows it")
	}
	f.g.setTrayPresent(false)
	find(tray.LabelQuit)
}

// An invalid ECHOTRAY_* variable is not a corrupt file: the file's settings
// stay in use, and saving the settings cannot fix the variable. The banner
// must say so instead of "the default settings are in use".
func TestGUIEnvConfigErrorBanner(t *testing.T) {
	a := test.NewTempApp(t)
	dir := t.TempDir()
	bad := func(k string) string {
		if k == EnvPusherPort {
			return "sixty"
		}
		return ""
	}
	cfg, cfgErr := OpenConfig(dir, bad)
	if cfgErr == nil {
		t.Fatal("OpenConfig accepted ECHOTRAY_PUSHER_PORT=sixty")
	}
	store, err := notify.OpenStore(filepath.Join(dir, "history.db"), notify.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	q := &uiQueue{}
	g := newGUI(guiDeps{app: a, config: cfg, configErr: cfgErr, session: &fakeSession{}, store: store,
		history: HistoryViewOptions{TimeRefresh: -1}, runOnUI: q.do, quit: func() {}})
	t.Cleanup(g.shutdown)
	text := g.history.banner.Text
	if !strings.Contains(text, "ECHOTRAY_PUSHER_PORT") || strings.Contains(text, "default settings are in use") ||
		!strings.Contains(text, "unset") {
		t.Errorf("banner %q: want the variable named, what to do, and no claim that defaults are used", text)
	}
}

// A token belongs to the server that issued it: saving another server in the
// settings while signed in signs out there and asks to sign in to the new
// one; the same server written differently changes nothing.
func TestGUIServerChangeSignsOut(t *testing.T) {
	f := newTestGUI(t, &fakeSession{}, true, true)
	if err := f.cfg.Update(func(c *Config) { c.Server = "https://a.example.com" }); err != nil {
		t.Fatal(err)
	}
	f.g.startService(User{ID: "5", Name: "Alice"})
	f.settle()
	f.g.hooks().OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()

	if err := f.cfg.Update(func(c *Config) { c.Server = "https://a.example.com/" }); err != nil {
		t.Fatal(err)
	}
	f.g.applyConfig(f.cfg.Effective())
	f.settle()
	if slices.Contains(f.svc.Calls(), "signout") {
		t.Fatalf("the same server with a slash signed out: %v", f.svc.Calls())
	}

	if err := f.cfg.Update(func(c *Config) { c.Server = "https://b.example.com" }); err != nil {
		t.Fatal(err)
	}
	f.g.applyConfig(f.cfg.Effective())
	f.until(t, "sign-in window for the new server", func() bool { return f.shown(f.g.login.win) })
	if !slices.Contains(f.svc.Calls(), "signout") {
		t.Errorf("no sign-out at the old server: %v", f.svc.Calls())
	}
	if got := f.g.login.notice.Text; got != "The server is now https://b.example.com: sign in to it." {
		t.Errorf("notice %q", got)
	}
	if f.g.login.server.Text != "https://b.example.com" {
		t.Errorf("sign-in window server %q", f.g.login.server.Text)
	}
}
