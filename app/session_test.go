package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

func TestSessionLoginStoresTokenOnlyInKeyring(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	s := env.session()
	u, err := s.Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw"})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "5" || !s.SignedIn() || s.SessionOnly() {
		t.Fatalf("user %+v signedIn %v", u, s.SignedIn())
	}
	token, err := keyring.Get("echotray", "tina@example.com")
	if err != nil || !strings.HasPrefix(token, "tok-") {
		t.Fatalf("keyring has %q, %v", token, err)
	}
	f := env.cfg.File()
	if f.Server != b.URL() || f.Email != "tina@example.com" {
		t.Errorf("config file: server %q email %q", f.Server, f.Email)
	}
	raw, _ := os.ReadFile(env.cfg.Path())
	if strings.Contains(string(raw), token) {
		t.Fatal("token written to the config file")
	}
	if strings.Contains(env.logBuf.String(), token) || strings.Contains(env.logBuf.String(), "secret-pw") {
		t.Fatalf("secret in the log:\n%s", env.logBuf.String())
	}
	h, err := s.Header(context.Background())
	if err != nil || h.Get("Authorization") != "Bearer "+token {
		t.Errorf("header %v %v", h, err)
	}
}

func TestSessionRestore(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	if _, err := env.session().Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw"}); err != nil {
		t.Fatal(err)
	}
	// A new process: a fresh session restores from the keyring.
	s := env.session()
	u, err := s.Restore(context.Background())
	if err != nil || u.ID != "5" || u.TenantID != "7" {
		t.Fatalf("Restore = %+v, %v", u, err)
	}
	if got, ok := s.User(); !ok || got != u {
		t.Errorf("User() = %+v %v", got, ok)
	}
	// Revoked on the server: 401 → token deleted, session expired.
	b.revokeAll()
	s2 := env.session()
	if _, err := s2.Restore(context.Background()); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("Restore after revoke = %v, want ErrSessionExpired", err)
	}
	if err := ErrSessionExpired.Error(); err != "Session expired, please sign in again" {
		t.Errorf("expired text %q", err)
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("expired token still in keyring: %v", err)
	}
	if _, err := env.session().Restore(context.Background()); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("Restore with no token = %v, want ErrNotSignedIn", err)
	}
}

func TestSessionRestoreKeepsTokenWhenServerDown(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	if _, err := env.session().Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw"}); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.failStatus = 503
	b.mu.Unlock()
	_, err := env.session().Restore(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindServer {
		t.Fatalf("err = %v, want a server APIError", err)
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); err != nil {
		t.Fatalf("a server problem must not delete the token: %v", err)
	}
}

func TestSessionLogout(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	s := env.session()
	if _, err := s.Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b.tokenCount() != 0 || b.stat(&b.logouts) != 1 {
		t.Errorf("server still has %d tokens, %d logouts", b.tokenCount(), b.stat(&b.logouts))
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("token still in keyring: %v", err)
	}
	if s.SignedIn() {
		t.Error("still signed in")
	}
	if err := env.session().Logout(context.Background()); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("second logout = %v, want ErrNotSignedIn", err)
	}
}

func TestSessionLogoutServerUnreachableStillDeletes(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	if _, err := env.session().Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw"}); err != nil {
		t.Fatal(err)
	}
	b.srv.Close()
	err := env.session().Logout(context.Background()) // a fresh process: token from the keyring
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindUnreachable {
		t.Fatalf("err = %v, want unreachable", err)
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("token still in keyring: %v", err)
	}
}

func TestSessionLoginWrongPassword(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	_, err := env.session().Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "nope"})
	if err == nil || err.Error() != "These credentials do not match our records." {
		t.Fatalf("err = %v", err)
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatal("a failed login stored a token")
	}
	if env.cfg.File().Email != "" {
		t.Error("a failed login saved the e-mail")
	}
}

func TestSessionKeyringUnavailable(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	keyring.MockInitWithError(errors.New("Cannot autolaunch D-Bus without X11 $DISPLAY"))
	defer keyring.MockInit()
	s := env.session()
	_, err := s.Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw"})
	if !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("err = %v, want ErrKeyringUnavailable", err)
	}
	if b.stat(&b.logins) != 0 {
		t.Error("the server was contacted although the token could not be kept")
	}
	// The user agreed to a session-only sign-in.
	u, err := s.Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw", SessionOnly: true})
	if err != nil || u.ID != "5" || !s.SessionOnly() {
		t.Fatalf("session-only login = %+v, %v", u, err)
	}
	if _, err := s.Header(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Restore in the same process keeps using the memory token.
	if _, err := s.Restore(context.Background()); err != nil {
		t.Fatalf("Restore of a session-only sign-in = %v", err)
	}
	keyring.MockInit()
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatal("a session-only token reached the keyring")
	}
	if err := s.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b.tokenCount() != 0 || s.SignedIn() {
		t.Error("session-only logout left a token")
	}
}

func TestSessionSecondLoginEndsFirst(t *testing.T) {
	b := newFakeBackend(t, tenantUser(), adminUser())
	env := newTestEnv(t, "", nil)
	if _, err := env.session().Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw"}); err != nil {
		t.Fatal(err)
	}
	u, err := env.session().Login(context.Background(), LoginRequest{Server: b.URL(), Email: "ada@example.com", Password: "admin-pw"})
	if err != nil || !u.IsSystemAdmin() {
		t.Fatalf("second login %+v %v", u, err)
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Error("the first account's token is still stored")
	}
	if b.tokenCount() != 1 {
		t.Errorf("server has %d tokens, want only the new one", b.tokenCount())
	}
	if env.cfg.File().Email != "ada@example.com" {
		t.Error("config e-mail not switched")
	}
}

func TestSessionLoginValidation(t *testing.T) {
	env := newTestEnv(t, "", nil)
	s := env.session()
	for _, req := range []LoginRequest{
		{Server: "http://x", Password: "p"},
		{Server: "http://x", Email: "a@b"},
		{Server: "", Email: "a@b", Password: "p"},
		{Server: "localhost:8000", Email: "a@b", Password: "p"},
	} {
		if _, err := s.Login(context.Background(), req); err == nil {
			t.Errorf("Login(%+v) accepted", req)
		}
	}
}

// countingKeyring fails every call as a keyring without Secret Service
// does, and counts the calls.
type countingKeyring struct{ calls int }

func (c *countingKeyring) Get(string, string) (string, error) {
	c.calls++
	return "", errors.New("org.freedesktop.secrets not provided")
}
func (c *countingKeyring) Set(string, string, string) error {
	c.calls++
	return errors.New("no keyring")
}
func (c *countingKeyring) Delete(string, string) error { c.calls++; return errors.New("no keyring") }

func TestSessionOnlyLoginLeavesKeyringAlone(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	ck := &countingKeyring{}
	env.secrets.backend = ck // a hanging keyring would cost its timeout per call
	s := env.session()
	if _, err := s.Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw", SessionOnly: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ck.calls != 0 {
		t.Errorf("a session-only sign-in and sign-out made %d keyring calls", ck.calls)
	}
}

// A 401 that arrives late, for a token the user has replaced by signing in
// again, must not end the new session.
func TestSessionLateExpiryOfReplacedToken(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	env := newTestEnv(t, "", nil)
	s := env.session()
	login := func() {
		t.Helper()
		if _, err := s.Login(context.Background(), LoginRequest{Server: b.URL(), Email: "tina@example.com", Password: "secret-pw"}); err != nil {
			t.Fatal(err)
		}
	}
	login()
	old := s.generation()
	login()
	newer, err := keyring.Get("echotray", "tina@example.com")
	if err != nil {
		t.Fatal(err)
	}
	s.expireGeneration(old)
	if !s.SignedIn() {
		t.Fatal("the expiry of the replaced token signed the new session out")
	}
	if got, err := keyring.Get("echotray", "tina@example.com"); err != nil || got != newer {
		t.Fatalf("keyring after a stale expiry: %v (same token: %v)", err, got == newer)
	}
	s.expireGeneration(s.generation())
	if s.SignedIn() {
		t.Fatal("the expiry of the current token left the session signed in")
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("expired token still in keyring: %v", err)
	}
}

func TestSessionLoginHalfFailedLeavesNoTokenAnywhere(t *testing.T) {
	env := newTestEnv(t, "", nil)
	b := newHalfFailingBackend(t, env.red)
	s := env.session()
	_, err := s.Login(context.Background(), LoginRequest{Server: b.srv.URL, Email: "tina@example.com", Password: "secret-pw"})
	if err == nil {
		t.Fatal("sign-in succeeded")
	}
	assertNoToken(t, "error", err.Error(), b.token)
	log := env.logBuf.String()
	assertNoToken(t, "log", log, b.token)
	if !strings.Contains(log, "sign-in failed") || !strings.Contains(log, "[REDACTED]") {
		t.Errorf("the failure is not logged (masked):\n%s", log)
	}
	b.mu.Lock()
	logouts := b.logouts
	b.mu.Unlock()
	if len(logouts) != 1 || logouts[0] != b.token {
		t.Errorf("logouts = %q, want the orphaned token revoked", logouts)
	}
	if s.SignedIn() {
		t.Error("signed in after a failed sign-in")
	}
	if env.red.Redact(b.token) != b.token || env.red.Redact("secret-pw") != "secret-pw" {
		t.Error("the token or the password is still registered after the sign-in")
	}
}

func TestSessionLoginMasksThePassword(t *testing.T) {
	const pw = "Tr0ub4dor&3|x"
	mux := http.NewServeMux()
	var echoed string
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Email, Password string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		// A careless backend: the password back in the message, in the
		// field errors, and URL-escaped.
		echoed = "Wrong password " + req.Password + " (" + url.QueryEscape(req.Password) + ")"
		writeJSON(w, 422, map[string]any{"message": echoed, "errors": map[string][]string{"password": {echoed}}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	env := newTestEnv(t, "", nil)
	s := env.session()
	// The password typed in the e-mail field too (it reaches the log).
	_, err := s.Login(context.Background(), LoginRequest{Server: srv.URL, Email: pw, Password: pw})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindValidation {
		t.Fatalf("err = %#v, want the 422", err)
	}
	if strings.Contains(err.Error(), "Tr0ub4dor") || strings.Contains(ae.Fields["password"][0], "Tr0ub4dor") {
		t.Errorf("the password is in the error: %q %q", err.Error(), ae.Fields)
	}
	if err.Error() != "Wrong password [REDACTED] ([REDACTED])" {
		t.Errorf("error = %q", err.Error())
	}
	if log := env.logBuf.String(); strings.Contains(log, "Tr0ub4dor") || !strings.Contains(log, "signing in") {
		t.Errorf("the password is in the log:\n%s", log)
	}
	if env.red.Redact(pw) != pw {
		t.Error("the password is still registered after the sign-in")
	}
	if !strings.Contains(echoed, "Tr0ub4dor") {
		t.Fatal("the test backend did not echo the password")
	}
}

func TestSessionLogsServerWithoutCredentials(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	withCreds := strings.Replace(b.URL(), "http://", "http://stage:S3cretBasic@", 1)
	env := newTestEnv(t, "", nil)
	s := env.session()
	if _, err := s.Login(context.Background(), LoginRequest{Server: withCreds, Email: "tina@example.com", Password: "secret-pw"}); err != nil {
		t.Fatal(err)
	}
	// A failed one too: its error and log line name the URL.
	_, err := s.Login(context.Background(), LoginRequest{Server: withCreds + "/nowhere", Email: "tina@example.com", Password: "secret-pw"})
	if err == nil || strings.Contains(err.Error(), "S3cretBasic") {
		t.Errorf("err = %v", err)
	}
	log := env.logBuf.String()
	if strings.Contains(log, "S3cretBasic") || !strings.Contains(log, "stage:xxxxx@") {
		t.Errorf("the server URL's password is in the log (or the URL is missing):\n%s", log)
	}
}
