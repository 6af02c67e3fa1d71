package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// discoveryServer answers GET /api/broadcasting/config with answer (a
// JSON body), status, and passes everything else to next (if any).
func discoveryServer(t *testing.T, status int, contentType, answer string, next *httptest.Server) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	var proxy http.Handler = http.NotFoundHandler()
	if next != nil {
		u, _ := url.Parse(next.URL)
		proxy = httputil.NewSingleHostReverseProxy(u)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != DiscoveryPath {
			proxy.ServeHTTP(w, r)
			return
		}
		calls.Add(1)
		if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestDiscoverAnswer(t *testing.T) {
	srv, _ := discoveryServer(t, 200, "application/json",
		`{"key":"app-key","host":"ws.example.com","port":"6443","scheme":"https","cluster":"eu","path":"/ws/","auth_endpoint":"/api/broadcasting/auth"}`, nil)
	d, err := Discover(context.Background(), nil, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	want := Discovered{Server: srv.URL, Offered: true, Key: "app-key", Host: "ws.example.com", Port: 6443, Scheme: "https", Cluster: "eu", Path: "/ws", AuthEndpoint: "/api/broadcasting/auth"}
	d.Fetched, d.Notes = want.Fetched, nil
	if d.Server != want.Server || d.Offered != want.Offered || d.Key != want.Key || d.Host != want.Host || d.Port != want.Port ||
		d.Scheme != want.Scheme || d.Cluster != want.Cluster || d.Path != want.Path || d.AuthEndpoint != want.AuthEndpoint {
		t.Errorf("Discover = %+v\nwant %+v", d, want)
	}
}

func TestDiscoverNotOffered(t *testing.T) {
	for name, srv := range map[string]*httptest.Server{
		"404":      must(discoveryServer(t, 404, "application/json", `{"message":"Not Found"}`, nil)),
		"405":      must(discoveryServer(t, 405, "text/html", `no`, nil)),
		"redirect": must(discoveryServer(t, 302, "text/html", ``, nil)),
		"spa page": must(discoveryServer(t, 200, "text/html", `<!doctype html><div id=app></div>`, nil)),
	} {
		d, err := Discover(context.Background(), nil, srv.URL)
		if err != nil || d.Offered || d.Server != srv.URL || len(d.Notes) == 0 {
			t.Errorf("%s: Discover = %+v, %v", name, d, err)
		}
	}
}

func must(srv *httptest.Server, _ *atomic.Int32) *httptest.Server { return srv }

func TestDiscoverErrors(t *testing.T) {
	for name, srv := range map[string]*httptest.Server{
		"500":        must(discoveryServer(t, 500, "application/json", `{"message":"Server Error"}`, nil)),
		"no key":     must(discoveryServer(t, 200, "application/json", `{"host":"ws.example.com"}`, nil)),
		"bad key":    must(discoveryServer(t, 200, "application/json", `{"key":"a/b"}`, nil)),
		"not json":   must(discoveryServer(t, 200, "application/json", `{"key":`, nil)),
		"not object": must(discoveryServer(t, 200, "application/json", `["key"]`, nil)),
	} {
		if d, err := Discover(context.Background(), nil, srv.URL); err == nil {
			t.Errorf("%s: Discover = %+v, want an error", name, d)
		}
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err := Discover(context.Background(), nil, dead.URL)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindUnreachable {
		t.Errorf("unreachable server: %v", err)
	}
	if _, err := Discover(context.Background(), nil, "ftp://x"); err == nil {
		t.Error("a bad server URL is an error")
	}
}

func TestDiscoverIgnoresUnsafeValues(t *testing.T) {
	srv, _ := discoveryServer(t, 200, "application/json",
		`{"key":"k","host":"127.0.0.1","port":99999,"scheme":"gopher","auth_endpoint":"https://evil.example.com/steal"}`, nil)
	d, err := Discover(context.Background(), nil, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The API itself is on loopback here, so a loopback host is kept.
	if d.Host != "127.0.0.1" || d.Port != 0 || d.Scheme != "" || d.AuthEndpoint != "" || len(d.Notes) != 3 {
		t.Errorf("Discover = %+v", d)
	}
	var a discoveryAnswer
	_ = json.Unmarshal([]byte(`{"key":"k","host":"localhost","auth_endpoint":"http://billing.example.com:8080/broadcasting/auth"}`), &a)
	d = Discovered{Server: "https://billing.example.com"}
	if err := d.fill(a); err != nil {
		t.Fatal(err)
	}
	if d.Host != "" || d.AuthEndpoint != "" || len(d.Notes) != 2 {
		t.Errorf("loopback host of a remote server and an auth endpoint on another origin must be ignored: %+v", d)
	}
	_ = json.Unmarshal([]byte(`{"key":"k","host":"wss://ws.example.com:6002","auth_endpoint":"https://billing.example.com/broadcasting/auth"}`), &a)
	d = Discovered{Server: "https://billing.example.com"}
	if err := d.fill(a); err != nil {
		t.Fatal(err)
	}
	if d.Host != "ws.example.com" || d.Port != 6002 || d.Scheme != "https" || d.AuthEndpoint != "https://billing.example.com/broadcasting/auth" {
		t.Errorf("a host written as a URL: %+v", d)
	}
}

func TestDiscoveredLayerPrecedence(t *testing.T) {
	r := newSystemRig(t, `{"pusher": {"port": 7443}}`)
	r.writeUser(t, `{"server": "https://billing.example.com", "pusher": {"scheme": "http"}, "config_version": 2}`)
	s := r.open(t, nil)
	var changes int
	s.OnChange(func(Config) { changes++ })
	d := Discovered{Server: "https://billing.example.com", Offered: true, Key: "srv-key", Host: "ws.example.com", Port: 443, Scheme: "https", AuthEndpoint: "/api/broadcasting/auth"}
	if err := s.SetDiscovered(d); err != nil {
		t.Fatal(err)
	}
	c := s.Effective()
	if c.Pusher.Key != "srv-key" || c.Pusher.Host != "ws.example.com" || c.Paths.Auth != "/api/broadcasting/auth" {
		t.Errorf("discovered values not in force: %+v %+v", c.Pusher, c.Paths)
	}
	if c.Pusher.Port != 7443 || c.Pusher.Scheme != "http" {
		t.Errorf("the files must win over discovery: %+v", c.Pusher)
	}
	if changes != 1 {
		t.Errorf("listeners called %d times", changes)
	}
	for key, want := range map[string]bool{"pusher": true, "pusher.key": true, "pusher.host": true, "pusher.port": false, "pusher.scheme": false, "paths.auth": true, "server": false} {
		if got := s.FromServer(key); got != want {
			t.Errorf("FromServer(%q) = %v, want %v", key, got, want)
		}
	}
	// Saved: a new process (or a start without the network) has it.
	s2 := r.open(t, nil)
	if got := s2.Effective().Pusher.Key; got != "srv-key" || !s2.FromServer("pusher.key") {
		t.Errorf("after reopening: key %q", got)
	}
	if dd, ok := s2.Discovery(); !ok || dd.Key != "srv-key" {
		t.Errorf("Discovery = %+v, %v", dd, ok)
	}
	// Saving settings does not copy the discovered values into the user's file.
	if err := s2.Update(func(c *Config) { c.Email = "a@example.com" }); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(r.dir, "config.json"))
	if strings.Contains(string(raw), "srv-key") || strings.Contains(string(raw), "ws.example.com") {
		t.Errorf("discovered values written into the user's file:\n%s", raw)
	}
	// Another server's answer does not apply.
	if err := s2.SetDiscovered(Discovered{Server: "https://other.example.com", Offered: true, Key: "other"}); err != nil {
		t.Fatal(err)
	}
	if got := s2.Effective().Pusher.Key; got != "srv-key" {
		t.Errorf("key %q", got)
	}
}

func TestDiscoveredNotOfferedUsesTheAPIHost(t *testing.T) {
	r := newSystemRig(t, "")
	r.writeUser(t, `{"server": "https://billing.example.com", "config_version": 2}`)
	s := r.open(t, nil)
	if err := s.SetDiscovered(Discovered{Server: "https://billing.example.com", Offered: false}); err != nil {
		t.Fatal(err)
	}
	c := s.Effective()
	if c.Pusher.Host != "billing.example.com" || c.Pusher.Port != DefaultPusherPort || c.Pusher.Key != DefaultPusherKey {
		t.Errorf("fallback pusher %+v", c.Pusher)
	}
	if s.FromServer("pusher") {
		t.Error("the fallback is not the server's answer")
	}
	// A host the user set wins over the fallback.
	if err := s.Update(func(c *Config) { c.Pusher.Host = "ws.example.com" }); err != nil {
		t.Fatal(err)
	}
	if got := s.Effective().Pusher.Host; got != "ws.example.com" {
		t.Errorf("host %q", got)
	}
}

func TestDiscoveredKeyOnlyFollowsTheAPI(t *testing.T) {
	d := Discovered{Server: "https://billing.example.com", Offered: true, Key: "k"}
	l, from := d.layer()
	c := DefaultConfig()
	if err := l.apply(&c); err != nil || from != srcServer {
		t.Fatal(err)
	}
	if c.Pusher.Host != "billing.example.com" || c.Pusher.Scheme != "https" || c.Pusher.Port != 0 || c.Realtime().Address() != "wss://billing.example.com" {
		t.Errorf("key-only answer: %+v (%s)", c.Pusher, c.Realtime().Address())
	}
	d = Discovered{Server: "https://billing.example.com", Offered: true, Key: "k", Cluster: "eu"}
	l, _ = d.layer()
	c = DefaultConfig()
	_ = l.apply(&c)
	if c.Pusher.Host != "" || c.Realtime().Address() != "wss://ws-eu.pusher.com" {
		t.Errorf("hosted Pusher: %+v (%s)", c.Pusher, c.Realtime().Address())
	}
	if err := c.Validate(); err != nil {
		t.Errorf("hosted Pusher settings invalid: %v", err)
	}
}

func TestLockedPusherBeatsDiscovery(t *testing.T) {
	r := newSystemRig(t, `{"server": "https://billing.example.com", "pusher": {"host": "ws.corp.example"}, "locked": ["pusher"]}`)
	s := r.open(t, nil)
	_ = s.SetDiscovered(Discovered{Server: "https://billing.example.com", Offered: true, Key: "srv", Host: "ws.example.com"})
	c := s.Effective()
	if c.Pusher.Host != "ws.corp.example" {
		t.Errorf("host %q: IT's file wins", c.Pusher.Host)
	}
	// Locked keys IT did not set follow the lower layers; they still
	// cannot be changed.
	if c.Pusher.Key != "srv" {
		t.Errorf("key %q", c.Pusher.Key)
	}
	if err := s.Update(func(c *Config) { c.Pusher.Key = "x" }); !errors.Is(err, ErrLocked) {
		t.Errorf("Update: %v", err)
	}
}

func TestSessionLoginUsesDiscovery(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	srv, calls := discoveryServer(t, 200, "application/json", `{"key":"disc-key","host":"ws.example.com","port":6001,"scheme":"http"}`, b.srv)
	env := newTestEnv(t, "", nil)
	s := env.session()
	// The address as people type it.
	typed := strings.TrimPrefix(srv.URL, "http://") + "/dashboard?tab=1"
	if _, err := s.Login(context.Background(), LoginRequest{Server: typed, Email: "tina@example.com", Password: "secret-pw"}); err != nil {
		t.Fatal(err)
	}
	c := env.cfg.Effective()
	if c.Server != srv.URL || c.Pusher.Key != "disc-key" || c.Pusher.Host != "ws.example.com" || !env.cfg.FromServer("pusher") {
		t.Errorf("after sign-in: server %q pusher %+v", c.Server, c.Pusher)
	}
	if calls.Load() != 1 {
		t.Errorf("discovery asked %d times", calls.Load())
	}
	if err := s.RefreshDiscovery(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("RefreshDiscovery did not ask: %d", calls.Load())
	}
}

func TestSessionRefreshDiscoveryOfflineKeepsTheSavedAnswer(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	srv, _ := discoveryServer(t, 200, "application/json", `{"key":"disc-key"}`, b.srv)
	env := newTestEnv(t, srv.URL, nil)
	s := env.session()
	if err := s.RefreshDiscovery(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := s.RefreshDiscovery(context.Background()); err == nil {
		t.Error("an unreachable server is an error")
	}
	if got := env.cfg.Effective().Pusher.Key; got != "disc-key" {
		t.Errorf("key %q: the saved answer applies", got)
	}
	// No server: nothing to do.
	empty := newTestEnv(t, "", nil)
	if err := empty.session().RefreshDiscovery(context.Background()); err != nil {
		t.Errorf("no server: %v", err)
	}
}

func TestSessionLoginRefusesAnotherServerWhenLocked(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	root := t.TempDir()
	sys := filepath.Join(root, "system.json")
	if err := os.WriteFile(sys, []byte(`{"server": "`+b.URL()+`", "locked": ["server"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, "", nil)
	cfg, err := OpenConfig(filepath.Join(root, "cfg"), func(k string) string {
		if k == EnvSystemConfig {
			return sys
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession(SessionOptions{Config: cfg, Secrets: env.secrets, Logger: env.logger, Redactor: env.red})
	_, err = s.Login(context.Background(), LoginRequest{Server: "https://other.example.com", Email: "tina@example.com", Password: "secret-pw"})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "administrator") {
		t.Fatalf("Login to another server: %v", err)
	}
	if b.stat(&b.logins) != 0 {
		t.Error("the password was sent")
	}
	// The locked server itself, given or not, signs in.
	if _, err := s.Login(context.Background(), LoginRequest{Server: b.URL() + "/", Email: "tina@example.com", Password: "secret-pw"}); err != nil {
		t.Fatalf("Login to the locked server: %v", err)
	}
}

func TestUnsetFollowsTheServerAgain(t *testing.T) {
	r := newSystemRig(t, `{"history": {"max_entries": 5}, "locked": ["history"]}`)
	r.writeUser(t, `{"server": "https://billing.example.com", "pusher": {"host": "mine.example.com", "key": "mine"}, "history": {"max_entries": 9}, "config_version": 2}`)
	s := r.open(t, nil)
	_ = s.SetDiscovered(Discovered{Server: "https://billing.example.com", Offered: true, Key: "srv", Host: "ws.example.com"})
	if c := s.Effective(); c.Pusher.Host != "mine.example.com" || s.FromServer("pusher.host") {
		t.Fatalf("the user's host must win: %+v", c.Pusher)
	}
	if err := s.Unset("pusher"); err != nil {
		t.Fatal(err)
	}
	if c := s.Effective(); c.Pusher.Host != "ws.example.com" || c.Pusher.Key != "srv" || !s.FromServer("pusher.host") {
		t.Errorf("after Unset: %+v", c.Pusher)
	}
	if err := s.Unset("history.max_entries"); !errors.Is(err, ErrLocked) {
		t.Errorf("Unset of a locked key: %v", err)
	}
	if err := s.Unset("no.such"); err != nil {
		t.Errorf("Unset of a key not set: %v", err)
	}
}
