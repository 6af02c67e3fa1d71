//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"echotray/devstack"
	"echotray/devstack/laravel"
)

// binary is the echotray core under test (built with -tags nowindow, no
// GUI toolkit); windowBinary is the window program next to it
// (echotray-window, cgo and Fyne), which the core starts for its windows.
var binary, windowBinary string

// buildDir is the directory holding both executables.
var buildDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if socket := os.Getenv(peerEnv); socket != "" {
		return runPeer(socket) // this binary, run by TestSocketRejectsOtherUser
	}
	if missing := missingTools(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: missing tools: %s\n", strings.Join(missing, ", "))
		return 1
	}
	if b := os.Getenv("ECHOTRAY_E2E_BINARY"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		setBinaries(filepath.Dir(abs))
		binary = abs
		if fi, err := os.Stat(windowBinary); err != nil || fi.IsDir() {
			fmt.Fprintf(os.Stderr, "e2e: ECHOTRAY_E2E_BINARY=%s: the window program %s must be next to it (go build -tags migrated_fynedo -o %s .)\n",
				b, windowBinary, windowBinary)
			return 1
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "echotray-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	setBinaries(dir)
	fmt.Fprintln(os.Stderr, "e2e: building echotray and echotray-window (cgo + Fyne; minutes when the cache is cold)…")
	start := time.Now()
	// Exactly as the Makefile's build target; the module root is two
	// levels up from test/e2e.
	for _, b := range []struct {
		cgo  bool
		args []string
	}{
		{false, []string{"build", "-tags", "nowindow", "-o", binary, "."}},
		{true, []string{"build", "-tags", "migrated_fynedo", "-o", windowBinary, "."}},
	} {
		cmd := exec.Command("go", b.args...)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b.cgo {
			cmd.Env[len(cmd.Env)-1] = "CGO_ENABLED=1" // Fyne needs cgo, whatever the caller's setting
		}
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go %s failed: %v\n", strings.Join(b.args, " "), err)
			return 1
		}
	}
	fmt.Fprintf(os.Stderr, "e2e: built in %s\n", time.Since(start).Round(time.Second))
	return m.Run()
}

// setBinaries points binary and windowBinary into dir.
func setBinaries(dir string) {
	buildDir = dir
	binary = filepath.Join(dir, "echotray")
	windowBinary = filepath.Join(dir, "echotray-window")
}

// App runs the binary with its own config, data and cache directories on a
// desktop.
type App struct {
	Dir string // config/, data/ and cache/ are here
	d   *Desktop
	env []string
}

// NewApp returns an App with fresh directories.
func (d *Desktop) NewApp(t *testing.T) *App {
	t.Helper()
	dir := t.TempDir()
	a := &App{Dir: dir, d: d}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- log of the core (%s):\n%s", a.LogFile(), tail(readAll(a.LogFile()), 6000))
			t.Logf("--- log of the window process (%s):\n%s", a.WindowLogFile(), tail(readAll(a.WindowLogFile()), 6000))
		}
	})
	a.env = d.Env(
		"ECHOTRAY_CONFIG_DIR="+filepath.Join(dir, "config"),
		"ECHOTRAY_DATA_DIR="+filepath.Join(dir, "data"),
		"ECHOTRAY_CACHE_DIR="+filepath.Join(dir, "cache"),
	)
	return a
}

// ConfigFile returns the path of the config file.
func (a *App) ConfigFile() string { return filepath.Join(a.Dir, "config", "config.json") }

// LogFile returns the path of the log file.
func (a *App) LogFile() string { return filepath.Join(a.Dir, "cache", "logs", "echotray.log") }

// Result is a finished run.
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Run runs the binary to completion (60 s at most) with stdin.
func (a *App) Run(t *testing.T, stdin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = a.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := Result{Stdout: out.String(), Stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("run echotray %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("echotray %v did not finish within 60 s\n%s", args, res)
	}
	t.Logf("echotray %s → %d", strings.Join(args, " "), res.Code)
	return res
}

// Running is a background run of the binary (watch, or the tray app).
type Running struct {
	Stderr *lockedBuffer
	lines  chan string
	all    *lockedBuffer // every stdout line
	proc   *Proc
}

// Start runs the binary in the background; it is stopped at cleanup.
func (a *App) Start(t *testing.T, args ...string) *Running {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &Running{Stderr: &lockedBuffer{}, lines: make(chan string, 256), all: &lockedBuffer{}}
	r.proc = startProc(t, "echotray "+strings.Join(args, " "), a.env, func(c *exec.Cmd) {
		c.Stdout, c.Stderr = pw, r.Stderr
	}, append([]string{binary}, args...)...)
	pw.Close()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(r.all, sc.Text())
			r.lines <- sc.Text()
		}
		pr.Close()
		close(r.lines)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- stderr of echotray %v:\n%s", args, tail(r.Stderr.String(), 4000))
		}
	})
	return r
}

// Line returns the next stdout line.
func (r *Running) Line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-r.lines:
		if !ok {
			t.Fatalf("%s ended without another line\nstderr:\n%s", r.proc.Name, r.Stderr.String())
		}
		return l
	case <-time.After(waitTimeout):
		t.Fatalf("no output line from %s within %s\nstderr:\n%s", r.proc.Name, waitTimeout, r.Stderr.String())
		return ""
	}
}

// Stdout returns every stdout line read so far (after Wait: all of them).
func (r *Running) Stdout() string { return r.all.String() }

// WaitStderr waits until text occurs at least n times on stderr. The
// limit allows for a reconnect.
func (r *Running) WaitStderr(t *testing.T, text string, n int) {
	t.Helper()
	waitUntilFor(t, reconnectTimeout, fmt.Sprintf("%q ×%d on the stderr of %s", text, n, r.proc.Name), func() bool {
		return strings.Count(r.Stderr.String(), text) >= n
	})
}

// Interrupt sends SIGINT, as Ctrl-C does.
func (r *Running) Interrupt(t *testing.T) {
	t.Helper()
	if err := r.proc.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("interrupt: %v", err)
	}
}

// Wait waits for the process to exit (allowing for a reconnect first) and
// returns its exit code.
func (r *Running) Wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.proc.done:
	case <-time.After(reconnectTimeout):
		t.Fatalf("%s did not exit within %s\nstderr:\n%s", r.proc.Name, reconnectTimeout, r.Stderr.String())
	}
	for range r.lines { // drain: stdout is complete once the pipe closes
	}
	var ee *exec.ExitError
	if errors.As(r.proc.err, &ee) {
		return ee.ExitCode()
	}
	if r.proc.err != nil {
		t.Fatalf("%s: %v", r.proc.Name, r.proc.err)
	}
	return 0
}

// Stack is the real Soketi and the Laravel stand-in.
type Stack struct {
	Soketi  *devstack.Soketi
	Laravel *laravel.Server
}

// StartStack starts Soketi and the stand-in for a test.
func StartStack(t *testing.T) *Stack {
	t.Helper()
	s := devstack.StartSoketiT(t)
	return &Stack{Soketi: s, Laravel: laravel.StartT(t, s.Key, s.Secret)}
}

// LoginArgs is `echotray login` for email, with every setting pointing at
// this stack and the password on stdin.
func (s *Stack) LoginArgs(email string) []string {
	return []string{"login", "--server", s.Laravel.URL(), "--email", email, "--password-stdin",
		"--pusher-key", s.Soketi.Key, "--pusher-host", s.Soketi.Host,
		"--pusher-port", strconv.Itoa(s.Soketi.Port), "--pusher-scheme", "http"}
}

// Publish broadcasts an event as Laravel does.
func (s *Stack) Publish(t *testing.T, channel, event string, data any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := s.Soketi.Publisher().Trigger(ctx, []string{channel}, event, data, ""); err != nil {
		t.Fatalf("publish %s on %s: %v", event, channel, err)
	}
}

// WaitSubscribed waits until a client has subscribed to channel on Soketi
// (an event published before that is not delivered). The limit allows for
// a reconnect.
func (s *Stack) WaitSubscribed(t *testing.T, channel string) {
	t.Helper()
	waitUntilFor(t, reconnectTimeout, "a subscription to "+channel+" on Soketi", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		chs, err := s.Soketi.Publisher().Channels(ctx, channel)
		_, ok := chs[channel]
		return err == nil && ok
	})
}

// WatchLine is one line of `echotray watch --json`.
type WatchLine struct {
	Time    time.Time       `json:"time"`
	Channel string          `json:"channel"`
	Event   string          `json:"event"`
	Type    string          `json:"type"`
	Title   string          `json:"title"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// JSONLine reads the next stdout line as a WatchLine, checking that it has
// exactly the documented fields.
func (r *Running) JSONLine(t *testing.T) WatchLine {
	t.Helper()
	line := r.Line(t)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		t.Fatalf("watch --json printed a line that is not JSON: %q", line)
	}
	for _, k := range []string{"time", "channel", "event", "type", "title", "message", "data"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("watch --json line lacks %q: %s", k, line)
		}
	}
	var w WatchLine
	if err := json.Unmarshal([]byte(line), &w); err != nil {
		t.Fatalf("watch --json line %q: %v", line, err)
	}
	return w
}

// readAll reads a file, empty if missing.
func readAll(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
