//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/png" // tray icons
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"echotray/tray"
)

// snWatcher is a minimal org.kde.StatusNotifierWatcher, the tray host side
// of the StatusNotifierItem protocol: it records the items that register.
type snWatcher struct {
	mu    sync.Mutex
	items []snItem
	seen  int // items waitItem has returned
}

// snItem is a registered tray item: the bus name of its connection and
// the object path it gave.
type snItem struct {
	Service string
	Path    dbus.ObjectPath
}

// RegisterStatusNotifierItem is what fyne.io/systray calls with its object
// path; the bus name is the caller's.
func (w *snWatcher) RegisterStatusNotifierItem(service string, sender dbus.Sender) *dbus.Error {
	// The argument is an object path (fyne.io/systray, KDE) or a bus name.
	it := snItem{Service: string(sender), Path: "/StatusNotifierItem"}
	if strings.HasPrefix(service, "/") {
		it.Path = dbus.ObjectPath(service)
	} else if service != "" {
		it.Service = service
	}
	w.mu.Lock()
	w.items = append(w.items, it)
	w.mu.Unlock()
	return nil
}

// RegisterStatusNotifierHost accepts a host (none registers in these tests).
func (w *snWatcher) RegisterStatusNotifierHost(service string) *dbus.Error { return nil }

// startWatcher owns org.kde.StatusNotifierWatcher on the desktop's bus.
func startWatcher(t *testing.T, d *Desktop) (*snWatcher, *dbus.Conn) {
	t.Helper()
	conn, err := dbus.Connect(d.Bus)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	w := &snWatcher{}
	if err := conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.kde.StatusNotifierWatcher: %v %v", reply, err)
	}
	return w, conn
}

// waitItem waits until an item registers with w that waitItem has not
// returned before (a restarted app registers anew).
func (w *snWatcher) waitItem(t *testing.T) snItem {
	t.Helper()
	var it snItem
	waitUntil(t, "the tray item to register with the StatusNotifierWatcher", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		if len(w.items) <= w.seen {
			return false
		}
		it = w.items[len(w.items)-1]
		w.seen = len(w.items)
		return true
	})
	return it
}

// menuEntry is one item of the exported com.canonical.dbusmenu layout.
type menuEntry struct {
	ID        int32
	Label     string
	Separator bool
	Enabled   bool
}

// readMenu calls GetLayout on the item's menu and flattens the top level.
func readMenu(t *testing.T, conn *dbus.Conn, it snItem) []menuEntry {
	t.Helper()
	var menuPath dbus.ObjectPath
	v, err := conn.Object(it.Service, it.Path).GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("read the item's Menu property: %v", err)
	}
	if err := v.Store(&menuPath); err != nil {
		t.Fatalf("Menu property %v: %v", v, err)
	}
	var revision uint32
	var layout []any
	err = conn.Object(it.Service, menuPath).Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).
		Store(&revision, &layout)
	if err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	if len(layout) != 3 {
		t.Fatalf("layout %v", layout)
	}
	var out []menuEntry
	for _, child := range layout[2].([]dbus.Variant) {
		f := child.Value().([]any)
		props := f[1].(map[string]dbus.Variant)
		e := menuEntry{ID: f[0].(int32), Enabled: true}
		if l, ok := props["label"]; ok {
			e.Label, _ = l.Value().(string)
		}
		if ty, ok := props["type"]; ok && ty.Value() == "separator" {
			e.Separator = true
		}
		if en, ok := props["enabled"]; ok {
			e.Enabled, _ = en.Value().(bool)
		}
		out = append(out, e)
	}
	return out
}

func labels(menu []menuEntry) []string {
	var out []string
	for _, e := range menu {
		if !e.Separator {
			out = append(out, e.Label)
		}
	}
	return out
}

// entry finds a menu entry by label.
func entry(t *testing.T, menu []menuEntry, label string) menuEntry {
	t.Helper()
	for _, e := range menu {
		if e.Label == label {
			return e
		}
	}
	t.Fatalf("no %q in the tray menu %q", label, labels(menu))
	return menuEntry{}
}

// click sends the dbusmenu "clicked" event for the entry with label, as a
// tray host does when the user picks it.
func click(t *testing.T, conn *dbus.Conn, it snItem, label string) {
	t.Helper()
	e := entry(t, readMenu(t, conn, it), label)
	call := conn.Object(it.Service, it.Path+"/menu").Call("com.canonical.dbusmenu.Event", 0,
		e.ID, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix()))
	if call.Err != nil && !(label == tray.LabelQuit && isNoReply(call.Err)) {
		t.Fatalf("click %q: %v", label, call.Err)
	}
}

// isNoReply reports whether a call failed because the callee left the bus
// before it answered: Quit may end the app before its reply to the click
// is written (the caller checks that the app ended).
func isNoReply(err error) bool {
	var e dbus.Error
	var pe *dbus.Error
	switch {
	case errors.As(err, &e):
		return e.Name == "org.freedesktop.DBus.Error.NoReply"
	case errors.As(err, &pe):
		return pe.Name == "org.freedesktop.DBus.Error.NoReply"
	}
	return false
}

// tooltip reads the item's tooltip title.
func tooltip(t *testing.T, conn *dbus.Conn, it snItem) string {
	t.Helper()
	v, err := conn.Object(it.Service, it.Path).GetProperty("org.kde.StatusNotifierItem.ToolTip")
	if err != nil {
		t.Fatalf("read ToolTip: %v", err)
	}
	var tip struct {
		Name  string
		Icons []struct {
			W, H int32
			Pix  []byte
		}
		Title, Text string
	}
	if err := dbus.Store([]any{v.Value()}, &tip); err != nil {
		t.Fatalf("ToolTip %v: %v", v, err)
	}
	return tip.Title
}

// waitTooltip waits until the tooltip reads want.
func waitTooltip(t *testing.T, conn *dbus.Conn, it snItem, want string) {
	t.Helper()
	var last string
	deadline := time.Now().Add(waitTimeout)
	for {
		if last = tooltip(t, conn, it); last == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tooltip %q, want %q", last, want)
		}
		time.Sleep(50 * time.Millisecond) // polling a real process, with a deadline
	}
}

// iconPixmap reads the item's icon as fyne.io/systray exports it: ARGB32
// rows, big-endian.
func iconPixmap(t *testing.T, conn *dbus.Conn, it snItem) (w, h int32, pix []byte) {
	t.Helper()
	v, err := conn.Object(it.Service, it.Path).GetProperty("org.kde.StatusNotifierItem.IconPixmap")
	if err != nil {
		t.Fatalf("read IconPixmap: %v", err)
	}
	var px []struct {
		W, H int32
		Pix  []byte
	}
	if err := dbus.Store([]any{v.Value()}, &px); err != nil || len(px) == 0 {
		t.Fatalf("IconPixmap %v: %v", v, err)
	}
	return px[0].W, px[0].H, px[0].Pix
}

// wantPixmap is a tray state's icon converted as fyne.io/systray does.
func wantPixmap(t *testing.T, s tray.State, unread int) []byte {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(tray.IconPNG(s, unread)))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	out := make([]byte, 0, 4*b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			out = append(out, byte(a), byte(r), byte(g), byte(bl))
		}
	}
	return out
}

// waitIcon waits until the tray shows the icon of state s.
func waitIcon(t *testing.T, conn *dbus.Conn, it snItem, s tray.State, unread int) {
	t.Helper()
	want := wantPixmap(t, s, unread)
	deadline := time.Now().Add(waitTimeout)
	for {
		w, h, pix := iconPixmap(t, conn, it)
		if w == tray.IconSize && h == tray.IconSize && bytes.Equal(pix, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tray icon is not the %v icon (unread %d): %dx%d", s, unread, w, h)
		}
		time.Sleep(50 * time.Millisecond) // polling a real process, with a deadline
	}
}

// historyTitle matches the history window's title, which carries the unread
// count ("EchoTray — History (3 unread)").
const historyTitle = `EchoTray — History( \([0-9]+ unread\))?`

// windowVisible reports whether a mapped X window's whole title matches the
// regular expression title.
func windowVisible(t *testing.T, d *Desktop, title string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", "search", "--onlyvisible", "--name", "^"+title+"$")
	cmd.Env = d.Env()
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: no match
		t.Fatalf("xdotool: %v", err)
	}
	return strings.TrimSpace(string(out)) != ""
}

func needXdotool(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Fatal("xdotool is needed (apt-get install xdotool)")
	}
}

// TestTrayRegistersOnWatcher runs the real binary signed in on a private
// desktop with a StatusNotifierWatcher: the tray item registers, its menu is
// readable over com.canonical.dbusmenu, the icon and tooltip follow the
// connection, menu clicks act, a second launch hands over, and Quit ends it.
func TestTrayRegistersOnWatcher(t *testing.T) {
	needXdotool(t)
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	w, conn := startWatcher(t, d)
	st := StartStack(t)
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}

	run := a.Start(t, "--hidden")
	it := w.waitItem(t)
	if it.Path != "/StatusNotifierItem" {
		t.Errorf("item path %s", it.Path)
	}

	waitTooltip(t, conn, it, "EchoTray — connected as Alice Wanjiru")
	waitIcon(t, conn, it, tray.Connected, 0)
	menu := readMenu(t, conn, it)
	want := []string{
		"EchoTray — connected as Alice Wanjiru",
		"Open history", "Pause notifications for 1 hour", "Settings", "Reconnect now",
		"Send test notification", "Sign out", "Quit",
	}
	if got := labels(menu); !slices.Equal(got, want) {
		t.Errorf("tray menu labels\n got %q\nwant %q", got, want)
	}
	for _, l := range want[1:] {
		if !entry(t, menu, l).Enabled {
			t.Errorf("%q is disabled while signed in", l)
		}
	}
	if entry(t, menu, want[0]).Enabled {
		t.Error("the status line is clickable")
	}

	// Started hidden: no window until the tray icon is clicked.
	if windowVisible(t, d, historyTitle) {
		t.Error("a window opened although started with --hidden")
	}
	if err := conn.Object(it.Service, it.Path).Call("org.kde.StatusNotifierItem.Activate", 0, int32(0), int32(0)).Err; err != nil {
		t.Fatalf("Activate (left click): %v", err)
	}
	waitUntil(t, "the history window after a left click", func() bool { return windowVisible(t, d, historyTitle) })
	// The core has no GUI toolkit: the window is its window process's.
	windowOf(t, d, a, run, historyTitle, "history")

	// A new event: unread count in the tooltip and the badge on the icon.
	st.WaitSubscribed(t, "tenant.1")
	st.Publish(t, "tenant.1", `App\Events\UserCreated`, map[string]any{
		"user": map[string]any{"id": 9, "name": "Bob Kamau", "email": "bob@example.test"}, "tenant_id": 1,
	})
	waitTooltip(t, conn, it, "EchoTray — connected as Alice Wanjiru · 1 unread")
	waitIcon(t, conn, it, tray.Connected, 1)

	// Pause from the menu: saved, shown, and the item turns into Resume.
	click(t, conn, it, "Pause notifications for 1 hour")
	waitIcon(t, conn, it, tray.Paused, 1)
	waitUntil(t, "Resume notifications in the menu", func() bool {
		return slices.Contains(labels(readMenu(t, conn, it)), "Resume notifications")
	})
	if !strings.Contains(readAll(a.ConfigFile()), `"paused_until"`) {
		t.Errorf("pause not saved in the config file:\n%s", readAll(a.ConfigFile()))
	}
	click(t, conn, it, "Resume notifications")
	waitIcon(t, conn, it, tray.Connected, 1)

	// Send test notification reaches the notification server.
	click(t, conn, it, "Send test notification")
	d.WaitNotification(t, "the test notification", func(n Notification) bool {
		return n.AppName == "EchoTray" && n.Summary == "Test Notification" && n.Body == "Desktop notifications work."
	})

	// A second launch hands over to the running one and exits 0 at once.
	start := time.Now()
	if r := a.Run(t, ""); r.Code != 0 {
		t.Errorf("second launch:\n%s", r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("second launch took %s", d)
	}
	if run.proc.Exited() {
		t.Fatal("the first instance ended when the second started")
	}

	// Quit from the menu ends the app cleanly, window process included.
	click(t, conn, it, "Quit")
	if code := run.Wait(t); code != 0 {
		t.Errorf("exit code %d after Quit", code)
	}
	allGone(t, d, a)
}

// TestTraySessionExpiry revokes the token on the server: the tray shows the
// expired state and the sign-in window opens, with a desktop notification.
func TestTraySessionExpiry(t *testing.T) {
	needXdotool(t)
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	w, conn := startWatcher(t, d)
	st := StartStack(t)
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	run := a.Start(t, "--hidden")
	it := w.waitItem(t)
	waitTooltip(t, conn, it, "EchoTray — connected as Alice Wanjiru")

	st.Laravel.RevokeAll()
	click(t, conn, it, "Reconnect now") // re-authorises the private channel: 401
	waitTooltip(t, conn, it, "EchoTray — session expired, please sign in again")
	waitIcon(t, conn, it, tray.Expired, 0)
	d.WaitNotification(t, "session expired", func(n Notification) bool {
		return n.Body == "Session expired, please sign in again"
	})
	waitUntil(t, "the sign-in window", func() bool { return windowVisible(t, d, "Sign in to EchoTray") })
	windowOf(t, d, a, run, "Sign in to EchoTray", "signin")
	menu := readMenu(t, conn, it)
	for _, l := range []string{"Sign out", "Reconnect now", "Pause notifications for 1 hour"} {
		if entry(t, menu, l).Enabled {
			t.Errorf("%q enabled after the session expired", l)
		}
	}
	entry(t, menu, "Sign in…")
	click(t, conn, it, "Quit")
	if code := run.Wait(t); code != 0 {
		t.Errorf("exit code %d after Quit", code)
	}
	allGone(t, d, a)
}

// TestNoTrayHostKeepsWindow starts the app where no StatusNotifierWatcher
// exists (GNOME without AppIndicator): the history window opens even with
// --hidden, so the app stays reachable; when a tray host appears, the item
// registers with it.
func TestNoTrayHostKeepsWindow(t *testing.T) {
	needXdotool(t)
	d := StartDesktop(t, DesktopOptions{Keyring: true})
	st := StartStack(t)
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	run := a.Start(t, "--hidden")
	waitUntil(t, "the history window without a tray host", func() bool {
		return windowVisible(t, d, historyTitle)
	})
	wp := windowOf(t, d, a, run, historyTitle, "history")

	// The AppIndicator extension is switched on: the item registers.
	w, conn := startWatcher(t, d)
	it := w.waitItem(t)
	waitTooltip(t, conn, it, "EchoTray — connected as Alice Wanjiru")
	// The window stays: the same process keeps it open.
	if ws := a.windowProcs(); len(ws) != 1 || ws[0].PID != wp.PID || !windowVisible(t, d, historyTitle) {
		t.Errorf("the history window or its process changed when the tray host appeared: %v (was %v)", ws, wp)
	}
	click(t, conn, it, "Quit")
	if code := run.Wait(t); code != 0 {
		t.Errorf("exit code %d after Quit", code)
	}
	allGone(t, d, a)
}

// sanctumTokenRE matches a Laravel Sanctum token ("<id>|<40 characters>").
var sanctumTokenRE = regexp.MustCompile(`\d+\|[A-Za-z0-9]{40}`)

// TestSignInWindowSessionOnlyWithoutKeyring signs in through the sign-in
// window, typed as a user would, on a desktop without a Secret Service: the
// window offers the session-only sign-in, the app connects, no token is
// written anywhere, and after a restart nobody is signed in.
func TestSignInWindowSessionOnlyWithoutKeyring(t *testing.T) {
	needXdotool(t)
	d := StartDesktop(t, DesktopOptions{})
	w, conn := startWatcher(t, d)
	st := StartStack(t)
	a := d.NewApp(t)
	writeConfig(t, a, st)

	run := a.Start(t)
	it := w.waitItem(t)
	waitTooltip(t, conn, it, "EchoTray — not signed in")
	win := waitWindow(t, d, "Sign in to EchoTray")
	windowOf(t, d, a, run, "Sign in to EchoTray", "signin")
	// The keyring check runs at start; the window grows by the explanation
	// and the session-only option.
	waitUntil(t, "the session-only option in the sign-in window", func() bool {
		_, h := windowSize(t, d, win)
		return h > 300
	})
	xdo(t, d, "type", "--window", win, "--delay", "10", "alice@tenant1.test")
	xdo(t, d, "key", "--window", win, "Return") // to the password
	xdo(t, d, "type", "--window", win, "--delay", "10", "password")
	xdo(t, d, "key", "--window", win, "Tab", "space") // tick "Keep me signed in only for this session"
	xdo(t, d, "key", "--window", win, "shift+Tab", "Return")
	waitTooltip(t, conn, it, "EchoTray — connected as Alice Wanjiru")
	if windowVisible(t, d, "Sign in to EchoTray") {
		t.Error("sign-in window still open after signing in")
	}
	if n := st.Laravel.Tokens(); n != 1 {
		t.Errorf("%d tokens issued, want 1", n)
	}
	_ = filepath.WalkDir(a.Dir, func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() && !strings.Contains(filepath.Base(p), "history.db") && sanctumTokenRE.MatchString(readAll(p)) {
			t.Errorf("a token is written in %s", p)
		}
		return nil
	})

	click(t, conn, it, "Quit")
	if code := run.Wait(t); code != 0 {
		t.Fatalf("exit code %d after Quit", code)
	}
	allGone(t, d, a)
	// The token lived in memory only: the next start is signed out.
	run = a.Start(t)
	it = w.waitItem(t)
	waitTooltip(t, conn, it, "EchoTray — not signed in")
	waitWindow(t, d, "Sign in to EchoTray")
	click(t, conn, it, "Quit")
	run.Wait(t)
	allGone(t, d, a)
}

// windowOf checks that the visible window titled title (a regular
// expression) belongs to the window process the core started with --show
// show, and returns that process.
func windowOf(t *testing.T, d *Desktop, a *App, core *Running, title, show string) procInfo {
	t.Helper()
	w := a.waitWindowProc(t, core.PID(), show)
	if pid := windowPID(t, d, waitWindow(t, d, title)); pid != w.PID {
		t.Errorf("the window %q belongs to pid %d, not to the window process %v", title, pid, w)
	}
	return w
}

// allGone checks, after the core ended, that no process of ours is left
// and that the core removed its socket.
func allGone(t *testing.T, d *Desktop, a *App) {
	t.Helper()
	waitUntil(t, "no EchoTray process left", func() bool { return len(a.ourProcs()) == 0 })
	if _, err := os.Stat(d.socketPath()); !os.IsNotExist(err) {
		t.Errorf("the socket %s is left after the core ended (%v)", d.socketPath(), err)
	}
}

// writeConfig points the app's config file at the stack.
func writeConfig(t *testing.T, a *App, st *Stack) {
	t.Helper()
	cfg := fmt.Sprintf(`{"server": %q, "pusher": {"key": %q, "host": %q, "port": %d, "scheme": "http"}}`,
		st.Laravel.URL(), st.Soketi.Key, st.Soketi.Host, st.Soketi.Port)
	if err := os.MkdirAll(filepath.Dir(a.ConfigFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.ConfigFile(), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// xdo runs xdotool on the desktop's display.
func xdo(t *testing.T, d *Desktop, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = d.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// waitWindow waits for a mapped window with exactly this title and returns
// its X id.
func waitWindow(t *testing.T, d *Desktop, title string) string {
	t.Helper()
	waitUntil(t, "the window "+title, func() bool { return windowVisible(t, d, title) })
	return strings.Fields(xdo(t, d, "search", "--onlyvisible", "--name", "^"+title+"$"))[0]
}

// windowSize returns a window's width and height.
func windowSize(t *testing.T, d *Desktop, id string) (w, h int) {
	t.Helper()
	out := xdo(t, d, "getwindowgeometry", "--shell", id)
	for _, line := range strings.Fields(out) {
		k, v, _ := strings.Cut(line, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "WIDTH":
			w = n
		case "HEIGHT":
			h = n
		}
	}
	return w, h
}
