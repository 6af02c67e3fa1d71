package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// evilName is an event name from a hostile server: OSC 52 writes the
// clipboard, CSI 2J clears the screen.
const evilName = "Foo\x1b]52;c;SGVsbG8=\a\x1b[2J"

// terminalUnsafe lists what must never reach the terminal from a server:
// ESC, BEL, the C1 CSI, bidi overrides and isolates.
const terminalUnsafe = "\x1b\a\u009b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

func assertTerminalSafe(t *testing.T, where, text string) {
	t.Helper()
	if i := strings.IndexAny(text, terminalUnsafe); i >= 0 {
		t.Errorf("%s: a control character reached the terminal at byte %d: %q", where, i, text)
	}
}

// A hostile event name (and bidi overrides, C1 controls in the payload)
// reaches neither stdout nor stderr of watch; ordinary text is untouched.
func TestCLIWatchTerminalInjection(t *testing.T) {
	for _, jsonOut := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", jsonOut), func(t *testing.T) {
			r := newCLIRig(t)
			r.login(t, tenantUser())
			w := r.watch(t, WatchOptions{JSON: jsonOut, NoNotify: true})
			r.p.waitSubscribed(t, "tenant.7", "private-user.5")
			r.p.publish("tenant.7", evilName, map[string]any{"message": "pay \u202eevil\u202c \u009b2J now"})
			evil := w.line(t)
			r.p.publish("tenant.7", "SystemNotification", map[string]any{"message": "Malipo yamepokelewa: KES 1,500.00 💰 ✅"})
			normal := w.line(t)
			w.cancel()
			if err := w.wait(t); err != nil {
				t.Fatal(err)
			}
			assertTerminalSafe(t, "stdout", evil+"\n"+normal)
			assertTerminalSafe(t, "stderr", w.stderr.String())
			if !strings.Contains(normal, "Malipo yamepokelewa: KES 1,500.00 💰 ✅") {
				t.Errorf("ordinary text changed: %q", normal)
			}
			if !jsonOut {
				if !strings.Contains(evil, "Foo") || !strings.Contains(evil, "pay evil") || strings.Count(evil, "\n") != 0 {
					t.Errorf("event line %q", evil)
				}
				return
			}
			// JSON keeps the exact text, escaped.
			var got WatchLine
			if err := json.Unmarshal([]byte(evil), &got); err != nil {
				t.Fatalf("not JSON: %v: %q", err, evil)
			}
			if got.Event != evilName {
				t.Errorf("event %q, want %q", got.Event, evilName)
			}
			if !strings.Contains(evil, `\u202e`) || !strings.Contains(evil, `\u001b`) {
				t.Errorf("JSON line without escapes: %s", evil)
			}
		})
	}
}

// A pusher:error whose message carries escape sequences: the retry note on
// stderr and the final error line are clean.
func TestCLIWatchServerErrorTerminalInjection(t *testing.T) {
	r := newCLIRig(t)
	r.login(t, tenantUser())
	msg := "Over quota\x1b]52;c;SGVsbG8=\a\x1b[2J \u202eevil\nFAKE: Connected."
	r.p.refuseWith(map[string]any{"code": 4100, "message": msg})
	w := r.watch(t, WatchOptions{NoNotify: true})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(w.stderr.String(), "Over quota") {
		if time.Now().After(deadline) {
			t.Fatalf("no retry note; stderr:\n%s", w.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Refused for good: watch ends with the server's message in its error.
	r.p.refuseWith(map[string]any{"code": 4001, "message": msg})
	err := w.wait(t)
	if err == nil {
		t.Fatal("watch did not fail")
	}
	var line strings.Builder
	PrintError(&line, err)
	assertTerminalSafe(t, "stderr", w.stderr.String())
	assertTerminalSafe(t, "error line", line.String())
	if !strings.HasPrefix(line.String(), "echotray: ") || !strings.Contains(line.String(), "Over quota") {
		t.Errorf("error line %q", line.String())
	}
	// The server's line break does not fake a line of its own in a note.
	for l := range strings.SplitSeq(w.stderr.String(), "\n") {
		if strings.HasPrefix(l, "FAKE") {
			t.Errorf("the server started a line on stderr: %q", l)
		}
	}
}

// status and login print the user's name from the server: cleaned.
func TestCLIStatusTerminalInjection(t *testing.T) {
	r := newCLIRig(t)
	evil := tenantUser()
	evil.Name = "Tina\x1b]52;c;SGVsbG8=\a\x1b[2J \u202eTenant"
	r.b.mu.Lock()
	r.b.users[evil.Email] = evil
	r.b.mu.Unlock()
	var out, errOut strings.Builder
	pc := r.p.config()
	if err := r.cli(evil.Password+"\n", &out, &errOut).Login(context.Background(), LoginOptions{
		Server: r.b.URL(), Email: evil.Email, PasswordStdin: true,
		Pusher: PusherFlags{Key: pc.Key, Host: pc.Host, Port: pc.Port, Scheme: "http"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.cli("", &out, &errOut).Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertTerminalSafe(t, "stdout", out.String())
	assertTerminalSafe(t, "stderr", errOut.String())
	if !strings.Contains(out.String(), "Signed in as Tina Tenant <tina@example.com>") {
		t.Errorf("stdout:\n%s", out.String())
	}
}

func TestPrintError(t *testing.T) {
	var b strings.Builder
	PrintError(&b, errors.New("sign-in failed: "+evilName+" \u202eKES 1,500.00\ntry again"))
	if got, want := b.String(), "echotray: sign-in failed: Foo KES 1,500.00\ntry again\n"; got != want {
		t.Errorf("PrintError = %q, want %q", got, want)
	}
}

func TestTerminalf(t *testing.T) {
	got := terminalf("Cannot subscribe to %s: %v (%d)\n", "tenant.7\n\x1b[2J", errors.New("no\u202e\r\nway"), 3)
	if want := "Cannot subscribe to tenant.7 : no way (3)\n"; got != want {
		t.Errorf("terminalf = %q, want %q", got, want)
	}
}
