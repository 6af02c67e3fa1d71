package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

const (
	// wakeInterval is how often the supervisor compares the wall clock with
	// the monotonic clock to detect a machine that slept.
	wakeInterval = 5 * time.Second
	// wakeJump is how far the wall clock must run ahead of the monotonic
	// clock between two checks to count as a sleep.
	wakeJump = 5 * time.Second
	// minSubRetry is the smallest delay before retrying a failed subscription.
	minSubRetry = time.Second
)

// subPhase is where one channel stands on the current connection.
type subPhase uint8

const (
	phaseAuth       subPhase = iota // waiting for the authoriser
	phaseSent                       // pusher:subscribe sent, not confirmed
	phaseSubscribed                 // confirmed
	phaseWaitRetry                  // failed; retried at deadline
	phaseForbidden                  // 403; not retried on this connection
	phaseStopped                    // cannot be subscribed (no authoriser)
)

// connSub is the per-connection state of a wanted channel.
type connSub struct {
	phase    subPhase
	deadline time.Time // timeout (auth, sent) or retry time (waitRetry)
	retries  int
	seq      uint64             // current authorisation attempt
	cancel   context.CancelFunc // cancels the authorisation in flight
	// want is the wanted-set entry this subscription serves; Unsubscribe
	// followed by Subscribe replaces it, and the channel is subscribed anew.
	want *wantedSub
	// enc is the key of an encrypted channel, from its authorisation.
	enc *encState
}

// loop is the supervisor's state. Only the supervisor goroutine touches it.
type loop struct {
	c   *Client
	s   *settings
	log *slog.Logger

	state   State
	attempt int  // reconnection attempts since the last stable connection
	useTLS  bool // switched on by Config.TLS or a 4000 close

	gen         uint64
	conn        *conn // the connection being made or live; nil otherwise
	exiting     int   // closed connections whose goroutines are still running
	dialPending bool  // dial once exiting reaches zero

	socketID    string
	connectedAt time.Time
	activity    time.Duration
	waitingPong bool
	pingSentAt  int64 // nanoseconds since c.epoch

	lastErr   pusherError // last in-session pusher:error
	lastErrAt time.Time

	subs    map[string]*connSub
	authSeq uint64

	// Events read but dropped, not handled: they arrived from a connection
	// already closed (see reportDropped).
	dropped, droppedTotal int

	retry, keepalive, subTimer *time.Timer
	wake                       *time.Ticker
	wakeC                      <-chan time.Time
	prevWall, prevMono         time.Time
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// supervise is the supervisor goroutine: the only place where the
// connection state changes.
func (c *Client) supervise() {
	defer c.wg.Done()
	defer close(c.quit)
	l := &loop{
		c: c, s: c.s, log: c.log,
		useTLS:    c.s.TLS,
		subs:      make(map[string]*connSub),
		retry:     stoppedTimer(),
		keepalive: stoppedTimer(),
		subTimer:  stoppedTimer(),
	}
	for {
		select {
		case cmd := <-c.cmds:
			if l.command(cmd) {
				return
			}
		case <-c.kick:
			l.reconcile()
		case ev := <-c.events:
			l.handle(ev)
		case <-l.retry.C:
			if l.state == StateUnavailable {
				l.connect(nil)
			}
		case <-l.keepalive.C:
			l.keepaliveFired()
		case <-l.subTimer.C:
			l.subTimerFired()
		case <-l.wakeC:
			l.wakeCheck()
		}
	}
}

// command runs a user request; it returns true when the supervisor must exit.
func (l *loop) command(cmd command) bool {
	switch cmd {
	case cmdConnect:
		switch l.state {
		case StateInitialized, StateDisconnected, StateFailed:
			l.attempt = 0
			l.connect(nil)
		}
	case cmdDisconnect:
		if l.state != StateDisconnected {
			l.closeConn(true)
			l.retry.Stop()
			l.setState(StateDisconnected, nil, time.Time{})
		}
	case cmdReconnect:
		l.closeConn(true)
		l.attempt = 0
		l.connect(nil)
	case cmdClose:
		l.closeConn(true)
		l.retry.Stop()
		if l.state != StateDisconnected {
			l.setState(StateDisconnected, nil, time.Time{})
		}
		l.stopWake()
		return true
	}
	return false
}

// setState is the one place where the connection state changes.
func (l *loop) setState(next State, err error, nextAttempt time.Time) {
	prev := l.state
	if prev == next && next != StateUnavailable {
		return
	}
	l.state = next
	l.c.state.Store(int32(next))
	l.log.Info("realtime: state", "from", prev.String(), "to", next.String(), "err", err)
	l.c.disp.push(item{kind: itemState, state: StateChange{Previous: prev, Current: next, Err: err, NextAttempt: nextAttempt}})
	if prev == StateConnected && next != StateConnected {
		for _, ch := range l.c.wantedList() {
			l.c.setSubStatus(ch, SubscriptionPending, nil)
		}
	}
	switch next {
	case StateConnecting, StateConnected, StateUnavailable:
		l.startWake()
	default:
		l.stopWake()
	}
}

// connect enters StateConnecting and dials, after any previous connection
// has fully exited (never two connections at once).
func (l *loop) connect(cause error) {
	l.retry.Stop()
	l.setState(StateConnecting, cause, time.Time{})
	if l.exiting > 0 {
		l.dialPending = true
		return
	}
	l.dial()
}

func (l *loop) dial() {
	l.dialPending = false
	l.gen++
	cc := newConn(l.c, l.gen, l.s.url(l.useTLS))
	l.conn = cc
	l.c.wg.Add(1)
	go cc.run()
}

// closeConn drops the current connection and its per-connection state.
func (l *loop) closeConn(graceful bool) {
	if l.conn != nil {
		l.conn.close(graceful)
		l.conn = nil
		l.exiting++
	}
	for _, s := range l.subs {
		if s.cancel != nil {
			s.cancel()
		}
		l.dropPending(s)
	}
	clear(l.subs)
	l.dialPending = false
	l.subTimer.Stop()
	l.keepalive.Stop()
	l.waitingPong = false
	l.lastErr, l.lastErrAt = pusherError{}, time.Time{}
	if l.socketID != "" {
		l.socketID = ""
		empty := ""
		l.c.socketID.Store(&empty)
	}
}

// handle processes one report from a connection or auth goroutine.
func (l *loop) handle(ev connEvent) {
	if ev.kind == evExited {
		l.exiting--
		l.reportDropped(ev.dropped)
		if l.exiting == 0 && l.dialPending && l.state == StateConnecting {
			l.dial()
		}
		return
	}
	if l.conn == nil || ev.gen != l.gen {
		// Stale: from a connection already replaced.
		if ev.kind == evFrame {
			l.dropFrame(ev.cost)
		}
		return
	}
	switch ev.kind {
	case evEstablished:
		l.established(ev)
	case evFrame:
		if l.state == StateConnected {
			l.route(ev.frame, ev.received, ev.cost)
		} else {
			l.dropFrame(ev.cost)
		}
	case evClosed:
		l.lost(ev.code, ev.err)
	case evAuth:
		l.authDone(ev)
	case evReauth:
		l.reauthDone(ev)
	}
}

func (l *loop) established(ev connEvent) {
	l.socketID = ev.socketID
	id := ev.socketID
	l.c.socketID.Store(&id)
	l.connectedAt = time.Now()
	l.activity = l.s.ActivityTimeout
	if ev.activity > 0 {
		l.activity = min(l.activity, time.Duration(ev.activity)*time.Second)
	}
	l.waitingPong = false
	l.keepalive.Reset(l.activity)
	l.log.Debug("realtime: connected", "socket_id", ev.socketID, "activity_timeout", l.activity)
	l.setState(StateConnected, nil, time.Time{})
	l.reconcile()
}

// lost handles the end of the current connection (or of an attempt) and
// applies the close policy.
func (l *loop) lost(code int, err error) {
	wasConnected := l.state == StateConnected
	stable := wasConnected && time.Since(l.connectedAt) >= stableAfter
	if (code == 1005 || code == 1006) && l.lastErr.Code != 0 && time.Since(l.lastErrAt) <= errorCloseWindow {
		// Reverb sends the code as pusher:error and then drops TCP.
		code = l.lastErr.Code
		err = &CloseError{Code: code, Message: l.lastErr.Message}
	}
	l.closeConn(false)
	if stable {
		l.attempt = 0
	}
	act := closeActionFor(code)
	// The first attempt after a live connection ends (or after "reconnect
	// now", even during the handshake) is spread by Jitter: a restarting
	// or dead node sends every client here at the same moment. Attempts
	// of a failure streak use Backoff.
	first := l.attempt == 0 && (wasConnected || act == actNow)
	switch act {
	case actStop:
		l.fail(err)
	case actTLS:
		if l.useTLS {
			l.fail(err)
			return
		}
		l.useTLS = true
		l.attempt++
		if first {
			l.retryJittered(0, err)
			return
		}
		l.connect(err)
	case actNow:
		l.attempt++
		if first {
			l.retryJittered(0, err)
			return
		}
		l.waitAndRetry(l.s.Backoff(l.attempt), err)
	default:
		var floor time.Duration
		if code >= 4100 && code <= 4199 {
			floor = time.Second // the protocol asks for at least 1 s
		}
		l.attempt++
		if first {
			l.retryJittered(floor, err)
			return
		}
		l.waitAndRetry(max(l.s.Backoff(l.attempt), floor), err)
	}
}

// retryJittered schedules the first reconnection attempt floor plus Jitter
// from now, or connects at once when that is no wait at all.
func (l *loop) retryJittered(floor time.Duration, err error) {
	d := floor + max(l.s.Jitter(), 0)
	if d <= 0 {
		l.connect(err)
		return
	}
	l.waitAndRetry(d, err)
}

func (l *loop) fail(err error) {
	l.closeConn(true)
	l.retry.Stop()
	l.setState(StateFailed, err, time.Time{})
}

func (l *loop) waitAndRetry(d time.Duration, err error) {
	d = max(d, 0)
	l.retry.Reset(d)
	l.setState(StateUnavailable, err, time.Now().Add(d))
}

// dropFrame gives back the dispatch room of a frame that will not be
// routed, counting it if it was an application event.
func (l *loop) dropFrame(cost int64) {
	if cost > 0 {
		l.c.disp.release(cost)
		l.dropped++
	}
}

// reportDropped logs the events dropped since the last report, with n more
// dropped by the reader, when a connection's goroutines have exited: by
// then every frame that connection read has reached the supervisor. These
// are events read from a connection that was closed (reconnect,
// disconnect, wake from sleep) before they could be queued, as when the
// reader was waiting for room; the app's catch-up after resubscribing
// covers them as it covers any reconnect.
func (l *loop) reportDropped(n int) {
	n += l.dropped
	l.dropped = 0
	if n == 0 {
		return
	}
	l.droppedTotal += n
	l.log.Warn("realtime: dropped events read from a connection that closed before they could be queued",
		"dropped", n, "dropped_total", l.droppedTotal)
}

// send queues a frame on the live connection.
func (l *loop) send(b []byte) {
	if l.conn != nil {
		l.conn.send(b)
	}
}

// route handles one frame of a live connection. cost is the dispatch room
// the reader booked for an application event (0 for protocol messages):
// handed on with the event, or given back.
func (l *loop) route(f frame, received time.Time, cost int64) {
	switch f.Event {
	case "pusher:ping":
		l.send(pongFrame)
	case "pusher:pong":
		// Reading it already counted as activity.
	case "pusher:error":
		pe := parsePusherError(f)
		l.lastErr, l.lastErrAt = pe, time.Now()
		l.log.Warn("realtime: server error", "code", pe.Code, "message", pe.Message, "channel", f.Channel)
		if pe.Code == 4009 && f.Channel == "" {
			// Reverb's answer to a bad channel signature names no channel:
			// fail every signed subscription still waiting for
			// confirmation (a public channel has no signature to reject).
			err := fmt.Errorf("realtime: server rejected a subscription: pusher:error %d: %s", pe.Code, pe.Message)
			for ch, s := range l.subs {
				if s.phase == phaseSent && needsAuth(ch) {
					l.subFailed(ch, s, err, true)
				}
			}
			l.armSubTimer()
		}
	case "pusher_internal:subscription_succeeded":
		l.subscribed(f.Channel)
	case "pusher:subscription_error":
		s := l.subs[f.Channel]
		if s == nil || s.phase != phaseSent {
			l.log.Debug("realtime: ignored subscription_error", "channel", f.Channel)
			return
		}
		l.subFailed(f.Channel, s, parseSubscriptionError(f), false)
		l.armSubTimer()
	case "pusher:connection_established":
		l.log.Warn("realtime: ignored a second pusher:connection_established")
	default:
		if !isAppEvent(f.Event) {
			l.log.Debug("realtime: ignored internal event", "event", f.Event, "channel", f.Channel)
			return
		}
		if f.Channel != "" && l.subs[f.Channel] == nil {
			l.c.disp.release(cost)
			l.log.Debug("realtime: dropped event for a channel not wanted", "event", f.Event, "channel", f.Channel)
			return
		}
		it := item{kind: itemEvent, cost: cost, event: Event{
			Channel: f.Channel, Name: f.Event, Data: f.Data, UserID: f.UserID, Received: received,
		}}
		if isEncrypted(f.Channel) {
			l.encryptedEvent(f.Channel, l.subs[f.Channel], it)
			return
		}
		l.c.disp.push(it)
	}
}

// keepaliveFired implements pusher-js's activity check: ping after
// l.activity of inbound silence, give up after PongTimeout without a reply.
func (l *loop) keepaliveFired() {
	if l.conn == nil || l.state != StateConnected {
		return
	}
	if l.conn.paused.Load() {
		// The reader is waiting for room in the dispatch queue, not
		// reading: the silence is the client's own, not the server's.
		// Ping all the same: servers that count client messages as
		// activity (Reverb) keep the connection, and the pong is read
		// when the reader resumes (which counts as activity too).
		l.waitingPong = false
		l.send(pingFrame)
		l.keepalive.Reset(l.activity)
		return
	}
	now := int64(time.Since(l.c.epoch))
	last := l.conn.lastRead.Load()
	if l.waitingPong {
		if last < l.pingSentAt {
			l.log.Warn("realtime: no reply to ping; reconnecting", "timeout", l.s.PongTimeout)
			l.lost(0, fmt.Errorf("realtime: no reply within %s: %w", l.s.PongTimeout, ErrPongTimeout))
			return
		}
		l.waitingPong = false
	}
	if idle := time.Duration(now - last); idle < l.activity {
		l.keepalive.Reset(l.activity - idle)
		return
	}
	l.send(pingFrame)
	l.waitingPong = true
	l.pingSentAt = now
	l.keepalive.Reset(l.s.PongTimeout)
}

func (l *loop) startWake() {
	if l.wake != nil {
		return
	}
	l.wake = time.NewTicker(wakeInterval)
	l.wakeC = l.wake.C
	l.prevWall, l.prevMono = l.c.wallNow().Round(0), time.Now()
}

func (l *loop) stopWake() {
	if l.wake != nil {
		l.wake.Stop()
		l.wake, l.wakeC = nil, nil
	}
}

// wakeCheck detects a machine that slept: the wall clock ran ahead of the
// monotonic clock (Linux stops the monotonic clock in suspend), or the
// ticker itself fired very late (platforms whose monotonic clock keeps
// running). Either way the socket is probably dead: reconnect at once.
func (l *loop) wakeCheck() {
	wall, mono := l.c.wallNow().Round(0), time.Now()
	dw, dm := wall.Sub(l.prevWall), mono.Sub(l.prevMono)
	l.prevWall, l.prevMono = wall, mono
	if dw-dm <= wakeJump && dm <= 3*wakeInterval {
		return
	}
	l.log.Info("realtime: clock jump; the machine probably slept", "wall", dw, "monotonic", dm)
	switch l.state {
	case StateConnected, StateConnecting, StateUnavailable:
		l.closeConn(false)
		l.attempt = 0
		l.connect(ErrWoke)
	}
}

// reconcile makes the current connection's subscriptions match the wanted
// set.
func (l *loop) reconcile() {
	if l.state != StateConnected || l.conn == nil {
		return
	}
	order, wanted := l.c.wantedEntries()
	for ch, s := range l.subs {
		if w, ok := wanted[ch]; !ok || w != s.want {
			l.dropSub(ch, s)
		}
	}
	for _, ch := range order {
		if l.subs[ch] == nil {
			s := &connSub{want: wanted[ch]}
			l.subs[ch] = s
			l.c.setSubStatus(ch, SubscriptionPending, nil)
			l.attemptSub(ch, s)
		}
	}
	l.armSubTimer()
}

// dropSub leaves a channel on the current connection.
func (l *loop) dropSub(ch string, s *connSub) {
	if s.cancel != nil {
		s.cancel()
	}
	if s.phase == phaseSent || s.phase == phaseSubscribed {
		l.send(unsubscribeFrame(ch))
	}
	l.dropPending(s)
	delete(l.subs, ch)
}

// attemptSub starts one subscription attempt on the live connection.
func (l *loop) attemptSub(ch string, s *connSub) {
	s.deadline = time.Now().Add(l.s.SubscribeTimeout)
	if !needsAuth(ch) {
		s.phase = phaseSent
		l.send(subscribeFrame(ch, Auth{}))
		return
	}
	if l.s.Authorizer == nil {
		s.phase, s.deadline = phaseStopped, time.Time{}
		l.c.setSubStatus(ch, SubscriptionFailed, fmt.Errorf("realtime: %q needs authorisation but Config.Authorizer is nil", ch))
		return
	}
	s.phase = phaseAuth
	l.authSeq++
	s.seq = l.authSeq
	ctx, cancel := context.WithDeadline(l.conn.ctx, s.deadline)
	s.cancel = cancel
	l.goAuthorize(ctx, cancel, evAuth, ch, s.seq)
}

// goAuthorize runs the authoriser for ch on a goroutine of its own (at most
// maxAuthConcurrency at once per client) and posts the result to the
// supervisor as an event of kind for attempt seq; cancel is called when it
// is done.
func (l *loop) goAuthorize(ctx context.Context, cancel context.CancelFunc, kind connEventKind, ch string, seq uint64) {
	c, gen, socketID, authz := l.c, l.gen, l.socketID, l.s.Authorizer
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		var (
			a   Auth
			err error
		)
		select {
		case c.authSem <- struct{}{}:
			a, err = callAuthorizer(ctx, authz, socketID, ch)
			<-c.authSem
		case <-ctx.Done():
			err = ctx.Err()
		}
		select {
		case c.events <- connEvent{kind: kind, gen: gen, channel: ch, seq: seq, auth: a, err: err}:
		case <-c.quit:
		}
	}()
}

// callAuthorizer runs the authoriser, turning a panic into an error.
func callAuthorizer(ctx context.Context, a Authorizer, socketID, ch string) (auth Auth, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("realtime: authorizer panicked: %v", r)
		}
	}()
	return a.Authorize(ctx, socketID, ch)
}

// authDone handles an authorisation result.
func (l *loop) authDone(ev connEvent) {
	s := l.subs[ev.channel]
	if s == nil || s.phase != phaseAuth || s.seq != ev.seq {
		return // unsubscribed, timed out or superseded meanwhile
	}
	s.cancel()
	s.cancel = nil
	switch {
	case ev.err == nil && isEncrypted(ev.channel):
		key, err := parseSharedSecret(ev.auth.SharedSecret)
		if err != nil {
			l.subFailed(ev.channel, s, fmt.Errorf("realtime: authorising %q: %w", ev.channel, err), false)
			l.armSubTimer()
			return
		}
		l.dropPending(s)
		s.enc = &encState{key: key}
		s.phase = phaseSent
		l.send(subscribeFrame(ev.channel, ev.auth))
	case ev.err == nil:
		s.phase = phaseSent
		l.send(subscribeFrame(ev.channel, ev.auth))
	case errors.Is(ev.err, ErrUnauthorized):
		err := fmt.Errorf("realtime: authorising %q: %w", ev.channel, ev.err)
		l.log.Warn("realtime: session is over; not retrying", "channel", ev.channel, "err", ev.err)
		l.fail(err)
		l.c.setSubStatus(ev.channel, SubscriptionFailed, err)
	case errors.Is(ev.err, ErrForbidden):
		s.phase, s.deadline = phaseForbidden, time.Time{}
		l.log.Warn("realtime: channel forbidden", "channel", ev.channel, "err", ev.err)
		l.c.setSubStatus(ev.channel, SubscriptionForbidden, fmt.Errorf("realtime: authorising %q: %w", ev.channel, ev.err))
		l.armSubTimer()
	default:
		var ae *AuthError
		if errors.As(ev.err, &ae) && ae.RetryAfter > 0 {
			l.authRetryAfter(ev.channel, s, ae, ev.err)
		} else {
			l.subFailed(ev.channel, s, fmt.Errorf("realtime: authorising %q: %w", ev.channel, ev.err), false)
		}
		l.armSubTimer()
	}
}

// authRetryAfter handles an authoriser answer that asked to wait
// (Retry-After on a 429 or 503): the channel alone waits that long, capped at
// maxRetryAfter, plus Jitter, then tries again on the same connection.
// (A jitter growing with each wait in a row was measured and rejected: at
// 2,000 clients it doubled the time to resubscribe after a node failure
// and barely lowered the excess over the limit; see docs/scaling.md.)
func (l *loop) authRetryAfter(ch string, s *connSub, ae *AuthError, cause error) {
	s.retries++
	d := min(ae.RetryAfter, maxRetryAfter) + max(l.s.Jitter(), 0)
	d = max(d, minSubRetry)
	at := time.Now().Add(d)
	s.phase, s.deadline = phaseWaitRetry, at
	var what string
	switch ae.Status {
	case http.StatusTooManyRequests:
		what = "rate limited"
	case http.StatusServiceUnavailable:
		what = "endpoint unavailable (HTTP 503)"
	default:
		what = fmt.Sprintf("endpoint asked to wait (HTTP %d)", ae.Status)
	}
	err := fmt.Errorf("realtime: authorising %q: %s, retrying at %s: %w",
		ch, what, at.Format("2006-01-02T15:04:05.000Z07:00"), cause)
	l.log.Warn("realtime: authorisation throttled", "channel", ch, "status", ae.Status, "retry_in", d)
	l.c.setSubStatus(ch, SubscriptionFailed, err)
}

func (l *loop) subscribed(ch string) {
	s := l.subs[ch]
	if s == nil || s.phase != phaseSent {
		l.log.Debug("realtime: ignored subscription_succeeded", "channel", ch)
		return
	}
	s.phase, s.deadline, s.retries = phaseSubscribed, time.Time{}, 0
	l.c.setSubStatus(ch, SubscriptionSubscribed, nil)
	l.armSubTimer()
}

// subFailed marks an attempt failed and schedules a retry with backoff.
// unsubscribe leaves the channel on the server first, so that a late
// confirmation of the abandoned attempt cannot be mistaken for the next one.
func (l *loop) subFailed(ch string, s *connSub, err error, unsubscribe bool) {
	if unsubscribe && s.phase == phaseSent {
		l.send(unsubscribeFrame(ch))
	}
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.retries++
	d := max(l.s.Backoff(s.retries), minSubRetry)
	s.phase, s.deadline = phaseWaitRetry, time.Now().Add(d)
	l.log.Warn("realtime: subscription failed", "channel", ch, "err", err, "retry_in", d)
	l.c.setSubStatus(ch, SubscriptionFailed, err)
}

func (l *loop) subTimerFired() {
	if l.state != StateConnected {
		return
	}
	now := time.Now()
	for ch, s := range l.subs {
		if s.deadline.IsZero() || now.Before(s.deadline) {
			continue
		}
		switch s.phase {
		case phaseAuth, phaseSent:
			l.subFailed(ch, s, fmt.Errorf("realtime: %q after %s: %w", ch, l.s.SubscribeTimeout, ErrSubscriptionTimeout), true)
		case phaseWaitRetry:
			l.attemptSub(ch, s)
		}
	}
	l.armSubTimer()
}

// armSubTimer sets the subscription timer to the earliest deadline.
func (l *loop) armSubTimer() {
	var next time.Time
	for _, s := range l.subs {
		if !s.deadline.IsZero() && (next.IsZero() || s.deadline.Before(next)) {
			next = s.deadline
		}
	}
	if next.IsZero() {
		l.subTimer.Stop()
		return
	}
	l.subTimer.Reset(max(time.Until(next), 0))
}
