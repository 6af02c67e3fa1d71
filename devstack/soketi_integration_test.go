//go:build integration

package devstack_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"

	"echotray/devstack"
	"echotray/devstack/laravel"
	"echotray/devstack/publish"
)

// stack starts Soketi and a stand-in that signs with Soketi's credentials.
func stack(t *testing.T) (*devstack.Soketi, *laravel.Server, api) {
	t.Helper()
	s := devstack.StartSoketiT(t)
	l := laravel.StartT(t, s.Key, s.Secret)
	return s, l, api{t: t, base: l.URL()}
}

func TestSoketiAcceptsStandInSignaturesAndPublisherEvents(t *testing.T) {
	s, _, a := stack(t)
	ctx := context.Background()
	tok := a.login("alice@tenant1.test", "password")
	c := dial(t, s)

	status, m := a.auth(tok, c.socketID, "private-user.1")
	if status != http.StatusOK {
		t.Fatalf("auth private-user.1 = %d %v", status, m)
	}
	c.subscribe("private-user.1", m["auth"].(string), "")
	if f := c.subscribeResult("private-user.1"); f.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("Soketi refused the stand-in's signature: %+v %s", f, f.Data)
	}
	c.subscribe("tenant.1", "", "")
	if f := c.subscribeResult("tenant.1"); f.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("public subscription: %+v", f)
	}

	pub := s.Publisher()
	payload := map[string]any{"user": map[string]any{"id": 1, "name": "Alice Wanjiru"}, "event_id": "e-1"}
	if err := pub.Trigger(ctx, []string{"private-user.1"}, `App\Events\PasswordChanged`, payload, ""); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	f := c.expect(`App\Events\PasswordChanged`, "private-user.1")
	if got, want := unquote(t, f.Data), `{"event_id":"e-1","user":{"id":1,"name":"Alice Wanjiru"}}`; got != want {
		t.Errorf("data = %s, want the JSON string %s", got, want)
	}

	// A bare broadcastAs name and pre-encoded data go through unchanged.
	if err := pub.Trigger(ctx, []string{"tenant.1"}, "PaymentCompleted", `{"payment":{"amount":150}}`, ""); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	f = c.expect("PaymentCompleted", "tenant.1")
	if got := unquote(t, f.Data); got != `{"payment":{"amount":150}}` {
		t.Errorf("data = %s", got)
	}

	// socket_id excludes the sender (toOthers()): the next event is the one seen.
	if err := pub.Trigger(ctx, []string{"tenant.1"}, "Excluded", `{}`, c.socketID); err != nil {
		t.Fatalf("trigger with socket_id: %v", err)
	}
	if err := pub.Trigger(ctx, []string{"tenant.1"}, "After", `{}`, ""); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	if f := c.read(); f.Event != "After" {
		t.Errorf("got %s, want the excluded event skipped and After next", f.Event)
	}

	occupied, err := pub.Channels(ctx, "")
	if err != nil {
		t.Fatalf("channels: %v", err)
	}
	if _, ok := occupied["private-user.1"]; !ok {
		t.Errorf("occupied channels %v lack private-user.1", occupied)
	}
}

func TestSoketiRefusesWrongChannelSignatures(t *testing.T) {
	s, _, a := stack(t)
	tok := a.login("alice@tenant1.test", "password")
	other := dial(t, s)

	cases := []struct {
		name string
		auth func(socketID string) string
	}{
		{"wrong secret", func(id string) string {
			return publish.ChannelAuth(s.Key, s.Secret+"x", id, "private-user.1", "")
		}},
		{"wrong key", func(id string) string {
			return publish.ChannelAuth("other-key", s.Secret, id, "private-user.1", "")
		}},
		{"another channel's signature", func(id string) string {
			return publish.ChannelAuth(s.Key, s.Secret, id, "private-user.2", "")
		}},
		{"another socket's signature", func(string) string {
			_, m := a.auth(tok, other.socketID, "private-user.1")
			return m["auth"].(string)
		}},
		{"tampered hex", func(id string) string {
			good := publish.ChannelAuth(s.Key, s.Secret, id, "private-user.1", "")
			last := "0"
			if strings.HasSuffix(good, "0") {
				last = "1"
			}
			return good[:len(good)-1] + last
		}},
		{"no signature", func(string) string { return s.Key + ":" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			auth := tc.auth(c.socketID)
			c.subscribe("private-user.1", auth, "")
			f := c.subscribeResult("private-user.1")
			if f.Event == "pusher_internal:subscription_succeeded" {
				t.Fatalf("Soketi accepted the bad signature %q", auth)
			}
			t.Logf("refused with %s %s", f.Event, f.Data)
		})
	}
	// The stand-in's signature for the same socket is accepted.
	c := dial(t, s)
	_, m := a.auth(tok, c.socketID, "private-user.1")
	c.subscribe("private-user.1", m["auth"].(string), "")
	if f := c.subscribeResult("private-user.1"); f.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("good signature refused: %+v", f)
	}
}

func TestSoketiRefusesWronglySignedPublish(t *testing.T) {
	s := devstack.StartSoketiT(t)
	ctx := context.Background()
	good := s.Publisher()
	if err := good.Trigger(ctx, []string{"tenant.1"}, "Ok", map[string]int{"a": 1}, ""); err != nil {
		t.Fatalf("correctly signed publish refused: %v", err)
	}
	bad := []*publish.Publisher{
		{BaseURL: s.HTTPURL(), AppID: s.AppID, Key: s.Key, Secret: "not-the-secret"},
		{BaseURL: s.HTTPURL(), AppID: "999", Key: s.Key, Secret: s.Secret},
	}
	for i, p := range bad {
		err := p.Trigger(ctx, []string{"tenant.1"}, "Nope", map[string]int{"a": 1}, "")
		var apiErr *publish.APIError
		if !errors.As(err, &apiErr) || apiErr.Status < 400 || apiErr.Status > 499 {
			t.Errorf("publisher %d: err = %v, want a 4xx APIError", i, err)
			continue
		}
		if apiErr.Message == "" {
			t.Errorf("publisher %d: APIError without Soketi's message", i)
		}
	}
	// (Soketi does not check auth_key itself: it only enters the signed string.)

	// A body other than the one signed (body_md5) is refused.
	path := "/apps/" + s.AppID + "/events"
	signed := []byte(`{"name":"x","channels":["a"],"data":"{}"}`)
	q := url.Values{"auth_key": {s.Key}, "auth_timestamp": {"1700000000"}, "auth_version": {"1.0"}, "body_md5": {publish.BodyMD5(signed)}}
	q.Set("auth_signature", publish.SignQuery(s.Secret, "POST", path, q))
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{string(signed), true},
		{`{"name":"y","channels":["a"],"data":"{}"}`, false},
	} {
		resp, err := http.Post(s.HTTPURL()+path+"?"+q.Encode(), "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		refused := strings.Contains(string(raw), `"code":401`)
		if refused == tc.ok {
			t.Errorf("body %s: answer %d %s, want accepted=%v", tc.body, resp.StatusCode, raw, tc.ok)
		}
	}

	// Soketi validates the event: no data is a 4xx with its message.
	_, err := good.Do(ctx, http.MethodPost, "/apps/"+s.AppID+"/events", nil, []byte(`{"name":"x","channels":["a"]}`))
	var apiErr *publish.APIError
	if !errors.As(err, &apiErr) || apiErr.Status/100 != 4 {
		t.Errorf("publish without data: err = %v, want 4xx", err)
	}
}

func TestStandInAuthorisationOverHTTP(t *testing.T) {
	s, l, a := stack(t)
	alice := a.login("alice@tenant1.test", "password")
	admin := a.login("admin@echotray.test", "password")
	c := dial(t, s)

	cases := []struct {
		name    string
		token   string
		channel string
		want    int
	}{
		{"own user channel", alice, "private-user.1", 200},
		{"another user's channel", alice, "private-user.2", 403},
		{"non-admin on system.admin", alice, "private-system.admin", 403},
		{"admin on system.admin", admin, "private-system.admin", 200},
		{"admin's own channel", admin, "private-user.3", 200},
		{"own tenant presence", alice, "presence-tenant.1", 200},
		{"other tenant presence", alice, "presence-tenant.2", 403},
		{"bad token", "1|nonsense", "private-user.1", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, m := a.auth(tc.token, c.socketID, tc.channel)
			if status != tc.want {
				t.Fatalf("status = %d %v, want %d", status, m, tc.want)
			}
			if status == 401 && m["message"] != "Unauthenticated." {
				t.Errorf("401 body = %v", m)
			}
			if status != 200 {
				return
			}
			cd, _ := m["channel_data"].(string)
			c.subscribe(tc.channel, m["auth"].(string), cd)
			if f := c.subscribeResult(tc.channel); f.Event != "pusher_internal:subscription_succeeded" {
				t.Fatalf("Soketi refused the stand-in's answer %v: %+v %s", m, f, f.Data)
			}
		})
	}

	// Revoked and logged-out tokens get 401.
	bob := a.login("bob@tenant2.test", "password")
	if status, _ := a.do("POST", "/api/logout", bob, nil, nil, "application/json"); status != 200 {
		t.Fatalf("logout = %d", status)
	}
	if status, _ := a.auth(bob, c.socketID, "private-user.2"); status != 401 {
		t.Errorf("auth after logout = %d, want 401", status)
	}
	if status, m := a.do("POST", laravel.HookRevokePath, "", nil, nil, ""); status != 200 || m["revoked"] != float64(2) {
		t.Fatalf("revoke hook = %d %v, want 2 revoked", status, m)
	}
	if l.Tokens() != 0 {
		t.Errorf("Tokens() = %d after revoke", l.Tokens())
	}
	if status, _ := a.auth(alice, c.socketID, "private-user.1"); status != 401 {
		t.Errorf("auth after revoke = %d, want 401", status)
	}
	if status, _ := a.do("GET", "/api/user", admin, nil, nil, "application/json"); status != 401 {
		t.Errorf("user after revoke = %d, want 401", status)
	}
}

func TestTwoSoketisAtOnce(t *testing.T) {
	ctx := context.Background()
	s1 := devstack.StartSoketiT(t)
	s2 := devstack.StartSoketiT(t)
	if s1.Port == s2.Port || s1.Key == s2.Key || s1.Secret == s2.Secret {
		t.Fatalf("instances share port or credentials: %+v %+v", s1, s2)
	}
	c1, c2 := dial(t, s1), dial(t, s2)
	for _, c := range []*wsClient{c1, c2} {
		c.subscribe("tenant.1", "", "")
		if f := c.subscribeResult("tenant.1"); f.Event != "pusher_internal:subscription_succeeded" {
			t.Fatalf("subscribe: %+v", f)
		}
	}
	if err := s1.Publisher().Trigger(ctx, []string{"tenant.1"}, "One", "{}", ""); err != nil {
		t.Fatal(err)
	}
	if err := s2.Publisher().Trigger(ctx, []string{"tenant.1"}, "Two", "{}", ""); err != nil {
		t.Fatal(err)
	}
	if f := c1.read(); f.Event != "One" {
		t.Errorf("instance 1 got %s", f.Event)
	}
	if f := c2.read(); f.Event != "Two" {
		t.Errorf("instance 2 got %s", f.Event)
	}
	// Fixed port already taken: a clear error, not a silently shared port.
	_, err := devstack.StartSoketi(ctx, devstack.SoketiOptions{Port: s1.Port})
	if err == nil || !strings.Contains(err.Error(), "not free") {
		t.Errorf("start on a used port: err = %v", err)
	}
}

func TestStopKillRestart(t *testing.T) {
	ctx := context.Background()
	s := devstack.StartSoketiT(t)

	// Stop: clients get pusher:error 4200 and close code 4200.
	c := dial(t, s)
	pid := s.PID()
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if code := c.closeCode(); code != 4200 {
		t.Errorf("close code on Stop = %d, want 4200", code)
	}
	assertGone(t, pid)
	if s.Running() {
		t.Error("Running() after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	// Restart: same port and credentials.
	port, key := s.Port, s.Key
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if s.Port != port || s.Key != key || !s.Running() {
		t.Fatalf("restart changed the address or is not running: %+v", s)
	}
	c = dial(t, s)
	if err := s.Publisher().Trigger(ctx, []string{"tenant.1"}, "X", "{}", ""); err != nil {
		t.Fatalf("publish after restart: %v", err)
	}

	// Kill: an abrupt drop, no close frame.
	pid = s.PID()
	if err := s.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if code := c.closeCode(); code != websocket.CloseAbnormalClosure {
		t.Errorf("close code on Kill = %d, want 1006", code)
	}
	assertGone(t, pid)
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("restart after kill: %v", err)
	}
	dial(t, s)
}

// assertGone checks that no process of Soketi's process group is left.
func assertGone(t *testing.T, pgid int) {
	t.Helper()
	if pgid <= 0 {
		t.Fatalf("no pid")
	}
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists (kill -0: %v)", pgid, err)
	}
}

func TestStartSoketiFixedCredentials(t *testing.T) {
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := devstack.StartSoketiOptsT(t, devstack.SoketiOptions{Port: port, AppID: "local-id", Key: "local-key", Secret: "local-secret"})
	if s.Port != port || s.AppID != "local-id" || s.Key != "local-key" || s.Secret != "local-secret" {
		t.Fatalf("options not applied: %+v", s)
	}
	if !strings.HasSuffix(s.HTTPURL(), ":"+strconv.Itoa(port)) {
		t.Errorf("HTTPURL = %s", s.HTTPURL())
	}
	if err := s.Publisher().Trigger(context.Background(), []string{"tenant.1"}, "X", "{}", ""); err != nil {
		t.Fatal(err)
	}
}
