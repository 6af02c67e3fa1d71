package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

// proc is a process this benchmark started, in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // its stdout and stderr, unless redirected
	done chan struct{}
	err  error
}

// pid is the process id (and process group id).
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process group: SIGTERM, then SIGKILL after grace; then
// kills what is left of the group (children that outlived the leader) and
// waits until it is empty.
func (p *proc) stop(grace time.Duration) {
	pgid := p.pid()
	if !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for left := inGroup(pgid); len(left) > 0; left = inGroup(pgid) {
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "footprint: %s: processes %v of group %d did not exit\n", p.name, left, pgid)
			return
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond) // waiting for the kernel to reap, with a deadline
	}
}

// runner starts processes and stops every one of them at the end, last
// started first.
type runner struct {
	dir    string // logs go to dir/logs
	mu     sync.Mutex
	list   []*proc
	closed bool // stopAll ran: start no more
}

// start runs argv with env in its own process group; prepare may adjust
// the command before it starts. Output goes to logs/NAME.log unless
// prepare set Stdout/Stderr.
func (r *runner) start(name string, env []string, prepare func(*exec.Cmd), argv ...string) (*proc, error) {
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = env
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.log = filepath.Join(r.dir, "logs", strings.ReplaceAll(name, " ", "-")+".log")
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if prepare != nil {
		prepare(p.cmd)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("start %s: the benchmark is stopping", name)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	r.list = append(r.list, p)
	return p, nil
}

// stopAll stops every process still running, last started first.
func (r *runner) stopAll() {
	r.mu.Lock()
	list := r.list
	r.list, r.closed = nil, true
	r.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].stop(5 * time.Second)
	}
}

// logTail returns the end of a process's log, for error messages.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	s := strings.TrimSpace(string(b))
	if len(s) > 3000 {
		s = "…" + s[len(s)-3000:]
	}
	return s
}

// desktop is a private X display (Xvfb) and D-Bus session with xfwm4,
// xfce4-panel (its systray is the StatusNotifierWatcher), an unlocked
// gnome-keyring and dunst.
type desktop struct {
	display string
	bus     string
	env     []string // the environment of everything started on it
	x       *xconn
	conn    *dbus.Conn // the benchmark's own session-bus connection
}

// busConfig is a session bus without service activation: nothing starts
// behind the benchmark's back, so everything on it is measured or stopped.
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

// panelConfig is one xfce4-panel with nothing but the systray plugin
// (status notifier items and legacy icons). Without a config the panel
// asks on screen which one to use.
const panelConfig = `<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="icon-size" type="uint" value="16"/>
      <property name="size" type="uint" value="26"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray">
      <property name="square-icons" type="bool" value="true"/>
    </property>
  </property>
</channel>
`

// keyringPassword unlocks the benchmark's own login keyring.
const keyringPassword = "footprint-bench"

// xfconfd is not on PATH; Debian and Ubuntu keep it here.
var xfconfdPaths = []string{
	"/usr/lib/x86_64-linux-gnu/xfce4/xfconf/xfconfd",
	"/usr/lib/aarch64-linux-gnu/xfce4/xfconf/xfconfd",
	"/usr/lib/xfce4/xfconf/xfconfd",
	"/usr/libexec/xfconfd",
}

// requiredTools are the programs the desktop needs, with their Debian package.
var requiredTools = []struct{ bin, pkg string }{
	{"Xvfb", "xvfb"},
	{"dbus-daemon", "dbus-daemon"},
	{"xfwm4", "xfwm4"},
	{"xfce4-panel", "xfce4-panel"},
	{"gnome-keyring-daemon", "gnome-keyring"},
	{"dunst", "dunst"},
	{"xdotool", "xdotool"},
	{"node", "nodejs"},
}

func checkTools() error {
	var missing []string
	for _, t := range requiredTools {
		if _, err := exec.LookPath(t.bin); err != nil {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", t.bin, t.pkg))
		}
	}
	if _, err := findXfconfd(); err != nil {
		missing = append(missing, "xfconfd (apt-get install xfconf)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing tools: %s", strings.Join(missing, ", "))
	}
	return nil
}

func findXfconfd() (string, error) {
	for _, p := range xfconfdPaths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("xfconfd not found")
}

// startDesktop brings the desktop up under dir (HOME and XDG_* live there).
func startDesktop(r *runner, dir string) (*desktop, error) {
	for _, sub := range []string{"home", "runtime", "data", "config", "cache", "logs",
		"config/xfce4/xfconf/xfce-perchannel-xml"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config/xfce4/xfconf/xfce-perchannel-xml/xfce4-panel.xml"), []byte(panelConfig), 0o600); err != nil {
		return nil, err
	}
	base := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "runtime"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"LANG=C.UTF-8",
		"NO_AT_BRIDGE=1", // no accessibility bus (nothing would start it)
	}
	d := &desktop{}

	// Xvfb picks a free display and writes its number to fd 3.
	num, err := startWithFD3(r, "Xvfb", base, "Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x800x24")
	if err != nil {
		return nil, err
	}
	d.display = ":" + num
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig), 0o600); err != nil {
		return nil, err
	}
	if d.bus, err = startWithFD3(r, "dbus-daemon", base, "dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=3"); err != nil {
		return nil, err
	}
	d.env = append(base, "DISPLAY="+d.display, "DBUS_SESSION_BUS_ADDRESS="+d.bus)
	if d.x, err = dialX(d.display); err != nil {
		return nil, err
	}
	if d.conn, err = dbus.Connect(d.bus); err != nil {
		return nil, fmt.Errorf("connect to the session bus: %w", err)
	}

	xfconfd, _ := findXfconfd()
	if _, err := d.startAndWaitName(r, "xfconfd", "org.xfce.Xfconf", nil, xfconfd); err != nil {
		return nil, err
	}
	wm, err := r.start("xfwm4", d.env, nil, "xfwm4", "--compositor=off")
	if err != nil {
		return nil, err
	}
	if err := waitFor(20*time.Second, "xfwm4 to manage the screen", wm, func() bool {
		v, err := d.x.property(d.x.root, "_NET_SUPPORTING_WM_CHECK")
		return err == nil && len(v) == 4
	}); err != nil {
		return nil, err
	}
	if _, err := d.startAndWaitName(r, "xfce4-panel", "org.kde.StatusNotifierWatcher", nil, "xfce4-panel", "--disable-wm-check"); err != nil {
		return nil, err
	}
	if _, err := d.startAndWaitName(r, "gnome-keyring-daemon", "org.freedesktop.secrets",
		func(c *exec.Cmd) { c.Stdin = strings.NewReader(keyringPassword) },
		"gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"); err != nil {
		return nil, err
	}
	if _, err := d.startAndWaitName(r, "dunst", "org.freedesktop.Notifications", nil, "dunst"); err != nil {
		return nil, err
	}
	return d, nil
}

// startWithFD3 starts a program that writes one line (a display number, a
// bus address) to fd 3, and returns that line.
func startWithFD3(r *runner, name string, env []string, argv ...string) (string, error) {
	rd, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer rd.Close()
	p, err := r.start(name, env, func(c *exec.Cmd) { c.ExtraFiles = []*os.File{w} }, argv...)
	w.Close()
	if err != nil {
		return "", err
	}
	ch := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(rd).ReadString('\n')
		ch <- strings.TrimSpace(l)
	}()
	select {
	case s := <-ch:
		if s == "" {
			return "", fmt.Errorf("%s wrote nothing: %s", name, p.logTail())
		}
		return s, nil
	case <-time.After(20 * time.Second):
		return "", fmt.Errorf("%s: nothing on fd 3 within 20 s: %s", name, p.logTail())
	}
}

// startAndWaitName starts a service on the desktop and waits until it owns
// a bus name.
func (d *desktop) startAndWaitName(r *runner, name, busName string, prepare func(*exec.Cmd), argv ...string) (*proc, error) {
	p, err := r.start(name, d.env, prepare, argv...)
	if err != nil {
		return nil, err
	}
	return p, waitFor(20*time.Second, busName+" on the bus", p, func() bool { return d.hasOwner(busName) })
}

func (d *desktop) hasOwner(name string) bool {
	var has bool
	err := d.conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has)
	return err == nil && has
}

// waitFor polls cond (the state of other processes) every 50 ms until it
// holds; it fails when limit passes or p (if not nil) exits first.
func waitFor(limit time.Duration, what string, p *proc, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited while waiting for %s: %v\n%s", p.name, what, p.err, p.logTail())
		}
		if time.Now().After(deadline) {
			tail := ""
			if p != nil {
				tail = "\n" + p.logTail()
			}
			return fmt.Errorf("timed out after %s waiting for %s%s", limit, what, tail)
		}
		time.Sleep(50 * time.Millisecond) // polling other processes, with a deadline
	}
	return nil
}
