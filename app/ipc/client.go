package ipc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Client is a window process's or launcher's connection to the core.
type Client struct {
	conn    net.Conn
	corePID int
	msgs    chan Message
	done    chan struct{} // closed by Close
	ended   chan struct{} // closed when the reader has returned

	wmu sync.Mutex // serialises writes

	errMu sync.Mutex
	err   error // why the connection ended; see Err

	closeOnce sync.Once
	closeErr  error
}

// Dial connects to the core at path as role, sends hello and waits for the
// welcome, all within timeout (a timeout ≤ 0 means 3 s). It fails if nobody
// answers, the core answers with an error (its Text is in the returned
// error), the core is quitting, or the core speaks another protocol
// version (the error names both).
func Dial(path string, role Role, timeout time.Duration) (*Client, error) {
	if role != RoleWindow && role != RoleLauncher {
		return nil, fmt.Errorf("ipc: unknown role %q", role)
	}
	if timeout <= 0 {
		timeout = helloWait
	}
	deadline := time.Now().Add(timeout)
	conn, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, fmt.Errorf("ipc: connect to the EchoTray core: %w", err)
	}
	_ = conn.SetDeadline(deadline)
	hello, err := encode(Message{Op: OpHello, Role: role, PID: os.Getpid()})
	if err != nil {
		conn.Close()
		return nil, err
	}
	// A core that refuses this client (another user) answers error and
	// closes at once, which can break the write of the hello: read the
	// answer anyway, it says why.
	_, writeErr := conn.Write(hello)
	br := bufio.NewReader(conn)
	line, err := readLine(br, nil)
	if err != nil {
		conn.Close()
		if writeErr != nil {
			return nil, fmt.Errorf("ipc: send hello to the EchoTray core: %w", writeErr)
		}
		if errors.Is(err, io.EOF) {
			err = errors.New("it closed the connection")
		}
		return nil, fmt.Errorf("ipc: no welcome from the EchoTray core: %w", err)
	}
	m, err := decode(line)
	var refusal string
	switch {
	case err != nil:
		refusal = err.Error()
	case m.Op == OpError:
		conn.Close()
		return nil, fmt.Errorf("ipc: the EchoTray core refused the connection: %s", m.Text)
	case m.V != Version:
		refusal = versionMismatch("client", "core", m.V)
	case m.Op == OpBye:
		conn.Close()
		return nil, errors.New("ipc: the EchoTray core is quitting")
	case m.Op != OpWelcome:
		refusal = fmt.Sprintf("expected welcome, got %s", quoteOp(m.Op))
	case writeErr != nil:
		conn.Close()
		return nil, fmt.Errorf("ipc: send hello to the EchoTray core: %w", writeErr)
	}
	if refusal != "" {
		if e, err := encode(Message{Op: OpError, Text: refusal}); err == nil {
			_, _ = conn.Write(e)
		}
		conn.Close()
		return nil, fmt.Errorf("ipc: bad answer from the EchoTray core: %s", refusal)
	}
	_ = conn.SetDeadline(time.Time{})
	c := &Client{
		conn:    conn,
		corePID: m.PID,
		msgs:    make(chan Message, messagesBuffer),
		done:    make(chan struct{}),
		ended:   make(chan struct{}),
	}
	go c.readLoop(br)
	return c, nil
}

// Ask is the launcher's request: it dials the core at path as
// RoleLauncher, sends m and closes the connection.
func Ask(path string, m Message, timeout time.Duration) error {
	c, err := Dial(path, RoleLauncher, timeout)
	if err != nil {
		return err
	}
	sendErr := c.Send(m)
	closeErr := c.Close()
	if sendErr != nil {
		return sendErr
	}
	return closeErr
}

// CorePID is the core's process id, from its welcome.
func (c *Client) CorePID() int { return c.corePID }

// Send writes m to the core, with V filled in. m must be an op of the
// client→core direction (show, signed-in, settings-saved, pause, resume,
// reconnect, sign-out, send-test, history-changed, quit, error). It is safe
// for concurrent use; one write may take at most 3 s.
func (c *Client) Send(m Message) error {
	if !clientOp(m.Op) {
		return fmt.Errorf("ipc: %s is not an op a client sends", quoteOp(m.Op))
	}
	line, err := encode(m)
	if err != nil {
		return err
	}
	return c.write(line)
}

// write writes one encoded line with a deadline.
func (c *Client) write(line []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	if _, err := c.conn.Write(line); err != nil {
		return fmt.Errorf("ipc: send to the EchoTray core: %w", err)
	}
	return nil
}

// Messages delivers the core's messages in order. The channel is closed
// when the connection ends: on EOF, after a bye or an error message (both
// are delivered), after a protocol error of the core, or on Close. If the
// receiver falls 256 messages behind, reading from the socket pauses.
func (c *Client) Messages() <-chan Message { return c.msgs }

// Err tells why the connection ended once Messages is closed: nil after a
// bye or Close, else the reason (the core's error text, EOF, a protocol
// error). Before that it returns nil.
func (c *Client) Err() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// Close closes the connection and waits until the reader goroutine has
// ended and Messages is closed. It is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		if err := c.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			c.closeErr = err
		}
		<-c.ended
	})
	return c.closeErr
}

// closing reports whether Close has been called.
func (c *Client) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *Client) setErr(err error) {
	c.errMu.Lock()
	c.err = err
	c.errMu.Unlock()
}

// fail tells the core why this client gives up, records it and lets the
// reader end.
func (c *Client) fail(reason string) {
	if line, err := encode(Message{Op: OpError, Text: reason}); err == nil {
		_ = c.write(line)
	}
	c.setErr(fmt.Errorf("ipc: protocol error from the EchoTray core: %s", reason))
}

// readLoop reads the core's lines into Messages until the connection ends.
func (c *Client) readLoop(br *bufio.Reader) {
	defer close(c.ended)
	defer close(c.msgs)
	defer c.conn.Close()
	var buf []byte
	for {
		line, err := readLine(br, buf)
		if err != nil {
			switch {
			case errors.Is(err, errLineTooLong):
				c.fail(err.Error())
			case c.closing():
			case errors.Is(err, io.EOF):
				c.setErr(errors.New("ipc: the EchoTray core closed the connection"))
			default:
				c.setErr(fmt.Errorf("ipc: connection to the EchoTray core: %w", err))
			}
			return
		}
		buf = line
		m, err := decode(line)
		switch {
		case err != nil:
			c.fail(err.Error())
			return
		case m.V != Version && m.Op != OpError:
			c.fail(versionMismatch("client", "core", m.V))
			return
		case !coreOp(m.Op):
			c.fail(fmt.Sprintf("unexpected op %s from the core", quoteOp(m.Op)))
			return
		}
		select {
		case c.msgs <- m:
		case <-c.done:
			return
		}
		switch m.Op {
		case OpBye:
			return
		case OpError:
			c.setErr(fmt.Errorf("ipc: the EchoTray core closed the connection: %s", m.Text))
			return
		}
	}
}
