//go:build integration && linux

package notify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
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

// These tests run the real Linux notifier against a private dbus-daemon and
// a test-owned org.freedesktop.Notifications server that records every call.

const waitLimit = 10 * time.Second

// privateBus is a dbus-daemon started for one test.
type privateBus struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// startBus starts a private session bus with a minimal configuration (no
// service activation, so no real notification daemon can interfere) and
// stops it when the test ends.
func startBus(t *testing.T) *privateBus {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Fatalf("dbus-daemon not found (%v): install the Debian package dbus-daemon "+
			"(apt-get install dbus-daemon; on releases before Debian 12 the package is dbus)", err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "bus.conf")
	err = os.WriteFile(config, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=`+dir+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+config, "--nofork", "--nopidfile", "--nosyslog", "--print-address=1")
	// dbus-daemon complains harmlessly when it may not raise its fd limit;
	// show its output only when a test fails.
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dbus-daemon output:\n%s", stderr.String())
		}
	})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	b := &privateBus{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(b.stop)

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, out)
	}()
	select {
	case b.addr = <-line:
	case <-time.After(waitLimit):
		t.Fatal("dbus-daemon printed no address")
	}
	if b.addr == "" {
		t.Fatal("dbus-daemon exited without an address")
	}
	return b
}

// stop kills the daemon and waits for it.
func (b *privateBus) stop() {
	b.cmd.Process.Kill()
	<-b.done
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine of exec.Cmd.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// notifyRecord is one recorded Notify call.
type notifyRecord struct {
	AppName    string
	ReplacesID uint32
	AppIcon    string
	Summary    string
	Body       string
	Actions    []string
	Hints      map[string]dbus.Variant
	Expire     int32
	ID         uint32
}

// fdoServer is a test notification server.
type fdoServer struct {
	conn  *dbus.Conn
	caps  []string
	calls chan notifyRecord

	mu     sync.Mutex
	nextID uint32
}

// startServer connects to addr and owns org.freedesktop.Notifications.
func startServer(t *testing.T, addr string, caps ...string) *fdoServer {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("server: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &fdoServer{conn: conn, caps: caps, calls: make(chan notifyRecord, 16), nextID: 100}
	if err := conn.Export(s, fdoPath, fdoIface); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(fdoName, dbus.NameFlagDoNotQueue|dbus.NameFlagReplaceExisting|dbus.NameFlagAllowReplacement)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("server: own %s: %v %v", fdoName, reply, err)
	}
	return s
}

// GetCapabilities implements the freedesktop method.
func (s *fdoServer) GetCapabilities() ([]string, *dbus.Error) { return s.caps, nil }

// Notify implements the freedesktop method and records the call.
func (s *fdoServer) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, expire int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	s.calls <- notifyRecord{appName, replacesID, appIcon, summary, body, actions, hints, expire, id}
	return id, nil
}

// CloseNotification implements the freedesktop method.
func (s *fdoServer) CloseNotification(uint32) *dbus.Error { return nil }

// GetServerInformation implements the freedesktop method.
func (s *fdoServer) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "echotray-test", "echotray", "1", "1.2", nil
}

func (s *fdoServer) next(t *testing.T) notifyRecord {
	t.Helper()
	select {
	case r := <-s.calls:
		return r
	case <-time.After(waitLimit):
		t.Fatal("the notification server got no Notify call")
		return notifyRecord{}
	}
}

func urgencyHint(t *testing.T, r notifyRecord) byte {
	t.Helper()
	v, ok := r.Hints["urgency"]
	if !ok || v.Signature().String() != "y" {
		t.Fatalf("urgency hint missing or not a byte: %v", r.Hints)
	}
	return v.Value().(byte)
}

const testIcon = "/usr/share/icons/hicolor/64x64/apps/echotray.png"

func TestNotifierDBusIntegration(t *testing.T) {
	bus := startBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.addr)
	srv := startServer(t, bus.addr, "body", "body-markup", "actions", "persistence")

	clicks := make(chan int64, 4)
	notifier := NewDesktopNotifier("EchoTray", "net.traidnet.echotray", testIcon, func(id int64) { clicks <- id })
	store := &fakeStore{}
	center := NewCenter(CenterConfig{Store: store, Notifier: notifier, AppName: "EchoTray", Icon: testIcon})
	defer center.Close()

	// An error event whose payload carries markup.
	entry, _, err := center.Handle(t.Context(), Incoming{Channel: "tenant.1", Event: `App\Events\PaymentFailed`,
		Data: json.RawMessage(`{"payment":{"amount":1500,"currency":"KES","phone_number":"<b>0712</b>"},` +
			`"reason":"<a href=\"http://evil.test\">Tap & win</a>"}`)})
	if err != nil {
		t.Fatal(err)
	}
	r := srv.next(t)
	want := notifyRecord{
		AppName: "EchoTray", ReplacesID: 0, AppIcon: testIcon,
		Summary: "Payment Failed",
		Body: "Payment of KES 1,500.00 from &lt;b&gt;0712&lt;/b&gt; failed: " +
			"&lt;a href=&#34;http://evil.test&#34;&gt;Tap &amp; win&lt;/a&gt;.",
		Actions: []string{"default", "Open"},
		Expire:  -1,
	}
	if r.AppName != want.AppName || r.ReplacesID != 0 || r.AppIcon != want.AppIcon || r.Summary != want.Summary ||
		r.Body != want.Body || !slices.Equal(r.Actions, want.Actions) || r.Expire != want.Expire {
		t.Fatalf("Notify call\n got %+v\nwant %+v", r, want)
	}
	if u := urgencyHint(t, r); u != byte(UrgencyCritical) {
		t.Errorf("urgency = %d, want critical (2)", u)
	}
	if v, ok := r.Hints["desktop-entry"].Value().(string); !ok || v != "net.traidnet.echotray" {
		t.Errorf("desktop-entry hint = %v, want the application ID", r.Hints["desktop-entry"])
	}

	// The user clicks it: the app is asked to open that history entry.
	if err := srv.conn.Emit(fdoPath, fdoIface+".ActionInvoked", r.ID, "default"); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-clicks:
		if id != entry.ID || id == 0 {
			t.Fatalf("onClick(%d), want entry %d", id, entry.ID)
		}
	case <-time.After(waitLimit):
		t.Fatal("onClick was not called after ActionInvoked")
	}
	// A click on a notification that isn't ours is ignored.
	srv.conn.Emit(fdoPath, fdoIface+".ActionInvoked", uint32(999999), "default")

	// A normal event: normal urgency, 5 s.
	center.Handle(t.Context(), Incoming{Channel: "tenant.1", Event: "UserCreated",
		Data: json.RawMessage(`{"user":{"name":"John Doe"}}`)})
	r = srv.next(t)
	if r.Summary != "User Created" || r.Body != "John Doe has been added to the system." || r.Expire != 5000 {
		t.Fatalf("UserCreated call: %+v", r)
	}
	if u := urgencyHint(t, r); u != byte(UrgencyNormal) {
		t.Errorf("urgency = %d, want normal (1)", u)
	}
	select {
	case id := <-clicks:
		t.Fatalf("onClick(%d) for a foreign notification", id)
	default:
	}
}

func TestNotifierDBusPlainServer(t *testing.T) {
	bus := startBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.addr)
	srv := startServer(t, bus.addr, "body") // no markup, no actions

	n := NewDesktopNotifier("EchoTray", "net.traidnet.echotray", testIcon, func(int64) {})
	defer n.(io.Closer).Close()
	if err := n.Notify(t.Context(), Message{EntryID: 3, Title: "A <b>", Body: "Tom & <i>Jerry</i>", Urgency: UrgencyNormal}); err != nil {
		t.Fatal(err)
	}
	r := srv.next(t)
	if r.Body != "Tom & <i>Jerry</i>" || len(r.Actions) != 0 || r.AppName != "EchoTray" || r.AppIcon != testIcon {
		t.Fatalf("plain server got %+v", r)
	}

	// The notification server is replaced by one that renders markup: the
	// notifier notices (NameOwnerChanged) and escapes from then on.
	srv2 := startServer(t, bus.addr, "body", "body-markup", "actions")
	deadline := time.Now().Add(waitLimit)
	for {
		if err := n.Notify(t.Context(), Message{Title: "x", Body: "a & b"}); err != nil {
			t.Fatal(err)
		}
		r := srv2.next(t)
		if r.Body == "a &amp; b" && slices.Equal(r.Actions, []string{"default", "Open"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("capabilities of the new server never used: %+v", r)
		}
		time.Sleep(20 * time.Millisecond) // polling a real process, with a deadline
	}
}

func TestNotifierDBusReconnects(t *testing.T) {
	bus := startBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.addr)
	srv := startServer(t, bus.addr, "body", "actions")

	clicks := make(chan int64, 1)
	n := NewDesktopNotifier("EchoTray", "net.traidnet.echotray", testIcon, func(id int64) { clicks <- id })
	defer n.(io.Closer).Close()
	if err := n.Notify(t.Context(), Message{EntryID: 1, Title: "first"}); err != nil {
		t.Fatal(err)
	}
	srv.next(t)

	// The session bus goes away and comes back at another address.
	bus.stop()
	bus2 := startBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus2.addr)
	srv2 := startServer(t, bus2.addr, "body", "actions")

	if err := n.Notify(t.Context(), Message{EntryID: 2, Title: "second"}); err != nil {
		t.Fatalf("Notify after the bus restarted: %v", err)
	}
	r := srv2.next(t)
	if r.Summary != "second" {
		t.Fatalf("got %+v", r)
	}
	// Clicks work on the new connection.
	srv2.conn.Emit(fdoPath, fdoIface+".ActionInvoked", r.ID, "default")
	select {
	case id := <-clicks:
		if id != 2 {
			t.Fatalf("onClick(%d), want 2", id)
		}
	case <-time.After(waitLimit):
		t.Fatal("no click after reconnecting")
	}
}

func TestNotifierDBusUnavailable(t *testing.T) {
	// No bus at all: the notifier reports an error (after trying beeep's
	// fallbacks) instead of hanging or panicking.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	n := NewDesktopNotifier("EchoTray", "net.traidnet.echotray", testIcon, nil)
	defer n.(io.Closer).Close()
	done := make(chan error, 1)
	go func() { done <- n.Notify(t.Context(), Message{Title: "x", Body: "y"}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "session bus") || !strings.Contains(err.Error(), "fallback") {
			t.Fatalf("err = %v", err)
		}
		t.Logf("notifier error without a bus: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("Notify hung without a bus")
	}
}
