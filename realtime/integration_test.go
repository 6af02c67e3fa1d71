//go:build integration

package realtime

// Integration tests against the real Soketi from devstack/node and the
// Laravel stand-in. Run: go test -tags integration ./realtime/...

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"echotray/devstack"
	"echotray/devstack/laravel"
)

// stack is one Soketi plus one Laravel stand-in.
type stack struct {
	soketi  *devstack.Soketi
	laravel *laravel.Server
}

func startStack(t *testing.T) *stack {
	t.Helper()
	s := devstack.StartSoketiT(t)
	return &stack{soketi: s, laravel: laravel.StartT(t, s.Key, s.Secret)}
}

// login signs in like the app does and returns the bearer token.
func (st *stack) login(t *testing.T, email string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": laravel.DefaultPassword})
	resp, err := http.Post(st.laravel.URL()+"/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Token == "" {
		t.Fatalf("login %s: HTTP %d", email, resp.StatusCode)
	}
	return out.Token
}

// client builds a client for the stack, authorised with token, whose
// handlers feed r. host/port default to Soketi's.
func (st *stack) client(t *testing.T, r *recorder, token string, host string, port int) *Client {
	t.Helper()
	if host == "" {
		host, port = st.soketi.Host, st.soketi.Port
	}
	httpClient := &http.Client{Timeout: 5 * time.Second}
	cfg := Config{
		Key:  st.soketi.Key,
		Host: host,
		Port: port,
		Authorizer: HTTPAuthorizer{
			Endpoint: st.laravel.URL() + "/broadcasting/auth",
			Client:   httpClient,
			Header: func(context.Context) (http.Header, error) {
				return http.Header{"Authorization": {"Bearer " + token}}, nil
			},
		},
		Logger: debugLogger(),
	}
	r.hook(&cfg)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		httpClient.CloseIdleConnections()
	})
	return c
}

func (st *stack) trigger(t *testing.T, channel, name string, data any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.soketi.Publisher().Trigger(ctx, []string{channel}, name, data, ""); err != nil {
		t.Fatalf("trigger %s on %s: %v", name, channel, err)
	}
}

// expectEvent waits for the event named name on channel, skipping others.
func (r *recorder) expectEvent(t *testing.T, channel, name string, within time.Duration) Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-r.eventCh:
			if e.Channel == channel && e.Name == name {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s on %s within %s", name, channel, within)
			return Event{}
		}
	}
}

func TestIntegrationPublicAndPrivateSubscribe(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	token := st.login(t, "alice@tenant1.test")
	r := newRecorder()
	c := st.client(t, r, token, "", 0)
	c.Subscribe("tenant.1")
	c.Connect()
	c.Subscribe("private-user.1") // after Connect
	r.waitState(t, StateConnected, 10*time.Second)
	r.waitSubs(t, map[string]SubscriptionStatus{"tenant.1": SubscriptionSubscribed, "private-user.1": SubscriptionSubscribed}, 10*time.Second)

	st.trigger(t, "tenant.1", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"id": 9, "name": "Bo"}})
	e := r.expectEvent(t, "tenant.1", `App\Events\UserCreated`, 10*time.Second)
	if string(e.Data) != `{"user":{"id":9,"name":"Bo"}}` || e.ShortName(DefaultNamespace) != "UserCreated" {
		t.Fatalf("event %+v data %s", e, e.Data)
	}
	st.trigger(t, "private-user.1", "PasswordChanged", map[string]any{"at": "now"})
	e = r.expectEvent(t, "private-user.1", "PasswordChanged", 10*time.Second)
	if string(e.Data) != `{"at":"now"}` {
		t.Fatalf("private event data %s", e.Data)
	}
	// Another tenant's private channel is refused by the backend.
	c.Subscribe("private-user.2")
	f := r.waitSub(t, "private-user.2", SubscriptionForbidden, 10*time.Second)
	var ae *AuthError
	if !errors.Is(f.Err, ErrForbidden) || !errors.As(f.Err, &ae) || ae.Status != 403 {
		t.Fatalf("forbidden error %v", f.Err)
	}
}

func TestIntegrationForbiddenChannelLeavesOthersWorking(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	token := st.login(t, "alice@tenant1.test") // a tenant admin, not a system admin
	r := newRecorder()
	c := st.client(t, r, token, "", 0)
	c.Subscribe("private-system.admin")
	c.Subscribe("tenant.1")
	c.Subscribe("private-user.1")
	c.Connect()
	r.waitSubs(t, map[string]SubscriptionStatus{
		"private-system.admin": SubscriptionForbidden,
		"tenant.1":             SubscriptionSubscribed,
		"private-user.1":       SubscriptionSubscribed,
	}, 10*time.Second)
	st.trigger(t, "tenant.1", "PaymentCompleted", map[string]any{"amount": 100})
	r.expectEvent(t, "tenant.1", "PaymentCompleted", 10*time.Second)
	if c.State() != StateConnected {
		t.Fatalf("state %s", c.State())
	}
	// And a system admin gets the channel.
	r2 := newRecorder()
	admin := st.client(t, r2, st.login(t, "admin@echotray.test"), "", 0)
	admin.Subscribe("private-system.admin")
	admin.Connect()
	r2.waitSub(t, "private-system.admin", SubscriptionSubscribed, 10*time.Second)
}

func TestIntegrationRevokedTokenEndsSession(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	token := st.login(t, "carol@tenant1.test")
	r := newRecorder()
	c := st.client(t, r, token, "", 0)
	c.Subscribe("private-user.4")
	c.Connect()
	r.waitSub(t, "private-user.4", SubscriptionSubscribed, 10*time.Second)
	st.laravel.RevokeAll()
	before := st.laravel.Requests("/broadcasting/auth")
	c.Reconnect() // new socket id: must re-authorise, and gets 401
	sc := r.waitState(t, StateFailed, 10*time.Second)
	var ae *AuthError
	if !errors.Is(sc.Err, ErrUnauthorized) || !errors.As(sc.Err, &ae) || ae.Message != "Unauthenticated." {
		t.Fatalf("failed with %v", sc.Err)
	}
	time.Sleep(3 * time.Second) // a failed client must stay quiet; real processes, nothing to wait on
	if n := st.laravel.Requests("/broadcasting/auth") - before; n != 1 {
		t.Fatalf("%d auth requests after the 401", n)
	}
}

func TestIntegrationAuthServerErrorIsRetried(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	token := st.login(t, "alice@tenant1.test")
	st.laravel.FailNext("/broadcasting/auth", http.StatusInternalServerError, "<html>Server Error</html>")
	st.laravel.FailNext("/broadcasting/auth", http.StatusBadGateway, "")
	r := newRecorder()
	c := st.client(t, r, token, "", 0)
	c.Subscribe("private-user.1")
	c.Connect()
	f := r.waitSub(t, "private-user.1", SubscriptionFailed, 10*time.Second)
	var ae *AuthError
	if !errors.As(f.Err, &ae) || ae.Status != 500 {
		t.Fatalf("first failure %v", f.Err)
	}
	r.waitSub(t, "private-user.1", SubscriptionSubscribed, 2*time.Minute)
	if n := st.laravel.Requests("/broadcasting/auth"); n != 3 {
		t.Fatalf("%d auth requests, want 3", n)
	}
}

func TestIntegrationSoketiKilledAndRestarted(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	token := st.login(t, "alice@tenant1.test")
	r := newRecorder()
	c := st.client(t, r, token, "", 0)
	c.Subscribe("tenant.1")
	c.Subscribe("private-user.1")
	c.Connect()
	r.waitSubs(t, map[string]SubscriptionStatus{"tenant.1": SubscriptionSubscribed, "private-user.1": SubscriptionSubscribed}, 10*time.Second)
	firstID := c.SocketID()

	if err := st.soketi.Kill(); err != nil {
		t.Fatal(err)
	}
	sc := r.waitState(t, StateUnavailable, 10*time.Second)
	var ce *CloseError
	if sc.Err == nil || (errors.As(sc.Err, &ce) && ce.Code != 1006) {
		t.Fatalf("after kill: %+v", sc)
	}
	if got := c.Subscriptions()["private-user.1"]; got != SubscriptionPending {
		t.Fatalf("status while down %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.soketi.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, StateConnected, time.Minute)
	r.waitSubs(t, map[string]SubscriptionStatus{"tenant.1": SubscriptionSubscribed, "private-user.1": SubscriptionSubscribed}, 10*time.Second)
	if c.SocketID() == firstID || c.SocketID() == "" {
		t.Fatalf("socket id %q after restart (was %q)", c.SocketID(), firstID)
	}
	st.trigger(t, "private-user.1", "AccountActivated", map[string]any{"ok": true})
	r.expectEvent(t, "private-user.1", "AccountActivated", 10*time.Second)
}

func TestIntegrationGracefulShutdown4200(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	r := newRecorder()
	c := st.client(t, r, "", "", 0)
	c.Subscribe("tenant.2")
	c.Connect()
	r.waitState(t, StateConnected, 10*time.Second)
	r.waitSub(t, "tenant.2", SubscriptionSubscribed, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.soketi.Restart(ctx); err != nil { // SIGTERM: 4200 to every client
		t.Fatal(err)
	}
	// 4200 means "reconnect now": the first attempt waits only Jitter
	// (at most 1 s by default), so that a fleet does not come back at once.
	sc := r.waitState(t, StateUnavailable, 10*time.Second)
	var ce *CloseError
	if sc.Previous != StateConnected || !errors.As(sc.Err, &ce) || ce.Code != 4200 ||
		sc.NextAttempt.IsZero() || time.Until(sc.NextAttempt) > jitterMax {
		t.Fatalf("after graceful stop: %+v", sc)
	}
	r.waitState(t, StateConnecting, 2*time.Second)
	r.waitState(t, StateConnected, time.Minute)
	r.waitSub(t, "tenant.2", SubscriptionSubscribed, 10*time.Second)
	st.trigger(t, "tenant.2", "TenantUpdated", map[string]any{"id": 2})
	r.expectEvent(t, "tenant.2", "TenantUpdated", 10*time.Second)
}

// holeProxy forwards loopback TCP to Soketi until blackhole is called: from
// then on the connections open at that moment stay open but every byte in
// either direction is swallowed, like a network that silently died. New
// connections are forwarded normally.
type holeProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []*holeConn
	wg     sync.WaitGroup
}

type holeConn struct {
	a, b net.Conn
	mu   sync.Mutex
	dead bool
}

func (h *holeConn) isDead() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dead
}

func startHoleProxy(t *testing.T, target string) *holeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holeProxy{ln: ln, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				continue
			}
			hc := &holeConn{a: a, b: b}
			p.mu.Lock()
			p.conns = append(p.conns, hc)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pump(hc, a, b)
			go p.pump(hc, b, a)
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *holeProxy) pump(hc *holeConn, from, to net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 && !hc.isDead() {
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !hc.isDead() {
				to.Close()
			}
			return
		}
	}
}

func (p *holeProxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, hc := range p.conns {
		hc.mu.Lock()
		hc.dead = true
		hc.mu.Unlock()
	}
}

func (p *holeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, hc := range p.conns {
		hc.a.Close()
		hc.b.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func TestIntegrationBlackholedServerDetected(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	proxy := startHoleProxy(t, fmt.Sprintf("%s:%d", st.soketi.Host, st.soketi.Port))
	port := proxy.ln.Addr().(*net.TCPAddr).Port
	r := newRecorder()
	c := st.client(t, r, "", "127.0.0.1", port)
	c.Subscribe("tenant.1")
	c.Connect()
	r.waitSub(t, "tenant.1", SubscriptionSubscribed, 10*time.Second)
	start := time.Now()
	proxy.blackhole()
	sc := r.waitState(t, StateUnavailable, 2*time.Minute)
	elapsed := time.Since(start)
	if !errors.Is(sc.Err, ErrPongTimeout) {
		t.Fatalf("unavailable because %v", sc.Err)
	}
	// Soketi's activity_timeout is 30 s; the pong timeout 30 s.
	if limit := 30*time.Second + DefaultPongTimeout + time.Second; elapsed > limit {
		t.Fatalf("detected after %s, limit %s", elapsed, limit)
	}
	t.Logf("blackhole detected after %s", elapsed.Round(time.Millisecond))
	r.waitSub(t, "tenant.1", SubscriptionSubscribed, 30*time.Second) // through a fresh proxied connection
	st.trigger(t, "tenant.1", "SystemNotification", map[string]any{"m": "back"})
	r.expectEvent(t, "tenant.1", "SystemNotification", 10*time.Second)
}

func TestIntegrationWrongAppKeyFails(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	r := newRecorder()
	cfg := Config{Key: "no-such-key", Host: st.soketi.Host, Port: st.soketi.Port, Logger: debugLogger()}
	r.hook(&cfg)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Connect()
	sc := r.waitState(t, StateFailed, 10*time.Second)
	var ce *CloseError
	if !errors.As(sc.Err, &ce) || ce.Code != 4001 {
		t.Fatalf("failed with %v", sc.Err)
	}
	t.Logf("refused: %v", sc.Err)
}
