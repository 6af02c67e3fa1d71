package realtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The behaviour a fleet of clients needs from one client (issue 13): spread
// reconnections, honour Retry-After from the auth endpoint, and no retry
// storm while it is down.

// TestFirstReconnectAfter4200IsJittered: Soketi's graceful shutdown sends
// 4200 to every client. The first attempt waits Jitter (not Backoff), a
// second 4200 in a row backs off, and Reconnect stays immediate.
func TestFirstReconnectAfter4200IsJittered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		var mu sync.Mutex
		var backoffs []int
		jitters := 0
		cfg.Backoff = func(n int) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			backoffs = append(backoffs, n)
			return time.Duration(n) * 10 * time.Second
		}
		cfg.Jitter = func() time.Duration {
			mu.Lock()
			defer mu.Unlock()
			jitters++
			return testJitter
		}
		c := newTestClient(t, s, cfg)
		c.Subscribe("tenant.1")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "tenant.1", SubscriptionSubscribed, time.Second)
		time.Sleep(stableAfter + 7*time.Second) // stable; not at a keepalive ping (every 30 s)

		closedAt := time.Now()
		fc.closeWith(4200, "Server is closing")
		sc := r.waitState(t, StateUnavailable, time.Second)
		var ce *CloseError
		if !errors.As(sc.Err, &ce) || ce.Code != 4200 || !sc.NextAttempt.Equal(closedAt.Add(testJitter)) {
			t.Fatalf("after 4200: %+v", sc)
		}
		synctest.Wait()
		if s.dialCount() != 1 {
			t.Fatalf("redialled before the jitter elapsed")
		}
		fc = s.next(t, time.Second)
		s.mu.Lock()
		dialled := s.dialTimes[1]
		s.mu.Unlock()
		if got := dialled.Sub(closedAt); got != testJitter {
			t.Fatalf("first attempt after %s, want %s", got, testJitter)
		}
		r.waitSub(t, "tenant.1", SubscriptionSubscribed, time.Second)

		// A young connection closed again: part of a streak, Backoff(2).
		time.Sleep(time.Second)
		closedAt = time.Now()
		fc.closeWith(4200, "Server is closing")
		sc = r.waitState(t, StateUnavailable, time.Second)
		if got := sc.NextAttempt.Sub(closedAt); got != 20*time.Second {
			t.Fatalf("second 4200 in a row: next attempt in %s, want 20s", got)
		}
		fc = s.next(t, time.Minute)
		r.waitState(t, StateConnected, time.Second)

		// A user-requested Reconnect connects at once: no waiting state.
		n := s.dialCount()
		at := time.Now()
		c.Reconnect()
		s.next(t, time.Second)
		s.mu.Lock()
		dialled = s.dialTimes[n]
		s.mu.Unlock()
		if !dialled.Equal(at) {
			t.Fatalf("Reconnect dialled after %s", dialled.Sub(at))
		}
		r.waitState(t, StateConnected, time.Second)
		mu.Lock()
		defer mu.Unlock()
		if jitters != 1 || fmt.Sprint(backoffs) != "[2]" {
			t.Fatalf("%d jitters (want 1), Backoff attempts %v (want [2])", jitters, backoffs)
		}
		for _, h := range r.stateHistory()[len(r.stateHistory())-2:] {
			if strings.HasPrefix(h, "connected->unavailable") {
				t.Fatalf("Reconnect went through unavailable: %v", r.stateHistory())
			}
		}
	})
}

// roundTripFunc is an http.RoundTripper; it keeps HTTPAuthorizer off the
// network, so that it runs inside a synctest bubble.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func httpResponse(req *http.Request, status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status), Header: header,
		Body: io.NopCloser(strings.NewReader(body)), Request: req,
	}
}

// authEndpoint is a fake /broadcasting/auth behind an HTTPAuthorizer:
// refuse returns the status for the n-th request (from 1) of a channel, 0 to
// sign it or refuseNetwork for a network error.
const refuseNetwork = -1

type authEndpoint struct {
	mu     sync.Mutex
	times  map[string][]time.Time
	refuse func(req *http.Request, channel string, n int) (int, http.Header)
}

func (e *authEndpoint) authorizer() HTTPAuthorizer {
	return HTTPAuthorizer{
		Endpoint: "http://laravel.test/broadcasting/auth",
		Client: &http.Client{Timeout: 10 * time.Second, Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if err := req.ParseForm(); err != nil {
				return nil, err
			}
			ch, sid := req.PostForm.Get("channel_name"), req.PostForm.Get("socket_id")
			e.mu.Lock()
			if e.times == nil {
				e.times = make(map[string][]time.Time)
			}
			e.times[ch] = append(e.times[ch], time.Now())
			n := len(e.times[ch])
			e.mu.Unlock()
			status, h := e.refuse(req, ch, n)
			if status == refuseNetwork {
				return nil, errors.New("connect: connection refused")
			}
			if status != 0 {
				return httpResponse(req, status, h, `{"message":"Too Many Attempts."}`), nil
			}
			return httpResponse(req, http.StatusOK, nil, fmt.Sprintf(`{"auth":%q}`, sign(sid, ch))), nil
		})},
	}
}

func (e *authEndpoint) requests(ch string) []time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Time(nil), e.times[ch]...)
}

// TestAuthRetryAfter: a 429 or 503 with Retry-After makes that channel,
// and only it, wait that long (capped, plus Jitter) on the same connection;
// without Retry-After the channel backs off as usual.
func TestAuthRetryAfter(t *testing.T) {
	const jitter = 250 * time.Millisecond
	cases := []struct {
		name   string
		status int
		header func(now time.Time) string // "" sends no Retry-After
		wait   func(first time.Time, header string) time.Duration
		msg    string
	}{
		{"429 delta-seconds", 429, func(time.Time) string { return "7" },
			func(time.Time, string) time.Duration { return 7 * time.Second }, "rate limited, retrying at"},
		{"503 delta-seconds", 503, func(time.Time) string { return "3" },
			func(time.Time, string) time.Duration { return 3 * time.Second }, "endpoint unavailable (HTTP 503), retrying at"},
		{"429 HTTP-date", 429, func(now time.Time) string { return now.Add(20 * time.Second).UTC().Format(http.TimeFormat) },
			func(first time.Time, h string) time.Duration {
				at, err := http.ParseTime(h)
				if err != nil {
					t.Fatal(err)
				}
				return at.Sub(first)
			}, "rate limited, retrying at"},
		{"429 capped at 5 min", 429, func(time.Time) string { return "86400" },
			func(time.Time, string) time.Duration { return maxRetryAfter }, "rate limited, retrying at"},
		{"429 without Retry-After backs off", 429, func(time.Time) string { return "" },
			func(time.Time, string) time.Duration { return 2 * time.Second }, "HTTP 429"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeServer(t)
				r := newRecorder()
				var header string
				ep := &authEndpoint{refuse: func(req *http.Request, ch string, n int) (int, http.Header) {
					if ch != "private-user.5" || n > 1 {
						return 0, nil
					}
					header = tc.header(time.Now())
					h := http.Header{}
					if header != "" {
						h.Set("Retry-After", header)
					}
					return tc.status, h
				}}
				cfg := testConfig(s, r)
				cfg.Authorizer = ep.authorizer()
				cfg.Backoff = func(n int) time.Duration { return time.Duration(n) * 2 * time.Second }
				cfg.Jitter = func() time.Duration { return jitter }
				c := newTestClient(t, s, cfg)
				c.Subscribe("private-user.5")
				c.Subscribe("private-tenant.1")
				c.Subscribe("tenant.1")
				c.Connect()
				fc := s.next(t, time.Second)
				f := r.waitSub(t, "private-user.5", SubscriptionFailed, time.Second)
				var ae *AuthError
				if !errors.As(f.Err, &ae) || ae.Status != tc.status || !strings.Contains(f.Err.Error(), tc.msg) {
					t.Fatalf("failure %v", f.Err)
				}
				first := ep.requests("private-user.5")[0]
				want := tc.wait(first, header)
				if header != "" {
					if ae.RetryAfter != want {
						t.Fatalf("AuthError.RetryAfter = %s, want %s", ae.RetryAfter, want)
					}
					want += jitter
				}
				// The other channels are not held back.
				synctest.Wait()
				if got := c.Subscriptions(); got["private-tenant.1"] != SubscriptionSubscribed || got["tenant.1"] != SubscriptionSubscribed {
					t.Fatalf("Subscriptions() = %v", got)
				}
				// No retry before the time asked for.
				time.Sleep(want - time.Millisecond)
				synctest.Wait()
				if n := len(ep.requests("private-user.5")); n != 1 {
					t.Fatalf("%d requests before %s", n, want)
				}
				r.waitSub(t, "private-user.5", SubscriptionSubscribed, time.Second)
				reqs := ep.requests("private-user.5")
				if len(reqs) != 2 || reqs[1].Sub(first) != want {
					t.Fatalf("requests at %v, want the second %s after the first", reqs, want)
				}
				fc.send("X", "private-user.5", "{}")
				r.waitEvent(t, time.Second)
				if c.State() != StateConnected || s.dialCount() != 1 || len(ep.requests("private-tenant.1")) != 1 {
					t.Fatalf("state %s, %d dials, %d requests for private-tenant.1",
						c.State(), s.dialCount(), len(ep.requests("private-tenant.1")))
				}
			})
		})
	}
}

// A custom Authorizer may return an *AuthError with RetryAfter; the client
// caps it.
func TestAuthRetryAfterCappedForCustomAuthorizer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		var times []time.Time
		cfg.Authorizer = authorizerFunc(func(ctx context.Context, sid, ch string) (Auth, error) {
			times = append(times, time.Now())
			if len(times) == 1 {
				return Auth{}, &AuthError{Status: 429, RetryAfter: 24 * time.Hour}
			}
			return Auth{Auth: sign(sid, ch)}, nil
		})
		cfg.Jitter = func() time.Duration { return 0 }
		c := newTestClient(t, s, cfg)
		c.Subscribe("private-user.5")
		c.Connect()
		s.next(t, time.Second)
		r.waitSub(t, "private-user.5", SubscriptionFailed, time.Second)
		r.waitSub(t, "private-user.5", SubscriptionSubscribed, time.Hour)
		if len(times) != 2 || times[1].Sub(times[0]) != maxRetryAfter {
			t.Fatalf("requests at %v", times)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	cases := []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {" 7 ", 7 * time.Second}, {"0", 0},
		{"300", 5 * time.Minute}, {"301", maxRetryAfter}, {"99999999999999999999999", maxRetryAfter},
		{"-5", 0}, {"+5", 0}, {"1.5", 0}, {"soon", 0},
		{"Tue, 01 Dec 2026 22:00:30 GMT", 30 * time.Second}, // IMF-fixdate
		{"Tuesday, 01-Dec-26 22:01:00 GMT", time.Minute},    // RFC 850
		{"Tue Dec  1 22:00:10 2026", 10 * time.Second},      // asctime
		{"Tue, 01 Dec 2026 21:59:00 GMT", 0},                // past
		{"Wed, 02 Dec 2026 22:00:00 GMT", maxRetryAfter},    // capped
		{"Tue, 01 Dec 2026 22:00:30 +0100", 0},              // not an HTTP-date
	}
	for _, c := range cases {
		if got := parseRetryAfter(c.v, now); got != c.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", c.v, got, c.want)
		}
	}
}

// HTTPAuthorizer reads Retry-After on 429 and 503 only.
func TestHTTPAuthorizerRetryAfterStatuses(t *testing.T) {
	for _, status := range []int{429, 503, 500, 502} {
		ep := &authEndpoint{refuse: func(*http.Request, string, int) (int, http.Header) {
			return status, http.Header{"Retry-After": {"9"}}
		}}
		_, err := ep.authorizer().Authorize(context.Background(), "1.2", "private-user.5")
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Status != status {
			t.Fatalf("%d: error %v", status, err)
		}
		want := time.Duration(0)
		if status == 429 || status == 503 {
			want = 9 * time.Second
		}
		if ae.RetryAfter != want {
			t.Errorf("%d: RetryAfter = %s, want %s", status, ae.RetryAfter, want)
		}
	}
}

// TestAuthEndpointDownNoRetryStorm: with the auth endpoint down (503
// without Retry-After, or unreachable), each channel backs off with full
// jitter up to the cap, at most maxAuthConcurrency requests are in flight,
// the connection stays up, and success resets the backoff.
func TestAuthEndpointDownNoRetryStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		var mu sync.Mutex
		down := true
		inflight, maxInflight := 0, 0
		ep := &authEndpoint{refuse: func(req *http.Request, ch string, n int) (int, http.Header) {
			mu.Lock()
			inflight++
			maxInflight = max(maxInflight, inflight)
			mu.Unlock()
			time.Sleep(2 * time.Second) // a slow, failing endpoint
			mu.Lock()
			defer mu.Unlock()
			inflight--
			switch {
			case !down:
				return 0, nil
			case n%2 == 0:
				return refuseNetwork, nil
			}
			return http.StatusServiceUnavailable, nil
		}}
		authz := ep.authorizer()
		cfg := testConfig(s, r)
		cfg.Authorizer = authz
		// DefaultBackoff's full jitter drawn from a source seeded by the
		// attempt number, so that the delays do not depend on the order in
		// which the channels' failures reach the supervisor.
		var backoffs []int
		cfg.Backoff = func(n int) time.Duration {
			mu.Lock()
			defer mu.Unlock()
			backoffs = append(backoffs, n)
			rng := rand.New(rand.NewPCG(13, uint64(n)))
			return time.Duration(rng.Int64N(int64(backoffCeiling(n)) + 1))
		}
		cfg.Jitter = func() time.Duration { return testJitter }
		c := newTestClient(t, s, cfg)
		var channels []string
		for i := range 8 {
			ch := fmt.Sprintf("private-user.%d", i)
			channels = append(channels, ch)
			c.Subscribe(ch)
		}
		c.Connect()
		s.next(t, time.Second)
		start := time.Now()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if c.State() != StateConnected || s.dialCount() != 1 {
			t.Fatalf("state %s after %d dials: auth failures must not drop the connection", c.State(), s.dialCount())
		}
		mu.Lock()
		if maxInflight != maxAuthConcurrency {
			t.Errorf("%d auth requests in flight at once, want at most (and here exactly) %d", maxInflight, maxAuthConcurrency)
		}
		mu.Unlock()
		// Full jitter with the 1 s floor: 7 requests in the first minute
		// most often, more than 10 with a probability of 0.4 % (and never
		// more than 60); about 2 a minute at the 60 s cap.
		const perMinute = 10
		for _, ch := range channels {
			reqs := ep.requests(ch)
			var minute [10]int
			for _, at := range reqs {
				minute[min(int(at.Sub(start)/time.Minute), 9)]++
			}
			t.Logf("%s: requests per minute %v", ch, minute)
			if minute[0] > perMinute {
				t.Errorf("%s: %d requests in the first minute, want <= %d (%v)", ch, minute[0], perMinute, minute)
			}
			for m := 2; m < 10; m++ {
				if minute[m] > 5 { // backoff at its 60 s cap: mean 30 s
					t.Errorf("%s: %d requests in minute %d, want <= 5 (%v)", ch, minute[m], m+1, minute)
				}
			}
			if len(reqs) < 10 || len(reqs) > 40 {
				t.Errorf("%s: %d requests in 10 minutes (%v)", ch, len(reqs), minute)
			}
		}
		mu.Lock()
		top := 0
		for _, n := range backoffs {
			top = max(top, n)
		}
		down = false
		backoffs = nil
		mu.Unlock()
		if top < 8 {
			t.Fatalf("backoff reached attempt %d only; it must climb to the cap", top)
		}

		// The endpoint recovers: every channel subscribes within one
		// capped backoff, and the backoff starts again from 1.
		want := make(map[string]SubscriptionStatus)
		for _, ch := range channels {
			want[ch] = SubscriptionSubscribed
		}
		r.waitSubs(t, want, backoffCap+time.Minute)
		mu.Lock()
		down = true
		backoffs = nil
		mu.Unlock()
		c.Reconnect()
		s.next(t, time.Second)
		r.waitSub(t, channels[0], SubscriptionFailed, time.Minute)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, n := range backoffs {
			if n != 1 {
				t.Fatalf("after success the backoff restarted at %v, want 1", backoffs)
			}
		}
	})
}
