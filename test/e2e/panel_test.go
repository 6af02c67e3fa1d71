//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// panelTimeout bounds the start of the panel (xfconfd, the panel and its
// plugin processes on a loaded machine).
const panelTimeout = 60 * time.Second

// xfconfdPath finds the Xfconf daemon, which Debian installs outside PATH.
func xfconfdPath() string {
	if p, err := exec.LookPath("xfconfd"); err == nil {
		return p
	}
	for _, pattern := range []string{"/usr/lib/*/xfce4/xfconf/xfconfd", "/usr/lib/xfce4/xfconf/xfconfd", "/usr/libexec/xfce4/xfconf/xfconfd"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

// needPanel fails the test when the pieces of the Xfce desktop are missing.
func needPanel(t *testing.T) {
	t.Helper()
	needXdotool(t)
	var missing []string
	for _, tl := range []struct{ bin, pkg string }{{"xfce4-panel", "xfce4-panel"}, {"xfwm4", "xfwm4"}, {"xprop", "x11-utils"}} {
		if _, err := exec.LookPath(tl.bin); err != nil {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", tl.bin, tl.pkg))
		}
	}
	if xfconfdPath() == "" {
		missing = append(missing, "xfconfd (apt-get install xfconf; xfce4-panel depends on it)")
	}
	if len(missing) > 0 {
		t.Fatalf("the real tray host tests need: %s", strings.Join(missing, ", "))
	}
}

// Panel is a real tray host: xfce4-panel, whose systray plugin owns
// org.kde.StatusNotifierWatcher and shows StatusNotifierItems, with the
// xfwm4 window manager, on a test desktop.
type Panel struct {
	d    *Desktop
	conn *dbus.Conn
}

// StartPanel starts Xfconf, xfwm4 and xfce4-panel on d and waits until the
// panel's systray plugin provides the StatusNotifierWatcher.
func StartPanel(t *testing.T, d *Desktop) *Panel {
	t.Helper()
	needPanel(t)
	env := startXfwm(t, d)
	panel := startProc(t, "xfce4-panel", env, nil, "xfce4-panel", "--disable-wm-check")
	deadline := time.Now().Add(panelTimeout)
	for !d.NameHasOwner(t, "org.kde.StatusNotifierWatcher") {
		if panel.Exited() || time.Now().After(deadline) {
			t.Fatalf("xfce4-panel did not provide org.kde.StatusNotifierWatcher within %s (exited: %t): its systray "+
				"plugin owns that name; check that the panel layout it loaded (Xfconf channel xfce4-panel, by default "+
				"/etc/xdg/xfce4/panel/default.xml) has a systray plugin\n--- panel output:\n%s",
				panelTimeout, panel.Exited(), tail(panel.Out.String(), 4000))
		}
		time.Sleep(100 * time.Millisecond) // polling a real process, with a deadline
	}
	conn, err := dbus.Connect(d.Bus)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Panel{d: d, conn: conn}
}

// startXfwm starts Xfconf and the xfwm4 window manager on d and returns
// the environment for more Xfce programs there.
func startXfwm(t *testing.T, d *Desktop) []string {
	t.Helper()
	needPanel(t)
	env := d.Env("NO_AT_BRIDGE=1") // no accessibility bus on the test desktop
	// The panel's layout and xfwm4's key bindings (Alt+F4) come from
	// Xfconf. The test bus starts no services, so xfconfd is started here;
	// with the desktop's empty XDG_CONFIG_HOME it serves the system
	// defaults (/etc/xdg/xfce4/…), whose panel has the systray plugin.
	startProc(t, "xfconfd", env, nil, xfconfdPath())
	d.WaitName(t, "org.xfce.Xfconf")
	startProc(t, "xfwm4", env, nil, "xfwm4", "--compositor=off")
	waitUntil(t, "xfwm4 to manage the screen", func() bool {
		cmd := exec.Command("xprop", "-root", "_NET_SUPPORTING_WM_CHECK")
		cmd.Env = env
		out, _ := cmd.Output()
		return strings.Contains(string(out), "window id")
	})
	return env
}

// Items returns the panel watcher's RegisteredStatusNotifierItems.
func (p *Panel) Items(t *testing.T) []string {
	t.Helper()
	v, err := p.conn.Object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher").
		GetProperty("org.kde.StatusNotifierWatcher.RegisteredStatusNotifierItems")
	if err != nil {
		t.Fatalf("read RegisteredStatusNotifierItems: %v", err)
	}
	var items []string
	if err := v.Store(&items); err != nil {
		t.Fatalf("RegisteredStatusNotifierItems %v: %v", v, err)
	}
	return items
}

// parseItem splits a registered item ("<bus name>/<object path>", or a bus
// name alone) into its service and path.
func parseItem(s string) snItem {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return snItem{Service: s[:i], Path: dbus.ObjectPath(s[i:])}
	}
	return snItem{Service: s, Path: "/StatusNotifierItem"}
}

// pidOf returns the process id of a bus connection (0 when it is gone).
func (p *Panel) pidOf(service string) int {
	var pid uint32
	if err := p.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, service).Store(&pid); err != nil {
		return 0
	}
	return int(pid)
}

// waitItem waits until the panel shows an item of the process pid.
func (p *Panel) waitItem(t *testing.T, pid int) snItem {
	t.Helper()
	var it snItem
	waitUntil(t, fmt.Sprintf("the tray item of pid %d among the panel's RegisteredStatusNotifierItems", pid), func() bool {
		for _, s := range p.Items(t) {
			if c := parseItem(s); p.pidOf(c.Service) == pid {
				it = c
				return true
			}
		}
		return false
	})
	return it
}

// waitNoItem waits until the panel no longer lists it.
func (p *Panel) waitNoItem(t *testing.T, it snItem) {
	t.Helper()
	waitUntil(t, "the tray item to leave the panel", func() bool {
		return !slices.ContainsFunc(p.Items(t), func(s string) bool { return parseItem(s) == it })
	})
}

// waitMenuLabel waits until the item's menu has an entry labelled label.
func waitMenuLabel(t *testing.T, conn *dbus.Conn, it snItem, label string) {
	t.Helper()
	var last []string
	waitUntilFor(t, reconnectTimeout, fmt.Sprintf("%q in the tray menu", label), func() bool {
		last = labels(readMenu(t, conn, it))
		return slices.Contains(last, label)
	})
}

// windowPID returns the process that owns an X window (_NET_WM_PID).
func windowPID(t *testing.T, d *Desktop, id string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(xdo(t, d, "getwindowpid", id)))
	if err != nil {
		t.Fatalf("the window %s has no pid: %v", id, err)
	}
	return pid
}

// closeWindow closes a window as a user does: the window manager's Alt+F4
// (WM_DELETE_WINDOW, which the app may intercept).
func closeWindow(t *testing.T, d *Desktop, id string) {
	t.Helper()
	xdo(t, d, "windowactivate", "--sync", id)
	xdo(t, d, "key", "--clearmodifiers", "alt+F4")
}

// socketPath is the core's per-user socket on the desktop.
func (d *Desktop) socketPath() string { return filepath.Join(d.Dir, "runtime", "echotray.sock") }

// signedInCore signs alice in with the CLI and starts the core hidden on
// a desktop with the panel; it returns once the panel shows the item,
// connected.
func signedInCore(t *testing.T, d *Desktop, p *Panel, st *Stack) (*App, *Running, snItem) {
	t.Helper()
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	core := a.Start(t, "--hidden")
	it := p.waitItem(t, core.PID())
	waitMenuLabel(t, p.conn, it, "EchoTray — connected as Alice Wanjiru")
	return a, core, it
}

// unreadTitles returns the titles of the unread history entries.
func unreadTitles(t *testing.T, a *App) []string {
	t.Helper()
	var out []string
	for _, h := range historyLines(t, a) {
		if h["read"] == false {
			out = append(out, h["title"].(string))
		}
	}
	slices.Sort(out)
	return out
}

// TestPanelTray runs the core signed in under a real tray host, xfce4-panel:
// the item registers with the panel and its menu is readable; Open history
// starts the window process, whose window shows; clicking a desktop
// notification shows its entry; the core outlives a killed window process
// and keeps notifying; the window process ends with a killed core.
func TestPanelTray(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	p := StartPanel(t, d)
	st := StartStack(t)
	a, core, it := signedInCore(t, d, p, st)

	// (a) The item is the panel's, with the menu over com.canonical.dbusmenu.
	menu := readMenu(t, p.conn, it)
	for _, l := range []string{"Open history", "Quit"} {
		if !entry(t, menu, l).Enabled {
			t.Errorf("%q is disabled", l)
		}
	}
	if entry(t, menu, "EchoTray — connected as Alice Wanjiru").Enabled {
		t.Error("the status line is clickable")
	}
	if ws := a.windowProcs(); len(ws) != 0 || windowVisible(t, d, historyTitle) {
		t.Errorf("started with --hidden, yet a window process runs: %v", ws)
	}

	// (b) Open history starts the window process; the window is its own.
	click(t, p.conn, it, "Open history")
	w1 := a.waitWindowProc(t, core.PID(), "history")
	win := waitWindow(t, d, historyTitle)
	if pid := windowPID(t, d, win); pid != w1.PID {
		t.Errorf("the history window belongs to pid %d, not to the window process %v", pid, w1)
	}
	// The first close shows the one-time hint that EchoTray keeps running
	// in the tray, so the window stays; closing it again over the hint
	// hides it, and the process stays for the next Open history.
	closeWindow(t, d, win)
	time.Sleep(time.Second)
	if !windowVisible(t, d, historyTitle) {
		t.Fatal("the first close hid the history window without the tray hint")
	}
	closeWindow(t, d, win)
	waitUntil(t, "the history window to close", func() bool { return !windowVisible(t, d, historyTitle) })
	click(t, p.conn, it, "Open history")
	win = waitWindow(t, d, historyTitle)
	if ws := a.windowProcs(); len(ws) != 1 || ws[0].PID != w1.PID || windowPID(t, d, win) != w1.PID {
		t.Errorf("reopening the history started another window process: %v (first %v)", ws, w1)
	}

	// (c) Two events, two notifications; a click on the first one's bubble
	// shows its entry, which marks that one read (and only that one).
	st.WaitSubscribed(t, "tenant.1")
	st.Publish(t, "tenant.1", `App\Events\UserCreated`, map[string]any{
		"user": map[string]any{"id": 9, "name": "Bob Kamau", "email": "bob@example.test"}, "tenant_id": 1,
	})
	user := d.WaitNotification(t, "User Created, with its id", func(n Notification) bool {
		return n.Summary == "User Created" && strings.Contains(n.Body, "Bob Kamau") && n.ID != 0
	})
	st.Publish(t, "tenant.1", `App\Events\PaymentCompleted`, map[string]any{"amount": 500, "currency": "KES", "phone": "0712345678"})
	d.WaitNotification(t, "Payment Completed", func(n Notification) bool { return n.Summary == "Payment Completed" })
	if !slices.Contains(user.Actions, "default") {
		t.Fatalf("the notification offers no default action to click: %q", user.Actions)
	}
	waitTooltip(t, p.conn, it, "EchoTray — connected as Alice Wanjiru · 2 unread")
	waitMenuLabel(t, p.conn, it, "EchoTray — connected as Alice Wanjiru · 2 unread")
	waitWindow(t, d, "EchoTray — History \\(2 unread\\)")
	if err := p.conn.Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications.ActionInvoked", user.ID, "default"); err != nil {
		t.Fatalf("emit ActionInvoked: %v", err)
	}
	waitTooltip(t, p.conn, it, "EchoTray — connected as Alice Wanjiru · 1 unread")
	waitWindow(t, d, "EchoTray — History \\(1 unread\\)")
	if got := unreadTitles(t, a); !slices.Equal(got, []string{"Payment Completed"}) {
		t.Errorf("after clicking the User Created notification the unread entries are %q, want only Payment Completed", got)
	}
	if ws := a.windowProcs(); len(ws) != 1 || ws[0].PID != w1.PID {
		t.Errorf("the click started another window process: %v (first %v)", ws, w1)
	}

	// (d) kill -9 of the window process: the core stays, connected, and
	// keeps notifying.
	kill9(t, w1.PID)
	waitGone(t, w1.PID, waitTimeout, "the killed window process to go")
	waitUntil(t, "the core to notice the window process ended", func() bool {
		return strings.Contains(readAll(a.LogFile()), "window process exited")
	})
	if windowVisible(t, d, historyTitle) {
		t.Error("a history window is still shown after its process was killed")
	}
	st.Publish(t, "tenant.1", `App\Events\UserCreated`, map[string]any{
		"user": map[string]any{"id": 10, "name": "Carol Njeri", "email": "carol@example.test"}, "tenant_id": 1,
	})
	d.WaitNotification(t, "User Created for Carol after the window process was killed", func(n Notification) bool {
		return n.Summary == "User Created" && strings.Contains(n.Body, "Carol Njeri")
	})
	if core.proc.Exited() {
		t.Fatal("the core ended with its window process")
	}
	waitTooltip(t, p.conn, it, "EchoTray — connected as Alice Wanjiru · 2 unread")

	// (e) Open history again: a new window process. kill -9 of the core:
	// the window process exits within 2 s and the item leaves the panel.
	click(t, p.conn, it, "Open history")
	w2 := a.waitWindowProc(t, core.PID(), "history", w1.PID)
	waitWindow(t, d, "EchoTray — History \\(2 unread\\)")
	kill9(t, core.PID())
	start := time.Now()
	select {
	case <-core.proc.done:
	case <-time.After(waitTimeout):
		t.Fatal("the core did not die of kill -9")
	}
	waitGone(t, w2.PID, 10*time.Second, "the window process to exit after the core was killed")
	took := time.Since(start)
	t.Logf("the window process exited %s after kill -9 of the core", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("the window process took %s to exit after the core was killed, want at most 2 s", took.Round(time.Millisecond))
	}
	p.waitNoItem(t, it)
	if ps := a.ourProcs(); len(ps) != 0 {
		t.Errorf("processes left after the core was killed: %v", ps)
	}

	// The killed core left its socket behind; the next start takes it over.
	core = a.Start(t, "--hidden")
	it = p.waitItem(t, core.PID())
	waitMenuLabel(t, p.conn, it, "EchoTray — connected as Alice Wanjiru · 2 unread")
	click(t, p.conn, it, "Quit")
	if code := core.Wait(t); code != 0 {
		t.Errorf("exit code %d after Quit", code)
	}
	allGone(t, d, a)
}

// TestPanelTraySecondLaunchAndQuit: under xfce4-panel, a second `echotray`
// launch exits 0 and the running core shows the history window; Quit from
// the tray menu ends the core and the window process, leaves none of ours
// running and removes the socket.
func TestPanelTraySecondLaunchAndQuit(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	p := StartPanel(t, d)
	st := StartStack(t)
	a, core, it := signedInCore(t, d, p, st)
	if ws := a.windowProcs(); len(ws) != 0 {
		t.Errorf("started with --hidden, yet a window process runs: %v", ws)
	}
	if _, err := os.Stat(d.socketPath()); err != nil {
		t.Fatalf("the core's socket: %v", err)
	}

	// (g) A second launch hands over to the running core and exits 0.
	start := time.Now()
	if r := a.Run(t, ""); r.Code != 0 {
		t.Errorf("second launch:\n%s", r)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the second launch took %s", took)
	}
	w := a.waitWindowProc(t, core.PID(), "history")
	win := waitWindow(t, d, historyTitle)
	if pid := windowPID(t, d, win); pid != w.PID {
		t.Errorf("the history window belongs to pid %d, not to the window process %v", pid, w)
	}
	if ps := a.ourProcs(); len(ps) != 2 {
		t.Errorf("want the core and one window process, have %v", ps)
	}
	if core.proc.Exited() {
		t.Fatal("the core ended when the second launch started")
	}

	// (f) Quit from the tray menu ends both; nothing of ours is left.
	click(t, p.conn, it, "Quit")
	if code := core.Wait(t); code != 0 {
		t.Errorf("exit code %d after Quit", code)
	}
	waitGone(t, w.PID, waitTimeout, "the window process to exit after Quit")
	allGone(t, d, a)
	p.waitNoItem(t, it)
	if windowVisible(t, d, historyTitle) {
		t.Error("the history window is still shown after Quit")
	}
}

// TestNoTrayHostCloseQuits: without a tray host the history window is the
// only way in; closing it (Alt+F4 in xfwm4) quits the window process and
// the core.
func TestNoTrayHostCloseQuits(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := StartStack(t)
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	startXfwm(t, d)
	core := a.Start(t, "--hidden")
	w := a.waitWindowProc(t, core.PID(), "history")
	win := waitWindow(t, d, historyTitle)
	if pid := windowPID(t, d, win); pid != w.PID {
		t.Errorf("the history window belongs to pid %d, not to the window process %v", pid, w)
	}
	// Closing quits only once the window process knows from the core that
	// no tray host exists: a new event's unread count in the title comes
	// with a state sent after the first.
	st.WaitSubscribed(t, "tenant.1")
	st.Publish(t, "tenant.1", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"id": 9, "name": "Bob Kamau"}, "tenant_id": 1})
	win = waitWindow(t, d, "EchoTray — History \\(1 unread\\)")
	closeWindow(t, d, win)
	if code := core.Wait(t); code != 0 {
		t.Errorf("exit code %d after closing the only window", code)
	}
	waitGone(t, w.PID, waitTimeout, "the window process to exit")
	if ps := a.ourProcs(); len(ps) != 0 {
		t.Errorf("processes left after closing the only window: %v", ps)
	}
}
