package ipc

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeCore accepts one connection, reads the hello and answers with the
// given lines; it reports the lines the client sends afterwards.
func fakeCore(t *testing.T, answer ...string) (path string, got <-chan string) {
	t.Helper()
	path = filepath.Join(shortTempDir(t), "f.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		br := bufio.NewReader(conn)
		hello, err := br.ReadString('\n')
		if err != nil || !strings.Contains(hello, `"op":"hello"`) {
			t.Errorf("fake core got hello %q, %v", hello, err)
			return
		}
		for _, a := range answer {
			if _, err := conn.Write([]byte(a)); err != nil {
				return
			}
		}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimSpace(l)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return path, lines
}

func TestDialRefusals(t *testing.T) {
	cases := []struct {
		name    string
		answer  []string
		wantErr string
		wantOut string // what the client tells the fake core, if anything
	}{
		{"error", []string{`{"v":1,"op":"error","text":"go away"}` + "\n"}, "refused the connection: go away", ""},
		{"newer core's error", []string{`{"v":2,"op":"error","text":"core speaks 2"}` + "\n"}, "core speaks 2", ""},
		{"newer core", []string{`{"v":2,"op":"welcome","pid":1}` + "\n"}, "this EchoTray client speaks protocol version 1, the core speaks version 2", "the core speaks version 2"},
		{"garbage", []string{"ok\n"}, "malformed message", "malformed message"},
		{"not welcome", []string{`{"v":1,"op":"state"}` + "\n"}, `expected welcome, got "state"`, "expected welcome"},
		{"quitting", []string{`{"v":1,"op":"bye"}` + "\n"}, "quitting", ""},
		{"closed", nil, "no welcome", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, got := fakeCore(t, tc.answer...)
			c, err := Dial(path, RoleWindow, 300*time.Millisecond)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.wantOut != "" {
				expectErrorLine(t, receive(t, got, "client's error"), tc.wantOut)
			}
		})
	}
}

func TestDialTimeoutAndNobody(t *testing.T) {
	// A process that accepts and never answers.
	path := filepath.Join(shortTempDir(t), "mute.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	if _, err := Dial(path, RoleWindow, 200*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no welcome") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial took %v with a timeout of 200ms", d)
	}

	if _, err := Dial(filepath.Join(shortTempDir(t), "none.sock"), RoleWindow, time.Second); err == nil {
		t.Error("Dial without a core succeeded")
	}
	if _, err := Dial(path, Role("admin"), time.Second); err == nil {
		t.Error("Dial with an unknown role succeeded")
	}
}

func TestClientProtocolErrors(t *testing.T) {
	welcome := `{"v":1,"op":"welcome","pid":77}` + "\n"
	cases := []struct {
		name   string
		after  string
		reason string
	}{
		{"malformed", "{oops\n", "malformed message"},
		{"client op", `{"v":1,"op":"quit"}` + "\n", `unexpected op "quit" from the core`},
		{"unknown op", `{"v":1,"op":"dance"}` + "\n", `unexpected op "dance" from the core`},
		{"second welcome", welcome, `unexpected op "welcome" from the core`},
		{"newer message", `{"v":2,"op":"state"}` + "\n", "the core speaks version 2"},
		{"too long", strings.Repeat("x", MaxLine+1), "line longer than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, got := fakeCore(t, welcome, `{"v":1,"op":"state","state":{"conn":"offline"}}`+"\n", tc.after)
			c, err := Dial(path, RoleWindow, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.CorePID() != 77 {
				t.Errorf("CorePID = %d", c.CorePID())
			}
			if m := receive(t, c.Messages(), "state"); m.Op != OpState || m.State.Conn != "offline" {
				t.Errorf("got %+v", m)
			}
			select {
			case m, ok := <-c.Messages():
				if ok {
					t.Fatalf("got %+v, want the end", m)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Messages not closed")
			}
			if err := c.Err(); err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Err = %v, want %q", err, tc.reason)
			}
			expectErrorLine(t, receive(t, got, "client's error"), tc.reason)
		})
	}
}

func TestClientCoreError(t *testing.T) {
	path, _ := fakeCore(t, `{"v":1,"op":"welcome","pid":5}`+"\n", `{"v":1,"op":"error","text":"shutting down badly"}`+"\n")
	c, err := Dial(path, RoleWindow, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m := receive(t, c.Messages(), "error"); m.Op != OpError || m.Text != "shutting down badly" {
		t.Errorf("got %+v", m)
	}
	if _, ok := <-c.Messages(); ok {
		t.Error("message after error")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "shutting down badly") {
		t.Errorf("Err = %v", err)
	}
}

func TestClientCloseWhileMessagesUnread(t *testing.T) {
	s := startServer(t, nil)
	c, err := Dial(s.Path(), RoleWindow, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p := receive(t, s.rec.connects, "OnConnect")
	// More than the Messages buffer, never read: the reader blocks on the
	// channel and Close must still end it.
	for i := range messagesBuffer + 20 {
		if err := p.Send(Message{Op: OpState, State: &State{Conn: "connected"}}); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			time.Sleep(20 * time.Millisecond) // let the writer drain the queue
		}
	}
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close blocked")
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err after Close = %v", err)
	}
	receive(t, s.rec.disconnects, "OnDisconnect")
}

// expectErrorLine checks that line is an error message whose Text contains
// text.
func expectErrorLine(t *testing.T, line, text string) {
	t.Helper()
	m, err := decode([]byte(line))
	if err != nil || m.V != Version || m.Op != OpError || !strings.Contains(m.Text, text) {
		t.Errorf("client sent %s, want an error with %q", line, text)
	}
}
