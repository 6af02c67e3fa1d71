package ipc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv selects a helper mode of the test binary (see TestMain).
const (
	helperEnv     = "ECHOTRAY_IPC_TEST_HELPER"
	helperSockEnv = "ECHOTRAY_IPC_TEST_SOCKET"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	goleak.VerifyTestMain(m)
}

// runHelper is the test binary re-executed as a child process.
func runHelper(mode string) int {
	switch mode {
	case "dial":
		c, err := Dial(os.Getenv(helperSockEnv), RoleWindow, 2*time.Second)
		if err != nil {
			fmt.Println("dial error:", err)
			return 0
		}
		c.Close()
		fmt.Println("dial succeeded")
		return 0
	}
	fmt.Println("unknown helper mode", mode)
	return 2
}

// shortTempDir is a temp dir with a short path: a unix socket path is
// limited to about 100 bytes, which t.TempDir() under a long test name can
// exceed.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ipc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// logBuffer collects the text log of a server, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// line returns the first log line containing every one of parts, or "".
func (b *logBuffer) line(parts ...string) string {
	for l := range strings.SplitSeq(b.String(), "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(l, p) {
				ok = false
				break
			}
		}
		if ok && l != "" {
			return l
		}
	}
	return ""
}

// waitLog waits up to 2 s for a log line containing every one of parts.
func (b *logBuffer) waitLog(t testing.TB, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if l := b.line(parts...); l != "" {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q in:\n%s", parts, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder records the server's callbacks.
type recorder struct {
	connects    chan *Peer
	messages    chan Message
	disconnects chan *Peer
	onMessage   func(p *Peer, m Message) // optional extra
}

// testServer is a running server with its log and callbacks.
type testServer struct {
	*Server
	log *logBuffer
	rec *recorder
}

// startServer listens at a fresh path; configure may change the options.
func startServer(t testing.TB, configure func(*ServerOptions)) *testServer {
	t.Helper()
	return startServerAt(t, filepath.Join(shortTempDir(t), "e.sock"), configure)
}

func startServerAt(t testing.TB, path string, configure func(*ServerOptions)) *testServer {
	t.Helper()
	logs := &logBuffer{}
	rec := &recorder{
		connects:    make(chan *Peer, 1024),
		messages:    make(chan Message, 4096),
		disconnects: make(chan *Peer, 1024),
	}
	opts := ServerOptions{
		Path:   path,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnConnect: func(p *Peer) {
			rec.connects <- p
		},
		OnMessage: func(p *Peer, m Message) {
			if rec.onMessage != nil {
				rec.onMessage(p, m)
			}
			rec.messages <- m
		},
		OnDisconnect: func(p *Peer) {
			rec.disconnects <- p
		},
	}
	if configure != nil {
		configure(&opts)
	}
	s, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &testServer{Server: s, log: logs, rec: rec}
}

// receive waits up to 2 s for a value from ch.
func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(2 * time.Second):
		t.Fatalf("no %s within 2 s", what)
	}
	var zero T
	return zero
}

// nothing asserts that ch stays quiet for a moment.
func nothing[T any](t testing.TB, ch <-chan T, what string) {
	t.Helper()
	select {
	case v, ok := <-ch:
		if ok {
			t.Fatalf("unexpected %s: %+v", what, v)
		}
	case <-time.After(100 * time.Millisecond):
	}
}

// rawPeer speaks the protocol by hand, to send what Client refuses to.
type rawPeer struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t testing.TB, path string) *rawPeer {
	t.Helper()
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawPeer{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// write writes s as is; a failure is not fatal (the server may have
// closed the connection already).
func (r *rawPeer) write(s string) error {
	_ = r.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := r.conn.Write([]byte(s))
	return err
}

// hello says hello as role and expects the welcome.
func (r *rawPeer) hello(role Role) {
	r.t.Helper()
	if err := r.write(fmt.Sprintf(`{"v":1,"op":"hello","role":%q,"pid":%d}`+"\n", role, os.Getpid())); err != nil {
		r.t.Fatal(err)
	}
	m, err := r.read()
	if err != nil {
		r.t.Fatalf("no welcome: %v", err)
	}
	if m.Op != OpWelcome || m.V != Version || m.PID != os.Getpid() {
		r.t.Fatalf("welcome = %+v", m)
	}
}

// read reads one message within 2 s.
func (r *rawPeer) read() (Message, error) {
	_ = r.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := r.br.ReadBytes('\n')
	if err != nil {
		return Message{}, err
	}
	return decode(line)
}

// expectClosedWithError reads until an error message containing text, then
// expects the connection to end.
func (r *rawPeer) expectClosedWithError(text string) {
	r.t.Helper()
	m, err := r.read()
	if err != nil {
		r.t.Fatalf("no error message: %v", err)
	}
	if m.Op != OpError || m.V != Version || !strings.Contains(m.Text, text) {
		r.t.Fatalf("got %+v, want an error with %q", m, text)
	}
	if m, err := r.read(); err == nil {
		r.t.Fatalf("after the error: %+v, want the end of the connection", m)
	} else if ne := (net.Error)(nil); errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatal("the connection stays open after the error")
	}
}

func intPtr(i int) *int { return &i }

// logQuoted is s as it appears inside a quoted value of a text log line.
func logQuoted(s string) string {
	return strings.Trim(strconv.Quote(s), `"`)
}

// waitPeers waits until the server has accepted n connections.
func waitPeers(t testing.TB, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		s.mu.Lock()
		got := len(s.peers)
		s.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections accepted, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}
