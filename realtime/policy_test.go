package realtime

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestCloseActionFor(t *testing.T) {
	cases := []struct {
		code int
		want closeAction
	}{
		{1000, actBackoff}, {1001, actBackoff}, {1005, actBackoff}, {1006, actBackoff}, {1009, actBackoff},
		{4000, actTLS},
		{4001, actStop}, {4009, actStop}, {4099, actStop},
		{4100, actBackoff}, {4199, actBackoff},
		{4200, actNow}, {4201, actNow}, {4299, actNow},
		{4300, actBackoff}, {4301, actBackoff}, {4999, actBackoff},
		{0, actBackoff}, {3000, actBackoff}, {5000, actBackoff},
	}
	for _, c := range cases {
		if got := closeActionFor(c.code); got != c.want {
			t.Errorf("closeActionFor(%d) = %d, want %d", c.code, got, c.want)
		}
	}
}

func TestBackoffCeilingAndJitter(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, 60 * time.Second, 60 * time.Second, 60 * time.Second}
	for i, w := range want {
		if got := backoffCeiling(i + 1); got != w {
			t.Errorf("backoffCeiling(%d) = %s, want %s", i+1, got, w)
		}
	}
	if backoffCeiling(0) != time.Second || backoffCeiling(1000) != backoffCap || backoffCeiling(-5) != time.Second {
		t.Error("out-of-range attempts not clamped")
	}
	// Full jitter: every value within [0, ceiling], and spread over it.
	for attempt := 1; attempt <= 8; attempt++ {
		ceil := backoffCeiling(attempt)
		var lo, hi int
		for range 2000 {
			d := DefaultBackoff(attempt)
			if d < 0 || d > ceil {
				t.Fatalf("DefaultBackoff(%d) = %s outside [0, %s]", attempt, d, ceil)
			}
			if d < ceil/4 {
				lo++
			}
			if d > 3*ceil/4 {
				hi++
			}
		}
		if lo < 300 || hi < 300 {
			t.Errorf("attempt %d: jitter not spread (%d low, %d high of 2000)", attempt, lo, hi)
		}
	}
}

// closeCase describes how the server ends a live connection and what the
// client must do.
type closeCase struct {
	name   string
	end    func(fc *fakeConn)
	state  State // the state the client moves to
	code   int   // CloseError code expected in the change (0: any error)
	redial bool  // whether the client dials again (within 10 virtual minutes)
}

// testJitter is the Config.Jitter of tests that check reconnection times.
const testJitter = 700 * time.Millisecond

func TestClosePolicy(t *testing.T) {
	pusherErr := func(code int) func(fc *fakeConn) {
		return func(fc *fakeConn) {
			fc.send("pusher:error", "", fmt.Sprintf(`{"code":%d,"message":"m"}`, code))
		}
	}
	cases := []closeCase{
		{"4001 refused", func(fc *fakeConn) { fc.closeWith(4001, "App key does not exist") }, StateFailed, 4001, false},
		{"4009 unauthorised close", func(fc *fakeConn) { fc.closeWith(4009, "") }, StateFailed, 4009, false},
		{"4301 backs off", func(fc *fakeConn) { fc.closeWith(4301, "") }, StateUnavailable, 4301, true},
		{"4100 over capacity backs off", func(fc *fakeConn) { fc.closeWith(4100, "") }, StateUnavailable, 4100, true},
		{"4200 reconnect now", func(fc *fakeConn) { fc.closeWith(4200, "Server closed") }, StateUnavailable, 4200, true},
		{"4201 pong not received", func(fc *fakeConn) { fc.closeWith(4201, "") }, StateUnavailable, 4201, true},
		{"1000 normal backs off", func(fc *fakeConn) { fc.closeWith(1000, "") }, StateUnavailable, 1000, true},
		{"1006 drop backs off", func(fc *fakeConn) { fc.drop() }, StateUnavailable, 0, true},
		{"reverb 4001 error then TCP drop", func(fc *fakeConn) { pusherErr(4001)(fc); fc.drop() }, StateFailed, 4001, false},
		{"reverb 4201 error then TCP drop", func(fc *fakeConn) { pusherErr(4201)(fc); fc.drop() }, StateUnavailable, 4201, true},
		{"error then close without status", func(fc *fakeConn) { pusherErr(4004)(fc); fc.closeWith(1005, "") }, StateFailed, 4004, false},
		{"stale error is not used", func(fc *fakeConn) {
			pusherErr(4001)(fc)
			time.Sleep(3 * time.Second)
			fc.drop()
		}, StateUnavailable, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeServer(t)
				r := newRecorder()
				cfg := testConfig(s, r)
				cfg.Backoff = func(n int) time.Duration { return time.Duration(n) * 10 * time.Second }
				cfg.Jitter = func() time.Duration { return testJitter }
				c := newTestClient(t, s, cfg)
				c.Connect()
				fc := s.next(t, time.Second)
				r.waitState(t, StateConnected, time.Second)
				time.Sleep(time.Second)
				tc.end(fc)
				sc := r.waitState(t, tc.state, 5*time.Second)
				if sc.Previous != StateConnected {
					t.Errorf("previous = %s", sc.Previous)
				}
				var ce *CloseError
				switch {
				case sc.Err == nil:
					t.Errorf("no error in %+v", sc)
				case tc.code != 0 && (!errors.As(sc.Err, &ce) || ce.Code != tc.code):
					t.Errorf("error %v, want code %d", sc.Err, tc.code)
				}
				switch tc.state {
				case StateUnavailable:
					// The first attempt after a live connection ends
					// waits Jitter, on top of 1 s for 4100-4199.
					wait := time.Until(sc.NextAttempt)
					want := testJitter
					if tc.code == 4100 {
						want = time.Second + testJitter
					}
					if wait != want {
						t.Errorf("next attempt in %s, want %s", wait, want)
					}
				default:
					if !sc.NextAttempt.IsZero() {
						t.Errorf("NextAttempt set for %s", tc.state)
					}
				}
				time.Sleep(10 * time.Minute)
				synctest.Wait()
				redialled := s.dialCount() > 1
				if redialled != tc.redial {
					t.Errorf("redialled = %v (%d dials), want %v; history %v", redialled, s.dialCount(), tc.redial, r.stateHistory())
				}
				if !tc.redial && c.State() != StateFailed {
					t.Errorf("state %s, want failed", c.State())
				}
			})
		})
	}
}

func TestInSessionPusherErrorDoesNotReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitState(t, StateConnected, time.Second)
		fc.send("pusher:error", "", `{"code":4301,"message":"Client event rejected"}`)
		fc.sendRaw(`{"event":"pusher:error","data":"{\"code\":null,\"message\":\"no code\"}"}`)
		time.Sleep(time.Minute)
		synctest.Wait()
		if c.State() != StateConnected || s.dialCount() != 1 {
			t.Fatalf("state %s, %d dials", c.State(), s.dialCount())
		}
	})
}

func TestHandshakeErrorsApplyClosePolicy(t *testing.T) {
	cases := []struct {
		name  string
		hs    func(fc *fakeConn) bool
		state State
		code  int
	}{
		{"pusher:error 4001 in handshake", func(fc *fakeConn) bool {
			fc.send("pusher:error", "", `{"code":4001,"message":"App key x does not exist."}`)
			return false
		}, StateFailed, 4001},
		{"string-encoded pusher:error 4004", func(fc *fakeConn) bool {
			fc.sendString("pusher:error", "", `{"code":4004,"message":"over quota"}`)
			fc.drop()
			return false
		}, StateFailed, 4004},
		{"close frame 4003", func(fc *fakeConn) bool {
			fc.closeWith(4003, "App disabled")
			return false
		}, StateFailed, 4003},
		{"pusher:error 4100 backs off", func(fc *fakeConn) bool {
			fc.send("pusher:error", "", `{"code":4100,"message":"over capacity"}`)
			return false
		}, StateUnavailable, 4100},
		{"wrong first frame", func(fc *fakeConn) bool {
			fc.send("hello", "", `{}`)
			return false
		}, StateUnavailable, 0},
		{"no socket_id", func(fc *fakeConn) bool {
			fc.sendString("pusher:connection_established", "", `{"activity_timeout":30}`)
			return false
		}, StateUnavailable, 0},
		{"silent server", func(fc *fakeConn) bool {
			_, _, _ = fc.ws.ReadMessage() // until the client gives up
			return false
		}, StateUnavailable, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFakeServer(t)
				s.handshake = tc.hs
				r := newRecorder()
				cfg := testConfig(s, r)
				c := newTestClient(t, s, cfg)
				start := time.Now()
				c.Connect()
				sc := r.waitState(t, tc.state, time.Minute)
				if sc.Previous != StateConnecting || sc.Err == nil {
					t.Fatalf("change %+v", sc)
				}
				var ce *CloseError
				if tc.code != 0 && (!errors.As(sc.Err, &ce) || ce.Code != tc.code) {
					t.Fatalf("error %v, want code %d", sc.Err, tc.code)
				}
				if tc.name == "silent server" && time.Since(start) != DefaultHandshakeTimeout {
					t.Fatalf("handshake gave up after %s", time.Since(start))
				}
				if c.State() == StateFailed {
					time.Sleep(10 * time.Minute)
					if s.dialCount() != 1 {
						t.Fatalf("refused client dialled %d times", s.dialCount())
					}
				}
			})
		})
	}
}

func TestTLSRequiredSwitchesToWSS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		cfg.Port = 0
		c := newTestClient(t, s, cfg)
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitState(t, StateConnected, time.Second)
		fc.closeWith(4000, "Application only accepts SSL connections, reconnect using wss://")
		sc := r.waitState(t, StateUnavailable, time.Second) // first attempt: jittered
		var ce *CloseError
		if !errors.As(sc.Err, &ce) || ce.Code != 4000 || time.Until(sc.NextAttempt) > jitterMax {
			t.Fatalf("change %+v", sc)
		}
		r.waitState(t, StateConnecting, 2*time.Second)
		r.waitState(t, StateUnavailable, time.Minute) // the fake speaks no TLS
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.dials) < 2 || s.dials[0] != "soketi.test:80" || s.dials[1] != "soketi.test:443" {
			t.Fatalf("dials %v, want port 80 then 443", s.dials)
		}
	})
}

// TestBackoffSequenceAndStableReset checks the attempt numbers given to
// Backoff: they grow while the server is down, keep growing when
// connections die young, and start again after a minute connected.
func TestBackoffSequenceAndStableReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		s.refuse = true
		r := newRecorder()
		var mu sync.Mutex
		var attempts []int
		cfg := testConfig(s, r)
		cfg.Backoff = func(n int) time.Duration {
			mu.Lock()
			attempts = append(attempts, n)
			mu.Unlock()
			return time.Duration(n) * time.Second
		}
		jitters := 0
		cfg.Jitter = func() time.Duration {
			mu.Lock()
			jitters++
			mu.Unlock()
			return testJitter
		}
		c := newTestClient(t, s, cfg)
		c.Connect()
		for i := 1; i <= 4; i++ {
			sc := r.waitState(t, StateUnavailable, time.Minute)
			if got := time.Until(sc.NextAttempt); got != time.Duration(i)*time.Second {
				t.Fatalf("retry %d in %s", i, got)
			}
			var opErr interface{ Timeout() bool }
			if !errors.As(sc.Err, &opErr) {
				t.Fatalf("cause %v is not the dial error", sc.Err)
			}
		}
		s.set(func(s *fakeServer) { s.refuse = false })
		fc := s.next(t, time.Minute)
		r.waitState(t, StateConnected, time.Second)
		time.Sleep(10 * time.Second) // dies young: no reset
		fc.drop()
		r.waitState(t, StateUnavailable, time.Second)
		fc = s.next(t, time.Minute)
		r.waitState(t, StateConnected, time.Second)
		time.Sleep(stableAfter) // stable: reset
		fc.drop()
		r.waitState(t, StateUnavailable, time.Second)
		s.next(t, time.Minute)
		mu.Lock()
		defer mu.Unlock()
		// 4 refused, 5 after a young drop; after a stable one the first
		// attempt waits Jitter instead, and the streak starts again.
		want := []int{1, 2, 3, 4, 5}
		if fmt.Sprint(attempts) != fmt.Sprint(want) || jitters != 1 {
			t.Fatalf("Backoff attempts %v, want %v; %d jitters, want 1", attempts, want, jitters)
		}
	})
}

// TestNoTightLoopAndNeverTwoConnections: a server that accepts and then
// immediately sends 4200 ("reconnect now") must not make the client spin,
// and the client never holds two connections.
func TestNoTightLoopAndNeverTwoConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		s.handshake = func(fc *fakeConn) bool {
			fc.send("pusher:connection_established", "", fmt.Sprintf(`{"socket_id":%q,"activity_timeout":30}`, fc.socketID))
			fc.closeWith(4200, "go away")
			return false
		}
		c := newTestClient(t, s, testConfig(s, nil))
		c.Connect()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		n := s.dialCount()
		// Default backoff: at most one immediate retry, then delays with a
		// 60 s ceiling (mean 30 s): about 25 attempts in 10 minutes.
		if n < 5 || n > 80 {
			t.Fatalf("%d connection attempts in 10 minutes", n)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.maxClientOpen != 1 {
			t.Fatalf("client held %d connections at once", s.maxClientOpen)
		}
		for i := 2; i < len(s.dialTimes); i++ {
			if s.dialTimes[i].Equal(s.dialTimes[i-1]) && s.dialTimes[i-1].Equal(s.dialTimes[i-2]) {
				t.Fatalf("three attempts at the same instant: %v", s.dialTimes[i])
			}
		}
	})
}
