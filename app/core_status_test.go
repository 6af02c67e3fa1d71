package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"echotray/app/ipc"
	"echotray/notify"
	"echotray/realtime"
)

func TestCoreStatusInState(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	w := f.window(t)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()
	st := next(t, w, ipc.OpState).State
	for st.Conn != "connected" {
		st = next(t, w, ipc.OpState).State
	}
	if st.Account != "http://127.0.0.1:9#5" && !strings.HasSuffix(st.Account, "#5") {
		t.Errorf("account = %q", st.Account)
	}
	if !st.Since.Equal(f.now0()) || st.Reason != "" || st.Warning != "" {
		t.Errorf("since %v reason %q warning %q", st.Since, st.Reason, st.Warning)
	}
	if len(st.Channels) < 2 || st.Channels[0].Kind == "" {
		t.Errorf("channels = %+v", st.Channels)
	}
	if f.unread.accounts == nil || f.unread.accounts[len(f.unread.accounts)-1] != st.Account {
		t.Errorf("history account = %v, want %q", f.unread.accounts, st.Account)
	}

	// Offline: the reason in plain words, since stays through retries.
	f.advance(time.Minute)
	lost := f.now0()
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateUnavailable, NextAttempt: f.now0().Add(5 * time.Second),
		Err: errors.New("realtime: connecting to ws://127.0.0.1:6001/app/k: dial tcp 127.0.0.1:6001: connect: connection refused")})
	f.settle()
	f.advance(10 * time.Second)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnecting})
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateUnavailable, NextAttempt: f.now0().Add(5 * time.Second),
		Err: errors.New("realtime: connecting to ws://127.0.0.1:6001/app/k: dial tcp 127.0.0.1:6001: connect: connection refused")})
	f.settle()
	var s ipc.State
	f.on(func() { s = f.c.ipcState() })
	if s.Conn != "offline" || !s.Since.Equal(lost) {
		t.Errorf("conn %s since %v, want offline since %v", s.Conn, s.Since, lost)
	}
	if s.Reason != "The notification server is not accepting connections; it may be down or restarting." {
		t.Errorf("reason = %q", s.Reason)
	}
	for _, m := range f.notifier.sent() {
		if strings.Contains(m.Title, "offline") {
			t.Fatalf("offline notice too early: %+v", m)
		}
	}
	// Over two minutes: one notification; back: one more.
	f.advance(2 * time.Minute)
	f.on(f.c.Tick)
	f.advance(time.Second)
	f.on(f.c.Tick)
	f.settle()
	var offline []notify.Message
	for _, m := range f.notifier.sent() {
		if m.Title == "EchoTray is offline" {
			offline = append(offline, m)
		}
	}
	if len(offline) != 1 || !strings.Contains(offline[0].Body, "not accepting connections") {
		t.Fatalf("offline notices %+v", offline)
	}
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.settle()
	f.on(f.c.Tick)
	f.settle()
	back := 0
	for _, m := range f.notifier.sent() {
		if m.Title == "Back online" {
			back++
		}
	}
	if back != 1 {
		t.Errorf("%d back-online notices, want 1", back)
	}
}

func TestCoreWarningWhenAChannelIsRefused(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.svc.hooks.OnSubscription(realtime.SubscriptionChange{Channel: "private-user.5", Status: realtime.SubscriptionFailed,
		Err: fmt.Errorf(`realtime: authorising "private-user.5": %w`, &realtime.AuthError{Status: 404, Message: "Not Found"})})
	f.svc.hooks.OnSubscription(realtime.SubscriptionChange{Channel: "private-App.Models.User.5", Status: realtime.SubscriptionFailed,
		Err: &realtime.AuthError{Status: 500}})
	f.settle()
	var s ipc.State
	f.on(func() { s = f.c.ipcState() })
	if s.Warning != "Connected, but personal notifications and your account's notifications are unavailable: the server refused them (its authorisation address was not found)." {
		t.Errorf("warning = %q", s.Warning)
	}
	if strings.Contains(s.Warning, "realtime") || strings.Contains(s.Warning, "HTTP") {
		t.Errorf("warning has developer words: %q", s.Warning)
	}
	if f.tray.icon() != "expired" { // the warning state shows the attention icon
		t.Errorf("icon %s", f.tray.icon())
	}
	if tip := f.tray.tooltip(); !strings.HasPrefix(tip, "Connected, but personal notifications") {
		t.Errorf("tooltip %q", tip)
	}
	f.mu.Lock()
	f.mu.Unlock()
	menu := f.tray.item(t, s.Warning+"")
	if !menu.Disabled {
		t.Error("the warning line is not the disabled first menu line")
	}
	var kinds []string
	for _, c := range s.Channels {
		kinds = append(kinds, c.Kind)
	}
	if !slices.Equal(kinds, []string{"tenant", "personal", "notifications"}) && !slices.Equal(kinds, []string{"admin", "personal", "notifications"}) {
		t.Errorf("kinds = %v", kinds)
	}
	// Authorised after all: the warning goes.
	f.svc.hooks.OnSubscription(realtime.SubscriptionChange{Channel: "private-user.5", Status: realtime.SubscriptionSubscribed})
	f.svc.hooks.OnSubscription(realtime.SubscriptionChange{Channel: "private-App.Models.User.5", Status: realtime.SubscriptionSubscribed})
	f.settle()
	f.on(func() { s = f.c.ipcState() })
	if s.Warning != "" || f.tray.icon() != "connected" {
		t.Errorf("warning %q icon %s", s.Warning, f.tray.icon())
	}
}

func TestCoreReadSyncAndPurge(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	w := f.window(t)
	next(t, w, ipc.OpState)
	if err := w.Send(ipc.Message{Op: ipc.OpHistoryChanged, IDs: []int64{4, 9}}); err != nil {
		t.Fatal(err)
	}
	f.c.OnNotificationClick(11)
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.settle()
		f.svc.mu.Lock()
		got := slices.Clone(f.svc.markedRemote)
		f.svc.mu.Unlock()
		slices.Sort(got)
		if slices.Equal(got, []int64{4, 9, 11}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read sync got %v, want [4 9 11]", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var account string
	f.on(func() { account = f.c.account })
	if err := w.Send(ipc.Message{Op: ipc.OpSignOut, Purge: true}); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) {
		f.settle()
		f.unread.mu.Lock()
		d := slices.Clone(f.unread.deleted)
		f.unread.mu.Unlock()
		if len(d) == 1 {
			if d[0] != account || account == "" {
				t.Errorf("deleted %v, want %q", d, account)
			}
			if !slices.Contains(f.svc.Calls(), "signout") {
				t.Error("not signed out")
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the account's history was not removed")
}

func TestPlainWords(t *testing.T) {
	for _, err := range []error{
		errors.New("realtime: Config.Key is required"),
		errors.New("cannot set up the WebSocket connection: realtime: invalid Config.Port 0"),
		errors.New("realtime: connecting to ws://x:1/app/k: dial tcp: lookup x: no such host"),
		&realtime.CloseError{Code: 4001, Message: "App key k not in this cluster"},
		&realtime.CloseError{Code: 4200},
		&realtime.CloseError{Code: 1006},
		realtime.ErrPongTimeout,
		errors.New("something odd"),
	} {
		for _, text := range []string{ConnectionReason(err), SetupProblem(err)} {
			for _, bad := range []string{"realtime", "Config.", "ws://", "dial", "pusher", "4001", "1006"} {
				if strings.Contains(text, bad) {
					t.Errorf("%v → %q has %q", err, text, bad)
				}
			}
		}
	}
	for status, want := range map[int]string{403: "not allowed", 404: "authorisation address", 500: "failed"} {
		if got := ChannelReason(&realtime.AuthError{Status: status}); !strings.Contains(got, want) {
			t.Errorf("ChannelReason(%d) = %q", status, got)
		}
	}
	if got := DeliveryReason(errors.New("org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.Notifications was not provided by any .service files")); got != "No notification service is running on this desktop." {
		t.Errorf("DeliveryReason = %q", got)
	}
}

func TestCoreNotificationChannelRefusedIsNoWarning(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	f.svc.hooks.OnState(realtime.StateChange{Current: realtime.StateConnected})
	f.svc.hooks.OnSubscription(realtime.SubscriptionChange{Channel: "private-App.Models.User.5", Status: realtime.SubscriptionForbidden,
		Err: &realtime.AuthError{Status: 403}})
	f.settle()
	var s ipc.State
	f.on(func() { s = f.c.ipcState() })
	if s.Warning != "" || f.tray.icon() != "connected" {
		t.Errorf("an app without notifications warns: %q, icon %s", s.Warning, f.tray.icon())
	}
}

func TestCoreHugeCatchUpStaysResponsive(t *testing.T) {
	f := newTestCore(t, &fakeSession{}, true, true)
	w := f.window(t)
	next(t, w, ipc.OpState)
	es := make([]notify.Entry, 10_000)
	for i := range es {
		es[i] = notify.Entry{ID: int64(i + 1), Title: "Invoice paid", Event: "InvoicePaid"}
	}
	f.unread.mu.Lock()
	f.unread.n = 10_000
	f.unread.mu.Unlock()
	start := time.Now()
	f.svc.hooks.OnCaughtUp(es)
	f.settle()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the loop took %s", d)
	}
	// The window is told to reload its list once, not sent 10,000 lines.
	added, reloaded := 0, false
	timeout := time.After(2 * time.Second)
	for !reloaded {
		select {
		case m := <-w.Messages():
			switch m.Op {
			case ipc.OpEntryAdded:
				added++
			case ipc.OpReload:
				reloaded = true
			}
		case <-timeout:
			t.Fatalf("no reload for the window (%d entry-added)", added)
		}
	}
	if added != 0 {
		t.Errorf("%d entries sent one by one besides the reload", added)
	}
	var s ipc.State
	f.on(func() { s = f.c.ipcState() })
	if s.Unread != 10_000 {
		t.Errorf("unread %d", s.Unread)
	}
}
