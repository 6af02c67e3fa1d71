//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// tools are the programs the harness runs, with the Debian package of each.
var tools = []struct{ bin, pkg string }{
	{"Xvfb", "xvfb"},
	{"dbus-daemon", "dbus-daemon"},
	{"dbus-monitor", "dbus-bin"},
	{"gnome-keyring-daemon", "gnome-keyring"},
	{"secret-tool", "libsecret-tools"},
	{"dunst", "dunst"},
}

// missingTools lists the tools not on PATH, each with its apt package.
func missingTools() []string {
	var missing []string
	for _, tl := range tools {
		if _, err := exec.LookPath(tl.bin); err != nil {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", tl.bin, tl.pkg))
		}
	}
	return missing
}

// waitTimeout bounds every wait on a real process; reconnectTimeout bounds
// waits that include a reconnect after Soketi restarts (the client's
// backoff with full jitter may have grown to 16 s by then).
const (
	waitTimeout      = 20 * time.Second
	reconnectTimeout = 90 * time.Second
)

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Proc is a background process in its own process group, ended at cleanup.
type Proc struct {
	Name string
	Out  *lockedBuffer // stdout and stderr, unless redirected
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startProc starts argv with env; cmd may be adjusted by prepare before
// it starts. The process group gets SIGTERM at cleanup, then SIGKILL.
func startProc(t *testing.T, name string, env []string, prepare func(*exec.Cmd), argv ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, Out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.Out, p.Out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if prepare != nil {
		prepare(p.cmd)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, tail(p.Out.String(), 4000))
		}
	})
	return p
}

// Stop ends the process group: SIGTERM, then SIGKILL after 5 s.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail keeps the beginning and the end of a long output (a Go crash
// starts with its cause and ends with the goroutine dumps).
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + "\n…\n" + s[len(s)-n/2:]
}

// DesktopOptions chooses the services of a test desktop.
type DesktopOptions struct {
	Keyring       bool // an unlocked gnome-keyring-daemon (Secret Service)
	Notifications bool // dunst as notification server, and dbus-monitor recording Notify calls
}

// Desktop is a private X display and D-Bus session with the chosen
// services.
type Desktop struct {
	Dir     string // HOME and XDG_* live here
	Display string // ":N"
	Bus     string // DBUS_SESSION_BUS_ADDRESS
	env     []string
	monitor *Proc
}

// busConfig is a session bus without service activation, so nothing is
// started behind the test's back (no keyring unless asked for).
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// StartDesktop starts Xvfb, a session bus and the chosen services; all of
// them end at cleanup.
func StartDesktop(t *testing.T, opts DesktopOptions) *Desktop {
	t.Helper()
	if m := missingTools(); len(m) > 0 {
		t.Fatalf("missing tools: %s", strings.Join(m, ", "))
	}
	d := &Desktop{Dir: t.TempDir()}
	for _, sub := range []string{"home", "runtime", "data", "config", "cache"} {
		if err := os.MkdirAll(filepath.Join(d.Dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(d.Dir, "home"),
		"XDG_RUNTIME_DIR=" + filepath.Join(d.Dir, "runtime"),
		"XDG_DATA_HOME=" + filepath.Join(d.Dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(d.Dir, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(d.Dir, "cache"),
		"LANG=C.UTF-8",
	}

	// Xvfb picks a free display and writes its number to fd 3.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	startProc(t, "Xvfb", base, func(c *exec.Cmd) { c.ExtraFiles = []*os.File{w} },
		"Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x800x24")
	w.Close()
	num := readLine(t, r, "Xvfb display number")
	r.Close()
	d.Display = ":" + num

	conf := filepath.Join(d.Dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	r, w, err = os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	startProc(t, "dbus-daemon", base, func(c *exec.Cmd) { c.ExtraFiles = []*os.File{w} },
		"dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=3")
	w.Close()
	d.Bus = readLine(t, r, "D-Bus address")
	r.Close()
	d.env = append(base, "DISPLAY="+d.Display, "DBUS_SESSION_BUS_ADDRESS="+d.Bus)

	if opts.Keyring {
		startProc(t, "gnome-keyring-daemon", d.env, func(c *exec.Cmd) { c.Stdin = strings.NewReader("pw") },
			"gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
		d.WaitName(t, "org.freedesktop.secrets")
	}
	if opts.Notifications {
		startProc(t, "dunst", d.env, nil, "dunst")
		d.WaitName(t, "org.freedesktop.Notifications")
		// The replies of the notification server carry the ids that its
		// ActionInvoked signals name.
		d.monitor = startProc(t, "dbus-monitor", d.env, nil, "dbus-monitor", "--session",
			"type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
			"type='method_return',sender='"+d.nameOwner(t, "org.freedesktop.Notifications")+"'")
		waitUntil(t, "dbus-monitor to start monitoring", func() bool {
			return strings.Contains(d.monitor.Out.String(), "NameAcquired") || strings.Contains(d.monitor.Out.String(), "NameLost")
		})
	}
	return d
}

// readLine reads one line from r within waitTimeout.
func readLine(t *testing.T, r io.Reader, what string) string {
	t.Helper()
	ch := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		ch <- strings.TrimSpace(line)
	}()
	select {
	case s := <-ch:
		if s == "" {
			t.Fatalf("no %s", what)
		}
		return s
	case <-time.After(waitTimeout):
		t.Fatalf("no %s within %s", what, waitTimeout)
		return ""
	}
}

// waitUntil polls cond (a real process's state) until it holds, for
// waitTimeout at most.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitUntilFor(t, waitTimeout, what, cond)
}

// waitUntilFor is waitUntil with another limit.
func waitUntilFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond) // polling a real process, with a deadline
	}
}

// Env returns the environment of the desktop plus extra variables.
func (d *Desktop) Env(extra ...string) []string {
	return append(append([]string(nil), d.env...), extra...)
}

// Start runs an extra process on this desktop (e.g. a StatusNotifierWatcher
// for the tray tests); it ends at cleanup.
func (d *Desktop) Start(t *testing.T, name string, argv ...string) *Proc {
	t.Helper()
	return startProc(t, name, d.env, nil, argv...)
}

// NameHasOwner reports whether a well-known name is owned on the bus.
func (d *Desktop) NameHasOwner(t *testing.T, name string) bool {
	t.Helper()
	conn, err := dbus.Connect(d.Bus)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	defer conn.Close()
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has)
	if err != nil {
		t.Fatalf("NameHasOwner(%s): %v", name, err)
	}
	return has
}

// nameOwner returns the unique name that owns a well-known name.
func (d *Desktop) nameOwner(t *testing.T, name string) string {
	t.Helper()
	conn, err := dbus.Connect(d.Bus)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	defer conn.Close()
	var owner string
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, name).Store(&owner); err != nil {
		t.Fatalf("GetNameOwner(%s): %v", name, err)
	}
	return owner
}

// WaitName waits until a well-known name is owned on the bus.
func (d *Desktop) WaitName(t *testing.T, name string) {
	t.Helper()
	waitUntil(t, name+" on the bus", func() bool { return d.NameHasOwner(t, name) })
}

// SecretSearch returns what `secret-tool search --all service echotray`
// prints: empty when the keyring holds no EchoTray token.
func (d *Desktop) SecretSearch(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "secret-tool", "search", "--all", "service", "echotray")
	cmd.Env = d.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("secret-tool: %v", err)
		}
	}
	return out.String() + errOut.String()
}

// Notification is one Notify call seen by dbus-monitor.
type Notification struct {
	AppName, Icon, Summary, Body string
	Urgency                      int      // -1 when the hint is absent
	Actions                      []string // action keys and labels, in pairs
	// ID is the notification server's id for it (what ActionInvoked
	// names); 0 until its reply has been seen.
	ID uint32
}

var (
	notifyArgsRE = regexp.MustCompile(`(?s)^   string "(.*?)"\n   uint32 \d+\n   string "(.*?)"\n   string "(.*?)"\n   string "(.*?)"\n   array \[(.*?)\n   \]`)
	actionRE     = regexp.MustCompile(`string "(.*?)"`)
	urgencyRE    = regexp.MustCompile(`string "urgency"\n\s+variant\s+byte (\d)`)
	senderRE     = regexp.MustCompile(` sender=(\S+)`)
	destRE       = regexp.MustCompile(` destination=(\S+)`)
	serialRE     = regexp.MustCompile(` serial=(\d+)`)
	replySerRE   = regexp.MustCompile(` reply_serial=(\d+)`)
	replyIDRE    = regexp.MustCompile(`^   uint32 (\d+)`)
)

// Notifications parses every Notify call dbus-monitor has printed so far.
func (d *Desktop) Notifications() []Notification {
	if d.monitor == nil {
		return nil
	}
	return parseNotifyCalls(d.monitor.Out.String())
}

// parseNotifyCalls splits dbus-monitor output into messages (each starts
// at column 0), reads the arguments of the Notify method calls and gives
// each the id from the server's reply to it.
func parseNotifyCalls(out string) []Notification {
	var res []Notification
	var blocks []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if line != "" && line[0] != ' ' && cur.Len() > 0 {
			blocks = append(blocks, cur.String())
			cur.Reset()
		}
		cur.WriteString(line)
	}
	blocks = append(blocks, cur.String())
	type call struct{ sender, serial string }
	calls := map[call]int{} // → index in res
	for _, b := range blocks {
		head, args, ok := strings.Cut(b, "\n")
		if !ok {
			continue
		}
		field := func(re *regexp.Regexp) string {
			if m := re.FindStringSubmatch(head); m != nil {
				return m[1]
			}
			return ""
		}
		if strings.HasPrefix(head, "method return") {
			i, ok := calls[call{field(destRE), field(replySerRE)}]
			if m := replyIDRE.FindStringSubmatch(args); ok && m != nil {
				id, _ := strconv.ParseUint(m[1], 10, 32)
				res[i].ID = uint32(id)
			}
			continue
		}
		if !strings.HasPrefix(head, "method call") || !strings.Contains(head, "member=Notify") {
			continue
		}
		m := notifyArgsRE.FindStringSubmatch(args)
		if m == nil {
			continue
		}
		n := Notification{AppName: m[1], Icon: m[2], Summary: html.UnescapeString(m[3]), Body: html.UnescapeString(m[4]), Urgency: -1}
		for _, a := range actionRE.FindAllStringSubmatch(m[5], -1) {
			n.Actions = append(n.Actions, a[1])
		}
		if u := urgencyRE.FindStringSubmatch(args); u != nil {
			n.Urgency, _ = strconv.Atoi(u[1])
		}
		calls[call{field(senderRE), field(serialRE)}] = len(res)
		res = append(res, n)
	}
	return res
}

// WaitNotification waits for a Notify call that match accepts.
func (d *Desktop) WaitNotification(t *testing.T, what string, match func(Notification) bool) Notification {
	t.Helper()
	var found Notification
	waitUntil(t, "a desktop notification: "+what, func() bool {
		for _, n := range d.Notifications() {
			if match(n) {
				found = n
				return true
			}
		}
		return false
	})
	return found
}
