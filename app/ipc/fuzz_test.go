package ipc

import (
	"strings"
	"testing"
	"time"
)

// FuzzServerLine feeds arbitrary bytes to the server, before or after a
// hello, and checks that it neither panics nor stops serving, and that
// OnMessage only ever sees valid client messages.
func FuzzServerLine(f *testing.F) {
	seeds := []string{
		`{"v":1,"op":"show","window":"history","entry":3}`,
		`{"v":1,"op":"pause","until":"2030-01-01T00:00:00Z"}`,
		`{"v":1,"op":"pause","until":"yesterday"}`,
		`{"v":1,"op":"hello","role":"window","pid":1}`,
		`{"v":1,"op":"state","state":{"conn":1}}`,
		`{"v":1,"op":"entry-added","added":{"ID":"x"}}`,
		`{"v":2,"op":"hello"}`,
		`{"v":1e400}`,
		`{"v":1,"op":"show"}{"v":1}`,
		`{"v":1,"op":"show"}` + "\n" + `{"v":1,"op":"quit"}`,
		`{"v":1,"op":"error","text":"x"}`,
		"\xff\xfe",
		"null",
		"",
		"{",
		strings.Repeat("[", 10000),
		strings.Repeat("a", MaxLine+1),
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	bad := make(chan Message, 1)
	s := startServer(f, func(o *ServerOptions) {
		o.OnConnect, o.OnDisconnect = nil, nil
		o.OnMessage = func(p *Peer, m Message) {
			if m.V != Version || !clientOp(m.Op) || m.Op == OpError {
				select {
				case bad <- m:
				default:
				}
			}
		}
	})
	f.Fuzz(func(t *testing.T, line []byte, afterHello bool) {
		raw := dialRaw(t, s.Path())
		if afterHello {
			raw.hello(RoleWindow)
		}
		_ = raw.write(string(line) + "\n")

		// Still serving a good client.
		c, err := Dial(s.Path(), RoleLauncher, 2*time.Second)
		if err != nil {
			t.Fatalf("server stopped serving: %v", err)
		}
		if err := c.Send(Message{Op: OpResume}); err != nil {
			t.Fatal(err)
		}
		c.Close()
		raw.conn.Close()
		select {
		case m := <-bad:
			t.Fatalf("OnMessage got an invalid message: %+v", m)
		default:
		}
	})
}
