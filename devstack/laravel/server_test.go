package laravel

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"echotray/devstack/publish"
)

const (
	testKey    = "local-key"
	testSecret = "local-secret"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends one request to h. body is JSON-encoded unless it is url.Values
// (form) or nil.
func call(t *testing.T, h http.Handler, method, path, token string, body any, header map[string]string) answer {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		raw, _ := json.Marshal(b)
		rd, ct = strings.NewReader(string(raw)), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	_ = json.Unmarshal(rec.Body.Bytes(), &a.body)
	return a
}

func login(t *testing.T, h http.Handler, email string) string {
	t.Helper()
	a := call(t, h, "POST", "/api/login", "", map[string]string{"email": email, "password": "password"}, nil)
	tok, _ := a.body["token"].(string)
	if a.status != 200 || tok == "" {
		t.Fatalf("login %s: %d %s", email, a.status, a.raw)
	}
	return tok
}

func TestDefaultUsers(t *testing.T) {
	users := DefaultUsers()
	want := map[string]struct {
		tenant int64 // 0: none
		admin  bool
	}{
		"alice@tenant1.test":  {1, false},
		"bob@tenant2.test":    {2, false},
		"admin@echotray.test": {0, true},
		"carol@tenant1.test":  {1, false},
	}
	if len(users) != len(want) {
		t.Fatalf("%d users, want %d", len(users), len(want))
	}
	ids := map[int64]bool{}
	for _, u := range users {
		w, ok := want[u.Email]
		if !ok {
			t.Fatalf("unexpected user %s", u.Email)
		}
		tenant, has := u.Tenant()
		if has != (w.tenant != 0) || tenant != w.tenant || u.IsSystemAdmin() != w.admin || u.Password != "password" {
			t.Errorf("%s: tenant %d/%v admin %v", u.Email, tenant, has, u.IsSystemAdmin())
		}
		if ids[u.ID] {
			t.Errorf("duplicate id %d", u.ID)
		}
		ids[u.ID] = true
	}
	users[0].TenantID = nil
	if DefaultUsers()[0].TenantID == nil {
		t.Error("DefaultUsers shares state between calls")
	}
}

func TestLogin(t *testing.T) {
	h := New(Config{AppKey: testKey, AppSecret: testSecret}).Handler()

	a := call(t, h, "POST", "/api/login", "", map[string]string{"email": "Alice@Tenant1.test", "password": "password"}, nil)
	if a.status != 200 || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("login: %d %s", a.status, a.raw)
	}
	tok, _ := a.body["token"].(string)
	if !strings.Contains(tok, "|") || len(tok) < 40 {
		t.Errorf("token %q is not Sanctum-shaped", tok)
	}
	user := a.body["user"].(map[string]any)
	if user["id"] != float64(1) || user["name"] != "Alice Wanjiru" || user["email"] != "alice@tenant1.test" ||
		user["tenant_id"] != float64(1) || user["role"] != "tenant_admin" {
		t.Errorf("user = %v", user)
	}
	if _, leaked := user["password"]; leaked || strings.Contains(a.raw, `"password"`) {
		t.Error("the password appears in the answer")
	}

	a = call(t, h, "POST", "/api/login", "", url.Values{"email": {"admin@echotray.test"}, "password": {"password"}}, nil)
	if a.status != 200 {
		t.Fatalf("form login: %d %s", a.status, a.raw)
	}
	admin := a.body["user"].(map[string]any)
	if v, present := admin["tenant_id"]; !present || v != nil || admin["role"] != "system_admin" {
		t.Errorf("admin = %v, want tenant_id null", admin)
	}

	tests := []struct {
		name   string
		body   any
		status int
		msg    string
		field  string
	}{
		{"wrong password", map[string]string{"email": "alice@tenant1.test", "password": "nope"}, 401, "Invalid credentials.", ""},
		{"unknown user", map[string]string{"email": "who@x.test", "password": "password"}, 401, "Invalid credentials.", ""},
		{"no email", map[string]string{"password": "password"}, 422, "The email field is required.", "email"},
		{"bad email", map[string]string{"email": "alice", "password": "x"}, 422, "The email field must be a valid email address.", "email"},
		{"nothing", map[string]string{}, 422, "The email field is required. (and 1 more error)", "password"},
		{"malformed JSON", `{"email":`, 422, "The email field is required. (and 1 more error)", "email"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, h, "POST", "/api/login", "", tc.body, nil)
			if a.status != tc.status || a.body["message"] != tc.msg {
				t.Fatalf("= %d %s, want %d %q", a.status, a.raw, tc.status, tc.msg)
			}
			if tc.field != "" {
				errs, _ := a.body["errors"].(map[string]any)
				if _, ok := errs[tc.field]; !ok {
					t.Errorf("errors %v lack %s", errs, tc.field)
				}
			}
		})
	}

	h422 := New(Config{AppKey: testKey, AppSecret: testSecret, BadCredentialsStatus: 422}).Handler()
	a = call(t, h422, "POST", "/api/login", "", map[string]string{"email": "alice@tenant1.test", "password": "nope"}, nil)
	if a.status != 422 || a.body["message"] != "These credentials do not match our records." {
		t.Errorf("422 style: %d %s", a.status, a.raw)
	}
	if a := call(t, h, "GET", "/api/login", "", nil, nil); a.status != 405 || !strings.Contains(a.body["message"].(string), "GET method is not supported") {
		t.Errorf("GET /api/login = %d %s", a.status, a.raw)
	}
	if a := call(t, h, "GET", "/api/nothing", "", nil, nil); a.status != 404 || a.body["message"] != "The route api/nothing could not be found." {
		t.Errorf("404 = %d %s", a.status, a.raw)
	}
}

func TestShapes(t *testing.T) {
	s := New(Config{AppKey: testKey, AppSecret: testSecret, Shape: Shape{AccessToken: true}, TokenTTL: time.Hour})
	h := s.Handler()
	creds := map[string]string{"email": "bob@tenant2.test", "password": "password"}
	a := call(t, h, "POST", "/api/login", "", creds, nil)
	tok, _ := a.body["access_token"].(string)
	if a.status != 200 || tok == "" || a.body["token_type"] != "Bearer" || a.body["expires_in"] != float64(3600) || a.body["token"] != nil {
		t.Fatalf("access_token shape: %s", a.raw)
	}

	s.SetShape(Shape{WrapLogin: true, WrapUser: true})
	a = call(t, h, "POST", "/api/login", "", creds, nil)
	data, _ := a.body["data"].(map[string]any)
	if data == nil || data["token"] == nil || a.body["success"] != true {
		t.Fatalf("wrapped login: %s", a.raw)
	}
	u, _ := data["user"].(map[string]any)
	if inner, _ := u["data"].(map[string]any); inner["email"] != "bob@tenant2.test" {
		t.Errorf("wrapped user in login: %s", a.raw)
	}
	a = call(t, h, "GET", "/api/user", tok, nil, nil)
	if inner, _ := a.body["data"].(map[string]any); a.status != 200 || inner["id"] != float64(2) {
		t.Errorf("wrapped /api/user: %d %s", a.status, a.raw)
	}
}

func TestUserLogoutAndTokens(t *testing.T) {
	s := New(Config{AppKey: testKey, AppSecret: testSecret})
	h := s.Handler()
	tok := login(t, h, "carol@tenant1.test")
	tok2 := login(t, h, "carol@tenant1.test")
	if s.Tokens() != 2 || tok == tok2 {
		t.Fatalf("Tokens() = %d after two logins (tokens equal: %v)", s.Tokens(), tok == tok2)
	}
	a := call(t, h, "GET", "/api/user", tok, nil, nil)
	if a.status != 200 || a.body["email"] != "carol@tenant1.test" || a.body["role"] != "staff" {
		t.Fatalf("/api/user: %d %s", a.status, a.raw)
	}
	for name, hdr := range map[string]map[string]string{
		"bad token":      {"Authorization": "Bearer 9|nope"},
		"no header":      nil,
		"basic scheme":   {"Authorization": "Basic " + tok},
		"empty bearer":   {"Authorization": "Bearer "},
		"lower-case ok?": {"Authorization": "bearer nope"},
	} {
		if a := call(t, h, "GET", "/api/user", "", nil, hdr); a.status != 401 || a.body["message"] != "Unauthenticated." {
			t.Errorf("%s: %d %s", name, a.status, a.raw)
		}
	}
	if a := call(t, h, "GET", "/api/user", "", nil, map[string]string{"Authorization": "bearer " + tok}); a.status != 200 {
		t.Errorf("lower-case bearer scheme refused: %d", a.status)
	}

	if a := call(t, h, "POST", "/api/logout", tok, nil, nil); a.status != 200 {
		t.Fatalf("logout: %d %s", a.status, a.raw)
	}
	if s.Tokens() != 1 {
		t.Errorf("Tokens() = %d after logout, want 1", s.Tokens())
	}
	if a := call(t, h, "GET", "/api/user", tok, nil, nil); a.status != 401 {
		t.Errorf("logged-out token: %d", a.status)
	}
	if a := call(t, h, "POST", "/api/logout", tok, nil, nil); a.status != 401 {
		t.Errorf("second logout: %d", a.status)
	}
	s.RevokeAll()
	if s.Tokens() != 0 {
		t.Errorf("Tokens() = %d after RevokeAll", s.Tokens())
	}
	if a := call(t, h, "GET", "/api/user", tok2, nil, nil); a.status != 401 {
		t.Errorf("revoked token: %d", a.status)
	}
}

func TestTokenTTL(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := New(Config{AppKey: testKey, AppSecret: testSecret, TokenTTL: time.Minute, Now: clock})
	h := s.Handler()
	tok := login(t, h, "alice@tenant1.test")
	mu.Lock()
	now = now.Add(59 * time.Second)
	mu.Unlock()
	if a := call(t, h, "GET", "/api/user", tok, nil, nil); a.status != 200 {
		t.Fatalf("before expiry: %d", a.status)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if s.Tokens() != 0 {
		t.Errorf("Tokens() = %d after expiry", s.Tokens())
	}
	if a := call(t, h, "GET", "/api/user", tok, nil, nil); a.status != 401 || a.body["message"] != "Unauthenticated." {
		t.Errorf("after expiry: %d %s", a.status, a.raw)
	}
}

func TestBroadcastAuth(t *testing.T) {
	h := New(Config{AppKey: testKey, AppSecret: testSecret}).Handler()
	alice := login(t, h, "alice@tenant1.test")
	bob := login(t, h, "bob@tenant2.test")
	admin := login(t, h, "admin@echotray.test")
	const sock = "1234.5678"

	tests := []struct {
		name, token, channel string
		status               int
	}{
		{"own user channel", alice, "private-user.1", 200},
		{"another user's channel", alice, "private-user.2", 403},
		{"bob's own", bob, "private-user.2", 200},
		{"non-admin on system.admin", alice, "private-system.admin", 403},
		{"admin on system.admin", admin, "private-system.admin", 200},
		{"admin's user channel", admin, "private-user.3", 200},
		{"admin on another user's channel", admin, "private-user.1", 403},
		{"own tenant, private", alice, "private-tenant.1", 200},
		{"other tenant, private", alice, "private-tenant.2", 403},
		{"admin has no tenant", admin, "private-tenant.1", 403},
		{"unknown channel", alice, "private-orders.1", 403},
		{"malformed id", alice, "private-user.one", 403},
		{"encrypted", alice, "private-encrypted-user.1", 403},
		{"no channel", alice, "", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, h, "POST", "/broadcasting/auth", tc.token, url.Values{"socket_id": {sock}, "channel_name": {tc.channel}}, nil)
			if a.status != tc.status {
				t.Fatalf("= %d %s, want %d", a.status, a.raw, tc.status)
			}
			switch a.status {
			case 200:
				if want := publish.ChannelAuth(testKey, testSecret, sock, tc.channel, ""); a.body["auth"] != want {
					t.Errorf("auth = %v, want %s", a.body["auth"], want)
				}
				if _, ok := a.body["channel_data"]; ok {
					t.Errorf("private channel answered channel_data: %s", a.raw)
				}
			case 403:
				if msg, ok := a.body["message"]; !ok || msg != "" {
					t.Errorf("403 body = %s, want Laravel's {\"message\":\"\"}", a.raw)
				}
			}
		})
	}

	// Presence: channel_data as PHP's json_encode makes it, and signed.
	a := call(t, h, "POST", "/broadcasting/auth", alice, url.Values{"socket_id": {sock}, "channel_name": {"presence-tenant.1"}}, nil)
	cd, _ := a.body["channel_data"].(string)
	if a.status != 200 || cd != `{"user_id":1,"user_info":{"id":1,"name":"Alice Wanjiru"}}` {
		t.Fatalf("presence: %d %s", a.status, a.raw)
	}
	if want := publish.ChannelAuth(testKey, testSecret, sock, "presence-tenant.1", cd); a.body["auth"] != want {
		t.Errorf("presence auth = %v, want %s", a.body["auth"], want)
	}

	// GET and a JSON body work too, like Laravel's route and $request->input.
	if a := call(t, h, "GET", "/broadcasting/auth?socket_id=1.2&channel_name=private-user.1", alice, nil, nil); a.status != 200 {
		t.Errorf("GET: %d %s", a.status, a.raw)
	}
	if a := call(t, h, "POST", "/broadcasting/auth", alice, map[string]string{"socket_id": "1.2", "channel_name": "private-user.1"}, nil); a.status != 200 {
		t.Errorf("JSON body: %d %s", a.status, a.raw)
	}

	// A bad socket id is pusher-php-server's exception: 500.
	for _, id := range []string{"", "abc", "1.2.3", "1.2\n"} {
		a := call(t, h, "POST", "/broadcasting/auth", alice, url.Values{"socket_id": {id}, "channel_name": {"private-user.1"}}, nil)
		if a.status != 500 || !strings.HasPrefix(a.body["message"].(string), "Invalid socket ID") {
			t.Errorf("socket id %q: %d %s", id, a.status, a.raw)
		}
	}
}

func TestBroadcastAuthUnauthenticated(t *testing.T) {
	h := New(Config{AppKey: testKey, AppSecret: testSecret}).Handler()
	form := url.Values{"socket_id": {"1.2"}, "channel_name": {"private-user.1"}}
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"Accept JSON", map[string]string{"Authorization": "Bearer 1|bad"}, 401},
		{"Accept vendor JSON", map[string]string{"Accept": "application/vnd.api+json"}, 401},
		{"XHR accepting anything", map[string]string{"Accept": "*/*", "X-Requested-With": "XMLHttpRequest"}, 401},
		{"no Accept: redirect to login", map[string]string{"Accept": ""}, 302},
		{"HTML first", map[string]string{"Accept": "text/html, application/json"}, 302},
		{"plain */*", map[string]string{"Accept": "*/*"}, 302},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, h, "POST", "/broadcasting/auth", "", form, tc.header)
			if a.status != tc.status {
				t.Fatalf("= %d %s, want %d", a.status, a.raw, tc.status)
			}
			if tc.status == 401 && a.body["message"] != "Unauthenticated." {
				t.Errorf("body %s", a.raw)
			}
			if tc.status == 302 && a.header.Get("Location") != "/login" {
				t.Errorf("Location = %q", a.header.Get("Location"))
			}
		})
	}
	if a := call(t, h, "GET", "/login", "", nil, nil); a.status != 200 || !strings.Contains(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("login page: %d %s", a.status, a.header.Get("Content-Type"))
	}
}

func TestCustomPaths(t *testing.T) {
	s := New(Config{AppKey: testKey, AppSecret: testSecret, Paths: Paths{BroadcastAuth: "/api/broadcasting/auth", Login: "/api/v1/login"}})
	h := s.Handler()
	a := call(t, h, "POST", "/api/v1/login", "", map[string]string{"email": "alice@tenant1.test", "password": "password"}, nil)
	tok, _ := a.body["token"].(string)
	if a.status != 200 {
		t.Fatalf("custom login path: %d", a.status)
	}
	if a := call(t, h, "POST", "/api/broadcasting/auth", tok, url.Values{"socket_id": {"1.2"}, "channel_name": {"private-user.1"}}, nil); a.status != 200 {
		t.Errorf("custom auth path: %d %s", a.status, a.raw)
	}
	if a := call(t, h, "POST", "/broadcasting/auth", tok, url.Values{"socket_id": {"1.2"}, "channel_name": {"private-user.1"}}, nil); a.status != 404 {
		t.Errorf("default auth path still served: %d", a.status)
	}
}

func TestFailNextAndRequests(t *testing.T) {
	s := New(Config{AppKey: testKey, AppSecret: testSecret})
	h := s.Handler()
	tok := login(t, h, "alice@tenant1.test")
	form := url.Values{"socket_id": {"1.2"}, "channel_name": {"private-user.1"}}
	s.FailNext("/broadcasting/auth", 503, "")
	s.FailNext("/broadcasting/auth", 502, "<html>Bad Gateway</html>")
	s.FailNext("/broadcasting/auth", 200, `{"auth":"garbage"}`)

	a := call(t, h, "POST", "/broadcasting/auth", tok, form, nil)
	if a.status != 503 || a.body["message"] != "Service Unavailable" {
		t.Errorf("1st: %d %s", a.status, a.raw)
	}
	a = call(t, h, "POST", "/broadcasting/auth", tok, form, nil)
	if a.status != 502 || a.raw != "<html>Bad Gateway</html>" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("2nd: %d %s %s", a.status, a.header.Get("Content-Type"), a.raw)
	}
	a = call(t, h, "POST", "/broadcasting/auth", tok, form, nil)
	if a.status != 200 || a.body["auth"] != "garbage" {
		t.Errorf("3rd: %d %s", a.status, a.raw)
	}
	a = call(t, h, "POST", "/broadcasting/auth", tok, form, nil)
	if a.status != 200 || a.body["auth"] != publish.ChannelAuth(testKey, testSecret, "1.2", "private-user.1", "") {
		t.Errorf("after the queue: %d %s", a.status, a.raw)
	}
	if n := s.Requests("/broadcasting/auth"); n != 4 {
		t.Errorf("Requests = %d, want 4", n)
	}
	if n := s.Requests("/api/login"); n != 1 {
		t.Errorf("Requests(login) = %d, want 1", n)
	}
}

func TestHTTPHooksAndDelay(t *testing.T) {
	s := New(Config{AppKey: testKey, AppSecret: testSecret})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if base != s.URL() || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("URL %q / %q", base, s.URL())
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	post := func(path, ct, body string) (int, map[string]any) {
		resp, err := http.Post(base+path, ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if st, _ := post("/api/login", "application/json", `{"email":"bob@tenant2.test","password":"password"}`); st != 200 {
		t.Fatalf("login %d", st)
	}
	resp, err := http.Get(base + HookTokensPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if m["tokens"] != float64(1) {
		t.Errorf("tokens hook = %v", m)
	}
	if st, m := post(HookRevokePath, "", ""); st != 200 || m["revoked"] != float64(1) || s.Tokens() != 0 {
		t.Errorf("revoke hook = %d %v (Tokens %d)", st, m, s.Tokens())
	}
	if st, _ := post(HookFailPath, "application/json", `{"path":"/api/login","status":429,"body":"{\"message\":\"Too Many Attempts.\"}"}`); st != 200 {
		t.Fatalf("fail hook %d", st)
	}
	if st, m := post("/api/login", "application/json", `{}`); st != 429 || m["message"] != "Too Many Attempts." {
		t.Errorf("armed failure = %d %v", st, m)
	}
	if st, _ := post(HookFailPath, "application/json", `{"path":"/x"}`); st != 422 {
		t.Errorf("fail hook without status = %d", st)
	}

	// A delay longer than the client's patience: the client times out, and
	// removing the delay restores normal answers.
	s.SetDelay("/api/user", time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/user", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("delayed request err = %v, want deadline exceeded", err)
	}
	s.SetDelay("/api/user", 0)
	resp, err = http.Get(base + "/api/user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("after the delay: %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseEndsDelayedRequests(t *testing.T) {
	s := New(Config{AppKey: testKey, AppSecret: testSecret})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.SetDelay("/api/user", time.Hour)
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "/api/user")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for s.Requests("/api/user") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("request never arrived")
		}
		time.Sleep(5 * time.Millisecond) // polling a real server with a deadline
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a delayed request hanging")
	}
}

func TestPHPJSON(t *testing.T) {
	got := phpJSON(map[string]any{"user_id": 7, "user_info": map[string]any{"name": "Zoë/Ann 😀 <b>&"}})
	want := `{"user_id":7,"user_info":{"name":"Zo\u00eb\/Ann \ud83d\ude00 <b>&"}}`
	if got != want {
		t.Errorf("phpJSON = %s\nwant       %s", got, want)
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil || back["user_info"].(map[string]any)["name"] != "Zoë/Ann 😀 <b>&" {
		t.Errorf("round trip: %v %v", back, err)
	}
}
