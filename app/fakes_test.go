package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

	"echotray/notify"
)

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
	return fakeUser{ID: 1, Name: "Ada Admin", Email: "ada@example.com", Password: "admin-pw", Role: RoleSystemAdmin}
}

// fakeBackend is an in-process stand-in for the Laravel API: login, user,
// logout and broadcasting auth with Bearer tokens that can be revoked.
type fakeBackend struct {
	srv *httptest.Server

	mu         sync.Mutex
	users      map[string]fakeUser // by e-mail
	tokens     map[string]string   // token → e-mail
	logins     int
	logouts    int
	userCalls  int
	authCalls  []string // channel names
	headers    []http.Header
	wrapUser   bool // answer /api/user as {"data": user}
	accessKey  bool // answer login with access_token instead of token
	failStatus int  // when set, every endpoint answers this status
	// Laravel notifications (the catch-up and read routes answer 404
	// unless notifRoutes is set).
	notifRoutes bool
	notes       []fakeNote
	reads       []string
	listCalls   []string // the since of each list request
}

// fakeNote is a row of the notifications table.
type fakeNote struct {
	ID      string
	Class   string
	Data    map[string]any
	Created time.Time
	ReadAt  *time.Time
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
	mux.HandleFunc("GET /api/notifications", b.listNotes)
	mux.HandleFunc("POST /api/notifications/{id}/read", b.readNote)
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

func (b *fakeBackend) record(r *http.Request) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.headers = append(b.headers, r.Header.Clone())
	return b.failStatus == 0
}

func (b *fakeBackend) login(w http.ResponseWriter, r *http.Request) {
	if !b.record(r) {
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
	key := "token"
	if b.accessKey {
		key = "access_token"
	}
	writeJSON(w, 200, map[string]any{key: token, "user": userJSON(u)})
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
	if !b.record(r) {
		writeJSON(w, b.failStatus, map[string]string{"message": "Server Error"})
		return
	}
	b.mu.Lock()
	b.userCalls++
	wrap := b.wrapUser
	b.mu.Unlock()
	u, ok := b.bearer(r)
	if !ok {
		writeJSON(w, 401, map[string]string{"message": "Unauthenticated."})
		return
	}
	if wrap {
		writeJSON(w, 200, map[string]any{"data": userJSON(u)})
		return
	}
	writeJSON(w, 200, userJSON(u))
}

func (b *fakeBackend) logout(w http.ResponseWriter, r *http.Request) {
	if !b.record(r) {
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
	b.logouts++
	delete(b.tokens, tok)
	writeJSON(w, 200, map[string]string{"message": "Logged out"})
}

func (b *fakeBackend) auth(w http.ResponseWriter, r *http.Request) {
	b.record(r)
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
	b.mu.Lock()
	b.authCalls = append(b.authCalls, ch)
	b.mu.Unlock()
	allowed := ch == "private-user."+strconv.FormatInt(u.ID, 10) || ch == "private-App.Models.User."+strconv.FormatInt(u.ID, 10) ||
		(ch == ChannelSystemAdmin && u.Role == RoleSystemAdmin)
	if !allowed {
		writeJSON(w, 403, map[string]string{"message": "This action is unauthorized."})
		return
	}
	writeJSON(w, 200, map[string]string{"auth": "app-key:" + randomHex()})
}

// addNote stores a notification, as Laravel's database channel does.
func (b *fakeBackend) addNote(class string, data map[string]any) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(b.notes)+1)
	b.notes = append(b.notes, fakeNote{ID: id, Class: class, Data: data, Created: time.Now().UTC().Truncate(time.Second)})
	return id
}

// listNotes is GET /api/notifications?since= (one page).
func (b *fakeBackend) listNotes(w http.ResponseWriter, r *http.Request) {
	if !b.notifRoutes {
		writeJSON(w, 404, map[string]string{"message": ""})
		return
	}
	if _, ok := b.bearer(r); !ok {
		writeJSON(w, 401, map[string]string{"message": "Unauthenticated."})
		return
	}
	since, _ := time.Parse(time.RFC3339, r.URL.Query().Get("since"))
	b.mu.Lock()
	defer b.mu.Unlock()
	b.listCalls = append(b.listCalls, r.URL.Query().Get("since"))
	rows := []map[string]any{}
	for _, n := range b.notes {
		if n.Created.Before(since) {
			continue
		}
		var readAt any
		if n.ReadAt != nil {
			readAt = n.ReadAt.Format(time.RFC3339)
		}
		rows = append(rows, map[string]any{"id": n.ID, "type": n.Class, "data": n.Data, "read_at": readAt,
			"created_at": n.Created.Format("2006-01-02T15:04:05.000000Z")})
	}
	writeJSON(w, 200, map[string]any{"data": rows, "next_page_url": nil})
}

// readNote is POST /api/notifications/{id}/read.
func (b *fakeBackend) readNote(w http.ResponseWriter, r *http.Request) {
	if !b.notifRoutes {
		writeJSON(w, 404, map[string]string{"message": ""})
		return
	}
	if _, ok := b.bearer(r); !ok {
		writeJSON(w, 401, map[string]string{"message": "Unauthenticated."})
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.notes {
		if b.notes[i].ID == r.PathValue("id") {
			now := time.Now()
			b.notes[i].ReadAt = &now
			b.reads = append(b.reads, b.notes[i].ID)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeJSON(w, 404, map[string]string{"message": "No query results for model [Illuminate\\Notifications\\DatabaseNotification]."})
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
	p.conns[c] = fc
	p.mu.Unlock()
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
func (p *fakePusher) config() PusherConfig {
	u, _ := url.Parse(p.srv.URL)
	port, _ := strconv.Atoi(u.Port())
	return PusherConfig{Key: p.key, Host: u.Hostname(), Port: port, Scheme: "http", Cluster: "mt1"}
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
	mu   sync.Mutex
	msgs []notify.Message
	ch   chan notify.Message
	err  error
}

func newRecordingNotifier() *recordingNotifier {
	return &recordingNotifier{ch: make(chan notify.Message, 64)}
}

func (n *recordingNotifier) Notify(_ context.Context, m notify.Message) error {
	n.mu.Lock()
	n.msgs = append(n.msgs, m)
	err := n.err
	n.mu.Unlock()
	n.ch <- m
	return err
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
	cfg     *ConfigStore
	logBuf  *syncBuffer
	logger  *slog.Logger
	red     *Redactor
	secrets *KeyringSecrets
}

func newTestEnv(t *testing.T, server string, pusher *PusherConfig) *testEnv {
	t.Helper()
	keyring.MockInit()
	dir := t.TempDir()
	t.Setenv(EnvConfigDir, dir+"/config")
	t.Setenv(EnvDataDir, dir+"/data")
	t.Setenv(EnvCacheDir, dir+"/cache")
	cfg, err := OpenConfig(dir+"/config", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Update(func(c *Config) {
		c.Server = server
		if pusher != nil {
			c.Pusher = *pusher
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{dir: dir, cfg: cfg, logBuf: &syncBuffer{}, red: NewRedactor(), secrets: NewKeyringSecrets(time.Second)}
	e.logger = slog.New(NewRedactingHandler(slog.NewTextHandler(e.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}), e.red))
	return e
}

func (e *testEnv) session() *Session {
	return NewSession(SessionOptions{Config: e.cfg, Secrets: e.secrets, Logger: e.logger, Redactor: e.red})
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
