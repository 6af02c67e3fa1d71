package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	"go.uber.org/goleak"

	"echotray/history"
	"echotray/notify"
	"echotray/realtime"
)

// serviceRig is a signed-in session against the fake backend and Pusher
// server, with a history store and a recording notifier.
type serviceRig struct {
	b        *fakeBackend
	p        *fakePusher
	env      *testEnv
	sess     *Session
	store    *history.Store
	notifier *recordingNotifier
	user     User
	entries  chan notify.Entry
	stored   chan notify.Entry
	expired  chan error
	states   chan realtime.StateChange
	caught   chan []notify.Entry
}

func newServiceRig(t *testing.T, who fakeUser) *serviceRig {
	t.Helper()
	r := &serviceRig{
		b:        newFakeBackend(t, tenantUser(), adminUser()),
		p:        newFakePusher(t),
		notifier: newRecordingNotifier(),
		entries:  make(chan notify.Entry, 64),
		stored:   make(chan notify.Entry, 64),
		expired:  make(chan error, 4),
		states:   make(chan realtime.StateChange, 256),
		caught:   make(chan []notify.Entry, 16),
	}
	pc := r.p.config()
	r.env = newTestEnv(t, r.b.URL(), &pc)
	r.sess = r.env.session()
	u, err := r.sess.Login(context.Background(), LoginRequest{Email: who.Email, Password: who.Password})
	if err != nil {
		t.Fatal(err)
	}
	r.user = u
	r.store, err = OpenHistory(r.env.cfg.Effective(), r.env.logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close() })
	return r
}

func (r *serviceRig) service(opts ServiceOptions) *Service {
	opts.Session = r.sess
	opts.Store = r.store
	opts.Notifier = r.notifier
	opts.Logger = r.env.logger
	opts.Hooks = Hooks{
		OnEntry: func(e notify.Entry, stored bool) {
			r.entries <- e
			if stored {
				r.stored <- e
			}
		},
		OnState: func(sc realtime.StateChange) { r.states <- sc },
		OnExpired: func(err error) {
			r.expired <- err
		},
		OnCaughtUp: func(es []notify.Entry) { r.caught <- es },
	}
	if opts.CheckInterval == 0 {
		opts.CheckInterval = -1
	}
	return NewService(opts)
}

func waitEntry(t *testing.T, ch <-chan notify.Entry) notify.Entry {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
		return notify.Entry{}
	}
}

func TestServiceTenantEventsStoredAndNotified(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	ignore := []goleak.Option{goleak.IgnoreCurrent(),
		// The history store's own pruning timer lives as long as the store.
		goleak.IgnoreTopFunction("echotray/history.(*Store).pruneLoop.func1")}
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(r.user); err != nil {
		t.Fatalf("second Start: %v", err)
	}
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	if n := r.p.publish("tenant.8", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"name": "Other Tenant"}}); n != 0 {
		t.Fatalf("another tenant's channel has %d subscribers", n)
	}
	r.p.publish("tenant.7", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"name": "John Doe"}})
	e := waitEntry(t, r.entries)
	if e.Channel != "tenant.7" || e.Event != "UserCreated" || e.ID == 0 || e.Type != notify.TypeSuccess {
		t.Errorf("entry %+v", e)
	}
	if s := waitEntry(t, r.stored); s.ID != e.ID {
		t.Errorf("OnEntry stored %d, OnEntry %d", s.ID, e.ID)
	}
	m := r.notifier.wait(t)
	if m.EntryID != e.ID || m.Title != e.Title || m.AppName != "EchoTray" {
		t.Errorf("notification %+v for entry %+v", m, e)
	}
	r.p.publish("private-user.5", "PasswordChanged", map[string]any{"message": "Your password was changed."})
	e2 := waitEntry(t, r.entries)
	if e2.Channel != "private-user.5" || e2.Event != "PasswordChanged" {
		t.Errorf("private entry %+v", e2)
	}
	r.notifier.wait(t)
	// Both confirmations preceded the events on the wire.
	if subs := svc.Subscriptions(); subs["tenant.7"] != realtime.SubscriptionSubscribed || subs["private-user.5"] != realtime.SubscriptionSubscribed {
		t.Errorf("subscriptions %v", subs)
	}
	list, err := r.store.List(context.Background(), history.Query{})
	if err != nil || len(list) != 2 {
		t.Fatalf("history has %d entries (%v), want 2", len(list), err)
	}
	if err := svc.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if svc.Running() || svc.State() != realtime.StateDisconnected {
		t.Error("still running after Stop")
	}
	r.sess.HTTPClient().CloseIdleConnections()
	goleak.VerifyNone(t, ignore...)
}

func TestServiceAdminChannels(t *testing.T) {
	r := newServiceRig(t, adminUser())
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	r.p.waitSubscribed(t, "private-system.admin", "private-user.1", "private-App.Models.User.1")
	r.p.publish("private-system.admin", `App\Events\TenantRegistered`, map[string]any{"tenant": map[string]any{"name": "Acme WiFi"}})
	e := waitEntry(t, r.entries)
	if e.Channel != "private-system.admin" || e.Event != "TenantRegistered" {
		t.Errorf("entry %+v", e)
	}
	r.b.mu.Lock()
	calls := append([]string(nil), r.b.authCalls...)
	r.b.mu.Unlock()
	if len(calls) != 3 || !slices.Contains(calls, "private-App.Models.User.1") {
		t.Errorf("auth calls %v, want the two private channels and the notification channel", calls)
	}
}

func TestServiceExpiresWhenAuthSays401(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	ignore := []goleak.Option{goleak.IgnoreCurrent(),
		// The history store's own pruning timer lives as long as the store.
		goleak.IgnoreTopFunction("echotray/history.(*Store).pruneLoop.func1")}
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	r.b.revokeAll()
	r.p.dropAll() // the reconnect re-authorises private-user.5: 401
	select {
	case err := <-r.expired:
		if !errors.Is(err, ErrSessionExpired) {
			t.Errorf("OnExpired(%v)", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no expiry within 15 s")
	}
	if svc.Running() || r.sess.SignedIn() {
		t.Error("service or session still active after expiry")
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("expired token still in the keyring: %v", err)
	}
	if err := svc.Stop(); err != nil {
		t.Fatal(err)
	}
	r.sess.HTTPClient().CloseIdleConnections()
	goleak.VerifyNone(t, ignore...)
}

func TestServicePeriodicCheckExpires(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	svc := r.service(ServiceOptions{CheckInterval: 20 * time.Millisecond})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	r.b.revokeAll()
	select {
	case <-r.expired:
	case <-time.After(10 * time.Second):
		t.Fatal("the /api/user check did not end the session")
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("expired token still in the keyring: %v", err)
	}
}

// An event about the user's own account (the backend may have revoked the
// token with it) makes the service check the session at once instead of at
// the next periodic check.
func TestServiceChecksSessionAfterAccountEvent(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	svc := r.service(ServiceOptions{CheckInterval: time.Hour})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	userCalls := func() int {
		r.b.mu.Lock()
		defer r.b.mu.Unlock()
		return r.b.userCalls
	}
	before := userCalls()

	// Still valid: checked, and the session goes on.
	r.p.publish("private-user.5", "PasswordChanged", map[string]any{"message": "Your password was changed."})
	waitEntry(t, r.entries)
	deadline := time.Now().Add(10 * time.Second)
	for userCalls() == before {
		if time.Now().After(deadline) {
			t.Fatal("no session check after PasswordChanged")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !svc.Running() || !r.sess.SignedIn() {
		t.Fatal("a valid session ended after PasswordChanged")
	}

	// Revoked with the suspension: the session ends now, not in an hour.
	r.b.revokeAll()
	r.p.publish("private-user.5", `App\Events\AccountSuspended`, map[string]any{"reason": "Unpaid invoice"})
	select {
	case err := <-r.expired:
		if !errors.Is(err, ErrSessionExpired) {
			t.Errorf("expired with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("AccountSuspended with a revoked token did not end the session")
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("expired token still in the keyring: %v", err)
	}
}

func TestServiceMuteAndReconnect(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	svc.SetPrefs(notify.Prefs{Muted: map[string]bool{"UserUpdated": true}})
	r.p.publish("tenant.7", "UserUpdated", map[string]any{"user": map[string]any{"name": "Muted"}})
	waitEntry(t, r.entries)
	// The server drops us (a Soketi restart): events flow again after the
	// automatic reconnect.
	r.p.dropAll()
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	r.p.publish("tenant.7", "PaymentCompleted", map[string]any{"amount": 500, "currency": "KES"})
	e := waitEntry(t, r.entries)
	if e.Event != "PaymentCompleted" {
		t.Errorf("entry %+v", e)
	}
	// The muted event was stored but never shown: the first notification
	// is the payment.
	if m := r.notifier.wait(t); m.EntryID != e.ID {
		t.Errorf("first notification is for entry %d (%q), want the payment %d", m.EntryID, m.Title, e.ID)
	}
	n, _ := r.store.Count(context.Background(), history.Query{})
	if n != 2 {
		t.Errorf("history has %d entries, want 2 (muted ones are kept)", n)
	}
}

func TestServiceSendTest(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	svc := r.service(ServiceOptions{})
	e, err := svc.SendTest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := r.notifier.wait(t)
	if m.Title != "Test Notification" || m.Body != "Desktop notifications work." || m.EntryID != e.ID {
		t.Errorf("test notification %+v, entry %+v", m, e)
	}
}

func TestServiceStartRejectsBadUser(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	svc := r.service(ServiceOptions{})
	if err := svc.Start(User{}); err == nil {
		t.Fatal("started for a user without id")
	}
	if err := NewService(ServiceOptions{}).Start(r.user); err == nil {
		t.Fatal("started without session and store")
	}
}

func TestServiceSignOutReconnectApplyConfig(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	r.p.waitSubscribed(t, "tenant.7", "private-user.5", "private-App.Models.User.5")
	if u, ok := svc.User(); !ok || u.ID != "5" {
		t.Errorf("User() = %+v %v", u, ok)
	}

	svc.Reconnect()
	r.p.waitSubscribed(t, "tenant.7", "private-user.5", "private-App.Models.User.5")

	// Preferences only: applied live, same connection.
	cfg := r.env.cfg.Effective()
	cfg.Notifications.Muted = []string{"UserCreated"}
	if err := svc.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-r.p.subs:
		t.Fatalf("a preference change resubscribed %s", c)
	default:
	}
	r.p.publish("tenant.7", "UserCreated", map[string]any{"user": map[string]any{"name": "Quiet"}})
	waitEntry(t, r.entries)

	// A catalog override needs a new Center: the service restarts.
	cfg.Notifications.Overrides = map[string]notify.Override{"PaymentCompleted": {Title: "Money in: {amount}"}}
	if err := svc.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	r.p.publish("tenant.7", "PaymentCompleted", map[string]any{"amount": 500})
	if e := waitEntry(t, r.entries); e.Title != "Money in: 500" {
		t.Errorf("override not applied: %+v", e)
	}
	if m := r.notifier.wait(t); m.Title != "Money in: 500" {
		t.Errorf("first notification %+v (the muted UserCreated must not show)", m)
	}

	if err := svc.SignOut(context.Background()); err != nil {
		t.Fatal(err)
	}
	if svc.Running() || r.sess.SignedIn() || r.b.tokenCount() != 0 {
		t.Errorf("after SignOut: running %v signed in %v server tokens %d", svc.Running(), r.sess.SignedIn(), r.b.tokenCount())
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Error("token still in keyring after SignOut")
	}
}

func TestServiceReportsEventsWhenHistoryFails(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	_ = r.store.Close() // the history breaks
	r.p.publish("tenant.7", `App\Events\PaymentFailed`, map[string]any{"amount": 20, "reason": "insufficient funds"})
	e := waitEntry(t, r.entries)
	if e.Event != "PaymentFailed" || e.Channel != "tenant.7" || e.Type != notify.TypeError || e.ID != 0 {
		t.Errorf("entry %+v", e)
	}
	if m := r.notifier.wait(t); m.Title != e.Title {
		t.Errorf("notification %+v", m)
	}
	if !strings.Contains(r.env.logBuf.String(), "event not stored") {
		t.Error("the failure is not logged")
	}
}

func TestNeedsRestart(t *testing.T) {
	a := DefaultConfig()
	b := a.clone()
	b.Notifications.Muted = []string{"X"}
	b.Notifications.FloodLimit = 9
	if needsRestart(a, b) {
		t.Error("preferences alone need no restart")
	}
	for name, change := range map[string]func(*Config){
		"port":      func(c *Config) { c.Pusher.Port = 7000 },
		"namespace": func(c *Config) { c.Namespace = "Other" },
		"auth path": func(c *Config) { c.Paths.Auth = "/api/broadcasting/auth" },
		"server":    func(c *Config) { c.Server = "https://x" },
		"override":  func(c *Config) { c.Notifications.Overrides = map[string]notify.Override{"A": {Title: "t"}} },
	} {
		c := a.clone()
		change(&c)
		if !needsRestart(a, c) {
			t.Errorf("%s change does not restart", name)
		}
	}
}
