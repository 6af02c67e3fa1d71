package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 12, 3, 10, 0, 0, 0, time.UTC)

func payment(i int) item {
	return item{event: "PaymentCompleted", typ: TypeSuccess, title: "Payment Completed",
		body: fmt.Sprintf("Payment %d", i), noun: [2]string{"payment", "payments"}}
}

func user(i int) item {
	return item{event: "UserCreated", typ: TypeSuccess, title: "User Created",
		body: fmt.Sprintf("User %d", i), noun: [2]string{"user", "users"}}
}

func TestPolicyFloodSummary(t *testing.T) {
	var p policy
	prefs := Prefs{}
	var shown, held int
	armed := 0
	// 15 events within one second: 3 show, 12 are held for the summary.
	for i := range 15 {
		it := payment(i)
		if i%3 == 2 || i == 14 {
			it = user(i)
		}
		v, arm := p.admit(prefs, t0.Add(time.Duration(i)*50*time.Millisecond), it)
		switch v {
		case verdictShow:
			shown++
		case verdictHeld:
			held++
		default:
			t.Fatalf("event %d: verdict %v", i, v)
		}
		if arm {
			armed++
		}
	}
	if shown != 3 || held != 12 || armed != 1 {
		t.Fatalf("shown %d, held %d, timer armed %d times; want 3, 12, 1", shown, held, armed)
	}
	out, rearm := p.flush(prefs, t0.Add(10*time.Second))
	if out == nil || !rearm {
		t.Fatalf("flush = %v, %v", out, rearm)
	}
	// Events 3..14: users at 5, 8, 11, 14 → 4 users, 8 payments.
	if out.title != "12 new events" || out.body != "8 payments, 4 users" {
		t.Errorf("summary = %q / %q", out.title, out.body)
	}
	if out.entryID != 0 || out.typ != TypeInfo || out.timeout != DefaultTimeout {
		t.Errorf("summary fields: %+v", out)
	}

	// The flood goes on: the next event is held too.
	if v, _ := p.admit(prefs, t0.Add(11*time.Second), payment(100)); v != verdictHeld {
		t.Fatalf("during the flood: %v", v)
	}
	// One held event is shown as itself, not as "1 new event".
	out, rearm = p.flush(prefs, t0.Add(20*time.Second))
	if out == nil || out.body != "Payment 100" || !rearm {
		t.Fatalf("single held: %+v, %v", out, rearm)
	}
	// A quiet window ends the flood, and events show again.
	if out, rearm = p.flush(prefs, t0.Add(30*time.Second)); out != nil || rearm {
		t.Fatalf("quiet window: %+v, %v", out, rearm)
	}
	if v, _ := p.admit(prefs, t0.Add(31*time.Second), payment(101)); v != verdictShow {
		t.Fatalf("after the flood: %v", v)
	}
}

func TestPolicyFloodWindowSlides(t *testing.T) {
	var p policy
	prefs := Prefs{FloodLimit: 2, FloodWindow: 5 * time.Second}
	// One event every 3 s never floods with 2 per 5 s.
	for i := range 10 {
		if v, _ := p.admit(prefs, t0.Add(time.Duration(i)*3*time.Second), payment(i)); v != verdictShow {
			t.Fatalf("event %d at %ds: %v", i, 3*i, v)
		}
	}
	// Three within 5 s do.
	base := t0.Add(time.Minute)
	p.admit(prefs, base, payment(20))
	p.admit(prefs, base.Add(time.Second), payment(21))
	if v, arm := p.admit(prefs, base.Add(2*time.Second), payment(22)); v != verdictHeld || !arm {
		t.Fatalf("third within the window: %v, %v", v, arm)
	}
}

func TestPolicyFloodControlOff(t *testing.T) {
	var p policy
	for i := range 50 {
		if v, arm := p.admit(Prefs{FloodLimit: -1}, t0, payment(i)); v != verdictShow || arm {
			t.Fatalf("event %d: %v %v", i, v, arm)
		}
	}
}

func TestPolicySummaryText(t *testing.T) {
	alert := item{event: "SystemAlert", typ: TypeError, noun: [2]string{"alert", "alerts"}}
	failed := item{event: "PaymentFailed", typ: TypeError, noun: [2]string{"failed payment", "failed payments"}}
	hotspot := item{event: "HotspotUserExpired", typ: TypeInfo, noun: [2]string{"hotspot user", "hotspot users"}}
	tenant := item{event: "TenantRegistered", typ: TypeWarning, noun: [2]string{"tenant registration", "tenant registrations"}}
	for _, tc := range []struct {
		items       []item
		title, body string
		typ         Type
	}{
		{[]item{hotspot, hotspot}, "2 new events", "2 hotspot users", TypeInfo},
		{[]item{hotspot, alert, hotspot}, "3 new events", "2 hotspot users, 1 alert", TypeError},
		{[]item{tenant, failed, failed, hotspot}, "4 new events", "2 failed payments, 1 tenant registration, 1 hotspot user", TypeError},
		{[]item{user(1), tenant}, "2 new events", "1 user, 1 tenant registration", TypeWarning},
	} {
		var p policy
		for _, it := range tc.items {
			p.hold(it)
		}
		s := summaryOf(p.held)
		if s.title != tc.title || s.body != tc.body || s.typ != tc.typ {
			t.Errorf("summary = %q %q %s, want %q %q %s", s.title, s.body, s.typ, tc.title, tc.body, tc.typ)
		}
		if tc.typ == TypeError && (s.typ.Urgency() != UrgencyCritical || s.timeout != 0) {
			t.Errorf("an error in the summary must make it critical: %+v", s)
		}
	}
}

func TestPolicyDedupe(t *testing.T) {
	var p policy
	prefs := Prefs{FloodLimit: -1}
	// Same content without an id: once per DedupeWindow.
	if v, _ := p.admit(prefs, t0, payment(1)); v != verdictShow {
		t.Fatal(v)
	}
	if v, _ := p.admit(prefs, t0.Add(2*time.Second), payment(1)); v != verdictDuplicate {
		t.Fatalf("same content 2 s later: %v", v)
	}
	if v, _ := p.admit(prefs, t0.Add(2*time.Second), payment(2)); v != verdictShow {
		t.Fatalf("other content: %v", v)
	}
	if v, _ := p.admit(prefs, t0.Add(DedupeWindow+time.Second), payment(1)); v != verdictShow {
		t.Fatalf("same content after the window: %v", v)
	}
	// With ids: the id decides, not the content.
	a, b := payment(7), payment(7)
	a.key, b.key = "tenant.1/PaymentCompleted/e1", "tenant.1/PaymentCompleted/e2"
	if v, _ := p.admit(prefs, t0, a); v != verdictShow {
		t.Fatal(v)
	}
	if v, _ := p.admit(prefs, t0, b); v != verdictShow {
		t.Fatalf("same content, other id: %v", v)
	}
	if v, _ := p.admit(prefs, t0.Add(time.Second), a); v != verdictDuplicate {
		t.Fatalf("same id again (after a reconnect): %v", v)
	}
}

func TestPolicyDoNotDisturb(t *testing.T) {
	var p policy
	failed := item{event: "PaymentFailed", typ: TypeError, title: "Payment Failed", body: "x"}
	prefs := Prefs{PausedUntil: t0.Add(time.Hour), FloodLimit: -1}
	if v, _ := p.admit(prefs, t0, payment(1)); v != verdictPaused {
		t.Fatalf("paused: %v", v)
	}
	if v, _ := p.admit(prefs, t0, failed); v != verdictPaused {
		t.Fatalf("error while paused, not allowed: %v", v)
	}
	prefs.AllowErrorsWhilePaused = true
	if v, _ := p.admit(prefs, t0.Add(time.Minute), failed); v != verdictShow {
		t.Fatalf("error while paused, allowed: %v", v)
	}
	if v, _ := p.admit(prefs, t0.Add(time.Minute), payment(2)); v != verdictPaused {
		t.Fatalf("non-error while paused, errors allowed: %v", v)
	}
	if v, _ := p.admit(prefs, t0.Add(time.Hour), payment(3)); v != verdictShow {
		t.Fatalf("pause over: %v", v)
	}
	forever := Prefs{PausedUntil: PausedForever}
	if !forever.Paused(t0.AddDate(50, 0, 0)) || (Prefs{}).Paused(t0) {
		t.Error("Paused: PausedForever must hold, zero must not pause")
	}
}

func TestPolicyMute(t *testing.T) {
	var p policy
	prefs := Prefs{Muted: map[string]bool{"paymentcompleted": true, "UserCreated": false}}
	if v, _ := p.admit(prefs, t0, payment(1)); v != verdictMuted {
		t.Fatalf("muted (case-insensitive): %v", v)
	}
	if v, _ := p.admit(prefs, t0, user(1)); v != verdictShow {
		t.Fatalf("explicitly unmuted: %v", v)
	}
	if !prefs.IsMuted(`App\Events\PaymentCompleted`) {
		t.Error("IsMuted must accept namespaced names")
	}
	// A mute written with the namespace in the config file ("muted":
	// ["App\\Events\\UserDeleted"]) mutes the event, as a namespaced
	// override key does in the catalog.
	ns := Prefs{Muted: map[string]bool{`App\Events\UserDeleted`: true}}
	for _, ev := range []string{"UserDeleted", `App\Events\UserDeleted`} {
		if !ns.IsMuted(ev) {
			t.Errorf("IsMuted(%q) with a namespaced mute = false", ev)
		}
	}
	if ns.IsMuted("UserCreated") {
		t.Error("a namespaced mute muted another event")
	}
}

func TestPolicyFlushDropsWhatBecameHidden(t *testing.T) {
	var p policy
	prefs := Prefs{FloodLimit: 1}
	p.admit(prefs, t0, user(0))
	p.admit(prefs, t0, payment(1))
	p.admit(prefs, t0, payment(2))
	p.admit(prefs, t0, user(3))
	// The user mutes payments before the window ends.
	prefs.Muted = map[string]bool{"PaymentCompleted": true}
	out, rearm := p.flush(prefs, t0.Add(10*time.Second))
	if out == nil || out.body != "User 3" || !rearm {
		t.Fatalf("flush after mute: %+v, %v", out, rearm)
	}
	// Everything held is hidden by do-not-disturb: nothing to show, but the
	// flood goes on because events did arrive.
	p.admit(prefs, t0.Add(11*time.Second), user(4))
	out, rearm = p.flush(Prefs{PausedUntil: PausedForever}, t0.Add(20*time.Second))
	if out != nil || !rearm {
		t.Fatalf("flush while paused: %+v, %v", out, rearm)
	}
	// flushFinal hands over what is held and ends the flood.
	p.admit(prefs, t0.Add(21*time.Second), user(5))
	p.admit(prefs, t0.Add(21*time.Second), user(6))
	if out := p.flushFinal(prefs, t0.Add(22*time.Second)); out == nil || out.title != "2 new events" || p.flooding {
		t.Fatalf("flushFinal: %+v, flooding %v", out, p.flooding)
	}
}

func TestPolicyPrefsDefaults(t *testing.T) {
	var p Prefs
	if p.floodLimit() != DefaultFloodLimit || p.floodWindow() != DefaultFloodWindow {
		t.Errorf("defaults: %d %v", p.floodLimit(), p.floodWindow())
	}
	p.Muted = map[string]bool{"A": true}
	c := p.clone()
	c.Muted["B"] = true
	if p.Muted["B"] {
		t.Error("clone shares the Muted map")
	}
}

func TestPolicyStormStaysSmall(t *testing.T) {
	var p policy
	prefs := Prefs{}
	const n = 2*maxSeen + 1
	for i := range n {
		it := payment(i)
		if i%2 == 1 {
			it = user(i)
		}
		p.admit(prefs, t0.Add(time.Duration(i)*time.Microsecond), it)
	}
	if len(p.held.list) != 2 || len(p.seen) > maxSeen || len(p.seenOrder)-p.seenHead > maxSeen {
		t.Fatalf("held %d groups, seen %d keys, order %d", len(p.held.list), len(p.seen), len(p.seenOrder)-p.seenHead)
	}
	out, _ := p.flush(prefs, t0.Add(10*time.Second))
	if out == nil || out.title != "19998 new events" || out.body != "9999 users, 9999 payments" {
		t.Fatalf("storm summary: %+v", out)
	}
}

// TestPolicyGroupsAreCapped: past maxGroups distinct events, held
// notifications are counted by kind, and past that only counted: "and N
// others". Nothing is lost from the total.
func TestPolicyGroupsAreCapped(t *testing.T) {
	var p policy
	prefs := Prefs{PausedUntil: PausedForever}
	now := t0
	n := 0
	add := func(event string, noun [2]string, typ Type) {
		n++
		now = now.Add(time.Millisecond)
		p.admit(prefs, now, item{event: event, typ: typ, title: event, body: fmt.Sprint(n), noun: noun})
	}
	for i := range maxGroups + 10 {
		add(fmt.Sprintf("Unknown%d", i), [2]string{"other event", "other events"}, TypeInfo)
	}
	for i := range 5 {
		add(fmt.Sprintf("Pay%d", i), [2]string{"payment", "payments"}, TypeSuccess)
	}
	for i := range maxGroups + 7 {
		add(fmt.Sprintf("Odd%d", i), [2]string{fmt.Sprintf("odd%d", i), fmt.Sprintf("odds%d", i)}, TypeError)
	}
	if len(p.missed.list) > 2*maxGroups {
		t.Fatalf("%d groups kept", len(p.missed.list))
	}
	out := p.resumed(Prefs{}, now)
	if out == nil {
		t.Fatal("no summary")
	}
	if want := fmt.Sprintf("%d events while paused", n); out.title != want {
		t.Errorf("title %q, want %q", out.title, want)
	}
	if !strings.HasPrefix(out.body, fmt.Sprintf("%d other events, 5 payments, 1 odd0", maxGroups+10)) ||
		!strings.HasSuffix(out.body, " and 9 others") {
		t.Errorf("body %q", out.body)
	}
	if out.typ != TypeError {
		t.Errorf("type %s, want the most severe", out.typ)
	}
}

// TestPolicyDedupeTrimCopies: trimming the de-duplication memory must not
// keep the old backing array (and with it every key ever seen) alive.
func TestPolicyDedupeTrimCopies(t *testing.T) {
	var p policy
	prefs := Prefs{FloodLimit: -1}
	now := t0
	for i := range 5 * maxSeen {
		now = now.Add(10 * time.Millisecond)
		p.admit(prefs, now, payment(i))
	}
	if len(p.seen) > maxSeen || cap(p.seenOrder) > 4*maxSeen {
		t.Fatalf("seen %d, order len %d cap %d", len(p.seen), len(p.seenOrder), cap(p.seenOrder))
	}
	// Past the window everything is forgotten, and the memory with it.
	now = now.Add(DedupeWindow + time.Second)
	p.admit(prefs, now, payment(-1))
	if len(p.seen) != 1 || len(p.seenOrder)-p.seenHead != 1 || cap(p.seenOrder) > 1024 {
		t.Fatalf("after the window: seen %d, order %d (head %d), cap %d", len(p.seen), len(p.seenOrder), p.seenHead, cap(p.seenOrder))
	}
}

func failed(i int) item {
	return item{event: "PaymentFailed", typ: TypeError, title: "Payment Failed",
		body: fmt.Sprintf("Payment %d failed", i), noun: [2]string{"failed payment", "failed payments"}}
}

// TestPolicyErrorsBypassFlood: errors neither count towards the flood limit
// nor are held for its summary.
func TestPolicyErrorsBypassFlood(t *testing.T) {
	var p policy
	prefs := Prefs{}
	var shownErrors, shownOthers, held int
	for i := range 20 {
		it := payment(i)
		if i == 0 || i == 7 || i == 19 {
			it = failed(i)
		}
		v, _ := p.admit(prefs, t0.Add(time.Duration(i)*10*time.Millisecond), it)
		switch {
		case v == verdictShow && it.typ == TypeError:
			shownErrors++
		case v == verdictShow:
			shownOthers++
		case v == verdictHeld && it.typ != TypeError:
			held++
		default:
			t.Fatalf("event %d (%s): %v", i, it.event, v)
		}
	}
	if shownErrors != 3 || shownOthers != 3 || held != 14 {
		t.Fatalf("shown %d errors and %d others, held %d; want 3, 3, 14", shownErrors, shownOthers, held)
	}
	out, _ := p.flush(prefs, t0.Add(10*time.Second))
	if out == nil || out.title != "14 new events" || out.body != "14 payments" || out.typ == TypeError {
		t.Fatalf("summary = %+v", out)
	}
	if out := p.flushErrors(prefs, t0.Add(10*time.Second)); out != nil {
		t.Fatalf("errors within the cap, yet flushErrors = %+v", out)
	}
}

// TestPolicyErrorCap: ErrorLimit errors within ErrorWindow show; the rest
// become one "and N more" when the window ends, and then errors show one
// by one again.
func TestPolicyErrorCap(t *testing.T) {
	var p policy
	prefs := Prefs{}
	now := t0
	armed := 0
	for i := range 15 {
		now = t0.Add(time.Duration(i) * 500 * time.Millisecond)
		v, arm := p.admit(prefs, now, failed(i))
		want := verdictShow
		if i >= ErrorLimit {
			want = verdictErrorHeld
		}
		if v != want {
			t.Fatalf("error %d: %v, want %v", i, v, want)
		}
		if arm {
			armed++
			if i != ErrorLimit {
				t.Errorf("timer armed at error %d", i)
			}
		}
	}
	if armed != 1 {
		t.Fatalf("timer armed %d times", armed)
	}
	// The same error again is a duplicate, not one more.
	if v, _ := p.admit(prefs, now, failed(14)); v != verdictDuplicate {
		t.Fatalf("the same error again: %v", v)
	}
	out := p.flushErrors(prefs, t0.Add(5*time.Second+ErrorWindow))
	if out == nil || out.title != "and 5 more failed payments" || out.body != "They are all in the history." ||
		out.typ != TypeError || out.entryID != 0 || out.total != 5 || out.timeout != ErrorTimeout {
		t.Fatalf("overflow = %+v", out)
	}
	if v, arm := p.admit(prefs, t0.Add(16*time.Second), failed(100)); v != verdictShow || arm {
		t.Fatalf("after the window: %v %v", v, arm)
	}

	// One error past the cap is shown as itself.
	var q policy
	for i := range ErrorLimit + 1 {
		q.admit(prefs, t0, failed(i))
	}
	if out := q.flushErrors(prefs, t0.Add(ErrorWindow)); out == nil || out.title != "Payment Failed" || out.body != "Payment 10 failed" {
		t.Fatalf("one past the cap: %+v", out)
	}

	// Flood control off: no cap on errors either.
	var r policy
	for i := range 3 * ErrorLimit {
		if v, arm := r.admit(Prefs{FloodLimit: -1}, t0, failed(i)); v != verdictShow || arm {
			t.Fatalf("flood control off, error %d: %v %v", i, v, arm)
		}
	}
}

// TestPolicyErrorOverflowWording: the notification for errors past the cap
// names them by the catalog's noun when they share one, else "errors" with
// a count by kind; a muted or paused-away error is dropped from it.
func TestPolicyErrorOverflowWording(t *testing.T) {
	alert := item{event: "SystemAlert", typ: TypeError, noun: [2]string{"alert", "alerts"}}
	unknown := item{event: "LedgerBroken", typ: TypeError, noun: [2]string{"other event", "other events"}}
	for _, tc := range []struct {
		extra       []item
		title, body string
	}{
		{[]item{failed(20), failed(21)}, "and 2 more failed payments", "They are all in the history."},
		{[]item{alert, failed(20), alert}, "and 3 more errors", "2 alerts, 1 failed payment"},
		{[]item{unknown, unknown}, "and 2 more errors", "2 other events"},
	} {
		var p policy
		for i := range ErrorLimit {
			p.admit(Prefs{}, t0, failed(i))
		}
		for i, it := range tc.extra {
			it.body = fmt.Sprint(i) // not duplicates
			if v, _ := p.admit(Prefs{}, t0, it); v != verdictErrorHeld {
				t.Fatalf("%s past the cap: %v", it.event, v)
			}
		}
		out := p.flushErrors(Prefs{}, t0.Add(ErrorWindow))
		if out == nil || out.title != tc.title || out.body != tc.body {
			t.Errorf("overflow = %+v, want %q / %q", out, tc.title, tc.body)
		}
	}

	// Muted before the window ends: dropped.
	var p policy
	for i := range ErrorLimit + 3 {
		p.admit(Prefs{}, t0, failed(i))
	}
	p.admit(Prefs{}, t0, alert)
	muted := Prefs{Muted: map[string]bool{"PaymentFailed": true}}
	if out := p.flushErrors(muted, t0.Add(ErrorWindow)); out == nil || out.event != "SystemAlert" {
		t.Fatalf("after muting failed payments: %+v", out)
	}
	if p.errFlooding || p.errHeld.total() != 0 {
		t.Fatal("flushErrors left errors held")
	}
}

// TestPolicyErrorsShownWhilePausedAreNotMissed: an error shown through
// do-not-disturb, or counted past the cap, is not counted again in "N
// events while paused".
func TestPolicyErrorsShownWhilePausedAreNotMissed(t *testing.T) {
	var p policy
	prefs := Prefs{PausedUntil: t0.Add(time.Hour), AllowErrorsWhilePaused: true}
	for i := range 12 {
		if v, _ := p.admit(prefs, t0, payment(i)); v != verdictPaused {
			t.Fatalf("payment while paused: %v", v)
		}
		if v, _ := p.admit(prefs, t0, failed(i)); v != verdictShow && v != verdictErrorHeld {
			t.Fatalf("error while paused, allowed: %v", v)
		}
	}
	if out := p.flushErrors(prefs, t0.Add(ErrorWindow)); out == nil || out.title != "and 2 more failed payments" {
		t.Fatalf("overflow while paused: %+v", out)
	}
	out := p.resumed(Prefs{}, t0.Add(time.Hour))
	if out == nil || out.title != "12 events while paused" || out.body != "12 payments" {
		t.Fatalf("resume summary = %+v", out)
	}
}
