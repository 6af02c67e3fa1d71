//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"echotray/devstack/generator"
	"echotray/devstack/publish"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitState polls for the state file a devstack writes once it is up.
func waitState(t *testing.T, path string, exited <-chan struct{}, logs *syncBuffer) State {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := readState(path); err == nil {
			return st
		}
		select {
		case <-exited:
			t.Fatalf("devstack exited before writing %s:\n%s", path, logs.String())
		case <-time.After(50 * time.Millisecond): // polling a real process with a deadline
		}
	}
	t.Fatalf("no state file within 60 s:\n%s", logs.String())
	return State{}
}

type wsFrame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// subscribeAll connects to st's Soketi and subscribes channels, signing
// private ones with the app secret from the state file.
func subscribeAll(t *testing.T, st State, channels []string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(st.WSURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", st.WSURL, err)
	}
	t.Cleanup(func() { conn.Close() })
	f := readFrame(t, conn)
	var est struct {
		SocketID string `json:"socket_id"`
	}
	var s string
	_ = json.Unmarshal(f.Data, &s)
	if err := json.Unmarshal([]byte(s), &est); err != nil || est.SocketID == "" {
		t.Fatalf("handshake %+v", f)
	}
	for _, ch := range channels {
		data := map[string]string{"channel": ch}
		if strings.HasPrefix(ch, "private-") {
			data["auth"] = publish.ChannelAuth(st.PusherKey, st.PusherSecret, est.SocketID, ch, "")
		}
		if err := conn.WriteJSON(map[string]any{"event": "pusher:subscribe", "data": data}); err != nil {
			t.Fatal(err)
		}
	}
	for range channels {
		if f := readFrame(t, conn); f.Event != "pusher_internal:subscription_succeeded" {
			t.Fatalf("subscription: %+v %s", f, f.Data)
		}
	}
	return conn
}

func readFrame(t *testing.T, conn *websocket.Conn) wsFrame {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var f wsFrame
	if err := conn.ReadJSON(&f); err != nil {
		t.Fatalf("read: %v", err)
	}
	return f
}

var allChannels = []string{"tenant.1", "tenant.2", "private-user.1", "private-user.2", "private-user.3", "private-user.4", "private-system.admin"}

func TestRunGeneratesOnceAndStops(t *testing.T) {
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	logs := &syncBuffer{}
	var stdout syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan struct{})
	var code int
	go func() {
		defer close(exited)
		code = run(ctx, []string{"--soketi-port", "0", "--server", "127.0.0.1:0", "--state", statePath, "--rate", "20", "--names", "bare", "--soketi-grace", "100ms"}, &stdout, logs)
	}()
	st := waitState(t, statePath, exited, logs)
	if !strings.HasPrefix(st.Server, "http://127.0.0.1:") || st.PusherKey != "local-key" || st.PusherAppID != "local-id" ||
		st.PusherScheme != "http" || st.PusherCluster != "mt1" || len(st.Users) != 4 || st.SoketiPID == 0 {
		t.Errorf("state = %+v", st)
	}
	if out := stdout.String(); !strings.Contains(out, st.Server) || !strings.Contains(out, "alice@tenant1.test") {
		t.Errorf("printed settings:\n%s", out)
	}

	// The generator's events arrive, bare-named, on the seed's channels.
	conn := subscribeAll(t, st, allChannels)
	for range 3 {
		f := readFrame(t, conn)
		if generator.ChannelKind(f.Event) == "" || strings.Contains(f.Event, `\`) {
			t.Errorf("unexpected event %s on %s", f.Event, f.Channel)
		}
	}

	// --once --from publishes one of every event into the running stack.
	conn2 := subscribeAll(t, st, allChannels)
	var onceLogs syncBuffer
	if c := run(context.Background(), []string{"--from", statePath, "--once", "--names", "namespaced"}, &bytes.Buffer{}, &onceLogs); c != 0 {
		t.Fatalf("--once exit %d:\n%s", c, onceLogs.String())
	}
	seen := map[string]bool{}
	for len(seen) < 18 {
		f := readFrame(t, conn2)
		if short, ok := strings.CutPrefix(f.Event, generator.Namespace); ok {
			seen[short] = true
		}
	}

	cancel()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if code != 0 {
		t.Errorf("exit code %d:\n%s", code, logs.String())
	}
	if err := syscall.Kill(-st.SoketiPID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("Soketi's process group %d survived (kill -0: %v)", st.SoketiPID, err)
	}
	if _, err := os.Stat(statePath); !os.IsNotExist(err) {
		t.Errorf("state file left behind: %v", err)
	}
}

// TestBinaryStopsOnSIGTERM runs the built command like run-demo.sh does and
// checks that SIGTERM leaves no node process behind.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "devstack")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	statePath := filepath.Join(dir, "state.json")
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "--soketi-port", "0", "--server", "127.0.0.1:0", "--state", statePath, "--no-generator")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	st := waitState(t, statePath, exited, logs)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("devstack ignored SIGTERM:\n%s", logs.String())
	}
	if waitErr != nil {
		t.Errorf("exit: %v\n%s", waitErr, logs.String())
	}
	if err := syscall.Kill(-st.SoketiPID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("Soketi's process group %d survived SIGTERM (kill -0: %v)", st.SoketiPID, err)
	}
	if !strings.Contains(logs.String(), "Soketi stopped") {
		t.Errorf("no clean stop logged:\n%s", logs.String())
	}
}
