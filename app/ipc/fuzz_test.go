package ipc

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzServerLine feeds arbitrary bytes to the server, before or after a
// hello (as a window or a launcher), with or without the newline, and
// checks that it neither panics nor stops serving, that OnMessage only
// ever sees valid client messages, and that whatever the peer left
// pending, a second Listen still finds the core running (the lock) and
// leaves its socket alone.
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
		f.Add([]byte(s), false, false, true)
		f.Add([]byte(s), true, false, true)
		f.Add([]byte(s), true, true, true)
		f.Add([]byte(s), false, false, false)
		f.Add([]byte(s), true, true, false)
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
	f.Fuzz(func(t *testing.T, line []byte, afterHello, launcher, newline bool) {
		raw := dialRaw(t, s.Path())
		if afterHello {
			role := RoleWindow
			if launcher {
				role = RoleLauncher
			}
			raw.hello(role)
		}
		if newline {
			line = append(line, '\n')
		}
		_ = raw.write(string(line))

		// A second core is refused, at once, and takes nothing over.
		start := time.Now()
		if second, err := Listen(ServerOptions{Path: s.Path()}); !errors.Is(err, ErrAlreadyRunning) {
			if second != nil {
				second.Close()
			}
			t.Fatalf("second Listen: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("second Listen took %v", d)
		}
		if fi, err := os.Lstat(s.Path()); err != nil || !os.SameFile(fi, s.sock) {
			t.Fatalf("the core's socket changed: %v", err)
		}

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
