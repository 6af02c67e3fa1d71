package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAPILoginAndUser(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	api, err := NewAPI(b.URL()+"/", APIPaths{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if api.Server() != b.URL() {
		t.Errorf("server %q not normalized to %q", api.Server(), b.URL())
	}
	ctx := context.Background()
	token, u, err := api.Login(ctx, "tina@example.com", "secret-pw")
	if err != nil {
		t.Fatal(err)
	}
	if token == "" || u.ID != "5" || u.TenantID != "7" || u.Email != "tina@example.com" {
		t.Fatalf("login gave token %q user %+v", token, u)
	}
	b.mu.Lock()
	h := b.headers[0]
	b.mu.Unlock()
	if h.Get("Accept") != "application/json" || h.Get("Content-Type") != "application/json" {
		t.Errorf("login headers: %v", h)
	}
	u2, err := api.User(ctx, token)
	if err != nil || u2 != u {
		t.Fatalf("User = %+v, %v; want %+v", u2, err, u)
	}
	b.mu.Lock()
	b.wrapUser = true
	b.mu.Unlock()
	u3, err := api.User(ctx, token)
	if err != nil || u3 != u {
		t.Fatalf("wrapped User = %+v, %v; want %+v", u3, err, u)
	}
	if err := api.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	_, err = api.User(ctx, token)
	if !errors.Is(err, ErrUnauthorized) || err.Error() != "Unauthenticated." {
		t.Fatalf("after logout User err = %v, want 401 Unauthenticated.", err)
	}
}

func TestAPILoginWrongPasswordShowsBackendMessage(t *testing.T) {
	b := newFakeBackend(t, tenantUser())
	api, _ := NewAPI(b.URL(), APIPaths{}, nil)
	_, _, err := api.Login(context.Background(), "tina@example.com", "wrong")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindValidation || ae.Status != 422 {
		t.Fatalf("err = %#v, want a 422 validation APIError", err)
	}
	if err.Error() != "These credentials do not match our records." {
		t.Errorf("message %q is not the backend's", err.Error())
	}
	if ae.Fields["email"][0] != "These credentials do not match our records." {
		t.Errorf("fields = %v", ae.Fields)
	}
}

// answer serves one canned response for every request.
func answer(t *testing.T, status int, contentType, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAPIResponseShapes(t *testing.T) {
	tests := []struct {
		name, body string
		wantID     string
	}{
		{"token and bare user", `{"token":"t1","user":{"id":3,"tenant_id":"4"}}`, "3"},
		{"access_token", `{"access_token":"t1","token_type":"Bearer","user":{"id":"3"}}`, "3"},
		{"user wrapped in data", `{"token":"t1","user":{"data":{"id":3}}}`, "3"},
		{"everything under data", `{"data":{"token":"t1","user":{"id":3}}}`, "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, _ := NewAPI(answer(t, 200, "application/json", tt.body), APIPaths{}, nil)
			tok, u, err := api.Login(context.Background(), "a@b", "pw")
			if err != nil || tok != "t1" || u.ID != tt.wantID {
				t.Fatalf("Login = %q, %+v, %v", tok, u, err)
			}
		})
	}
}

func TestAPILoginWithoutUserAsksForIt(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"token": "tok-x"})
	})
	mux.HandleFunc("GET /api/user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-x" {
			writeJSON(w, 401, map[string]string{"message": "Unauthenticated."})
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"id": 9, "tenant_id": 2}})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	api, _ := NewAPI(srv.URL, APIPaths{}, nil)
	_, u, err := api.Login(context.Background(), "a@b", "pw")
	if err != nil || u.ID != "9" || u.TenantID != "2" {
		t.Fatalf("Login = %+v, %v", u, err)
	}
}

func TestAPIErrorsInWords(t *testing.T) {
	tests := []struct {
		name        string
		url         func(t *testing.T) string
		kind        ErrorKind
		wantMessage string
	}{
		{"401 with message", func(t *testing.T) string {
			return answer(t, 401, "application/json", `{"message":"Invalid login."}`)
		}, KindUnauthorized, "Invalid login."},
		{"422 message only", func(t *testing.T) string {
			return answer(t, 422, "application/json", `{"message":"The password field is required."}`)
		}, KindValidation, "The password field is required."},
		{"500", func(t *testing.T) string {
			return answer(t, 500, "application/json", `{"message":"Server Error"}`)
		}, KindServer, "The server had a problem (500)"},
		{"503 html", func(t *testing.T) string {
			return answer(t, 503, "text/html", `<html>down</html>`)
		}, KindServer, "The server had a problem (503)"},
		{"200 html", func(t *testing.T) string {
			return answer(t, 200, "text/html; charset=utf-8", `<html>welcome</html>`)
		}, KindBadResponse, "did not answer with JSON (got text/html; charset=utf-8, status 200)"},
		{"200 broken json", func(t *testing.T) string {
			return answer(t, 200, "application/json", `{"token":`)
		}, KindBadResponse, "was not understood"},
		{"200 no token", func(t *testing.T) string {
			return answer(t, 200, "application/json", `{"user":{"id":1}}`)
		}, KindBadResponse, "the sign-in answer has no token"},
		{"404", func(t *testing.T) string {
			return answer(t, 404, "text/html", `nope`)
		}, KindHTTP, "was not found (404); check the server URL"},
		{"connection refused", func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			return "http://" + addr
		}, KindUnreachable, "Cannot reach http://127.0.0.1:"},
		{"untrusted certificate", func(t *testing.T) string {
			srv := httptest.NewTLSServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			return srv.URL
		}, KindTLS, "The server's certificate is not trusted: it is signed by an unknown authority"},
		{"https to a plain http server", func(t *testing.T) string {
			return strings.Replace(answer(t, 200, "application/json", `{}`), "http://", "https://", 1)
		}, KindTLS, "the server does not speak HTTPS there"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, err := NewAPI(tt.url(t), APIPaths{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = api.Login(context.Background(), "a@b", "pw")
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if ae.Kind != tt.kind {
				t.Errorf("kind = %d, want %d (%v)", ae.Kind, tt.kind, err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("message %q does not contain %q", err.Error(), tt.wantMessage)
			}
		})
	}
}

func TestAPIConnectionRefusedMessageExact(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	api, _ := NewAPI("http://"+addr, APIPaths{}, nil)
	_, err = api.User(context.Background(), "t")
	if want := "Cannot reach http://" + addr + ": connection refused"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestAPITimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	client := NewHTTPClient()
	client.Timeout = 100 * time.Millisecond
	api, _ := NewAPI(srv.URL, APIPaths{}, client)
	_, err := api.User(context.Background(), "t")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindTimeout {
		t.Fatalf("err = %v, want a timeout APIError", err)
	}
	if !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("message %q", err.Error())
	}
}

func TestAPICancelledContextIsNotAnAPIError(t *testing.T) {
	b := newFakeBackend(t)
	api, _ := NewAPI(b.URL(), APIPaths{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := api.User(ctx, "t")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestNormalizeServer(t *testing.T) {
	for _, bad := range []string{"", "localhost:8000", "ftp://x", "http://"} {
		if _, err := NormalizeServer(bad); err == nil {
			t.Errorf("NormalizeServer(%q) accepted", bad)
		}
	}
	if s, err := NormalizeServer(" https://x.example/base/ "); err != nil || s != "https://x.example/base" {
		t.Errorf("NormalizeServer = %q, %v", s, err)
	}
}

// A redirect is reported, not followed: following it would turn the sign-in
// POST into a GET and show the user a 405.
func TestAPIRedirectIsReported(t *testing.T) {
	var posts, gets int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/login":
			posts++
			http.Redirect(w, r, "https://"+r.Host+"/api/login", http.StatusMovedPermanently)
		case r.URL.Path == "/api/user":
			http.Redirect(w, r, "/login", http.StatusFound)
		default:
			gets++
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	}))
	defer srv.Close()
	api, err := NewAPI(srv.URL, APIPaths{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	_, _, err = api.Login(context.Background(), "a@example.com", "pw")
	want := "The server redirects " + srv.URL + "/api/login to https://; set the server URL to https://" + host
	if err == nil || err.Error() != want {
		t.Fatalf("login err = %v\nwant %q", err, want)
	}
	if posts != 1 || gets != 0 {
		t.Errorf("requests: %d POST, %d other; the redirect was followed", posts, gets)
	}
	_, err = api.User(context.Background(), "tok")
	if err == nil || !strings.Contains(err.Error(), "redirected "+srv.URL+"/api/user to "+srv.URL+"/login") {
		t.Fatalf("user err = %v", err)
	}
}

// halfFailingBackend issues a Sanctum token without the user, then fails
// /api/user with a 500 that echoes the token (as it is, URL-escaped and
// JSON-escaped) and records the logouts.
type halfFailingBackend struct {
	srv   *httptest.Server
	token string

	mu               sync.Mutex
	registeredDuring bool     // the token was masked while /api/user ran
	logouts          []string // bearer tokens
}

func newHalfFailingBackend(t *testing.T, red *Redactor) *halfFailingBackend {
	t.Helper()
	b := &halfFailingBackend{token: "41|x7Yq2LmN9pQr4StUv6WxYz8AbCdEfGhIjKlMnOpQ"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"token": b.token})
	})
	mux.HandleFunc("GET /api/user", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.registeredDuring = red != nil && red.Redact(b.token) != b.token
		b.mu.Unlock()
		escaped := strings.ReplaceAll(b.token, "|", "%7C")
		jsonEscaped := strings.ReplaceAll(b.token, "|", `\u007c`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		fmt.Fprintf(w, `{"message":"token %s (%s, %s) broke the user lookup"}`, b.token, escaped, jsonEscaped)
	})
	mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.logouts = append(b.logouts, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		b.mu.Unlock()
		writeJSON(w, 200, map[string]string{"message": "Logged out"})
	})
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

// assertNoToken fails if any form of the token is in text.
func assertNoToken(t *testing.T, what, text, token string) {
	t.Helper()
	secretPart := token[strings.IndexByte(token, '|')+1:]
	if strings.Contains(text, secretPart) {
		t.Errorf("the token is in the %s:\n%s", what, text)
	}
}

func TestAPILoginHalfFailedRevokesTheToken(t *testing.T) {
	red := NewRedactor()
	b := newHalfFailingBackend(t, red)
	api, err := NewAPI(b.srv.URL, APIPaths{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = api.WithRedactor(red).Login(context.Background(), "a@example.com", "pw-12345")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindServer || ae.Status != 500 {
		t.Fatalf("err = %#v, want the 500 as an APIError", err)
	}
	assertNoToken(t, "error", err.Error(), b.token)
	if !strings.Contains(err.Error(), "The server had a problem (500): token [REDACTED] ([REDACTED], [REDACTED])") {
		t.Errorf("error text = %q", err.Error())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.registeredDuring {
		t.Error("the token was not registered with the redactor while /api/user ran")
	}
	if len(b.logouts) != 1 || b.logouts[0] != b.token {
		t.Errorf("logouts = %q, want the orphaned token revoked once", b.logouts)
	}
	if red.Redact(b.token) != b.token {
		t.Error("the token is still registered after the failed sign-in")
	}
}

func TestAPILoginRevokesEvenWhenCancelled(t *testing.T) {
	// The sign-in is cancelled while the user is read: the token is still
	// revoked (with a context of its own).
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var logouts int
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"token": "5|cancelledTokenValue"})
	})
	mux.HandleFunc("GET /api/user", func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		logouts++
		mu.Unlock()
		writeJSON(w, 200, map[string]string{})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	api, _ := NewAPI(srv.URL, APIPaths{}, nil)
	if _, _, err := api.Login(ctx, "a@b", "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if logouts != 1 {
		t.Errorf("logouts = %d, want 1", logouts)
	}
}

func TestAPILoginNesting(t *testing.T) {
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`{"data":{"data":{"token":"t1","user":{"id":3}}}}`, true},
		{`{"data":{"data":{"data":{"token":"t1","user":{"id":3}}}}}`, false},
	} {
		api, _ := NewAPI(answer(t, 200, "application/json", tt.body), APIPaths{}, nil)
		tok, _, err := api.Login(context.Background(), "a@b", "pw")
		if tt.ok != (err == nil && tok == "t1") {
			t.Errorf("%s: token %q, err %v", tt.body, tok, err)
		}
	}

	// 9,990 levels: one scan, a clear error, no quadratic re-parsing.
	const depth = 9990
	deep := strings.Repeat(`{"data":`, depth) + `{"token":"t1"}` + strings.Repeat("}", depth)
	start := time.Now()
	_, _, _, err := parseLogin([]byte(deep))
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), `"data" is nested more than 2 levels deep`) {
		t.Errorf("err = %v, want the nesting named", err)
	}
	if took > 500*time.Millisecond {
		t.Errorf("parseLogin of %d levels took %v", depth, took)
	}
	t.Logf("parseLogin of %d levels: %v", depth, took)
}

func TestAPIURLCredentialsNotInMessages(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	withCreds := strings.Replace(srv.URL, "http://", "http://stage:S3cretBasic@", 1)
	api, err := NewAPI(withCreds, APIPaths{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = api.Login(context.Background(), "a@b", "pw")
	var ae *APIError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "was not found (404)") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "S3cretBasic") || strings.Contains(ae.URL, "S3cretBasic") {
		t.Errorf("the URL's password is in the error: %q (URL %q)", err.Error(), ae.URL)
	}
	if !strings.Contains(err.Error(), "stage:xxxxx@") {
		t.Errorf("error %q does not show the redacted URL", err.Error())
	}
	for _, bad := range []string{"http://stage:S3cretBasic@host:99999x/", "ftp://stage:S3cretBasic@host/", "http://stage:S3cretBasic@/x"} {
		_, err := NormalizeServer(bad)
		if err == nil || strings.Contains(err.Error(), "S3cretBasic") {
			t.Errorf("NormalizeServer(%q) = %v", bad, err)
		}
	}
	if got := RedactURL("https://u:p4ss@h/x"); got != "https://u:xxxxx@h/x" {
		t.Errorf("RedactURL = %q", got)
	}
}
