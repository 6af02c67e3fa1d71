//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"echotray/devstack"
	"echotray/devstack/laravel"
	"echotray/devstack/laravelapp"
	"echotray/devstack/publish"
)

// Configured once (#12): sign-in with only the server's address, e-mail
// and password when the backend announces its realtime settings
// (GET /api/broadcasting/config); the fallback when it does not; and the
// machine-wide settings file with a locked server.

// discoveryStack is Soketi and the stand-in announcing where Soketi is
// (or, with noDiscovery, answering 404 there).
func discoveryStack(t *testing.T, noDiscovery bool) *Stack {
	t.Helper()
	s := devstack.StartSoketiT(t)
	srv := laravel.StartConfigT(t, laravel.Config{
		AppKey: s.Key, AppSecret: s.Secret,
		Discovery:   laravel.Discovery{Host: s.Host, Port: s.Port, Scheme: "http"},
		NoDiscovery: noDiscovery,
	})
	return &Stack{Soketi: s, Laravel: srv}
}

// withEnv returns a copy of a whose runs get extra environment variables.
func (a *App) withEnv(kv ...string) *App {
	c := *a
	c.env = append(append([]string(nil), a.env...), kv...)
	return &c
}

// userFileKeys returns the keys of the user's config file (group members
// dotted).
func userFileKeys(t *testing.T, a *App) map[string]bool {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(readAll(a.ConfigFile())), &top); err != nil {
		t.Fatalf("config file: %v\n%s", err, readAll(a.ConfigFile()))
	}
	keys := map[string]bool{}
	for k, v := range top {
		var sub map[string]json.RawMessage
		if json.Unmarshal(v, &sub) == nil && k != "notifications" {
			for sk := range sub {
				keys[k+"."+sk] = true
			}
			continue
		}
		keys[k] = true
	}
	return keys
}

// TestDiscoverySignIn: a fresh user types the server's address as people
// do (no scheme, a page path), e-mail and password, nothing else; the
// realtime settings come from the server and events arrive.
func TestDiscoverySignIn(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := discoveryStack(t, false)
	a := d.NewApp(t)

	typed := strings.TrimPrefix(st.Laravel.URL(), "http://") + "/dashboard?tab=payments"
	login := a.Run(t, "password\n", "login", "--server", typed, "--email", "alice@tenant1.test", "--password-stdin")
	if login.Code != 0 || !strings.Contains(login.Stdout, "Signed in as Alice Wanjiru") ||
		!strings.Contains(login.Stdout, "on "+st.Laravel.URL()) {
		t.Fatalf("login with only the server, e-mail and password:\n%s", login)
	}
	// The user's file has what the user gave, not the server's settings.
	keys := userFileKeys(t, a)
	for k := range keys {
		if strings.HasPrefix(k, "pusher.") {
			t.Errorf("the user's file has %s, which came from the server:\n%s", k, readAll(a.ConfigFile()))
		}
	}
	if !keys["server"] || !keys["email"] {
		t.Errorf("the user's file lacks the server or e-mail:\n%s", readAll(a.ConfigFile()))
	}
	status := a.Run(t, "", "status")
	wantWS := "ws://" + st.Soketi.Host + ":" + strconv.Itoa(st.Soketi.Port)
	if status.Code != 0 || !strings.Contains(status.Stdout, "WebSocket:  "+wantWS+" (key "+st.Soketi.Key) {
		t.Fatalf("status does not show the server's realtime settings (%s):\n%s", wantWS, status)
	}

	w := a.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to tenant.1.", 1)
	st.Publish(t, "tenant.1", `App\Events\PaymentCompleted`, map[string]any{"amount": 750, "currency": "KES", "phone": "0712345678"})
	pay := w.JSONLine(t)
	if pay.Channel != "tenant.1" || pay.Event != "PaymentCompleted" {
		t.Fatalf("event: %+v", pay)
	}
	d.WaitNotification(t, pay.Title, func(n Notification) bool { return n.Summary == pay.Title })
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d\n%s", code, w.Stderr.String())
	}
	if !strings.Contains(readAll(a.LogFile()), "the server gave its realtime settings") {
		t.Errorf("the log has no record of the discovery")
	}
}

// TestDiscoveryFallback: a backend without the discovery route (404): the
// sign-in still needs only the server, e-mail and password, and the
// WebSocket host falls back to the API's host (not "localhost"); the
// other settings are the saved ones (here given by the environment).
func TestDiscoveryFallback(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := discoveryStack(t, true)
	a := d.NewApp(t)

	login := a.Run(t, "password\n", "login", "--server", st.Laravel.URL(), "--email", "alice@tenant1.test", "--password-stdin")
	if login.Code != 0 || !strings.Contains(login.Stdout, "Signed in as Alice Wanjiru") {
		t.Fatalf("login against a backend without discovery:\n%s", login)
	}
	status := a.Run(t, "", "status")
	if !strings.Contains(status.Stdout, "WebSocket:  ws://127.0.0.1:6001 (key local-key") {
		t.Fatalf("status: the fallback is the API's host with the saved port and key:\n%s", status)
	}
	if !strings.Contains(readAll(a.LogFile()), "offers no realtime settings") {
		t.Errorf("the log does not say the server offers no discovery")
	}
	// The saved port and key (here from the environment) with the API's
	// host reach Soketi.
	wa := a.withEnv("ECHOTRAY_PUSHER_PORT="+strconv.Itoa(st.Soketi.Port), "ECHOTRAY_PUSHER_KEY="+st.Soketi.Key)
	w := wa.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to tenant.1.", 1)
	st.Publish(t, "tenant.1", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"name": "John Doe"}})
	if uc := w.JSONLine(t); uc.Channel != "tenant.1" || uc.Event != "UserCreated" {
		t.Fatalf("event: %+v", uc)
	}
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d\n%s", code, w.Stderr.String())
	}
}

// TestSystemFileLocksServer: IT's machine-wide file sets and locks the
// server. `login --server other` exits 2 with the reason; the user's file
// has another server, which is ignored (and logged); signing in without
// --server goes to IT's server.
func TestSystemFileLocksServer(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true})
	st := discoveryStack(t, false)
	sys := filepath.Join(t.TempDir(), "etc", "echotray", "config.json")
	if err := os.MkdirAll(filepath.Dir(sys), 0o755); err != nil {
		t.Fatal(err)
	}
	// Written as IT would: the address without a scheme is fine for
	// loopback (http) — here the stand-in's exact URL.
	body, _ := json.Marshal(map[string]any{"server": st.Laravel.URL(), "locked": []string{"server"}})
	if err := os.WriteFile(sys, body, 0o644); err != nil {
		t.Fatal(err)
	}
	a := d.NewApp(t).withEnv("ECHOTRAY_SYSTEM_CONFIG=" + sys)
	if err := os.MkdirAll(filepath.Dir(a.ConfigFile()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.ConfigFile(), []byte(`{"server": "https://ignored.example.com", "config_version": 2}`), 0o600); err != nil {
		t.Fatal(err)
	}

	r := a.Run(t, "password\n", "login", "--server", "https://other.example.com", "--email", "alice@tenant1.test", "--password-stdin")
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "--server cannot be used") ||
		!strings.Contains(r.Stderr, "set by your administrator") || !strings.Contains(r.Stderr, sys) || r.Stdout != "" {
		t.Fatalf("login --server other with the server locked:\n%s", r)
	}
	if st.Laravel.Tokens() != 0 {
		t.Error("the refused login reached a server")
	}

	status := a.Run(t, "", "status")
	if !strings.Contains(status.Stdout, "Server:     "+st.Laravel.URL()) || strings.Contains(status.Stdout, "ignored.example.com") {
		t.Fatalf("status: the locked server must be in force, the user's ignored:\n%s", status)
	}
	login := a.Run(t, "password\n", "login", "--email", "alice@tenant1.test", "--password-stdin")
	if login.Code != 0 || !strings.Contains(login.Stdout, "on "+st.Laravel.URL()) {
		t.Fatalf("login to the locked server:\n%s", login)
	}
	if st.Laravel.Tokens() != 1 {
		t.Errorf("the locked server has %d tokens, want 1", st.Laravel.Tokens())
	}
	log := readAll(a.LogFile())
	if !strings.Contains(log, "locked by the machine-wide file") || strings.Count(log, "key=server") == 0 {
		t.Errorf("the ignored user setting is not in the log:\n%s", tail(log, 3000))
	}
}

// TestSystemFileMalformed: a broken machine-wide file is reported in plain
// words and never blocks the sign-in.
func TestSystemFileMalformed(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true})
	st := discoveryStack(t, false)
	sys := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(sys, []byte(`{"server": "https://billing.example.com", "locked": ["server"`), 0o644); err != nil {
		t.Fatal(err)
	}
	a := d.NewApp(t).withEnv("ECHOTRAY_SYSTEM_CONFIG=" + sys)
	login := a.Run(t, "password\n", "login", "--server", st.Laravel.URL(), "--email", "alice@tenant1.test", "--password-stdin")
	if login.Code != 0 || !strings.Contains(login.Stderr, "Please tell your administrator") || !strings.Contains(login.Stderr, sys) {
		t.Fatalf("login with a malformed system file:\n%s", login)
	}
}

// TestLaravelDiscoverySignIn: the same against the real Laravel app
// (its BroadcastConfigController): server, e-mail and password only; a
// Laravel notification arrives.
func TestLaravelDiscoverySignIn(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := startLaravelStack(t, laravelapp.Options{})
	a := d.NewApp(t)
	login := a.Run(t, "password\n", "login", "--server", st.App.URL(), "--email", "alice@tenant1.test", "--password-stdin")
	if login.Code != 0 || !strings.Contains(login.Stdout, "Signed in as Alice Wanjiru") {
		t.Fatalf("login with only the server, e-mail and password:\n%s", login)
	}
	status := a.Run(t, "", "status")
	wantWS := "ws://" + st.Soketi.Host + ":" + strconv.Itoa(st.Soketi.Port)
	if !strings.Contains(status.Stdout, "WebSocket:  "+wantWS+" (key "+st.Soketi.Key) {
		t.Fatalf("status does not show the Laravel app's realtime settings (%s):\n%s", wantWS, status)
	}
	w := a.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to private-App.Models.User.1.", 1)
	st.notifyUser(t, 1, "InvoicePaid", map[string]any{"title": "Invoice 7 paid", "message": "KES 700.00 received.", "type": "success"})
	if n := jsonLineWithin(t, w, waitTimeout); n.Event != "InvoicePaid" || n.Title != "Invoice 7 paid" {
		t.Fatalf("notification line: %+v", n)
	}
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d\n%s", code, w.Stderr.String())
	}
}

// encryptingBackend stands in front of the Laravel stand-in and answers
// /broadcasting/auth for private-encrypted- channels as Laravel's Pusher
// broadcaster does with an encryption master key: the same channel rule
// as the plain private channel (asked of the stand-in with the user's
// token), the signature, and shared_secret = sha256(channel + master key).
// Everything else goes to the stand-in.
type encryptingBackend struct {
	srv        *httptest.Server
	master     atomic.Pointer[[]byte]
	encAuths   atomic.Int32
	soketi     *devstack.Soketi
	standIn    string
	httpClient *http.Client
}

func newEncryptingBackend(t *testing.T, st *Stack, master []byte) *encryptingBackend {
	t.Helper()
	b := &encryptingBackend{soketi: st.Soketi, standIn: st.Laravel.URL(), httpClient: &http.Client{Timeout: 10 * time.Second}}
	b.master.Store(&master)
	u, _ := url.Parse(st.Laravel.URL())
	proxy := httputil.NewSingleHostReverseProxy(u)
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/broadcasting/auth" {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			if ch := form.Get("channel_name"); publish.IsEncrypted(ch) {
				b.authorizeEncrypted(w, r, form.Get("socket_id"), ch)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { b.srv.Close(); b.httpClient.CloseIdleConnections() })
	return b
}

func (b *encryptingBackend) authorizeEncrypted(w http.ResponseWriter, r *http.Request, socketID, ch string) {
	b.encAuths.Add(1)
	plain := "private-" + strings.TrimPrefix(ch, publish.EncryptedPrefix)
	form := url.Values{"socket_id": {socketID}, "channel_name": {plain}}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, b.standIn+"/broadcasting/auth", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	resp, err := b.httpClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"auth":          publish.ChannelAuth(b.soketi.Key, b.soketi.Secret, socketID, ch, ""),
		"shared_secret": publish.SharedSecretBase64(ch, *b.master.Load()),
	})
}

// wireRecorder keeps the bodies a publisher sends to Soketi.
type wireRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (w *wireRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		w.mu.Lock()
		w.bodies = append(w.bodies, string(raw))
		w.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestEncryptedChannelEndToEnd: IT lists an encrypted variant of the
// tenant channel in the machine-wide file; the app subscribes it, Soketi
// relays only ciphertext, and the event arrives decrypted. When the
// backend's key changes to one the publisher does not use, the app fetches
// a new key once, reports the event as undecryptable in its log, and
// carries on: the next event with the backend's key arrives.
func TestEncryptedChannelEndToEnd(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := discoveryStack(t, false)
	master := []byte("0123456789abcdef0123456789abcdef")
	backend := newEncryptingBackend(t, st, master)
	sys := filepath.Join(t.TempDir(), "config.json")
	body, _ := json.Marshal(map[string]any{
		"channels": map[string]any{"extra": []string{"private-encrypted-tenant.{tenant_id}"}},
		"locked":   []string{"channels"},
	})
	if err := os.WriteFile(sys, body, 0o644); err != nil {
		t.Fatal(err)
	}
	a := d.NewApp(t).withEnv("ECHOTRAY_SYSTEM_CONFIG=" + sys)
	if r := a.Run(t, "password\n", "login", "--server", backend.srv.URL, "--email", "alice@tenant1.test", "--password-stdin"); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	const ch = "private-encrypted-tenant.1"
	w := a.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to "+ch+".", 1)

	wire := &wireRecorder{}
	pub := st.Soketi.Publisher()
	pub.Client = &http.Client{Timeout: 10 * time.Second, Transport: wire}
	pub.EncryptionMasterKey = master
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	const phone = "0712345678"
	if err := pub.Trigger(ctx, []string{ch}, `App\Events\PaymentCompleted`, map[string]any{"amount": 500, "currency": "KES", "phone": phone}, ""); err != nil {
		t.Fatal(err)
	}
	pay := w.JSONLine(t)
	var data map[string]any
	if pay.Channel != ch || pay.Event != "PaymentCompleted" || json.Unmarshal(pay.Data, &data) != nil || data["phone"] != phone {
		t.Fatalf("decrypted event: %+v data %s", pay, pay.Data)
	}
	wire.mu.Lock()
	published := strings.Join(wire.bodies, "\n")
	wire.mu.Unlock()
	if strings.Contains(published, phone) || !strings.Contains(published, "ciphertext") {
		t.Errorf("Soketi was given the plaintext: %s", published)
	}
	if n := backend.encAuths.Load(); n != 1 {
		t.Errorf("the encrypted channel was authorised %d times", n)
	}

	// The backend moves to a key the publisher does not use: one more
	// authorisation, then the event is reported as undecryptable.
	wrong := []byte("fedcba9876543210fedcba9876543210")
	backend.master.Store(&wrong)
	pub.EncryptionMasterKey = []byte("a third master key, 32 bytes!!!!")
	if err := pub.Trigger(ctx, []string{ch}, `App\Events\PaymentCompleted`, map[string]any{"amount": 1, "phone": phone}, ""); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the undecryptable event in the log", func() bool {
		return strings.Contains(readAll(a.LogFile()), "could not be decrypted; reporting it")
	})
	if n := backend.encAuths.Load(); n != 2 {
		t.Errorf("authorised %d times, want exactly one re-authorisation", n)
	}
	// The publisher catches up with the backend's key: events arrive again.
	pub.EncryptionMasterKey = wrong
	if err := pub.Trigger(ctx, []string{ch}, `App\Events\UserCreated`, map[string]any{"user": map[string]any{"name": "John Doe"}}, ""); err != nil {
		t.Fatal(err)
	}
	// Before it, the lost one is reported in words, without its content.
	reported := false
	for {
		l := w.JSONLine(t)
		if l.Event == "UserCreated" {
			if !strings.Contains(string(l.Data), "John Doe") {
				t.Errorf("event after the key change: %+v", l)
			}
			break
		}
		if l.Event != "MessageNotDecrypted" || l.Title != "Message Could Not Be Read" ||
			!strings.Contains(l.Message, "(PaymentCompleted) could not be decrypted") || strings.Contains(string(l.Data), phone) {
			t.Fatalf("unexpected line before UserCreated: %+v %s", l, l.Data)
		}
		reported = true
	}
	if !reported {
		t.Error("the undecryptable event was not reported")
	}
	if strings.Contains(w.Stdout(), `"amount":1,`) {
		t.Errorf("the undecryptable event's data was printed")
	}
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch exited %d\n%s", code, w.Stderr.String())
	}
}
