package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"testing/synctest"
	"time"
)

// newTestClient creates a client against s and closes both at cleanup, in
// the right order (client first, so no reconnect races the server's end).
func newTestClient(t *testing.T, s *fakeServer, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		s.close()
	})
	return c
}

func TestConnectHandshakeAndURL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		cfg.Origin = "https://app.example"
		c := newTestClient(t, s, cfg)
		if got := c.State(); got != StateInitialized {
			t.Fatalf("state before Connect = %s", got)
		}
		c.Connect()
		c.Connect() // idempotent
		sc := r.waitState(t, StateConnecting, time.Second)
		if sc.Previous != StateInitialized || sc.Err != nil {
			t.Fatalf("first change = %+v", sc)
		}
		fc := s.next(t, time.Second)
		r.waitState(t, StateConnected, time.Second)
		if c.SocketID() != fc.socketID {
			t.Fatalf("SocketID = %q, want %q", c.SocketID(), fc.socketID)
		}
		u := fc.req.URL
		if u.Path != "/app/"+testKey {
			t.Errorf("path = %q", u.Path)
		}
		q := u.Query()
		if q.Get("protocol") != "7" || q.Get("client") != clientName || q.Get("version") != clientVersion {
			t.Errorf("query = %q", u.RawQuery)
		}
		if got := fc.req.Header.Get("Origin"); got != "https://app.example" {
			t.Errorf("Origin = %q", got)
		}
		if s.dials[0] != "soketi.test:6001" {
			t.Errorf("dialled %q", s.dials[0])
		}
		synctest.Wait()
		if n := s.dialCount(); n != 1 {
			t.Fatalf("Connect twice dialled %d times", n)
		}
	})
}

func TestSubscribeBeforeAndAfterConnectAndDecodeData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Subscribe("tenant.1")
		c.Subscribe("tenant.1") // no-op
		c.Connect()
		fc := s.next(t, time.Second)
		f := fc.expect(t, "pusher:subscribe", time.Second)
		if string(f.Data) != `{"channel":"tenant.1"}` {
			t.Fatalf("subscribe data = %s", f.Data)
		}
		r.waitSub(t, "tenant.1", SubscriptionSubscribed, time.Second)
		c.Subscribe("tenant.2")
		fc.expect(t, "pusher:subscribe", time.Second)
		r.waitSub(t, "tenant.2", SubscriptionSubscribed, time.Second)

		fc.sendString(`App\Events\UserCreated`, "tenant.1", `{"user":{"id":9,"name":"Bo"}}`)
		fc.send("PaymentCompleted", "tenant.2", `{"amount":100}`)
		fc.sendString("Plain", "tenant.2", "not json")
		fc.sendRaw(`{"event":"NoData","channel":"tenant.1"}`)
		fc.sendRaw(`{"event":"client-typing","channel":"tenant.1","data":{"x":1},"user_id":"5"}`)
		want := []struct{ ch, name, data, user string }{
			{"tenant.1", `App\Events\UserCreated`, `{"user":{"id":9,"name":"Bo"}}`, ""},
			{"tenant.2", "PaymentCompleted", `{"amount":100}`, ""},
			{"tenant.2", "Plain", `"not json"`, ""},
			{"tenant.1", "NoData", `null`, ""},
			{"tenant.1", "client-typing", `{"x":1}`, "5"},
		}
		for _, w := range want {
			e := r.waitEvent(t, time.Second)
			if e.Channel != w.ch || e.Name != w.name || string(e.Data) != w.data || e.UserID != w.user {
				t.Errorf("event = %+v (data %s), want %+v", e, e.Data, w)
			}
			if e.Received.IsZero() {
				t.Errorf("Received not set")
			}
		}
		subs := c.Subscriptions()
		if len(subs) != 2 || subs["tenant.1"] != SubscriptionSubscribed || subs["tenant.2"] != SubscriptionSubscribed {
			t.Fatalf("Subscriptions() = %v", subs)
		}
	})
}

func TestEventsForUnwantedChannelsAreDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Subscribe("a")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		fc.send("X", "b", `{}`)
		fc.send("X", "a", `{"n":1}`)
		if e := r.waitEvent(t, time.Second); e.Channel != "a" {
			t.Fatalf("got event on %q", e.Channel)
		}
	})
}

func TestEventsArriveInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Subscribe("a")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		const n = 2000
		go func() {
			for i := range n {
				fc.sendString("Seq", "a", fmt.Sprintf(`{"i":%d}`, i))
			}
		}()
		for i := range n {
			e := r.waitEvent(t, time.Second)
			var d struct{ I int }
			if err := json.Unmarshal(e.Data, &d); err != nil || d.I != i {
				t.Fatalf("event %d has data %s", i, e.Data)
			}
		}
	})
}

func TestUnsubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Subscribe("a")
		c.Subscribe("b")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		r.waitSub(t, "b", SubscriptionSubscribed, time.Second)
		c.Unsubscribe("a")
		c.Unsubscribe("never") // no-op
		f := fc.expect(t, "pusher:unsubscribe", time.Second)
		if string(f.Data) != `{"channel":"a"}` {
			t.Fatalf("unsubscribe data %s", f.Data)
		}
		fc.send("X", "a", `{}`)
		fc.send("Y", "b", `{}`)
		if e := r.waitEvent(t, time.Second); e.Channel != "b" {
			t.Fatalf("event after unsubscribe: %+v", e)
		}
		if subs := c.Subscriptions(); len(subs) != 1 {
			t.Fatalf("Subscriptions() = %v", subs)
		}
	})
}

func TestResubscribeAndReauthoriseOnEveryConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		auth := &signingAuthorizer{}
		cfg := testConfig(s, r)
		cfg.Authorizer = auth
		c := newTestClient(t, s, cfg)
		c.Subscribe("tenant.1")
		c.Subscribe("private-user.5")
		c.Connect()
		fc1 := s.next(t, time.Second)
		r.waitSubs(t, map[string]SubscriptionStatus{"private-user.5": SubscriptionSubscribed, "tenant.1": SubscriptionSubscribed}, time.Second)

		fc1.drop() // 1006
		sc := r.waitState(t, StateUnavailable, time.Second)
		if sc.Err == nil || sc.NextAttempt.IsZero() {
			t.Fatalf("unavailable change = %+v", sc)
		}
		if got := c.Subscriptions()["private-user.5"]; got != SubscriptionPending {
			t.Fatalf("after drop status = %s", got)
		}
		fc2 := s.next(t, 2*time.Second)
		r.waitSubs(t, map[string]SubscriptionStatus{"private-user.5": SubscriptionSubscribed, "tenant.1": SubscriptionSubscribed}, time.Second)
		if fc2.socketID == fc1.socketID {
			t.Fatal("fake server reused a socket id")
		}
		calls := auth.callList()
		want := []string{fc1.socketID + " private-user.5", fc2.socketID + " private-user.5"}
		if len(calls) != 2 || calls[0] != want[0] || calls[1] != want[1] {
			t.Fatalf("authoriser calls = %q, want %q", calls, want)
		}
		fc2.send("X", "private-user.5", `{}`)
		if e := r.waitEvent(t, time.Second); e.Channel != "private-user.5" {
			t.Fatalf("event %+v", e)
		}
	})
}

func TestDisconnectKeepsWantedSetAndConnectResubscribes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Subscribe("a")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		c.Disconnect()
		r.waitState(t, StateDisconnected, time.Second)
		<-fc.done
		time.Sleep(10 * time.Minute) // virtual: no retries while disconnected
		synctest.Wait()
		if n := s.dialCount(); n != 1 {
			t.Fatalf("dialled %d times while disconnected", n)
		}
		if c.SocketID() != "" {
			t.Fatalf("SocketID after Disconnect = %q", c.SocketID())
		}
		c.Connect()
		s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
	})
}

func TestCloseIsIdempotentAndMethodsAfterCloseReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c, err := New(testConfig(s, r))
		if err != nil {
			t.Fatal(err)
		}
		c.Subscribe("a")
		c.Connect()
		s.next(t, time.Second)
		r.waitState(t, StateConnected, time.Second)
		c.Close()
		c.Close()
		c.Connect()
		c.Disconnect()
		c.Reconnect()
		c.Subscribe("b")
		if got := c.State(); got != StateDisconnected {
			t.Fatalf("state after Close = %s", got)
		}
		s.close()
	})
}

func TestReconnectResetsAndConnectsNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Connect()
		fc1 := s.next(t, time.Second)
		r.waitState(t, StateConnected, time.Second)
		start := time.Now()
		c.Reconnect()
		fc2 := s.next(t, time.Second)
		r.waitState(t, StateConnected, time.Second)
		if d := time.Since(start); d != 0 {
			t.Fatalf("Reconnect took %s of virtual time", d)
		}
		<-fc1.done
		if fc1 == fc2 {
			t.Fatal("same connection")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.maxClientOpen != 1 {
			t.Fatalf("client held %d connections at once", s.maxClientOpen)
		}
	})
}

var _ = errors.New
var _ = url.Parse
