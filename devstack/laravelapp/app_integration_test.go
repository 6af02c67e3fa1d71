//go:build integration

package laravelapp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"echotray/devstack"
	"echotray/devstack/generator"
	"echotray/devstack/laravel"
	"echotray/devstack/laravelapp"
	"echotray/realtime"
)

const wait = 10 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// call makes a JSON request to the app and decodes a JSON answer into out
// (when not nil); it returns the status and the raw body.
func call(t *testing.T, method, u, token string, in any, out any) (int, http.Header, []byte) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctxT(t), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, b)
		}
	}
	return resp.StatusCode, resp.Header, b
}

func login(t *testing.T, a *laravelapp.App, email string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	st, _, b := call(t, "POST", a.URL()+"/api/login", "", map[string]string{"email": email, "password": laravel.DefaultPassword}, &out)
	if st != 200 || out.Token == "" {
		t.Fatalf("login %s: HTTP %d %s", email, st, b)
	}
	return out.Token
}

// wsClient is a real Pusher client (echotray/realtime) connected to Soketi,
// authorising private channels at the app's /broadcasting/auth.
type wsClient struct {
	c      *realtime.Client
	events chan realtime.Event
	mu     sync.Mutex
	subs   map[string]realtime.SubscriptionChange
	subCh  chan struct{}
}

func newWS(t *testing.T, s *devstack.Soketi, a *laravelapp.App, token string, channels ...string) *wsClient {
	t.Helper()
	w := &wsClient{events: make(chan realtime.Event, 256), subs: map[string]realtime.SubscriptionChange{}, subCh: make(chan struct{}, 1)}
	hc := &http.Client{Timeout: 5 * time.Second}
	c, err := realtime.New(realtime.Config{
		Key: s.Key, Host: s.Host, Port: s.Port,
		Authorizer: realtime.HTTPAuthorizer{
			Endpoint: a.URL() + "/broadcasting/auth",
			Client:   hc,
			Header: func(context.Context) (http.Header, error) {
				return http.Header{"Authorization": {"Bearer " + token}}, nil
			},
		},
		OnEvent: func(e realtime.Event) {
			select {
			case w.events <- e:
			default:
			}
		},
		OnSubscription: func(sc realtime.SubscriptionChange) {
			w.mu.Lock()
			w.subs[sc.Channel] = sc
			w.mu.Unlock()
			select {
			case w.subCh <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		hc.CloseIdleConnections()
	})
	w.c = c
	for _, ch := range channels {
		c.Subscribe(ch)
	}
	c.Connect()
	return w
}

// waitSub waits until channel has status want.
func (w *wsClient) waitSub(t *testing.T, channel string, want realtime.SubscriptionStatus) realtime.SubscriptionChange {
	t.Helper()
	deadline := time.After(wait)
	for {
		w.mu.Lock()
		sc, ok := w.subs[channel]
		w.mu.Unlock()
		if ok && sc.Status == want {
			return sc
		}
		select {
		case <-w.subCh:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: status %v (%v), want %v", channel, sc.Status, sc.Err, want)
		}
	}
}

// expect waits for the event named name on channel, skipping others.
func (w *wsClient) expect(t *testing.T, channel, name string) realtime.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e := <-w.events:
			if e.Channel == channel && e.Name == name {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s on %s within %s", name, channel, wait)
		}
	}
}

func TestLoginUserLogout(t *testing.T) {
	t.Parallel()
	s := devstack.StartSoketiT(t)
	a := laravelapp.StartT(t, laravelapp.Options{Soketi: s})

	// Laravel's own validation answer to a wrong password, as EchoTray shows it.
	st, _, b := call(t, "POST", a.URL()+"/api/login", "", map[string]string{"email": "alice@tenant1.test", "password": "wrong"}, nil)
	var verr struct {
		Message string              `json:"message"`
		Errors  map[string][]string `json:"errors"`
	}
	if err := json.Unmarshal(b, &verr); st != 422 || err != nil || verr.Message != "The given data was invalid." ||
		!slices.Equal(verr.Errors["email"], []string{"These credentials do not match our records."}) {
		t.Fatalf("wrong password: HTTP %d %s", st, b)
	}
	st, _, b = call(t, "POST", a.URL()+"/api/login", "", map[string]string{"email": "alice@tenant1.test"}, nil)
	if st != 422 || !strings.Contains(string(b), "The password field is required.") {
		t.Fatalf("no password: HTTP %d %s", st, b)
	}

	// The answer EchoTray reads: {"token": "<id>|<40 characters>", "user": {...}}.
	var signIn struct {
		Token string `json:"token"`
		User  struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"user"`
	}
	if st, _, b := call(t, "POST", a.URL()+"/api/login", "", map[string]string{"email": "bob@tenant2.test", "password": laravel.DefaultPassword}, &signIn); st != 200 {
		t.Fatalf("sign-in: HTTP %d %s", st, b)
	}
	token, user := signIn.Token, signIn.User
	if !regexp.MustCompile(`\A\d+\|[A-Za-z0-9]{40}\z`).MatchString(token) || user.ID != 2 || user.Email != "bob@tenant2.test" {
		t.Fatalf("token %q user %+v", token, user)
	}
	for _, want := range laravel.DefaultUsers() {
		tok := login(t, a, want.Email)
		var got struct {
			ID       int64  `json:"id"`
			Name     string `json:"name"`
			Email    string `json:"email"`
			TenantID *int64 `json:"tenant_id"`
			Role     string `json:"role"`
			Password *string
		}
		st, _, b := call(t, "GET", a.URL()+"/api/user", tok, nil, &got)
		if st != 200 || got.ID != want.ID || got.Name != want.Name || got.Email != want.Email || got.Role != want.Role ||
			(got.TenantID == nil) != (want.TenantID == nil) || (got.TenantID != nil && *got.TenantID != *want.TenantID) ||
			strings.Contains(string(b), "password") {
			t.Fatalf("user %d: HTTP %d %s", want.ID, st, b)
		}
	}

	// Logout revokes exactly that token.
	other := login(t, a, "bob@tenant2.test")
	if st, _, b := call(t, "POST", a.URL()+"/api/logout", token, nil, nil); st != 200 {
		t.Fatalf("logout: HTTP %d %s", st, b)
	}
	if st, _, b := call(t, "GET", a.URL()+"/api/user", token, nil, nil); st != 401 || string(b) != `{"message":"Unauthenticated."}` {
		t.Fatalf("revoked token: HTTP %d %s", st, b)
	}
	if st, _, _ := call(t, "GET", a.URL()+"/api/user", other, nil, nil); st != 200 {
		t.Fatalf("other token after logout: HTTP %d", st)
	}
	// A forged token with a valid id is refused.
	id, _, _ := strings.Cut(other, "|")
	if st, _, _ := call(t, "GET", a.URL()+"/api/user", id+"|"+strings.Repeat("a", 40), nil, nil); st != 401 {
		t.Fatalf("forged token: HTTP %d", st)
	}
}

func TestChannelAuthWithSoketi(t *testing.T) {
	t.Parallel()
	s := devstack.StartSoketiT(t)
	a := laravelapp.StartT(t, laravelapp.Options{Soketi: s})
	alice := newWS(t, s, a, login(t, a, "alice@tenant1.test"),
		"tenant.1", "private-user.1", "private-tenant.1", "private-App.Models.User.1",
		"private-user.2", "private-system.admin", "private-tenant.2", "private-App.Models.User.2")
	admin := newWS(t, s, a, login(t, a, "admin@echotray.test"), "private-system.admin", "private-user.3", "private-user.1")
	for _, ch := range []string{"tenant.1", "private-user.1", "private-tenant.1", "private-App.Models.User.1"} {
		alice.waitSub(t, ch, realtime.SubscriptionSubscribed) // Soketi accepted the app's signature
	}
	for _, ch := range []string{"private-user.2", "private-system.admin", "private-tenant.2", "private-App.Models.User.2"} {
		sc := alice.waitSub(t, ch, realtime.SubscriptionForbidden)
		var ae *realtime.AuthError
		if !errors.As(sc.Err, &ae) || ae.Status != 403 {
			t.Fatalf("%s: %v, want a 403", ch, sc.Err)
		}
	}
	admin.waitSub(t, "private-system.admin", realtime.SubscriptionSubscribed)
	admin.waitSub(t, "private-user.3", realtime.SubscriptionSubscribed)
	admin.waitSub(t, "private-user.1", realtime.SubscriptionForbidden)

	// Without a valid token: 401 JSON when JSON is asked for, else Laravel's redirect to /login.
	form := url.Values{"socket_id": {"123.456"}, "channel_name": {"private-user.1"}}
	req, _ := http.NewRequest("POST", a.URL()+"/broadcasting/auth", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer 1|nope")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || !strings.HasSuffix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("unauthenticated, no JSON: HTTP %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest("POST", a.URL()+"/broadcasting/auth", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer 1|nope")
	req.Header.Set("Accept", "application/json")
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || string(b) != `{"message":"Unauthenticated."}` {
		t.Fatalf("unauthenticated, JSON: HTTP %d %s", resp.StatusCode, b)
	}
}

func TestFireAllEvents(t *testing.T) {
	t.Parallel()
	s := devstack.StartSoketiT(t)
	a := laravelapp.StartT(t, laravelapp.Options{Soketi: s})
	users := laravel.DefaultUsers()
	g := &generator.Generator{Users: users[:1], Tenants: []int64{1}, Namespaced: true}
	alice := newWS(t, s, a, login(t, a, "alice@tenant1.test"), "tenant.1", "private-user.1")
	admin := newWS(t, s, a, login(t, a, "admin@echotray.test"), "private-system.admin")
	alice.waitSub(t, "tenant.1", realtime.SubscriptionSubscribed)
	alice.waitSub(t, "private-user.1", realtime.SubscriptionSubscribed)
	admin.waitSub(t, "private-system.admin", realtime.SubscriptionSubscribed)

	samples := g.Samples()
	if len(samples) != 18 {
		t.Fatalf("%d samples, want the seed's 18 events", len(samples))
	}
	for _, e := range samples {
		if err := a.Fire(ctxT(t), e.Name, e.Data); err != nil {
			t.Fatalf("fire %s: %v", e.Name, err)
		}
		w := alice
		if e.Channel == generator.AdminChannel {
			w = admin
		}
		got := w.expect(t, e.Channel, laravelapp.EventNamespace+e.Name)
		want, _ := json.Marshal(e.Data)
		if !jsonEqual(got.Data, want) {
			t.Fatalf("%s on %s: payload\n%s\nwant\n%s", e.Name, e.Channel, got.Data, want)
		}
	}

	// Without event_id and timestamp, the event class adds them.
	if err := a.Fire(ctxT(t), `App\Events\SystemAlert`, map[string]any{"title": "Disk", "message": "Full", "level": "warning"}); err != nil {
		t.Fatal(err)
	}
	got := admin.expect(t, generator.AdminChannel, `App\Events\SystemAlert`)
	var p map[string]any
	_ = json.Unmarshal(got.Data, &p)
	if p["title"] != "Disk" || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(fmt.Sprint(p["event_id"])) ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`).MatchString(fmt.Sprint(p["timestamp"])) {
		t.Fatalf("defaults: %s", got.Data)
	}
	if err := a.Fire(ctxT(t), "NoSuchEvent", nil); err == nil {
		t.Fatal("an unknown event was fired")
	}
	if err := a.Fire(ctxT(t), "PaymentCompleted", map[string]any{"payment": map[string]any{"amount": 5}}); err == nil ||
		!strings.Contains(err.Error(), "names no tenant") {
		t.Fatalf("an event without its tenant: %v", err)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

type page struct {
	Data []struct {
		ID        string         `json:"id"`
		Type      string         `json:"type"`
		Data      map[string]any `json:"data"`
		ReadAt    *time.Time     `json:"read_at"`
		CreatedAt time.Time      `json:"created_at"`
	} `json:"data"`
	NextPageURL *string `json:"next_page_url"`
}

// catchUp fetches every page of /api/notifications?since=since.
func catchUp(t *testing.T, a *laravelapp.App, token, since string) (pages []page) {
	t.Helper()
	next := a.URL() + "/api/notifications?since=" + url.QueryEscape(since)
	for next != "" {
		var p page
		if st, _, b := call(t, "GET", next, token, nil, &p); st != 200 {
			t.Fatalf("GET %s: HTTP %d %s", next, st, b)
		}
		pages = append(pages, p)
		next = ""
		if p.NextPageURL != nil {
			next = *p.NextPageURL
		}
		if len(pages) > 20 {
			t.Fatal("more than 20 pages")
		}
	}
	return pages
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	s := devstack.StartSoketiT(t)
	a := laravelapp.StartT(t, laravelapp.Options{Soketi: s})
	ctx := ctxT(t)
	carolTok := login(t, a, "carol@tenant1.test")
	carol := newWS(t, s, a, carolTok, "private-App.Models.User.4")
	carol.waitSub(t, "private-App.Models.User.4", realtime.SubscriptionSubscribed)

	// Live: one UUID for the broadcast and the database row.
	id, err := a.Notify(ctx, 4, "InvoicePaid", map[string]any{"title": "Invoice paid", "message": "KES 1,200 received.", "type": "success", "invoice": 77})
	if err != nil {
		t.Fatal(err)
	}
	e := carol.expect(t, "private-App.Models.User.4", laravelapp.NotificationEvent)
	var live map[string]any
	_ = json.Unmarshal(e.Data, &live)
	if live["id"] != id || live["type"] != `App\Notifications\InvoicePaid` || live["title"] != "Invoice paid" ||
		live["message"] != "KES 1,200 received." || live["level"] != "success" || live["invoice"] != float64(77) {
		t.Fatalf("live notification %s, want id %s", e.Data, id)
	}
	rows, err := a.NotificationRows(ctx, 4)
	if err != nil || len(rows) != 1 || rows[0].ID != id || rows[0].Type != `App\Notifications\InvoicePaid` ||
		rows[0].ReadAt != nil || rows[0].Data["title"] != "Invoice paid" || rows[0].Data["type"] != "success" ||
		time.Since(rows[0].CreatedAt) > time.Minute {
		t.Fatalf("rows %+v, %v", rows, err)
	}

	// Catch-up: more than a page, oldest first, every row once.
	for i := range 54 {
		if _, err := a.Notify(ctx, 4, "", map[string]any{"title": "n" + strconv.Itoa(i), "message": "m", "type": "info"}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // created_at has whole seconds
	var late []string
	for i := range 3 {
		id, err := a.Notify(ctx, 4, "LateOne", map[string]any{"title": "late" + strconv.Itoa(i), "message": "m", "type": "warning"})
		if err != nil {
			t.Fatal(err)
		}
		late = append(late, id)
	}
	pages := catchUp(t, a, carolTok, "2000-01-01T00:00:00Z")
	if len(pages) != 2 || len(pages[0].Data) != 50 || len(pages[1].Data) != 8 {
		t.Fatalf("%d pages", len(pages))
	}
	// Ordered by (created_at, id): created_at has whole seconds, so rows
	// of one second come in id order.
	seen := map[string]bool{}
	var prev struct {
		at time.Time
		id string
	}
	var all []string
	for _, p := range pages {
		for _, n := range p.Data {
			if seen[n.ID] || n.CreatedAt.Before(prev.at) || (n.CreatedAt.Equal(prev.at) && n.ID < prev.id) || n.Data["title"] == nil {
				t.Fatalf("row %+v after %+v: duplicate or out of order", n, prev)
			}
			seen[n.ID], prev.at, prev.id = true, n.CreatedAt, n.ID
			all = append(all, n.ID)
		}
	}
	lastThree := slices.Sorted(slices.Values(all[55:]))
	if !seen[id] || !slices.Equal(lastThree, slices.Sorted(slices.Values(late))) {
		t.Fatalf("the latest three %v, want %v", all[55:], late)
	}
	// since: RFC 3339 in any offset, created_at >= since.
	rows, err = a.NotificationRows(ctx, 4) // newest first
	if err != nil || len(rows) != 58 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	firstLate := rows[2].CreatedAt
	for _, since := range []string{firstLate.UTC().Format(time.RFC3339), firstLate.In(time.FixedZone("EAT", 3*3600)).Format(time.RFC3339Nano)} {
		pages = catchUp(t, a, carolTok, since)
		if len(pages) != 1 || len(pages[0].Data) != 3 || !slices.Contains(late, pages[0].Data[0].ID) {
			t.Fatalf("since %s: %+v", since, pages)
		}
	}
	// per_page (EchoTray asks for 100; at most 100), kept in next_page_url.
	var small page
	if st, _, b := call(t, "GET", a.URL()+"/api/notifications?per_page=20&since=2000-01-01T00%3A00%3A00Z", carolTok, nil, &small); st != 200 ||
		len(small.Data) != 20 || small.NextPageURL == nil || !strings.Contains(*small.NextPageURL, "per_page=20") ||
		!strings.Contains(*small.NextPageURL, "since=") || !strings.Contains(*small.NextPageURL, "page=2") {
		t.Fatalf("per_page=20: HTTP %d %.300s", st, b)
	}
	if st, _, _ := call(t, "GET", a.URL()+"/api/notifications?per_page=1000", carolTok, nil, &small); st != 200 || len(small.Data) != 58 {
		t.Fatalf("per_page=1000: HTTP %d, %d rows", st, len(small.Data))
	}
	if pages := catchUp(t, a, carolTok, time.Now().Add(time.Hour).Format(time.RFC3339)); len(pages[0].Data) != 0 {
		t.Fatalf("future since: %+v", pages)
	}
	if st, _, _ := call(t, "GET", a.URL()+"/api/notifications?since=yesterday-ish", carolTok, nil, nil); st != 422 {
		t.Fatalf("bad since: HTTP %d", st)
	}
	if st, _, _ := call(t, "GET", a.URL()+"/api/notifications", "", nil, nil); st != 401 {
		t.Fatalf("no token: HTTP %d", st)
	}

	// Read from EchoTray: the row's read_at is set; another user cannot.
	aliceTok := login(t, a, "alice@tenant1.test")
	if st, _, b := call(t, "POST", a.URL()+"/api/notifications/"+late[0]+"/read", aliceTok, nil, nil); st != 404 ||
		!strings.Contains(string(b), "No query results") {
		t.Fatalf("another user's notification: HTTP %d %s", st, b)
	}
	var read struct {
		ID     string     `json:"id"`
		ReadAt *time.Time `json:"read_at"`
	}
	if st, _, b := call(t, "POST", a.URL()+"/api/notifications/"+late[0]+"/read", carolTok, nil, &read); st != 200 || read.ID != late[0] || read.ReadAt == nil {
		t.Fatalf("read: HTTP %d %s", st, b)
	}
	// Read on the web: catch-up shows it read.
	if err := a.MarkReadOnWeb(ctx, late[1]); err != nil {
		t.Fatal(err)
	}
	rows, _ = a.NotificationRows(ctx, 4)
	readIDs := map[string]bool{}
	for _, r := range rows {
		if r.ReadAt != nil {
			readIDs[r.ID] = true
		}
	}
	if len(readIDs) != 2 || !readIDs[late[0]] || !readIDs[late[1]] {
		t.Fatalf("read rows %v", readIDs)
	}
	pages = catchUp(t, a, carolTok, firstLate.Format(time.RFC3339))
	for _, n := range pages[0].Data {
		if (n.ReadAt != nil) != readIDs[n.ID] {
			t.Fatalf("catch-up read state: %+v", pages[0].Data)
		}
	}
}

func TestOptionsThrottleAndStop(t *testing.T) {
	t.Parallel()
	s := devstack.StartSoketiT(t)
	ctx := ctxT(t)

	// Discovery on a default app.
	full := laravelapp.StartT(t, laravelapp.Options{Soketi: s})
	var disc map[string]any
	if st, _, b := call(t, "GET", full.URL()+"/api/broadcasting/config", "", nil, &disc); st != 200 ||
		disc["key"] != s.Key || disc["host"] != s.Host || disc["port"] != float64(s.Port) || disc["scheme"] != "http" ||
		disc["cluster"] != "mt1" || disc["auth_endpoint"] != full.URL()+"/broadcasting/auth" || strings.Contains(string(b), s.Secret) {
		t.Fatalf("discovery: HTTP %d %s", st, b)
	}

	a, err := laravelapp.Start(ctx, laravelapp.Options{Soketi: s, NoNotificationRoutes: true, NoDiscovery: true, AuthPerMinute: 3})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			a.Stop()
		}
	})
	tok := login(t, a, "alice@tenant1.test")
	for _, p := range []string{"/api/notifications?since=2000-01-01T00:00:00Z", "/api/broadcasting/config"} {
		if st, _, _ := call(t, "GET", a.URL()+p, tok, nil, nil); st != 404 {
			t.Fatalf("hidden %s: HTTP %d", p, st)
		}
	}
	if st, _, b := call(t, "POST", a.URL()+"/api/notifications/x/read", tok, nil, nil); st != 404 || strings.Contains(string(b), "No query results") {
		t.Fatalf("hidden read route: HTTP %d", st)
	}
	// Without the secret the hooks do not exist.
	if st, _, _ := call(t, "POST", a.URL()+"/_devstack/events", "", map[string]any{"event": "SystemAlert"}, nil); st != 404 {
		t.Fatalf("hook without secret: HTTP %d", st)
	}

	// Throttled channel authorisation: 429 with Retry-After.
	form := url.Values{"socket_id": {"123.456"}, "channel_name": {"private-user.1"}}
	var last *http.Response
	for range 4 {
		req, _ := http.NewRequest("POST", a.URL()+"/broadcasting/auth", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp
	}
	if ra, _ := strconv.Atoi(last.Header.Get("Retry-After")); last.StatusCode != 429 || ra < 1 || ra > 60 {
		t.Fatalf("4th authorisation: HTTP %d Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}

	// Stop leaves no php process behind: the server and its workers.
	pids := a.PIDs()
	if len(pids) != 1+laravelapp.Workers {
		t.Fatalf("server processes %v, want %d", pids, 1+laravelapp.Workers)
	}
	port := strings.TrimPrefix(a.URL(), "http://127.0.0.1:")
	stopped = true
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !bytes.Contains(b, []byte(") Z ")) {
			t.Errorf("process %d left after Stop: %s", pid, b)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("127.0.0.1:"+port)) && bytes.HasPrefix(b, []byte("php")) {
			t.Errorf("%s: %q still running", p, b)
		}
	}
	if _, err := http.Get(a.URL() + "/up"); err == nil {
		t.Error("the app still answers after Stop")
	}

	// Nothing was written into the source tree.
	dir, _ := laravelapp.Dir()
	for _, p := range []string{"storage", "bootstrap/cache", "database/database.sqlite"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s was created in the source tree", p)
		}
	}
}

// TestOrphanedWorkersSwept: a test binary killed with SIGKILL cannot stop
// PHP's workers (the kernel kills only the main php process); the next
// Start kills them.
func TestOrphanedWorkersSwept(t *testing.T) {
	if os.Getenv("LARAVELAPP_HELPER") == "1" {
		// The helper: start an app, print its PIDs, wait to be killed.
		s := devstack.StartSoketiT(t)
		a := laravelapp.StartT(t, laravelapp.Options{Soketi: s})
		fmt.Printf("PIDS %v\n", a.PIDs())
		time.Sleep(time.Minute)
		return
	}
	if err := laravelapp.Available(); err != nil {
		t.Skipf("the devstack Laravel app cannot run here: %v", err)
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanedWorkersSwept$", "-test.v")
	// The helper's temporary files (it cannot clean up) go into ours.
	cmd.Env = append(os.Environ(), "LARAVELAPP_HELPER=1", "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var pids []int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f, ok := strings.CutPrefix(sc.Text(), "PIDS ["); ok {
			for _, p := range strings.Fields(strings.TrimSuffix(f, "]")) {
				n, _ := strconv.Atoi(p)
				pids = append(pids, n)
			}
			break
		}
	}
	if len(pids) != 1+laravelapp.Workers {
		t.Fatalf("helper's php processes: %v", pids)
	}
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pids[len(pids)-1]))
	var storage string
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "APP_STORAGE="); ok {
			storage = v
		}
	}
	if _, err := os.Stat(storage); err != nil {
		t.Fatalf("the helper's storage directory %q: %v", storage, err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	running := func() (left []int) {
		for _, pid := range pids {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !bytes.Contains(b, []byte(") Z ")) {
				left = append(left, pid)
			}
		}
		return left
	}
	time.Sleep(200 * time.Millisecond)
	if left := running(); len(left) != laravelapp.Workers {
		t.Logf("after SIGKILL of the test binary: %v still run (the workers are expected to)", left)
	}
	s := devstack.StartSoketiT(t)
	laravelapp.StartT(t, laravelapp.Options{Soketi: s})
	deadline := time.Now().Add(5 * time.Second)
	for len(running()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if left := running(); len(left) > 0 {
		t.Fatalf("orphaned workers %v survive the next Start", left)
	}
	if _, err := os.Stat(storage); !os.IsNotExist(err) {
		t.Fatalf("the dead runner's storage %s was not removed: %v", storage, err)
	}
}
