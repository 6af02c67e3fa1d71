package realtime

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const (
	testKey    = "app-key"
	testSecret = "app-secret"
)

// sign returns the Pusher channel signature for socketID and channel.
func sign(socketID, channel string) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(socketID + ":" + channel))
	return testKey + ":" + hex.EncodeToString(m.Sum(nil))
}

// subscribeReply says how the fake server answers a pusher:subscribe.
type subscribeReply int

const (
	replyConfirm   subscribeReply = iota // subscription_succeeded (if the signature is right)
	replyIgnore                          // say nothing
	replyError4009                       // channel-less pusher:error 4009 (Reverb)
)

// fakeServer is an in-process Pusher server reached through net.Pipe, so it
// works inside a synctest bubble. It speaks real WebSocket (gorilla).
type fakeServer struct {
	t  testing.TB
	up websocket.Upgrader

	mu        sync.Mutex
	conns     []*fakeConn
	dials     []string // addresses dialled
	dialTimes []time.Time
	refuse    bool // dials fail with ECONNREFUSED
	active    int  // server-side connections open
	maxActive int
	// clientOpen counts client-side sockets not yet closed by the client:
	// the client must never hold two.
	clientOpen    int
	maxClientOpen int
	clients       []*memConn // client ends, in dial order
	nextID        int
	activity      int // activity_timeout sent in the handshake
	handshake     func(fc *fakeConn) bool
	onSubscribe   func(fc *fakeConn, channel, auth string) subscribeReply
	autoPong      bool
	tlsConfig     *tls.Config // serve wss when set

	accepted chan *fakeConn
	wg       sync.WaitGroup
}

func newFakeServer(t testing.TB) *fakeServer {
	s := &fakeServer{
		t:        t,
		up:       websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		activity: 30,
		autoPong: true,
		accepted: make(chan *fakeConn, 64),
	}
	return s
}

// set changes the server's behaviour under its lock.
func (s *fakeServer) set(fn func(s *fakeServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

// lastClient returns the client end of the newest connection.
func (s *fakeServer) lastClient() *memConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[len(s.clients)-1]
}

func (s *fakeServer) dialCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dials)
}

// dial is the client's Config.NetDialContext.
func (s *fakeServer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.mu.Lock()
	s.dials = append(s.dials, addr)
	s.dialTimes = append(s.dialTimes, time.Now())
	refuse := s.refuse
	s.mu.Unlock()
	if refuse {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	cli, srv := memPipePair()
	s.mu.Lock()
	s.clientOpen++
	s.maxClientOpen = max(s.maxClientOpen, s.clientOpen)
	s.mu.Unlock()
	s.clients = append(s.clients, cli)
	cli.onClose = func() {
		s.mu.Lock()
		s.clientOpen--
		s.mu.Unlock()
	}
	s.wg.Add(1)
	go s.serve(srv)
	return cli, nil
}

// hijacker lets gorilla's Upgrader take over a raw pipe connection.
type hijacker struct {
	conn net.Conn
	brw  *bufio.ReadWriter
	h    http.Header
}

func (w *hijacker) Header() http.Header { return w.h }
func (w *hijacker) WriteHeader(code int) {
	fmt.Fprintf(w.conn, "HTTP/1.1 %d %s\r\nConnection: close\r\n\r\n", code, http.StatusText(code))
}
func (w *hijacker) Write(b []byte) (int, error) { return w.conn.Write(b) }
func (w *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, w.brw, nil
}

func (s *fakeServer) serve(nc net.Conn) {
	defer s.wg.Done()
	s.mu.Lock()
	tc := s.tlsConfig
	s.mu.Unlock()
	if tc != nil {
		tlsConn := tls.Server(nc, tc)
		if err := tlsConn.Handshake(); err != nil {
			nc.Close()
			return
		}
		nc = tlsConn
	}
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	if err != nil {
		nc.Close()
		return
	}
	rw := &hijacker{conn: nc, brw: bufio.NewReadWriter(br, bufio.NewWriter(nc)), h: http.Header{}}
	ws, err := s.up.Upgrade(rw, req, nil)
	if err != nil {
		nc.Close()
		return
	}
	s.mu.Lock()
	s.nextID++
	fc := &fakeConn{s: s, ws: ws, req: req, socketID: fmt.Sprintf("%d.%d", 1000+s.nextID, 42*s.nextID),
		frames: make(chan frame, 1024), done: make(chan struct{}), wmu: make(chanMutex, 1)}
	s.conns = append(s.conns, fc)
	s.active++
	s.maxActive = max(s.maxActive, s.active)
	hs, activity := s.handshake, s.activity
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
		close(fc.done)
		ws.Close()
	}()
	if hs != nil {
		if !hs(fc) {
			return
		}
	} else {
		fc.send("pusher:connection_established", "", fmt.Sprintf(`{"socket_id":%q,"activity_timeout":%d}`, fc.socketID, activity))
	}
	select {
	case s.accepted <- fc:
	default:
	}
	fc.readLoop()
}

// close stops the server: every connection is closed and every server
// goroutine has exited when it returns.
func (s *fakeServer) close() {
	s.mu.Lock()
	s.refuse = true
	conns := append([]*fakeConn(nil), s.conns...)
	s.mu.Unlock()
	for _, fc := range conns {
		fc.ws.NetConn().Close()
	}
	s.wg.Wait()
}

// next waits for the next accepted connection.
func (s *fakeServer) next(t testing.TB, within time.Duration) *fakeConn {
	t.Helper()
	select {
	case fc := <-s.accepted:
		return fc
	case <-time.After(within):
		t.Fatalf("no connection within %s", within)
		return nil
	}
}

// chanMutex is a mutex made of a channel of capacity 1.
type chanMutex chan struct{}

func (m chanMutex) Lock()   { m <- struct{}{} }
func (m chanMutex) Unlock() { <-m }

// fakeConn is one server-side connection.
type fakeConn struct {
	s        *fakeServer
	ws       *websocket.Conn
	req      *http.Request
	socketID string
	frames   chan frame // frames received from the client
	done     chan struct{}
	// wmu serialises writes. A write blocks while the client is not
	// reading; waiting for a channel, unlike a sync.Mutex, is durably
	// blocked in a synctest bubble, so time still advances then.
	wmu    chanMutex
	silent atomic.Bool // ignore pings and subscriptions (blackhole)
}

func (fc *fakeConn) readLoop() {
	for {
		_, msg, err := fc.ws.ReadMessage()
		if err != nil {
			return
		}
		f, err := decodeFrame(msg)
		if err != nil {
			fc.s.t.Errorf("client sent an undecodable frame %q: %v", msg, err)
			continue
		}
		select {
		case fc.frames <- f:
		default:
		}
		fc.s.mu.Lock()
		autoPong, onSub := fc.s.autoPong, fc.s.onSubscribe
		silent := fc.silent.Load()
		fc.s.mu.Unlock()
		if silent {
			continue
		}
		switch f.Event {
		case "pusher:ping":
			if autoPong {
				fc.send("pusher:pong", "", "{}")
			}
		case "pusher:subscribe":
			var d subscribeData
			if err := json.Unmarshal(f.Data, &d); err != nil {
				fc.s.t.Errorf("bad subscribe data %s", f.Data)
				continue
			}
			reply := replyConfirm
			if onSub != nil {
				reply = onSub(fc, d.Channel, d.Auth)
			}
			switch reply {
			case replyConfirm:
				if needsAuth(d.Channel) && d.Auth != sign(fc.socketID, d.Channel) {
					fc.send("pusher:subscription_error", d.Channel,
						`{"type":"AuthError","error":"The connection is unauthorized.","status":401}`)
					continue
				}
				fc.sendRaw(fmt.Sprintf(`{"event":"pusher_internal:subscription_succeeded","channel":%q}`, d.Channel))
			case replyError4009:
				fc.send("pusher:error", "", `{"code":4009,"message":"Connection is unauthorized"}`)
			}
		}
	}
}

func (fc *fakeConn) setSilent(v bool) {
	fc.silent.Store(v)
}

// send writes an event whose data is the JSON value data (an object).
func (fc *fakeConn) send(event, channel, data string) {
	m := map[string]any{"event": event, "data": json.RawMessage(data)}
	if channel != "" {
		m["channel"] = channel
	}
	b, _ := json.Marshal(m)
	fc.sendRaw(string(b))
}

// sendString writes an event whose data is data encoded as a JSON string, as
// Laravel and Pusher do.
func (fc *fakeConn) sendString(event, channel, data string) {
	q, _ := json.Marshal(data)
	fc.send(event, channel, string(q))
}

func (fc *fakeConn) sendRaw(msg string) {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	_ = fc.ws.WriteMessage(websocket.TextMessage, []byte(msg))
}

// closeWith sends a close frame with code and closes the connection.
func (fc *fakeConn) closeWith(code int, text string) {
	fc.wmu.Lock()
	_ = fc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	fc.wmu.Unlock()
	fc.ws.NetConn().Close()
}

// drop closes the transport without a close frame (1006).
func (fc *fakeConn) drop() { fc.ws.NetConn().Close() }

// expect waits for the next client frame with the given event name,
// skipping others.
func (fc *fakeConn) expect(t testing.TB, event string, within time.Duration) frame {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case f := <-fc.frames:
			if f.Event == event {
				return f
			}
		case <-deadline:
			t.Fatalf("client did not send %s within %s", event, within)
			return frame{}
		}
	}
}

// expectNone fails if the client sends event within d.
func (fc *fakeConn) expectNone(t testing.TB, event string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f := <-fc.frames:
			if f.Event == event {
				t.Fatalf("client sent unexpected %s: %s", event, f.Data)
			}
		case <-deadline:
			return
		}
	}
}

// recorder collects handler calls.
type recorder struct {
	mu     sync.Mutex
	states []StateChange
	subs   []SubscriptionChange
	events []Event

	stateCh chan StateChange
	subCh   chan SubscriptionChange
	eventCh chan Event
}

func newRecorder() *recorder {
	return &recorder{
		stateCh: make(chan StateChange, 4096),
		subCh:   make(chan SubscriptionChange, 4096),
		eventCh: make(chan Event, 1<<16),
	}
}

func (r *recorder) hook(cfg *Config) {
	cfg.OnStateChange = func(sc StateChange) {
		r.mu.Lock()
		r.states = append(r.states, sc)
		r.mu.Unlock()
		r.stateCh <- sc
	}
	cfg.OnSubscription = func(sc SubscriptionChange) {
		r.mu.Lock()
		r.subs = append(r.subs, sc)
		r.mu.Unlock()
		r.subCh <- sc
	}
	cfg.OnEvent = func(e Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
		r.eventCh <- e
	}
}

// waitState waits for a change to want and returns it.
func (r *recorder) waitState(t testing.TB, want State, within time.Duration) StateChange {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case sc := <-r.stateCh:
			if sc.Current == want {
				return sc
			}
		case <-deadline:
			t.Fatalf("state %s not reached within %s; history %v", want, within, r.stateHistory())
			return StateChange{}
		}
	}
}

// waitSub waits for channel to reach status want.
func (r *recorder) waitSub(t testing.TB, channel string, want SubscriptionStatus, within time.Duration) SubscriptionChange {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case sc := <-r.subCh:
			if sc.Channel == channel && sc.Status == want {
				return sc
			}
		case <-deadline:
			t.Fatalf("%s not %s within %s; history %v", channel, want, within, r.subHistory())
			return SubscriptionChange{}
		}
	}
}

func (r *recorder) waitEvent(t testing.TB, within time.Duration) Event {
	t.Helper()
	select {
	case e := <-r.eventCh:
		return e
	case <-time.After(within):
		t.Fatalf("no event within %s", within)
		return Event{}
	}
}

func (r *recorder) stateHistory() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, sc := range r.states {
		s := sc.Previous.String() + "->" + sc.Current.String()
		if sc.Err != nil {
			s += "(" + sc.Err.Error() + ")"
		}
		out = append(out, s)
	}
	return out
}

func (r *recorder) subHistory() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, sc := range r.subs {
		out = append(out, sc.Channel+":"+sc.Status.String())
	}
	return out
}

// authorizerFunc adapts a function to Authorizer.
type authorizerFunc func(ctx context.Context, socketID, channel string) (Auth, error)

func (f authorizerFunc) Authorize(ctx context.Context, socketID, channel string) (Auth, error) {
	return f(ctx, socketID, channel)
}

// signingAuthorizer signs like a Laravel backend would, recording the
// socket ids it was asked for.
type signingAuthorizer struct {
	mu    sync.Mutex
	calls []string // "socketID channel"
	fail  func(channel string, n int) error
}

func (a *signingAuthorizer) Authorize(ctx context.Context, socketID, channel string) (Auth, error) {
	a.mu.Lock()
	a.calls = append(a.calls, socketID+" "+channel)
	n := len(a.calls)
	fail := a.fail
	a.mu.Unlock()
	if fail != nil {
		if err := fail(channel, n); err != nil {
			return Auth{}, err
		}
	}
	return Auth{Auth: sign(socketID, channel)}, nil
}

func (a *signingAuthorizer) callList() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

// testConfig returns a client config wired to the fake server.
func testConfig(s *fakeServer, r *recorder) Config {
	cfg := Config{
		Key:            testKey,
		Host:           "soketi.test",
		Port:           6001,
		NetDialContext: s.dial,
		Proxy:          func(*http.Request) (*url.URL, error) { return nil, nil },
		Logger:         debugLogger(),
	}
	if r != nil {
		r.hook(&cfg)
	}
	return cfg
}

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

var errBoom = errors.New("boom")

// waitSubs waits until every channel listed reached its status, in any
// order.
func (r *recorder) waitSubs(t testing.TB, want map[string]SubscriptionStatus, within time.Duration) {
	t.Helper()
	pending := make(map[string]SubscriptionStatus, len(want))
	for k, v := range want {
		pending[k] = v
	}
	deadline := time.After(within)
	for len(pending) > 0 {
		select {
		case sc := <-r.subCh:
			if st, ok := pending[sc.Channel]; ok && st == sc.Status {
				delete(pending, sc.Channel)
			}
		case <-deadline:
			t.Fatalf("still waiting for %v after %s; history %v", pending, within, r.subHistory())
		}
	}
}
