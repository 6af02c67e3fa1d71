package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"

	"echotray/assets"
	"echotray/notify"
	"echotray/realtime"
	"echotray/tray"
)

// Timing of the GUI's background work.
const (
	// trayTick is how often the tray tooltip's countdown and the end of a
	// pause are brought up to date.
	trayTick = time.Second
	// restoreRetryMin and restoreRetryMax bound the wait between attempts
	// to restore the session while the server cannot be reached.
	restoreRetryMin = 2 * time.Second
	restoreRetryMax = time.Minute
	// actionTimeout bounds sign-out, the test notification and the expiry
	// notification.
	actionTimeout = 20 * time.Second
)

// Keys of the history window's banner lines, in display order.
var bannerOrder = []string{"tray", "config", "connection", "delivery"}

// GUIOptions is what main.go passes to RunGUI.
type GUIOptions struct {
	Info      BuildInfo    // name and version
	Config    *ConfigStore // never nil; on a corrupt file it holds defaults
	ConfigErr error        // non-nil: the file was corrupt; defaults are in use
	Logger    *slog.Logger // already redacting
	Redactor  *Redactor    // for NewSession
	LogPath   string       // the log file, mentioned in error texts
	Hidden    bool         // start without showing a window (start hidden, or at login)
}

// RunGUI runs the desktop app: the tray icon and menu, the history, sign-in
// and settings windows, and the service behind them. It returns after Quit.
// If EchoTray is already running for this user, it asks that instance to
// show its history window and returns nil at once.
func RunGUI(a fyne.App, opts GUIOptions) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "gui")

	// Single instance: g is set below, before the app runs; the show
	// request is handled on the Fyne thread, so it sees it.
	var g *gui
	var inst *Instance
	if path, err := InstanceSocketPath(); err != nil {
		log.Warn("single instance check unavailable", "err", err)
	} else {
		inst, err = ClaimInstance(path, func() {
			fyne.Do(func() {
				if g != nil {
					g.showHistory()
				}
			})
		}, log)
		switch {
		case errors.Is(err, ErrAlreadyRunning):
			log.Info("EchoTray is already running; asked it to show its window")
			return nil
		case err != nil:
			log.Warn("single instance check failed; running anyway", "err", err)
		}
	}
	if inst != nil {
		defer inst.Close()
	}

	cfg := opts.Config.Effective()
	store, err := OpenHistory(cfg, log)
	if err != nil {
		return fmt.Errorf("open the notification history: %w", err)
	}
	defer store.Close()

	a.SetIcon(assets.AppIcon)
	desk, _ := a.(desktop.App)
	var host trayHost
	if desk != nil {
		host = desktopTray{desk}
	}
	secrets := NewKeyringSecrets(0)
	sess := NewSession(SessionOptions{Config: opts.Config, Secrets: secrets, Logger: opts.Logger, Redactor: opts.Redactor})
	iconPath := notificationIcon(log)
	appName := orDefault(opts.Info.Name, "EchoTray")

	g = newGUI(guiDeps{
		app:       a,
		config:    opts.Config,
		configErr: opts.ConfigErr,
		log:       log,
		session:   sess,
		store:     store,
		tray:      host,
		autostart: osAutostart{exe: os.Executable},
		check:     checkConnection(sess.HTTPClient()),
		hidden:    opts.Hidden,
		appName:   appName,
		iconPath:  iconPath,
		logPath:   opts.LogPath,
		tick:      trayTick,
	})
	notifier := notify.NewDesktopNotifier(appName, opts.Info.ID, iconPath, g.onNotificationClick)
	svc := NewService(ServiceOptions{
		Session:  sess,
		Store:    store,
		Notifier: notifier,
		AppName:  appName,
		AppID:    opts.Info.ID,
		Icon:     iconPath,
		Logger:   opts.Logger,
		Hooks:    g.hooks(),
	})
	g.attach(svc, notifier)

	watch, err := NewTrayWatch(func(present bool) {
		fyne.Do(func() { g.setTrayPresent(present) })
	}, log)
	if err != nil {
		log.Warn("no tray host check", "err", err)
	}
	defer watch.Close()

	g.start(watch.Present())
	a.Lifecycle().SetOnStarted(g.onStarted)
	a.Run()
	g.shutdown()
	return nil
}

// trayHost is the desktop's tray: Fyne's desktop.App plus the tooltip, which
// only fyne.io/systray offers.
type trayHost interface {
	SetMenu(*fyne.Menu)
	SetIcon(fyne.Resource)
	SetTooltip(string)
	// SetWindow makes a left click on the icon show w.
	SetWindow(w fyne.Window)
}

// desktopTray is the real trayHost.
type desktopTray struct{ d desktop.App }

func (t desktopTray) SetMenu(m *fyne.Menu)    { t.d.SetSystemTrayMenu(m) }
func (t desktopTray) SetIcon(r fyne.Resource) { t.d.SetSystemTrayIcon(r) }
func (t desktopTray) SetTooltip(text string)  { systray.SetTooltip(text) }

// SetWindow makes a left click on the icon show w.
func (t desktopTray) SetWindow(w fyne.Window) {
	inner := w
	if tw, ok := w.(*trackedWindow); ok {
		inner = tw.Window // the driver needs its own window type
	}
	t.d.SetSystemTrayWindow(inner)
	// Fyne 2.7.1 hands the left click to window.Show straight from the tray's
	// goroutine (the D-Bus handler on Linux). Built with migrated_fynedo,
	// Show then paints off the main thread and the app can crash. Replace the
	// handler with one that goes through fyne.Do.
	systray.SetOnTapped(func() {
		fyne.Do(func() {
			w.Show()
			w.RequestFocus()
		})
	})
}

// trackedWindow is a window that knows whether it is shown (Fyne's windows
// don't say).
type trackedWindow struct {
	fyne.Window
	shown bool
}

func (w *trackedWindow) Show() {
	w.shown = true
	w.Window.Show()
}

func (w *trackedWindow) Hide() {
	w.shown = false
	w.Window.Hide()
}

// guiService is what the GUI uses of *Service.
type guiService interface {
	Start(u User) error
	Stop() error
	SignOut(ctx context.Context) error
	Reconnect()
	SendTest(ctx context.Context) (notify.Entry, error)
	SetPrefs(p notify.Prefs)
	ApplyConfig(cfg Config) error
	Running() bool
}

// guiSession is what the GUI uses of *Session.
type guiSession interface {
	Restore(ctx context.Context) (User, error)
	Login(ctx context.Context, req LoginRequest) (User, error)
	KeyringAvailable() error
}

// guiDeps are the GUI's collaborators; tests pass fakes.
type guiDeps struct {
	app       fyne.App
	config    *ConfigStore
	configErr error
	log       *slog.Logger
	session   guiSession
	store     *notify.Store
	tray      trayHost // nil where the driver has no tray
	autostart autostarter
	check     connectionChecker
	history   HistoryViewOptions // Logger is filled in
	hidden    bool
	appName   string
	iconPath  string
	logPath   string
	// tick is the tray refresh period; 0 disables the ticker (tests call
	// tick themselves).
	tick time.Duration
	now  func() time.Time
	// runOnUI is fyne.Do; tests queue and run the calls themselves.
	runOnUI func(func())
	// quit ends the app (a.Quit); tests record it.
	quit func()
}

// gui is the running desktop app. Its fields below "Fyne thread" are only
// touched on the Fyne thread; service hooks and workers reach them through
// do (fyne.Do).
type gui struct {
	deps     guiDeps
	log      *slog.Logger
	service  guiService
	notifier notify.Notifier

	ctx    context.Context // cancelled at quit: stops restore attempts
	cancel context.CancelFunc
	bg     sync.WaitGroup // worker goroutines
	closed atomic.Bool    // shutting down: late UI work is dropped
	retry  chan struct{}  // "Reconnect now" while restoring the session
	// stopRestore ends the restore attempts: a sign-out or a new sign-in
	// replaces the session they are about.
	stopRestore context.CancelFunc

	// Fyne thread.
	history    *HistoryView
	historyWin *trackedWindow
	login      *loginWindow
	settings   *settingsWindow

	status      tray.Status
	unread      int
	trayPresent bool
	trayStarted bool // the app runs: the tooltip can be set
	lastModel   tray.Model
	menuSet     bool
	lastIcon    fyne.Resource
	lastTooltip string
	banners     map[string]string
	keyringDown bool // the keyring is known to be unusable
	quitting    bool
	// showOnRestore: show the history window once the session is restored
	// (a normal start, not hidden).
	showOnRestore bool
	// unstarted is the signed-in user whose connection could not be set
	// up (bad settings); Reconnect now and saved settings try again.
	unstarted *User
	// server is the Laravel server the running session signed in to: a
	// token belongs to one server, so saving another one signs out.
	server string
}

// newGUI builds the windows (all hidden) and the tray model; attach and
// start finish the setup.
func newGUI(d guiDeps) *gui {
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.runOnUI == nil {
		d.runOnUI = fyne.Do
	}
	if d.quit == nil {
		d.quit = d.app.Quit
	}
	if d.appName == "" {
		d.appName = "EchoTray"
	}
	g := &gui{deps: d, log: d.log, retry: make(chan struct{}, 1), banners: map[string]string{}}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.stopRestore = func() {}

	cfg := d.config.Effective()
	// Connecting until the stored session is checked: no "not signed in"
	// flash in the tray while the keyring and the server answer.
	g.status = tray.Status{Conn: tray.Connecting, PausedUntil: cfg.Notifications.PausedUntil}

	g.historyWin = &trackedWindow{Window: d.app.NewWindow(d.appName + " — History")}
	hopts := d.history
	if hopts.Logger == nil {
		hopts.Logger = d.log
	}
	g.history = NewHistoryView(d.app, g.historyWin, d.store, hopts)
	g.history.OnUnreadChanged = g.onUnread
	g.unread = g.history.Unread()
	g.historyWin.SetContent(g.history.Content())
	g.historyWin.Resize(fyne.NewSize(1100, 680))
	g.historyWin.CenterOnScreen()
	g.historyWin.SetCloseIntercept(g.onHistoryClose)

	g.login = newLoginWindow(d.app, d.session.Login, g.onSignedIn)
	g.login.win = &trackedWindow{Window: g.login.win}
	g.login.runOnUI = g.do

	g.settings = newSettingsWindow(d.app, settingsDeps{
		config:    d.config,
		events:    notify.NewCatalog(cfg.Notifications.Overrides).Known(),
		check:     d.check,
		autostart: d.autostart,
		apply:     g.applyConfig,
		now:       d.now,
		runOnUI:   g.do,
		logPath:   d.logPath,
	})
	g.settings.win = &trackedWindow{Window: g.settings.win}

	if d.configErr != nil {
		g.setBanner("config", configProblem(d.configErr))
	}
	return g
}

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
			parts = append(parts, sentence(strings.ReplaceAll(e.Error(), "\n", "; "))+
				" Such a variable is ignored; correct or unset it, then restart EchoTray.")
			continue
		}
		parts = append(parts, sentence(e.Error())+" The default settings are in use until you save the settings.")
	}
	return strings.Join(parts, " ")
}

// attach connects the service (created with g.hooks) and the notifier.
func (g *gui) attach(svc guiService, n notify.Notifier) {
	g.service, g.notifier = svc, n
}

// hooks are the service callbacks: each hands its work to the Fyne thread.
func (g *gui) hooks() Hooks {
	return Hooks{
		OnState:         func(sc realtime.StateChange) { g.do(func() { g.onState(sc) }) },
		OnStored:        func(e notify.Entry) { g.do(func() { g.history.Added(e) }) },
		OnExpired:       func(err error) { g.do(g.onExpired) },
		OnDeliveryError: func(err error) { g.do(func() { g.onDeliveryError(err) }) },
		OnClick:         g.onNotificationClick,
	}
}

// do runs f on the Fyne thread, unless the app is shutting down.
func (g *gui) do(f func()) {
	if g.closed.Load() {
		return
	}
	g.deps.runOnUI(func() {
		if !g.closed.Load() {
			f()
		}
	})
}

// goBG runs f on a worker goroutine that shutdown waits for.
func (g *gui) goBG(f func()) {
	g.bg.Add(1)
	go func() {
		defer g.bg.Done()
		f()
	}()
}

// start sets up the tray, decides which window to show and restores the
// session in the background. It runs before the app loop.
func (g *gui) start(trayPresent bool) {
	g.trayPresent = trayPresent
	if host := g.deps.tray; host != nil {
		g.refreshTray()
		host.SetWindow(g.historyWin)
		// SetSystemTrayWindow installs Hide as the close intercept; ours
		// also handles the no-tray case.
		g.historyWin.SetCloseIntercept(g.onHistoryClose)
	}
	g.updateTrayBanner()
	switch {
	case !g.trayPresent:
		g.showHistory() // the only way in; start hidden cannot apply
	case !g.deps.hidden:
		// Shown once the session is restored; if a sign-in is needed, the
		// sign-in window comes alone.
		g.showOnRestore = true
	}
	ctx, cancel := context.WithCancel(g.ctx)
	g.stopRestore = cancel
	g.goBG(func() { g.restore(ctx) })
	if g.deps.tick > 0 {
		g.goBG(g.ticker)
	}
}

// onStarted runs when the app loop has started: the tray exists now, so the
// tooltip can be set.
func (g *gui) onStarted() {
	g.trayStarted = true
	g.lastTooltip = ""
	g.refreshTray()
}

// ticker keeps the countdown in the tooltip and the end of a pause current.
func (g *gui) ticker() {
	t := time.NewTicker(g.deps.tick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			g.do(g.refreshTray)
		case <-g.ctx.Done():
			return
		}
	}
}

// restore signs in with the stored token, retrying while the server cannot
// be reached (the tray says when the next attempt is).
func (g *gui) restore(ctx context.Context) {
	// do runs f on the Fyne thread unless the attempts were ended meanwhile.
	do := func(f func()) {
		g.do(func() {
			if ctx.Err() == nil {
				f()
			}
		})
	}
	wait := restoreRetryMin
	for {
		u, err := g.deps.session.Restore(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil:
			do(func() {
				g.startService(u)
				g.showHistoryOnRestore()
			})
			return
		case errors.Is(err, ErrNotSignedIn):
			do(func() { g.showSignIn("") })
			g.probeKeyring()
			return
		case errors.Is(err, ErrSessionExpired):
			do(func() {
				g.status.Conn = tray.Expired
				g.refreshTray()
				g.showSignIn(ErrSessionExpired.Error())
			})
			return
		case errors.Is(err, ErrKeyringUnavailable):
			g.log.Warn("cannot read the token", "err", err)
			do(func() {
				g.keyringDown = true
				g.login.keyringUnavailable()
				g.showSignIn("")
			})
			return
		}
		next := g.deps.now().Add(wait)
		g.log.Warn("cannot restore the session; retrying", "err", err, "in", wait)
		do(func() {
			g.status.Conn, g.status.NextAttempt = tray.Offline, next
			g.setBanner("connection", "Cannot reach the server: "+sentence(err.Error())+" EchoTray keeps trying.")
			g.refreshTray()
			g.showHistoryOnRestore()
		})
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-g.retry:
			timer.Stop()
		case <-ctx.Done():
			timer.Stop()
			return
		}
		wait = min(2*wait, restoreRetryMax)
	}
}

// showHistoryOnRestore shows the history window the first time the session
// is restored (or cannot be yet) on a normal start.
func (g *gui) showHistoryOnRestore() {
	if g.showOnRestore {
		g.showOnRestore = false
		g.showHistory()
	}
}

// probeKeyring checks the keyring in the background and offers the
// session-only sign-in at once if it is unusable.
func (g *gui) probeKeyring() {
	if err := g.deps.session.KeyringAvailable(); err != nil {
		g.log.Warn("keyring unavailable", "err", err)
		g.do(func() {
			g.keyringDown = true
			g.login.keyringUnavailable()
		})
	}
}

// startService connects for u; on the Fyne thread.
func (g *gui) startService(u User) {
	g.unstarted = nil
	g.server = normalizedServer(g.deps.config.Effective().Server)
	g.status = tray.Status{Conn: tray.Connecting, User: u.Name, PausedUntil: g.deps.config.Effective().Notifications.PausedUntil}
	g.setBanner("connection", "")
	g.refreshTray()
	g.goBG(func() {
		if err := g.service.Start(u); err != nil {
			g.log.Error("cannot start the connection", "err", err)
			g.do(func() {
				if !g.status.Conn.SignedIn() {
					return // signed out or expired meanwhile
				}
				g.unstarted = &u
				g.status.Conn, g.status.NextAttempt = tray.Offline, time.Time{}
				g.setBanner("connection", "Cannot connect: "+sentence(err.Error())+" Check the connection settings.")
				g.refreshTray()
			})
		}
	})
}

// onSignedIn runs after the sign-in window signed in.
func (g *gui) onSignedIn(u User) {
	g.stopRestore()
	g.startService(u)
	if !g.deps.hidden || !g.trayPresent {
		g.showHistory()
	}
}

// onState shows a connection state change.
func (g *gui) onState(sc realtime.StateChange) {
	if !g.status.Conn.SignedIn() {
		return // late news from a stopped connection
	}
	switch sc.Current {
	case realtime.StateInitialized, realtime.StateConnecting:
		g.status.Conn = tray.Connecting
	case realtime.StateConnected:
		g.status.Conn, g.status.NextAttempt = tray.Connected, time.Time{}
		g.setBanner("connection", "")
	case realtime.StateUnavailable:
		g.status.Conn, g.status.NextAttempt = tray.Offline, sc.NextAttempt
	case realtime.StateFailed:
		if errors.Is(sc.Err, realtime.ErrUnauthorized) {
			return // the service reports the expiry through OnExpired
		}
		g.status.Conn, g.status.NextAttempt = tray.Offline, time.Time{}
		reason := "the server refused the connection"
		if sc.Err != nil {
			reason = sc.Err.Error()
		}
		g.setBanner("connection", "The WebSocket server refused the connection: "+sentence(reason)+
			" Check the connection settings, then use Reconnect now.")
	default: // StateDisconnected: we asked for it; a new state follows
		return
	}
	g.refreshTray()
}

// onExpired handles the end of the session: tray, desktop notification and
// the sign-in window.
func (g *gui) onExpired() {
	g.unstarted = nil
	g.status.Conn, g.status.NextAttempt = tray.Expired, time.Time{}
	g.refreshTray()
	g.showSignIn(ErrSessionExpired.Error())
	if n := g.notifier; n != nil {
		msg := notify.Message{
			AppName: g.deps.appName,
			Title:   g.deps.appName,
			Body:    ErrSessionExpired.Error(),
			Icon:    g.deps.iconPath,
			Urgency: notify.UrgencyNormal,
		}
		g.goBG(func() {
			ctx, cancel := context.WithTimeout(g.ctx, actionTimeout)
			defer cancel()
			if err := n.Notify(ctx, msg); err != nil {
				g.log.Warn("cannot show the session-expired notification", "err", err)
			}
		})
	}
}

func (g *gui) onDeliveryError(err error) {
	if err == nil {
		g.setBanner("delivery", "")
		return
	}
	g.setBanner("delivery", "Desktop notifications are not working: "+sentence(err.Error())+
		" New events are still kept here.")
}

// onNotificationClick shows the clicked notification's entry; it may be
// called on any goroutine.
func (g *gui) onNotificationClick(id int64) {
	g.do(func() {
		g.showHistory()
		if id > 0 {
			g.history.Select(id)
		}
	})
}

func (g *gui) onUnread(n int) {
	g.unread = n
	title := g.deps.appName + " — History"
	if n > 0 {
		title += fmt.Sprintf(" (%d unread)", n)
	}
	g.historyWin.SetTitle(title)
	g.refreshTray()
}

// refreshTray applies the status to the tray icon, tooltip and menu,
// changing only what changed (a new menu rebuilds the D-Bus menu).
func (g *gui) refreshTray() {
	host := g.deps.tray
	if host == nil {
		return
	}
	now := g.deps.now()
	if icon := tray.Icon(g.status.Shown(now), g.unread); icon != g.lastIcon {
		host.SetIcon(icon)
		g.lastIcon = icon
	}
	if m := tray.NewModel(g.status, g.unread, now); !g.menuSet || m != g.lastModel {
		host.SetMenu(tray.Menu(m, g.actions()))
		g.lastModel, g.menuSet = m, true
		g.windowMenu(m)
	}
	if tip := tray.Tooltip(g.status, g.unread, now); g.trayStarted && tip != g.lastTooltip {
		host.SetTooltip(tip)
		g.lastTooltip = tip
	}
}

// windowMenu gives the history window the tray menu while no tray host
// shows it: otherwise Settings, Sign out or Pause would be out of reach.
func (g *gui) windowMenu(m tray.Model) {
	if g.trayPresent {
		if g.historyWin.MainMenu() != nil {
			g.historyWin.SetMainMenu(nil)
		}
		return
	}
	g.historyWin.SetMainMenu(fyne.NewMainMenu(tray.Menu(m, g.actions())))
}

// actions are the tray menu's callbacks (run on the Fyne thread).
func (g *gui) actions() tray.Actions {
	return tray.Actions{
		OpenHistory: g.showHistory,
		SignIn:      func() { g.showSignIn("") },
		Pause:       func() { g.setPause(g.deps.now().Add(time.Hour)) },
		Resume:      func() { g.setPause(time.Time{}) },
		Settings:    g.showSettings,
		Reconnect:   g.reconnect,
		SendTest:    g.sendTest,
		SignOut:     g.signOut,
		Quit:        g.quit,
	}
}

// setPause saves and applies a do-not-disturb end (zero: resume).
func (g *gui) setPause(until time.Time) {
	if err := g.deps.config.Update(func(c *Config) { c.Notifications.PausedUntil = until }); err != nil {
		g.log.Error("cannot save the pause", "err", err)
		g.showHistory()
		g.setBanner("config", "The pause could not be saved: "+sentence(err.Error()))
	}
	cfg := g.deps.config.Effective()
	if g.service != nil {
		g.service.SetPrefs(cfg.Prefs())
	}
	g.status.PausedUntil = cfg.Notifications.PausedUntil
	g.refreshTray()
}

func (g *gui) reconnect() {
	if u := g.unstarted; u != nil {
		g.startService(*u)
		return
	}
	if g.service != nil && g.service.Running() {
		g.goBG(g.service.Reconnect)
		return
	}
	select {
	case g.retry <- struct{}{}:
	default:
	}
}

func (g *gui) sendTest() {
	g.goBG(func() {
		ctx, cancel := context.WithTimeout(g.ctx, actionTimeout)
		defer cancel()
		if _, err := g.service.SendTest(ctx); err != nil {
			g.log.Warn("test notification failed", "err", err)
			g.do(func() {
				g.showHistory()
				dialog.ShowError(fmt.Errorf("the test notification failed: %w", err), g.historyWin)
			})
		}
	})
}

func (g *gui) signOut() { g.signOutWith("") }

// signOutWith signs out and opens the sign-in window with notice.
func (g *gui) signOutWith(notice string) {
	g.stopRestore()
	g.unstarted = nil
	g.status = tray.Status{Conn: tray.SignedOut, PausedUntil: g.status.PausedUntil}
	g.setBanner("connection", "")
	g.refreshTray()
	g.goBG(func() {
		ctx, cancel := context.WithTimeout(g.ctx, actionTimeout)
		defer cancel()
		if err := g.service.SignOut(ctx); err != nil {
			g.log.Warn("sign-out", "err", err) // the token is gone locally either way
		}
		g.do(func() { g.showSignIn(notice) })
	})
}

// quit stops the service, then the app.
func (g *gui) quit() {
	if g.quitting {
		return
	}
	g.quitting = true
	g.historyWin.Hide()
	g.login.hide()
	g.settings.hide()
	g.cancel()
	g.goBG(func() {
		if g.service != nil {
			if err := g.service.Stop(); err != nil {
				g.log.Warn("stopping the service", "err", err)
			}
		}
		g.deps.runOnUI(g.deps.quit)
	})
}

// shutdown runs after the app loop ended: no UI work from here on.
func (g *gui) shutdown() {
	g.closed.Store(true)
	g.cancel()
	if g.service != nil {
		if err := g.service.Stop(); err != nil {
			g.log.Warn("stopping the service", "err", err)
		}
	}
	g.bg.Wait()
	g.history.Close()
	// The service leaves an injected notifier open: it is ours to close.
	if c, ok := g.notifier.(io.Closer); ok {
		g.notifier = nil
		if err := c.Close(); err != nil {
			g.log.Warn("closing the desktop notifier", "err", err)
		}
	}
}

// applyConfig puts saved settings into effect (from the settings window).
func (g *gui) applyConfig(cfg Config) {
	g.status.PausedUntil = cfg.Notifications.PausedUntil
	g.refreshTray()
	if g.service == nil {
		return
	}
	if s := normalizedServer(cfg.Server); g.status.Conn.SignedIn() && g.server != "" && s != g.server {
		// The token is the old server's: sign out there, sign in here.
		g.signOutWith(fmt.Sprintf("The server is now %s: sign in to it.", s))
		return
	}
	if u := g.unstarted; u != nil {
		g.service.SetPrefs(cfg.Prefs())
		g.startService(*u) // the new settings may work
		return
	}
	g.goBG(func() {
		if err := g.service.ApplyConfig(cfg); err != nil {
			g.log.Error("cannot apply the settings", "err", err)
			g.do(func() {
				g.setBanner("connection", "The new settings could not be applied: "+sentence(err.Error()))
			})
		}
	})
}

// showHistory shows and raises the history window.
func (g *gui) showHistory() {
	if g.quitting {
		return
	}
	g.historyWin.Show()
	g.historyWin.RequestFocus()
}

func (g *gui) showSettings() {
	if g.quitting {
		return
	}
	g.settings.show()
}

// showSignIn opens the sign-in window with notice above the form.
func (g *gui) showSignIn(notice string) {
	if g.quitting {
		return
	}
	if g.status.Conn != tray.Expired {
		g.status.Conn = tray.SignedOut
	}
	g.refreshTray()
	cfg := g.deps.config.Effective()
	g.login.show(cfg.Server, cfg.Email, notice)
}

// onHistoryClose hides the history window; with no tray to bring it back,
// closing it quits instead.
func (g *gui) onHistoryClose() {
	if g.trayPresent {
		g.historyWin.Hide()
		return
	}
	g.quit()
}

// setTrayPresent follows the tray host appearing or going away. Without one
// the history window must stay reachable.
func (g *gui) setTrayPresent(present bool) {
	g.trayPresent = present
	g.updateTrayBanner()
	g.menuSet = false // the menu moves between the tray and the window
	g.refreshTray()
	if !present {
		g.showHistory()
	}
}

func (g *gui) updateTrayBanner() {
	if g.trayPresent {
		g.setBanner("tray", "")
	} else {
		g.setBanner("tray", NoTrayBanner)
	}
}

// setBanner sets one line of the history window's banner ("" removes it).
func (g *gui) setBanner(key, text string) {
	if text == "" {
		delete(g.banners, key)
	} else {
		g.banners[key] = text
	}
	var lines []string
	for _, k := range bannerOrder {
		if t := g.banners[k]; t != "" {
			lines = append(lines, t)
		}
	}
	g.history.SetBanner(strings.Join(lines, "\n"))
}

// notificationIcon writes the app icon to the cache directory for the
// notification server and returns its path ("" if that fails).
func notificationIcon(log *slog.Logger) string {
	dir, err := CacheDir()
	if err != nil {
		log.Warn("no cache directory for the notification icon", "err", err)
		return ""
	}
	path := filepath.Join(dir, "echotray.png")
	data := assets.AppIcon.Content()
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return path
	}
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		log.Warn("cannot write the notification icon", "err", err)
		return ""
	}
	return path
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
