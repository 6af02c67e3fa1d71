//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"echotray/devstack"
	"echotray/devstack/generator"
	"echotray/devstack/laravel"
	"echotray/devstack/laravelapp"
	"echotray/notify"
	"echotray/tray"
)

// The real Laravel app (devstack/laravelapp: Laravel 8 from Debian's
// packages, SQLite, its own Pusher broadcaster) with the real Soketi and
// the real binary: sign-in, the seed's events, Laravel notifications live,
// catch-up after being stopped or offline, honest gaps and read sync both
// ways, checked in Laravel's notifications table.

// laravelStack is Soketi and the real Laravel app broadcasting to it.
type laravelStack struct {
	Soketi *devstack.Soketi
	App    *laravelapp.App
}

// startLaravelStack starts both for a test (skipped where PHP or the
// Debian Laravel packages are missing).
func startLaravelStack(t *testing.T, o laravelapp.Options) *laravelStack {
	t.Helper()
	if err := laravelapp.Available(); err != nil {
		t.Skipf("the real Laravel app cannot run here: %v", err)
	}
	s := devstack.StartSoketiT(t)
	o.Soketi = s
	return &laravelStack{Soketi: s, App: laravelapp.StartT(t, o)}
}

// LoginArgs is `echotray login` for email against the Laravel app.
func (s *laravelStack) LoginArgs(email string) []string {
	return []string{"login", "--server", s.App.URL(), "--email", email, "--password-stdin",
		"--pusher-key", s.Soketi.Key, "--pusher-host", s.Soketi.Host,
		"--pusher-port", strconv.Itoa(s.Soketi.Port), "--pusher-scheme", "http"}
}

// notifyUser sends a Laravel notification (database + broadcast).
func (s *laravelStack) notifyUser(t *testing.T, userID int64, class string, data map[string]any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	id, err := s.App.Notify(ctx, userID, class, data)
	if err != nil {
		t.Fatalf("notify %s: %v", class, err)
	}
	return id
}

// rows returns the user's rows of Laravel's notifications table by id.
func (s *laravelStack) rows(t *testing.T, userID int64) map[string]laravelapp.NotificationRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	rows, err := s.App.NotificationRows(ctx, userID)
	if err != nil {
		t.Fatalf("notification rows: %v", err)
	}
	m := map[string]laravelapp.NotificationRow{}
	for _, r := range rows {
		m[r.ID] = r
	}
	return m
}

// lineWithin returns the next stdout line of r within limit (a reconnect
// may come first).
func lineWithin(t *testing.T, r *Running, limit time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-r.lines:
		if !ok {
			t.Fatalf("%s ended without another line\nstderr:\n%s", r.proc.Name, r.Stderr.String())
		}
		return l
	case <-time.After(limit):
		t.Fatalf("no output line from %s within %s\nstderr:\n%s", r.proc.Name, limit, r.Stderr.String())
		return ""
	}
}

// jsonLineWithin is JSONLine with a longer limit.
func jsonLineWithin(t *testing.T, r *Running, limit time.Duration) WatchLine {
	t.Helper()
	line := lineWithin(t, r, limit)
	var w WatchLine
	if err := json.Unmarshal([]byte(line), &w); err != nil {
		t.Fatalf("watch --json printed a line that is not JSON: %q", line)
	}
	return w
}

// notificationsTitled counts the desktop notifications with summary title.
func notificationsTitled(d *Desktop, title string) int {
	n := 0
	for _, x := range d.Notifications() {
		if x.Summary == title {
			n++
		}
	}
	return n
}

// historyByEvent returns the history entries (`history --json`) whose
// event is event.
func historyByEvent(t *testing.T, a *App, event string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, h := range historyLines(t, a) {
		if h["event"] == event {
			out = append(out, h)
		}
	}
	return out
}

// TestLaravelWrongPassword: Laravel's own validation message (422) is what
// the user reads; nothing is stored.
func TestLaravelWrongPassword(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true})
	st := startLaravelStack(t, laravelapp.Options{})
	a := d.NewApp(t)
	r := a.Run(t, "not-the-password\n", st.LoginArgs("alice@tenant1.test")...)
	if r.Code != exitAuth || !strings.Contains(r.Stderr, "These credentials do not match our records.") || r.Stdout != "" {
		t.Fatalf("login with a wrong password:\n%s", r)
	}
	if s := d.SecretSearch(t); strings.TrimSpace(s) != "" {
		t.Errorf("keyring not empty:\n%s", s)
	}
	ok := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...)
	if ok.Code != 0 || !strings.Contains(ok.Stdout, "Signed in as Alice Wanjiru") {
		t.Fatalf("login with the right password:\n%s", ok)
	}
}

// TestLaravelEventsAndNotificationsLive: a Laravel notification arrives
// live on the user's notification channel with its data's text, once on
// the desktop; then the seed's 18 events, fired as Laravel events, arrive
// with their texts (tenant staff and a system admin watching).
func TestLaravelEventsAndNotificationsLive(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := startLaravelStack(t, laravelapp.Options{})
	alice, admin := d.NewApp(t), d.NewApp(t)
	for a, email := range map[*App]string{alice: "alice@tenant1.test", admin: "admin@echotray.test"} {
		if r := a.Run(t, "password\n", st.LoginArgs(email)...); r.Code != 0 {
			t.Fatalf("login %s:\n%s", email, r)
		}
	}
	wa := alice.Start(t, "watch", "--json")
	for _, ch := range []string{"tenant.1", "private-user.1", "private-App.Models.User.1"} {
		wa.WaitStderr(t, "Subscribed to "+ch+".", 1)
	}
	wadm := admin.Start(t, "watch", "--json", "--no-notify")
	for _, ch := range []string{"private-system.admin", "private-user.3", "private-App.Models.User.3"} {
		wadm.WaitStderr(t, "Subscribed to "+ch+".", 1)
	}

	// A Laravel notification, live.
	uuid := st.notifyUser(t, 1, "InvoicePaid", map[string]any{"title": "Invoice 12 paid", "message": "KES 1,500.00 received from 0712345678.", "type": "success"})
	n := wa.JSONLine(t)
	if n.Channel != "private-App.Models.User.1" || n.Event != "InvoicePaid" || n.Title != "Invoice 12 paid" ||
		n.Message != "KES 1,500.00 received from 0712345678." || n.Type != "success" {
		t.Fatalf("notification line: %+v", n)
	}
	var data map[string]any
	if err := json.Unmarshal(n.Data, &data); err != nil || data["id"] != uuid || data["type"] != `App\Notifications\InvoicePaid` {
		t.Errorf("notification data %s (uuid %s)", n.Data, uuid)
	}
	d.WaitNotification(t, "the Laravel notification", func(x Notification) bool {
		return x.Summary == "Invoice 12 paid" && x.Body == "KES 1,500.00 received from 0712345678."
	})
	// A notification without a title: the class name in words.
	st.notifyUser(t, 1, "PasswordExpiresSoon", map[string]any{"message": "Change it within 3 days.", "level": "warning"})
	if l := wa.JSONLine(t); l.Title != "Password expires soon" || l.Type != "warning" || l.Event != "PasswordExpiresSoon" {
		t.Errorf("class-name title: %+v", l)
	}

	// The seed's 18 events, as the platform's Laravel code fires them.
	g := &generator.Generator{Users: laravel.DefaultUsers()[:1], Tenants: []int64{1}, Namespaced: true}
	samples := g.Samples()
	if len(samples) != 18 {
		t.Fatalf("%d samples, want 18", len(samples))
	}
	catalog := notify.NewCatalog(nil)
	for _, e := range samples {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		err := st.App.Fire(ctx, e.Name, e.Data)
		cancel()
		if err != nil {
			t.Fatalf("fire %s: %v", e.Name, err)
		}
		w := wa
		if e.Channel == generator.AdminChannel {
			w = wadm
		}
		got := w.JSONLine(t)
		raw, _ := json.Marshal(e.Data)
		want := catalog.Render(e.Name, raw)
		if got.Event != e.Name || got.Channel != e.Channel || got.Title != want.Title || got.Message != want.Message || got.Type != string(want.Type) {
			t.Errorf("%s on %s:\n got %+v\nwant %q / %q / %s", e.Name, e.Channel, got, want.Title, want.Message, want.Type)
		}
	}
	for _, w := range []*Running{wa, wadm} {
		w.Interrupt(t)
		if code := w.Wait(t); code != 0 {
			t.Errorf("watch exited %d", code)
		}
	}
	if h := historyByEvent(t, alice, "InvoicePaid"); len(h) != 1 {
		t.Errorf("history has %d InvoicePaid entries, want 1", len(h))
	}
}

// TestLaravelCatchUpAfterWatchStopped: notifications sent while `watch`
// is not running are fetched when it starts: each in the history exactly
// once, announced once — one by one for three, one summary for more — and
// one read on the web meanwhile arrives read and is not announced.
func TestLaravelCatchUpAfterWatchStopped(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := startLaravelStack(t, laravelapp.Options{})
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	w := a.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to private-App.Models.User.1.", 1)
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d", code)
	}

	// Three while stopped.
	var ids []string
	for i := 1; i <= 3; i++ {
		ids = append(ids, st.notifyUser(t, 1, "InvoicePaid", map[string]any{
			"title": fmt.Sprintf("Invoice %d paid", i), "message": "Paid in full.", "type": "success"}))
	}
	w = a.Start(t, "watch", "--json")
	var titles []string
	for range 3 {
		l := jsonLineWithin(t, w, reconnectTimeout)
		titles = append(titles, l.Title)
	}
	slices.Sort(titles) // oldest first; one second's rows come in the server's (uuid) order
	if !slices.Equal(titles, []string{"Invoice 1 paid", "Invoice 2 paid", "Invoice 3 paid"}) {
		t.Errorf("caught up %q", titles)
	}
	for _, title := range []string{"Invoice 1 paid", "Invoice 2 paid", "Invoice 3 paid"} {
		d.WaitNotification(t, title, func(n Notification) bool { return n.Summary == title })
	}
	w.WaitStderr(t, "Subscribed to private-App.Models.User.1.", 1)
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d", code)
	}
	if got := historyByEvent(t, a, "InvoicePaid"); len(got) != 3 {
		t.Errorf("history has %d InvoicePaid entries, want 3 (each once)", len(got))
	}
	for _, title := range []string{"Invoice 1 paid", "Invoice 2 paid", "Invoice 3 paid"} {
		if n := notificationsTitled(d, title); n != 1 {
			t.Errorf("%q shown %d times on the desktop, want once", title, n)
		}
	}

	// Five more while stopped, one of them read on the web meanwhile:
	// one summary for the four unread, the read one stored read.
	var more []string
	for i := 4; i <= 8; i++ {
		more = append(more, st.notifyUser(t, 1, "InvoicePaid", map[string]any{
			"title": fmt.Sprintf("Invoice %d paid", i), "message": "Paid in full.", "type": "success"}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := st.App.MarkReadOnWeb(ctx, more[0]); err != nil {
		t.Fatal(err)
	}
	w = a.Start(t, "watch", "--json")
	for range 5 {
		jsonLineWithin(t, w, reconnectTimeout)
	}
	d.WaitNotification(t, "the catch-up summary", func(n Notification) bool {
		return n.Summary == "While you were offline: 4 notifications"
	})
	w.WaitStderr(t, "Subscribed to private-App.Models.User.1.", 1)
	time.Sleep(2 * time.Second) // nothing more may come
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d", code)
	}
	for i := 4; i <= 8; i++ {
		if n := notificationsTitled(d, fmt.Sprintf("Invoice %d paid", i)); n != 0 {
			t.Errorf("Invoice %d paid was shown on its own as well as in the summary", i)
		}
	}
	if n := notificationsTitled(d, "While you were offline: 4 notifications"); n != 1 {
		t.Errorf("%d summaries, want 1", n)
	}
	hist := historyByEvent(t, a, "InvoicePaid")
	if len(hist) != 8 {
		t.Fatalf("history has %d InvoicePaid entries, want 8", len(hist))
	}
	for _, h := range hist {
		if h["title"] == "Invoice 4 paid" && h["read"] != true {
			t.Errorf("the notification read on the web arrived unread: %v", h)
		}
		if h["title"] == "Invoice 5 paid" && h["read"] != false {
			t.Errorf("an unread notification arrived read: %v", h)
		}
	}

	// Read on the web after EchoTray stored it unread: read here too at
	// the next catch-up.
	if err := st.App.MarkReadOnWeb(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	w = a.Start(t, "watch", "--json", "--no-notify")
	w.WaitStderr(t, "Subscribed to private-App.Models.User.1.", 1)
	waitUntil(t, "Invoice 1 paid to be read in the history", func() bool {
		for _, h := range historyByEvent(t, a, "InvoicePaid") {
			if h["title"] == "Invoice 1 paid" {
				return h["read"] == true
			}
		}
		return false
	})
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d", code)
	}
}

// TestLaravelSoketiDownRecoveredWithGap: Soketi is stopped for 15 s while
// notifications are sent; after the reconnection they are fetched, and the
// history gets one gap entry saying what was recovered (no desktop
// notification for a gap under five minutes).
func TestLaravelSoketiDownRecoveredWithGap(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := startLaravelStack(t, laravelapp.Options{})
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	w := a.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to private-App.Models.User.1.", 1)

	if err := st.Soketi.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	w.WaitStderr(t, "Connection lost", 1)
	// Laravel stores them; its broadcast to Soketi fails meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	for i := 1; i <= 2; i++ {
		if _, err := st.App.Notify(ctx, 1, "InvoicePaid", map[string]any{"title": fmt.Sprintf("Offline invoice %d", i), "message": "Paid."}); err != nil {
			t.Logf("notify while Soketi is down: %v (the row is what counts)", err)
		}
	}
	if n := len(st.rows(t, 1)); n != 2 {
		t.Fatalf("%d notification rows, want 2", n)
	}
	time.Sleep(time.Until(stopped.Add(15 * time.Second)))
	if err := st.Soketi.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	var got []WatchLine
	for len(got) < 3 {
		got = append(got, jsonLineWithin(t, w, reconnectTimeout))
	}
	var gap *WatchLine
	var titles []string
	for i := range got {
		if got[i].Event == "ConnectionGap" {
			gap = &got[i]
		} else {
			titles = append(titles, got[i].Title)
		}
	}
	slices.Sort(titles)
	if !slices.Equal(titles, []string{"Offline invoice 1", "Offline invoice 2"}) {
		t.Errorf("recovered %q", titles)
	}
	if gap == nil {
		t.Fatalf("no ConnectionGap line in %+v", got)
	}
	var gd struct {
		From, To  time.Time
		Recovered *int
	}
	if err := json.Unmarshal(gap.Data, &gd); err != nil || gd.Recovered == nil || *gd.Recovered != 2 || !gd.To.After(gd.From) ||
		gd.To.Sub(gd.From) < 14*time.Second {
		t.Errorf("gap data %s (%v)", gap.Data, err)
	}
	if gap.Type != "warning" || !strings.HasPrefix(gap.Message, "Offline from ") ||
		!strings.Contains(gap.Message, "events sent in that time were not received — 2 recovered.") {
		t.Errorf("gap line %+v", gap)
	}
	for _, title := range []string{"Offline invoice 1", "Offline invoice 2"} {
		d.WaitNotification(t, title, func(n Notification) bool { return n.Summary == title })
	}
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d", code)
	}
	for _, n := range d.Notifications() {
		if strings.HasPrefix(n.Summary, "Offline for") {
			t.Errorf("a 15 s gap raised a desktop notification: %+v", n)
		}
	}
	if h := historyByEvent(t, a, "ConnectionGap"); len(h) != 1 {
		t.Errorf("%d gap entries in the history, want 1", len(h))
	}
	if h := historyByEvent(t, a, "InvoicePaid"); len(h) != 2 {
		t.Errorf("%d InvoicePaid entries in the history, want 2", len(h))
	}
}

// TestLaravelReadSyncFromTheApp: clicking the desktop notification of a
// Laravel notification (the tray app opens its entry) marks it read in
// Laravel's notifications table.
func TestLaravelReadSyncFromTheApp(t *testing.T) {
	needXdotool(t)
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	_, conn := startWatcher(t, d)
	st := startLaravelStack(t, laravelapp.Options{})
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	a.Start(t, "--hidden")
	waitUntilFor(t, reconnectTimeout, "the core to subscribe the notification channel", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		chs, err := st.Soketi.Publisher().Channels(ctx, "private-App.Models.User.1")
		_, ok := chs["private-App.Models.User.1"]
		return err == nil && ok
	})
	uuid := st.notifyUser(t, 1, "InvoicePaid", map[string]any{"title": "Invoice 77 paid", "message": "KES 700.00 received."})
	other := st.notifyUser(t, 1, "InvoicePaid", map[string]any{"title": "Invoice 78 paid", "message": "KES 800.00 received."})
	n := d.WaitNotification(t, "Invoice 77 paid, with its id", func(n Notification) bool { return n.Summary == "Invoice 77 paid" && n.ID != 0 })
	if err := conn.Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications.ActionInvoked", n.ID, "default"); err != nil {
		t.Fatalf("emit ActionInvoked: %v", err)
	}
	waitUntilFor(t, reconnectTimeout, "the clicked notification to be read in Laravel's table", func() bool {
		r, ok := st.rows(t, 1)[uuid]
		return ok && r.ReadAt != nil
	})
	if r := st.rows(t, 1)[other]; r.ReadAt != nil {
		t.Errorf("the other notification was marked read too: %+v", r)
	}
}

// TestStandInWithoutCatchUpRoutes: the Go stand-in has no notification
// routes: no error anywhere, live events work, and a lost connection
// leaves a gap entry that recovered nothing (null).
func TestStandInWithoutCatchUpRoutes(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := StartStack(t)
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	w := a.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to tenant.1.", 1)
	if err := st.Soketi.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(12 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := st.Soketi.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	gap := jsonLineWithin(t, w, reconnectTimeout)
	if gap.Event != "ConnectionGap" || gap.Type != "warning" || strings.Contains(gap.Message, "recovered") ||
		!strings.Contains(string(gap.Data), `"recovered":null`) {
		t.Fatalf("gap line %+v %s", gap, gap.Data)
	}
	w.WaitStderr(t, "Subscribed to tenant.1.", 2)
	st.Publish(t, "tenant.1", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"name": "John Doe"}})
	if l := w.JSONLine(t); l.Event != "UserCreated" {
		t.Errorf("after the gap: %+v", l)
	}
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d", code)
	}
	for _, bad := range []string{"catch", "404", "notifications route", "error"} {
		if strings.Contains(strings.ToLower(w.Stderr.String()), bad) {
			t.Errorf("stderr mentions %q:\n%s", bad, w.Stderr.String())
		}
	}
	if h := historyByEvent(t, a, "ConnectionGap"); len(h) != 1 {
		t.Errorf("%d gap entries, want 1", len(h))
	}
}

// TestLaravelTrayWarnsWhenChannelsAreRefused: with a wrong channel
// authorisation path the connection itself works (the tenant channel is
// public), but the personal channels cannot be authorised: the tray says
// so in plain words, in its tooltip and the menu's first line, with the
// warning icon, instead of "connected".
func TestLaravelTrayWarnsWhenChannelsAreRefused(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	w, conn := startWatcher(t, d)
	st := startLaravelStack(t, laravelapp.Options{})
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(readAll(a.ConfigFile())), &cfg); err != nil {
		t.Fatalf("config file: %v", err)
	}
	cfg["paths"] = map[string]any{"auth": "/wrong/broadcasting/auth"}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(a.ConfigFile(), b, 0o600); err != nil {
		t.Fatal(err)
	}
	a.Start(t, "--hidden")
	it := w.waitItem(t)
	const want = "Connected, but personal notifications and your account's notifications are unavailable: " +
		"the server refused them (its authorisation address was not found)."
	waitUntilFor(t, reconnectTimeout, "the warning tooltip", func() bool { return tooltip(t, conn, it) == want })
	waitIcon(t, conn, it, tray.Warning, 0)
	if menu := readMenu(t, conn, it); len(menu) == 0 || labels(menu)[0] != want {
		t.Errorf("menu's first line %q, want the warning", labels(menu))
	}
	for _, bad := range []string{"realtime", "HTTP", "404", "private-"} {
		if strings.Contains(tooltip(t, conn, it), bad) {
			t.Errorf("the tooltip has %q", bad)
		}
	}
}
