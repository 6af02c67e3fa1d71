package ipc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// ErrAlreadyRunning is returned by Listen when another core holds the
// lock of the socket (see Listen), or a process listens at the socket:
// EchoTray is already running for this user. Ask it to show its window;
// if it does not answer, report that: never start a second core.
var ErrAlreadyRunning = errors.New("EchoTray is already running")

// ServerOptions configures Listen.
//
// The callbacks run on the peer's reader goroutine and must not call
// Server.Close, which waits for them; Peer.Send, Peer.Close and
// Server.Broadcast are fine.
type ServerOptions struct {
	// Path is the socket's path, for example app.InstanceSocketPath().
	Path string
	// Logger receives the server's log lines; nil discards them.
	Logger *slog.Logger

	// OnConnect is called after a valid hello (any role), once the
	// welcome is queued, so that what it sends follows the welcome.
	OnConnect func(p *Peer)
	// OnMessage is called for every valid message a peer sends after its
	// hello, in order per peer, on the peer's reader goroutine and never
	// under a lock; the peer's next line is read when it returns. Hello
	// and error are handled by the server and not passed on.
	OnMessage func(p *Peer, m Message)
	// OnDisconnect is called once, after the last OnMessage, when a peer
	// for which OnConnect was called is gone (it closed the connection,
	// broke the protocol, was closed by Peer.Close or Server.Close).
	OnDisconnect func(p *Peer)

	// expectUID is the uid a peer must have; nil means os.Getuid(). A
	// pointer because uid 0 (root) is a real uid. Set by tests.
	expectUID *int
	// helloWait replaces the package's helloWait when positive. Set by
	// tests.
	helloWait time.Duration
	// launcherIdle replaces the package's launcherIdle when positive. Set
	// by tests.
	launcherIdle time.Duration
}

// Server is the core's end of the socket: it accepts clients, checks their
// uid and hello, and runs one reader and one writer goroutine per peer.
type Server struct {
	path         string
	log          *slog.Logger
	opts         ServerOptions
	ln           *net.UnixListener
	sock         os.FileInfo // the socket file as created: only it is removed
	lock         *instanceLock
	uid          int
	helloWait    time.Duration
	launcherIdle time.Duration
	done         chan struct{} // closed by Close

	mu      sync.Mutex
	peers   map[*Peer]struct{} // every accepted connection until its reader ends
	closing bool

	wg        sync.WaitGroup // the accept loop and every peer goroutine
	closeOnce sync.Once
	closeErr  error
}

// LockPath is the lock file of the socket at path: the socket's path with
// ".lock" added. It stays on disk; only the lock on it comes and goes.
func LockPath(path string) string { return path + ".lock" }

// Listen claims opts.Path and starts serving.
//
// Who runs is decided by a lock on LockPath(opts.Path) (flock on Linux and
// macOS, LockFileEx on Windows), taken without waiting and held until
// Close: if another core holds it, Listen returns ErrAlreadyRunning at
// once, however slow or stuck that core is, and touches nothing. With the
// lock, a file left at the path is taken over only if connecting to it is
// refused or finds nothing (a crashed core's socket, a stray file); if a
// process accepts the connection (an EchoTray from before the lock), Listen
// returns ErrAlreadyRunning as well. A missing directory is created with
// mode 0700; the socket is chmod 0600.
func Listen(opts ServerOptions) (*Server, error) {
	if opts.Path == "" {
		return nil, errors.New("ipc: no socket path")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	path := opts.Path
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ipc: socket directory: %w", err)
	}
	lock, err := acquireLock(LockPath(path))
	if errors.Is(err, errLocked) {
		return nil, ErrAlreadyRunning
	}
	if err != nil {
		return nil, fmt.Errorf("ipc: %w", err)
	}
	ln, sock, err := claimSocket(path, logger)
	if err != nil {
		lock.release()
		return nil, err
	}
	s := &Server{
		path:         path,
		log:          logger,
		opts:         opts,
		ln:           ln,
		sock:         sock,
		lock:         lock,
		uid:          os.Getuid(),
		helloWait:    helloWait,
		launcherIdle: launcherIdle,
		done:         make(chan struct{}),
		peers:        make(map[*Peer]struct{}),
	}
	if opts.expectUID != nil {
		s.uid = *opts.expectUID
	}
	if opts.helloWait > 0 {
		s.helloWait = opts.helloWait
	}
	if opts.launcherIdle > 0 {
		s.launcherIdle = opts.launcherIdle
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// claimSocket listens at path, which the caller's lock protects: a file
// already there is removed only when it is stale (see probeStale). It
// returns the listener, which does not remove the file when closed, and
// the file as created.
func claimSocket(path string, logger *slog.Logger) (*net.UnixListener, os.FileInfo, error) {
	ln, err := listenUnix(path)
	if err != nil {
		// The address is taken: a file left behind, or a live process.
		stale, probeErr := probeStale(path)
		switch {
		case probeErr == nil:
			return nil, nil, ErrAlreadyRunning
		case !stale:
			return nil, nil, fmt.Errorf("ipc: socket %s: %w; checking who has it: %w", path, err, probeErr)
		}
		if _, statErr := os.Lstat(path); statErr == nil {
			logger.Info("removing a stale IPC socket", "path", path, "probe", probeErr)
			if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
				return nil, nil, fmt.Errorf("ipc: remove stale socket %s: %w", path, rmErr)
			}
		}
		if ln, err = listenUnix(path); err != nil {
			return nil, nil, fmt.Errorf("ipc: socket %s: %w", path, err)
		}
	}
	ln.SetUnlinkOnClose(false) // Close removes the file only if it is still ours
	sock, err := os.Lstat(path)
	if err == nil && runtime.GOOS != "windows" {
		err = os.Chmod(path, 0o600)
	}
	if err != nil {
		ln.Close()
		if sock != nil {
			_, _ = removeIfSame(path, sock)
		}
		return nil, nil, fmt.Errorf("ipc: socket %s: %w", path, err)
	}
	return ln, sock, nil
}

// listenUnix listens at path.
func listenUnix(path string) (*net.UnixListener, error) {
	return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
}

// probeStale connects to path. A nil error means that a process accepted
// the connection: it is alive (nothing is sent to it). stale is true only
// when the connection was refused or path does not exist: then nobody
// listens there. Any other failure, a timeout included (a listener with a
// full backlog), is not stale.
func probeStale(path string) (stale bool, err error) {
	conn, err := net.DialTimeout("unix", path, probeWait)
	if err == nil {
		conn.Close()
		return false, nil
	}
	return refusedOrMissing(err), err
}

// refusedOrMissing reports whether a failed connect means that nobody
// listens: the connection was refused, or the file does not exist.
func refusedOrMissing(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, os.ErrNotExist) || isRefusedPlatform(err)
}

// removeIfSame removes path if it is still the file sock (same device and
// inode): a socket another process created there since is left alone.
func removeIfSame(path string, sock os.FileInfo) (bool, error) {
	now, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	if !os.SameFile(now, sock) {
		return false, nil
	}
	return true, os.Remove(path)
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Broadcast queues m for every connected RoleWindow peer; it never blocks.
// m must be an op of the core→client direction (state, entry-added, show,
// bye, error); V is filled in. Problems are logged.
func (s *Server) Broadcast(m Message) {
	if !coreOp(m.Op) {
		s.log.Warn("not broadcasting an op of the wrong direction", "op", m.Op)
		return
	}
	line, err := encode(m)
	if err != nil {
		s.log.Warn("not broadcasting a message", "err", err)
		return
	}
	s.mu.Lock()
	targets := make([]*Peer, 0, len(s.peers))
	for p := range s.peers {
		if p.connected && p.Role == RoleWindow {
			targets = append(targets, p)
		}
	}
	s.mu.Unlock()
	for _, p := range targets {
		_ = p.enqueue(line) // a full queue disconnects the peer and is logged
	}
}

// Close stops accepting, removes the socket file if it is still the one
// Listen created and releases the lock (from then on another core may
// start), sends bye to every peer, closes every connection once its queue
// is written (within 3 s) and waits until every goroutine of the server,
// and with it every callback, has returned. It is idempotent and must not
// be called from a callback.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		peers := make([]*Peer, 0, len(s.peers))
		for p := range s.peers {
			peers = append(peers, p)
		}
		s.mu.Unlock()
		close(s.done)
		s.closeErr = s.ln.Close()
		if removed, err := removeIfSame(s.path, s.sock); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("cannot remove the IPC socket", "path", s.path, "err", err)
		} else if !removed && err == nil {
			s.log.Warn("left the IPC socket alone: another process replaced it", "path", s.path)
		}
		s.lock.release()
		if bye, err := encode(Message{Op: OpBye}); err == nil {
			for _, p := range peers {
				_ = p.enqueue(bye)
			}
		}
		for _, p := range peers {
			p.Close()
		}
		s.wg.Wait()
	})
	return s.closeErr
}

// acceptLoop accepts connections until the listener is closed.
func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little.
			backoff = min(max(2*backoff, 5*time.Millisecond), acceptBackoffMax)
			s.log.Warn("accepting an IPC connection failed", "err", err, "retry_in", backoff)
			select {
			case <-s.done:
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		s.start(conn)
	}
}

// start registers a new connection and starts its two goroutines.
func (s *Server) start(conn *net.UnixConn) {
	cred, credErr := peerCredentials(conn)
	p := &Peer{
		PID:  cred.pid,
		srv:  s,
		conn: conn,
		cred: cred,
		send: make(chan []byte, sendQueue),
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.peers[p] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go p.writePump()
	go p.readPump(credErr)
}

// connect records a valid hello: the peer's role and pid, its welcome in
// the queue, and from then on it gets broadcasts. It reports false when
// the server or the peer is closing.
func (s *Server) connect(p *Peer, hello Message, welcome []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	p.Role = hello.Role
	if p.cred.pid == 0 {
		p.PID = hello.PID
	}
	switch p.push(welcome) { // not enqueue: its logging takes s.mu
	case pushClosed:
		return false
	case pushFull:
		p.conn.Close()
		return false
	}
	p.connected = true
	return true
}

// remove forgets a peer whose reader has ended.
func (s *Server) remove(p *Peer) {
	s.mu.Lock()
	delete(s.peers, p)
	p.connected = false
	s.mu.Unlock()
}

// Peer is one client connection on the core side.
type Peer struct {
	// Role is the role stated in the hello.
	Role Role
	// PID is the client's process id: from the socket's credentials
	// where the system tells it (Linux, macOS), else from the hello.
	PID int

	srv  *Server
	conn *net.UnixConn
	cred credentials

	mu     sync.Mutex  // guards closed and sends on send
	send   chan []byte // encoded lines for the writer; closed when closed is set
	closed bool        // no more lines are queued

	connected bool // hello done and not yet removed; guarded by srv.mu
}

// Send queues m for the peer and never blocks. m must be an op of the
// core→client direction (state, entry-added, show, bye, error); V is
// filled in. If the peer's queue (256 lines) is full because it does not
// read, the peer is disconnected (and that is logged). It fails when the
// peer is closed, the queue was full or m cannot be encoded within
// MaxLine.
func (p *Peer) Send(m Message) error {
	if !coreOp(m.Op) {
		return fmt.Errorf("ipc: %s is not an op the core sends", quoteOp(m.Op))
	}
	line, err := encode(m)
	if err != nil {
		return err
	}
	return p.enqueue(line)
}

// Close closes the connection after what is queued has been written
// (within 3 s). It does not wait and may be called from any goroutine,
// more than once.
func (p *Peer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.send)
	}
}

// isClosed reports whether Close (or an abort) has happened.
func (p *Peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// abort closes the connection now, dropping what is queued.
func (p *Peer) abort() {
	p.Close()
	p.conn.Close()
}

// pushResult is the outcome of push.
type pushResult int

const (
	pushed     pushResult = iota // the line is queued
	pushClosed                   // the peer was already closed
	pushFull                     // the queue was full: the peer is now closed
)

// push queues one encoded line without blocking. A full queue closes the
// peer's queue; the caller then closes the connection.
func (p *Peer) push(line []byte) pushResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return pushClosed
	}
	select {
	case p.send <- line:
		return pushed
	default:
	}
	p.closed = true
	close(p.send)
	return pushFull
}

// enqueue queues one encoded line; a full queue disconnects the peer.
func (p *Peer) enqueue(line []byte) error {
	switch p.push(line) {
	case pushed:
		return nil
	case pushClosed:
		return fmt.Errorf("ipc: peer (pid %d): %w", p.cred.pid, net.ErrClosed)
	}
	p.conn.Close()
	role, pid := p.identity()
	p.srv.log.Warn("disconnected an IPC peer that does not read: its send queue is full",
		"role", role, "pid", pid, "queue", sendQueue)
	return fmt.Errorf("ipc: send queue of peer (pid %d) full: disconnected", pid)
}

// identity returns Role and PID for a log line on any goroutine.
func (p *Peer) identity() (Role, int) {
	p.srv.mu.Lock()
	defer p.srv.mu.Unlock()
	return p.Role, p.PID
}

// fail sends error with text and closes the connection after it.
func (p *Peer) fail(text string) {
	if line, err := encode(Message{Op: OpError, Text: text}); err == nil {
		_ = p.enqueue(line)
	}
	p.Close()
}

// protocolError logs why the peer is cut off, tells the peer and closes.
func (p *Peer) protocolError(reason string) {
	role, pid := p.identity()
	p.srv.log.Warn("closed an IPC connection after a protocol error",
		"reason", reason, "pid", pid, "role", role)
	p.fail(reason)
}

// readPump checks the peer's credentials and hello, then reads its lines
// and passes them to OnMessage, in order, until the connection ends.
func (p *Peer) readPump(credErr error) {
	s := p.srv
	connected := false
	defer s.wg.Done()
	defer func() {
		p.Close() // the writer flushes what is queued and closes the conn
		s.remove(p)
		if connected && s.opts.OnDisconnect != nil {
			s.opts.OnDisconnect(p)
		}
	}()

	if credErr != nil {
		s.log.Warn("rejected an IPC connection: its credentials are unreadable", "err", credErr)
		p.fail("connection refused: the EchoTray core cannot tell who you are")
		return
	}
	if p.cred.known && p.cred.uid != s.uid {
		s.log.Warn("rejected a connection from another user",
			"uid", p.cred.uid, "pid", p.cred.pid, "want_uid", s.uid)
		p.fail("connection refused: this EchoTray core belongs to another user")
		return
	}

	br := bufio.NewReader(p.conn)
	_ = p.conn.SetReadDeadline(time.Now().Add(s.helloWait))
	line, err := readLine(br, nil)
	if err != nil {
		p.readError(err, true)
		return
	}
	hello, err := decode(line)
	if err != nil {
		p.protocolError(err.Error())
		return
	}
	if reason := checkHello(hello); reason != "" {
		p.protocolError(reason)
		return
	}
	_ = p.conn.SetReadDeadline(time.Time{})
	welcome, err := encode(Message{Op: OpWelcome, PID: os.Getpid()})
	if err != nil || !s.connect(p, hello, welcome) {
		return
	}
	connected = true
	s.log.Debug("IPC peer connected", "role", p.Role, "pid", p.PID)
	if s.opts.OnConnect != nil {
		s.opts.OnConnect(p)
	}

	buf := line
	for {
		if p.Role == RoleLauncher {
			// A launcher sends its request and goes: it may not idle.
			_ = p.conn.SetReadDeadline(time.Now().Add(s.launcherIdle))
		}
		line, err := readLine(br, buf)
		if err != nil {
			p.readError(err, false)
			return
		}
		buf = line
		m, err := decode(line)
		if err != nil {
			p.protocolError(err.Error())
			return
		}
		switch {
		case m.V != Version:
			p.protocolError(versionMismatch("core", "client", m.V))
			return
		case m.Op == OpHello:
			p.protocolError("a second hello")
			return
		case m.Op == OpError:
			s.log.Warn("an IPC peer reported an error and closes the connection",
				"text", m.Text, "pid", p.PID, "role", p.Role)
			return
		case clientOp(m.Op):
			if p.isClosed() {
				return
			}
			if s.opts.OnMessage != nil {
				s.opts.OnMessage(p, m)
			}
		case knownOp(m.Op):
			p.protocolError(fmt.Sprintf("%s is an op the core sends, not a client", quoteOp(m.Op)))
			return
		default:
			p.protocolError(fmt.Sprintf("unknown op %s", quoteOp(m.Op)))
			return
		}
	}
}

// readError handles a failed read: a protocol error for a too-long line or
// a missing hello, else the end of the connection.
func (p *Peer) readError(err error, beforeHello bool) {
	var netErr net.Error
	switch {
	case errors.Is(err, errLineTooLong):
		p.protocolError(err.Error())
	case beforeHello && errors.As(err, &netErr) && netErr.Timeout():
		p.protocolError(fmt.Sprintf("no hello within %v", p.srv.helloWait))
	case errors.As(err, &netErr) && netErr.Timeout():
		p.protocolError(fmt.Sprintf("a launcher idle for %v", p.srv.launcherIdle))
	case errors.Is(err, net.ErrClosed):
		// closed by this side
	default:
		role, pid := p.identity()
		if errors.Is(err, io.EOF) {
			err = nil
		}
		p.srv.log.Debug("IPC peer disconnected", "role", role, "pid", pid, "hello", !beforeHello, "err", err)
	}
}

// checkHello returns why the first line of a client is not a valid hello,
// or "".
func checkHello(m Message) string {
	switch {
	case m.V != Version:
		return versionMismatch("core", "client", m.V)
	case m.Op != OpHello:
		return fmt.Sprintf("expected hello first, got %s", quoteOp(m.Op))
	case m.Role != RoleWindow && m.Role != RoleLauncher:
		return fmt.Sprintf("unknown role %q", m.Role)
	}
	return ""
}

// writePump writes the queued lines, a batch at a time with a deadline,
// until the queue is closed and drained, then closes the connection.
func (p *Peer) writePump() {
	defer p.srv.wg.Done()
	defer p.conn.Close()
	bw := bufio.NewWriter(p.conn)
	for line := range p.send {
		_ = p.conn.SetWriteDeadline(time.Now().Add(writeWait))
		_, _ = bw.Write(line)
		for n := len(p.send); n > 0; n-- {
			more, ok := <-p.send
			if !ok {
				break
			}
			_, _ = bw.Write(more)
		}
		if err := bw.Flush(); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				role, pid := p.identity()
				p.srv.log.Debug("writing to an IPC peer failed", "role", role, "pid", pid, "err", err)
			}
			p.abort()
			return
		}
	}
}
