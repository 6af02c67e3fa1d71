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
	if want := "WebSocket: cannot connect to " + cfg.Realtime().Address() + ": "; !strings.HasPrefix(r.Text, want) || len(r.Text) <= len(want) {
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
	if !api.OK || !strings.HasPrefix(api.Text, "API: ") {
		t.Errorf("api = %+v", api)
	}
	if ws.OK || !strings.HasPrefix(ws.Text, "WebSocket: ") {
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
