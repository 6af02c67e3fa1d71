package realtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// laravelAuth is a stand-in for Laravel's /broadcasting/auth.
func laravelAuth(t *testing.T, token *atomic.Value) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		if a := r.Header.Get("Accept"); a != "application/json" {
			t.Errorf("Accept %q", a)
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+token.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Unauthenticated."}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Errorf("body %q: %v", body, err)
		}
		sid, ch := form.Get("socket_id"), form.Get("channel_name")
		switch {
		case ch == "private-system.admin":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"This action is unauthorized."}`)
		case ch == "private-broken":
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "<html><body>Whoops, looks like something went wrong.</body></html>")
		case ch == "private-garbage":
			io.WriteString(w, "<html>login</html>")
		case strings.HasPrefix(ch, "presence-"):
			fmt.Fprintf(w, `{"auth":%q,"channel_data":"{\"user_id\":5}"}`, sign(sid, ch))
		default:
			fmt.Fprintf(w, `{"auth":%q}`, sign(sid, ch))
		}
	}
}

func newAuthServer(t *testing.T, token *atomic.Value) (*httptest.Server, *http.Client) {
	srv := httptest.NewServer(laravelAuth(t, token))
	client := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return srv, client
}

func TestHTTPAuthorizer(t *testing.T) {
	var token atomic.Value
	token.Store("tok-1")
	srv, client := newAuthServer(t, &token)
	var clientToken atomic.Value // what the app's keyring holds
	clientToken.Store("tok-1")
	headerCalls := 0
	a := HTTPAuthorizer{
		Endpoint: srv.URL + "/broadcasting/auth",
		Client:   client,
		Header: func(ctx context.Context) (http.Header, error) {
			headerCalls++
			return http.Header{"Authorization": {"Bearer " + clientToken.Load().(string)}}, nil
		},
	}
	ctx := context.Background()

	got, err := a.Authorize(ctx, "123.456", "private-user.5")
	if err != nil || got.Auth != sign("123.456", "private-user.5") {
		t.Fatalf("private: %+v, %v", got, err)
	}
	got, err = a.Authorize(ctx, "123.456", "presence-room.1")
	if err != nil || got.ChannelData != `{"user_id":5}` {
		t.Fatalf("presence: %+v, %v", got, err)
	}

	_, err = a.Authorize(ctx, "1.2", "private-system.admin")
	var ae *AuthError
	if !errors.Is(err, ErrForbidden) || errors.Is(err, ErrUnauthorized) || !errors.As(err, &ae) ||
		ae.Message != "This action is unauthorized." || ae.Status != 403 {
		t.Fatalf("403: %v", err)
	}

	_, err = a.Authorize(ctx, "1.2", "private-broken")
	if !errors.As(err, &ae) || ae.Status != 500 || errors.Is(err, ErrForbidden) || errors.Is(err, ErrUnauthorized) ||
		!strings.Contains(ae.Message, "Whoops") {
		t.Fatalf("500: %v", err)
	}

	_, err = a.Authorize(ctx, "1.2", "private-garbage")
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("non-JSON 200: %v", err)
	}

	// The token expires server-side: 401 with Laravel's JSON message.
	token.Store("tok-2")
	_, err = a.Authorize(ctx, "1.2", "private-user.5")
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ae) || ae.Message != "Unauthenticated." {
		t.Fatalf("401: %v", err)
	}
	if strings.Contains(err.Error(), "tok-") {
		t.Fatalf("error leaks the token: %v", err)
	}
	// The header provider is asked on every request, so the refreshed
	// token is used at once.
	clientToken.Store("tok-2")
	if _, err = a.Authorize(ctx, "1.2", "private-user.5"); err != nil {
		t.Fatalf("after refresh: %v", err)
	}
	if headerCalls != 7 {
		t.Fatalf("header provider called %d times, want 7", headerCalls)
	}
}

func TestHTTPAuthorizerHeaderProviderError(t *testing.T) {
	a := HTTPAuthorizer{
		Endpoint: "http://127.0.0.1:1/broadcasting/auth",
		Header: func(context.Context) (http.Header, error) {
			return nil, fmt.Errorf("keyring: %w", ErrUnauthorized)
		},
	}
	_, err := a.Authorize(context.Background(), "1.2", "private-x")
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("got %v", err)
	}
	if _, err := (HTTPAuthorizer{}).Authorize(context.Background(), "1.2", "private-x"); err == nil {
		t.Fatal("no endpoint accepted")
	}
}

func TestHTTPAuthorizerTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	client := &http.Client{Timeout: 50 * time.Millisecond}
	defer func() {
		close(release)
		client.CloseIdleConnections()
		srv.Close()
	}()
	a := HTTPAuthorizer{Endpoint: srv.URL, Client: client}
	_, err := a.Authorize(context.Background(), "1.2", "private-x")
	var ae *AuthError
	if err == nil || errors.As(err, &ae) || errors.Is(err, ErrUnauthorized) {
		t.Fatalf("got %v", err)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("not a timeout: %v", err)
	}
}

func TestAuthErrorMessages(t *testing.T) {
	cases := map[string]string{
		`{"message":"Unauthenticated."}`: "Unauthenticated.",
		`{"error":"nope"}`:               "nope",
		`{}`:                             "",
		"  plain\n text  ":               "plain text",
		strings.Repeat("x", 300):         strings.Repeat("x", 200) + "…",
	}
	for body, want := range cases {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%.20q) = %q, want %q", body, got, want)
		}
	}
	if s := (&AuthError{Status: 403}).Error(); !strings.Contains(s, "403") || !strings.Contains(s, "Forbidden") {
		t.Errorf("Error() = %q", s)
	}
}
