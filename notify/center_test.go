package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// trail records the order of history writes and desktop notifications.
type trail struct {
	mu    sync.Mutex
	steps []string
}

func (t *trail) add(s string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.steps = append(t.steps, s)
	t.mu.Unlock()
}

func (t *trail) get() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.steps)
}

// fakeStore is a HistoryWriter that keeps entries in memory and, like the
// real store, refuses a second entry with the same non-empty Key.
type fakeStore struct {
	mu      sync.Mutex
	entries []Entry
	err     error
	trail   *trail
}

func (s *fakeStore) Add(_ context.Context, e *Entry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	if i := slices.IndexFunc(s.entries, func(x Entry) bool { return e.Key != "" && x.Key == e.Key }); i >= 0 {
		e.ID = s.entries[i].ID // as the real Store does
		return false, nil
	}
	e.ID = int64(len(s.entries) + 1)
	s.entries = append(s.entries, *e)
	s.trail.add("store:" + e.Title)
	return true, nil
}

func (s *fakeStore) all() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

// fakeNotifier records messages. fail, when set, decides the result of the
// n-th call (1-based); gate, when set, makes every call wait for it (or for
// ctx).
type fakeNotifier struct {
	mu     sync.Mutex
	msgs   []Message
	calls  int
	fail   func(n int) error
	gate   chan struct{}
	trail  *trail
	closed bool
}

func (n *fakeNotifier) Notify(ctx context.Context, m Message) error {
	if n.gate != nil {
		select {
		case <-n.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	if n.fail != nil {
		if err := n.fail(n.calls); err != nil {
			return err
		}
	}
	n.msgs = append(n.msgs, m)
	n.trail.add("notify:" + m.Title)
	return nil
}

func (n *fakeNotifier) Close() error {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	return nil
}

func (n *fakeNotifier) sent() []Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.msgs)
}

func titles(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Title
		if m.EntryID == 0 {
			out[i] += " | " + m.Body
		}
	}
	return out
}

func in(event, data string) Incoming {
	return Incoming{Channel: "tenant.1", Event: event, Data: json.RawMessage(data)}
}

func TestCenterStoresThenNotifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &trail{}
		store := &fakeStore{trail: tr}
		n := &fakeNotifier{trail: tr}
		var stored []Entry
		c := NewCenter(CenterConfig{
			Store: store, Notifier: n, AppName: "EchoTray", Icon: "/opt/echotray/icon.png",
			OnStored: func(e Entry) { stored = append(stored, e) },
		})
		defer c.Close()

		received := time.Date(2025, 12, 3, 9, 30, 0, 0, time.UTC)
		e, _, err := c.Handle(t.Context(), Incoming{Channel: "tenant.1", Event: `App\Events\UserCreated`,
			Data: json.RawMessage(`{"user":{"id":7,"name":"John Doe"}}`), Received: received})
		if err != nil {
			t.Fatal(err)
		}
		want := Entry{ID: 1, Time: received, Channel: "tenant.1", Event: "UserCreated", Type: TypeSuccess,
			Title: "User Created", Message: "John Doe has been added to the system.",
			Data: json.RawMessage(`{"user":{"id":7,"name":"John Doe"}}`)}
		if fmt.Sprint(e) != fmt.Sprint(want) {
			t.Fatalf("Handle returned\n %+v\nwant\n %+v", e, want)
		}
		if len(stored) != 1 || stored[0].ID != 1 {
			t.Fatalf("OnStored got %+v", stored)
		}
		synctest.Wait()
		msgs := n.sent()
		wantMsg := Message{EntryID: 1, AppName: "EchoTray", Title: "User Created",
			Body: "John Doe has been added to the system.", Icon: "/opt/echotray/icon.png",
			Urgency: UrgencyNormal, Timeout: 5 * time.Second}
		if len(msgs) != 1 || msgs[0] != wantMsg {
			t.Fatalf("notifier got %+v\nwant %+v", msgs, wantMsg)
		}
		if got := tr.get(); !slices.Equal(got, []string{"store:User Created", "notify:User Created"}) {
			t.Fatalf("order = %v, want the history first", got)
		}

		// No Received time: now.
		e, _, _ = c.Handle(t.Context(), in("ProfileUpdated", `{}`))
		if !e.Time.Equal(time.Now()) {
			t.Errorf("Time = %v, want now (%v)", e.Time, time.Now())
		}
	})
}

func TestCenterSameEventIDNotifiesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, n := &fakeStore{}, &fakeNotifier{}
		storedCalls := 0
		c := NewCenter(CenterConfig{Store: store, Notifier: n, OnStored: func(Entry) { storedCalls++ }})
		defer c.Close()

		const data = `{"event_id":"9f1c","payment":{"amount":1500,"currency":"KES"}}`
		first, stored, err := c.Handle(t.Context(), in("PaymentCompleted", data))
		if err != nil || !stored || first.ID != 1 || first.Key != "tenant.1/PaymentCompleted/9f1c" {
			t.Fatalf("first: %+v, %v", first, err)
		}
		// The same event again, e.g. replayed after a reconnect, a minute
		// later (past the content de-duplication window).
		time.Sleep(time.Minute)
		again, stored, err := c.Handle(t.Context(), in(`App\Events\PaymentCompleted`, data))
		if err != nil || stored || again.ID != first.ID {
			t.Fatalf("again: %+v, %v", again, err)
		}
		// Another event id with the same content is a new event.
		other, _, _ := c.Handle(t.Context(), in("PaymentCompleted", `{"event_id":"9f1d","payment":{"amount":1500,"currency":"KES"}}`))
		synctest.Wait()
		if len(store.all()) != 2 || other.ID != 2 || storedCalls != 2 {
			t.Fatalf("stored %d entries, OnStored %d times", len(store.all()), storedCalls)
		}
		if got := n.sent(); len(got) != 2 || got[0].EntryID != 1 || got[1].EntryID != 2 {
			t.Fatalf("notified %+v", got)
		}
	})
}

func TestCenterSameContentWithoutIDNotifiesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, n := &fakeStore{}, &fakeNotifier{}
		c := NewCenter(CenterConfig{Store: store, Notifier: n})
		defer c.Close()
		// One event broadcast on two channels the user listens to.
		c.Handle(t.Context(), Incoming{Channel: "tenant.1", Event: "SystemAlert", Data: json.RawMessage(`{"message":"Disk full"}`)})
		c.Handle(t.Context(), Incoming{Channel: "private-system.admin", Event: "SystemAlert", Data: json.RawMessage(`{"message":"Disk full"}`)})
		synctest.Wait()
		if len(store.all()) != 2 || len(n.sent()) != 1 {
			t.Fatalf("stored %d, notified %d; want 2, 1", len(store.all()), len(n.sent()))
		}
	})
}

// Two different events that render to the same sentence (the payload names
// no one, so the generic text is used) are two notifications: content
// de-duplication is for the same event seen twice, not for look-alikes.
func TestCenterLookAlikeEventsBothNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, n := &fakeStore{}, &fakeNotifier{}
		c := NewCenter(CenterConfig{Store: store, Notifier: n})
		defer c.Close()
		c.Handle(t.Context(), in("HotspotUserExpired", `{"hotspot_user":{"id":11,"mac_address":"AA:BB:CC:00:00:11"}}`))
		c.Handle(t.Context(), in("HotspotUserExpired", `{"hotspot_user":{"id":12,"mac_address":"AA:BB:CC:00:00:12"}}`))
		synctest.Wait()
		msgs := n.sent()
		if len(store.all()) != 2 || len(msgs) != 2 {
			t.Fatalf("stored %d, notified %v; want 2 and 2", len(store.all()), titles(msgs))
		}
		if msgs[0].Body != msgs[1].Body {
			t.Fatalf("the test needs look-alikes: %q vs %q", msgs[0].Body, msgs[1].Body)
		}
	})
}

func TestCenterFloodSummaryAfterWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, n := &fakeStore{}, &fakeNotifier{}
		c := NewCenter(CenterConfig{Store: store, Notifier: n})
		defer c.Close()

		// 15 events in 1.5 s: 3 payments, then 8 payments and 4 users.
		for i := range 15 {
			if i > 0 && i%3 == 0 {
				c.Handle(t.Context(), in("UserCreated", fmt.Sprintf(`{"user":{"name":"User %d"}}`, i)))
			} else {
				c.Handle(t.Context(), in("PaymentCompleted", fmt.Sprintf(`{"amount":%d,"currency":"KES"}`, 100+i)))
			}
			time.Sleep(100 * time.Millisecond)
		}
		synctest.Wait()
		if got := len(n.sent()); got != 3 {
			t.Fatalf("%d notifications during the burst, want 3", got)
		}
		if got := len(store.all()); got != 15 {
			t.Fatalf("%d entries stored, want all 15", got)
		}

		// The window (10 s from the 4th event at 0.3 s) ends: one summary.
		time.Sleep(9 * time.Second)
		synctest.Wait()
		msgs := n.sent()
		if len(msgs) != 4 {
			t.Fatalf("after the window: %v", titles(msgs))
		}
		sum := msgs[3]
		if sum.Title != "12 new events" || sum.Body != "8 payments, 4 users" || sum.EntryID != 0 ||
			sum.Urgency != UrgencyNormal || sum.AppName != "EchoTray" {
			t.Fatalf("summary = %+v", sum)
		}

		// A quiet window ends the flood; then events show one by one again.
		time.Sleep(10 * time.Second)
		c.Handle(t.Context(), in("PaymentFailed", `{"amount":5}`))
		synctest.Wait()
		msgs = n.sent()
		if len(msgs) != 5 || msgs[4].Title != "Payment Failed" || msgs[4].Urgency != UrgencyCritical || msgs[4].Timeout != 0 {
			t.Fatalf("after the flood: %v", titles(msgs))
		}
	})
}

func TestCenterCloseFlushesSummary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &fakeNotifier{}
		c := NewCenter(CenterConfig{Store: &fakeStore{}, Notifier: n})
		for i := range 5 {
			c.Handle(t.Context(), in("HotspotUserExpired", fmt.Sprintf(`{"username":"guest%d"}`, i)))
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		got := titles(n.sent())
		want := []string{"Hotspot User Expired", "Hotspot User Expired", "Hotspot User Expired", "2 new events | 2 hotspot users"}
		if !slices.Equal(got, want) {
			t.Fatalf("sent %q, want %q", got, want)
		}
		if n.closed {
			t.Error("Close closed the notifier, which belongs to whoever made it")
		}
		if _, _, err := c.Handle(t.Context(), in("UserCreated", `{}`)); !errors.Is(err, ErrClosed) {
			t.Errorf("Handle after Close: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

func TestCenterDeliveryErrorReportedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("org.freedesktop.DBus.Error.ServiceUnknown")
		n := &fakeNotifier{fail: func(call int) error {
			if call <= 3 || call == 5 {
				return boom
			}
			return nil
		}}
		var reports []error
		c := NewCenter(CenterConfig{Notifier: n, Prefs: Prefs{FloodLimit: -1},
			OnDeliveryError: func(err error) { reports = append(reports, err) }})
		defer c.Close()
		for i := range 6 {
			c.Handle(t.Context(), in("UserCreated", fmt.Sprintf(`{"name":"U%d"}`, i)))
			synctest.Wait()
		}
		if len(reports) != 4 || reports[0] != boom || reports[1] != nil || reports[2] != boom || reports[3] != nil {
			t.Fatalf("OnDeliveryError calls: %v; want [failure, recovery, failure, recovery]", reports)
		}
	})
}

func TestCenterPanickingNotifierDoesNotCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var report error
		c := NewCenter(CenterConfig{Notifier: panicky{}, OnDeliveryError: func(err error) { report = err }})
		defer c.Close()
		if _, _, err := c.Handle(t.Context(), in("UserCreated", `{}`)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if report == nil || !strings.Contains(report.Error(), "panicked") {
			t.Fatalf("report = %v", report)
		}
	})
}

type panicky struct{}

func (panicky) Notify(context.Context, Message) error { panic("nil map") }

func TestCenterQueueFullDropsOldest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		n := &fakeNotifier{gate: gate}
		store := &fakeStore{}
		c := NewCenter(CenterConfig{Store: store, Notifier: n, Prefs: Prefs{FloodLimit: -1}})
		defer c.Close()

		c.Handle(t.Context(), in("UserCreated", `{"name":"U0"}`))
		synctest.Wait() // the worker now waits inside Notify
		start := time.Now()
		for i := 1; i <= deliveryQueueSize+8; i++ {
			c.Handle(t.Context(), in("UserCreated", fmt.Sprintf(`{"name":"U%d"}`, i)))
		}
		if time.Since(start) != 0 {
			t.Fatal("Handle waited for the desktop")
		}
		close(gate)
		synctest.Wait()
		msgs := n.sent()
		if len(msgs) != 1+deliveryQueueSize {
			t.Fatalf("%d delivered, want %d", len(msgs), 1+deliveryQueueSize)
		}
		// U0 was being sent; U1..U8 were dropped as the oldest waiting.
		if msgs[0].Body != "U0 has been added to the system." || msgs[1].Body != "U9 has been added to the system." ||
			msgs[len(msgs)-1].Body != fmt.Sprintf("U%d has been added to the system.", deliveryQueueSize+8) {
			t.Fatalf("delivered %q ... %q", msgs[1].Body, msgs[len(msgs)-1].Body)
		}
		if len(store.all()) != deliveryQueueSize+9 {
			t.Fatalf("history has %d, want every event", len(store.all()))
		}
	})
}

func TestCenterCloseGivesUpOnAStuckNotifier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &fakeNotifier{gate: make(chan struct{})} // never opens
		var reports []error
		c := NewCenter(CenterConfig{Notifier: n, OnDeliveryError: func(err error) { reports = append(reports, err) }})
		c.Handle(t.Context(), in("UserCreated", `{"name":"A"}`))
		c.Handle(t.Context(), in("UserCreated", `{"name":"B"}`))
		synctest.Wait()
		start := time.Now()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != closeGrace {
			t.Errorf("Close took %v, want the grace %v", d, closeGrace)
		}
		if len(reports) != 0 {
			t.Errorf("shutdown reported as a delivery failure: %v", reports)
		}
	})
}

func TestCenterStoreFailureStillNotifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		diskFull := errors.New("database or disk is full")
		n := &fakeNotifier{}
		storedCalls := 0
		c := NewCenter(CenterConfig{Store: &fakeStore{err: diskFull}, Notifier: n, OnStored: func(Entry) { storedCalls++ }})
		defer c.Close()
		e, _, err := c.Handle(t.Context(), in("PaymentFailed", `{"amount":10}`))
		if !errors.Is(err, diskFull) || !strings.Contains(err.Error(), "PaymentFailed") {
			t.Fatalf("err = %v", err)
		}
		if e.Title != "Payment Failed" || e.ID != 0 {
			t.Fatalf("entry = %+v", e)
		}
		synctest.Wait()
		if len(n.sent()) != 1 || storedCalls != 0 {
			t.Fatalf("notified %d, OnStored %d", len(n.sent()), storedCalls)
		}
	})
}

func TestCenterMuteAndPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, n := &fakeStore{}, &fakeNotifier{}
		c := NewCenter(CenterConfig{
			Store: store, Notifier: n,
			Catalog: NewCatalog(map[string]Override{"ProfileUpdated": {Muted: true}}),
			Prefs:   Prefs{Muted: map[string]bool{"UserUpdated": true}, FloodLimit: -1},
		})
		defer c.Close()
		c.Handle(t.Context(), in("UserUpdated", `{"name":"A"}`))    // muted in prefs
		c.Handle(t.Context(), in("ProfileUpdated", `{"name":"A"}`)) // muted in the config overrides
		c.Handle(t.Context(), in("UserCreated", `{"name":"A"}`))

		p := c.Prefs()
		p.Muted["UserCreated"] = true // a copy: no effect until SetPrefs
		c.Handle(t.Context(), in("UserCreated", `{"name":"B"}`))
		c.SetPrefs(Prefs{PausedUntil: PausedForever, AllowErrorsWhilePaused: true, FloodLimit: -1})
		c.Handle(t.Context(), in("UserCreated", `{"name":"C"}`))
		c.Handle(t.Context(), in("PaymentFailed", `{"amount":1}`))
		c.SetPrefs(Prefs{FloodLimit: -1})
		c.Handle(t.Context(), in("UserCreated", `{"name":"D"}`))
		synctest.Wait()

		got := []string{}
		for _, m := range n.sent() {
			got = append(got, m.Body)
		}
		// Resuming shows the one event the pause hid, marked as such.
		want := []string{"A has been added to the system.", "B has been added to the system.", "Payment of 1.00 failed.", "C has been added to the system.", "D has been added to the system."}
		if !slices.Equal(got, want) {
			t.Fatalf("shown %q\nwant %q", got, want)
		}
		if tt := titles(n.sent()); tt[3] != "While paused: User Created" {
			t.Errorf("resume title %q", tt[3])
		}
		if len(store.all()) != 7 {
			t.Fatalf("stored %d, want all 7", len(store.all()))
		}
	})
}

func TestCenterDesktopTextIsCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &fakeNotifier{}
		c := NewCenter(CenterConfig{Notifier: n})
		defer c.Close()
		long := strings.Repeat("Very long words here. ", 40)
		e, _, _ := c.Handle(t.Context(), in("SystemNotification", fmt.Sprintf(`{"title":%q,"message":%q}`, long, long)))
		synctest.Wait()
		m := n.sent()[0]
		if r := []rune(m.Title); len(r) > MaxTitleRunes || !strings.HasSuffix(m.Title, "…") {
			t.Errorf("title not cut: %d runes %q", len(r), m.Title)
		}
		cut, ok := strings.CutSuffix(m.Body, "…")
		if r := []rune(m.Body); len(r) > MaxBodyRunes || len(r) < MaxBodyRunes-20 || !ok || !strings.HasPrefix(long, cut+" ") {
			t.Errorf("body not cut at a word: %d runes %q", len(r), m.Body)
		}
		if len([]rune(e.Message)) <= MaxBodyRunes {
			t.Errorf("the history keeps more than the bubble: %d", len([]rune(e.Message)))
		}
	})
}

func TestCenterEventKey(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{"event_id":"abc","user":{"id":1}}`, "tenant.1/UserCreated/abc"},
		{`{"eventId":"abc"}`, "tenant.1/UserCreated/abc"},
		{`{"uuid":"5e0c"}`, ""}, // a flat model's uuid, not an event id
		{`{"event":{"id":42}}`, "tenant.1/UserCreated/42"},
		{`{"data":{"event_id":"w"}}`, "tenant.1/UserCreated/w"},
		{`{"event_id":"  "}`, ""},
		{`{"event_id":true}`, ""},
		{`{"id":7,"user":{"uuid":"u"}}`, ""},
		{`not json`, ""},
		{``, ""},
	} {
		if got := EventKey("tenant.1", `App\Events\UserCreated`, json.RawMessage(tc.data)); got != tc.want {
			t.Errorf("EventKey(%s) = %q, want %q", tc.data, got, tc.want)
		}
	}
}

func TestCenterKeepsBadPayloads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &fakeStore{}
		c := NewCenter(CenterConfig{Store: store})
		defer c.Close()
		c.Handle(t.Context(), in("UserCreated", "not \x00 json"))
		c.Handle(t.Context(), in("UserCreated", ""))
		got := store.all()
		if string(got[0].Data) != `"not \u0000 json"` || string(got[1].Data) != "null" {
			t.Fatalf("Data = %s, %s", got[0].Data, got[1].Data)
		}
		for _, e := range got {
			if !json.Valid(e.Data) || e.Message != "A new user has been added to the system." {
				t.Errorf("entry %+v", e)
			}
		}
	})
}

func TestCenterSummaryOfWhatAPauseHid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, n := &fakeStore{}, &fakeNotifier{}
		start := time.Now()
		c := NewCenter(CenterConfig{Store: store, Notifier: n,
			Prefs: Prefs{PausedUntil: start.Add(time.Hour), FloodLimit: -1}})
		defer c.Close()
		for i := range 8 {
			c.Handle(t.Context(), in("PaymentCompleted", fmt.Sprintf(`{"amount":%d,"currency":"KES"}`, i+1)))
		}
		for i := range 4 {
			c.Handle(t.Context(), in("UserCreated", fmt.Sprintf(`{"name":"U%d"}`, i)))
		}
		c.Handle(t.Context(), in("UserCreated", `{"name":"U0"}`)) // the same again: counted once
		c.Handle(t.Context(), in("UserDeleted", `{"name":"X"}`))
		// Muted while paused: not in the summary.
		c.SetPrefs(Prefs{PausedUntil: start.Add(time.Hour), FloodLimit: -1, Muted: map[string]bool{"UserDeleted": true}})
		synctest.Wait()
		if len(n.sent()) != 0 {
			t.Fatalf("shown while paused: %q", titles(n.sent()))
		}
		time.Sleep(59 * time.Minute)
		synctest.Wait()
		if len(n.sent()) != 0 {
			t.Fatalf("shown before the pause ended: %q", titles(n.sent()))
		}
		time.Sleep(time.Minute) // the pause ends by itself
		synctest.Wait()
		got := n.sent()
		if len(got) != 1 || got[0].Title != "12 events while paused" || got[0].Body != "8 payments, 4 users" || got[0].EntryID != 0 {
			t.Fatalf("after the pause: %+v", got)
		}
		if len(store.all()) != 14 {
			t.Errorf("stored %d, want all 14", len(store.all()))
		}
		// Nothing more is owed: resuming again or a later event shows no
		// second summary.
		c.SetPrefs(Prefs{FloodLimit: -1})
		c.Handle(t.Context(), in("UserCreated", `{"name":"Late"}`))
		synctest.Wait()
		if tt := titles(n.sent()); !slices.Equal(tt, []string{"12 events while paused | 8 payments, 4 users", "User Created"}) {
			t.Fatalf("shown %q", tt)
		}
	})
}

func TestCenterResumeWithNothingHidden(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &fakeNotifier{}
		c := NewCenter(CenterConfig{Notifier: n, Prefs: Prefs{PausedUntil: PausedForever}})
		c.SetPrefs(Prefs{})
		synctest.Wait()
		if len(n.sent()) != 0 {
			t.Fatalf("resume with nothing hidden showed %q", titles(n.sent()))
		}
		// Closing while paused sends nothing and leaves no timer behind.
		c.SetPrefs(Prefs{PausedUntil: time.Now().Add(time.Hour)})
		c.Handle(t.Context(), in("UserCreated", `{"name":"A"}`))
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if len(n.sent()) != 0 {
			t.Fatalf("shown after Close: %q", titles(n.sent()))
		}
	})
}

// failedPayment is a PaymentFailed event; i makes each one its own.
func failedPayment(i int) Incoming {
	return in("PaymentFailed", fmt.Sprintf(`{"amount":%d,"currency":"KES","reason":"insufficient funds"}`, 1000+i))
}

// TestCenterErrorsAreNeverFolded: in a burst, flood control folds the
// other events into its summary, but every failed payment is shown as
// itself, and the summary does not count them.
func TestCenterErrorsAreNeverFolded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, n := &fakeStore{}, &fakeNotifier{}
		c := NewCenter(CenterConfig{Store: store, Notifier: n})
		defer c.Close()

		// 20 events in 2 s; 3 of them (well into the flood) failed payments.
		failedAt := map[int]bool{4: true, 10: true, 16: true}
		for i := range 20 {
			if failedAt[i] {
				c.Handle(t.Context(), failedPayment(i))
			} else {
				c.Handle(t.Context(), in("PaymentCompleted", fmt.Sprintf(`{"amount":%d,"currency":"KES"}`, 100+i)))
			}
			time.Sleep(100 * time.Millisecond)
		}
		synctest.Wait()
		msgs := n.sent()
		var failed int
		for _, m := range msgs {
			if m.Title == "Payment Failed" {
				failed++
				if m.EntryID == 0 || m.Urgency != UrgencyCritical || !strings.Contains(m.Body, "insufficient funds") {
					t.Errorf("failed payment not shown as itself: %+v", m)
				}
			}
		}
		if failed != 3 || len(msgs) != 6 {
			t.Fatalf("during the burst: %q; want 3 payments and all 3 failed payments", titles(msgs))
		}

		// The flood window ends: one summary of the 14 other events only.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		msgs = n.sent()
		if len(msgs) != 7 {
			t.Fatalf("after the window: %q", titles(msgs))
		}
		if sum := msgs[6]; sum.Title != "14 new events" || sum.Body != "14 payments" || sum.Urgency != UrgencyNormal {
			t.Fatalf("summary = %+v; want the 14 payments, no failed payment", sum)
		}
		if len(store.all()) != 20 {
			t.Errorf("stored %d, want all 20", len(store.all()))
		}
	})
}

// TestCenterErrorCap: at most ErrorLimit errors show within ErrorWindow;
// the rest are counted in one notification when the window ends, named by
// what they are.
func TestCenterErrorCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &fakeNotifier{}
		c := NewCenter(CenterConfig{Store: &fakeStore{}, Notifier: n})
		defer c.Close()

		// 15 failed payments in 3 s.
		for i := range 15 {
			c.Handle(t.Context(), failedPayment(i))
			time.Sleep(200 * time.Millisecond)
		}
		synctest.Wait()
		msgs := n.sent()
		if len(msgs) != 10 {
			t.Fatalf("%d notifications during the burst, want 10: %q", len(msgs), titles(msgs))
		}
		for _, m := range msgs {
			if m.Title != "Payment Failed" || m.EntryID == 0 {
				t.Fatalf("not shown one by one: %q", titles(msgs))
			}
		}
		// The window (10 s from the 11th, at 2 s) ends: one notification
		// for the other 5.
		time.Sleep(9 * time.Second)
		synctest.Wait()
		msgs = n.sent()
		if len(msgs) != 11 {
			t.Fatalf("after the window: %q", titles(msgs))
		}
		more := msgs[10]
		if more.Title != "and 5 more failed payments" || more.EntryID != 0 || more.Urgency != UrgencyCritical {
			t.Fatalf("overflow = %+v", more)
		}

		// Later failed payments show one by one again.
		time.Sleep(10 * time.Second)
		c.Handle(t.Context(), failedPayment(100))
		synctest.Wait()
		if msgs = n.sent(); len(msgs) != 12 || msgs[11].Title != "Payment Failed" || msgs[11].EntryID == 0 {
			t.Fatalf("after the overflow: %q", titles(msgs))
		}
	})
}

// TestCenterErrorCapMixed: when the errors past the cap are of several
// kinds, the notification says "errors" and counts them by kind.
func TestCenterErrorCapMixed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &fakeNotifier{}
		c := NewCenter(CenterConfig{Store: &fakeStore{}, Notifier: n})
		defer c.Close()
		for i := range 12 {
			c.Handle(t.Context(), failedPayment(i))
		}
		c.Handle(t.Context(), Incoming{Channel: "system.admin", Event: "SystemAlert",
			Data: json.RawMessage(`{"level":"critical","title":"Disk full","message":"The database disk is full."}`)})
		time.Sleep(10 * time.Second)
		synctest.Wait()
		msgs := n.sent()
		if len(msgs) != 11 {
			t.Fatalf("sent %q", titles(msgs))
		}
		if more := msgs[10]; more.Title != "and 3 more errors" || more.Body != "2 failed payments, 1 alert" || more.Urgency != UrgencyCritical {
			t.Fatalf("overflow = %+v", more)
		}
	})
}

// TestCenterErrorsWhilePausedAreNotInTheResumeSummary: errors shown while
// paused (and those counted past the cap) are not counted again when the
// pause ends.
func TestCenterErrorsWhilePausedAreNotInTheResumeSummary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &fakeNotifier{}
		start := time.Now()
		paused := Prefs{PausedUntil: start.Add(time.Hour), AllowErrorsWhilePaused: true}
		c := NewCenter(CenterConfig{Store: &fakeStore{}, Notifier: n, Prefs: paused})
		defer c.Close()
		for i := range 12 {
			c.Handle(t.Context(), in("PaymentCompleted", fmt.Sprintf(`{"amount":%d,"currency":"KES"}`, i+1)))
			c.Handle(t.Context(), failedPayment(i))
		}
		c.Handle(t.Context(), failedPayment(0)) // the same again: shown once
		time.Sleep(10 * time.Second)
		synctest.Wait()
		msgs := n.sent()
		if len(msgs) != 11 || msgs[10].Title != "and 2 more failed payments" {
			t.Fatalf("while paused: %q", titles(msgs))
		}
		c.SetPrefs(Prefs{})
		synctest.Wait()
		msgs = n.sent()
		if len(msgs) != 12 || msgs[11].Title != "12 events while paused" || msgs[11].Body != "12 payments" {
			t.Fatalf("after the pause: %q", titles(msgs))
		}
	})
}
