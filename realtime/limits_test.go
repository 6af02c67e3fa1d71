package realtime

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestOversizedFrameIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		cfg.MaxFrameBytes = 64 << 10
		c := newTestClient(t, s, cfg)
		c.Subscribe("a")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		fc.send("Small", "a", `{}`)
		go fc.sendString("Huge", "a", `{"blob":"`+strings.Repeat("x", 128<<10)+`"}`)
		if e := r.waitEvent(t, time.Second); e.Name != "Small" {
			t.Fatalf("got %s", e.Name)
		}
		sc := r.waitState(t, StateUnavailable, time.Second)
		if !errors.Is(sc.Err, ErrFrameTooLarge) || !strings.Contains(sc.Err.Error(), "65536") {
			t.Fatalf("cause %v", sc.Err)
		}
		fc2 := s.next(t, 2*time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		fc2.send("After", "a", `{}`)
		if e := r.waitEvent(t, time.Second); e.Name != "After" {
			t.Fatalf("the oversized frame was delivered: %s", e.Name)
		}
	})
}

func TestMalformedFramesAreSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Subscribe("a")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		for _, bad := range []string{
			`not json`,
			`{"event":`,
			`{"data":{}}`,
			`{"event":42}`,
			`[1,2,3]`,
			`{"event":"pusher:unknown_thing","data":{}}`,
			`{"event":"pusher_internal:member_added","channel":"a","data":"{\"user_id\":\"6\"}"}`,
			`{"event":"pusher_internal:subscription_succeeded","channel":"nope"}`,
			`{"event":"pusher:subscription_error","channel":"nope","data":{}}`,
			`{"event":"pusher:connection_established","data":"{\"socket_id\":\"9.9\"}"}`,
		} {
			fc.sendRaw(bad)
		}
		fc.send("Good", "a", `{"ok":true}`)
		e := r.waitEvent(t, time.Second)
		if e.Name != "Good" {
			t.Fatalf("got %+v", e)
		}
		synctest.Wait()
		if c.State() != StateConnected || s.dialCount() != 1 || c.SocketID() != fc.socketID {
			t.Fatalf("malformed frames disturbed the connection: %s", c.State())
		}
	})
}

func TestListenEchoNaming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		var mu sync.Mutex
		got := map[string][]string{}
		listen := func(key, ch, ev string) func() {
			return c.Listen(ch, ev, func(e Event) {
				mu.Lock()
				got[key] = append(got[key], e.Channel+"/"+e.Name)
				mu.Unlock()
			})
		}
		listen("UserCreated", "tenant.1", "UserCreated")
		listen(".UserCreated", "tenant.1", ".UserCreated")
		listen("nested", "tenant.1", "Billing.PaymentCompleted")
		listen("anywhere", "", "UserCreated")
		stop := listen("stopped", "tenant.1", "UserCreated")
		stop()
		stop() // idempotent
		c.Subscribe("tenant.1")
		c.Subscribe("tenant.2")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSubs(t, map[string]SubscriptionStatus{"tenant.1": SubscriptionSubscribed, "tenant.2": SubscriptionSubscribed}, time.Second)
		for _, n := range []string{`App\Events\UserCreated`, "UserCreated", `App\Events\Billing\PaymentCompleted`, `Other\UserCreated`} {
			fc.sendString(n, "tenant.1", "{}")
		}
		fc.sendString("UserCreated", "tenant.2", "{}")
		for range 5 {
			r.waitEvent(t, time.Second)
		}
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		want := map[string][]string{
			"UserCreated":  {`tenant.1/App\Events\UserCreated`, "tenant.1/UserCreated"},
			".UserCreated": {"tenant.1/UserCreated"},
			"nested":       {`tenant.1/App\Events\Billing\PaymentCompleted`},
			"anywhere":     {`tenant.1/App\Events\UserCreated`, "tenant.1/UserCreated", "tenant.2/UserCreated"},
		}
		for k, w := range want {
			if strings.Join(got[k], ",") != strings.Join(w, ",") {
				t.Errorf("%s received %v, want %v", k, got[k], w)
			}
		}
		if len(got["stopped"]) != 0 {
			t.Errorf("stopped listener received %v", got["stopped"])
		}
	})
}

func TestHandlerPanicDoesNotStopDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		inner := cfg.OnEvent
		cfg.OnEvent = func(e Event) {
			inner(e)
			if e.Name == "Boom" {
				panic("handler bug")
			}
		}
		c := newTestClient(t, s, cfg)
		c.Listen("a", ".Boom", func(Event) { panic("listener bug") })
		c.Subscribe("a")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		fc.send("Boom", "a", "{}")
		fc.send("Fine", "a", "{}")
		r.waitEvent(t, time.Second)
		if e := r.waitEvent(t, time.Second); e.Name != "Fine" {
			t.Fatalf("got %s", e.Name)
		}
	})
}

// TestDispatcherQueueIsBoundedAndOrdered: push never blocks, but an event
// must first book room with reserve, which runs out at maxQueuedEvents or
// maxQueuedBytes (one event always fits an empty queue); delivering an
// event gives its room back and wakes a waiting reader; order is kept.
func TestDispatcherQueueIsBoundedAndOrdered(t *testing.T) {
	d := newDispatcher(&settings{Config: Config{Logger: discardLogger()}}, nil)
	var got []int
	release := make(chan struct{})
	d.onEvent = func(e Event) {
		<-release
		got = append(got, int(e.Data[0]))
	}
	d.listeners = newListenerPtr()
	go d.run()
	// By count.
	cost := eventCost(10)
	for i := range maxQueuedEvents {
		if ok, _ := d.reserve(cost); !ok {
			t.Fatalf("event %d did not fit", i)
		}
		d.push(item{kind: itemEvent, cost: cost, event: Event{Data: []byte{byte(i % 256)}}})
	}
	ok, wait := d.reserve(cost)
	if ok || wait == nil {
		t.Fatalf("event %d fitted: the queue is not bounded by count", maxQueuedEvents+1)
	}
	// State and subscription changes are never held up.
	d.push(item{kind: itemState})
	close(release)
	select {
	case <-wait:
	case <-time.After(5 * time.Second):
		t.Fatal("delivering did not wake the waiting reader")
	}
	d.close()
	<-d.done
	if len(got) != maxQueuedEvents {
		t.Fatalf("delivered %d", len(got))
	}
	for i, v := range got {
		if v != i%256 {
			t.Fatalf("item %d out of order", i)
		}
	}
	if d.events != 0 || d.bytes != 0 {
		t.Fatalf("room not given back: %d events, %d bytes", d.events, d.bytes)
	}
	d.push(item{kind: itemEvent}) // after close: dropped, no panic

	// By bytes; one event larger than the whole queue fits when it is empty.
	d = newDispatcher(&settings{Config: Config{Logger: discardLogger()}}, nil)
	if ok, _ := d.reserve(2 * maxQueuedBytes); !ok {
		t.Fatal("an oversized event did not fit into the empty queue")
	}
	if ok, _ := d.reserve(eventCost(0)); ok {
		t.Fatal("the queue is not bounded by bytes")
	}
	d.release(2 * maxQueuedBytes)
	for i := 0; ; i++ {
		if ok, _ := d.reserve(1 << 20); !ok {
			if i != maxQueuedBytes>>20 {
				t.Fatalf("%d events of 1 MiB fitted, want %d", i, maxQueuedBytes>>20)
			}
			break
		}
	}
}

// TestStalledWriterReplacesConnection: a server that stops reading makes the
// client's writes block; the write deadline ends the connection with the
// write error as cause, and the client reconnects.
func TestStalledWriterReplacesConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitState(t, StateConnected, time.Second)
		s.lastClient().stick() // the send buffer is full from now on
		start := time.Now()
		fc.send("pusher:ping", "", "{}") // the client must answer: its write blocks
		sc := r.waitState(t, StateUnavailable, time.Minute)
		if sc.Err == nil || !strings.Contains(sc.Err.Error(), "write failed") {
			t.Fatalf("cause %v", sc.Err)
		}
		if d := time.Since(start); d != writeTimeout {
			t.Fatalf("stall detected after %s, want the %s write timeout", d, writeTimeout)
		}
		s.next(t, time.Minute)
		r.waitState(t, StateConnected, time.Second)
	})
}

// Subscribing many channels queues one pusher:subscribe each at once. That
// burst is not a stalled writer: the client must stay on its connection and
// subscribe them all.
func TestManyChannelsDoNotStallTheConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		const n = 1000
		for i := range n {
			c.Subscribe(fmt.Sprintf("tenant.%d", i))
		}
		c.Connect()
		s.next(t, time.Second)
		time.Sleep(time.Minute)
		synctest.Wait()
		got := 0
		for _, st := range c.Subscriptions() {
			if st == SubscriptionSubscribed {
				got++
			}
		}
		if got != n || s.dialCount() != 1 {
			t.Fatalf("%d of %d subscribed after %d dials; states %v", got, n, s.dialCount(), r.stateHistory())
		}
	})
}
