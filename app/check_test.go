package app

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCheckAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/user" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Unauthenticated."}`))
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Server = srv.URL
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r := checkAPI(ctx, cfg, srv.Client()); !r.OK {
		t.Errorf("a Laravel 401 means the API answers; got %+v", r)
	}

	srv.Close()
	if r := checkAPI(ctx, cfg, srv.Client()); r.OK || r.Text == "" {
		t.Errorf("closed server: %+v", r)
	}
}

func TestCheckWebSocketRefused(t *testing.T) {
	// A port nobody listens on.
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	cfg := DefaultConfig()
	cfg.Pusher.Host, cfg.Pusher.Port = "127.0.0.1", portOf(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := checkWebSocket(ctx, cfg)
	if r.OK {
		t.Fatalf("refused port reported as OK: %+v", r)
	}
	if want := "Notification server: cannot connect to " + cfg.Realtime().Address() + ": "; !strings.HasPrefix(r.Text, want) || len(r.Text) <= len(want) {
		t.Errorf("text %q, want it to start with %q", r.Text, want)
	}
}

func TestCheckConnectionRunsBoth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Server = srv.URL
	cfg.Pusher.Host, cfg.Pusher.Port = "127.0.0.1", portOf(t, srv.Listener.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	api, ws := CheckConnection(srv.Client())(ctx, cfg)
	if !api.OK || !strings.HasPrefix(api.Text, "Server: ") {
		t.Errorf("api = %+v", api)
	}
	if ws.OK || !strings.HasPrefix(ws.Text, "Notification server: ") {
		t.Errorf("an HTTP server is no Pusher server: ws = %+v", ws)
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCheckPersonalChannel(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, b.URL(), nil)
	sess := env.session()
	if _, err := sess.Login(context.Background(), LoginRequest{Email: tenantUser().Email, Password: tenantUser().Password}); err != nil {
		t.Fatal(err)
	}
	cfg := env.cfg.Effective()
	cfg.Pusher.Host, cfg.Pusher.Port = "127.0.0.1", portOf(t, b.srv.Listener.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	api, _ := CheckConnectionAs(sess.HTTPClient(), sess.Header)(ctx, cfg)
	if !api.OK || !strings.HasSuffix(api.Text, "Personal notifications: allowed.") {
		t.Errorf("api = %+v", api)
	}
	b.mu.Lock()
	calls := append([]string(nil), b.authCalls...)
	b.mu.Unlock()
	if len(calls) != 1 || calls[0] != "private-user.5" {
		t.Errorf("auth calls %v", calls)
	}
	// A wrong authorisation path: the server answers, the channel cannot be authorised.
	cfg.Paths.Auth = "/wrong/auth"
	api, _ = CheckConnectionAs(sess.HTTPClient(), sess.Header)(ctx, cfg)
	if api.OK || !strings.Contains(api.Text, "Personal notifications: The server refused them (its authorisation address was not found).") {
		t.Errorf("wrong auth path: %+v", api)
	}
	for _, bad := range []string{"realtime", "HTTP 404", "Config"} {
		if strings.Contains(api.Text, bad) {
			t.Errorf("text has %q: %q", bad, api.Text)
		}
	}
}
