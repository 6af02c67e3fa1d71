//go:build linux || darwin

package ipc

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestOtherUserRejected checks the uid comparison through the injectable
// expected uid: this process is "another user" to the server.
func TestOtherUserRejected(t *testing.T) {
	other := os.Getuid() + 1
	s := startServer(t, func(o *ServerOptions) { o.expectUID = intPtr(other) })
	c, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatal("Dial by another user succeeded")
	}
	if !strings.Contains(err.Error(), "another user") {
		t.Errorf("err = %v", err)
	}
	line := s.log.waitLog(t, "level=WARN", `msg="rejected a connection from another user"`)
	for _, want := range []string{
		fmt.Sprintf("uid=%d", os.Getuid()),
		fmt.Sprintf("pid=%d", os.Getpid()),
		fmt.Sprintf("want_uid=%d", other),
	} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q without %q", line, want)
		}
	}
	nothing(t, s.rec.connects, "OnConnect")

	// uid 0 is a real uid, not "unset".
	if os.Getuid() != 0 {
		s0 := startServer(t, func(o *ServerOptions) { o.expectUID = intPtr(0) })
		if c, err := Dial(s0.Path(), RoleWindow, 2*time.Second); err == nil {
			c.Close()
			t.Error("Dial accepted though the server expects uid 0")
		}
	}
}
