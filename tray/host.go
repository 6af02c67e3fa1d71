package tray

import (
	"bytes"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"fyne.io/systray"
)

// Host shows the tray model on the desktop through fyne.io/systray: the
// icon, its tooltip and title, and the menu built by Items. It is a thin
// layer that adds three things to systray:
//
//   - Values are only forwarded when they change, so callers may push the
//     whole model on every tick without the tray flickering or the session
//     bus filling with signals.
//   - Values set before the tray is ready are kept and applied when it is
//     (systray drops them on Windows otherwise).
//   - Menu clicks and left clicks run their callbacks on ONE goroutine of
//     the host (the click goroutine), in the order they arrive, however
//     often the menu is rebuilt.
//
// fyne.io/systray keeps its state in package globals, so there is one Host
// per process and its Run is called once. All methods other than Run are
// safe for concurrent use, also from inside an action.
//
// Callbacks (Item.Action, the left-click function) run on the click
// goroutine. Menu clicks that arrive while one runs are dropped by systray
// (one left click is kept), and Run waits for a running callback before it
// returns, so callbacks must not block: they hand the work to the caller's
// own loop (send on a channel) and return.
type Host struct {
	sys backend
	log *slog.Logger

	wake chan struct{} // a new menu generation is current (buffered, 1)
	tap  chan struct{} // the icon was left-clicked (buffered, 1)
	done chan struct{} // closed by Quit or when Run ends: the click goroutine returns
	wg   sync.WaitGroup

	stopOnce sync.Once

	mu        sync.Mutex
	started   bool // Run was called
	ready     bool // systray is up: values can be forwarded
	quitting  bool // Quit was called
	tapSet    bool // the tap forwarder is installed in systray
	onLeft    func()
	icon      []byte // wanted icon (PNG)
	tooltip   string // wanted tooltip
	title     string // wanted title
	menu      []Item // wanted menu; nil until SetMenu
	sentIcon  []byte // what systray shows; valid when ready
	sentTip   string
	sentTitle string
	gen       *generation // the menu systray shows; nil before the first build
	rebuilds  int         // how often the menu was built (tests, logs)
	// resend are the delays after ready at which icon, tooltip and title
	// are sent again (see exportResend); nil in tests with a fake backend.
	resend []time.Duration
}

// exportResend: on Linux fyne.io/systray calls onReady before it has
// exported the item's properties on D-Bus; a value set in that gap is kept
// in systray but never announced, and the panel shows the old one until
// the next change. Sending the current values again shortly after ready
// closes the gap (a resend of an unchanged value is harmless).
var exportResend = []time.Duration{500 * time.Millisecond, 2 * time.Second}

// generation is one menu built in systray: the items as shown and the
// handles of the non-separator ones. Its click channels stay valid until
// the next rebuild closes them.
type generation struct {
	items   []Item     // as last set; updated in place while this generation is current
	handles []menuItem // per item; nil for separators
}

// NewHost returns a host for the system tray; nothing is shown before Run.
// A nil logger discards.
func NewHost(logger *slog.Logger) *Host {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := newHost(&systrayBackend{log: logger, noTray: make(chan struct{})}, logger)
	h.resend = exportResend
	return h
}

func newHost(sys backend, logger *slog.Logger) *Host {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Host{
		sys:  sys,
		log:  logger,
		wake: make(chan struct{}, 1),
		tap:  make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// Run starts the tray and blocks until Quit is called (or the desktop ends
// the tray). Call it once, from the main goroutine: macOS needs the main
// thread for its event loop, which fyne.io/systray locks at init.
//
// onReady runs on its own goroutine once the tray is up, after the icon,
// tooltip, title and menu set so far have been applied. It must return
// soon: on Linux systray answers the desktop's menu requests (dbusmenu
// GetLayout) only after it returned. onExit runs when the tray ends. Either
// may be nil. When Run returns, the click goroutine has ended. If Quit was
// called before Run, Run returns at once without showing anything or
// calling either function.
func (h *Host) Run(onReady, onExit func()) {
	h.mu.Lock()
	if h.started {
		h.mu.Unlock()
		panic("tray: Host.Run called twice")
	}
	h.started = true
	if h.quitting {
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()

	h.wg.Add(1)
	go h.clicks()
	h.sys.run(func() {
		h.mu.Lock()
		h.ready = true
		h.applyLocked()
		quit := h.quitting
		h.mu.Unlock()
		if quit {
			// Quit came between Run and now: systray could not take it yet.
			h.sys.quit()
			return
		}
		if len(h.resend) > 0 {
			h.wg.Add(1)
			go h.resendLater()
		}
		if onReady != nil {
			onReady()
		}
	}, func() {
		if onExit != nil {
			onExit()
		}
	})
	h.stop()
	h.wg.Wait()
}

// Quit ends the tray: Run returns after onExit. It may be called from any
// goroutine, also from an action, and more than once.
func (h *Host) Quit() {
	h.mu.Lock()
	h.quitting = true
	ready := h.ready
	h.mu.Unlock()
	h.stop()
	if ready {
		h.sys.quit()
	}
	// Not ready yet: Run returns at once, or the ready callback quits.
}

// resendLater sends icon, tooltip and title again at the resend delays
// after ready (see exportResend); it ends early when the host stops.
func (h *Host) resendLater() {
	defer h.wg.Done()
	start := time.Now()
	for _, d := range h.resend {
		t := time.NewTimer(time.Until(start.Add(d)))
		select {
		case <-t.C:
		case <-h.done:
			t.Stop()
			return
		}
		h.mu.Lock()
		if h.ready && !h.quitting {
			if len(h.icon) > 0 {
				h.sys.setIcon(h.icon)
			}
			h.sys.setTooltip(h.tooltip)
			if h.title != "" {
				h.sys.setTitle(h.title)
			}
		}
		h.mu.Unlock()
	}
}

// stop ends the click goroutine.
func (h *Host) stop() { h.stopOnce.Do(func() { close(h.done) }) }

// SetIcon sets the tray icon from PNG bytes (converted to ICO on Windows).
// Empty data is ignored. The data must not be modified afterwards.
func (h *Host) SetIcon(png []byte) {
	if len(png) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.icon = png
	h.applyLocked()
}

// SetTooltip sets the text shown when pointing at the icon (on Linux the
// StatusNotifierItem ToolTip title; GNOME's AppIndicator shows none).
func (h *Host) SetTooltip(text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tooltip = text
	h.applyLocked()
}

// SetTitle sets the tray item's title (Linux: the StatusNotifierItem Title;
// macOS: text next to the icon; ignored on Windows).
func (h *Host) SetTitle(title string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.title = title
	h.applyLocked()
}

// SetMenu shows items as the tray menu. Nothing is sent to systray when
// the labels, enabled flags and separators are those shown already; only
// the actions are swapped, so a click always runs the action of the latest
// SetMenu. When only labels or enabled flags changed, the items are
// updated in place; when items were added, removed or moved, the menu is
// rebuilt (systray.ResetMenu, AddMenuItem, AddSeparator, Disable).
//
// An item is shown disabled when Disabled is set or it has no Action; a
// click on it (a tray host may still send one) runs nothing. IsQuit has no
// special meaning in the tray. The slice is copied.
func (h *Host) SetMenu(items []Item) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.menu = append(make([]Item, 0, len(items)), items...)
	h.applyLocked()
}

// SetOnLeftClick sets what a (primary) click on the icon does; it runs on
// the click goroutine. Without it a left click opens the menu.
//
// Call it before Run. The first handler installs a forwarder in systray,
// and on Linux whether the item is "only a menu" (ItemIsMenu: the desktop
// opens the menu on a left click instead of sending it) is announced when
// the tray starts; systray's handler is also a plain variable its event
// loop reads. So a first call after Run is ignored (logged); once installed,
// later calls, also after Run, just swap the handler, and nil makes left
// clicks do nothing.
func (h *Host) SetOnLeftClick(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.tapSet && f != nil && h.started {
		h.log.Warn("tray: SetOnLeftClick after Run is ignored; left clicks open the menu")
		return
	}
	h.onLeft = f
	if f != nil && !h.tapSet {
		h.tapSet = true
		h.sys.setOnTapped(func() {
			// On systray's goroutine (Windows: the message loop): never block.
			select {
			case h.tap <- struct{}{}:
			default:
			}
		})
	}
}

// applyLocked forwards what changed to systray, once it is ready.
func (h *Host) applyLocked() {
	if !h.ready {
		return
	}
	if len(h.icon) > 0 && !bytes.Equal(h.icon, h.sentIcon) {
		h.sys.setIcon(h.icon)
		h.sentIcon = h.icon
	}
	if h.tooltip != h.sentTip {
		h.sys.setTooltip(h.tooltip)
		h.sentTip = h.tooltip
	}
	if h.title != h.sentTitle {
		h.sys.setTitle(h.title)
		h.sentTitle = h.title
	}
	if h.menu != nil {
		h.applyMenuLocked()
	}
}

// applyMenuLocked brings systray's menu to h.menu with as few calls as
// possible.
func (h *Host) applyMenuLocked() {
	want := h.menu
	if g := h.gen; g != nil && sameShape(g.items, want) {
		for i, it := range want {
			old := g.items[i]
			if it.Separator {
				continue
			}
			if it.Label != old.Label {
				g.handles[i].setTitle(it.Label)
			}
			if enabled(it) != enabled(old) {
				g.handles[i].setEnabled(enabled(it))
			}
		}
		g.items = want
		return
	}
	if h.gen != nil {
		// Closes the old items' click channels; the click goroutine moves
		// on to the new generation (it waits for h.mu to read it).
		h.sys.resetMenu()
	}
	g := &generation{items: want, handles: make([]menuItem, len(want))}
	for i, it := range want {
		if it.Separator {
			h.sys.addSeparator()
			continue
		}
		g.handles[i] = h.sys.addItem(it.Label, enabled(it))
	}
	h.gen = g
	h.rebuilds++
	h.log.Debug("tray menu built", "items", len(want), "builds", h.rebuilds)
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// sameShape reports whether b has the items of a at the same places, only
// with other labels, enabled flags or actions.
func sameShape(a, b []Item) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Separator != b[i].Separator {
			return false
		}
	}
	return true
}

// enabled reports whether an item can be picked.
func enabled(it Item) bool { return !it.Separator && !it.Disabled && it.Action != nil }

// clicks is the click goroutine: it waits on the current generation's
// click channels and the left-click channel and runs the callbacks, until
// Quit or the end of Run.
func (h *Host) clicks() {
	defer h.wg.Done()
	const fixed = 3 // done, wake, tap
	var (
		g     *generation
		cases []reflect.SelectCase
		index []int // case i (≥ fixed) is item index[i-fixed] of g
	)
	for {
		h.mu.Lock()
		cur := h.gen
		h.mu.Unlock()
		if cur != g || cases == nil {
			g = cur
			cases = []reflect.SelectCase{
				{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(h.done)},
				{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(h.wake)},
				{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(h.tap)},
			}
			index = index[:0]
			if g != nil {
				for i, hd := range g.handles {
					if hd != nil {
						cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(hd.clicked())})
						index = append(index, i)
					}
				}
			}
		}
		chosen, _, ok := reflect.Select(cases)
		switch {
		case chosen == 0:
			return
		case chosen == 1:
			// A new generation: rebuild the cases.
		case chosen == 2:
			h.mu.Lock()
			f := h.onLeft
			h.mu.Unlock()
			if f != nil {
				f()
			}
		case !ok:
			// Closed by a rebuild: stop waiting on it. The next loop reads
			// the new generation.
			cases[chosen].Chan = reflect.Value{}
		default:
			h.mu.Lock()
			// The item as it is now: its latest action, or nothing if it was
			// disabled meanwhile. A click on a menu that was just replaced
			// runs what that menu last offered, since that is what the user
			// picked.
			it := g.items[index[chosen-fixed]]
			h.mu.Unlock()
			if enabled(it) {
				it.Action()
			}
		}
	}
}

// backend is the part of fyne.io/systray the host uses, so that tests can
// run a Host against a fake without a desktop.
type backend interface {
	run(onReady, onExit func())
	quit()
	setIcon(png []byte)
	setTooltip(text string)
	setTitle(title string)
	setOnTapped(f func())
	resetMenu()
	addItem(label string, enabled bool) menuItem
	addSeparator()
}

// menuItem is one item added by backend.addItem.
type menuItem interface {
	// clicked receives on each click; it is closed when the menu is reset.
	clicked() <-chan struct{}
	setTitle(label string)
	setEnabled(on bool)
}

// systrayBackend is the backend over fyne.io/systray.
type systrayBackend struct {
	log      *slog.Logger
	noTray   chan struct{} // closed by quit; ends run when systray could not start
	quitOnce sync.Once
}

// run runs systray. Where systray cannot work at all (Linux without a
// session bus, where systray.Quit would also crash on the missing
// connection) it only calls onReady, waits for quit and calls onExit, so
// the caller's life cycle is the same with or without a tray.
func (b *systrayBackend) run(onReady, onExit func()) {
	if err := trayUnavailable(); err != nil {
		b.log.Warn("no tray icon: the desktop session bus is not reachable", "err", err)
		go onReady() // systray too runs it on a goroutine of its own
		<-b.noTray
		onExit()
		return
	}
	systray.Run(onReady, onExit)
}

func (b *systrayBackend) quit() {
	b.quitOnce.Do(func() { close(b.noTray) })
	systray.Quit()
}

func (b *systrayBackend) setIcon(png []byte) {
	ico, err := platformIcon(png)
	if err != nil {
		b.log.Warn("tray icon not shown", "err", err)
		return
	}
	systray.SetIcon(ico)
}

func (*systrayBackend) setTooltip(text string) { systray.SetTooltip(text) }
func (*systrayBackend) setTitle(title string)  { systray.SetTitle(title) }
func (*systrayBackend) setOnTapped(f func())   { systray.SetOnTapped(f) }
func (*systrayBackend) resetMenu()             { systray.ResetMenu() }
func (*systrayBackend) addSeparator()          { systray.AddSeparator() }

func (*systrayBackend) addItem(label string, enabled bool) menuItem {
	it := systray.AddMenuItem(label, "")
	if !enabled {
		it.Disable()
	}
	return systrayItem{it}
}

type systrayItem struct{ it *systray.MenuItem }

func (s systrayItem) clicked() <-chan struct{} { return s.it.ClickedCh }
func (s systrayItem) setTitle(label string)    { s.it.SetTitle(label) }
func (s systrayItem) setEnabled(on bool) {
	if on {
		s.it.Enable()
	} else {
		s.it.Disable()
	}
}
