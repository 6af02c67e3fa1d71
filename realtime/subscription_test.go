package realtime

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestAuthUnauthorizedEndsSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		auth := &signingAuthorizer{fail: func(ch string, n int) error {
			if n == 1 {
				return &AuthError{Status: http.StatusUnauthorized, Message: "Unauthenticated."}
			}
			return nil
		}}
		cfg := testConfig(s, r)
		cfg.Authorizer = auth
		c := newTestClient(t, s, cfg)
		c.Subscribe("private-user.5")
		c.Connect()
		fc := s.next(t, time.Second)
		sc := r.waitState(t, StateFailed, time.Second)
		if !errors.Is(sc.Err, ErrUnauthorized) {
			t.Fatalf("failed because %v", sc.Err)
		}
		var ae *AuthError
		if !errors.As(sc.Err, &ae) || ae.Message != "Unauthenticated." {
			t.Fatalf("AuthError not reachable: %v", sc.Err)
		}
		sub := r.waitSub(t, "private-user.5", SubscriptionFailed, time.Second)
		if !errors.Is(sub.Err, ErrUnauthorized) {
			t.Fatalf("subscription error %v", sub.Err)
		}
		<-fc.done
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if s.dialCount() != 1 || len(auth.callList()) != 1 {
			t.Fatalf("retried after 401: %d dials, %d auth calls", s.dialCount(), len(auth.callList()))
		}
		// After a new sign-in the app calls Connect again.
		c.Connect()
		s.next(t, time.Second)
		r.waitSub(t, "private-user.5", SubscriptionSubscribed, time.Second)
	})
}

func TestAuthForbiddenOnlyAffectsThatChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		auth := &signingAuthorizer{fail: func(ch string, n int) error {
			if ch == "private-system.admin" {
				return &AuthError{Status: http.StatusForbidden}
			}
			return nil
		}}
		cfg := testConfig(s, r)
		cfg.Authorizer = auth
		c := newTestClient(t, s, cfg)
		c.Subscribe("private-system.admin")
		c.Subscribe("private-user.5")
		c.Subscribe("tenant.1")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSubs(t, map[string]SubscriptionStatus{
			"private-system.admin": SubscriptionForbidden,
			"private-user.5":       SubscriptionSubscribed,
			"tenant.1":             SubscriptionSubscribed,
		}, time.Second)
		got := c.Subscriptions()
		if got["private-system.admin"] != SubscriptionForbidden {
			t.Fatalf("Subscriptions() = %v", got)
		}
		fc.send("X", "tenant.1", "{}")
		r.waitEvent(t, time.Second)
		time.Sleep(10 * time.Minute) // forbidden is not retried on this connection
		synctest.Wait()
		n := 0
		for _, call := range auth.callList() {
			if strings.HasSuffix(call, "private-system.admin") {
				n++
			}
		}
		if n != 1 || c.State() != StateConnected {
			t.Fatalf("forbidden channel authorised %d times; state %s", n, c.State())
		}
	})
}

func TestAuthServerErrorsRetryWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		var times []time.Time
		auth := &signingAuthorizer{fail: func(ch string, n int) error {
			times = append(times, time.Now())
			switch n {
			case 1:
				return &AuthError{Status: http.StatusInternalServerError, Message: "Server Error"}
			case 2:
				return context.DeadlineExceeded
			}
			return nil
		}}
		cfg := testConfig(s, r)
		cfg.Authorizer = auth
		cfg.Backoff = func(n int) time.Duration { return time.Duration(n) * 3 * time.Second }
		c := newTestClient(t, s, cfg)
		c.Subscribe("private-user.5")
		c.Connect()
		s.next(t, time.Second)
		f1 := r.waitSub(t, "private-user.5", SubscriptionFailed, time.Second)
		var ae *AuthError
		if !errors.As(f1.Err, &ae) || ae.Status != 500 || errors.Is(f1.Err, ErrUnauthorized) {
			t.Fatalf("first failure %v", f1.Err)
		}
		r.waitSub(t, "private-user.5", SubscriptionFailed, time.Minute)
		r.waitSub(t, "private-user.5", SubscriptionSubscribed, time.Minute)
		if len(times) != 3 || times[1].Sub(times[0]) != 3*time.Second || times[2].Sub(times[1]) != 6*time.Second {
			t.Fatalf("auth attempts at %v", times)
		}
		if c.State() != StateConnected {
			t.Fatalf("state %s", c.State())
		}
	})
}

func TestSubscriptionTimeoutAndRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		ignore := true
		s.onSubscribe = func(fc *fakeConn, ch, auth string) subscribeReply {
			if ignore {
				return replyIgnore
			}
			return replyConfirm
		}
		r := newRecorder()
		cfg := testConfig(s, r)
		cfg.Backoff = func(int) time.Duration { return 0 } // 1 s floor for subscriptions
		c := newTestClient(t, s, cfg)
		c.Subscribe("tenant.1")
		c.Connect()
		fc := s.next(t, time.Second)
		start := time.Now()
		f := r.waitSub(t, "tenant.1", SubscriptionFailed, time.Minute)
		if !errors.Is(f.Err, ErrSubscriptionTimeout) || time.Since(start) != DefaultSubscribeTimeout {
			t.Fatalf("after %s: %v", time.Since(start), f.Err)
		}
		fc.expect(t, "pusher:unsubscribe", time.Second) // abandon the attempt on the server too
		s.set(func(*fakeServer) { ignore = false })
		r.waitSub(t, "tenant.1", SubscriptionSubscribed, 2*time.Second)
		if c.State() != StateConnected || s.dialCount() != 1 {
			t.Fatal("a subscription timeout must not drop the connection")
		}
	})
}

func TestChannelLess4009FailsPendingSubscriptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		bad := true
		s.onSubscribe = func(fc *fakeConn, ch, auth string) subscribeReply {
			if ch == "private-user.5" && bad {
				return replyError4009
			}
			return replyConfirm
		}
		r := newRecorder()
		cfg := testConfig(s, r)
		cfg.Authorizer = &signingAuthorizer{}
		c := newTestClient(t, s, cfg)
		c.Subscribe("private-user.5")
		c.Connect()
		s.next(t, time.Second)
		start := time.Now()
		f := r.waitSub(t, "private-user.5", SubscriptionFailed, time.Minute)
		if time.Since(start) >= DefaultSubscribeTimeout || !strings.Contains(f.Err.Error(), "4009") {
			t.Fatalf("after %s: %v", time.Since(start), f.Err)
		}
		s.set(func(*fakeServer) { bad = false })
		r.waitSub(t, "private-user.5", SubscriptionSubscribed, 2*time.Minute)
		if c.State() != StateConnected {
			t.Fatalf("state %s", c.State())
		}
	})
}

func TestServerSubscriptionErrorIsReportedAndRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		n := 0
		cfg.Authorizer = authorizerFunc(func(ctx context.Context, socketID, ch string) (Auth, error) {
			n++
			if n == 1 {
				return Auth{Auth: testKey + ":bad"}, nil // Soketi answers subscription_error
			}
			return Auth{Auth: sign(socketID, ch)}, nil
		})
		c := newTestClient(t, s, cfg)
		c.Subscribe("private-user.5")
		c.Connect()
		s.next(t, time.Second)
		f := r.waitSub(t, "private-user.5", SubscriptionFailed, time.Second)
		var se *subscriptionError
		if !errors.As(f.Err, &se) || se.Status != 401 || se.Type != "AuthError" {
			t.Fatalf("error %v", f.Err)
		}
		r.waitSub(t, "private-user.5", SubscriptionSubscribed, 2*time.Minute)
		_ = c
	})
}

func TestUnsubscribeWhileAuthorising(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		started := make(chan struct{})
		cfg.Authorizer = authorizerFunc(func(ctx context.Context, socketID, ch string) (Auth, error) {
			close(started)
			<-ctx.Done() // a slow endpoint; the client cancels
			return Auth{}, ctx.Err()
		})
		c := newTestClient(t, s, cfg)
		c.Subscribe("private-user.5")
		c.Connect()
		fc := s.next(t, time.Second)
		<-started
		c.Unsubscribe("private-user.5")
		synctest.Wait()
		fc.expectNone(t, "pusher:subscribe", time.Minute)
		if len(c.Subscriptions()) != 0 {
			t.Fatalf("Subscriptions() = %v", c.Subscriptions())
		}
	})
}

func TestInvalidChannelsAndMissingAuthorizer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		for _, ch := range []string{"", "bad channel", "private-encrypted-", strings.Repeat("a", 201)} {
			c.Subscribe(ch)
			if f := r.waitSub(t, ch, SubscriptionFailed, time.Second); f.Err == nil {
				t.Fatalf("%q: no error", ch)
			}
		}
		c.Subscribe("private-user.5") // no Authorizer configured
		c.Connect()
		fc := s.next(t, time.Second)
		f := r.waitSub(t, "private-user.5", SubscriptionFailed, time.Second)
		if !strings.Contains(f.Err.Error(), "Authorizer") {
			t.Fatalf("error %v", f.Err)
		}
		fc.expectNone(t, "pusher:subscribe", time.Minute)
	})
}

// Unsubscribe followed at once by Subscribe (a UI toggling a channel off and
// on) may reach the supervisor as one wake-up. The channel must end up
// subscribed again and reported so, with a fresh Subscribed change (the
// moment to catch up), not stuck in Pending.
func TestUnsubscribeThenSubscribeResubscribes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		c := newTestClient(t, s, testConfig(s, r))
		c.Subscribe("tenant.1")
		c.Connect()
		fc := s.next(t, time.Second)
		r.waitSub(t, "tenant.1", SubscriptionSubscribed, time.Second)
		for i := range 20 {
			c.Unsubscribe("tenant.1")
			c.Subscribe("tenant.1")
			synctest.Wait()
			if got := c.Subscriptions()["tenant.1"]; got != SubscriptionSubscribed {
				t.Fatalf("round %d: status %s after Unsubscribe+Subscribe, want subscribed; history %v", i, got, r.subHistory())
			}
			r.waitSub(t, "tenant.1", SubscriptionSubscribed, time.Second)
		}
		fc.send("X", "tenant.1", `{}`)
		if e := r.waitEvent(t, time.Second); e.Channel != "tenant.1" {
			t.Fatalf("event %+v", e)
		}
	})
}

// A channel-less pusher:error 4009 is Reverb's answer to a bad channel
// signature. It cannot concern a public channel, so a public subscription
// waiting for its confirmation at that moment must not be failed, left and
// retried (losing its events meanwhile).
func TestChannelLess4009SparesPublicChannels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		s.onSubscribe = func(fc *fakeConn, ch, auth string) subscribeReply { return replyIgnore }
		r := newRecorder()
		cfg := testConfig(s, r)
		cfg.Authorizer = &signingAuthorizer{}
		c := newTestClient(t, s, cfg)
		c.Subscribe("private-user.5")
		c.Subscribe("tenant.1")
		c.Connect()
		fc := s.next(t, time.Second)
		fc.expect(t, "pusher:subscribe", time.Second)
		fc.expect(t, "pusher:subscribe", time.Second)
		fc.send("pusher:error", "", `{"code":4009,"message":"Connection is unauthorized"}`)
		f := r.waitSub(t, "private-user.5", SubscriptionFailed, time.Second)
		if !strings.Contains(f.Err.Error(), "4009") {
			t.Fatalf("error %v", f.Err)
		}
		fc.sendRaw(`{"event":"pusher_internal:subscription_succeeded","channel":"tenant.1"}`)
		r.waitSub(t, "tenant.1", SubscriptionSubscribed, time.Second)
		for _, h := range r.subHistory() {
			if h == "tenant.1:failed" {
				t.Fatalf("public channel failed by a signature error; history %v", r.subHistory())
			}
		}
		synctest.Wait()
		for len(fc.frames) > 0 {
			if f := <-fc.frames; f.Event == "pusher:unsubscribe" && strings.Contains(string(f.Data), "tenant.1") {
				t.Fatalf("left the public channel: %s", f.Data)
			}
		}
	})
}
