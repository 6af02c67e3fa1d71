package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"echotray/devstack/laravel"
	"echotray/realtime"
)

// bucket is the 100 ms resolution of every time series.
const bucket = 100 * time.Millisecond

// payload is the data of every benchmark event.
type payload struct {
	Seq  int64 `json:"seq"`
	Sent int64 `json:"sent"` // Unix nanoseconds, just before the publish request
}

// member is one desktop: a realtime.Client signed in as one user.
type member struct {
	id       int
	user     laravel.User
	channels []string // wanted channels
	private  int      // how many of them need authorisation
	c        *realtime.Client
	rec      *recorder

	authReqs atomic.Int64 // auth requests sent, all time

	mu        sync.Mutex
	connected bool
	status    map[string]realtime.SubscriptionStatus
	okSubs    int
	full      bool             // connected and every channel subscribed
	fullAt    time.Time        // when full last became true
	droppedAt time.Time        // when the connection last went from connected to not
	everBad   bool             // was ever failed (StateFailed) or forbidden
	seen      map[int64]int    // event seq -> times received
	latencies []time.Duration  // delivery latencies, while recording
	recordLat bool             // record latencies
	lastErr   map[string]error // last subscription error per channel
}

// recorder counts what the fleet does per 100 ms and samples gauges.
type recorder struct {
	start time.Time

	connected  atomic.Int64 // gauge: clients connected
	full       atomic.Int64 // gauge: clients with every channel subscribed
	authReqs   atomic.Int64 // counters, reset every bucket
	auth429    atomic.Int64
	auth503    atomic.Int64
	authOK     atomic.Int64
	reconnects atomic.Int64 // transitions to connected
	drops      atomic.Int64 // transitions away from connected
	delivered  atomic.Int64 // benchmark events received

	mu     sync.Mutex
	series []sample
}

// sample is one 100 ms bucket.
type sample struct {
	T          time.Duration // since recorder start, end of the bucket
	Connected  int
	Full       int
	AuthReqs   int
	Auth429    int
	Auth503    int
	AuthOK     int
	Reconnects int
	Drops      int
	Delivered  int
}

func newRecorder() *recorder { return &recorder{start: time.Now()} }

// run samples every bucket until ctx ends.
func (r *recorder) run(ctx context.Context) {
	t := time.NewTicker(bucket)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s := sample{
				T:          now.Sub(r.start),
				Connected:  int(r.connected.Load()),
				Full:       int(r.full.Load()),
				AuthReqs:   int(r.authReqs.Swap(0)),
				Auth429:    int(r.auth429.Swap(0)),
				Auth503:    int(r.auth503.Swap(0)),
				AuthOK:     int(r.authOK.Swap(0)),
				Reconnects: int(r.reconnects.Swap(0)),
				Drops:      int(r.drops.Swap(0)),
				Delivered:  int(r.delivered.Swap(0)),
			}
			r.mu.Lock()
			r.series = append(r.series, s)
			r.mu.Unlock()
		}
	}
}

// window returns the samples whose bucket ends in (from, to].
func (r *recorder) window(from, to time.Time) []sample {
	a, b := from.Sub(r.start), to.Sub(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sample
	for _, s := range r.series {
		if s.T > a && s.T <= b+bucket {
			out = append(out, s)
		}
	}
	return out
}

// countingAuthorizer is the desktop's HTTPAuthorizer, counting requests and
// answers for the member and the recorder.
type countingAuthorizer struct {
	inner realtime.HTTPAuthorizer
	m     *member
}

func (a countingAuthorizer) Authorize(ctx context.Context, socketID, channel string) (realtime.Auth, error) {
	a.m.authReqs.Add(1)
	a.m.rec.authReqs.Add(1)
	auth, err := a.inner.Authorize(ctx, socketID, channel)
	var ae *realtime.AuthError
	switch {
	case err == nil:
		a.m.rec.authOK.Add(1)
	case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
		a.m.rec.auth429.Add(1)
	case errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable:
		a.m.rec.auth503.Add(1)
	}
	return auth, err
}

// channelsFor is what EchoTray subscribes for u: tenant staff their
// tenant's public channel and their user channel, system admins
// private-system.admin and their user channel.
func channelsFor(u laravel.User) (chans []string, private int) {
	user := "private-user." + strconv.FormatInt(u.ID, 10)
	if u.IsSystemAdmin() {
		return []string{"private-system.admin", user}, 2
	}
	t, _ := u.Tenant()
	return []string{"tenant." + strconv.FormatInt(t, 10), user}, 1
}

func newMember(id int, u laravel.User, token string, rec *recorder, host string, port int, key, authURL string, httpc *http.Client) (*member, error) {
	m := &member{id: id, user: u, rec: rec, status: map[string]realtime.SubscriptionStatus{}, seen: map[int64]int{}}
	m.channels, m.private = channelsFor(u)
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	c, err := realtime.New(realtime.Config{
		Key: key, Host: host, Port: port,
		Authorizer: countingAuthorizer{m: m, inner: realtime.HTTPAuthorizer{
			Endpoint: authURL, Client: httpc,
			Header: func(context.Context) (http.Header, error) { return hdr, nil },
		}},
		OnStateChange:  m.onState,
		OnSubscription: m.onSub,
		OnEvent:        m.onEvent,
	})
	if err != nil {
		return nil, err
	}
	m.c = c
	for _, ch := range m.channels {
		c.Subscribe(ch)
	}
	return m, nil
}

func (m *member) onState(sc realtime.StateChange) {
	m.mu.Lock()
	defer m.mu.Unlock()
	was := m.connected
	m.connected = sc.Current == realtime.StateConnected
	switch {
	case !was && m.connected:
		m.rec.connected.Add(1)
		m.rec.reconnects.Add(1)
	case was && !m.connected:
		m.rec.connected.Add(-1)
		m.rec.drops.Add(1)
		m.droppedAt = time.Now()
	}
	if sc.Current == realtime.StateFailed {
		m.everBad = true
	}
	m.updateFull()
}

func (m *member) onSub(sc realtime.SubscriptionChange) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.status[sc.Channel]
	if old == realtime.SubscriptionSubscribed {
		m.okSubs--
	}
	m.status[sc.Channel] = sc.Status
	if sc.Status == realtime.SubscriptionSubscribed {
		m.okSubs++
	}
	if sc.Status == realtime.SubscriptionForbidden {
		m.everBad = true
	}
	if sc.Err != nil {
		if m.lastErr == nil {
			m.lastErr = map[string]error{}
		}
		m.lastErr[sc.Channel] = sc.Err
	}
	m.updateFull()
}

// updateFull keeps full and the recorder's gauge; m.mu is held.
func (m *member) updateFull() {
	full := m.connected && m.okSubs == len(m.channels)
	if full == m.full {
		return
	}
	m.full = full
	if full {
		m.fullAt = time.Now()
		m.rec.full.Add(1)
	} else {
		m.rec.full.Add(-1)
	}
}

func (m *member) onEvent(e realtime.Event) {
	var p payload
	if json.Unmarshal(e.Data, &p) != nil || p.Seq == 0 {
		return
	}
	lat := e.Received.Sub(time.Unix(0, p.Sent))
	m.rec.delivered.Add(1)
	m.mu.Lock()
	m.seen[p.Seq]++
	if m.recordLat {
		m.latencies = append(m.latencies, lat)
	}
	m.mu.Unlock()
}

// snapshot is a consistent view of a member.
type snapshot struct {
	full      bool
	fullAt    time.Time
	droppedAt time.Time
	everBad   bool
	authReqs  int64
}

func (m *member) snap() snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return snapshot{full: m.full, fullAt: m.fullAt, droppedAt: m.droppedAt, everBad: m.everBad, authReqs: m.authReqs.Load()}
}
