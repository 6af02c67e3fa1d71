package realtime

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestAnswersServerPing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		c := newTestClient(t, s, testConfig(s, nil))
		c.Connect()
		fc := s.next(t, time.Second)
		fc.sendRaw(`{"event":"pusher:ping"}`) // Reverb omits data
		fc.expect(t, "pusher:pong", time.Second)
		fc.send("pusher:ping", "", "{}")
		fc.expect(t, "pusher:pong", time.Second)
	})
}

func TestPingsAfterInboundSilenceAndKeepsLiveConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Connect()
		fc := s.next(t, time.Second)
		start := time.Now()
		r.waitState(t, StateConnected, time.Second)
		// Inbound traffic postpones the ping: activity is measured from the
		// last inbound frame, outbound traffic does not count.
		time.Sleep(20 * time.Second)
		fc.send("pusher:pong", "", "{}") // any frame counts as activity
		fc.expect(t, "pusher:ping", time.Minute)
		if got := time.Since(start); got != 50*time.Second {
			t.Fatalf("ping sent after %s, want 20 s + activity_timeout 30 s", got)
		}
		// The fake answers with pusher:pong; the connection must survive
		// many more rounds.
		for range 5 {
			fc.expect(t, "pusher:ping", 31*time.Second)
		}
		synctest.Wait()
		if c.State() != StateConnected || s.dialCount() != 1 {
			t.Fatalf("state %s after %d dials; history %v", c.State(), s.dialCount(), r.stateHistory())
		}
	})
}

func TestActivityTimeoutIsCappedByConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		s.activity = 500 // a server asking for more than the 120 s cap
		c := newTestClient(t, s, testConfig(s, nil))
		c.Connect()
		fc := s.next(t, time.Second)
		start := time.Now()
		fc.expect(t, "pusher:ping", 10*time.Minute)
		if got := time.Since(start); got != DefaultActivityTimeout {
			t.Fatalf("ping after %s, want %s", got, DefaultActivityTimeout)
		}
	})
}

func TestPongTimeoutDropsAndReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		cfg.Backoff = func(int) time.Duration { return 0 }
		c := newTestClient(t, s, cfg)
		c.Subscribe("a")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		start := time.Now()
		fc.setSilent(true) // blackhole: reads everything, answers nothing
		sc := r.waitState(t, StateUnavailable, 2*time.Minute)
		if !errors.Is(sc.Err, ErrPongTimeout) {
			t.Fatalf("unavailable because %v", sc.Err)
		}
		if got := time.Since(start); got != 30*time.Second+DefaultPongTimeout {
			t.Fatalf("dead connection detected after %s, want activity 30 s + pong 30 s", got)
		}
		s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
	})
}

func TestSlowConsumerDoesNotStallKeepalive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		release := make(chan struct{})
		var mu sync.Mutex
		var got []string
		cfg := testConfig(s, nil)
		subscribed := make(chan struct{}, 1)
		cfg.OnSubscription = func(sc SubscriptionChange) {
			if sc.Status == SubscriptionSubscribed {
				subscribed <- struct{}{}
			}
		}
		cfg.OnEvent = func(e Event) {
			<-release // a handler stuck for minutes
			mu.Lock()
			got = append(got, e.Name)
			mu.Unlock()
		}
		c := newTestClient(t, s, cfg)
		c.Subscribe("a")
		c.Connect()
		fc := s.next(t, time.Second)
		<-subscribed
		for _, n := range []string{"e1", "e2", "e3"} {
			fc.send(n, "a", "{}")
		}
		// The server pings while the handler is blocked: the client must
		// still answer, and send its own pings after silence.
		fc.send("pusher:ping", "", "{}")
		fc.expect(t, "pusher:pong", time.Second)
		fc.expect(t, "pusher:ping", time.Minute)
		time.Sleep(5 * time.Minute)
		if c.State() != StateConnected || s.dialCount() != 1 {
			t.Fatalf("slow consumer broke the connection: %s, %d dials", c.State(), s.dialCount())
		}
		close(release)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 3 || got[0] != "e1" || got[2] != "e3" {
			t.Fatalf("events after release = %v", got)
		}
	})
}

func TestWakeFromSleepReconnectsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c, err := New(testConfig(s, r))
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		defer c.Close()
		var mu sync.Mutex
		var jump time.Duration
		c.wallNow = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return time.Now().Add(jump)
		}
		c.Subscribe("a")
		c.Connect()
		fc1 := s.next(t, time.Second)
		r.waitState(t, StateConnected, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		time.Sleep(12 * time.Second)
		if s.dialCount() != 1 {
			t.Fatal("reconnected without a clock jump")
		}
		// The laptop lid was closed for an hour: on Linux the monotonic
		// clock stood still while the wall clock moved on.
		mu.Lock()
		jump = time.Hour
		mu.Unlock()
		start := time.Now()
		sc := r.waitState(t, StateConnecting, wakeInterval+time.Second)
		if !errors.Is(sc.Err, ErrWoke) {
			t.Fatalf("reconnect cause %v", sc.Err)
		}
		if d := time.Since(start); d > wakeInterval {
			t.Fatalf("wake detected after %s", d)
		}
		<-fc1.done
		s.next(t, time.Second)
		r.waitSub(t, "a", SubscriptionSubscribed, time.Second)
	})
}
