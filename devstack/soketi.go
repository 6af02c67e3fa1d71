package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"echotray/devstack/publish"
)

// Timing defaults of the Soketi runner.
const (
	// DefaultStartTimeout bounds StartSoketi when ctx has no deadline.
	DefaultStartTimeout = 30 * time.Second
	// DefaultShutdownGrace is Soketi's own pause between telling clients 4200
	// and closing its listener (Soketi's default is 3 s).
	DefaultShutdownGrace = 500 * time.Millisecond
	// stopTimeout is how long Stop waits beyond the shutdown grace before SIGKILL.
	stopTimeout = 10 * time.Second
	// readyPoll is the interval between readiness probes.
	readyPoll = 50 * time.Millisecond
)

// errPortTaken marks a start that failed because the port was already in use.
var errPortTaken = errors.New("port in use")

// SoketiOptions configures StartSoketi. The zero value starts Soketi on a
// free loopback port with generated credentials and discards its output.
type SoketiOptions struct {
	// Port is the WebSocket and HTTP API port; 0 picks a free one.
	Port int
	// AppID, Key and Secret are the app's credentials; empty ones are generated.
	AppID, Key, Secret string
	// Log receives Soketi's stdout and stderr; nil discards them.
	Log io.Writer
	// ShutdownGrace is Soketi's pause between sending 4200 to clients and
	// closing its listener on Stop; 0 means DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// ClientMessages enables client events ("client-*") for the app; Soketi's
	// default, like Pusher's, is off (clients get 4301).
	ClientMessages bool
	// Env holds extra environment entries for Soketi, e.g. "SOKETI_DEBUG=1".
	// They are applied after the runner's own SOKETI_* settings.
	Env []string
}

// Soketi is a running (or stopped) Soketi server process. Its exported fields
// are the address and credentials clients and publishers need; they stay the
// same across Restart. Methods are safe for concurrent use.
type Soketi struct {
	// Host is the loopback address Soketi listens on, "127.0.0.1".
	Host string
	// Port serves WebSockets (/app/{key}) and the HTTP API (/apps/{id}/...).
	Port int
	// AppID, Key and Secret are the credentials of Soketi's single app.
	AppID, Key, Secret string

	opts    SoketiOptions
	nodeBin string
	dir     string

	mu      sync.Mutex // serialises start, Stop, Kill and Restart
	proc    *process   // nil when not running
	release func()     // drops the claim on Port; nil when none is held
}

// process is one Soketi run.
type process struct {
	cmd  *exec.Cmd
	out  *Tail
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result; valid once done is closed
}

// StartSoketi starts Soketi and returns once it answers a signed HTTP API
// request with its credentials (so the port is really served by this app).
// ctx bounds the start only (DefaultStartTimeout if it has no deadline); the
// process runs until Stop or Kill. On error nothing is left running.
func StartSoketi(ctx context.Context, opts SoketiOptions) (*Soketi, error) {
	dir, err := NodeDir()
	if err != nil {
		return nil, err
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("devstack: node (Node.js 20) not found in PATH: %w", err)
	}
	s := &Soketi{
		Host:    "127.0.0.1",
		Port:    opts.Port,
		AppID:   opts.AppID,
		Key:     opts.Key,
		Secret:  opts.Secret,
		opts:    opts,
		nodeBin: nodeBin,
		dir:     dir,
	}
	if s.Port == 0 {
		if s.Port, s.release, err = claimFreePort(); err != nil {
			return nil, err
		}
	} else if release, ok := claimPort(s.Port); ok {
		s.release = release
	}
	if s.AppID == "" {
		s.AppID = strconv.Itoa(100000 + int(randUint32()%900000))
	}
	if s.Key == "" {
		s.Key = "key-" + RandHex(10)
	}
	if s.Secret == "" {
		s.Secret = RandHex(20)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 1; ; attempt++ {
		err = s.start(ctx)
		// A port we picked ourselves may be taken before Soketi binds it
		// (a server that does not claim ports): pick another one.
		if err == nil || opts.Port != 0 || !errors.Is(err, errPortTaken) || attempt == 5 {
			break
		}
		s.dropClaim()
		if s.Port, s.release, err = claimFreePort(); err != nil {
			break
		}
	}
	if err != nil {
		s.dropClaim()
		return nil, err
	}
	return s, nil
}

// HTTPURL returns the base URL of the HTTP API, "http://127.0.0.1:port".
func (s *Soketi) HTTPURL() string {
	return "http://" + net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// WSURL returns the WebSocket URL a Pusher client connects to,
// "ws://127.0.0.1:port/app/{key}?protocol=7&client=devstack&version=1.0".
func (s *Soketi) WSURL() string {
	return "ws://" + net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) + "/app/" + s.Key +
		"?protocol=7&client=devstack&version=1.0&flash=false"
}

// Publisher returns a publisher for this server's app.
func (s *Soketi) Publisher() *publish.Publisher {
	return &publish.Publisher{BaseURL: s.HTTPURL(), AppID: s.AppID, Key: s.Key, Secret: s.Secret}
}

// Running reports whether the Soketi process is alive.
func (s *Soketi) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return false
	}
	select {
	case <-s.proc.done:
		return false
	default:
		return true
	}
}

// PID returns the process id of the running Soketi (also its process group
// id on Unix), or 0 when stopped.
func (s *Soketi) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.cmd.Process == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Stop shuts Soketi down gracefully: SIGTERM, on which Soketi sends every
// client `pusher:error` 4200 and closes it with code 4200, then exits after
// its shutdown grace. If it has not exited within a further 10 s, the whole
// process group gets SIGKILL. Stop waits for the exit; it is idempotent.
func (s *Soketi) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.dropClaim()
	return s.stop()
}

// dropClaim releases the claim on Port; s.mu must be held.
func (s *Soketi) dropClaim() {
	if s.release != nil {
		s.release()
		s.release = nil
	}
}

// Kill kills Soketi's process group with SIGKILL, so clients see an abrupt
// drop (no close frame), and waits for the exit. It is idempotent.
func (s *Soketi) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.dropClaim()
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	killGroup(p.cmd.Process)
	<-p.done
	return nil
}

// Restart stops Soketi gracefully (if running) and starts it again on the
// same port with the same credentials. Connected clients see 4200 and have
// to reconnect and resubscribe; Soketi keeps no state across the restart.
func (s *Soketi) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stop(); err != nil {
		return fmt.Errorf("devstack: restart soketi: %w", err)
	}
	return s.start(ctx)
}

// stop implements Stop; s.mu must be held.
func (s *Soketi) stop() error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	select {
	case <-p.done:
		killGroup(p.cmd.Process) // stragglers, if any
		return exitError(p)
	default:
	}
	terminateGroup(p.cmd.Process)
	timer := time.NewTimer(s.grace() + stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		killGroup(p.cmd.Process)
		return exitError(p)
	case <-timer.C:
		killGroup(p.cmd.Process)
		<-p.done
		return fmt.Errorf("devstack: soketi (pid %d) ignored SIGTERM for %s; killed", p.cmd.Process.Pid, s.grace()+stopTimeout)
	}
}

// exitError reports an abnormal exit after a requested stop.
func exitError(p *process) error {
	if p.err == nil {
		return nil
	}
	return fmt.Errorf("devstack: soketi exited: %w; output:\n%s", p.err, p.out.String())
}

func (s *Soketi) grace() time.Duration {
	if s.opts.ShutdownGrace > 0 {
		return s.opts.ShutdownGrace
	}
	return DefaultShutdownGrace
}

// start launches the process and waits until it is ready; s.mu must be held.
func (s *Soketi) start(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartTimeout)
		defer cancel()
	}
	// Refuse a port somebody already listens on: uWebSockets binds with
	// SO_REUSEPORT, so a second Soketi on the same port would silently share
	// it with the first instead of failing.
	ln, err := net.Listen("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	if err != nil {
		return fmt.Errorf("devstack: soketi port %d is not free: %w (%w)", s.Port, err, errPortTaken)
	}
	ln.Close()
	metricsPort, releaseMetrics, err := claimFreePort()
	if err != nil {
		return err
	}

	out := NewTail(8 << 10)
	var w io.Writer = out
	if s.opts.Log != nil {
		w = io.MultiWriter(out, s.opts.Log)
	}
	cmd := exec.Command(s.nodeBin, filepath.Join(s.dir, filepath.FromSlash(soketiScript)), "start")
	cmd.Dir = s.dir // Soketi loads ./.env with dotenv; devstack/node has none
	cmd.Env = s.env(metricsPort)
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		releaseMetrics()
		return fmt.Errorf("devstack: start soketi: %w", err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		releaseMetrics()
		close(p.done)
	}()
	if err := s.waitReady(ctx, p); err != nil {
		killGroup(cmd.Process)
		<-p.done
		return fmt.Errorf("devstack: soketi on port %d: %w; output:\n%s", s.Port, err, out.String())
	}
	s.proc = p
	return nil
}

// env builds Soketi's environment: the caller's, minus any SOKETI_* setting,
// plus the runner's.
func (s *Soketi) env(metricsPort int) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SOKETI_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"SOKETI_HOST="+s.Host,
		"SOKETI_PORT="+strconv.Itoa(s.Port),
		"SOKETI_DEFAULT_APP_ID="+s.AppID,
		"SOKETI_DEFAULT_APP_KEY="+s.Key,
		"SOKETI_DEFAULT_APP_SECRET="+s.Secret,
		"SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES="+strconv.FormatBool(s.opts.ClientMessages),
		// The metrics/usage server always listens (default 9601, shared by
		// every instance): give each instance its own loopback port.
		"SOKETI_METRICS_ENABLED=false",
		"SOKETI_METRICS_HOST="+s.Host,
		"SOKETI_METRICS_SERVER_PORT="+strconv.Itoa(metricsPort),
		"SOKETI_SHUTDOWN_GRACE_PERIOD="+strconv.FormatInt(s.grace().Milliseconds(), 10),
		"FORCE_COLOR=0",
	)
	return append(env, s.opts.Env...)
}

// waitReady polls a signed GET /apps/{id}/channels until it succeeds. Soketi
// only listens once fully initialised, and only our app's credentials are
// accepted, so success proves this process serves the port.
func (s *Soketi) waitReady(ctx context.Context, p *process) error {
	pub := s.Publisher()
	pub.Client = &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		_, err := pub.Channels(ctx, "")
		if err == nil {
			return nil
		}
		var apiErr *publish.APIError
		if errors.As(err, &apiErr) {
			return fmt.Errorf("the port answers for another app (is another server using it?): %w (%w)", err, errPortTaken)
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before becoming ready: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last probe: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and
// that no devstack server of this user has claimed.
//
// The port is drawn at random from below the kernel's ephemeral range, so
// neither an outgoing connection nor another listener on port 0 can take it
// between this check and the server's own bind (both of which happen all the
// time while parallel test binaries run). If that range is unusable it falls
// back to a port the kernel picks.
func FreePort() (int, error) {
	p, release, err := claimFreePort()
	if err != nil {
		return 0, err
	}
	release()
	return p, nil
}

// claimFreePort is FreePort that keeps the claim on the port until release
// is called (or the process exits).
func claimFreePort() (int, func(), error) {
	lo, hi := freePortRange()
	for range 64 {
		p := lo + int(randUint32()%uint32(hi-lo))
		release, ok := claimPort(p)
		if !ok {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			release()
			continue
		}
		ln.Close()
		return p, release, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, fmt.Errorf("devstack: find a free port: %w", err)
	}
	defer ln.Close()
	p := ln.Addr().(*net.TCPAddr).Port
	release, _ := claimPort(p)
	if release == nil {
		release = func() {}
	}
	return p, release, nil
}

// freePortRange is the range FreePort draws from: [20000, start of the
// ephemeral range), or the 20000–30000 fallback when the range cannot be read
// or leaves too little room.
func freePortRange() (lo, hi int) {
	lo, hi = 20000, 30000
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return lo, hi
	}
	if start, err := strconv.Atoi(f[0]); err == nil && start-lo >= 1000 {
		hi = start
	}
	return lo, hi
}

// Tail is an io.Writer that keeps the last bytes written to it: the end of
// a server's output, for an error message. Safe for concurrent use.
type Tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// NewTail returns a Tail that keeps the last max bytes.
func NewTail(max int) *Tail { return &Tail{max: max} }

func (t *Tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// String returns what the Tail holds.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// RandHex returns n random bytes in hex: credentials and secrets of the
// dev stack's servers.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func randUint32() uint32 {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
