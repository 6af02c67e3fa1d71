package realtime

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// TestCloseLeavesNoGoroutines runs a client in real time (outside a synctest
// bubble) with a live connection, an authorisation stuck in flight and
// events arriving, closes it, and checks that no goroutine is left behind.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := newFakeServer(t)
	r := newRecorder()
	cfg := testConfig(s, r)
	authStarted := make(chan struct{})
	cfg.Authorizer = authorizerFunc(func(ctx context.Context, socketID, ch string) (Auth, error) {
		close(authStarted)
		<-ctx.Done() // only the client's cancellation ends it
		return Auth{}, ctx.Err()
	})
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Subscribe("tenant.1")
	c.Subscribe("private-user.5")
	c.Connect()
	fc := s.next(t, 5*time.Second)
	r.waitSub(t, "tenant.1", SubscriptionSubscribed, 5*time.Second)
	<-authStarted
	for range 100 {
		fc.send("E", "tenant.1", `{"i":1}`)
	}
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %s", d)
	}
	if err := c.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	s.close()
}

// TestCloseDuringHandshakeIsImmediate: Close must not wait for the
// handshake timeout of a server that accepted TCP and went silent.
func TestCloseDuringHandshakeIsImmediate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		s.handshake = func(fc *fakeConn) bool {
			_, _, _ = fc.ws.ReadMessage()
			return false
		}
		c, err := New(testConfig(s, nil))
		if err != nil {
			t.Fatal(err)
		}
		c.Connect()
		synctest.Wait() // dialled, waiting for pusher:connection_established
		if s.dialCount() != 1 || c.State() != StateConnecting {
			t.Fatalf("state %s after %d dials", c.State(), s.dialCount())
		}
		start := time.Now()
		c.Close()
		if d := time.Since(start); d != 0 {
			t.Fatalf("Close waited %s of virtual time", d)
		}
		s.close()
	})
}

func TestDisconnectDuringBackoffStopsRetrying(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		s.refuse = true
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Connect()
		r.waitState(t, StateUnavailable, time.Second)
		c.Disconnect()
		r.waitState(t, StateDisconnected, time.Second)
		n := s.dialCount()
		time.Sleep(10 * time.Minute)
		if s.dialCount() != n {
			t.Fatalf("dialled %d more times after Disconnect", s.dialCount()-n)
		}
	})
}
