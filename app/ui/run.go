package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
	"echotray/app/ipc"
	"echotray/history"
	"echotray/notify"
	"echotray/tray"
)

// Timing of the window process.
const (
	// dialTimeout bounds connecting to the core.
	dialTimeout = 3 * time.Second
	// defaultIdleExit is how long the process stays without a window shown
	// before it exits.
	defaultIdleExit = 3 * time.Minute
	// outboxSize is how many messages to the core may wait to be sent.
	outboxSize = 64
	// coreGoneGrace is how long the app loop may take to end after the
	// core went away before the process exits anyway (a UI thread stuck
	// behind a busy machine must not keep a window of a dead core).
	coreGoneGrace = 1500 * time.Millisecond
	// menuRefreshMax: a pause ending within this long gets a timer that
	// brings the window menu up to date (Resume → Pause).
	menuRefreshMax = 48 * time.Hour
)

// ErrNotRunning is what Run returns when no core answers at the socket.
// Its text is meant to be printed as it is.
//
//lint:ignore ST1005 The text is shown to the user as a sentence.
var ErrNotRunning = errors.New("EchoTray is not running.")

// Options is what main passes to Run.
type Options struct {
	Info      app.BuildInfo      // name and version
	Config    *app.ConfigStore   // never nil
	ConfigErr error              // what opening the config reported (the core shows it in a banner)
	Logger    *slog.Logger       // already redacting; nil discards
	Redactor  *app.Redactor      // for the sign-in's session
	LogPath   string             // the log file, shown in the settings window
	Socket    string             // the core's socket (app.InstanceSocketPath)
	Show      ipc.Message        // the first window to show: Window "history", "signin" or "settings" (+Entry, Notice); none when Window is ""
	IdleExit  time.Duration      // exit after this long with no window shown (while a tray host exists); 0 means 3 min
	History   HistoryViewOptions // history view tuning; Logger and RunOnUI are set by Run
	// StatePath is the window process's state file (hints shown once); ""
	// means window-state.json next to the settings file.
	StatePath string
}

// Run is the window process: it connects to the core as the "window" role,
// shows the window opts.Show names, and then follows the core's messages
// (state, entry-added, show) until the core goes away (bye, or the
// connection ends), the user quits with no tray host, or no window has
// been shown for IdleExit. Window actions go to the core as messages. It
// runs the Fyne app loop and returns when it ends.
//
// If no core answers at opts.Socket, it returns ErrNotRunning.
func Run(a fyne.App, opts Options) error { return run(a, opts, seams{}) }

// seams are the parts of Run that tests replace; zero fields are the real
// ones.
type seams struct {
	runOnUI   func(func()) // the bridge: fyneDo
	loop      func()       // a.Run
	quit      func()       // a.Quit
	openStore func(app.Config, *slog.Logger) (*history.Store, error)
	// signIn signs in; token is set for a session-only sign-in (the keyring
	// cannot keep it, so the core needs it from us).
	signIn    func(ctx context.Context, req app.LoginRequest) (u app.User, token string, err error)
	check     app.ConnectionChecker
	autostart app.Autostarter
	now       func() time.Time
	// started runs on the Fyne thread once the windows are built (tests).
	started func(c *controller)
	// hardExit ends the process when the app loop did not end within
	// coreGoneGrace after the core went away; os.Exit(0) by default.
	hardExit func()
}

func run(a fyne.App, opts Options, s seams) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "window")
	client, err := ipc.Dial(opts.Socket, ipc.RoleWindow, dialTimeout)
	if err != nil {
		log.Info("no EchoTray core answers", "socket", opts.Socket, "err", err)
		return ErrNotRunning
	}
	if s.runOnUI == nil {
		s.runOnUI = fyneDo
	}
	if s.loop == nil {
		s.loop = a.Run
	}
	if s.quit == nil {
		s.quit = a.Quit
	}
	if s.openStore == nil {
		s.openStore = app.OpenHistory
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.hardExit == nil {
		s.hardExit = func() { os.Exit(0) }
	}
	var sess *app.Session
	if s.signIn == nil || s.check == nil {
		sess = app.NewSession(app.SessionOptions{Config: opts.Config, Secrets: app.NewKeyringSecrets(0),
			Logger: opts.Logger, Redactor: opts.Redactor})
	}
	if s.signIn == nil {
		s.signIn = sessionSignIn(sess)
	}
	if s.check == nil {
		// Signed in, it also checks the personal channel's authorisation.
		s.check = app.CheckConnectionAs(sess.HTTPClient(), sess.Header)
	}
	if s.autostart == nil {
		s.autostart = app.OSAutostart{}
	}

	c := newController(a, opts, s, client, log)
	loopDone := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		for m := range client.Messages() {
			c.do(func() { c.handle(m) })
		}
		if err := client.Err(); err != nil {
			log.Info("the connection to the core ended", "err", err)
		}
		c.do(c.coreGone)
		t := time.NewTimer(coreGoneGrace)
		defer t.Stop()
		select {
		case <-loopDone:
		case <-t.C:
			log.Warn("the windows did not close in time after the core went away; exiting now", "after", coreGoneGrace)
			s.hardExit()
		}
	})
	c.start()
	s.loop()
	close(loopDone)
	c.shutdown()
	client.Close()
	reader.Wait()
	return nil
}

// sessionSignIn signs in with the user's own session: the token lands in the
// keyring, where the core reads it; a session-only token is handed over.
func sessionSignIn(sess *app.Session) func(context.Context, app.LoginRequest) (app.User, string, error) {
	return func(ctx context.Context, req app.LoginRequest) (app.User, string, error) {
		u, err := sess.Login(ctx, req)
		if err != nil || !req.SessionOnly {
			return u, "", err
		}
		h, err := sess.Header(ctx)
		if err != nil {
			return app.User{}, "", err
		}
		return u, strings.TrimPrefix(h.Get("Authorization"), "Bearer "), nil
	}
}

// controller is the window process: the three windows and what connects
// them to the core. Fields below "Fyne thread" are only touched there;
// other goroutines reach it through do.
type controller struct {
	a        fyne.App
	opts     Options
	s        seams
	log      *slog.Logger
	client   *ipc.Client
	appName  string
	idleExit time.Duration

	closed atomic.Bool // quitting: late UI work is dropped
	bg     sync.WaitGroup
	out    chan ipc.Message // to the core, in order (sender goroutine)
	outEnd chan struct{}    // closed at shutdown: the sender sends what is left and ends

	storeMu sync.Mutex
	opened  *history.Store // what the opening goroutine opened, closed at shutdown

	// Fyne thread.
	state        ipc.State
	haveState    bool
	historyWin   *trackedWindow // nil until the history window is first shown
	status       *statusLine    // the history window's status line; nil with it
	store        *history.Store // open, waiting for the first state to know the account
	history      *HistoryView   // nil until the history store is open and the account known
	storeErr     error
	pendingEntry int64 // shown once the history view exists
	login        *loginWindow
	loginWin     *trackedWindow
	settings     *settingsWindow
	settingsWin  *trackedWindow
	lastModel    tray.Model
	menuSet      bool
	menuTimer    *time.Timer
	idleTimer    *time.Timer
	idleGen      int
	quitting     bool
	closeHint    dialog.Dialog // the first close's hint, while shown
	// signOutDialog is the last sign-out question asked (tests).
	signOutDialog dialog.Dialog
}

func newController(a fyne.App, opts Options, s seams, client *ipc.Client, log *slog.Logger) *controller {
	c := &controller{
		a:        a,
		opts:     opts,
		s:        s,
		log:      log,
		client:   client,
		appName:  opts.Info.Name,
		idleExit: opts.IdleExit,
		out:      make(chan ipc.Message, outboxSize),
		outEnd:   make(chan struct{}),
	}
	if c.appName == "" {
		c.appName = "EchoTray"
	}
	if c.idleExit <= 0 {
		c.idleExit = defaultIdleExit
	}
	c.bg.Go(c.sender)
	return c
}

// do runs f on the Fyne thread through the bridge, unless the process is
// quitting.
func (c *controller) do(f func()) {
	if c.closed.Load() {
		return
	}
	c.s.runOnUI(func() {
		if !c.closed.Load() {
			f()
		}
	})
}

// post queues m for the core; from any goroutine, never blocking.
func (c *controller) post(m ipc.Message) {
	select {
	case c.out <- m:
	default:
		c.log.Warn("too many messages for the core waiting; one was dropped", "op", m.Op)
	}
}

// sender writes the queued messages to the core, in order.
func (c *controller) sender() {
	for {
		select {
		case m := <-c.out:
			c.sendNow(m)
		case <-c.outEnd:
			for {
				select {
				case m := <-c.out:
					c.sendNow(m)
				default:
					return
				}
			}
		}
	}
}

func (c *controller) sendNow(m ipc.Message) {
	if err := c.client.Send(m); err != nil {
		c.log.Warn("cannot send to the core", "op", m.Op, "err", err)
	}
}

// start builds the windows and shows the first one; on the Fyne thread,
// before the app loop.
func (c *controller) start() {
	c.a.SetIcon(appIcon)
	c.a.Settings().SetTheme(newAppTheme(c.a.Settings().Theme()))
	if c.opts.ConfigErr != nil {
		c.log.Warn("the settings file has a problem; defaults are in use", "err", c.opts.ConfigErr)
	}
	c.login = newLoginWindow(c.a, c.signIn, c.onSignedIn)
	c.login.runOnUI = c.do
	c.loginWin = c.track(c.login.win)
	c.login.win = c.loginWin

	cfg := c.opts.Config.Effective()
	c.settings = newSettingsWindow(c.a, settingsDeps{
		config:    c.opts.Config,
		events:    notify.NewCatalog(cfg.Notifications.Overrides).Known(),
		check:     c.s.check,
		autostart: c.s.autostart,
		saved:     func() { c.post(ipc.Message{Op: ipc.OpSettingsSaved}) },
		now:       c.s.now,
		runOnUI:   c.do,
		logPath:   c.opts.LogPath,
	})
	c.settingsWin = c.track(c.settings.win)
	c.settings.win = c.settingsWin

	if c.opts.Show.Window != "" {
		c.show(c.opts.Show)
	}
	c.updateIdle()
	if f := c.s.started; f != nil {
		f(c)
	}
}

// track wraps w so that showing and hiding it is known.
func (c *controller) track(w fyne.Window) *trackedWindow {
	return &trackedWindow{Window: w, onChange: c.updateIdle}
}

// handle acts on one message from the core.
func (c *controller) handle(m ipc.Message) {
	switch m.Op {
	case ipc.OpState:
		if m.State == nil {
			return
		}
		prev, had := c.state, c.haveState
		c.state, c.haveState = *m.State, true
		if c.history == nil && c.store != nil {
			c.buildHistory() // the account is known now
		}
		c.applyState()
		if !c.state.TrayPresent && (!had || prev.TrayPresent) {
			c.showHistory(0) // without a tray host, the history window is the way in
		}
		if !had && c.history != nil {
			// Entries stored before the core counted this window in came
			// through no entry-added: read them.
			c.history.Reload()
		}
		c.updateIdle()
	case ipc.OpEntryAdded:
		if m.Added != nil && c.history != nil {
			c.history.Added(*m.Added)
		}
	case ipc.OpReload:
		if c.history != nil {
			c.history.Reload()
		}
	case ipc.OpShow:
		if m.Window == "" {
			m.Window = app.WindowHistory
		}
		c.show(m)
	case ipc.OpBye:
		c.log.Info("the core is quitting")
	case ipc.OpError:
		c.log.Warn("the core reported a problem", "text", m.Text)
	default:
		c.log.Debug("message not for the window process", "op", m.Op)
	}
}

// coreGone: the connection to the core ended (bye, the core exited or
// crashed). The window process has nothing to show without it.
func (c *controller) coreGone() {
	c.log.Info("the core is gone; the window process exits")
	c.exit()
}

// exit ends the app loop.
func (c *controller) exit() {
	c.quitting = true
	c.stopIdle()
	c.closed.Store(true)
	c.s.quit()
}

// shutdown releases everything after the app loop ended.
func (c *controller) shutdown() {
	c.closed.Store(true)
	c.stopIdle()
	if c.menuTimer != nil {
		c.menuTimer.Stop()
	}
	if c.status != nil {
		c.status.Close()
	}
	if c.login != nil && c.login.cancel != nil {
		c.login.cancel()
	}
	if c.history != nil {
		c.history.Close()
		c.history.Wait()
	}
	close(c.outEnd)
	c.bg.Wait() // the sender and the store opening
	c.storeMu.Lock()
	if c.opened != nil {
		if err := c.opened.Close(); err != nil {
			c.log.Warn("closing the history", "err", err)
		}
		c.opened = nil
	}
	c.storeMu.Unlock()
}

// show shows the window m names.
func (c *controller) show(m ipc.Message) {
	if c.quitting {
		return
	}
	switch m.Window {
	case app.WindowHistory:
		c.showHistory(m.Entry)
	case app.WindowSignIn:
		c.showSignIn(m.Notice)
	case app.WindowSettings:
		c.showSettings()
	case windowSignOut:
		c.confirmSignOut()
	default:
		c.log.Warn("asked to show an unknown window", "window", m.Window)
	}
}

// showHistory shows and raises the history window, selecting entry if > 0.
func (c *controller) showHistory(entry int64) {
	if c.quitting {
		return
	}
	w := c.historyWindow()
	w.Show()
	w.RequestFocus()
	if entry > 0 {
		if c.history != nil {
			c.history.Select(entry)
		} else {
			c.pendingEntry = entry
		}
	}
}

// historyWindow returns the history window, building it (and starting to
// open the history store, off the Fyne thread) the first time.
func (c *controller) historyWindow() *trackedWindow {
	if c.historyWin != nil {
		return c.historyWin
	}
	w := c.track(c.a.NewWindow(c.appName + " — History"))
	c.historyWin = w
	c.status = newStatusLine(c.s.now, c.do,
		func() { c.post(ipc.Message{Op: ipc.OpReconnect}) },
		func() { c.post(ipc.Message{Op: ipc.OpShow, Window: app.WindowSignIn}) })
	c.setHistoryContent(container.NewCenter(widget.NewLabel("Opening the history…")))
	w.Resize(fyne.NewSize(1100, 680))
	w.CenterOnScreen()
	w.SetCloseIntercept(c.onHistoryClose)
	c.applyState()
	cfg := c.opts.Config.Effective()
	c.bg.Go(func() {
		st, err := c.s.openStore(cfg, c.log)
		if err == nil {
			c.storeMu.Lock()
			c.opened = st
			c.storeMu.Unlock()
		}
		c.do(func() { c.storeOpened(st, err) })
	})
	return w
}

// historyOpenText says in words why the history could not be opened (the
// log has the error).
func historyOpenText(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "The history could not be opened: EchoTray may not read or write its history file. Ask your administrator to check the permissions of your profile folder."
	case errors.Is(err, history.ErrDiskFull):
		return "The history could not be opened: the disk is full. Free some space, then open the history again."
	}
	return "The history could not be opened. Quit and start EchoTray again; if it keeps happening, the log file (Settings → General) has the details."
}

// setHistoryContent shows obj in the history window under the status line.
func (c *controller) setHistoryContent(obj fyne.CanvasObject) {
	c.historyWin.SetContent(container.NewBorder(container.NewPadded(c.status.box), nil, nil, nil, obj))
}

// storeOpened puts the history view (or the reason there is none) into the
// history window, once the core has said whose history it is.
func (c *controller) storeOpened(st *history.Store, err error) {
	if err != nil {
		c.storeErr = err
		c.log.Error("cannot open the history", "err", err)
		msg := &widget.Label{Text: historyOpenText(err),
			Wrapping: fyne.TextWrapWord, Importance: widget.DangerImportance}
		c.setHistoryContent(container.NewPadded(msg))
		return
	}
	c.store = st
	if c.haveState {
		c.buildHistory()
	}
}

// readIDsPerMessage bounds the IDs of one history-changed message, to
// stay well under ipc.MaxLine.
const readIDsPerMessage = 2000

// buildHistory makes the history view over the open store for the
// account of the core's state.
func (c *controller) buildHistory() {
	opts := c.opts.History
	opts.Logger = c.log
	opts.RunOnUI = c.do
	opts.Account, opts.AccountKnown = c.state.Account, true
	c.history = NewHistoryView(c.a, c.historyWin, c.store, opts)
	c.history.OnChanged = func(read []int64) {
		for len(read) > readIDsPerMessage {
			c.post(ipc.Message{Op: ipc.OpHistoryChanged, IDs: read[:readIDsPerMessage]})
			read = read[readIDsPerMessage:]
		}
		c.post(ipc.Message{Op: ipc.OpHistoryChanged, IDs: read})
	}
	c.setHistoryContent(c.history.Content())
	c.applyState()
	if id := c.pendingEntry; id > 0 {
		c.pendingEntry = 0
		c.history.Select(id)
	}
}

// applyState shows the core's state: the history window's title, banner
// and (without a tray host) menu, and the sign-in window's keyring option.
func (c *controller) applyState() {
	if c.state.KeyringDown && !c.login.keyringBox.Visible() {
		c.login.keyringUnavailable()
	}
	w := c.historyWin
	if w == nil {
		return
	}
	title := c.appName + " — History"
	if n := c.state.Unread; n > 0 {
		title += fmt.Sprintf(" (%d unread)", n)
	}
	if w.Title() != title {
		w.SetTitle(title)
	}
	if c.haveState {
		c.status.Set(c.state)
	}
	if c.history != nil {
		c.history.SetBanner(strings.Join(c.state.Banners, "\n"))
		c.history.SetAccount(c.state.Account)
	}
	c.updateMenu()
}

// updateMenu gives the history window the tray menu while no tray host
// shows it: otherwise Settings, Sign out or Pause would be out of reach.
func (c *controller) updateMenu() {
	w := c.historyWin
	if w == nil {
		return
	}
	if c.menuTimer != nil {
		c.menuTimer.Stop()
		c.menuTimer = nil
	}
	if !c.haveState || c.state.TrayPresent {
		if w.MainMenu() != nil {
			w.SetMainMenu(nil)
		}
		c.menuSet = false
		return
	}
	now := c.s.now()
	st := trayStatus(c.state)
	if m := tray.NewModel(st, c.state.Unread, now); !c.menuSet || m != c.lastModel {
		w.SetMainMenu(fyne.NewMainMenu(fyneMenu(c.appName, tray.Items(m, c.menuActions()))))
		c.lastModel, c.menuSet = m, true
	}
	// The end of a pause changes the menu (Resume → Pause) without a new
	// state from the core.
	if st.Paused(now) {
		if d := st.PausedUntil.Sub(now); d < menuRefreshMax {
			c.menuTimer = time.AfterFunc(d+time.Second, func() { c.do(c.updateMenu) })
		}
	}
}

// menuActions are the window menu's actions (no tray host): requests to
// the core, which owns the session and the connection.
func (c *controller) menuActions() tray.Actions {
	send := func(op ipc.Op) func() { return func() { c.post(ipc.Message{Op: op}) } }
	return tray.Actions{
		OpenHistory: func() { c.showHistory(0) },
		// The core knows what the sign-in window should say; it answers
		// with a show.
		SignIn:    func() { c.post(ipc.Message{Op: ipc.OpShow, Window: app.WindowSignIn}) },
		Pause:     func() { c.post(ipc.Message{Op: ipc.OpPause, Until: c.s.now().Add(time.Hour)}) },
		Resume:    send(ipc.OpResume),
		Settings:  func() { c.post(ipc.Message{Op: ipc.OpShow, Window: app.WindowSettings}) },
		Reconnect: send(ipc.OpReconnect),
		SendTest:  send(ipc.OpSendTest),
		SignOut:   c.confirmSignOut,
		Quit:      c.quitAll,
	}
}

// quitAll asks the core to quit and exits.
func (c *controller) quitAll() {
	if c.quitting {
		return
	}
	c.log.Info("quitting EchoTray")
	for _, w := range []*trackedWindow{c.historyWin, c.loginWin, c.settingsWin} {
		if w != nil && w.shown {
			w.Hide()
		}
	}
	c.post(ipc.Message{Op: ipc.OpQuit})
	c.exit()
}

// onHistoryClose hides the history window; with no tray host to bring it
// back, closing it quits EchoTray. The first time, it says that EchoTray
// keeps running in the tray; closing the window again over the hint
// closes both.
func (c *controller) onHistoryClose() {
	if c.haveState && !c.state.TrayPresent {
		c.quitAll()
		return
	}
	if c.closeHint == nil && !c.hintShown() {
		c.closeHint = closeHintDialog(c.appName, c.historyWin)
		c.showDialog(c.closeHint, func() {
			c.closeHint = nil
			c.historyWin.Hide()
		})
		c.rememberHint()
		return
	}
	if c.closeHint != nil {
		c.closeHint.Hide() // closed again over the hint: close (its onClosed hides the window)
		return
	}
	c.historyWin.Hide()
}

// showSignIn opens the sign-in window with notice above the form.
func (c *controller) showSignIn(notice string) {
	c.reloadConfig() // the core may have changed the server or e-mail
	cfg := c.opts.Config.Effective()
	c.login.serverLocked = c.opts.Config.Locked("server")
	c.login.show(cfg.Server, cfg.Email, notice)
}

// showSettings opens the settings window (an open one keeps its edits).
func (c *controller) showSettings() {
	if !c.settings.shown {
		c.reloadConfig() // the core may have saved a pause
	}
	c.settings.show()
}

func (c *controller) reloadConfig() {
	if _, err := c.opts.Config.Reload(); err != nil {
		c.log.Warn("cannot re-read the settings", "err", err)
	}
}

// signIn is the sign-in window's login; on its worker goroutine. On success
// the core is told (it reads the token from the keyring, or takes the
// session-only one from the message).
func (c *controller) signIn(ctx context.Context, req app.LoginRequest) (app.User, error) {
	u, token, err := c.s.signIn(ctx, req)
	if err != nil {
		c.log.Info("sign-in failed", "server", req.Server, "err", err) // the window shows it in words
		return u, err
	}
	c.post(ipc.Message{Op: ipc.OpSignedIn, Token: token})
	return u, nil
}

// onSignedIn runs after the sign-in window closed on success; the core
// answers the signed-in message with the history window when it is ready.
func (c *controller) onSignedIn(u app.User) {
	c.log.Info("signed in", "user", u.ID)
}

// shown reports whether any window is shown.
func (c *controller) shown() bool {
	for _, w := range []*trackedWindow{c.historyWin, c.loginWin, c.settingsWin} {
		if w != nil && w.shown {
			return true
		}
	}
	return false
}

// updateIdle starts the idle countdown when no window is shown (and a
// tray host can bring one back), and stops it when one is.
func (c *controller) updateIdle() {
	if c.quitting || c.shown() || (c.haveState && !c.state.TrayPresent) {
		c.stopIdle()
		return
	}
	if c.idleTimer != nil {
		return // counting already
	}
	c.idleGen++
	gen := c.idleGen
	c.idleTimer = time.AfterFunc(c.idleExit, func() { c.do(func() { c.idleFired(gen) }) })
}

func (c *controller) stopIdle() {
	if c.idleTimer != nil {
		c.idleTimer.Stop()
		c.idleTimer = nil
	}
	c.idleGen++
}

func (c *controller) idleFired(gen int) {
	if gen != c.idleGen {
		return // stopped or restarted since
	}
	c.idleTimer = nil
	if c.shown() || (c.haveState && !c.state.TrayPresent) {
		return
	}
	c.log.Info("no window shown for a while; the window process exits", "after", c.idleExit)
	c.exit()
}
