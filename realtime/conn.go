package realtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// writeTimeout bounds one frame write.
	writeTimeout = 10 * time.Second
	// closeFrameTimeout bounds sending the close frame on a graceful close.
	closeFrameTimeout = time.Second
	// maxOutQueue is the most frames waiting for the writer; a connection
	// whose writer falls this far behind is considered stalled and is
	// replaced. (A stuck peer is normally caught first by writeTimeout.) The
	// queue is otherwise unbounded so that subscribing many channels at once
	// is not mistaken for a stall.
	maxOutQueue = 1 << 16
	// keepReadBuffer is the largest read buffer kept between frames.
	keepReadBuffer = 64 << 10
)

// connEventKind says what a connEvent reports.
type connEventKind uint8

const (
	evEstablished connEventKind = iota // handshake completed
	evFrame                            // a decoded frame
	evClosed                           // the connection ended or the handshake failed
	evExited                           // every goroutine of the connection has exited
	evAuth                             // an authorisation finished
	evReauth                           // an authorisation for a new key of an encrypted channel finished
)

// connEvent is sent to the supervisor by connection and auth goroutines.
// gen identifies the connection; the supervisor ignores stale generations.
type connEvent struct {
	kind connEventKind
	gen  uint64

	frame    frame     // evFrame
	received time.Time // evFrame
	cost     int64     // evFrame: dispatch room booked for it (0 if none)
	dropped  int       // evExited: events the reader read but could not hand on

	socketID string // evEstablished
	activity int    // evEstablished, seconds; 0 if the server sent none

	code int   // evClosed: close or error code, 0 if unknown
	err  error // evClosed, evAuth, evReauth

	channel string // evAuth, evReauth
	seq     uint64 // evAuth, evReauth
	auth    Auth   // evAuth, evReauth
}

// conn is one connection attempt: dial, handshake, then one reader (the run
// goroutine) and one writer goroutine.
type conn struct {
	c      *Client
	gen    uint64
	url    string
	ctx    context.Context
	cancel context.CancelFunc

	outMu   sync.Mutex
	out     [][]byte      // frames waiting for the writer
	outWake chan struct{} // capacity 1: out is not empty

	// lastRead is when anything (a message or a control frame) was last
	// read, in nanoseconds since c.epoch on the monotonic clock.
	lastRead atomic.Int64
	graceful atomic.Bool
	// paused is set while the reader waits for room in the dispatch queue
	// (it is not reading, so silence from the server means nothing).
	paused atomic.Bool
	// dropped counts the events the reader read and then had to drop
	// because the connection closed while it waited for room. Reader only.
	dropped int

	mu          sync.Mutex
	raw         net.Conn // the dialled transport connection
	established bool     // the writer is running
	closed      bool
	writeErr    error
}

func newConn(c *Client, gen uint64, url string) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{c: c, gen: gen, url: url, ctx: ctx, cancel: cancel, outWake: make(chan struct{}, 1)}
}

// close ends the connection. A graceful close of an established connection
// sends a 1000 close frame first; otherwise the transport is closed at once,
// which also aborts a dial or handshake in progress. It is idempotent and
// never blocks for long.
func (cc *conn) close(graceful bool) {
	cc.mu.Lock()
	if cc.closed {
		cc.mu.Unlock()
		return
	}
	cc.closed = true
	raw, established := cc.raw, cc.established
	cc.mu.Unlock()
	graceful = graceful && established
	cc.graceful.Store(graceful)
	cc.cancel()
	if raw == nil {
		return
	}
	if graceful {
		// Bound a write in progress so the writer reaches the close frame.
		_ = raw.SetWriteDeadline(time.Now().Add(closeFrameTimeout))
		return
	}
	_ = raw.Close()
}

// send queues a frame for the writer. It never blocks. When maxOutQueue
// frames are already waiting the connection is stalled: it is closed, and the
// reader then reports the loss.
func (cc *conn) send(b []byte) {
	cc.outMu.Lock()
	full := len(cc.out) >= maxOutQueue
	if !full {
		cc.out = append(cc.out, b)
	}
	cc.outMu.Unlock()
	if full {
		cc.setWriteErr(errors.New("realtime: connection stalled: write queue full"))
		cc.close(false)
		return
	}
	select {
	case cc.outWake <- struct{}{}:
	default:
	}
}

// takeOut returns the frames waiting for the writer and empties the queue.
func (cc *conn) takeOut() [][]byte {
	cc.outMu.Lock()
	defer cc.outMu.Unlock()
	q := cc.out
	cc.out = nil
	return q
}

func (cc *conn) setWriteErr(err error) {
	cc.mu.Lock()
	if cc.writeErr == nil {
		cc.writeErr = err
	}
	cc.mu.Unlock()
}

func (cc *conn) touch() { cc.lastRead.Store(int64(time.Since(cc.c.epoch))) }

// report delivers an event to the supervisor unless the client is shutting
// down.
func (cc *conn) report(ev connEvent) {
	select {
	case cc.c.events <- ev:
	case <-cc.c.quit:
	}
}

// dial is the Dialer's NetDialContext: it records the transport connection
// so that close can abort the handshake.
func (cc *conn) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var (
		nc  net.Conn
		err error
	)
	if d := cc.c.s.NetDialContext; d != nil {
		nc, err = d(ctx, network, addr)
	} else {
		var nd net.Dialer
		nc, err = nd.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.closed {
		nc.Close()
		return nil, context.Canceled
	}
	cc.raw = nc
	return nc, nil
}

// run is the connection's reader goroutine. It dials, performs the Pusher
// handshake, starts the writer, then reads frames until the connection ends.
func (cc *conn) run() {
	defer cc.c.wg.Done()
	defer func() { cc.report(connEvent{kind: evExited, gen: cc.gen, dropped: cc.dropped}) }()
	defer cc.cancel()

	ws, socketID, activity, err := cc.handshake()
	if err != nil {
		cc.closeRaw()
		cc.report(connEvent{kind: evClosed, gen: cc.gen, code: closeCode(err), err: err})
		return
	}
	writerDone := make(chan struct{})
	go cc.writeLoop(ws, writerDone)
	cc.mu.Lock()
	cc.established = true
	closed := cc.closed
	cc.mu.Unlock()
	if !closed {
		cc.report(connEvent{kind: evEstablished, gen: cc.gen, socketID: socketID, activity: activity})
	}
	code, err := cc.readLoop(ws)
	cc.report(connEvent{kind: evClosed, gen: cc.gen, code: code, err: err})
	cc.cancel()
	<-writerDone
	cc.closeRaw()
}

func (cc *conn) closeRaw() {
	cc.mu.Lock()
	raw := cc.raw
	cc.mu.Unlock()
	if raw != nil {
		_ = raw.Close()
	}
}

// writeBuffers lends WebSocket write buffers to every client's writer.
var writeBuffers = &sync.Pool{}

// handshake dials and waits for pusher:connection_established. A
// pusher:error or a close frame before it is returned as a *CloseError so that
// the close policy applies to it.
func (cc *conn) handshake() (*websocket.Conn, string, int, error) {
	s := cc.c.s
	ctx, cancel := context.WithTimeout(cc.ctx, s.HandshakeTimeout)
	defer cancel()
	d := websocket.Dialer{
		NetDialContext:  cc.dial,
		Proxy:           s.Proxy,
		TLSClientConfig: s.tlsConfig,
		// An idle client holds no write buffer (they come from a pool
		// while a frame is written) and a small read buffer: in a fleet of
		// always-on clients these dominate the memory per connection.
		ReadBufferSize:  1024,
		WriteBufferSize: 4096,
		WriteBufferPool: writeBuffers,
	}
	h := http.Header{}
	h.Set("User-Agent", clientName+"/"+clientVersion)
	if s.Origin != "" {
		h.Set("Origin", s.Origin)
	}
	ws, resp, err := d.DialContext(ctx, cc.url, h)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		if cc.ctx.Err() == nil && ctx.Err() != nil {
			err = fmt.Errorf("realtime: handshake timed out after %s: %w", s.HandshakeTimeout, err)
		}
		return nil, "", 0, fmt.Errorf("realtime: connecting to %s: %w", redactURL(cc.url), err)
	}
	ws.SetReadLimit(s.MaxFrameBytes)
	ws.SetPingHandler(func(data string) error {
		cc.touch()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if err == websocket.ErrCloseSent {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) {
			return nil
		}
		return err
	})
	ws.SetPongHandler(func(string) error { cc.touch(); return nil })
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.SetReadDeadline(dl)
	}
	_, msg, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		if errors.Is(err, websocket.ErrReadLimit) {
			return nil, "", 0, cc.tooLarge()
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return nil, "", 0, &CloseError{Code: ce.Code, Message: ce.Text}
		}
		return nil, "", 0, fmt.Errorf("realtime: waiting for pusher:connection_established: %w", err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	cc.touch()
	f, err := decodeFrame(msg)
	if err != nil {
		ws.Close()
		return nil, "", 0, fmt.Errorf("realtime: bad handshake frame: %w", err)
	}
	switch f.Event {
	case "pusher:connection_established":
		id, act, err := parseEstablished(f)
		if err != nil {
			ws.Close()
			return nil, "", 0, fmt.Errorf("realtime: %w", err)
		}
		return ws, id, act, nil
	case "pusher:error":
		ws.Close()
		pe := parsePusherError(f)
		return nil, "", 0, &CloseError{Code: pe.Code, Message: pe.Message}
	}
	ws.Close()
	return nil, "", 0, fmt.Errorf("realtime: expected pusher:connection_established, got %q", f.Event)
}

func (cc *conn) tooLarge() error {
	return fmt.Errorf("realtime: refused a frame larger than %d bytes: %w", cc.c.s.MaxFrameBytes, ErrFrameTooLarge)
}

// maxSkipLogs is how many undecodable frames a connection logs one by one;
// after that, one line per skipLogEvery.
const (
	maxSkipLogs  = 10
	skipLogEvery = 1000
)

// readLoop reads frames until the connection fails and returns the close
// code (1006 without a close frame) and the cause. Before it hands an
// application event on, it books room for it in the dispatch queue; while
// there is none it stops reading (see reserve).
func (cc *conn) readLoop(ws *websocket.Conn) (int, error) {
	var buf bytes.Buffer
	log := cc.c.log
	skipped := 0
	for {
		_, r, err := ws.NextReader()
		if err == nil {
			cc.touch()
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			return cc.readError(err)
		}
		f, err := decodeFrame(buf.Bytes())
		if err != nil {
			skipped++
			if skipped <= maxSkipLogs || skipped%skipLogEvery == 0 {
				log.Warn("realtime: skipped an undecodable frame", "err", err, "frame", excerpt(buf.Bytes()), "skipped", skipped)
			}
			continue
		}
		var cost int64
		if isAppEvent(f.Event) {
			cost = eventCost(buf.Len())
			if !cc.reserve(cost) {
				cc.dropped++
				return cc.readError(net.ErrClosed)
			}
		}
		if buf.Cap() > keepReadBuffer {
			buf = bytes.Buffer{}
		}
		select {
		case cc.c.events <- connEvent{kind: evFrame, gen: cc.gen, frame: f, received: time.Now(), cost: cost}:
		case <-cc.ctx.Done():
			// Closed by the supervisor (the report will be stale) or by a
			// failed or stalled writer (its error is the cause).
			cc.dropReserved(cost)
			return cc.readError(net.ErrClosed)
		case <-cc.c.quit:
			cc.dropReserved(cost)
			return cc.readError(net.ErrClosed)
		}
	}
}

// dropReserved gives back the room of an event that will not be handed on.
func (cc *conn) dropReserved(cost int64) {
	if cost > 0 {
		cc.c.disp.release(cost)
		cc.dropped++
	}
}

// reserve books dispatch room for an event, waiting while the queue is
// full. Waiting is the backpressure: the reader reads nothing meanwhile, so
// the socket's receive buffer fills and TCP makes the server wait. While
// it waits, paused tells keepalive that the silence is the client's own;
// when it resumes, reading counts as activity again from then. It reports
// false when the connection or the client closes first.
func (cc *conn) reserve(cost int64) bool {
	d := cc.c.disp
	ok, wait := d.reserve(cost)
	if ok {
		return true
	}
	cc.paused.Store(true)
	defer func() {
		cc.touch()
		cc.paused.Store(false)
	}()
	for {
		select {
		case <-wait:
		case <-cc.ctx.Done():
			return false
		case <-cc.c.quit:
			return false
		}
		if ok, wait = d.reserve(cost); ok {
			return true
		}
	}
}

// readError classifies a read failure.
func (cc *conn) readError(err error) (int, error) {
	cc.mu.Lock()
	werr := cc.writeErr
	cc.mu.Unlock()
	switch {
	case werr != nil:
		return 1006, werr
	case errors.Is(err, websocket.ErrReadLimit):
		return 1009, cc.tooLarge()
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, &CloseError{Code: ce.Code, Message: ce.Text}
	}
	return 1006, fmt.Errorf("realtime: connection lost: %w", err)
}

// writeLoop is the connection's only writer.
func (cc *conn) writeLoop(ws *websocket.Conn, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-cc.outWake:
			for _, b := range cc.takeOut() {
				if cc.ctx.Err() != nil {
					break // closing: the ctx.Done case below runs next
				}
				_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
				if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
					cc.setWriteErr(fmt.Errorf("realtime: write failed: %w", err))
					cc.cancel()
					cc.closeRaw()
					return
				}
			}
		case <-cc.ctx.Done():
			if cc.graceful.Load() {
				_ = ws.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
					time.Now().Add(closeFrameTimeout))
			}
			cc.closeRaw()
			return
		}
	}
}

// closeCode extracts the code of a handshake failure (0 if none).
func closeCode(err error) int {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// excerpt returns the start of a frame for logs.
func excerpt(b []byte) string {
	const n = 120
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// redactURL drops the query string (it holds nothing secret, but keeps
// errors short).
func redactURL(u string) string {
	base, _, _ := strings.Cut(u, "?")
	return base
}
