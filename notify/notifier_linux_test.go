//go:build linux

package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

func TestNotifierArgs(t *testing.T) {
	m := Message{EntryID: 4, AppName: "EchoTray", Title: "Payment <Failed>", Body: `<b>x</b> & "y"`,
		Icon: "/icons/echotray.png", Urgency: UrgencyCritical}
	full := map[string]bool{"body": true, "body-markup": true, "actions": true}

	c := notifyArgs(m, "Other", "/other.png", full, true)
	if c.appName != "EchoTray" || c.appIcon != "/icons/echotray.png" || c.replacesID != 0 {
		t.Errorf("identity: %+v", c)
	}
	if c.summary != "Payment <Failed>" {
		t.Errorf("summary is plain text by the spec and must not be escaped: %q", c.summary)
	}
	if c.body != "&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34;" {
		t.Errorf("body on a markup server: %q", c.body)
	}
	if !slices.Equal(c.actions, []string{"default", "Open"}) {
		t.Errorf("actions: %q", c.actions)
	}
	if u, ok := c.hints["urgency"].Value().(byte); !ok || u != 2 || c.hints["urgency"].Signature().String() != "y" {
		t.Errorf("urgency hint: %v", c.hints["urgency"])
	}
	if c.expireTimeout != -1 {
		t.Errorf("Timeout 0 must ask for the server default (-1): %d", c.expireTimeout)
	}

	// A plain server: no escaping, no actions; message without app name or
	// icon takes the notifier's.
	m.AppName, m.Icon, m.Urgency, m.Timeout = "", "", UrgencyNormal, 5*time.Second
	c = notifyArgs(m, "EchoTray", "/icons/default.png", map[string]bool{"body": true}, true)
	if c.body != m.Body || len(c.actions) != 0 || c.actions == nil {
		t.Errorf("plain server: body %q actions %#v", c.body, c.actions)
	}
	if c.appName != "EchoTray" || c.appIcon != "/icons/default.png" || c.expireTimeout != 5000 {
		t.Errorf("defaults: %+v", c)
	}
	if u := c.hints["urgency"].Value().(byte); u != 1 {
		t.Errorf("normal urgency: %d", u)
	}
	// No click handler: no action offered.
	if c = notifyArgs(m, "", "", full, false); len(c.actions) != 0 {
		t.Errorf("actions without a click handler: %q", c.actions)
	}
	// Huge timeouts saturate.
	m.Timeout = 1000 * time.Hour
	if c = notifyArgs(m, "", "", full, true); c.expireTimeout != 1<<31-1 {
		t.Errorf("huge timeout: %d", c.expireTimeout)
	}
}

type recordingNotifier struct {
	got []Message
	err error
}

func (r *recordingNotifier) Notify(_ context.Context, m Message) error {
	r.got = append(r.got, m)
	return r.err
}

func TestNotifierFallsBackWithoutSessionBus(t *testing.T) {
	noBus := errors.New("dbus: couldn't determine address of session bus")
	fb := &recordingNotifier{}
	d := newDBusNotifier("EchoTray", "", nil, func(context.Context) (*dbus.Conn, error) { return nil, noBus }, fb)
	defer d.Close()
	m := Message{Title: "User Created", Body: "x"}
	if err := d.Notify(t.Context(), m); err != nil {
		t.Fatalf("Notify with a working fallback: %v", err)
	}
	if len(fb.got) != 1 || fb.got[0] != m {
		t.Fatalf("fallback got %+v", fb.got)
	}
	fb.err = errors.New("notify-send: exit status 1")
	err := d.Notify(t.Context(), m)
	if !errors.Is(err, noBus) || !errors.Is(err, fb.err) || !strings.Contains(err.Error(), "fallback") {
		t.Fatalf("both failing: %v", err)
	}
}

func TestNotifierClosed(t *testing.T) {
	connects := 0
	d := newDBusNotifier("EchoTray", "", nil, func(context.Context) (*dbus.Conn, error) {
		connects++
		return nil, errors.New("unused")
	}, &recordingNotifier{})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Notify(t.Context(), Message{}); !errors.Is(err, errNotifierClosed) || connects != 0 {
		t.Fatalf("Notify after Close: %v (connects %d)", err, connects)
	}
}

func TestNotifierTracksBoundedIDs(t *testing.T) {
	d := newDBusNotifier("", "", func(int64) {}, nil, nil)
	for i := range uint32(maxTracked + 10) {
		d.track(i+1, int64(i)+100)
	}
	if len(d.ids) != maxTracked || len(d.order) != maxTracked {
		t.Fatalf("tracked %d ids, order %d", len(d.ids), len(d.order))
	}
	if _, ok := d.ids[1]; ok {
		t.Error("the oldest id was kept")
	}
	if got := d.ids[maxTracked+10]; got != maxTracked+109 {
		t.Errorf("newest id maps to %d", got)
	}
}

func TestNotifierClicks(t *testing.T) {
	var clicked []int64
	d := newDBusNotifier("", "", func(id int64) { clicked = append(clicked, id) }, nil, nil)
	d.track(8, 43)
	sigs := make(chan *dbus.Signal, 8)
	sigs <- &dbus.Signal{Name: fdoIface + ".ActionInvoked", Body: []any{uint32(8), "default"}}
	// A click that beats the reply to Notify, and one on a foreign
	// notification.
	sigs <- &dbus.Signal{Name: fdoIface + ".ActionInvoked", Body: []any{uint32(9), "default"}}
	sigs <- &dbus.Signal{Name: fdoIface + ".ActionInvoked", Body: []any{uint32(5), "default"}}
	sigs <- &dbus.Signal{Name: fdoIface + ".NotificationClosed", Body: []any{uint32(8), uint32(2)}}
	sigs <- &dbus.Signal{Name: fdoIface + ".ActionInvoked", Body: []any{}}
	close(sigs)
	d.wg.Add(1)
	d.readSignals(nil, sigs)
	if !slices.Equal(clicked, []int64{43}) {
		t.Fatalf("clicks %v, want [43]", clicked)
	}
	if _, ok := d.ids[8]; ok {
		t.Error("a closed notification stays tracked")
	}
	d.track(9, 44) // the reply arrives: the early click counts
	d.track(10, 45)
	if !slices.Equal(clicked, []int64{43, 44}) {
		t.Fatalf("clicks %v, want [43 44]", clicked)
	}
}

// muteBus is a "session bus" that accepts connections and never answers,
// at DBUS_SESSION_BUS_ADDRESS for the test.
func muteBus(t *testing.T) {
	t.Helper()
	dir, err := os.MkdirTemp("", "bus")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bus")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		os.RemoveAll(dir)
	})
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+path)
}

// notifyWithin runs n.Notify and fails the test if it takes longer than
// limit; it returns how long it took and the error.
func notifyWithin(t *testing.T, ctx context.Context, n Notifier, limit time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- n.Notify(ctx, Message{Title: "Payment received", Body: "KES 1,500.00"}) }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(limit):
		t.Fatalf("Notify still blocked after %v", limit)
		return 0, nil
	}
}

// A session bus that accepts and never answers: Notify gives up after the
// connect timeout (or sooner, when its context ends) with an error, without
// falling back to beeep (which would wait for the same bus forever), and
// Close returns at once.
func TestNotifierBusNeverAnswers(t *testing.T) {
	muteBus(t)
	n := NewDesktopNotifier("EchoTray", "net.traidnet.echotray", "", func(int64) {})
	d := n.(*dbusNotifier)
	if d.timeout != 5*time.Second {
		t.Errorf("connect timeout %v, want 5s", d.timeout)
	}
	took, err := notifyWithin(t, t.Context(), n, 8*time.Second)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 5s") {
		t.Errorf("Notify: %v", err)
	}
	if took < 4*time.Second {
		t.Errorf("Notify gave up after %v, before the 5 s timeout", took)
	}
	t.Logf("Notify: %v after %v", err, took.Round(time.Millisecond))

	// The caller's context bounds the wait too.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	took, err = notifyWithin(t, ctx, n, 2*time.Second)
	if !errors.Is(err, context.DeadlineExceeded) || took > time.Second {
		t.Errorf("Notify with a 200ms context: %v after %v", err, took)
	}

	// Close cancels the attempt under way.
	start := time.Now()
	if err := n.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := n.Notify(t.Context(), Message{}); !errors.Is(err, errNotifierClosed) {
		t.Errorf("Notify after Close: %v", err)
	}
}

// The Center over a bus that never answers: the failure reaches
// OnDeliveryError, and Close returns within a few seconds (it used to
// block for more than 15).
func TestCenterCloseWithBusNeverAnswering(t *testing.T) {
	muteBus(t)
	n := NewDesktopNotifier("EchoTray", "net.traidnet.echotray", "", nil)
	d := n.(*dbusNotifier)
	d.timeout = 300 * time.Millisecond
	defer n.(io.Closer).Close()
	reports := make(chan error, 4)
	c := NewCenter(CenterConfig{Notifier: n, OnDeliveryError: func(err error) { reports <- err }})
	if _, _, err := c.Handle(t.Context(), Incoming{Channel: "tenant.1", Event: "PaymentCompleted",
		Data: json.RawMessage(`{"amount":1500,"currency":"KES"}`)}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-reports:
		if err == nil || !strings.Contains(err.Error(), "session bus") {
			t.Errorf("OnDeliveryError(%v)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery error reported")
	}

	// Close while a notification waits for the bus (the first attempt
	// over, the next one without a timeout to speak of).
	waitDial := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			d.mu.Lock()
			dialing := d.dial != nil
			d.mu.Unlock()
			if dialing == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("connecting: %v, want %v", dialing, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitDial(false)
	d.mu.Lock()
	d.timeout = time.Minute
	d.mu.Unlock()
	if _, _, err := c.Handle(t.Context(), Incoming{Channel: "tenant.1", Event: "UserCreated",
		Data: json.RawMessage(`{"user":{"name":"Wanjiru"}}`)}); err != nil {
		t.Fatal(err)
	}
	waitDial(true)
	start := time.Now()
	closed := make(chan struct{})
	go func() {
		c.Close()
		n.(io.Closer).Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(8 * time.Second):
		t.Fatal("Center.Close and the notifier's Close still blocked after 8 s")
	}
	t.Logf("Center.Close and Notifier.Close returned after %v", time.Since(start).Round(time.Millisecond))
	if took := time.Since(start); took > closeGrace+time.Second {
		t.Errorf("closing took %v", took)
	}
}

// One connection attempt serves every Notify waiting meanwhile, and none
// of them holds the notifier's lock while it connects.
func TestNotifierSharesOneConnectAttempt(t *testing.T) {
	var mu sync.Mutex
	connects := 0
	release := make(chan struct{})
	d := newDBusNotifier("EchoTray", "", nil, func(ctx context.Context) (*dbus.Conn, error) {
		mu.Lock()
		connects++
		mu.Unlock()
		select {
		case <-release:
			return nil, errors.New("connection refused")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, nopNotifier{})
	defer d.Close()
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- d.Notify(t.Context(), Message{Title: "x"}) }()
	}
	time.Sleep(100 * time.Millisecond)
	// The lock is free while connecting.
	locked := make(chan struct{})
	go func() {
		d.mu.Lock()
		d.mu.Unlock()
		close(locked)
	}()
	select {
	case <-locked:
	case <-time.After(time.Second):
		t.Fatal("the notifier's lock is held while connecting")
	}
	close(release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("Notify with a working fallback: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if connects != 1 {
		t.Errorf("%d connection attempts, want 1", connects)
	}
}
