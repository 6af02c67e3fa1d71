package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"echotray/history"
	"echotray/notify"
	"echotray/realtime"
)

func TestServiceChannels(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Channels.Extra = []string{"private-encrypted-tenant.{tenant_id}", "private-user.{user_id}", "presence-desk.{user_id}"}
	u := User{ID: "5", TenantID: "7"}
	got := ServiceChannels(u, cfg)
	want := []ChannelSpec{{"tenant.7", KindTenant}, {"private-user.5", KindPersonal},
		{"private-App.Models.User.5", KindNotifications}, {"private-encrypted-tenant.7", KindExtra}, {"presence-desk.5", KindExtra}}
	if len(got) != len(want) {
		t.Fatalf("channels = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("channel %d = %v, want %v", i, got[i], want[i])
		}
	}
	admin := ServiceChannels(User{ID: "1"}, cfg)
	if admin[0] != (ChannelSpec{ChannelSystemAdmin, KindAdmin}) || len(admin) != 4 {
		t.Errorf("admin channels = %v (a tenant extra channel is left out without a tenant)", admin)
	}
	cfg.Notifications.Channel = ""
	if got := ServiceChannels(u, cfg); len(got) != 4 || NotificationChannel(u, cfg) != "" {
		t.Errorf("notifications off: %v", got)
	}
}

func TestGapEntry(t *testing.T) {
	from := time.Date(2026, 12, 1, 14, 2, 0, 0, time.Local)
	to := from.Add(35 * time.Minute)
	seven := 7
	e := GapEntry(from, to, &seven)
	if e.Event != GapEvent || e.Type != notify.TypeWarning || e.Title != "Offline for 35 minutes" {
		t.Errorf("entry = %+v", e)
	}
	if want := "Offline from 14:02 to 14:37 — events sent in that time were not received — 7 recovered."; e.Message != want {
		t.Errorf("message = %q, want %q", e.Message, want)
	}
	if !strings.Contains(string(e.Data), `"recovered":7`) || !strings.Contains(string(e.Data), `"from":"`) {
		t.Errorf("data = %s", e.Data)
	}
	e = GapEntry(from, from.Add(40*time.Second), nil)
	if e.Message != "Offline from 14:02 to 14:02 — events sent in that time were not received." || !strings.Contains(string(e.Data), `"recovered":null`) {
		t.Errorf("no catch-up: %q %s", e.Message, e.Data)
	}
}

func TestServiceCatchesUpOnStart(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	r.b.notifRoutes = true
	r.b.addNote(`App\Notifications\InvoicePaid`, map[string]any{"title": "Invoice 12 paid", "message": "KES 1,500 received."})
	r.b.addNote(`App\Notifications\InvoicePaid`, map[string]any{"title": "Invoice 13 paid", "message": "KES 700 received."})
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	var got []notify.Entry
	select {
	case got = <-r.caught:
	case <-time.After(10 * time.Second):
		t.Fatal("no catch-up")
	}
	if len(got) != 2 || got[0].Title != "Invoice 12 paid" || got[0].Channel != "private-App.Models.User.5" || got[0].Event != "InvoicePaid" {
		t.Fatalf("caught up %+v", got)
	}
	// Two: shown one by one.
	m1, m2 := r.notifier.wait(t), r.notifier.wait(t)
	if m1.Title != "Invoice 12 paid" || m2.Title != "Invoice 13 paid" || m1.EntryID != got[0].ID {
		t.Errorf("notifications %q %q", m1.Title, m2.Title)
	}
	// The same notification live is not stored again.
	r.p.waitSubscribed(t, "private-App.Models.User.5")
	r.p.publish("private-App.Models.User.5", notify.NotificationEvent, map[string]any{"title": "Invoice 12 paid",
		"id": "00000000-0000-4000-8000-000000000001", "type": `App\Notifications\InvoicePaid`})
	e := waitEntry(t, r.entries)
	if e.ID != got[0].ID {
		t.Errorf("live copy got entry %d, want the caught-up %d", e.ID, got[0].ID)
	}
	select {
	case s := <-r.stored:
		t.Errorf("live copy stored again: %+v", s)
	case <-time.After(200 * time.Millisecond):
	}
	if n, _ := r.store.Count(context.Background(), history.Query{}); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}
}

func TestServiceGapAfterLostConnection(t *testing.T) {
	oldMin, oldNotify := GapMin, GapNotify
	// Any loss counts here: the reconnection may come within milliseconds
	// (its jitter is 0-1 s), and the threshold has its own test.
	GapMin, GapNotify = 0, time.Hour
	t.Cleanup(func() { GapMin, GapNotify = oldMin, oldNotify })
	r := newServiceRig(t, tenantUser())
	r.b.notifRoutes = true
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	r.p.waitSubscribed(t, "tenant.7", "private-user.5", "private-App.Models.User.5")
	time.Sleep(300 * time.Millisecond) // the start's catch-up found nothing
	// Lost for a while; meanwhile three notifications are written.
	r.p.dropAll()
	waitState(t, r.states, realtime.StateUnavailable)
	for i := range 3 {
		r.b.addNote(`App\Notifications\Reminder`, map[string]any{"message": "Reminder " + string(rune('A'+i))})
	}
	time.Sleep(200 * time.Millisecond)
	var gap notify.Entry
	deadline := time.After(20 * time.Second)
	for gap.Event == "" {
		select {
		case e := <-r.stored:
			if e.Event == GapEvent {
				gap = e
			}
		case <-deadline:
			t.Fatal("no gap entry")
		}
	}
	if !strings.Contains(gap.Message, "— 3 recovered.") || gap.Type != notify.TypeWarning {
		t.Errorf("gap = %+v", gap)
	}
	select {
	case es := <-r.caught:
		if len(es) != 3 {
			t.Errorf("caught up %d, want 3", len(es))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no catch-up after the reconnection")
	}
	// Three: one by one; the short gap raises none.
	for range 3 {
		if m := r.notifier.wait(t); strings.HasPrefix(m.Title, "Offline") {
			t.Errorf("a short gap was notified: %+v", m)
		}
	}
}

func TestServiceCatchUpOffWithoutRoute(t *testing.T) {
	oldMin := GapMin
	GapMin = 0 // any loss counts (the reconnection may come within milliseconds)
	t.Cleanup(func() { GapMin = oldMin })
	r := newServiceRig(t, tenantUser()) // no notification routes: 404
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	time.Sleep(200 * time.Millisecond)
	r.p.dropAll()
	waitState(t, r.states, realtime.StateUnavailable)
	time.Sleep(200 * time.Millisecond)
	deadline := time.After(45 * time.Second)
	for {
		select {
		case e := <-r.stored:
			if e.Event != GapEvent {
				continue
			}
			if strings.Contains(e.Message, "recovered") || !strings.Contains(string(e.Data), `"recovered":null`) {
				t.Errorf("gap without catch-up = %+v %s", e, e.Data)
			}
			if !svc.Running() {
				t.Error("the service stopped")
			}
			return
		case <-deadline:
			t.Fatalf("no gap entry; the service's log:\n%s", r.env.logBuf.String())
		}
	}
}

func waitState(t *testing.T, ch <-chan realtime.StateChange, want realtime.State) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case sc := <-ch:
			if sc.Current == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %s state", want)
		}
	}
}

func TestServiceReadSync(t *testing.T) {
	r := newServiceRig(t, tenantUser())
	r.b.notifRoutes = true
	id := r.b.addNote(`App\Notifications\InvoicePaid`, map[string]any{"title": "Invoice 12 paid"})
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	var got []notify.Entry
	select {
	case got = <-r.caught:
	case <-time.After(10 * time.Second):
		t.Fatal("no catch-up")
	}
	if got[0].ExternalID != id {
		t.Fatalf("external id %q, want %q", got[0].ExternalID, id)
	}
	// Marked read in the window (an entry without a UUID is skipped).
	if err := svc.MarkReadRemote(context.Background(), []int64{got[0].ID, 999}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.b.mu.Lock()
		reads := append([]string(nil), r.b.reads...)
		r.b.mu.Unlock()
		if len(reads) == 1 && reads[0] == id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reads on the server %v, want [%s]", reads, id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServiceHugeBacklogOneSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 notifications")
	}
	r := newServiceRig(t, tenantUser())
	r.b.notifRoutes = true
	for i := range 10_000 {
		r.b.notes = append(r.b.notes, fakeNote{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), Class: `App\Notifications\InvoicePaid`,
			Data: map[string]any{"title": fmt.Sprintf("Invoice %d paid", i+1)}, Created: time.Now().UTC().Truncate(time.Second)})
	}
	svc := r.service(ServiceOptions{})
	if err := svc.Start(r.user); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	// Live events keep flowing while the backlog is stored.
	r.p.waitSubscribed(t, "tenant.7")
	r.p.publish("tenant.7", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"name": "John Doe"}})
	var total, calls int
	deadline := time.After(3 * time.Minute) // the race detector slows it tenfold
	for total < 10_000 {
		select {
		case es := <-r.caught:
			total += len(es)
			calls++
		case <-deadline:
			t.Fatalf("caught up %d of 10,000", total)
		}
	}
	if calls != 1 {
		t.Errorf("OnCaughtUp called %d times, want once", calls)
	}
	var summaries, others int
	timeout := time.After(3 * time.Second)
loop:
	for {
		select {
		case m := <-r.notifier.ch:
			switch {
			case m.Title == "While you were offline: 10,000 notifications":
				summaries++
			case strings.HasPrefix(m.Title, "Invoice"):
				others++
			}
		case <-timeout:
			break loop
		}
	}
	if summaries != 1 || others != 0 {
		t.Errorf("%d summaries and %d single notifications, want 1 and 0", summaries, others)
	}
	if e := waitEntry(t, r.entries); e.Event != "UserCreated" {
		t.Errorf("live entry %+v", e)
	}
	if n, _ := r.store.Count(context.Background(), history.Query{Event: "InvoicePaid"}); n != 10_000 {
		t.Errorf("history has %d, want 10,000", n)
	}
}

func TestGapStartsWhenTheComputerSlept(t *testing.T) {
	now := time.Date(2026, 12, 1, 14, 0, 0, 0, time.Local)
	s := NewService(ServiceOptions{Now: func() time.Time { return now }})
	r := &running{catchReqs: make(chan catchReq, 4)}
	slept := now.Add(-40 * time.Minute)
	r.beat.Store(slept.UnixNano())
	s.trackGap(r, realtime.StateChange{Previous: realtime.StateConnected, Current: realtime.StateUnavailable, Err: realtime.ErrWoke})
	if !r.lostAt.Equal(slept) {
		t.Errorf("lost at %v, want the last beat %v", r.lostAt, slept)
	}
	now = now.Add(5 * time.Second)
	s.trackGap(r, realtime.StateChange{Previous: realtime.StateConnecting, Current: realtime.StateConnected})
	req := <-r.catchReqs
	if !req.from.Equal(slept) || req.to.Sub(req.from) < 40*time.Minute {
		t.Errorf("gap %v → %v", req.from, req.to)
	}
	// A loss while awake starts now.
	r.beat.Store(now.UnixNano())
	s.trackGap(r, realtime.StateChange{Previous: realtime.StateConnected, Current: realtime.StateUnavailable})
	if !r.lostAt.Equal(now) {
		t.Errorf("lost at %v, want %v", r.lostAt, now)
	}
}

// A loss of GapMin or less leaves no gap entry; a longer one leaves one.
func TestGapOnlyAfterGapMin(t *testing.T) {
	rig := newServiceRig(t, tenantUser())
	s := NewService(ServiceOptions{Store: rig.store, Logger: rig.env.logger})
	run := &running{ctx: context.Background()}
	t0 := time.Date(2026, 12, 1, 14, 2, 0, 0, time.Local)
	s.catchUp(run, catchReq{from: t0, to: t0.Add(GapMin)})
	if n, _ := rig.store.Count(context.Background(), history.Query{Event: GapEvent}); n != 0 {
		t.Fatalf("a loss of %s left %d gap entries", GapMin, n)
	}
	s.catchUp(run, catchReq{from: t0, to: t0.Add(GapMin + time.Second)})
	es, err := rig.store.List(context.Background(), history.Query{Event: GapEvent})
	if err != nil || len(es) != 1 {
		t.Fatalf("gap entries %v, %v", es, err)
	}
	if !strings.HasPrefix(es[0].Message, "Offline from 14:02 to 14:02") || es[0].Type != notify.TypeWarning {
		t.Errorf("gap entry %+v", es[0])
	}
}
