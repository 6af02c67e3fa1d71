//go:build linux

package notify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// The freedesktop notification service.
const (
	fdoName  = "org.freedesktop.Notifications"
	fdoPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	fdoIface = "org.freedesktop.Notifications"
)

// maxTracked bounds the notification ids remembered for click actions.
const maxTracked = 256

// maxEarlyClicks bounds the clicks on ids not known (yet) that are kept.
const maxEarlyClicks = 16

// connectTimeout bounds connecting to the session bus: the handshake, the
// Hello call and subscribing to the notification signals. A bus that
// accepts the connection and never answers fails after it.
const connectTimeout = 5 * time.Second

// closeDialWait bounds how long Close waits for a connection attempt it
// has cancelled to end.
const closeDialWait = 2 * time.Second

// openAction is the action sent with every notification when the server
// supports actions: "default" is what a click on the bubble invokes.
var openAction = []string{"default", "Open"}

// NewDesktopNotifier returns the desktop Notifier for Linux: it calls the
// freedesktop Notify method itself over a private session bus connection
// (never the shared one the tray icon uses), so it can send the urgency
// hint, the expiry time, the app icon and an "Open" action. When the user
// clicks a notification, onClick gets its entry id (0 for a flood summary)
// from the D-Bus signal goroutine; it should return quickly. The body is
// escaped when the server renders markup. The connection is made on first
// use and again after it drops, outside any lock and bounded by the
// caller's context and 5 seconds; when the session bus cannot be reached
// at all (no address, nobody listening), notifications go through beeep
// instead (notify-send, kdialog). A bus that does not answer in time is an
// error of Notify, not a reason to fall back: beeep would wait for the same
// bus without a limit. The returned Notifier is an io.Closer: its maker
// closes it. appID, the
// application ID (the .desktop file's name), goes into the "desktop-entry"
// hint, with which servers such as GNOME's attribute the notification to the
// installed application.
func NewDesktopNotifier(appName, appID, iconPath string, onClick func(entryID int64)) Notifier {
	d := newDBusNotifier(appName, iconPath, onClick, connectSessionBus, newBeeepNotifier(appName, iconPath, true))
	d.appID = appID
	return d
}

// connectSessionBus connects to the session bus; when ctx ends first, the
// connection is closed, which ends a handshake the bus does not answer.
func connectSessionBus(ctx context.Context) (*dbus.Conn, error) {
	// The connection's own context outlives ctx: ctx bounds the connecting
	// only.
	connCtx, closeConn := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, closeConn)
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(connCtx))
	if !stop() {
		// ctx ended: the connection is closed or about to be.
		if conn != nil {
			conn.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		closeConn()
		return nil, err
	}
	return conn, nil
}

// connectFunc connects to the session bus; it must give up when ctx ends.
type connectFunc func(ctx context.Context) (*dbus.Conn, error)

// dbusNotifier implements Notifier with org.freedesktop.Notifications.
type dbusNotifier struct {
	appName  string
	appID    string // desktop-entry hint; "" sends none
	icon     string
	onClick  func(entryID int64)
	connect  connectFunc
	fallback Notifier
	timeout  time.Duration // bounds one connection attempt: connectTimeout; guarded by mu

	mu     sync.Mutex
	conn   *dbus.Conn
	dial   *dialing         // the connection attempt under way; nil if none
	caps   map[string]bool  // server capabilities; nil = not asked yet
	ids    map[uint32]int64 // notification id → entry id, for clicks
	order  []uint32         // ids in the order sent, to bound ids
	early  []uint32         // clicked ids not known yet (the click beat Notify's reply)
	closed bool
	wg     sync.WaitGroup // signal goroutines
}

// dialing is one attempt to connect, shared by every Notify that needs the
// connection meanwhile. It runs on a goroutine of its own, never under
// d.mu, bounded by connectTimeout and cancelled by Close.
type dialing struct {
	timeout time.Duration   // the notifier's timeout when it started
	ctx     context.Context // ends after timeout or on Close
	cancel  context.CancelFunc
	done    chan struct{} // closed when conn and err are set
	conn    *dbus.Conn
	err     error
}

func newDBusNotifier(appName, icon string, onClick func(int64), connect connectFunc, fallback Notifier) *dbusNotifier {
	return &dbusNotifier{
		appName:  appName,
		icon:     icon,
		onClick:  onClick,
		connect:  connect,
		fallback: fallback,
		timeout:  connectTimeout,
		ids:      map[uint32]int64{},
	}
}

// errNotifierClosed is returned by Notify after Close.
var errNotifierClosed = errors.New("desktop notifier closed")

// Notify sends m to the notification server.
func (d *dbusNotifier) Notify(ctx context.Context, m Message) error {
	conn, err := d.ensureConn(ctx)
	if errors.Is(err, errNotifierClosed) {
		return err
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			// A bus that does not answer (or no time left): beeep's
			// fallbacks would wait for the same bus, without a limit.
			return err
		}
		if ferr := d.fallback.Notify(ctx, m); ferr != nil {
			return fmt.Errorf("session bus: %w; fallback: %w", err, ferr)
		}
		return nil
	}
	id, tracked, err := d.send(ctx, conn, m)
	if err != nil && ctx.Err() == nil && (!conn.Connected() || !isDBusError(err)) {
		// The connection broke (e.g. the session bus restarted), as
		// opposed to the server answering with an error: reconnect once.
		d.dropConn(conn)
		if conn, err = d.ensureConn(ctx); err == nil {
			id, tracked, err = d.send(ctx, conn, m)
		}
	}
	if err != nil {
		return fmt.Errorf("freedesktop Notify: %w", err)
	}
	if tracked {
		d.track(id, m.EntryID)
	}
	return nil
}

// isDBusError reports whether err is an error reply from the bus or the
// server (the connection itself worked).
func isDBusError(err error) bool {
	var e dbus.Error
	var pe *dbus.Error
	return errors.As(err, &e) || errors.As(err, &pe)
}

// send makes the Notify call. tracked reports whether an action was offered
// (so a click can come back).
func (d *dbusNotifier) send(ctx context.Context, conn *dbus.Conn, m Message) (id uint32, tracked bool, err error) {
	caps, err := d.capabilities(ctx, conn)
	if err != nil {
		return 0, false, err
	}
	args := notifyArgs(m, d.appName, d.icon, caps, d.onClick != nil)
	if d.appID != "" {
		args.hints["desktop-entry"] = dbus.MakeVariant(d.appID)
	}
	obj := conn.Object(fdoName, fdoPath)
	err = obj.CallWithContext(ctx, fdoIface+".Notify", 0, args.appName, args.replacesID, args.appIcon,
		args.summary, args.body, args.actions, args.hints, args.expireTimeout).Store(&id)
	return id, len(args.actions) > 0, err
}

// notifyCall holds the arguments of org.freedesktop.Notifications.Notify.
type notifyCall struct {
	appName       string
	replacesID    uint32
	appIcon       string
	summary       string
	body          string
	actions       []string
	hints         map[string]dbus.Variant
	expireTimeout int32
}

// notifyArgs builds the Notify arguments for m on a server with caps. The
// summary is plain text by the specification; the body is escaped when the
// server renders markup. An expiry of -1 asks for the server's default.
func notifyArgs(m Message, appName, icon string, caps map[string]bool, clickable bool) notifyCall {
	c := notifyCall{
		appName: m.AppName,
		appIcon: m.Icon,
		summary: m.Title,
		body:    m.Body,
		actions: []string{},
		hints: map[string]dbus.Variant{
			"urgency": dbus.MakeVariant(byte(m.Urgency)),
		},
		expireTimeout: -1,
	}
	if c.appName == "" {
		c.appName = appName
	}
	if c.appIcon == "" {
		c.appIcon = icon
	}
	if caps["body-markup"] {
		c.body = EscapeMarkup(c.body)
	}
	if clickable && caps["actions"] {
		c.actions = append(c.actions, openAction...)
	}
	if m.Timeout > 0 {
		c.expireTimeout = int32(min(m.Timeout.Milliseconds(), math.MaxInt32))
	}
	return c
}

// ensureConn returns the live connection, connecting if there is none. It
// waits for the connection attempt (its own or one under way) at most
// until ctx ends or the attempt times out (connectTimeout); d.mu is never
// held while connecting.
func (d *dbusNotifier) ensureConn(ctx context.Context) (*dbus.Conn, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, errNotifierClosed
	}
	if d.conn != nil && d.conn.Connected() {
		conn := d.conn
		d.mu.Unlock()
		return conn, nil
	}
	if d.conn != nil {
		d.forgetLocked()
	}
	dl := d.dial
	if dl == nil {
		dl = d.startDialLocked()
	}
	d.mu.Unlock()

	select {
	case <-dl.done:
		return dl.conn, dl.err
	case <-dl.ctx.Done():
		// Timed out, or Close: the attempt ends on its own (a connect that
		// ignores its context keeps d.dial set until it does, so that
		// attempts do not pile up).
		select {
		case <-dl.done:
			return dl.conn, dl.err
		default:
		}
		return nil, dl.error(dl.ctx.Err())
	case <-ctx.Done():
		return nil, fmt.Errorf("connect to the session bus: %w", ctx.Err())
	}
}

// error words the end of the attempt by its context.
func (dl *dialing) error(ctxErr error) error {
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		return fmt.Errorf("connect to the session bus: no answer within %v: %w", dl.timeout, ctxErr)
	}
	return fmt.Errorf("connect to the session bus: %w", ctxErr)
}

// startDialLocked starts a connection attempt. d.mu must be held.
func (d *dbusNotifier) startDialLocked() *dialing {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	dl := &dialing{timeout: d.timeout, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	d.dial = dl
	go d.runDial(dl)
	return dl
}

// runDial connects and subscribes to the notification signals within
// dl.ctx, then installs the connection unless the notifier was closed
// meanwhile.
func (d *dbusNotifier) runDial(dl *dialing) {
	// done is closed before the context is released, so that a waiter
	// woken by the context finds the result.
	defer dl.cancel()
	defer close(dl.done)
	conn, err := d.connect(dl.ctx)
	if err == nil {
		err = subscribe(dl.ctx, conn)
	}
	if err != nil && dl.ctx.Err() != nil {
		// The bus did not answer in time (or Close): say so rather than
		// "use of closed network connection".
		err = dl.error(dl.ctx.Err())
	} else if err != nil {
		err = fmt.Errorf("connect to the session bus: %w", err)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dial == dl {
		d.dial = nil
	}
	switch {
	case err != nil:
		if conn != nil {
			conn.Close()
		}
		dl.err = err
		return
	case d.closed:
		conn.Close()
		dl.err = errNotifierClosed
		return
	}
	sigs := make(chan *dbus.Signal, 16)
	conn.Signal(sigs)
	d.conn = conn
	d.caps = nil
	d.wg.Add(1)
	go d.readSignals(conn, sigs)
	dl.conn = conn
}

// subscribe asks the bus for the signals the notifier handles: clicks and
// closes come as signals; NameOwnerChanged tells when the notification
// server is replaced (its capabilities and ids then change).
func subscribe(ctx context.Context, conn *dbus.Conn) error {
	matches := [][]dbus.MatchOption{
		{dbus.WithMatchObjectPath(fdoPath), dbus.WithMatchInterface(fdoIface)},
		{dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchInterface("org.freedesktop.DBus"),
			dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, fdoName)},
	}
	for _, m := range matches {
		if err := conn.AddMatchSignalContext(ctx, m...); err != nil {
			return fmt.Errorf("subscribe to notification signals: %w", err)
		}
	}
	return nil
}

// capabilities asks the server once per connection (and again after the
// server changed) what it supports.
func (d *dbusNotifier) capabilities(ctx context.Context, conn *dbus.Conn) (map[string]bool, error) {
	d.mu.Lock()
	caps := d.caps
	d.mu.Unlock()
	if caps != nil {
		return caps, nil
	}
	var list []string
	err := conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoIface+".GetCapabilities", 0).Store(&list)
	if err != nil {
		return nil, fmt.Errorf("GetCapabilities: %w", err)
	}
	caps = make(map[string]bool, len(list))
	for _, c := range list {
		caps[c] = true
	}
	d.mu.Lock()
	if d.conn == conn {
		d.caps = caps
	}
	d.mu.Unlock()
	return caps, nil
}

// readSignals handles the notification server's signals until conn closes.
func (d *dbusNotifier) readSignals(conn *dbus.Conn, sigs chan *dbus.Signal) {
	defer d.wg.Done()
	for sig := range sigs {
		switch sig.Name {
		case fdoIface + ".ActionInvoked":
			if len(sig.Body) < 1 {
				continue
			}
			id, _ := sig.Body[0].(uint32)
			d.mu.Lock()
			entryID, ok := d.ids[id]
			if !ok {
				// Either another application's notification or ours with
				// the reply to Notify still on its way: remember it.
				d.early = append(d.early, id)
				if len(d.early) > maxEarlyClicks {
					d.early = d.early[1:]
				}
			}
			d.mu.Unlock()
			if ok && d.onClick != nil {
				d.onClick(entryID)
			}
		case fdoIface + ".NotificationClosed":
			if len(sig.Body) < 1 {
				continue
			}
			id, _ := sig.Body[0].(uint32)
			d.mu.Lock()
			delete(d.ids, id)
			d.mu.Unlock()
		case "org.freedesktop.DBus.NameOwnerChanged":
			d.mu.Lock()
			if d.conn == conn {
				d.caps = nil
				clear(d.ids)
				d.order, d.early = d.order[:0], d.early[:0]
			}
			d.mu.Unlock()
		}
	}
}

// track remembers that notification id shows entryID, and reports a click
// on it that arrived before the reply to Notify.
func (d *dbusNotifier) track(id uint32, entryID int64) {
	d.mu.Lock()
	if _, ok := d.ids[id]; !ok {
		d.order = append(d.order, id)
	}
	d.ids[id] = entryID
	for len(d.order) > maxTracked {
		delete(d.ids, d.order[0])
		d.order = d.order[1:]
	}
	clicked := false
	if i := slices.Index(d.early, id); i >= 0 {
		d.early = slices.Delete(d.early, i, i+1)
		clicked = true
	}
	d.mu.Unlock()
	if clicked && d.onClick != nil {
		d.onClick(entryID)
	}
}

// dropConn forgets conn if it is still the current connection.
func (d *dbusNotifier) dropConn(conn *dbus.Conn) {
	d.mu.Lock()
	if d.conn == conn {
		d.forgetLocked()
	}
	d.mu.Unlock()
}

// forgetLocked closes the current connection, which ends its signal
// goroutine, and resets what belonged to it. d.mu must be held.
func (d *dbusNotifier) forgetLocked() {
	d.conn.Close()
	d.conn = nil
	d.caps = nil
	clear(d.ids)
	d.order, d.early = d.order[:0], d.early[:0]
}

// Close cancels a connection attempt under way (waiting at most 2 s for
// it to end), closes the bus connection and waits for the signal
// goroutine. Notify fails afterwards.
func (d *dbusNotifier) Close() error {
	d.mu.Lock()
	d.closed = true
	dl := d.dial
	if dl != nil {
		dl.cancel()
	}
	if d.conn != nil {
		d.forgetLocked()
	}
	d.mu.Unlock()
	if dl != nil {
		select {
		case <-dl.done:
		case <-time.After(closeDialWait):
			// A connect that ignores its context; it closes what it gets.
		}
	}
	d.wg.Wait()
	return nil
}
