package laravel

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"echotray/realtime"
)

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func authForm(channel string) url.Values {
	return url.Values{"socket_id": {"123.456"}, "channel_name": {channel}}
}

func TestThrottlePerSecondEndpoint(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s := New(Config{AppKey: testKey, AppSecret: testSecret, Now: clk.now, AuthThrottle: Throttle{PerSecond: 3}})
	h := s.Handler()
	alice, bob := login(t, h, "alice@tenant1.test"), login(t, h, "bob@tenant2.test")

	// One budget for the whole endpoint: Alice's and Bob's requests share it.
	for i, tok := range []string{alice, bob, alice} {
		a := call(t, h, "POST", "/broadcasting/auth", tok, authForm("private-user."+strconv.Itoa([]int{1, 2, 1}[i])), nil)
		if a.status != 200 {
			t.Fatalf("request %d: %d %s", i+1, a.status, a.raw)
		}
		if got, want := a.header.Get("X-RateLimit-Limit"), "3"; got != want {
			t.Errorf("X-RateLimit-Limit = %q, want %q", got, want)
		}
		if got, want := a.header.Get("X-RateLimit-Remaining"), strconv.Itoa(2-i); got != want {
			t.Errorf("request %d: X-RateLimit-Remaining = %q, want %q", i+1, got, want)
		}
	}
	clk.add(400 * time.Millisecond)
	a := call(t, h, "POST", "/broadcasting/auth", bob, authForm("private-user.2"), nil)
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("4th request in the second: %d %s, want 429", a.status, a.raw)
	}
	if a.body["message"] != "Too Many Attempts." {
		t.Errorf("429 body = %s", a.raw)
	}
	want := map[string]string{
		"Retry-After":           "1",
		"X-RateLimit-Limit":     "3",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     strconv.FormatInt(clk.now().Unix()+1, 10),
	}
	for k, v := range want {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if s.Throttled() != 1 {
		t.Errorf("Throttled = %d, want 1", s.Throttled())
	}
	// Other routes are not throttled.
	if a := call(t, h, "GET", "/api/user", bob, nil, nil); a.status != 200 {
		t.Errorf("GET /api/user under the auth throttle: %d", a.status)
	}
	// The window ends a second after its first request.
	clk.add(600 * time.Millisecond)
	if a := call(t, h, "POST", "/broadcasting/auth", bob, authForm("private-user.2"), nil); a.status != 200 {
		t.Fatalf("after the window: %d %s", a.status, a.raw)
	}
	// SetThrottle changes the limits at run time; the zero value removes them.
	s.SetThrottle(Throttle{})
	for range 10 {
		if a := call(t, h, "POST", "/broadcasting/auth", bob, authForm("private-user.2"), nil); a.status != 200 || a.header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("without throttle: %d %v", a.status, a.header)
		}
	}
}

func TestThrottlePerUserPerMinute(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s := New(Config{AppKey: testKey, AppSecret: testSecret, Now: clk.now,
		AuthThrottle: Throttle{PerSecond: 10, PerMinute: 2, PerUser: true}})
	h := s.Handler()
	alice, bob := login(t, h, "alice@tenant1.test"), login(t, h, "bob@tenant2.test")
	for range 2 {
		if a := call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil); a.status != 200 {
			t.Fatalf("alice: %d", a.status)
		}
		clk.add(5 * time.Second)
	}
	a := call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil)
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("alice's 3rd request in the minute: %d, want 429", a.status)
	}
	// The minute window began 10 s ago: 50 s left.
	if got := a.header.Get("Retry-After"); got != "50" {
		t.Errorf("Retry-After = %q, want 50", got)
	}
	if got := a.header.Get("X-RateLimit-Limit"); got != "2" {
		t.Errorf("X-RateLimit-Limit = %q, want the refusing limit 2", got)
	}
	// Bob has his own budget.
	if a := call(t, h, "POST", "/broadcasting/auth", bob, authForm("private-user.2"), nil); a.status != 200 {
		t.Fatalf("bob: %d, want 200 (per-user budget)", a.status)
	}
	clk.add(50 * time.Second)
	if a := call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil); a.status != 200 {
		t.Fatalf("alice after the minute: %d", a.status)
	}
}

func TestFailForOutage(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s := New(Config{AppKey: testKey, AppSecret: testSecret, Now: clk.now})
	h := s.Handler()
	alice := login(t, h, "alice@tenant1.test")

	s.FailFor("/broadcasting/auth", http.StatusServiceUnavailable, 30*time.Second, 0)
	a := call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil)
	if a.status != 503 || a.body["message"] != "Service Unavailable" || a.header.Get("Retry-After") != "" {
		t.Fatalf("503 outage: %d %s %v", a.status, a.raw, a.header)
	}
	if a := call(t, h, "GET", "/api/user", alice, nil, nil); a.status != 200 {
		t.Errorf("other routes during the outage: %d", a.status)
	}
	clk.add(30 * time.Second)
	if a := call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil); a.status != 200 {
		t.Fatalf("after the outage: %d %s", a.status, a.raw)
	}

	s.FailFor("/broadcasting/auth", http.StatusTooManyRequests, 10*time.Second, 4500*time.Millisecond)
	a = call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil)
	if a.status != 429 || a.body["message"] != "Too Many Attempts." || a.header.Get("Retry-After") != "5" ||
		a.header.Get("X-RateLimit-Remaining") != "0" || a.header.Get("X-RateLimit-Reset") == "" {
		t.Fatalf("429 outage: %d %s %v", a.status, a.raw, a.header)
	}
	s.FailFor("/broadcasting/auth", 0, 0, 0) // ended early
	if a := call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil); a.status != 200 {
		t.Fatalf("after ending the outage: %d", a.status)
	}

	// The same over HTTP hooks.
	if a := call(t, h, "POST", HookOutagePath, "", map[string]any{"path": "/broadcasting/auth", "status": 503, "seconds": 2, "retry_after": 7}, nil); a.status != 200 {
		t.Fatalf("outage hook: %d %s", a.status, a.raw)
	}
	if a := call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil); a.status != 503 || a.header.Get("Retry-After") != "7" {
		t.Fatalf("after the outage hook: %d %v", a.status, a.header)
	}
	if a := call(t, h, "POST", HookOutagePath, "", map[string]any{"status": 503}, nil); a.status != 422 {
		t.Errorf("outage hook without path: %d, want 422", a.status)
	}
	clk.add(2 * time.Second)
	if a := call(t, h, "POST", HookThrottlePath, "", map[string]any{"per_second": 1}, nil); a.status != 200 {
		t.Fatalf("throttle hook: %d %s", a.status, a.raw)
	}
	call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil)
	if a := call(t, h, "POST", "/broadcasting/auth", alice, authForm("private-user.1"), nil); a.status != 429 {
		t.Fatalf("after the throttle hook: %d, want 429", a.status)
	}
}

// TestThrottleWithRealtimeAuthorizer checks the answers against the
// project's own client: its HTTPAuthorizer reads the Retry-After of a 429
// and of a 503.
func TestThrottleWithRealtimeAuthorizer(t *testing.T) {
	s := StartConfigT(t, Config{AppKey: testKey, AppSecret: testSecret, AuthThrottle: Throttle{PerSecond: 1}})
	toks, err := s.IssueTokens(1)
	if err != nil {
		t.Fatal(err)
	}
	az := realtime.HTTPAuthorizer{
		Endpoint: s.URL() + "/broadcasting/auth",
		Header: func(context.Context) (http.Header, error) {
			return http.Header{"Authorization": {"Bearer " + toks[0]}}, nil
		},
	}
	ctx := context.Background()
	if _, err := az.Authorize(ctx, "1.2", "private-user.1"); err != nil {
		t.Fatalf("first: %v", err)
	}
	_, err = az.Authorize(ctx, "1.2", "private-user.1")
	var ae *realtime.AuthError
	if !errors.As(err, &ae) || ae.Status != 429 || ae.RetryAfter != time.Second {
		t.Fatalf("second within the second: %v (%+v), want 429 with RetryAfter 1s", err, ae)
	}
	s.SetThrottle(Throttle{})
	s.FailFor("/broadcasting/auth", 503, time.Minute, 30*time.Second)
	_, err = az.Authorize(ctx, "1.2", "private-user.1")
	if !errors.As(err, &ae) || ae.Status != 503 || ae.RetryAfter != 30*time.Second {
		t.Fatalf("during a 503 outage: %v (%+v), want 503 with RetryAfter 30s", err, ae)
	}
}

func TestDiscovery(t *testing.T) {
	s := New(Config{AppKey: testKey, AppSecret: testSecret, Discovery: Discovery{
		Host: "127.0.0.1", Port: 6001, Scheme: "http", Cluster: "mt1",
	}})
	a := call(t, s.Handler(), "GET", "/api/broadcasting/config", "", nil, nil)
	if a.status != 200 {
		t.Fatalf("discovery: %d %s", a.status, a.raw)
	}
	want := map[string]any{
		"key": testKey, "host": "127.0.0.1", "port": float64(6001), "scheme": "http",
		"cluster": "mt1", "path": "", "auth_endpoint": "http://example.com/broadcasting/auth",
	}
	for k, v := range want {
		if a.body[k] != v {
			t.Errorf("%s = %#v, want %#v (%s)", k, a.body[k], v, a.raw)
		}
	}
	if _, ok := a.body["secret"]; ok {
		t.Error("discovery leaks the secret")
	}
	// Unset fields are null, as the Laravel app answers them.
	bare := New(Config{AppKey: testKey, AppSecret: testSecret, Paths: Paths{BroadcastAuth: "/api/broadcasting/auth"},
		Discovery: Discovery{Key: "other-key", AuthEndpoint: ""}})
	a = call(t, bare.Handler(), "GET", "/api/broadcasting/config", "", nil, nil)
	if a.status != 200 || a.body["key"] != "other-key" || a.body["host"] != nil || a.body["port"] != nil ||
		a.body["auth_endpoint"] != "http://example.com/api/broadcasting/auth" {
		t.Errorf("bare discovery: %d %s", a.status, a.raw)
	}
	if a := call(t, bare.Handler(), "POST", "/api/broadcasting/config", "", nil, nil); a.status != 405 {
		t.Errorf("POST discovery: %d, want 405", a.status)
	}
	off := New(Config{AppKey: testKey, AppSecret: testSecret, NoDiscovery: true})
	if a := call(t, off.Handler(), "GET", "/api/broadcasting/config", "", nil, nil); a.status != 404 {
		t.Errorf("NoDiscovery: %d, want 404", a.status)
	}
}

func TestFleetUsersAndIssueTokens(t *testing.T) {
	users := FleetUsers(1000, 2000, 50, 10)
	if len(users) != 2000 {
		t.Fatalf("%d users", len(users))
	}
	admins, tenantAdmins := 0, 0
	for _, u := range users {
		switch {
		case u.IsSystemAdmin():
			admins++
		case u.Role == RoleTenantAdmin:
			tenantAdmins++
		}
	}
	if admins != 200 || tenantAdmins != 50 {
		t.Errorf("admins %d, tenant admins %d; want 200, 50", admins, tenantAdmins)
	}
	s := New(Config{AppKey: testKey, AppSecret: testSecret, Users: append(DefaultUsers(), users...)})
	h := s.Handler()
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	start := time.Now()
	toks, err := s.IssueTokens(ids...)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("issuing 2,000 tokens took %s", d)
	}
	if s.Tokens() != 2000 {
		t.Errorf("Tokens = %d", s.Tokens())
	}
	// An admin may join private-system.admin, staff their tenant's channel.
	admin, staff := users[9], users[0]
	if a := call(t, h, "POST", "/broadcasting/auth", toks[9], authForm("private-system.admin"), nil); a.status != 200 || !admin.IsSystemAdmin() {
		t.Errorf("fleet admin on private-system.admin: %d", a.status)
	}
	if a := call(t, h, "POST", "/broadcasting/auth", toks[0], authForm("private-user."+strconv.FormatInt(staff.ID, 10)), nil); a.status != 200 {
		t.Errorf("fleet staff on own user channel: %d", a.status)
	}
	if a := call(t, h, "POST", "/broadcasting/auth", toks[0], authForm("private-system.admin"), nil); a.status != 403 {
		t.Errorf("fleet staff on private-system.admin: %d, want 403", a.status)
	}
	// Login works too, by the generated email.
	login(t, h, staff.Email)
	if _, err := s.IssueTokens(999_999); err == nil {
		t.Error("IssueTokens for an unknown id succeeded")
	}
}
