//go:build linux

package notify

import (
	"context"
	"errors"
	"slices"
	"strings"
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
	d := newDBusNotifier("EchoTray", "", nil, func() (*dbus.Conn, error) { return nil, noBus }, fb)
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
	d := newDBusNotifier("EchoTray", "", nil, func() (*dbus.Conn, error) {
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
