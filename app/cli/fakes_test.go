package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zalando/go-keyring"

	"echotray/app"
	"echotray/notify"
)

// The fakes below are trimmed copies of app/fakes_test.go (test files
// cannot be shared between packages): only what the command tests use.

// fakeUser is a user of the fake Laravel backend.
type fakeUser struct {
	ID       int64
	Name     string
	Email    string
	Password string
	TenantID *int64
	Role     string
}

func tenantUser() fakeUser {
	t := int64(7)
	return fakeUser{ID: 5, Name: "Tina Tenant", Email: "tina@example.com", Password: "secret-pw", TenantID: &t, Role: "tenant_admin"}
}

func adminUser() fakeUser {
	return fakeUser{ID: 1, Name: "Ada Admin", Email: "ada@example.com", Password: "admin-pw", Role: app.RoleSystemAdmin}
}

// fakeBackend is an in-process stand-in for the Laravel API: login, user,
// logout and broadcasting auth with Bearer tokens that can be revoked.
type fakeBackend struct {
	srv *httptest.Server

	mu         sync.Mutex
	users      map[string]fakeUser // by e-mail
	tokens     map[string]string   // token → e-mail
	logins     int
	failStatus int // when set, every endpoint answers this status
}

func newFakeBackend(t *testing.T, users ...fakeUser) *fakeBackend {
	t.Helper()
	b := &fakeBackend{users: map[string]fakeUser{}, tokens: map[string]string{}}
	for _, u := range users {
		b.users[u.Email] = u
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", b.login)
	mux.HandleFunc("GET /api/user", b.user)
	mux.HandleFunc("POST /api/logout", b.logout)
	mux.HandleFunc("POST /broadcasting/auth", b.auth)
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *fakeBackend) URL() string { return b.srv.URL }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func userJSON(u fakeUser) map[string]any {
	var tenant any
	if u.TenantID != nil {
		tenant = *u.TenantID
	}
	return map[string]any{"id": u.ID, "name": u.Name, "email": u.Email, "tenant_id": tenant, "role": u.Role}
}

// ok reports whether the backend answers normally (no failStatus).
func (b *fakeBackend) ok() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failStatus == 0
}

func (b *fakeBackend) login(w http.ResponseWriter, r *http.Request) {
	if !b.ok() {
		writeJSON(w, b.failStatus, map[string]string{"message": "Server Error"})
		return
	}
	var req struct{ Email, Password string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, 400, map[string]string{"message": "bad json"})
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.logins++
	u, ok := b.users[req.Email]
	if req.Email == "" {
		writeJSON(w, 422, map[string]any{"message": "The email field is required.", "errors": map[string][]string{"email": {"The email field is required."}}})
		return
	}
	if !ok || u.Password != req.Password {
		writeJSON(w, 422, map[string]any{"message": "These credentials do not match our records.",
			"errors": map[string][]string{"email": {"These credentials do not match our records."}}})
		return
	}
	token := "tok-" + randomHex()
	b.tokens[token] = u.Email
	writeJSON(w, 200, map[string]any{"token": token, "user": userJSON(u)})
}

// bearer returns the user of the request's token.
func (b *fakeBackend) bearer(r *http.Request) (fakeUser, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return fakeUser{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	email, ok := b.tokens[tok]
	if !ok {
		return fakeUser{}, false
	}
	return b.users[email], true
}

func (b *fakeBackend) user(w http.ResponseWriter, r *http.Request) {
	if !b.ok() {
		writeJSON(w, b.failStatus, map[string]string{"message": "Server Error"})
		return
	}
	u, ok := b.bearer(r)
	if !ok {
		writeJSON(w, 401, map[string]string{"message": "Unauthenticated."})
		return
	}
	writeJSON(w, 200, userJSON(u))
}

func (b *fakeBackend) logout(w http.ResponseWriter, r *http.Request) {
	if !b.ok() {
		writeJSON(w, b.failStatus, map[string]string{"message": "Server Error"})
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.tokens[tok]; !ok {
		writeJSON(w, 401, map[string]string{"message": "Unauthenticated."})
		return
	}
	delete(b.tokens, tok)
	writeJSON(w, 200, map[string]string{"message": "Logged out"})
}

func (b *fakeBackend) auth(w http.ResponseWriter, r *http.Request) {
	u, ok := b.bearer(r)
	if !ok {
		writeJSON(w, 401, map[string]string{"message": "Unauthenticated."})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"message": "bad form"})
		return
	}
	ch := r.PostForm.Get("channel_name")
	allowed := ch == "private-user."+strconv.FormatInt(u.ID, 10) ||
		(ch == app.ChannelSystemAdmin && u.Role == app.RoleSystemAdmin)
	if !allowed {
		writeJSON(w, 403, map[string]string{"message": "This action is unauthorized."})
		return
	}
	writeJSON(w, 200, map[string]string{"auth": "app-key:" + randomHex()})
}

// revokeAll invalidates every token, as an admin revoking sessions would.
func (b *fakeBackend) revokeAll() {
	b.mu.Lock()
	b.tokens = map[string]string{}
	b.mu.Unlock()
}

// stat reads a counter of b under its lock.
func (b *fakeBackend) stat(counter *int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return *counter
}

func (b *fakeBackend) tokenCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.tokens)
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fakePusher is a minimal Pusher protocol v7 server: it establishes
// connections, confirms subscriptions (private ones only with an auth
// signature) and sends events to the subscribers of a channel.
type fakePusher struct {
	srv *httptest.Server
	key string

	mu    sync.Mutex
	conns map[*websocket.Conn]*fakeConn
	subs  chan string // every confirmed subscription
	// refuse, when set, is the pusher:error data sent instead of
	// pusher:connection_established; the connection is then closed.
	refuse map[string]any
}

// refuseWith makes every new connection get pusher:error with code and
// message instead of being established (nil data: establish again).
func (p *fakePusher) refuseWith(data map[string]any) {
	p.mu.Lock()
	p.refuse = data
	p.mu.Unlock()
}

// fakeConn is one client connection of the fake Pusher server.
type fakeConn struct {
	wmu  sync.Mutex // one writer at a time
	c    *websocket.Conn
	subs map[string]bool // guarded by fakePusher.mu
}

func (fc *fakeConn) send(v any) {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	_ = fc.c.WriteJSON(v)
}

func newFakePusher(t *testing.T) *fakePusher {
	t.Helper()
	p := &fakePusher{key: "app-key", conns: map[*websocket.Conn]*fakeConn{}, subs: make(chan string, 64)}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/app/"+p.key {
			http.NotFound(w, r)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		p.serve(c)
	}))
	t.Cleanup(func() {
		p.dropAll()
		p.srv.Close()
	})
	return p
}

func (p *fakePusher) serve(c *websocket.Conn) {
	fc := &fakeConn{c: c, subs: map[string]bool{}}
	send := fc.send
	p.mu.Lock()
	refuse := p.refuse
	if refuse == nil {
		p.conns[c] = fc
	}
	p.mu.Unlock()
	if refuse != nil {
		send(map[string]any{"event": "pusher:error", "data": refuse})
		c.Close()
		return
	}
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	est, _ := json.Marshal(map[string]any{"socket_id": "123.456", "activity_timeout": 30})
	send(map[string]any{"event": "pusher:connection_established", "data": string(est)})
	for {
		var f struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if err := c.ReadJSON(&f); err != nil {
			return
		}
		switch f.Event {
		case "pusher:ping":
			send(map[string]any{"event": "pusher:pong", "data": "{}"})
		case "pusher:subscribe":
			var d struct {
				Channel string `json:"channel"`
				Auth    string `json:"auth"`
			}
			_ = json.Unmarshal(f.Data, &d)
			if strings.HasPrefix(d.Channel, "private-") && d.Auth == "" {
				send(map[string]any{"event": "pusher:subscription_error", "channel": d.Channel,
					"data": map[string]any{"type": "AuthError", "error": "no auth", "status": 401}})
				continue
			}
			p.mu.Lock()
			fc.subs[d.Channel] = true
			p.mu.Unlock()
			send(map[string]any{"event": "pusher_internal:subscription_succeeded", "channel": d.Channel})
			p.subs <- d.Channel
		case "pusher:unsubscribe":
			var d struct {
				Channel string `json:"channel"`
			}
			_ = json.Unmarshal(f.Data, &d)
			p.mu.Lock()
			delete(fc.subs, d.Channel)
			p.mu.Unlock()
		}
	}
}

// config returns the PusherConfig that reaches this server.
func (p *fakePusher) config() app.PusherConfig {
	u, _ := url.Parse(p.srv.URL)
	port, _ := strconv.Atoi(u.Port())
	return app.PusherConfig{Key: p.key, Host: u.Hostname(), Port: port, Scheme: "http", Cluster: "mt1"}
}

// waitSubscribed waits until every channel was confirmed once more.
func (p *fakePusher) waitSubscribed(t *testing.T, channels ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, c := range channels {
		want[c] = true
	}
	deadline := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case c := <-p.subs:
			delete(want, c)
		case <-deadline:
			t.Fatalf("channels not subscribed within 10 s: %v", want)
		}
	}
}

// publish sends an event to every connection subscribed to channel and
// returns how many got it.
func (p *fakePusher) publish(channel, event string, data any) int {
	b, _ := json.Marshal(data)
	frame := map[string]any{"event": event, "channel": channel, "data": string(b)}
	p.mu.Lock()
	var targets []*fakeConn
	for _, fc := range p.conns {
		if fc.subs[channel] {
			targets = append(targets, fc)
		}
	}
	p.mu.Unlock()
	for _, fc := range targets {
		fc.send(frame)
	}
	return len(targets)
}

// dropAll closes every connection, as a server restart would.
func (p *fakePusher) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// recordingNotifier records desktop notifications.
type recordingNotifier struct {
	ch chan notify.Message
}

func newRecordingNotifier() *recordingNotifier {
	return &recordingNotifier{ch: make(chan notify.Message, 64)}
}

func (n *recordingNotifier) Notify(_ context.Context, m notify.Message) error {
	n.ch <- m
	return nil
}

func (n *recordingNotifier) wait(t *testing.T) notify.Message {
	t.Helper()
	select {
	case m := <-n.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no desktop notification within 10 s")
		return notify.Message{}
	}
}

// testEnv is a temporary config/data/cache directory with the mock keyring.
type testEnv struct {
	dir     string
	cfg     *app.ConfigStore
	logBuf  *syncBuffer
	logger  *slog.Logger
	red     *app.Redactor
	secrets *app.KeyringSecrets
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	keyring.MockInit()
	dir := t.TempDir()
	t.Setenv(app.EnvConfigDir, dir+"/config")
	t.Setenv(app.EnvDataDir, dir+"/data")
	t.Setenv(app.EnvCacheDir, dir+"/cache")
	cfg, err := app.OpenConfig(dir+"/config", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{dir: dir, cfg: cfg, logBuf: &syncBuffer{}, red: app.NewRedactor(), secrets: app.NewKeyringSecrets(time.Second)}
	e.logger = slog.New(app.NewRedactingHandler(slog.NewTextHandler(e.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}), e.red))
	return e
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
