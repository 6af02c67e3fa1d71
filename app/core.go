package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"echotray/app/ipc"
	"echotray/notify"
	"echotray/realtime"
	"echotray/tray"
)

// Timing of the core's background work.
const (
	// trayTick is how often the tray tooltip's countdown and the end of a
	// pause are brought up to date.
	trayTick = time.Second
	// actionTimeout bounds sign-out, the test notification and the expiry
	// notification.
	actionTimeout = 20 * time.Second
	// respawnMin and respawnMax bound the wait before the window process is
	// started again when it ended while it is the only way in (no tray host).
	respawnMin = time.Second
	respawnMax = 30 * time.Second
	// offlineNotice is how long the connection must be down before one
	// desktop notification says so (and one more when it is back).
	offlineNotice = 2 * time.Minute
	// caughtUpShown is the most caught-up entries sent to the window one
	// by one; it reloads its list for a larger catch-up.
	caughtUpShown = 100
	// addedCoalesce is the period over which new entries for the window
	// process are gathered once one has just been sent; addedBatch is the
	// most sent one by one per period: beyond it the window reloads its
	// list instead (a 1,000-event burst would otherwise fill the peer's
	// send queue and cut the window off).
	addedCoalesce = 100 * time.Millisecond
	addedBatch    = 50
)

// Windows the window process shows.
const (
	WindowHistory  = "history"
	WindowSignIn   = "signin"
	WindowSettings = "settings"
	// WindowSignOut asks the window process to ask whether to sign out and
	// whether to also remove the account's history from this computer.
	WindowSignOut = "signout"
)

// Keys of the history window's banner lines, in display order.
var bannerOrder = []string{"tray", "config", "connection", "delivery"}

// Phase is where the session stands; the core has exactly one, changed only
// by setPhase.
type Phase int

// The session phases.
const (
	// PhaseRestoring: reading the stored token and asking the server who it
	// belongs to (retrying while the server cannot be reached).
	PhaseRestoring Phase = iota
	// PhaseSignedOut: nobody is signed in; the sign-in window is the way in.
	PhaseSignedOut
	// PhaseExpired: the server ended the session; sign in again.
	PhaseExpired
	// PhaseSignedIn: a user is signed in and the service runs; the
	// connection state refines it.
	PhaseSignedIn
	// PhaseUnstarted: signed in, but the connection could not be set up
	// (unusable settings); Reconnect now or saved settings try again.
	PhaseUnstarted
)

// String names the phase for logs.
func (p Phase) String() string {
	switch p {
	case PhaseRestoring:
		return "restoring"
	case PhaseSignedOut:
		return "signed-out"
	case PhaseExpired:
		return "expired"
	case PhaseSignedIn:
		return "signed-in"
	case PhaseUnstarted:
		return "unstarted"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// TrayHost is the desktop's tray as the core drives it (tray.Host, or a
// fake in tests). Its methods are called from the core's loop goroutine.
type TrayHost interface {
	SetIcon(png []byte)
	SetTooltip(text string)
	SetMenu(items []tray.Item)
	SetOnLeftClick(fn func())
}

// coreService is what the core uses of *Service.
type coreService interface {
	Start(u User) error
	Stop() error
	SignOut(ctx context.Context) error
	Reconnect()
	SendTest(ctx context.Context) (notify.Entry, error)
	SetPrefs(p notify.Prefs)
	ApplyConfig(cfg Config) error
	Running() bool
	// MarkReadRemote marks history entries read on the server (read
	// sync); it must not block on the network.
	MarkReadRemote(ctx context.Context, ids []int64) error
}

// coreSession is what the core uses of *Session.
type coreSession interface {
	RestoreRetrying(ctx context.Context, wake <-chan struct{}, onRetry func(err error, next time.Time)) (User, error)
	KeyringAvailable() error
	AdoptSessionOnly(token string)
	SessionOnly() bool
}

// unreadCounter counts the unread history entries (the history store).
type unreadCounter interface {
	UnreadCount(ctx context.Context) (int, error)
}

// historyAccounts is the history store's per-account part, used when the
// store has it: the core shows the signed-in account's entries and removes
// them on a sign-out that asks to.
type historyAccounts interface {
	SetAccount(account string)
	DeleteAccount(ctx context.Context, account string) (int, error)
}

// WindowRequest is what the core asks the window process to show.
type WindowRequest struct {
	Window string // WindowHistory, WindowSignIn or WindowSettings
	Entry  int64  // history entry to select; 0 for none
	Notice string // sign-in window notice
}

// Spawner starts the window process showing req. The core learns that the
// process ended from the returned channel (closed at exit).
type Spawner func(req WindowRequest) (exited <-chan struct{}, err error)

// CoreDeps are the core's collaborators; RunCore passes the real ones and
// tests pass fakes.
type CoreDeps struct {
	Config    *ConfigStore
	ConfigErr error
	Logger    *slog.Logger
	Session   coreSession
	// NewService makes the service, given the core's hooks.
	NewService func(Hooks) coreService
	Unread     unreadCounter
	Notifier   notify.Notifier // session-expired and "back online" notices; nil for none
	Tray       TrayHost        // nil where there is none
	Spawn      Spawner
	AppName    string
	IconPath   string
	Hidden     bool // start without a window (autostart)
	// TrayPresent is whether a tray host shows the icon at start.
	TrayPresent bool
	// Tick is the tray refresh period; 0 disables the ticker (tests call
	// Tick themselves).
	Tick time.Duration
	Now  func() time.Time
	// StateDir holds the catch-up state and read-sync queue ("" means the
	// cache directory).
	StateDir string
	// Quit ends the process's main loop (the tray host's); called once,
	// from the loop, after everything stopped.
	Quit func()
}

// Core is the long-lived tray process: it owns the session state, the
// service (connection, notifications, history writer), the tray icon and
// menu, and the window process it starts on demand. All of its state is
// owned by one goroutine (the loop); everything else — service hooks, tray
// clicks, window-process messages, timers — posts a function to it.
type Core struct {
	deps CoreDeps
	log  *slog.Logger
	svc  coreService

	inbox chan func()
	stop  chan struct{} // closed when the loop ends
	ended chan struct{}
	once  sync.Once
	bg    sync.WaitGroup // workers: restore, sign-out, counts, …
	// bgActive counts the running workers (tests poll it: waiting on bg
	// while the loop may start another would race).
	bgActive atomic.Int32
	watch    sync.WaitGroup // waiters: the ticker, window-process exits, respawn timers
	// restoring counts restore goroutines that have not posted their result.
	restoring atomic.Int32

	ctx    context.Context // ends at quit
	cancel context.CancelFunc

	// Loop-owned state.
	phase       Phase
	user        User
	conn        tray.State // connection state while signed in or restoring
	nextAttempt time.Time
	pausedUntil time.Time
	unread      int
	trayPresent bool
	banners     map[string]string
	keyringDown bool
	sessionOnly bool
	server      string // the server the running session signed in to
	account     string // the history account of the signed-in (or last) user
	// Status: when the connection went up or down (since), why it is down
	// (reason, plain words), the channels and how each stands.
	since         time.Time
	sinceUp       int // 1 up, -1 down, 0 neither (signed out, expired)
	reason        string
	chanSpecs     []ChannelSpec
	chanStates    map[string]ipc.ChannelState
	offlineNotice bool // the "offline" desktop notification was sent
	quitting      bool
	showOnReady   bool // show the history window once the session is known
	// restore: the running restore attempts (cancel ends them), and its
	// wake-up channel for "Reconnect now".
	restoreCancel context.CancelFunc
	restoreWake   chan struct{}
	restoreGen    int
	// Window process.
	windows      []*ipc.Peer
	spawned      bool            // a window process was started and has not ended
	pending      []WindowRequest // shown once it connects
	respawnDelay time.Duration
	lastState    ipc.State
	stateSent    bool
	// New entries for the window process, coalesced during a burst.
	addedPending []notify.Entry
	addedOpen    bool // a coalescing period runs; entries wait for its flush
	// Tray applied (to change only what changed).
	lastIcon    string
	lastTooltip string
	lastModel   tray.Model
	menuSet     bool
}

// NewCore returns a core that is not running yet; call Run.
func NewCore(d CoreDeps) *Core {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AppName == "" {
		d.AppName = "EchoTray"
	}
	if d.Quit == nil {
		d.Quit = func() {}
	}
	c := &Core{
		deps:        d,
		log:         d.Logger.With("component", "core"),
		inbox:       make(chan func(), 256),
		stop:        make(chan struct{}),
		ended:       make(chan struct{}),
		banners:     map[string]string{},
		chanStates:  map[string]ipc.ChannelState{},
		trayPresent: d.TrayPresent,
		conn:        tray.Connecting,
		pausedUntil: d.Config.Effective().Notifications.PausedUntil,
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.svc = d.NewService(c.hooks())
	if t := d.Tray; t != nil {
		// Before the tray host runs: the host decides at start whether a
		// left click opens the menu or comes to us.
		t.SetOnLeftClick(func() { c.Post(func() { c.showWindow(WindowRequest{Window: WindowHistory}) }) })
	}
	if d.ConfigErr != nil {
		c.banners["config"] = configProblem(d.ConfigErr)
	}
	if a, ok := d.Unread.(interface{ Account() string }); ok {
		c.account = a.Account() // the last account (OpenHistory) until someone signs in
	}
	return c
}

// Run starts the loop and the session restore; it returns at once. The
// core ends at Quit (menu, window process) or Shutdown.
func (c *Core) Run() {
	go c.loop()
	c.Post(c.start)
}

// Post runs f on the core's loop, in order. After the loop ended it is
// dropped.
func (c *Core) Post(f func()) {
	select {
	case <-c.stop:
		return
	default:
	}
	select {
	case c.inbox <- f:
	case <-c.stop:
	}
}

// Done is closed when the core has stopped everything.
func (c *Core) Done() <-chan struct{} { return c.ended }

func (c *Core) loop() {
	for {
		select {
		case f := <-c.inbox:
			f()
		case <-c.stop:
			return
		}
	}
}

// goBG runs f on a worker goroutine that quitting waits for.
func (c *Core) goBG(f func()) {
	c.bg.Add(1)
	c.bgActive.Add(1)
	go func() {
		defer c.bg.Done()
		defer c.bgActive.Add(-1)
		f()
	}()
}

// goWatch runs f, which waits for something or for the end of c.ctx, on a
// goroutine that quitting waits for.
func (c *Core) goWatch(f func()) {
	c.watch.Add(1)
	go func() {
		defer c.watch.Done()
		f()
	}()
}

// start sets up the tray and begins restoring the session.
func (c *Core) start() {
	c.updateTrayBanner()
	switch {
	case !c.trayPresent:
		c.showWindow(WindowRequest{Window: WindowHistory}) // the only way in
	case !c.deps.Hidden:
		c.showOnReady = true
	}
	c.restore()
	c.refresh()
	if c.deps.Tick > 0 {
		c.goWatch(c.ticker)
	}
	if c.deps.Unread != nil {
		c.recountUnread()
	}
}

// ticker keeps the countdown in the tooltip and the end of a pause current.
func (c *Core) ticker() {
	t := time.NewTicker(c.deps.Tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.Post(c.Tick)
		case <-c.ctx.Done():
			return
		}
	}
}

// Tick brings time-dependent displays up to date (on the loop).
func (c *Core) Tick() { c.refresh() }

// setPhase is the one transition function of the session state: every
// phase change goes through it, with its side effects on the service, the
// windows and the tray.
func (c *Core) setPhase(next Phase, u User, notice string) {
	prev := c.phase
	c.phase = next
	c.log.Info("session", "from", prev.String(), "to", next.String())
	switch next {
	case PhaseRestoring:
		c.conn, c.nextAttempt = tray.Connecting, time.Time{}
	case PhaseSignedOut, PhaseExpired:
		c.user, c.server = User{}, ""
		c.conn, c.nextAttempt = tray.SignedOut, time.Time{}
		c.reason, c.chanSpecs, c.chanStates = "", nil, map[string]ipc.ChannelState{}
		if next == PhaseExpired {
			c.conn = tray.Expired
		}
		c.setBanner("connection", "")
		c.showWindow(WindowRequest{Window: WindowSignIn, Notice: notice})
	case PhaseSignedIn:
		c.user = u
		cfg := c.deps.Config.Effective()
		c.server = normalizedServer(cfg.Server)
		c.setAccount(AccountOf(c.server, u))
		c.conn, c.nextAttempt, c.reason = tray.Connecting, time.Time{}, ""
		c.chanSpecs, c.chanStates = ServiceChannels(u, cfg), map[string]ipc.ChannelState{}
		c.setBanner("connection", "")
		if err := c.svc.Start(u); err != nil {
			c.log.Error("cannot start the connection", "err", err)
			c.setPhase(PhaseUnstarted, u, "")
			c.reason = SetupProblem(err)
			c.setBanner("connection", "Cannot connect: "+c.reason+" Check the connection settings.")
			c.refresh()
			return
		}
		c.sessionOnly = c.deps.Session.SessionOnly()
		if c.showOnReady {
			c.showOnReady = false
			c.showWindow(WindowRequest{Window: WindowHistory})
		}
	case PhaseUnstarted:
		c.user = u
		c.conn, c.nextAttempt = tray.Offline, time.Time{}
	}
	c.refresh()
}

// restore (re)starts the restore attempts of the stored session.
func (c *Core) restore() {
	c.endRestore()
	c.setPhase(PhaseRestoring, User{}, "")
	ctx, cancel := context.WithCancel(c.ctx)
	c.restoreGen++
	gen := c.restoreGen
	wake := make(chan struct{}, 1)
	c.restoreCancel, c.restoreWake = cancel, wake
	// post runs f on the loop unless these attempts were ended meanwhile.
	post := func(f func()) {
		c.Post(func() {
			if gen == c.restoreGen && ctx.Err() == nil {
				f()
			}
		})
	}
	c.restoring.Add(1)
	c.goWatch(func() {
		defer c.restoring.Add(-1) // after posting the result (tests wait on it)
		u, err := c.deps.Session.RestoreRetrying(ctx, wake, func(err error, next time.Time) {
			c.log.Warn("cannot restore the session; retrying", "err", err, "at", next)
			post(func() {
				c.conn, c.nextAttempt = tray.Offline, next
				c.reason = Sentence(err.Error())
				c.setBanner("connection", "Cannot reach the server: "+c.reason+" EchoTray keeps trying.")
				c.refresh()
				c.showHistoryOnReady()
			})
		})
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrNotSignedIn) {
			c.probeKeyring()
		}
		post(func() { c.restored(u, err) })
	})
}

// restored handles the end of the restore attempts.
func (c *Core) restored(u User, err error) {
	c.restoreCancel, c.restoreWake = nil, nil
	switch {
	case err == nil:
		c.setPhase(PhaseSignedIn, u, "")
	case errors.Is(err, ErrNotSignedIn):
		c.showOnReady = false
		c.setPhase(PhaseSignedOut, User{}, "")
	case errors.Is(err, ErrSessionExpired):
		c.showOnReady = false
		c.setPhase(PhaseExpired, User{}, ErrSessionExpired.Error())
	case errors.Is(err, ErrKeyringUnavailable):
		c.log.Warn("cannot read the token", "err", err)
		c.keyringDown = true
		c.showOnReady = false
		c.setPhase(PhaseSignedOut, User{}, "")
	default:
		// Not retryable by waiting (e.g. a misconfigured server): say so;
		// Reconnect now or new settings try again.
		c.log.Error("cannot restore the session", "err", err)
		c.conn, c.nextAttempt = tray.Offline, time.Time{}
		c.reason = Sentence(err.Error())
		c.setBanner("connection", "Cannot sign in with the saved session: "+c.reason+
			" Check the server address in the settings, then use Reconnect now.")
		c.refresh()
		c.showHistoryOnReady()
	}
}

// showHistoryOnReady shows the history window the first time the session
// is known (or cannot be yet) on a normal start.
func (c *Core) showHistoryOnReady() {
	if c.showOnReady {
		c.showOnReady = false
		c.showWindow(WindowRequest{Window: WindowHistory})
	}
}

// probeKeyring checks the keyring (on a worker) so the sign-in window can
// offer the session-only sign-in at once.
func (c *Core) probeKeyring() {
	if err := c.deps.Session.KeyringAvailable(); err != nil {
		c.log.Warn("keyring unavailable", "err", err)
		c.Post(func() {
			c.keyringDown = true
			c.refresh()
		})
	}
}

// endRestore ends running restore attempts: a sign-out or a new sign-in
// replaces the session they are about.
func (c *Core) endRestore() {
	if c.restoreCancel != nil {
		c.restoreCancel()
		c.restoreCancel, c.restoreWake = nil, nil
	}
	c.restoreGen++
}

// hooks are the service callbacks: each posts its work to the loop.
func (c *Core) hooks() Hooks {
	return Hooks{
		OnState: func(sc realtime.StateChange) { c.Post(func() { c.onState(sc) }) },
		OnEntry: func(e notify.Entry, stored bool) {
			if stored {
				c.Post(func() { c.onStored(e) })
			}
		},
		OnExpired:       func(error) { c.Post(c.onExpired) },
		OnDeliveryError: func(err error) { c.Post(func() { c.onDeliveryError(err) }) },
		OnSubscription:  func(sc realtime.SubscriptionChange) { c.Post(func() { c.onSubscription(sc) }) },
		OnCaughtUp:      func(es []notify.Entry) { c.Post(func() { c.onCaughtUp(es) }) },
	}
}

// onState shows a connection state change.
func (c *Core) onState(sc realtime.StateChange) {
	if c.phase != PhaseSignedIn {
		return // late news from a stopped connection
	}
	switch sc.Current {
	case realtime.StateInitialized, realtime.StateConnecting:
		c.conn = tray.Connecting
	case realtime.StateConnected:
		c.conn, c.nextAttempt, c.reason = tray.Connected, time.Time{}, ""
		c.setBanner("connection", "")
	case realtime.StateUnavailable:
		c.conn, c.nextAttempt = tray.Offline, sc.NextAttempt
		c.reason = ConnectionReason(sc.Err)
	case realtime.StateFailed:
		if errors.Is(sc.Err, realtime.ErrUnauthorized) {
			return // the service reports the expiry through OnExpired
		}
		c.conn, c.nextAttempt = tray.Offline, time.Time{}
		c.reason = ConnectionReason(sc.Err)
		if sc.Err == nil {
			c.reason = "The notification server refused the connection."
		}
		c.setBanner("connection", "The notification server refused the connection: "+c.reason+
			" Check the connection settings, then use Reconnect now.")
	default: // StateDisconnected: we asked for it; a new state follows
		return
	}
	c.refresh()
}

// onStored counts a new history entry and tells the windows.
func (c *Core) onStored(e notify.Entry) {
	if !e.Read {
		c.unread++
	}
	c.entryAdded(e)
	c.refresh()
}

// entryAdded tells the window processes about a new entry: at once when
// none was sent in the last addedCoalesce, else at the end of the period,
// one by one for up to addedBatch entries and as one reload for more.
func (c *Core) entryAdded(e notify.Entry) {
	if len(c.windows) == 0 {
		return // a window process reads the store when it connects
	}
	if c.addedOpen {
		c.addedPending = append(c.addedPending, e)
		return
	}
	c.broadcast(ipc.Message{Op: ipc.OpEntryAdded, Added: &e})
	c.openAddedPeriod()
}

func (c *Core) openAddedPeriod() {
	c.addedOpen = true
	c.goWatch(func() {
		t := time.NewTimer(addedCoalesce)
		defer t.Stop()
		select {
		case <-t.C:
			c.Post(c.flushAdded)
		case <-c.ctx.Done():
		}
	})
}

// flushAdded ends a coalescing period; a period with entries opens the next.
func (c *Core) flushAdded() {
	c.addedOpen = false
	pending := c.addedPending
	c.addedPending = nil
	defer c.sendState(true) // the unread count held back during the period
	switch {
	case len(pending) == 0:
		return
	case len(pending) > addedBatch:
		c.broadcast(ipc.Message{Op: ipc.OpReload})
	default:
		for i := range pending {
			c.broadcast(ipc.Message{Op: ipc.OpEntryAdded, Added: &pending[i]})
		}
	}
	c.openAddedPeriod()
}

// onExpired handles the end of the session: tray, desktop notification and
// the sign-in window.
func (c *Core) onExpired() {
	if c.phase != PhaseSignedIn && c.phase != PhaseUnstarted {
		return
	}
	c.setPhase(PhaseExpired, User{}, ErrSessionExpired.Error())
	if n := c.deps.Notifier; n != nil {
		msg := notify.Message{
			AppName: c.deps.AppName,
			Title:   c.deps.AppName,
			Body:    ErrSessionExpired.Error(),
			Icon:    c.deps.IconPath,
			Urgency: notify.UrgencyNormal,
		}
		c.goBG(func() {
			ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
			defer cancel()
			if err := n.Notify(ctx, msg); err != nil {
				c.log.Warn("cannot show the session-expired notification", "err", err)
			}
		})
	}
}

func (c *Core) onDeliveryError(err error) {
	if err == nil {
		c.setBanner("delivery", "")
	} else {
		c.setBanner("delivery", "Desktop notifications are not working: "+DeliveryReason(err)+
			" New events are still kept in the history.")
	}
	c.refresh()
}

// OnNotificationClick shows the clicked notification's entry; it may be
// called on any goroutine.
func (c *Core) OnNotificationClick(id int64) {
	c.Post(func() {
		c.showWindow(WindowRequest{Window: WindowHistory, Entry: id})
		c.markReadRemote([]int64{id})
	})
}

// recountUnread asks the history for the unread count (on a worker).
func (c *Core) recountUnread() {
	c.goBG(func() {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		defer cancel()
		n, err := c.deps.Unread.UnreadCount(ctx)
		if err != nil {
			c.log.Warn("cannot count the unread entries", "err", err)
			return
		}
		c.Post(func() {
			c.unread = n
			c.refresh()
		})
	})
}

// status is the tray's view of the core's state.
func (c *Core) status() tray.Status {
	st := tray.Status{Conn: c.conn, User: c.user.Name, NextAttempt: c.nextAttempt, PausedUntil: c.pausedUntil}
	if c.conn == tray.Connected {
		st.Warning = c.warning()
	}
	return st
}

// refresh applies the state to the tray icon, tooltip and menu (changing
// only what changed) and sends it to the windows when it changed.
func (c *Core) refresh() {
	now := c.deps.Now()
	c.trackSince(now)
	st := c.status()
	if t := c.deps.Tray; t != nil {
		if key := fmt.Sprintf("%s/%t", st.Shown(now), c.unread > 0); key != c.lastIcon {
			t.SetIcon(tray.IconPNG(st.Shown(now), c.unread))
			c.lastIcon = key
		}
		if m := tray.NewModel(st, c.unread, now); !c.menuSet || m != c.lastModel {
			t.SetMenu(tray.Items(m, c.actions()))
			c.lastModel, c.menuSet = m, true
		}
		if tip := tray.Tooltip(st, c.unread, now); tip != c.lastTooltip {
			t.SetTooltip(tip)
			c.lastTooltip = tip
		}
	}
	c.sendState(false)
}

// sendState sends the window processes the state if it changed. During a
// burst (an entry coalescing period) a change of the unread count alone
// waits for the period's end, unless flush is set.
func (c *Core) sendState(flush bool) {
	s := c.ipcState()
	if c.stateSent && sameState(s, c.lastState) {
		return
	}
	if !flush && c.addedOpen && c.stateSent {
		u := s
		u.Unread = c.lastState.Unread
		if sameState(u, c.lastState) {
			return // only the count moved: flushAdded sends it
		}
	}
	c.lastState, c.stateSent = s, true
	c.broadcast(ipc.Message{Op: ipc.OpState, State: &s})
}

// ipcState is the state as the window process is told it.
func (c *Core) ipcState() ipc.State {
	var banners []string
	for _, k := range bannerOrder {
		if t := c.banners[k]; t != "" {
			banners = append(banners, t)
		}
	}
	s := ipc.State{
		Conn:        c.conn.String(),
		User:        c.user.Name,
		NextAttempt: c.nextAttempt,
		PausedUntil: c.pausedUntil,
		Unread:      c.unread,
		TrayPresent: c.trayPresent,
		Banners:     banners,
		KeyringDown: c.keyringDown,
		SessionOnly: c.sessionOnly,
		Account:     c.account,
		Since:       c.since,
		Channels:    c.channelList(),
	}
	if c.conn == tray.Offline {
		s.Reason = c.reason
	}
	if c.conn == tray.Connected {
		s.Warning = c.warning()
	}
	return s
}

func sameState(a, b ipc.State) bool {
	return a.Conn == b.Conn && a.User == b.User && a.NextAttempt.Equal(b.NextAttempt) &&
		a.PausedUntil.Equal(b.PausedUntil) && a.Unread == b.Unread && a.TrayPresent == b.TrayPresent &&
		slices.Equal(a.Banners, b.Banners) && a.KeyringDown == b.KeyringDown && a.SessionOnly == b.SessionOnly &&
		a.Account == b.Account && a.Since.Equal(b.Since) && a.Reason == b.Reason && a.Warning == b.Warning &&
		slices.Equal(a.Channels, b.Channels)
}

// actions are the tray menu's callbacks; the tray host runs them on its
// own goroutine, so each posts to the loop.
func (c *Core) actions() tray.Actions {
	post := func(f func()) func() { return func() { c.Post(f) } }
	return tray.Actions{
		OpenHistory: post(func() { c.showWindow(WindowRequest{Window: WindowHistory}) }),
		SignIn:      post(func() { c.showWindow(WindowRequest{Window: WindowSignIn}) }),
		Pause:       post(func() { c.setPause(c.deps.Now().Add(time.Hour)) }),
		Resume:      post(func() { c.setPause(time.Time{}) }),
		Settings:    post(func() { c.showWindow(WindowRequest{Window: WindowSettings}) }),
		Reconnect:   post(c.reconnect),
		SendTest:    post(c.sendTest),
		SignOut:     post(c.askSignOut),
		Quit:        post(c.quit),
	}
}

// setPause saves and applies a do-not-disturb end (zero: resume).
func (c *Core) setPause(until time.Time) {
	if err := c.deps.Config.Update(func(cf *Config) { cf.Notifications.PausedUntil = until }); err != nil {
		c.log.Error("cannot save the pause", "err", err)
		c.setBanner("config", "The pause could not be saved (the settings file cannot be written); it lasts until EchoTray quits.")
	}
	cfg := c.deps.Config.Effective()
	c.svc.SetPrefs(cfg.Prefs())
	c.pausedUntil = cfg.Notifications.PausedUntil
	c.refresh()
}

// reconnect: Reconnect now.
func (c *Core) reconnect() {
	switch {
	case c.phase == PhaseUnstarted:
		c.setPhase(PhaseSignedIn, c.user, "")
	case c.phase == PhaseSignedIn:
		c.goBG(c.svc.Reconnect)
	case c.restoreWake != nil:
		select {
		case c.restoreWake <- struct{}{}:
		default:
		}
	case c.phase == PhaseRestoring:
		c.restore() // the last attempt ended with an error that waiting does not fix
	}
}

func (c *Core) sendTest() {
	c.goBG(func() {
		ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
		defer cancel()
		if _, err := c.svc.SendTest(ctx); err != nil {
			c.log.Warn("test notification failed", "err", err)
			c.Post(func() {
				c.setBanner("delivery", "The test notification could not be shown: "+DeliveryReason(err))
				c.refresh()
				c.showWindow(WindowRequest{Window: WindowHistory})
			})
		}
	})
}

// signOut signs out and opens the sign-in window with notice; purge also
// removes the account's history from this computer (after the sign-out).
func (c *Core) signOut(notice string, purge bool) {
	c.endRestore()
	svc := c.svc
	account := c.account
	c.setPhase(PhaseSignedOut, User{}, notice)
	accounts, _ := c.deps.Unread.(historyAccounts)
	if purge && account != "" && accounts != nil {
		// Nothing of the account stays on view.
		c.setAccount("")
	}
	c.goBG(func() {
		ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
		defer cancel()
		if err := svc.SignOut(ctx); err != nil {
			c.log.Warn("sign-out", "err", err) // the token is gone locally either way
		}
		if !purge || account == "" {
			return
		}
		if accounts == nil {
			c.log.Warn("the history cannot remove an account's entries")
			return
		}
		n, err := accounts.DeleteAccount(ctx, account)
		if err != nil {
			c.log.Error("cannot remove the account's history", "err", err)
			c.Post(func() {
				c.setBanner("config", "This account's history could not be removed from this computer (the history file could not be changed). To try again, sign in and sign out with that option once more.")
				c.refresh()
			})
			return
		}
		c.log.Info("removed the account's history", "account", account, "entries", n)
		if err := ForgetAccountState(c.deps.StateDir, account); err != nil {
			c.log.Warn("cannot remove the account's catch-up state", "err", err)
		}
		if c.deps.Unread != nil {
			c.recountUnread()
		}
	})
}

// signedIn: the window process signed in (the token is in the keyring, or
// given here for a session-only sign-in). The core reads the session anew.
func (c *Core) signedIn(token string) {
	if _, err := c.deps.Config.Reload(); err != nil {
		c.log.Warn("cannot re-read the settings after the sign-in", "err", err)
	}
	c.endRestore()
	c.goBG(func() {
		if err := c.svc.Stop(); err != nil {
			c.log.Warn("stopping the old session", "err", err)
		}
		c.Post(func() {
			if token != "" {
				c.deps.Session.AdoptSessionOnly(token)
			}
			c.showOnReady = true
			c.restore()
		})
	})
}

// settingsSaved re-reads the settings the window process saved and puts
// them into effect.
func (c *Core) settingsSaved() {
	if _, err := c.deps.Config.Reload(); err != nil {
		c.log.Error("cannot re-read the saved settings", "err", err)
		c.setBanner("config", "The saved settings could not be read: "+Sentence(err.Error()))
		c.refresh()
		return
	}
	c.setBanner("config", "")
	cfg := c.deps.Config.Effective()
	c.pausedUntil = cfg.Notifications.PausedUntil
	c.refresh()
	if s := normalizedServer(cfg.Server); (c.phase == PhaseSignedIn || c.phase == PhaseUnstarted) && c.server != "" && s != c.server {
		// The token is the old server's: sign out there, sign in here.
		c.signOut(fmt.Sprintf("The server is now %s: sign in to it.", s), false)
		return
	}
	switch c.phase {
	case PhaseUnstarted:
		c.svc.SetPrefs(cfg.Prefs())
		c.setPhase(PhaseSignedIn, c.user, "") // the new settings may work
	case PhaseSignedIn:
		c.goBG(func() {
			if err := c.svc.ApplyConfig(cfg); err != nil {
				c.log.Error("cannot apply the settings", "err", err)
				c.Post(func() {
					c.setBanner("connection", "The new settings could not be applied: "+SetupProblem(err))
					c.refresh()
				})
			}
		})
	default:
		c.svc.SetPrefs(cfg.Prefs())
		if c.phase == PhaseRestoring {
			// Try with the new settings now: the last attempt failed for
			// good, or the next one is waiting.
			c.reconnect()
		}
	}
}

// SetTrayPresent follows the tray host appearing or going away (on any
// goroutine). Without one the history window must stay open.
func (c *Core) SetTrayPresent(present bool) {
	c.Post(func() {
		if c.trayPresent == present {
			return
		}
		c.trayPresent = present
		c.updateTrayBanner()
		c.refresh()
		if !present {
			c.showWindow(WindowRequest{Window: WindowHistory})
		}
	})
}

func (c *Core) updateTrayBanner() {
	if c.trayPresent {
		c.setBanner("tray", "")
	} else {
		c.setBanner("tray", NoTrayBanner)
	}
}

// setBanner sets one line of the history window's banner ("" removes it);
// refresh sends it.
func (c *Core) setBanner(key, text string) {
	if text == "" {
		delete(c.banners, key)
	} else {
		c.banners[key] = text
	}
}

// Banners returns a copy of the banner lines by key ("tray", "config",
// "connection", "delivery"); tests read it.
func (c *Core) Banners() map[string]string { return maps.Clone(c.banners) }

// showWindow asks the window process to show a window, starting it if
// none runs; it reports whether the request was sent or queued.
func (c *Core) showWindow(req WindowRequest) bool {
	if c.quitting {
		return false
	}
	if n := len(c.windows); n > 0 {
		c.sendShow(c.windows[n-1], req)
		return true
	}
	if c.spawned {
		c.pending = append(c.pending, req) // shown once it connects
		return true
	}
	return c.spawn(req)
}

func (c *Core) sendShow(p *ipc.Peer, req WindowRequest) {
	m := ipc.Message{Op: ipc.OpShow, Window: req.Window, Entry: req.Entry, Notice: req.Notice}
	if err := p.Send(m); err != nil {
		c.log.Warn("cannot ask the window process to show a window", "window", req.Window, "err", err)
	}
}

// askSignOut is the tray's Sign out: the window process asks first,
// offering to also remove this account's history from this computer (its
// answer comes back as sign-out). Where no window process can be had, it
// signs out at once and keeps the history.
func (c *Core) askSignOut() {
	if c.phase != PhaseSignedIn && c.phase != PhaseUnstarted && c.phase != PhaseRestoring {
		return
	}
	if !c.showWindow(WindowRequest{Window: WindowSignOut}) && !c.quitting {
		c.signOut("", false)
	}
}

// spawn starts the window process showing req and reports whether it did.
func (c *Core) spawn(req WindowRequest) bool {
	if c.deps.Spawn == nil {
		c.log.Warn("no window process can be started", "window", req.Window)
		return false
	}
	exited, err := c.deps.Spawn(req)
	if err != nil {
		c.log.Error("cannot start the window process", "err", err)
		return false
	}
	c.log.Info("window process started", "window", req.Window)
	c.spawned = true
	c.goWatch(func() {
		select {
		case <-exited:
			c.Post(c.windowProcessEnded)
		case <-c.ctx.Done():
		}
	})
	return true
}

// windowProcessEnded: the window process we started has exited.
func (c *Core) windowProcessEnded() {
	c.spawned = false
	c.pending = nil
	if c.quitting {
		return
	}
	c.log.Info("window process ended")
	if c.trayPresent {
		c.respawnDelay = 0
		return
	}
	// No tray host: the window is the only way in. Start it again, slower
	// each time it keeps ending (a crash loop must not spin).
	c.respawnDelay = min(max(2*c.respawnDelay, respawnMin), respawnMax)
	delay := c.respawnDelay
	c.log.Warn("the window process ended while it is the only way in; starting it again", "in", delay)
	c.goWatch(func() {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			c.Post(func() {
				if !c.trayPresent && len(c.windows) == 0 && !c.spawned {
					c.showWindow(WindowRequest{Window: WindowHistory})
				}
			})
		case <-c.ctx.Done():
		}
	})
}

// PeerConnected is the ipc server's OnConnect (any goroutine).
func (c *Core) PeerConnected(p *ipc.Peer) {
	if p.Role != ipc.RoleWindow {
		return
	}
	c.Post(func() {
		c.windows = append(c.windows, p)
		s := c.ipcState()
		if err := p.Send(ipc.Message{Op: ipc.OpState, State: &s}); err != nil {
			c.log.Warn("cannot send the state to the window process", "err", err)
		}
		for _, req := range c.pending {
			c.sendShow(p, req)
		}
		c.pending = nil
	})
}

// PeerDisconnected is the ipc server's OnDisconnect (any goroutine).
func (c *Core) PeerDisconnected(p *ipc.Peer) {
	c.Post(func() {
		c.windows = slices.DeleteFunc(c.windows, func(w *ipc.Peer) bool { return w == p })
	})
}

// PeerMessage is the ipc server's OnMessage (any goroutine): a request
// from the window process or a second launch.
func (c *Core) PeerMessage(p *ipc.Peer, m ipc.Message) {
	c.Post(func() { c.handle(p, m) })
}

func (c *Core) handle(p *ipc.Peer, m ipc.Message) {
	c.log.Debug("request", "op", m.Op, "role", p.Role, "pid", p.PID)
	switch m.Op {
	case ipc.OpShow:
		w := m.Window
		switch w {
		case WindowHistory, WindowSignIn, WindowSettings:
		case "":
			w = WindowHistory
		default:
			c.log.Warn("request to show an unknown window", "window", w)
			return
		}
		c.showWindow(WindowRequest{Window: w, Entry: m.Entry, Notice: m.Notice})
	case ipc.OpSignedIn:
		c.signedIn(m.Token)
	case ipc.OpSettingsSaved:
		c.settingsSaved()
	case ipc.OpPause:
		until := m.Until
		if until.IsZero() {
			until = notify.PausedForever
		}
		c.setPause(until)
	case ipc.OpResume:
		c.setPause(time.Time{})
	case ipc.OpReconnect:
		c.reconnect()
	case ipc.OpSignOut:
		if c.phase == PhaseSignedIn || c.phase == PhaseUnstarted || c.phase == PhaseRestoring {
			c.signOut("", m.Purge)
		}
	case ipc.OpSendTest:
		c.sendTest()
	case ipc.OpHistoryChanged:
		if c.deps.Unread != nil {
			c.recountUnread()
		}
		c.markReadRemote(m.IDs)
	case ipc.OpQuit:
		c.quit()
	default:
		c.log.Warn("request not understood", "op", m.Op)
	}
}

// broadcast sends m to every window process.
func (c *Core) broadcast(m ipc.Message) {
	for _, p := range c.windows {
		if err := p.Send(m); err != nil {
			c.log.Debug("cannot send to a window process", "op", m.Op, "err", err)
		}
	}
}

// quit stops the service and everything else, then ends the process's
// main loop.
func (c *Core) quit() {
	if c.quitting {
		return
	}
	c.quitting = true
	c.log.Info("quitting")
	c.endRestore()
	c.cancel()
	svc := c.svc
	go func() {
		if err := svc.Stop(); err != nil {
			c.log.Warn("stopping the service", "err", err)
		}
		c.bg.Wait()
		c.watch.Wait()
		c.once.Do(func() { close(c.stop) })
		c.deps.Quit()
		close(c.ended)
	}()
}

// Quit stops the core from outside the loop (a signal); it returns at once.
func (c *Core) Quit() { c.Post(c.quit) }

// configProblem words what OpenConfig reported for the banner: a corrupt
// file means the defaults are in use until the settings are saved; an
// invalid ECHOTRAY_* variable is ignored and must be fixed where it is set.
func configProblem(err error) string {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var parts []string
	for _, e := range errs {
		var ce *ConfigError
		if errors.As(e, &ce) && ce.Path == "" {
			parts = append(parts, Sentence(strings.ReplaceAll(e.Error(), "\n", "; "))+
				" Such a variable is ignored; correct or unset it, then restart EchoTray.")
			continue
		}
		parts = append(parts, Sentence(e.Error())+" The default settings are in use until you save the settings.")
	}
	return strings.Join(parts, " ")
}

// normalizedServer is the server URL as the API uses it, so that
// "https://x/" and "https://x" are one server; an invalid URL is compared as
// written.
func normalizedServer(server string) string {
	if s, err := NormalizeServer(server); err == nil {
		return s
	}
	return server
}
