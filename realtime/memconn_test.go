package realtime

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// memConn is a buffered in-memory net.Conn. Unlike net.Pipe, a write does
// not wait for the peer to read (like TCP with a socket buffer), so both
// ends may write at once (TLS alerts, close frames). It is built only on
// channels and timers, so a goroutine blocked on it is durably blocked in a
// synctest bubble.
type memConn struct {
	in, out *memPipe
	rbuf    []byte
	local   memAddr
	remote  memAddr

	mu        sync.Mutex
	rdl, wdl  time.Time
	dlChanged chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	onClose   func() // called once, on the first Close
	stuck     bool   // writes block as if the send buffer were full
}

// memPipe is one direction.
type memPipe struct {
	ch     chan []byte
	closed chan struct{}
	once   sync.Once
}

func (p *memPipe) close() { p.once.Do(func() { close(p.closed) }) }

type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

// memPipePair returns two connected ends.
func memPipePair() (*memConn, *memConn) {
	a2b := &memPipe{ch: make(chan []byte, 4096), closed: make(chan struct{})}
	b2a := &memPipe{ch: make(chan []byte, 4096), closed: make(chan struct{})}
	a := &memConn{in: b2a, out: a2b, local: "client", remote: "server", dlChanged: make(chan struct{}), done: make(chan struct{})}
	b := &memConn{in: a2b, out: b2a, local: "server", remote: "client", dlChanged: make(chan struct{}), done: make(chan struct{})}
	return a, b
}

func (c *memConn) deadline(read bool) (time.Time, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if read {
		return c.rdl, c.dlChanged
	}
	return c.wdl, c.dlChanged
}

func timerFor(dl time.Time) (<-chan time.Time, func() bool) {
	if dl.IsZero() {
		return nil, func() bool { return false }
	}
	t := time.NewTimer(time.Until(dl))
	return t.C, t.Stop
}

func (c *memConn) Read(b []byte) (int, error) {
	for {
		if len(c.rbuf) > 0 {
			n := copy(b, c.rbuf)
			c.rbuf = c.rbuf[n:]
			return n, nil
		}
		select {
		case <-c.done:
			return 0, net.ErrClosed
		default:
		}
		select {
		case p := <-c.in.ch:
			c.rbuf = p
			continue
		default:
		}
		dl, changed := c.deadline(true)
		if !dl.IsZero() && !time.Now().Before(dl) {
			return 0, os.ErrDeadlineExceeded
		}
		tc, stop := timerFor(dl)
		select {
		case p := <-c.in.ch:
			c.rbuf = p
		case <-c.in.closed:
			select {
			case p := <-c.in.ch:
				c.rbuf = p
			default:
				stop()
				return 0, io.EOF
			}
		case <-c.done:
			stop()
			return 0, net.ErrClosed
		case <-tc:
		case <-changed:
		}
		stop()
	}
}

// memChunk is the largest piece one buffered write becomes: with 4,096
// pieces per direction, at most 4 MiB wait in the "socket buffers", so a
// reader that stops reading makes the writer block, as TCP would.
const memChunk = 1 << 10

func (c *memConn) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) || len(b) == 0 {
		end := min(n+memChunk, len(b))
		if err := c.writeChunk(append([]byte(nil), b[n:end]...)); err != nil {
			return n, err
		}
		n = end
		if len(b) == 0 {
			break
		}
	}
	return n, nil
}

func (c *memConn) writeChunk(p []byte) error {
	for {
		select {
		case <-c.done:
			return net.ErrClosed
		case <-c.out.closed:
			return io.ErrClosedPipe
		default:
		}
		dl, changed := c.deadline(false)
		if !dl.IsZero() && !time.Now().Before(dl) {
			return os.ErrDeadlineExceeded
		}
		c.mu.Lock()
		out := c.out.ch
		if c.stuck {
			out = nil // a nil channel never accepts: wait for the deadline
		}
		c.mu.Unlock()
		tc, stop := timerFor(dl)
		select {
		case out <- p:
			stop()
			return nil
		case <-c.out.closed:
		case <-c.done:
		case <-tc:
		case <-changed:
		}
		stop()
	}
}

func (c *memConn) Close() error {
	c.closeOnce.Do(func() {
		if c.onClose != nil {
			c.onClose()
		}
		close(c.done)
		c.in.close()
		c.out.close()
	})
	return nil
}

// stick makes every later write block until its deadline, like a peer that
// stopped reading once the socket buffers filled up.
func (c *memConn) stick() {
	c.mu.Lock()
	c.stuck = true
	close(c.dlChanged) // wake a write in progress
	c.dlChanged = make(chan struct{})
	c.mu.Unlock()
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

func (c *memConn) setDeadline(read, write bool, t time.Time) {
	c.mu.Lock()
	if read {
		c.rdl = t
	}
	if write {
		c.wdl = t
	}
	close(c.dlChanged)
	c.dlChanged = make(chan struct{})
	c.mu.Unlock()
}

func (c *memConn) SetDeadline(t time.Time) error      { c.setDeadline(true, true, t); return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { c.setDeadline(true, false, t); return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { c.setDeadline(false, true, t); return nil }
