package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"echotray/app/catchup"
	"echotray/history"
	"echotray/notify"
	"echotray/realtime"
)

// DefaultCheckInterval is how often a running service asks /api/user
// whether the token is still good.
const DefaultCheckInterval = 5 * time.Minute

// TestEvent is the event name of SendTest's local notification.
const TestEvent = "TestNotification"

// Hooks are the service's callbacks. They run on service goroutines
// (mostly the realtime dispatcher), one at a time, never under a lock; a
// GUI wraps its widget work in fyne.Do. A hook must not call Stop, Start or
// SignOut synchronously (hand it to another goroutine, as fyne.Do does).
// Any hook may be nil.
type Hooks struct {
	// OnState receives every connection state change, with NextAttempt
	// set while waiting to reconnect.
	OnState func(realtime.StateChange)
	// OnEntry receives every handled event after the history saw it;
	// stored is true for a newly inserted entry (with its ID) and false for
	// a duplicate or an event whose storing failed, so nothing goes unseen.
	OnEntry func(e notify.Entry, stored bool)
	// OnSubscription receives every subscription status change.
	OnSubscription func(realtime.SubscriptionChange)
	// OnDeliveryError receives the error when desktop notifications start
	// failing, and nil when they work again (not every failure).
	OnDeliveryError func(error)
	// OnExpired is called once the session is over (the server answered
	// 401): the service is already stopped and the token deleted. err
	// matches ErrSessionExpired.
	OnExpired func(err error)
	// OnCaughtUp receives the entries a catch-up stored (oldest first,
	// with their IDs), once per catch-up, from the catch-up worker; they
	// are not passed to OnEntry.
	OnCaughtUp func(entries []notify.Entry)
}

// ServiceOptions configures NewService.
type ServiceOptions struct {
	Session  *Session        // required
	Store    *history.Store  // required: the history
	Notifier notify.Notifier // desktop notifications; nil shows none. The caller owns (and closes) it
	AppName  string          // shown by the notification server; "" means "EchoTray"
	AppID    string          // application ID: Linux desktop-entry hint, Windows toast AppUserModelID
	Icon     string          // icon file for notifications; "" means none
	Logger   *slog.Logger    // nil means discard
	Hooks    Hooks
	// CheckInterval is the period of the /api/user session check while
	// running; 0 means DefaultCheckInterval, negative disables it.
	CheckInterval time.Duration
	// Dial replaces the WebSocket TCP dialer (tests); nil means the default.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// StateDir holds the catch-up state and the read-sync queue; "" means
	// the cache directory.
	StateDir string
	// Now is the clock of gap times; nil means time.Now.
	Now func() time.Time
}

// Service joins the realtime connection and the notification pipeline for
// the signed-in user: every event on the user's channels is stored in the
// history and shown on the desktop. It is safe for concurrent use.
type Service struct {
	opts ServiceOptions
	log  *slog.Logger

	mu      sync.Mutex
	run     *running     // nil when stopped
	prefs   notify.Prefs // preferences for the next Center
	prefSet bool         // prefs was set by SetPrefs

	bg       sync.WaitGroup // expiry goroutines
	expiring atomic.Bool
}

// running is one Start..Stop cycle.
type running struct {
	user   User
	cfg    Config
	client *realtime.Client
	center *notify.Center
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the session check loop
	gen    uint64         // the session's token generation this run serves
	soon   chan struct{}  // asks the check loop for a check in accountCheckDelay

	account  string        // the history account (AccountOf)
	channels []ChannelSpec // what is subscribed
	// Catch-up and read sync (nil when the notification channel is off).
	notifChannel string
	catchup      *catchup.Runner
	syncer       *catchup.Syncer
	catchReqs    chan catchReq
	catchOff     bool         // the server has no list route (catch-up worker only)
	lostAt       time.Time    // when the live connection was lost (dispatcher only)
	beat         atomic.Int64 // wall clock of the last heartbeat, Unix ns
}

// accountEvents are the events on the user's own channel after which the
// backend may have revoked the token (Laravel apps commonly delete a user's
// tokens when the password changes or the account is suspended or deleted),
// so the session is checked soon instead of at the next periodic check.
var accountEvents = map[string]bool{"PasswordChanged": true, "AccountSuspended": true, "UserDeleted": true}

// accountCheckDelay leaves the backend a moment to finish revoking tokens
// after it broadcast the event.
const accountCheckDelay = 2 * time.Second

// NewService returns a stopped service.
func NewService(opts ServiceOptions) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AppName == "" {
		opts.AppName = "EchoTray"
	}
	if opts.CheckInterval == 0 {
		opts.CheckInterval = DefaultCheckInterval
	}
	return &Service{opts: opts, log: opts.Logger.With("component", "service")}
}

// newCenter is the one place a notification pipeline is configured.
func (s *Service) newCenter(catalog *notify.Catalog, prefs notify.Prefs) *notify.Center {
	return notify.NewCenter(notify.CenterConfig{
		Store:           s.opts.Store,
		Catalog:         catalog,
		Notifier:        s.opts.Notifier,
		Prefs:           prefs,
		AppName:         s.opts.AppName,
		Icon:            s.opts.Icon,
		Logger:          s.opts.Logger,
		OnDeliveryError: s.opts.Hooks.OnDeliveryError,
	})
}

// Start connects for u and subscribes the channels of u's role. It does not
// wait for the connection; watch OnState. Starting a running service is a
// no-op.
func (s *Service) Start(u User) error {
	if s.opts.Session == nil || s.opts.Store == nil {
		return errors.New("service: Session and Store are required")
	}
	return s.start(u, s.opts.Session.Config().Effective())
}

// start is Start with the given settings.
func (s *Service) start(u User, cfg Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		return nil
	}
	if err := u.validate(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	prefs := cfg.Prefs()
	if s.prefSet {
		prefs = s.prefs
	}
	r := &running{user: u, cfg: cfg, gen: s.opts.Session.Generation(),
		soon: make(chan struct{}, 1), channels: ServiceChannels(u, cfg),
		account: AccountOf(s.opts.Session.Server(), u)}
	// Entries from now on belong to this account; the history shows only
	// its entries.
	s.opts.Store.SetAccount(r.account)
	s.setupCatchUp(r)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.center = s.newCenter(notify.NewCatalog(cfg.Notifications.Overrides), prefs)
	rc := cfg.Realtime()
	rc.Authorizer = realtime.HTTPAuthorizer{
		Endpoint: joinURL(s.opts.Session.Server(), cfg.Paths.withDefaults().Auth),
		Client:   s.opts.Session.HTTPClient(),
		Header:   s.authHeader,
	}
	rc.Logger = s.opts.Logger.With("component", "realtime")
	rc.NetDialContext = s.opts.Dial
	rc.OnEvent = func(e realtime.Event) { s.onEvent(r, e) }
	rc.OnStateChange = func(sc realtime.StateChange) { s.onState(r, sc) }
	rc.OnSubscription = s.opts.Hooks.OnSubscription
	client, err := realtime.New(rc)
	if err != nil {
		r.cancel()
		_ = r.center.Close()
		return fmt.Errorf("cannot set up the WebSocket connection: %w", err)
	}
	r.client = client
	for _, ch := range r.channels {
		client.Subscribe(ch.Name)
	}
	s.expiring.Store(false)
	s.run = r
	client.Connect()
	if s.opts.CheckInterval > 0 {
		r.wg.Add(1)
		go s.checkLoop(r)
	}
	s.startCatchUp(r)
	s.log.Info("service started", "user", u.ID, "account", r.account, "channels", r.channels,
		"ws", rc.Address(), "catch_up", r.catchup != nil)
	return nil
}

// authHeader gives the channel authorizer the current token; with no token
// the session is over, which the realtime client must treat as a 401.
func (s *Service) authHeader(ctx context.Context) (http.Header, error) {
	h, err := s.opts.Session.Header(ctx)
	if errors.Is(err, ErrNotSignedIn) {
		return nil, fmt.Errorf("%w: %w", realtime.ErrUnauthorized, err)
	}
	return h, err
}

// onEvent runs on the realtime dispatcher: store, notify, report.
func (s *Service) onEvent(r *running, e realtime.Event) {
	// The Center shortens the wire name (notify.ShortName: one rule for
	// every stored and shown name, whatever the namespace).
	in := notify.Incoming{Channel: e.Channel, Event: e.Name, Data: e.Data, Received: e.Received}
	if errors.Is(e.Err, realtime.ErrUndecryptable) {
		// Its content is unknown: record that a message was lost.
		s.log.Warn("event could not be decrypted", "channel", e.Channel, "event", e.Name, "err", e.Err)
		data, _ := json.Marshal(map[string]string{"event": notify.ShortName(e.Name)})
		in.Event, in.Data = notify.EventUndecryptable, data
	}
	entry, stored, err := r.center.Handle(r.ctx, in)
	if err != nil {
		s.log.Error("event not stored", "channel", e.Channel, "event", in.Event, "err", err)
		if entry.Event == "" {
			entry = fallbackEntry(in)
		}
	}
	if h := s.opts.Hooks.OnEntry; h != nil {
		h(entry, stored)
	}
	if accountEvents[notify.ShortName(in.Event)] && e.Channel == "private-user."+r.user.ID {
		select {
		case r.soon <- struct{}{}:
		default: // a check is already due
		}
	}
}

// fallbackEntry renders an event the history could not store, so it is
// still reported.
func fallbackEntry(in notify.Incoming) notify.Entry {
	n := notify.NewCatalog(nil).Render(in.Event, in.Data)
	t := in.Received
	if t.IsZero() {
		t = time.Now()
	}
	return notify.Entry{Time: t, Channel: in.Channel, Event: notify.ShortName(in.Event), Type: n.Type,
		Title: n.Title, Message: n.Message, Data: in.Data}
}

// onState runs on the realtime dispatcher.
func (s *Service) onState(r *running, sc realtime.StateChange) {
	s.log.Info("connection state", "from", sc.Previous.String(), "to", sc.Current.String(), "err", sc.Err)
	s.trackGap(r, sc)
	if h := s.opts.Hooks.OnState; h != nil {
		h(sc)
	}
	if sc.Current == realtime.StateFailed && errors.Is(sc.Err, realtime.ErrUnauthorized) {
		// Stopping waits for this very goroutine; do it from another one.
		s.expireAsync(r, sc.Err)
	}
}

// checkLoop asks /api/user periodically, and soon after an event about
// the user's own account; a 401 ends the session.
func (s *Service) checkLoop(r *running) {
	defer r.wg.Done()
	t := time.NewTicker(s.opts.CheckInterval)
	defer t.Stop()
	var soon <-chan time.Time
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.soon:
			if soon == nil {
				soon = time.After(accountCheckDelay)
			}
			continue
		case <-soon:
			soon = nil
			s.log.Info("checking the session after an event about the account")
		case <-t.C:
		}
		_, err := s.opts.Session.Check(r.ctx)
		switch {
		case errors.Is(err, ErrSessionExpired), errors.Is(err, ErrNotSignedIn):
			s.expireAsync(r, err)
			return
		case err != nil && r.ctx.Err() == nil:
			s.log.Warn("session check failed; will retry", "err", err)
		}
	}
}

// expireAsync ends the session once, from a goroutine of its own.
func (s *Service) expireAsync(r *running, cause error) {
	if !s.expiring.CompareAndSwap(false, true) {
		return
	}
	s.bg.Add(1)
	go func() {
		s.log.Warn("session expired", "cause", cause)
		s.stopRun(r)
		s.opts.Session.ExpireGeneration(r.gen)
		s.bg.Done()
		if h := s.opts.Hooks.OnExpired; h != nil {
			h(ErrSessionExpired)
		}
	}()
}

// Stop disconnects and stops the notification pipeline, waiting for every
// goroutine the service started. Stopping a stopped service is a no-op.
func (s *Service) Stop() error {
	s.mu.Lock()
	r := s.run
	s.mu.Unlock()
	err := s.stopRun(r)
	s.bg.Wait()
	return err
}

// stopRun stops r if it is still the current run.
func (s *Service) stopRun(r *running) error {
	if r == nil {
		return nil
	}
	s.mu.Lock()
	if s.run != r {
		s.mu.Unlock()
		return nil
	}
	s.run = nil
	s.mu.Unlock()
	// Close the client first: after it returns no handler runs, so the
	// Center sees no more events.
	errClient := r.client.Close()
	r.cancel()
	r.wg.Wait()
	errCenter := r.center.Close()
	s.log.Info("service stopped")
	return errors.Join(errClient, errCenter)
}

// SignOut stops the service and signs out (see Session.Logout).
func (s *Service) SignOut(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		s.log.Warn("stopping before sign-out", "err", err)
	}
	return s.opts.Session.Logout(ctx)
}

// Reconnect drops the connection and connects again at once.
func (s *Service) Reconnect() {
	s.mu.Lock()
	r := s.run
	s.mu.Unlock()
	if r != nil {
		r.client.Reconnect()
	}
}

// SendTest sends a local test notification through a Center of its own
// (no mute, no pause), so the user can check that desktop notifications
// work whether or not the service runs. The test is kept in the history.
func (s *Service) SendTest(ctx context.Context) (notify.Entry, error) {
	if s.opts.Store == nil {
		return notify.Entry{}, errors.New("service: no history store")
	}
	cfg := s.opts.Session.Config().Effective()
	prefs := cfg.Prefs()
	prefs.Muted, prefs.PausedUntil = nil, time.Time{}
	c := s.newCenter(notify.NewCatalog(nil), prefs)
	data, _ := json.Marshal(map[string]string{
		"title":   "EchoTray test notification",
		"message": "Desktop notifications work.",
		"level":   "info",
	})
	entry, stored, err := c.Handle(ctx, notify.Incoming{Channel: "local", Event: TestEvent, Data: data, Received: time.Now()})
	if h := s.opts.Hooks.OnEntry; h != nil && err == nil {
		h(entry, stored)
	}
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return entry, err
}

// SetPrefs changes the notification preferences at once (and for later
// starts). Persisting them is the caller's job (ConfigStore.Update).
func (s *Service) SetPrefs(p notify.Prefs) {
	s.mu.Lock()
	s.prefs, s.prefSet = p, true
	r := s.run
	s.mu.Unlock()
	if r != nil {
		r.center.SetPrefs(p)
	}
}

// ApplyConfig puts cfg (normally ConfigStore.Effective() after an Update)
// into effect: preferences at once; connection, namespace and catalog
// changes by restarting the running service for the same user with cfg.
// Not to be called from a hook.
func (s *Service) ApplyConfig(cfg Config) error {
	s.mu.Lock()
	s.prefs, s.prefSet = cfg.Prefs(), true
	r := s.run
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	if !needsRestart(r.cfg, cfg) {
		r.center.SetPrefs(cfg.Prefs())
		return nil
	}
	if err := s.stopRun(r); err != nil {
		s.log.Warn("stopping for new settings", "err", err)
	}
	return s.start(r.user, cfg)
}

// needsRestart reports whether a settings change needs a new connection or
// catalog.
func needsRestart(old, cfg Config) bool {
	if old.Pusher != cfg.Pusher || old.Namespace != cfg.Namespace || old.Paths != cfg.Paths || old.Server != cfg.Server ||
		old.Notifications.Channel != cfg.Notifications.Channel || !slices.Equal(old.Channels.Extra, cfg.Channels.Extra) {
		return true
	}
	return !maps.Equal(old.Notifications.Overrides, cfg.Notifications.Overrides)
}

// State returns the connection state; StateDisconnected when stopped.
func (s *Service) State() realtime.State {
	s.mu.Lock()
	r := s.run
	s.mu.Unlock()
	if r == nil {
		return realtime.StateDisconnected
	}
	return r.client.State()
}

// Subscriptions returns the wanted channels and their status; nil when
// stopped.
func (s *Service) Subscriptions() map[string]realtime.SubscriptionStatus {
	s.mu.Lock()
	r := s.run
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.client.Subscriptions()
}

// Account returns the history account of the running service ("" when
// stopped).
func (s *Service) Account() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return ""
	}
	return s.run.account
}

// Running reports whether the service is started.
func (s *Service) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run != nil
}

// User returns the user the running service is for.
func (s *Service) User() (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return User{}, false
	}
	return s.run.user, true
}
