package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"echotray/app/ipc"
	"echotray/notify"
	"echotray/realtime"
	"echotray/tray"
)

// fakeTray records what the core shows in the tray.
type fakeTray struct {
	mu       sync.Mutex
	icons    []string
	tooltips []string
	menus    [][]tray.Item
	left     func()
}

func (f *fakeTray) SetIcon(png []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.icons = append(f.icons, iconName(png))
}
func (f *fakeTray) SetTooltip(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tooltips = append(f.tooltips, s)
}
func (f *fakeTray) SetMenu(items []tray.Item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.menus = append(f.menus, items)
}
func (f *fakeTray) SetOnLeftClick(fn func()) { f.left = fn }

func (f *fakeTray) icon() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.icons[len(f.icons)-1]
}
func (f *fakeTray) tooltip() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tooltips[len(f.tooltips)-1]
}
func (f *fakeTray) menuCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.menus)
}

// item finds a menu item by label in the current menu.
func (f *fakeTray) item(t *testing.T, label string) tray.Item {
	t.Helper()
	f.mu.Lock()
	menu := f.menus[len(f.menus)-1]
	f.mu.Unlock()
	for _, it := range menu {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no %q in the tray menu", label)
	return tray.Item{}
}

// iconName tells which tray icon png is, by comparing with every state's.
func iconName(png []byte) string {
	for _, st := range []tray.State{tray.SignedOut, tray.Connecting, tray.Connected, tray.Offline, tray.Expired, tray.Paused, tray.Warning} {
		for _, unread := range []int{0, 1} {
			if string(tray.IconPNG(st, unread)) == string(png) {
				if unread > 0 {
					return st.String() + "-unread"
				}
				return st.String()
			}
		}
	}
	return "unknown"
}

// fakeService records the core's calls.
type fakeService struct {
	mu       sync.Mutex
	calls    []string
	started  []User
	prefs    []notify.Prefs
	applied  []Config
	running  bool
	startErr error
	testErr  error
	hooks    Hooks
	// markedRemote are the entry IDs handed to read sync.
	markedRemote []int64
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
func (f *fakeService) MarkReadRemote(ctx context.Context, ids []int64) error {
	f.mu.Lock()
	f.markedRemote = append(f.markedRemote, ids...)
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
	return slices.Clone(f.calls)
}
func (f *fakeService) startedUsers() []User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.started)
}

// fakeSession answers the restore attempts with queued results: a
// retryable error waits for "Reconnect now" (or the end of the attempts),
// like the real RestoreRetrying waits for its timer.
type fakeSession struct {
	mu       sync.Mutex
	restores []error // nil entry: success
	calls    int
	keyring  error
	adopted  string
	retried  chan struct{} // receives after each onRetry, if set
	waiting  atomic.Bool   // blocked until "Reconnect now"
}

var alice = User{ID: "5", Name: "Alice", Email: "alice@example.com"}

func (f *fakeSession) RestoreRetrying(ctx context.Context, wake <-chan struct{}, onRetry func(error, time.Time)) (User, error) {
	for {
		f.mu.Lock()
		f.calls++
		var err error
		if len(f.restores) > 0 {
			err, f.restores = f.restores[0], f.restores[1:]
		}
		f.mu.Unlock()
		if err == nil {
			return alice, nil
		}
		if !Retryable(err) {
			return User{}, err
		}
		onRetry(err, time.Date(2026, 3, 4, 10, 0, 2, 0, time.Local))
		if f.retried != nil {
			f.retried <- struct{}{}
		}
		f.waiting.Store(true)
		select {
		case <-wake:
			f.waiting.Store(false)
		case <-ctx.Done():
			f.waiting.Store(false)
			return User{}, ctx.Err()
		}
	}
}

func (f *fakeSession) KeyringAvailable() error { return f.keyring }
func (f *fakeSession) AdoptSessionOnly(token string) {
	f.mu.Lock()
	f.adopted = token
	f.mu.Unlock()
}
func (f *fakeSession) SessionOnly() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.adopted != ""
}
func (f *fakeSession) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

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

func (f *fakeNotifier) sent() []notify.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
}

// fakeUnread counts unread entries.
type fakeUnread struct {
	mu       sync.Mutex
	n        int
	accounts []string // SetAccount calls
	deleted  []string // DeleteAccount calls
}

func (f *fakeUnread) SetAccount(a string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts = append(f.accounts, a)
}

func (f *fakeUnread) DeleteAccount(_ context.Context, a string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, a)
	return 3, nil
}

func (f *fakeUnread) UnreadCount(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, nil
}

// fakeSpawner records the window processes the core starts; end makes the
// last one exit.
type fakeSpawner struct {
	mu    sync.Mutex
	reqs  []WindowRequest
	exits []chan struct{}
	err   error
}

func (f *fakeSpawner) spawn(req WindowRequest) (<-chan struct{}, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.reqs = append(f.reqs, req)
	ch := make(chan struct{})
	f.exits = append(f.exits, ch)
	return ch, nil
}

func (f *fakeSpawner) requests() []WindowRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

func (f *fakeSpawner) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.exits[len(f.exits)-1])
}

type coreFixture struct {
	c        *Core
	tray     *fakeTray
	svc      *fakeService
	sess     *fakeSession
	notifier *fakeNotifier
	unread   *fakeUnread
	spawn    *fakeSpawner
	cfg      *ConfigStore
	server   *ipc.Server
	socket   string
	now      time.Time
	mu       sync.Mutex
	quits    int
}

// newTestCore starts a core with fakes behind a real ipc server on a temp
// socket.
func newTestCore(t *testing.T, sess *fakeSession, trayPresent, hidden bool) *coreFixture {
	t.Helper()
	dir := shortTempDir(t)
	cfg, err := OpenConfig(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f := &coreFixture{
		tray: &fakeTray{}, svc: &fakeService{}, sess: sess, notifier: &fakeNotifier{},
		unread: &fakeUnread{}, spawn: &fakeSpawner{}, cfg: cfg,
		now:    time.Date(2026, 3, 4, 10, 0, 0, 0, time.Local),
		socket: filepath.Join(dir, "s.sock"),
	}
	ready := make(chan struct{})
	f.server, err = ipc.Listen(ipc.ServerOptions{
		Path:         f.socket,
		OnConnect:    func(p *ipc.Peer) { <-ready; f.c.PeerConnected(p) },
		OnMessage:    func(p *ipc.Peer, m ipc.Message) { <-ready; f.c.PeerMessage(p, m) },
		OnDisconnect: func(p *ipc.Peer) { <-ready; f.c.PeerDisconnected(p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.c = NewCore(CoreDeps{
		Config:      cfg,
		Session:     sess,
		NewService:  func(h Hooks) coreService { f.svc.hooks = h; return f.svc },
		Unread:      f.unread,
		Notifier:    f.notifier,
		Tray:        f.tray,
		Spawn:       f.spawn.spawn,
		IconPath:    "/tmp/echotray.png",
		StateDir:    dir,
		Hidden:      hidden,
		TrayPresent: trayPresent,
		Now:         f.now0,
		Quit:        func() { f.mu.Lock(); f.quits++; f.mu.Unlock() },
	})
	close(ready)
	f.c.Run()
	t.Cleanup(func() {
		f.c.Quit()
		select {
		case <-f.c.Done():
		case <-time.After(10 * time.Second):
			t.Error("the core did not stop")
		}
		f.server.Close()
	})
	f.settle()
	return f
}

func (f *coreFixture) now0() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *coreFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// on runs fn on the core's loop and waits for it.
func (f *coreFixture) on(fn func()) {
	done := make(chan struct{})
	f.c.Post(func() { fn(); close(done) })
	<-done
}

// settle lets the core's workers finish and its loop run what they posted;
// a restore attempt waiting for "Reconnect now" counts as finished.
func (f *coreFixture) settle() {
	for range 3 {
		for f.c.restoring.Load() > 0 && !f.sess.waiting.Load() {
			time.Sleep(time.Millisecond)
		}
		for f.c.bgActive.Load() > 0 {
			time.Sleep(time.Millisecond)
		}
		f.on(func() {})
	}
}

// window connects a window process to the core and returns its client.
func (f *coreFixture) window(t *testing.T) *ipc.Client {
	t.Helper()
	cl, err := ipc.Dial(f.socket, ipc.RoleWindow, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// next returns the next message of op from cl, skipping others.
func next(t *testing.T, cl *ipc.Client, op ipc.Op) ipc.Message {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-cl.Messages():
			if !ok {
				t.Fatalf("connection closed while waiting for %s", op)
			}
			if m.Op == op {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s message", op)
		}
	}
}

func (f *coreFixture) lastRequest(t *testing.T) WindowRequest {
	t.Helper()
	reqs := f.spawn.requests()
	if len(reqs) == 0 {
		t.Fatal("no window process was started")
	}
	return reqs[len(reqs)-1]
}

func TestCoreStartSignedOut(t *testing.T) {
	f := newTestCore(t, &fakeSession{restores: []error{ErrNotSignedIn}}, true, true)
	if got := f.spawn.requests(); len(got) != 1 || got[0].Window != WindowSignIn {
		t.Errorf("window processes started %+v; want one with the sign-in window", got)
	}
	if f.tray.icon() != "signedout" || f.tray.tooltip() != "EchoTray — not signed in" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	f.tray.item(t, tray.LabelSignIn)
	if !f.tray.item(t, tray.LabelSignOut).Disabled {
		t.Error("Sign out enabled while signed out")
	}
}

func TestCoreStartSignedOutShowsOnlySignIn(t *testing.T) {
	f := newTestCore(t, &fakeSession{restores: []error{ErrNotSignedIn}}, true, false)
	if got := f.spawn.requests(); len(got) != 1 || got[0].Window != WindowSignIn {
		t.Fatalf("window processes started %+v; want only the sign-in window", got)
	}
	// The window process connects, signs in and tells the core.
	w := f.window(t)
	next(t, w, ipc.OpState)
	if err := w.Send(ipc.Message{Op: ipc.OpSignedIn}); err != nil {
		t.Fatal(err)
	}
	m := next(t, w, ipc.OpShow)
	if m.Window != WindowHistory {
		t.Errorf("after signing in the core showed %q; want the history window", m.Window)
	}
	f.settle()
	if got := f.svc.startedUsers(); len(got) != 1 || got[0].Name != "Alice" {
		t.Errorf("service started for %+v", got)
	}
}

func TestCoreRestoreConnects(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, false)
	if got := f.svc.startedUsers(); len(got) != 1 || got[0].Name != "Alice" {
		t.Fatalf("service started for %+v", got)
	}
	if got := f.spawn.requests(); len(got) != 1 || got[0].Window != WindowHistory {
		t.Errorf("window processes %+v; want the history window on a normal start", got)
	}
	if f.tray.icon() != "connecting" {
		t.Errorf("icon %s", f.tray.icon())
	}
	f.svc.hooks.OnState(realtime.StateChange{Previous: realtime.StateConnecting, Current: realtime.StateConnected})
	f.settle()
	if f.tray.icon() != "connected" || f.tray.tooltip() != "EchoTray — connected as Alice" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}

	// Offline: the tooltip counts down to the next attempt.
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateUnavailable, NextAttempt: f.now0().Add(12 * time.Second), Err: errors.New("connection refused")})
	f.settle()
	if f.tray.icon() != "offline" || f.tray.tooltip() != "Offline — next attempt in 12 s" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	menus := f.tray.menuCount()
	f.advance(5 * time.Second)
	f.on(f.c.Tick) // what the ticker does every second
	if f.tray.tooltip() != "Offline — next attempt in 7 s" {
		t.Errorf("tooltip %q", f.tray.tooltip())
	}
	if f.tray.menuCount() != menus {
		t.Error("the countdown rebuilt the tray menu")
	}
}

func TestCoreUnreadBadgeAndLiveEntries(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	w := f.window(t)
	next(t, w, ipc.OpState)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	e := notify.Entry{ID: 7, Time: f.now0(), Channel: "tenant.1", Event: "UserCreated", Type: notify.TypeInfo, Title: "User Created", Message: "Bob joined"}
	f.svc.hooks.OnEntry(e, true)
	f.svc.hooks.OnEntry(e, false) // a duplicate: not counted, not sent
	f.settle()
	if f.tray.icon() != "connected-unread" || f.tray.tooltip() != "EchoTray — connected as Alice · 1 unread" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	m := next(t, w, ipc.OpEntryAdded)
	if m.Added == nil || m.Added.ID != 7 || m.Added.Title != "User Created" {
		t.Errorf("entry-added %+v", m.Added)
	}
	st := next(t, w, ipc.OpState)
	for st.State.Unread != 1 {
		st = next(t, w, ipc.OpState)
	}
	// The window marked everything read: the core counts again.
	f.unread.mu.Lock()
	f.unread.n = 0
	f.unread.mu.Unlock()
	if err := w.Send(ipc.Message{Op: ipc.OpHistoryChanged}); err != nil {
		t.Fatal(err)
	}
	for st.State.Unread != 0 {
		st = next(t, w, ipc.OpState)
	}
	f.settle()
	if f.tray.icon() != "connected" {
		t.Errorf("icon %s after everything was read", f.tray.icon())
	}
}

func TestCoreSessionExpiry(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.svc.hooks.OnExpired(ErrSessionExpired)
	f.settle()
	if f.tray.icon() != "expired" || !strings.Contains(f.tray.tooltip(), "session expired") {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	if r := f.lastRequest(t); r.Window != WindowSignIn || r.Notice != ErrSessionExpired.Error() {
		t.Errorf("window request %+v; want the sign-in window with the expiry notice", r)
	}
	if n := f.notifier.sent(); len(n) != 1 || n[0].Body != ErrSessionExpired.Error() {
		t.Errorf("notifications %+v", n)
	}
	// Late news from the stopped connection changes nothing.
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()
	if f.tray.icon() != "expired" {
		t.Errorf("icon %s after late news", f.tray.icon())
	}
}

func TestCoreRestoreExpired(t *testing.T) {
	f := newTestCore(t, &fakeSession{restores: []error{ErrSessionExpired}}, true, false)
	if r := f.lastRequest(t); r.Window != WindowSignIn || r.Notice != ErrSessionExpired.Error() {
		t.Errorf("window request %+v", r)
	}
	if len(f.spawn.requests()) != 1 {
		t.Errorf("windows %+v; want only the sign-in window", f.spawn.requests())
	}
	if f.tray.icon() != "expired" {
		t.Errorf("icon %s", f.tray.icon())
	}
}

func TestCoreKeyringUnavailable(t *testing.T) {
	down := fmt.Errorf("%w: no Secret Service", ErrKeyringUnavailable)
	for _, tc := range []struct {
		name string
		sess *fakeSession
	}{
		{"reading the token fails", &fakeSession{restores: []error{down}}},
		{"nobody signed in and the probe fails", &fakeSession{restores: []error{ErrNotSignedIn}, keyring: down}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestCore(t, tc.sess, true, true)
			w := f.window(t)
			st := next(t, w, ipc.OpState)
			if !st.State.KeyringDown || st.State.Conn != "signedout" {
				t.Errorf("state %+v; want signed out with the keyring down (session-only sign-in offered)", st.State)
			}
			// A session-only sign-in hands the token over the socket.
			if err := w.Send(ipc.Message{Op: ipc.OpSignedIn, Token: "1|secret"}); err != nil {
				t.Fatal(err)
			}
			next(t, w, ipc.OpShow)
			f.settle()
			if tc.sess.adopted != "1|secret" || len(f.svc.startedUsers()) != 1 {
				t.Errorf("adopted %q, started %+v", tc.sess.adopted, f.svc.startedUsers())
			}
		})
	}
}

func TestCoreRestoreRetriesWhenOffline(t *testing.T) {
	unreachable := &APIError{Kind: KindUnreachable, Message: "cannot reach https://billing.example.com"}
	sess := &fakeSession{restores: []error{unreachable, nil}, retried: make(chan struct{}, 4)}
	f := newTestCore(t, sess, true, false)
	<-sess.retried
	f.settle()
	if f.tray.icon() != "offline" || !strings.HasPrefix(f.tray.tooltip(), "Offline — next attempt in") {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	if b := f.c.Banners()["connection"]; !strings.Contains(b, "Cannot reach the server") {
		t.Errorf("banner %q", b)
	}
	if r := f.lastRequest(t); r.Window != WindowHistory {
		t.Errorf("window %+v; want the history window while retrying on a normal start", r)
	}
	// Reconnect now tries at once.
	f.tray.item(t, tray.LabelReconnect).Action()
	f.settle()
	deadline := time.Now().Add(5 * time.Second)
	for len(f.svc.startedUsers()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		f.settle()
	}
	if got := f.svc.startedUsers(); len(got) != 1 {
		t.Fatalf("service started %+v after Reconnect now", got)
	}
	if b := f.c.Banners()["connection"]; b != "" {
		t.Errorf("banner %q after connecting", b)
	}
}

func TestCorePauseAndResume(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()
	f.tray.item(t, tray.LabelPause).Action()
	f.settle()
	until := f.cfg.Effective().Notifications.PausedUntil
	if want := f.now0().Add(time.Hour); !until.Equal(want) {
		t.Errorf("paused until %v, want %v", until, want)
	}
	if f.tray.icon() != "paused" || !strings.Contains(f.tray.tooltip(), "paused until") {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	f.tray.item(t, tray.LabelResume).Action()
	f.settle()
	if !f.cfg.Effective().Notifications.PausedUntil.IsZero() || f.tray.icon() != "connected" {
		t.Errorf("after resume: until %v, icon %s", f.cfg.Effective().Notifications.PausedUntil, f.tray.icon())
	}
	// From a window (no tray host): pause until resumed.
	w := f.window(t)
	next(t, w, ipc.OpState)
	if err := w.Send(ipc.Message{Op: ipc.OpPause}); err != nil {
		t.Fatal(err)
	}
	st := next(t, w, ipc.OpState)
	if !st.State.PausedUntil.Equal(notify.PausedForever) {
		t.Errorf("paused until %v; want until resumed", st.State.PausedUntil)
	}
	f.svc.mu.Lock()
	n := len(f.svc.prefs)
	last := f.svc.prefs[n-1]
	f.svc.mu.Unlock()
	if n != 3 || !last.PausedUntil.Equal(notify.PausedForever) {
		t.Errorf("prefs set %d times, last %+v", n, last)
	}
}

func TestCoreMenuActions(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()
	f.tray.item(t, tray.LabelReconnect).Action()
	f.tray.item(t, tray.LabelSendTest).Action()
	f.settle()
	f.tray.item(t, tray.LabelSettings).Action()
	f.settle()
	if r := f.lastRequest(t); r.Window != WindowSettings {
		t.Errorf("window request %+v", r)
	}
	f.left()
	calls := f.svc.Calls()
	if !slices.Contains(calls, "reconnect") || !slices.Contains(calls, "test") {
		t.Errorf("service calls %v", calls)
	}
	// Sign out asks in the window process first (the history question),
	// which answers with sign-out.
	// (The window process started for Settings has not connected yet: the
	// question waits for it.)
	f.tray.item(t, tray.LabelSignOut).Action()
	f.settle()
	if slices.Contains(f.svc.Calls(), "signout") {
		t.Error("signed out before the question was answered")
	}
	w := f.window(t)
	for m := next(t, w, ipc.OpShow); m.Window != WindowSignOut; m = next(t, w, ipc.OpShow) {
	}
	if err := w.Send(ipc.Message{Op: ipc.OpSignOut}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sign-out", func() bool {
		f.settle()
		return slices.Contains(f.svc.Calls(), "signout") && f.tray.icon() == "signedout"
	})
}

// Without a window process to ask, the tray's Sign out signs out at once.
func TestCoreSignOutWithoutWindowProcess(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	f.settle()
	f.on(func() { f.c.deps.Spawn = nil })
	f.tray.item(t, tray.LabelSignOut).Action()
	f.settle()
	if !slices.Contains(f.svc.Calls(), "signout") || f.tray.icon() != "signedout" {
		t.Errorf("after sign out: calls %v, icon %s", f.svc.Calls(), f.tray.icon())
	}
}

func (f *coreFixture) left() {
	f.tray.left()
	f.settle()
}

func TestCoreWindowRequestsGoToTheRunningWindowProcess(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	if n := len(f.spawn.requests()); n != 0 {
		t.Fatalf("%d window processes started on a hidden start", n)
	}
	f.left() // the tray icon's left click: start one
	if r := f.lastRequest(t); r.Window != WindowHistory {
		t.Fatalf("request %+v", r)
	}
	// Clicks before it connected are queued, not a second process.
	f.c.OnNotificationClick(42)
	f.settle()
	if n := len(f.spawn.requests()); n != 1 {
		t.Fatalf("%d window processes; want 1", n)
	}
	w := f.window(t)
	next(t, w, ipc.OpState)
	if m := next(t, w, ipc.OpShow); m.Window != WindowHistory || m.Entry != 42 {
		t.Errorf("queued show %+v", m)
	}
	// A second launch asks over the socket; the window process shows it.
	if err := ipc.Ask(f.socket, ipc.Message{Op: ipc.OpShow, Window: WindowSettings}, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if m := next(t, w, ipc.OpShow); m.Window != WindowSettings {
		t.Errorf("show %+v", m)
	}
	if n := len(f.spawn.requests()); n != 1 {
		t.Errorf("%d window processes; want 1", n)
	}
	// The window process ends (crash, idle exit): the next request starts a new one.
	w.Close()
	f.spawn.end()
	time.Sleep(50 * time.Millisecond)
	f.settle()
	f.left()
	if n := len(f.spawn.requests()); n != 2 {
		t.Errorf("%d window processes after the first ended; want 2", n)
	}
}

func TestCoreQuitStopsServiceAndEnds(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	w := f.window(t)
	next(t, w, ipc.OpState)
	if err := w.Send(ipc.Message{Op: ipc.OpQuit}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("quit from the window did not end the core")
	}
	if calls := f.svc.Calls(); calls[len(calls)-1] != "stop" {
		t.Errorf("service calls %v; want stop last", calls)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.quits != 1 {
		t.Errorf("main loop quit %d times", f.quits)
	}
}

func TestCoreNoTrayHost(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, false, true)
	if r := f.lastRequest(t); r.Window != WindowHistory {
		t.Fatalf("no tray host, hidden start: %+v; want the history window anyway", f.spawn.requests())
	}
	w := f.window(t)
	st := next(t, w, ipc.OpState)
	if st.State.TrayPresent || !slices.Contains(st.State.Banners, NoTrayBanner) {
		t.Errorf("state %+v; want no tray and its banner", st.State)
	}
	// The window process dies: it is the only way in, so it comes back.
	w.Close()
	f.spawn.end()
	deadline := time.Now().Add(5 * time.Second)
	for len(f.spawn.requests()) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(f.spawn.requests()); n != 2 {
		t.Errorf("%d window processes; want it started again", n)
	}
	// A tray host appears: the banner goes.
	f.c.SetTrayPresent(true)
	f.settle()
	if _, ok := f.c.Banners()["tray"]; ok {
		t.Error("tray banner kept after a tray host appeared")
	}
}

func TestCoreFailedConnectionIsNotExpiry(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateFailed, Err: errors.New("closed with 4001: application does not exist")})
	f.settle()
	if f.tray.icon() != "offline" || f.tray.tooltip() != "Offline — not retrying; use Reconnect now" {
		t.Errorf("tray %s %q", f.tray.icon(), f.tray.tooltip())
	}
	if b := f.c.Banners()["connection"]; !strings.Contains(b, "refused the connection") {
		t.Errorf("banner %q", b)
	}
	if len(f.spawn.requests()) != 0 {
		t.Errorf("windows %+v; a refused connection is not an expiry", f.spawn.requests())
	}
}

func TestCoreSignOutEndsRestoreAttempts(t *testing.T) {
	unreachable := &APIError{Kind: KindUnreachable, Message: "unreachable"}
	sess := &fakeSession{restores: []error{unreachable, nil}, retried: make(chan struct{}, 4)}
	f := newTestCore(t, sess, true, true)
	<-sess.retried
	f.settle()
	f.on(func() { f.c.deps.Spawn = nil }) // signs out at once
	f.tray.item(t, tray.LabelSignOut).Action()
	f.settle()
	time.Sleep(50 * time.Millisecond)
	f.settle()
	if got := f.svc.startedUsers(); len(got) != 0 {
		t.Errorf("service started %+v after signing out", got)
	}
	if f.tray.icon() != "signedout" {
		t.Errorf("icon %s", f.tray.icon())
	}
}

func TestCoreStartFailureRetried(t *testing.T) {
	svc := &fakeService{startErr: errors.New("cannot set up the WebSocket connection: realtime: Config.Key is required")}
	f3 := &fakeSession{}
	g := newTestCoreWith(t, f3, svc)
	if g.tray.icon() != "offline" || !strings.Contains(g.c.Banners()["connection"], "Cannot connect") {
		t.Errorf("tray %s, banner %q", g.tray.icon(), g.c.Banners()["connection"])
	}
	svc.mu.Lock()
	svc.startErr = nil
	svc.mu.Unlock()
	g.tray.item(t, tray.LabelReconnect).Action()
	g.settle()
	if n := len(svc.startedUsers()); n != 2 {
		t.Errorf("started %d times; want a second start on Reconnect now", n)
	}
	if g.c.Banners()["connection"] != "" {
		t.Errorf("banner %q kept", g.c.Banners()["connection"])
	}
}

// newTestCoreWith is newTestCore (tray, hidden) with a given service.
func newTestCoreWith(t *testing.T, sess *fakeSession, svc *fakeService) *coreFixture {
	t.Helper()
	dir := shortTempDir(t)
	cfg, err := OpenConfig(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f := &coreFixture{tray: &fakeTray{}, svc: svc, sess: sess, notifier: &fakeNotifier{}, unread: &fakeUnread{},
		spawn: &fakeSpawner{}, cfg: cfg, now: time.Date(2026, 3, 4, 10, 0, 0, 0, time.Local)}
	f.c = NewCore(CoreDeps{Config: cfg, Session: sess, NewService: func(h Hooks) coreService { svc.hooks = h; return svc },
		Unread: f.unread, Tray: f.tray, Spawn: f.spawn.spawn, Hidden: true, TrayPresent: true, Now: f.now0})
	f.c.Run()
	t.Cleanup(func() { f.c.Quit(); <-f.c.Done() })
	f.settle()
	return f
}

func TestCoreSettingsSaved(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	if err := f.cfg.Update(func(c *Config) { c.Server = "https://billing.example.com" }); err != nil {
		t.Fatal(err)
	}
	// The core signed in to the server before; restart it to pick that up.
	f.on(func() { f.c.server = "https://billing.example.com" })
	w := f.window(t)
	next(t, w, ipc.OpState)

	// Another process (the window) saves new preferences: the core re-reads them.
	other, err := OpenConfig(filepath.Dir(f.cfg.Path()), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Update(func(c *Config) { c.Notifications.Muted = []string{"UserCreated"} }); err != nil {
		t.Fatal(err)
	}
	if err := w.Send(ipc.Message{Op: ipc.OpSettingsSaved}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the settings to be applied", func() bool { return slices.Contains(f.svc.Calls(), "apply") })
	f.svc.mu.Lock()
	applied := f.svc.applied[len(f.svc.applied)-1]
	f.svc.mu.Unlock()
	if !slices.Equal(applied.Notifications.Muted, []string{"UserCreated"}) {
		t.Errorf("applied %+v", applied.Notifications)
	}

	// A new server: the token is the old one's, so the user signs in again.
	if err := other.Update(func(c *Config) { c.Server = "https://other.example.com" }); err != nil {
		t.Fatal(err)
	}
	if err := w.Send(ipc.Message{Op: ipc.OpSettingsSaved}); err != nil {
		t.Fatal(err)
	}
	m := next(t, w, ipc.OpShow)
	if m.Window != WindowSignIn || !strings.Contains(m.Notice, "https://other.example.com") {
		t.Errorf("show %+v; want the sign-in window naming the new server", m)
	}
	waitFor(t, "the sign-out", func() bool { return slices.Contains(f.svc.Calls(), "signout") })
}

func TestCoreConfigErrorBanner(t *testing.T) {
	dir := shortTempDir(t)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, cfgErr := OpenConfig(dir, func(string) string { return "" })
	c := NewCore(CoreDeps{Config: cfg, ConfigErr: cfgErr, Session: &fakeSession{restores: []error{ErrNotSignedIn}},
		NewService: func(Hooks) coreService { return &fakeService{} }, TrayPresent: true})
	c.Run()
	defer func() { c.Quit(); <-c.Done() }()
	if b := c.Banners()["config"]; !strings.Contains(b, "default settings are in use") {
		t.Errorf("config banner %q", b)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A burst of new entries reaches the window process as a few entry-added
// messages and a reload, never as 1,000 lines that would fill its queue
// and cut it off; the first one goes out at once.
func TestCoreBurstCoalescedForTheWindow(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	w := f.window(t)
	next(t, w, ipc.OpState)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	for i := range 1000 {
		e := notify.Entry{ID: int64(i + 1), Time: f.now0(), Channel: "tenant.1", Event: "PaymentCompleted", Type: notify.TypeSuccess, Title: "Payment Completed"}
		f.svc.hooks.OnEntry(e, true)
	}
	if m := next(t, w, ipc.OpEntryAdded); m.Added == nil || m.Added.ID != 1 {
		t.Fatalf("first entry-added %+v", m.Added)
	}
	added, reloads := 1, 0
	quiet := time.After(2 * time.Second)
loop:
	for {
		select {
		case m, ok := <-w.Messages():
			if !ok {
				t.Fatal("the core cut the window process off during the burst")
			}
			switch m.Op {
			case ipc.OpEntryAdded:
				added++
			case ipc.OpReload:
				reloads++
			}
		case <-quiet:
			break loop
		}
	}
	if reloads == 0 || added > 1+2*addedBatch {
		t.Errorf("burst of 1,000: %d entry-added, %d reloads", added, reloads)
	}
	// Quiet again: the next entry goes out at once, on its own.
	f.svc.hooks.OnEntry(notify.Entry{ID: 5000, Time: f.now0(), Channel: "tenant.1", Event: "UserCreated", Type: notify.TypeInfo}, true)
	if m := next(t, w, ipc.OpEntryAdded); m.Added == nil || m.Added.ID != 5000 {
		t.Errorf("entry-added after the burst %+v", m.Added)
	}
}
