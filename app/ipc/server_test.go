package ipc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"echotray/notify"
)

func TestRoundTrip(t *testing.T) {
	s := startServer(t, nil)
	c, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.CorePID() != os.Getpid() {
		t.Errorf("CorePID = %d, want %d", c.CorePID(), os.Getpid())
	}
	p := receive(t, s.rec.connects, "OnConnect")
	if p.Role != RoleWindow || p.PID != os.Getpid() {
		t.Errorf("peer = %s pid %d, want window pid %d", p.Role, p.PID, os.Getpid())
	}

	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := c.Send(Message{Op: OpPause, Until: until}); err != nil {
		t.Fatal(err)
	}
	m := receive(t, s.rec.messages, "OnMessage")
	if m.V != Version || m.Op != OpPause || !m.Until.Equal(until) {
		t.Errorf("core got %+v", m)
	}

	st := &State{Conn: "connected", User: "Ada", Unread: 3, TrayPresent: true, Banners: []string{"a", "b"}}
	if err := p.Send(Message{Op: OpState, State: st}); err != nil {
		t.Fatal(err)
	}
	got := receive(t, c.Messages(), "state")
	if got.V != Version || got.Op != OpState || got.State == nil || got.State.User != "Ada" ||
		got.State.Unread != 3 || !got.State.TrayPresent || len(got.State.Banners) != 2 {
		t.Errorf("window got %+v (state %+v)", got, got.State)
	}

	entry := &notify.Entry{ID: 9, Title: "Hi", Type: notify.TypeInfo, Data: []byte(`{"x":1}`)}
	if err := p.Send(Message{Op: OpEntryAdded, Added: entry}); err != nil {
		t.Fatal(err)
	}
	got = receive(t, c.Messages(), "entry-added")
	if got.Added == nil || got.Added.ID != 9 || got.Added.Title != "Hi" || string(got.Added.Data) != `{"x":1}` {
		t.Errorf("window got %+v", got)
	}

	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if gone := receive(t, s.rec.disconnects, "OnDisconnect"); gone != p {
		t.Error("OnDisconnect for another peer")
	}
	if _, ok := <-c.Messages(); ok {
		t.Error("Messages open after Close")
	}
	if err := c.Send(Message{Op: OpQuit}); err == nil {
		t.Error("Send after Close succeeded")
	}
}

func TestOrderedDeliveryBothWays(t *testing.T) {
	const n = 600
	s := startServer(t, nil)
	c, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := receive(t, s.rec.connects, "OnConnect")

	sendErr := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			if err := c.Send(Message{Op: OpShow, Window: "history", Entry: int64(i)}); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- nil
	}()
	go func() {
		for i := 1; i <= n; i++ {
			// Paced only by the window reading: 600 > the queue of 256.
			for p.Send(Message{Op: OpEntryAdded, Added: &notify.Entry{ID: int64(i)}}) != nil {
				t.Error("Send failed")
				return
			}
			if i%100 == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	for i := 1; i <= n; i++ {
		m := receive(t, c.Messages(), "entry-added")
		if m.Added == nil || m.Added.ID != int64(i) {
			t.Fatalf("window message %d: %+v", i, m)
		}
	}
	for i := 1; i <= n; i++ {
		m := receive(t, s.rec.messages, "show")
		if m.Entry != int64(i) {
			t.Fatalf("core message %d: entry %d", i, m.Entry)
		}
	}
	if err := <-sendErr; err != nil {
		t.Fatal(err)
	}
}

func TestBroadcastOnlyToWindows(t *testing.T) {
	s := startServer(t, nil)
	w1, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Close()
	w2, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	l, err := Dial(s.Path(), RoleLauncher, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 3 {
		receive(t, s.rec.connects, "OnConnect")
	}

	s.Broadcast(Message{Op: OpState, State: &State{Conn: "offline", Unread: 1}})
	for _, w := range []*Client{w1, w2} {
		if m := receive(t, w.Messages(), "broadcast"); m.Op != OpState || m.State.Conn != "offline" {
			t.Errorf("window got %+v", m)
		}
	}
	nothing(t, l.Messages(), "broadcast to the launcher")

	// A client op is not broadcast, and that is logged.
	s.Broadcast(Message{Op: OpQuit})
	nothing(t, w1.Messages(), "broadcast of a client op")
	s.log.waitLog(t, "level=WARN", "not broadcasting an op of the wrong direction", "op=quit")
}

func TestAsk(t *testing.T) {
	s := startServer(t, nil)
	if err := Ask(s.Path(), Message{Op: OpShow, Window: "history", Entry: 4}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p := receive(t, s.rec.connects, "OnConnect")
	if p.Role != RoleLauncher {
		t.Errorf("role %q, want launcher", p.Role)
	}
	m := receive(t, s.rec.messages, "OnMessage")
	if m.Op != OpShow || m.Window != "history" || m.Entry != 4 {
		t.Errorf("core got %+v", m)
	}
	receive(t, s.rec.disconnects, "OnDisconnect")

	if err := Ask(filepath.Join(shortTempDir(t), "none.sock"), Message{Op: OpShow}, time.Second); err == nil {
		t.Error("Ask without a core succeeded")
	}
}

func TestCloseSendsBye(t *testing.T) {
	s := startServer(t, nil)
	w, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l, err := Dial(s.Path(), RoleLauncher, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	receive(t, s.rec.connects, "OnConnect")
	receive(t, s.rec.connects, "OnConnect")
	// A connection still in its hello gets bye too.
	raw := dialRaw(t, s.Path())
	waitPeers(t, s.Server, 3)

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Client{w, l} {
		m, ok := <-c.Messages()
		if !ok || m.Op != OpBye {
			t.Fatalf("got %+v (open %v), want bye", m, ok)
		}
		select {
		case _, ok := <-c.Messages():
			if ok {
				t.Fatal("a message after bye")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Messages not closed within 2 s of bye")
		}
		if err := c.Err(); err != nil {
			t.Errorf("Err after bye = %v", err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("bye took %v", d)
	}
	if m, err := raw.read(); err != nil || m.Op != OpBye {
		t.Errorf("connection in hello got %+v, %v; want bye", m, err)
	}
	receive(t, s.rec.disconnects, "OnDisconnect")
	receive(t, s.rec.disconnects, "OnDisconnect")
	if _, err := os.Lstat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := Dial(s.Path(), RoleWindow, time.Second); err == nil {
		t.Error("Dial after Close succeeded")
	}
	s.Broadcast(Message{Op: OpBye}) // no peers, no panic
}

func TestAlreadyRunning(t *testing.T) {
	s := startServer(t, nil)
	for range 2 {
		start := time.Now()
		second, err := Listen(ServerOptions{Path: s.Path()})
		if !errors.Is(err, ErrAlreadyRunning) {
			if second != nil {
				second.Close()
			}
			t.Fatalf("err = %v, want ErrAlreadyRunning", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Listen took %v to see the lock", d)
		}
	}
	// The lock decided: nobody connected to the first core.
	nothing(t, s.rec.connects, "connection from the second Listen")
	waitPeers(t, s.Server, 0)
	// The first server still serves.
	if err := Ask(s.Path(), Message{Op: OpShow, Window: "history"}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	receive(t, s.rec.messages, "show")
	if fi, err := os.Lstat(s.Path()); err != nil || !os.SameFile(fi, s.sock) {
		t.Errorf("the first core's socket changed: %v", err)
	}
}

func TestStaleSocketIsTakenOver(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "e.sock")
	// A crashed core leaves its socket file behind.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	s := startServerAt(t, path, nil)
	s.log.waitLog(t, "removing a stale IPC socket")
	if err := Ask(path, Message{Op: OpShow, Window: "settings"}, 2*time.Second); err != nil {
		t.Fatalf("the new core does not answer: %v", err)
	}
	if m := receive(t, s.rec.messages, "show"); m.Window != "settings" {
		t.Errorf("got %+v", m)
	}
}

func TestStaleRegularFileIsTakenOver(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "e.sock")
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServerAt(t, path, nil)
	if err := Ask(path, Message{Op: OpResume}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	receive(t, s.rec.messages, "resume")
}

func TestListenModes(t *testing.T) {
	dir := filepath.Join(shortTempDir(t), "sub")
	s := startServerAt(t, filepath.Join(dir, "e.sock"), nil)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("socket directory mode %v, want 0700", perm)
	}
	fi, err = os.Lstat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	// Close removes the file: the next Listen becomes the core.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Listen(ServerOptions{Path: s.Path()})
	if err != nil {
		t.Fatal(err)
	}
	again.Close()

	if _, err := Listen(ServerOptions{}); err == nil {
		t.Error("Listen without a path succeeded")
	}
}

func TestProtocolErrors(t *testing.T) {
	cases := []struct {
		name   string
		hello  bool   // send a valid hello first
		send   string // written as is
		reason string // in the error text and the log line
	}{
		{"malformed JSON", true, `{"v":1,"op":` + "\n", "malformed message"},
		{"malformed before hello", false, "hello\n", "malformed message: not a JSON object"},
		{"not an object", true, "[1,2]\n", "not a JSON object"},
		{"null", true, "null\n", "not a JSON object"},
		{"empty line", true, "\n", "not a JSON object"},
		{"trailing garbage", true, `{"v":1,"op":"resume"}x` + "\n", "malformed message"},
		{"not UTF-8", true, "{\"v\":1,\"op\":\"show\",\"window\":\"\xff\"}\n", "not UTF-8"},
		{"too long after hello", true, `{"v":1,"op":"show","notice":"` + strings.Repeat("a", MaxLine) + `"}` + "\n", "line longer than 65536 bytes"},
		{"too long without newline", false, strings.Repeat("a", MaxLine+10), "line longer than 65536 bytes"},
		{"unknown op", true, `{"v":1,"op":"explode"}` + "\n", `unknown op "explode"`},
		{"message before hello", false, `{"v":1,"op":"show","window":"history"}` + "\n", `expected hello first, got "show"`},
		{"newer client", false, `{"v":2,"op":"hello","role":"window","pid":1}` + "\n", "this EchoTray core speaks protocol version 1, the client speaks version 2"},
		{"older client", false, `{"v":0,"op":"hello","role":"window","pid":1}` + "\n", "the client sent no protocol version; this EchoTray core speaks version 1"},
		{"wrong version after hello", true, `{"v":3,"op":"resume"}` + "\n", "the client speaks version 3"},
		{"second hello", true, `{"v":1,"op":"hello","role":"window"}` + "\n", "a second hello"},
		{"core op from a client", true, `{"v":1,"op":"state","state":{"conn":"connected"}}` + "\n", `"state" is an op the core sends`},
		{"welcome from a client", true, `{"v":1,"op":"welcome"}` + "\n", `"welcome" is an op the core sends`},
		{"unknown role", false, `{"v":1,"op":"hello","role":"admin"}` + "\n", `unknown role "admin"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, nil)
			raw := dialRaw(t, s.Path())
			if tc.hello {
				raw.hello(RoleWindow)
				receive(t, s.rec.connects, "OnConnect")
			}
			_ = raw.write(tc.send)
			raw.expectClosedWithError(tc.reason)
			line := s.log.waitLog(t, "level=WARN", `msg="closed an IPC connection after a protocol error"`, logQuoted(tc.reason))
			if !strings.Contains(line, fmt.Sprintf("pid=%d", os.Getpid())) {
				t.Errorf("log line without the peer's pid: %s", line)
			}
			if tc.hello {
				receive(t, s.rec.disconnects, "OnDisconnect")
			}
			nothing(t, s.rec.messages, "message")

			// The server keeps serving a good peer.
			c, err := Dial(s.Path(), RoleWindow, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Send(Message{Op: OpReconnect}); err != nil {
				t.Fatal(err)
			}
			if m := receive(t, s.rec.messages, "reconnect"); m.Op != OpReconnect {
				t.Errorf("got %+v", m)
			}
		})
	}
}

func TestClientErrorEndsConnection(t *testing.T) {
	s := startServer(t, nil)
	raw := dialRaw(t, s.Path())
	raw.hello(RoleWindow)
	receive(t, s.rec.connects, "OnConnect")
	_ = raw.write(`{"v":1,"op":"error","text":"window broke"}` + "\n")
	receive(t, s.rec.disconnects, "OnDisconnect")
	s.log.waitLog(t, "level=WARN", "reported an error", `text="window broke"`)
	if m, err := raw.read(); err == nil {
		t.Errorf("after the error: %+v", m)
	}
	nothing(t, s.rec.messages, "message")
}

func TestHelloTimeout(t *testing.T) {
	s := startServer(t, func(o *ServerOptions) { o.helloWait = 100 * time.Millisecond })
	raw := dialRaw(t, s.Path())
	raw.expectClosedWithError("no hello within 100ms")
	s.log.waitLog(t, "level=WARN", "protocol error", "no hello within 100ms")

	// The default is 3 s.
	if helloWait != 3*time.Second {
		t.Errorf("helloWait = %v", helloWait)
	}
}

func TestPeerCloseAndSend(t *testing.T) {
	s := startServer(t, nil)
	s.rec.onMessage = func(p *Peer, m Message) {
		if m.Op == OpQuit {
			_ = p.Send(Message{Op: OpShow, Window: "history", Notice: "closing"})
			p.Close() // from a callback: does not wait
			p.Close()
		}
	}
	c, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := receive(t, s.rec.connects, "OnConnect")

	if err := p.Send(Message{Op: OpQuit}); err == nil {
		t.Error("Peer.Send of a client op succeeded")
	}
	if err := p.Send(Message{Op: OpShow, Notice: strings.Repeat("x", MaxLine)}); err == nil {
		t.Error("Peer.Send of a too long message succeeded")
	}
	if err := c.Send(Message{Op: OpState}); err == nil {
		t.Error("Client.Send of a core op succeeded")
	}
	if err := c.Send(Message{Op: OpHello}); err == nil {
		t.Error("Client.Send of hello succeeded")
	}
	if err := c.Send(Message{Op: OpShow, Notice: strings.Repeat("x", MaxLine)}); err == nil {
		t.Error("Client.Send of a too long message succeeded")
	}

	if err := c.Send(Message{Op: OpQuit}); err != nil {
		t.Fatal(err)
	}
	// What was queued before Close is still written.
	if m := receive(t, c.Messages(), "show"); m.Notice != "closing" {
		t.Errorf("got %+v", m)
	}
	select {
	case _, ok := <-c.Messages():
		if ok {
			t.Fatal("message after the peer was closed")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Messages not closed after Peer.Close")
	}
	if c.Err() == nil {
		t.Error("Err = nil after the core closed the connection")
	}
	receive(t, s.rec.disconnects, "OnDisconnect")
	if err := p.Send(Message{Op: OpState}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send to a closed peer: %v", err)
	}
}

func TestSlowReaderDoesNotBlockBroadcast(t *testing.T) {
	s := startServer(t, nil)
	slow := dialRaw(t, s.Path()) // says hello, then never reads
	slow.hello(RoleWindow)
	slowPeer := receive(t, s.rec.connects, "OnConnect")

	good, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	receive(t, s.rec.connects, "OnConnect")

	big := &State{Conn: "connected", Banners: []string{strings.Repeat("b", 32<<10)}}
	const round = 50
	var slowest time.Duration
	disconnected := false
	for r := 0; r < 40 && !disconnected; r++ {
		for range round {
			start := time.Now()
			s.Broadcast(Message{Op: OpState, State: big})
			slowest = max(slowest, time.Since(start))
		}
		// The good window keeps up and gets every message.
		for i := range round {
			if m := receive(t, good.Messages(), fmt.Sprintf("broadcast %d of round %d", i, r)); m.Op != OpState {
				t.Fatalf("good window got %+v", m)
			}
		}
		select {
		case p := <-s.rec.disconnects:
			if p != slowPeer {
				t.Fatal("the good window was disconnected")
			}
			disconnected = true
		default:
		}
	}
	if !disconnected {
		t.Fatal("the peer that does not read was not disconnected")
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("a Broadcast took %v", slowest)
	}
	s.log.waitLog(t, "level=WARN", "does not read", fmt.Sprintf("pid=%d", os.Getpid()), "role=window")
	// The good window is still connected.
	s.Broadcast(Message{Op: OpState, State: &State{Conn: "offline"}})
	if m := receive(t, good.Messages(), "last broadcast"); m.State.Conn != "offline" {
		t.Errorf("got %+v", m)
	}
}
