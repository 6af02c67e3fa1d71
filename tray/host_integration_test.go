//go:build integration && linux

package tray

// The integration test runs a real Host (fyne.io/systray) against a private
// session bus and looks at it the way a desktop's tray does: over D-Bus, as
// a StatusNotifierItem with a com.canonical.dbusmenu menu.
//
// systray keeps its state in package globals and runs once per process, so
// the Host runs in a child process: this test binary re-executed with
// helperEnv set, running TestHostHelperProcess. The child takes commands on
// stdin and reports what happens as "EVENT ..." lines on stdout.

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	helperEnv   = "ECHOTRAY_TRAY_HOST_HELPER"
	waitTimeout = 5 * time.Second
)

// busConfig is a session bus without service activation.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// helperModel is the menu the child shows for a command.
func helperModel(cmd string) (Status, int) {
	switch cmd {
	case "unread":
		return Status{Conn: Connected, User: "Alice"}, 2
	case "signedout":
		return Status{Conn: SignedOut}, 0
	}
	return Status{Conn: Connected, User: "Alice"}, 1
}

// TestHostHelperProcess is the child: it runs a Host on the session bus
// named by DBUS_SESSION_BUS_ADDRESS. It does nothing in a normal test run.
func TestHostHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestHostOverDBus")
	}
	var outMu sync.Mutex
	emit := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Printf("EVENT "+format+"\n", args...)
	}
	h := NewHost(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	act := func(name string) func() { return func() { emit("action %s", name) } }
	actions := Actions{
		OpenHistory: act("history"), SignIn: act("signin"), Pause: act("pause"), Resume: act("resume"),
		Settings: act("settings"), Reconnect: act("reconnect"), SendTest: act("test"), SignOut: act("signout"),
		Quit: func() { emit("action quit"); h.Quit() },
	}
	show := func(cmd string) {
		s, unread := helperModel(cmd)
		h.SetIcon(IconPNG(s.Shown(now), unread))
		h.SetTooltip(Tooltip(s, unread, now))
		h.SetMenu(Items(NewModel(s, unread, now), actions))
	}
	h.SetOnLeftClick(act("left"))
	h.SetTitle("EchoTray")
	show("start")
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmd := sc.Text()
			if cmd == "quit" {
				h.Quit()
				continue
			}
			show(cmd)
			emit("done %s", cmd)
		}
	}()
	h.Run(func() { emit("ready") }, func() { emit("exit") })
	emit("returned")
}

// child is the running helper process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan string
	done   chan struct{}
	stderr bytes.Buffer
}

func (c *child) send(t *testing.T, cmd string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		t.Fatalf("send %q to the child: %v", cmd, err)
	}
}

// want waits for the child's next event and checks it.
func (c *child) want(t *testing.T, event string) {
	t.Helper()
	select {
	case got, ok := <-c.events:
		if !ok {
			t.Fatalf("child ended before %q; stderr:\n%s", event, c.stderr.String())
		}
		if got != event {
			t.Fatalf("child event %q, want %q", got, event)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("no %q from the child within %s", event, waitTimeout)
	}
}

// none checks that the child reports nothing for a moment.
func (c *child) none(t *testing.T) {
	t.Helper()
	select {
	case got := <-c.events:
		t.Fatalf("child event %q, want none", got)
	case <-time.After(300 * time.Millisecond): // a negative over a real bus: wait a little
	}
}

// watcher is a minimal org.kde.StatusNotifierWatcher: it records the items
// that register.
type watcher struct {
	mu    sync.Mutex
	items []snItem
}

type snItem struct {
	Service string
	Path    dbus.ObjectPath
}

func (w *watcher) RegisterStatusNotifierItem(service string, sender dbus.Sender) *dbus.Error {
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

func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// startBus starts a private dbus-daemon and returns its address; it ends
// at cleanup.
func startBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Fatal("dbus-daemon not found (scripts/deps.sh installs it)")
	}
	conf := filepath.Join(t.TempDir(), "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=3")
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer // warnings such as "Failed to set fd limit" as non-root
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("dbus-daemon stderr:\n%s", stderr.String())
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		r.Close()
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatal("dbus-daemon printed no address")
		}
		return addr
	case <-time.After(waitTimeout):
		t.Fatal("dbus-daemon printed no address in time")
		return ""
	}
}

// startChild re-executes the test binary as the helper on bus addr.
func startChild(t *testing.T, addr string) *child {
	t.Helper()
	c := &child{events: make(chan string, 32), done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestHostHelperProcess$", "-test.count=1")
	c.cmd.Env = append(os.Environ(), helperEnv+"=1", "DBUS_SESSION_BUS_ADDRESS="+addr)
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "EVENT "); ok {
				c.events <- ev
			}
		}
	}()
	go func() {
		c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("child stderr:\n%s", c.stderr.String())
		}
	})
	return c
}

// menuEntry is one top-level entry of the exported dbusmenu layout.
type menuEntry struct {
	ID        int32
	Label     string
	Separator bool
	Enabled   bool
}

func (e menuEntry) row() string {
	switch {
	case e.Separator:
		return "-"
	case !e.Enabled:
		return e.Label + " (off)"
	}
	return e.Label
}

func readMenu(t *testing.T, conn *dbus.Conn, it snItem) []menuEntry {
	t.Helper()
	v, err := conn.Object(it.Service, it.Path).GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("read Menu: %v", err)
	}
	var menuPath dbus.ObjectPath
	if err := v.Store(&menuPath); err != nil {
		t.Fatalf("Menu %v: %v", v, err)
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

func menuRows(m []menuEntry) []string {
	var out []string
	for _, e := range m {
		out = append(out, e.row())
	}
	return out
}

// waitMenu waits until the exported menu reads want.
func waitMenu(t *testing.T, conn *dbus.Conn, it snItem, want []string) []menuEntry {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		m := readMenu(t, conn, it)
		if slices.Equal(menuRows(m), want) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("menu\n got %q\nwant %q", menuRows(m), want)
		}
		time.Sleep(20 * time.Millisecond) // polling another process, with a deadline
	}
}

func click(t *testing.T, conn *dbus.Conn, it snItem, m []menuEntry, label string) {
	t.Helper()
	for _, e := range m {
		if e.Label == label {
			call := conn.Object(it.Service, it.Path+"/menu").Call("com.canonical.dbusmenu.Event", 0,
				e.ID, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix()))
			if call.Err != nil {
				t.Fatalf("click %q: %v", label, call.Err)
			}
			return
		}
	}
	t.Fatalf("no %q in %q", label, menuRows(m))
}

func itemProp(t *testing.T, conn *dbus.Conn, it snItem, name string) dbus.Variant {
	t.Helper()
	v, err := conn.Object(it.Service, it.Path).GetProperty("org.kde.StatusNotifierItem." + name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return v
}

func tooltipTitle(t *testing.T, conn *dbus.Conn, it snItem) string {
	t.Helper()
	var tip struct {
		Name  string
		Icons []struct {
			W, H int32
			Pix  []byte
		}
		Title, Text string
	}
	v := itemProp(t, conn, it, "ToolTip")
	if err := dbus.Store([]any{v.Value()}, &tip); err != nil {
		t.Fatalf("ToolTip %v: %v", v, err)
	}
	return tip.Title
}

// pixmap is the item's IconPixmap: ARGB32 rows, big-endian.
func pixmap(t *testing.T, conn *dbus.Conn, it snItem) (w, h int32, pix []byte) {
	t.Helper()
	var px []struct {
		W, H int32
		Pix  []byte
	}
	v := itemProp(t, conn, it, "IconPixmap")
	if err := dbus.Store([]any{v.Value()}, &px); err != nil || len(px) == 0 {
		t.Fatalf("IconPixmap %v: %v", v, err)
	}
	return px[0].W, px[0].H, px[0].Pix
}

func argb(t *testing.T, pngData []byte) []byte {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(pngData))
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

// waitShown waits until the item's tooltip and icon are those of the
// helper's model for cmd.
func waitShown(t *testing.T, conn *dbus.Conn, it snItem, cmd string) {
	t.Helper()
	s, unread := helperModel(cmd)
	wantTip := Tooltip(s, unread, now)
	wantPix := argb(t, IconPNG(s.Shown(now), unread))
	deadline := time.Now().Add(waitTimeout)
	for {
		tip := tooltipTitle(t, conn, it)
		w, h, pix := pixmap(t, conn, it)
		if tip == wantTip && w == IconSize && h == IconSize && bytes.Equal(pix, wantPix) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: tooltip %q (want %q), icon %dx%d matches: %v", cmd, tip, wantTip, w, h, bytes.Equal(pix, wantPix))
		}
		time.Sleep(20 * time.Millisecond) // polling another process, with a deadline
	}
}

func wantRows(cmd string) []string {
	s, unread := helperModel(cmd)
	all := func() {}
	return rows(Items(NewModel(s, unread, now), Actions{OpenHistory: all, SignIn: all, Pause: all, Resume: all,
		Settings: all, Reconnect: all, SendTest: all, SignOut: all, Quit: all}))
}

func menuVersion(t *testing.T, conn *dbus.Conn, it snItem) uint32 {
	t.Helper()
	v, err := conn.Object(it.Service, it.Path+"/menu").GetProperty("com.canonical.dbusmenu.Version")
	if err != nil {
		t.Fatalf("read the menu Version: %v", err)
	}
	var n uint32
	if err := v.Store(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ids(m []menuEntry) []int32 {
	var out []int32
	for _, e := range m {
		out = append(out, e.ID)
	}
	return out
}

func TestHostOverDBus(t *testing.T) {
	addr := startBus(t)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	w := &watcher{}
	if err := conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.kde.StatusNotifierWatcher: %v %v", reply, err)
	}

	c := startChild(t, addr)
	c.want(t, "ready")

	// The item registers with the watcher.
	var it snItem
	deadline := time.Now().Add(waitTimeout)
	for {
		w.mu.Lock()
		n := len(w.items)
		if n > 0 {
			it = w.items[0]
		}
		w.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tray item did not register with the StatusNotifierWatcher")
		}
		time.Sleep(20 * time.Millisecond) // polling another process, with a deadline
	}
	if it.Path != "/StatusNotifierItem" {
		t.Errorf("registered path %q", it.Path)
	}

	// Tooltip, icon, title and the left-click wish as set.
	waitShown(t, conn, it, "start")
	if v := itemProp(t, conn, it, "Title"); v.Value() != "EchoTray" {
		t.Errorf("Title %v", v)
	}
	if v := itemProp(t, conn, it, "ItemIsMenu"); v.Value() != false {
		t.Errorf("ItemIsMenu %v with a left-click handler", v)
	}

	// The menu: labels and enabled flags as Items gives them.
	m := waitMenu(t, conn, it, wantRows("start"))
	click(t, conn, it, m, LabelSettings)
	c.want(t, "action settings")
	click(t, conn, it, m, LabelOpenHistory)
	c.want(t, "action history")

	// A left click on the icon.
	if err := conn.Object(it.Service, it.Path).Call("org.kde.StatusNotifierItem.Activate", 0, int32(0), int32(0)).Err; err != nil {
		t.Fatalf("Activate: %v", err)
	}
	c.want(t, "action left")

	// The same model again: nothing changes on the bus.
	version := menuVersion(t, conn, it)
	c.send(t, "same")
	c.want(t, "done same")
	if v := menuVersion(t, conn, it); v != version {
		t.Errorf("menu version %d → %d for an unchanged menu", version, v)
	}

	// Only the status line changes: updated in place, the items keep their ids.
	c.send(t, "unread")
	c.want(t, "done unread")
	m2 := waitMenu(t, conn, it, wantRows("unread"))
	if !slices.Equal(ids(m2), ids(m)) {
		t.Errorf("item ids %v → %v for a changed label", ids(m), ids(m2))
	}
	waitShown(t, conn, it, "unread")
	click(t, conn, it, m2, LabelPause)
	c.want(t, "action pause")

	// Signed out: the menu is rebuilt with other items.
	c.send(t, "signedout")
	c.want(t, "done signedout")
	m3 := waitMenu(t, conn, it, wantRows("signedout"))
	waitShown(t, conn, it, "signedout")
	click(t, conn, it, m3, LabelSignOut) // disabled: nothing runs
	click(t, conn, it, m3, LabelSignIn)
	c.want(t, "action signin")
	c.none(t)

	// Quit from the menu ends Run and the process.
	click(t, conn, it, m3, LabelQuit)
	c.want(t, "action quit")
	c.want(t, "exit")
	c.want(t, "returned")
	select {
	case <-c.done:
		if !c.cmd.ProcessState.Success() {
			t.Errorf("child exited with %v; stderr:\n%s", c.cmd.ProcessState, c.stderr.String())
		}
	case <-time.After(waitTimeout):
		t.Fatal("child did not exit after Quit")
	}
}
