// Command footprint measures what EchoTray costs a desktop while it sits in
// the tray, side by side in one run, on a real (virtual) desktop: Xvfb with
// xfwm4, xfce4-panel's systray as the tray host (it owns
// org.kde.StatusNotifierWatcher), an unlocked gnome-keyring and dunst, on a
// private D-Bus session; the real Soketi and the Laravel stand-in
// (devstack).
//
//  1. the core (`echotray --hidden`, no GUI toolkit), signed in, connected,
//     its icon in the tray, no window: RSS, PSS and CPU per 30 s idle;
//  2. a pusher-js client (Node, devstack/node) on the same Soketi,
//     subscribed to a public channel: the same figures;
//  3. `echotray watch --no-notify`: the same figures;
//  4. the old model for reference: the full binary (`echotray-window
//     --hidden`, linked with Fyne) running as the core;
//  5. the window process idle with the history window hidden, then open:
//     CPU and RSS;
//  6. tray "Open history" → window on screen, clicked through the tray
//     menu over D-Bus (com.canonical.dbusmenu Event "clicked"), 10 cold
//     starts (no window process) and 10 warm ones (process alive, window
//     hidden);
//  7. a burst of 1,000 events published through Soketi's HTTP API with the
//     history window open: time until all are in the history database and
//     until the window's title shows the unread count, and the CPU the core
//     and the window process used.
//
// Usage:
//
//	go run ./bench/footprint -bin build             # build/echotray and build/echotray-window (make build)
//	go run ./bench/footprint -idle 30s -repeat 2 -o report.md
//	go run ./bench/footprint -prev old/echotray -prev-label "pre-split build"   # also measure another build idle
//
// It starts everything it measures and stops all of it (by process group)
// before it exits, also on Ctrl-C. It exits 1 when the setup fails; a
// missed target is reported with ✗ and does not change the exit code.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"echotray/devstack"
	"echotray/devstack/generator"
	"echotray/devstack/laravel"
)

// Targets.
const (
	targetCoreRSS      = 33e6 // bytes (33 MB; 31.5 MiB)
	targetCoreCPU      = 0.04 // s per 30 s
	targetWatchRatio   = 0.5  // of pusher-js's RSS
	targetWindowCPU    = 0.1  // s per 30 s
	targetColdP50P90   = 1.0  // s
	targetWarmP50P90   = 0.2  // s
	historyTitlePrefix = "EchoTray — History"
	openHistoryLabel   = "Open history" // tray.LabelOpenHistory
	email              = "alice@tenant1.test"
	password           = "password"
	publicChannel      = "tenant.1" // alice's tenant channel
)

type options struct {
	bin        string
	idle       time.Duration
	repeat     int
	settle     time.Duration
	cold, warm int
	burst      int
	publishers int
	prev       string
	prevLabel  string
	keep       bool
	out        string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "build", "directory holding echotray (the core, -tags nowindow) and echotray-window (Fyne), as `make build` makes them")
	flag.DurationVar(&o.idle, "idle", 30*time.Second, "length of one idle measurement")
	flag.IntVar(&o.repeat, "repeat", 2, "idle measurements per process (each is reported)")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "wait after a process is up before its idle measurement")
	flag.IntVar(&o.cold, "cold", 10, "cold starts of the history window (no window process alive)")
	flag.IntVar(&o.warm, "warm", 10, "warm starts of the history window (window process alive, window hidden)")
	flag.IntVar(&o.burst, "burst", 1000, "events in the burst")
	flag.IntVar(&o.publishers, "publishers", 8, "concurrent HTTP publishers in the burst (10 events a request)")
	flag.StringVar(&o.prev, "prev", "", "optional: another EchoTray binary to measure idle as a core too (e.g. a build from before the split)")
	flag.StringVar(&o.prevLabel, "prev-label", "", "how the report names -prev (default: its path)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (logs, config, history) instead of removing it")
	flag.StringVar(&o.out, "o", "", "also write the Markdown report to this file")
	flag.Parse()
	if o.repeat < 1 || o.idle <= 0 || o.cold < 1 || o.warm < 1 || o.burst < 1 {
		fmt.Fprintln(os.Stderr, "footprint: -repeat, -idle, -cold, -warm and -burst must be positive")
		os.Exit(2)
	}
	os.Exit(run(o))
}

func run(o options) int {
	dir, err := os.MkdirTemp("", "echotray-footprint-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "footprint:", err)
		return 1
	}
	b := &bench{o: o, dir: dir, r: &runner{dir: dir}}
	// Ctrl-C or SIGTERM: stop everything started, then exit.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var cleanOnce sync.Once
	cleanup := func() {
		cleanOnce.Do(func() {
			b.r.stopAll()
			if b.soketi != nil {
				if err := b.soketi.Stop(); err != nil {
					fmt.Fprintln(os.Stderr, "footprint: stopping Soketi:", err)
				}
			}
			if b.laravel != nil {
				b.laravel.Close()
			}
			if o.keep {
				fmt.Fprintln(os.Stderr, "footprint: work directory kept:", dir)
			} else if err := os.RemoveAll(dir); err != nil {
				fmt.Fprintln(os.Stderr, "footprint: removing the work directory:", err)
			}
		})
	}
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "footprint: %v: stopping everything\n", s)
		cleanup()
		os.Exit(130)
	}()
	err = b.run()
	cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "footprint: setup failed:", err)
		if !o.keep {
			fmt.Fprintln(os.Stderr, "footprint: (run with -keep to keep the logs)")
		}
		return 1
	}
	report := b.report()
	fmt.Print(report)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "footprint:", err)
			return 1
		}
	}
	return 0
}

// bench holds the run's state and results.
type bench struct {
	o       options
	dir     string
	r       *runner
	d       *desktop
	soketi  *devstack.Soketi
	laravel *laravel.Server
	server  string // the stand-in's URL
	env     []string
	core    string // binaries
	window  string

	started            time.Time
	loadStart, loadEnd string
	loadMu             sync.Mutex
	loadMin, loadMax   float64 // 1-min load average seen during the run (every 5 s)
	took               time.Duration

	// Idle results.
	coreIdle, nodeIdle, watchIdle idleResult
	oldIdle                       []idleResult // the full binary as the core; -prev
	winIdle, winHiddenIdle        idleResult   // the window process, window shown / hidden
	coreWithWin                   idleResult   // the core while the window process runs

	cold, warm []float64 // seconds; +Inf: did not show within the limit
	burst      burstResult
	crossCheck string // xdotool's view of the history window, for the report
}

// idleResult is one process's idle figures, one per repeat.
type idleResult struct {
	Name   string
	Short  string // for sentences
	Target string
	RSS    []int64   // KiB at the end of each window
	PSS    []int64   // KiB
	CPU    []float64 // s over each window
	Wake   []float64 // context switches per second over each window
	Met    string    // "✓", "✗" or "" (no target)
}

type burstResult struct {
	Events               int
	PublishTook          time.Duration
	DBAll, TitleAll      time.Duration // since the first publish; 0: not reached
	CoreCPU, WindowCPU   float64
	WantTitle, LastTitle string
	DBCount, DBUnread    int
	Notifications        string
	PublishErrors        int
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "footprint: "+format+"\n", a...)
}

func (b *bench) run() error {
	b.started = time.Now()
	b.loadStart = loadavg()
	stopLoad := make(chan struct{})
	defer close(stopLoad)
	go b.watchLoad(stopLoad)
	if err := checkTools(); err != nil {
		return err
	}
	bin, err := filepath.Abs(b.o.bin)
	if err != nil {
		return err
	}
	b.core, b.window = filepath.Join(bin, "echotray"), filepath.Join(bin, "echotray-window")
	for _, p := range []string{b.core, b.window} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return fmt.Errorf("%s not found: run `make build` (or pass -bin DIR)", p)
		}
	}
	b.logf("work directory %s", b.dir)

	b.logf("starting the desktop: Xvfb, D-Bus, xfconfd, xfwm4, xfce4-panel (systray), gnome-keyring, dunst")
	if b.d, err = startDesktop(b.r, b.dir); err != nil {
		return err
	}
	b.env = append(append([]string(nil), b.d.env...),
		"ECHOTRAY_CONFIG_DIR="+filepath.Join(b.dir, "echotray", "config"),
		"ECHOTRAY_DATA_DIR="+filepath.Join(b.dir, "echotray", "data"),
		"ECHOTRAY_CACHE_DIR="+filepath.Join(b.dir, "echotray", "cache"),
	)

	// The history window is closed and reopened many times: say that the
	// one-time "keeps running in the tray" hint was already shown, as it is
	// on any desktop after the first close.
	cfgDir := filepath.Join(b.dir, "echotray", "config")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "window-state.json"), []byte(`{"close_hint_shown":true}`+"\n"), 0o600); err != nil {
		return err
	}

	b.logf("starting Soketi and the Laravel stand-in")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b.soketi, err = devstack.StartSoketi(ctx, devstack.SoketiOptions{Log: logFile(b.dir, "soketi")}); err != nil {
		return fmt.Errorf("starting Soketi: %w", err)
	}
	b.laravel = laravel.New(laravel.Config{AppKey: b.soketi.Key, AppSecret: b.soketi.Secret})
	if b.server, err = b.laravel.Start("127.0.0.1:0"); err != nil {
		return err
	}
	if err := b.login(); err != nil {
		return err
	}

	if err := b.phaseIdle(); err != nil {
		return err
	}
	if err := b.phaseOldCore(); err != nil {
		return err
	}
	b.loadEnd = loadavg()
	b.took = time.Since(b.started)
	return nil
}

func logFile(dir, name string) *os.File {
	f, err := os.OpenFile(filepath.Join(dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil
	}
	return f
}

// login signs alice in through the CLI, as a user does: the token goes to
// the keyring, the settings to the config file.
func (b *bench) login() error {
	b.logf("signing in as %s through `echotray login`", email)
	cmd := exec.Command(b.core, "login", "--server", b.server, "--email", email, "--password-stdin",
		"--pusher-key", b.soketi.Key, "--pusher-host", b.soketi.Host, "--pusher-port", strconv.Itoa(b.soketi.Port),
		"--pusher-scheme", "http")
	cmd.Env = b.env
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("echotray login: %v: %s", err, out)
	}
	return nil
}

// startCore starts a core (bin --hidden) and waits until its icon is in
// the tray and its tooltip says it is connected.
func (b *bench) startCore(name, bin string) (*proc, trayItem, error) {
	p, err := b.r.start(name, b.env, nil, bin, "--hidden")
	if err != nil {
		return nil, trayItem{}, err
	}
	it, err := waitTray(b.d.conn, p.pid(), "EchoTray — connected", 60*time.Second)
	if err != nil {
		return nil, trayItem{}, fmt.Errorf("%s: %w\n%s", name, err, p.logTail())
	}
	return p, it, nil
}

// measured is one process in an idle measurement.
type measured struct {
	name, target string
	pid          int
}

// measureIdle samples every process at the start and end of each of
// o.repeat windows of o.idle.
func (b *bench) measureIdle(ps []measured) ([]idleResult, error) {
	res := make([]idleResult, len(ps))
	for i, p := range ps {
		res[i] = idleResult{Name: p.name, Target: p.target}
	}
	for rep := 0; rep < b.o.repeat; rep++ {
		start := make([]procSample, len(ps))
		for i, p := range ps {
			s, err := sample(p.pid)
			if err != nil {
				return nil, fmt.Errorf("%s (pid %d): %w", p.name, p.pid, err)
			}
			start[i] = s
		}
		b.logf("idle %d/%d: %s", rep+1, b.o.repeat, b.o.idle)
		time.Sleep(b.o.idle)
		for i, p := range ps {
			s, err := sample(p.pid)
			if err != nil {
				return nil, fmt.Errorf("%s (pid %d) during the idle measurement: %w", p.name, p.pid, err)
			}
			res[i].RSS = append(res[i].RSS, s.RSSKiB)
			res[i].PSS = append(res[i].PSS, s.PssKiB)
			res[i].CPU = append(res[i].CPU, s.CPU-start[i].CPU)
			res[i].Wake = append(res[i].Wake, float64(s.Switches-start[i].Switches)/b.o.idle.Seconds())
		}
	}
	return res, nil
}

// phaseIdle: the core, pusher-js and watch idle side by side; then the
// window process (open, idle), the open-history timings and the burst,
// all against this core.
func (b *bench) phaseIdle() error {
	b.logf("starting the core: %s --hidden", b.core)
	core, item, err := b.startCore("core", b.core)
	if err != nil {
		return err
	}

	b.logf("starting pusher-js on %s", publicChannel)
	nodeDir, err := devstack.NodeDir()
	if err != nil {
		return err
	}
	nodeOut := &lineBuffer{}
	var nodeIn interface{ Close() error }
	node, err := b.r.start("pusher-js", b.env, func(c *exec.Cmd) {
		c.Stdout = nodeOut
		in, _ := c.StdinPipe() // closing it ends the listener; kept open while measured
		nodeIn = in
	}, "node", filepath.Join(nodeDir, "pusherjs-listener.js"), b.soketi.Host, strconv.Itoa(b.soketi.Port), b.soketi.Key, publicChannel)
	if err != nil {
		return err
	}
	defer func() {
		if nodeIn != nil {
			nodeIn.Close()
		}
	}()
	if err := waitFor(30*time.Second, "pusher-js to subscribe", node, func() bool { return nodeOut.contains(`"type":"ready"`) }); err != nil {
		return err
	}

	b.logf("starting echotray watch --no-notify")
	watch, err := b.r.start("watch", b.env, nil, b.core, "watch", "--no-notify")
	if err != nil {
		return err
	}
	if err := waitFor(30*time.Second, "watch to connect", watch, func() bool {
		l, _ := os.ReadFile(watch.log)
		return bytes.Contains(l, []byte("Connected to"))
	}); err != nil {
		return err
	}
	if children(core.pid(), "echotray-window") != nil {
		return errors.New("the core started a window process although it was started hidden")
	}
	b.logf("all three are up; settling for %s", b.o.settle)
	time.Sleep(b.o.settle)
	res, err := b.measureIdle([]measured{
		{"core (`echotray --hidden`): signed in, connected, in the tray, no window", "RSS ≤ 33 MB, CPU ≤ 0.04 s", core.pid()},
		{"pusher-js 8.4.0 in Node (" + nodeVersion() + "), subscribed to " + publicChannel, "comparison", node.pid()},
		{"`echotray watch --no-notify`", "RSS ≤ 0.5 × pusher-js", watch.pid()},
	})
	if err != nil {
		return err
	}
	res[0].Met = mark(float64(maxI(res[0].RSS))*1024 <= targetCoreRSS && ticks(maxF(res[0].CPU)*b.per30()) <= ticks(targetCoreCPU))
	res[2].Met = mark(float64(maxI(res[2].RSS)) <= targetWatchRatio*float64(minI(res[1].RSS)))
	b.coreIdle, b.nodeIdle, b.watchIdle = res[0], res[1], res[2]
	// watch would store the burst's events too, pusher-js is done.
	watch.stop(5 * time.Second)
	nodeIn.Close()
	nodeIn = nil
	node.stop(5 * time.Second)

	if err := b.phaseWindow(core, item); err != nil {
		return err
	}
	b.logf("stopping the core (its window process goes with it)")
	core.stop(10 * time.Second)
	return nil
}

// ticks rounds CPU seconds to clock ticks (the resolution of /proc/PID/stat),
// so that 0.04 s measured as a difference of two readings compares equal
// to a 0.04 s target.
func ticks(s float64) int64 { return int64(math.Round(s * clockTicks)) }

// per30 scales CPU seconds over one idle window to seconds per 30 s.
func (b *bench) per30() float64 { return 30 / b.o.idle.Seconds() }

// phaseOldCore: the full (Fyne) binary as the core, idle; then -prev.
func (b *bench) phaseOldCore() error {
	type old struct{ name, short, bin, target string }
	list := []old{{"old model: the full binary as the core (`echotray-window --hidden`), same state", "the full binary as the core", b.window, "reference"}}
	if b.o.prev != "" {
		label := b.o.prevLabel
		if label == "" {
			label = b.o.prev
		}
		list = append(list, old{label + " (`--hidden`), same state", label, b.o.prev, "reference"})
	}
	for i, o := range list {
		b.logf("starting %s", o.bin)
		p, _, err := b.startCore("old-core-"+strconv.Itoa(i+1), o.bin)
		if err != nil {
			return err
		}
		time.Sleep(b.o.settle)
		res, err := b.measureIdle([]measured{{o.name, o.target, p.pid()}})
		if err != nil {
			return err
		}
		res[0].Short = o.short
		b.oldIdle = append(b.oldIdle, res[0])
		p.stop(10 * time.Second)
	}
	return nil
}

// windowPID returns the core's window process, or 0.
func windowPID(core *proc) int {
	if k := children(core.pid(), "echotray-window"); len(k) > 0 {
		return k[0]
	}
	return 0
}

// historyShown returns the viewable history window, if any.
func (b *bench) historyShown() (xwindow, bool, error) {
	ws, err := b.d.x.find(historyTitlePrefix)
	if err != nil {
		return xwindow{}, false, err
	}
	for _, w := range ws {
		if w.Viewable {
			return w, true, nil
		}
	}
	return xwindow{}, false, nil
}

// openHistory clicks "Open history" in the tray menu and returns the time
// until the history window is on screen (polled every 10 ms), +Inf after
// limit.
func (b *bench) openHistory(it trayItem, limit time.Duration) (float64, error) {
	menu, id, err := menuItemID(b.d.conn, it, openHistoryLabel)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := click(b.d.conn, it, menu, id); err != nil {
		return 0, fmt.Errorf("click %q: %w", openHistoryLabel, err)
	}
	for {
		_, ok, err := b.historyShown()
		if err != nil {
			return 0, err
		}
		if ok {
			return time.Since(t0).Seconds(), nil
		}
		if time.Since(t0) > limit {
			return math.Inf(1), nil
		}
		time.Sleep(10 * time.Millisecond) // polling the X server
	}
}

// phaseWindow: cold and warm starts of the history window, the window
// process idle, then the burst.
func (b *bench) phaseWindow(core *proc, item trayItem) error {
	const limit = 20 * time.Second
	b.logf("history window: %d cold starts", b.o.cold)
	for i := 0; i < b.o.cold; i++ {
		if pid := windowPID(core); pid != 0 {
			return fmt.Errorf("a window process (%d) is alive before cold start %d", pid, i+1)
		}
		d, err := b.openHistory(item, limit)
		if err != nil {
			return err
		}
		b.cold = append(b.cold, d)
		b.logf("  cold %d: %.3f s", i+1, d)
		pid := windowPID(core)
		if pid == 0 {
			return errors.New("the history window is shown but the core has no window process")
		}
		if i == 0 {
			b.crossCheck = b.xdotoolCheck()
		}
		// Closing for the next cold start: end the window process and wait
		// until the core has reaped it.
		_ = syscall.Kill(pid, syscall.SIGTERM)
		if err := waitFor(10*time.Second, "the window process to end", core, func() bool { return !exists(pid) }); err != nil {
			return err
		}
		if err := waitFor(5*time.Second, "the history window to go", core, func() bool {
			_, ok, _ := b.historyShown()
			return !ok
		}); err != nil {
			return err
		}
		time.Sleep(time.Second) // let the core see the exit and the machine settle
	}

	b.logf("history window: %d warm starts", b.o.warm)
	if d, err := b.openHistory(item, limit); err != nil || math.IsInf(d, 1) {
		return fmt.Errorf("opening the history window for the warm starts: %v (%.1f s)", err, d)
	}
	winPID := windowPID(core)
	for i := 0; i < b.o.warm; i++ {
		w, ok, err := b.historyShown()
		if err != nil || !ok {
			return fmt.Errorf("the history window is not shown before warm start %d: %v", i+1, err)
		}
		if err := b.d.x.requestClose(w.ID); err != nil {
			return err
		}
		if err := waitFor(5*time.Second, "the history window to hide", core, func() bool {
			_, ok, _ := b.historyShown()
			return !ok
		}); err != nil {
			return err
		}
		if !alive(winPID) || windowPID(core) != winPID {
			return errors.New("the window process ended when its window was closed (it should hide)")
		}
		time.Sleep(time.Second)
		d, err := b.openHistory(item, limit)
		if err != nil {
			return err
		}
		b.warm = append(b.warm, d)
		b.logf("  warm %d: %.3f s", i+1, d)
	}

	// The window process idle with its window hidden (as after a close),
	// then shown.
	w, ok, err := b.historyShown()
	if err != nil || !ok {
		return fmt.Errorf("the history window is not shown after the warm starts: %v", err)
	}
	if err := b.d.x.requestClose(w.ID); err != nil {
		return err
	}
	if err := waitFor(5*time.Second, "the history window to hide", core, func() bool {
		_, ok, _ := b.historyShown()
		return !ok
	}); err != nil {
		return err
	}
	b.logf("window process idle with the history window hidden; settling for %s", b.o.settle)
	time.Sleep(b.o.settle)
	res, err := b.measureIdle([]measured{{"window process, history window hidden (closed; the process stays)", "report", winPID}})
	if err != nil {
		return err
	}
	b.winHiddenIdle = res[0]
	if d, err := b.openHistory(item, limit); err != nil || math.IsInf(d, 1) {
		return fmt.Errorf("opening the history window again: %v (%.1f s)", err, d)
	}
	b.logf("window process idle with the history window open; settling for %s", b.o.settle)
	time.Sleep(b.o.settle)
	res, err = b.measureIdle([]measured{
		{"window process (`echotray-window window`), history window open", "CPU ≤ 0.1 s", winPID},
		{"core while the window process runs (window open)", "report", core.pid()},
	})
	if err != nil {
		return err
	}
	res[0].Met = mark(ticks(maxF(res[0].CPU)*b.per30()) <= ticks(targetWindowCPU))
	b.winIdle, b.coreWithWin = res[0], res[1]

	return b.phaseBurst(core, winPID)
}

// xdotoolCheck reads the history window the way xdotool does, to check the
// benchmark's own X11 reading against it.
func (b *bench) xdotoolCheck() string {
	w, ok, err := b.historyShown()
	if err != nil || !ok {
		return fmt.Sprintf("no window to check (%v)", err)
	}
	cmd := exec.Command("xdotool", "getwindowname", strconv.FormatUint(uint64(w.ID), 10))
	cmd.Env = b.env
	out, err := cmd.Output()
	if err != nil {
		return fmt.Sprintf("xdotool getwindowname failed: %v", err)
	}
	got := strings.TrimSpace(string(out))
	if got != w.Title {
		return fmt.Sprintf("MISMATCH: xdotool reads %q, the benchmark %q", got, w.Title)
	}
	return fmt.Sprintf("xdotool getwindowname %d = %q, as the benchmark reads it", w.ID, got)
}

// burstEvents makes n tenant events alice receives, with realistic
// payloads (most with their own event_id, some flat).
func burstEvents(n int) []generator.Event {
	g := &generator.Generator{Tenants: []int64{1}, Namespaced: true, Rand: rand.New(rand.NewPCG(1, 2))}
	var out []generator.Event
	for len(out) < n {
		e := g.Next()
		if e.Channel != publicChannel || e.Name == "UserDeleted" || e.Name == "TenantSuspended" {
			continue
		}
		out = append(out, e)
	}
	return out
}

// phaseBurst publishes o.burst events as fast as the batch endpoint takes
// them and times the history database and the window title.
func (b *bench) phaseBurst(core *proc, winPID int) error {
	dbPath := filepath.Join(b.dir, "echotray", "data", "history.db")
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	counts := func() (n, unread int, err error) {
		err = db.QueryRow(`SELECT count(*), coalesce(sum(read = 0), 0) FROM entries`).Scan(&n, &unread)
		return
	}
	n0, u0, err := counts()
	if err != nil {
		return fmt.Errorf("history database %s: %w", dbPath, err)
	}
	want := fmt.Sprintf("%s (%d unread)", historyTitlePrefix, u0+b.o.burst)
	b.burst = burstResult{Events: b.o.burst, WantTitle: want}

	// The requests are built first: 10 events a request.
	events := burstEvents(b.o.burst)
	path := "/apps/" + b.soketi.AppID + "/batch_events"
	var bodies [][]byte
	for i := 0; i < len(events); i += 10 {
		var batch []map[string]string
		for _, e := range events[i:min(i+10, len(events))] {
			data, _ := json.Marshal(e.Data)
			batch = append(batch, map[string]string{"channel": e.Channel, "name": e.Wire, "data": string(data)})
		}
		body, _ := json.Marshal(map[string]any{"batch": batch})
		bodies = append(bodies, body)
	}
	pub := b.soketi.Publisher()
	pub.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	time.Sleep(2 * time.Second)
	c0, _ := readCPU(core.pid())
	w0, _ := readCPU(winPID)
	b.logf("burst: %d events in %d requests, %d publishers", len(events), len(bodies), b.o.publishers)
	t0 := time.Now()
	jobs := make(chan []byte)
	var wg sync.WaitGroup
	var pubErrs atomic.Int64
	var firstErr atomic.Value
	for range b.o.publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range jobs {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if _, err := pub.Do(ctx, http.MethodPost, path, nil, body); err != nil {
					pubErrs.Add(10)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				cancel()
			}
		}()
	}
	for _, body := range bodies {
		jobs <- body
	}
	close(jobs)
	wg.Wait()
	b.burst.PublishTook = time.Since(t0)
	b.burst.PublishErrors = int(pubErrs.Load())
	if b.burst.PublishErrors > 0 {
		return fmt.Errorf("burst: %d events not accepted by Soketi: %v", b.burst.PublishErrors, firstErr.Load())
	}

	deadline := t0.Add(120 * time.Second)
	for time.Now().Before(deadline) && (b.burst.DBAll == 0 || b.burst.TitleAll == 0) {
		if b.burst.DBAll == 0 {
			if n, _, err := counts(); err == nil && n >= n0+b.o.burst {
				b.burst.DBAll = time.Since(t0)
			}
		}
		if b.burst.TitleAll == 0 {
			if w, ok, err := b.historyShown(); err == nil && ok {
				b.burst.LastTitle = w.Title
				if w.Title == want {
					b.burst.TitleAll = time.Since(t0)
				}
			}
		}
		time.Sleep(10 * time.Millisecond) // polling the database and the X server
	}
	c1, _ := readCPU(core.pid())
	w1, _ := readCPU(winPID)
	b.burst.CoreCPU, b.burst.WindowCPU = c1-c0, w1-w0
	n1, u1, err := counts()
	if err != nil {
		return err
	}
	b.burst.DBCount, b.burst.DBUnread = n1-n0, u1
	b.logf("burst: db %v, title %v (%q)", b.burst.DBAll, b.burst.TitleAll, b.burst.LastTitle)
	return nil
}

// lineBuffer collects a child's output.
type lineBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lineBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lineBuffer) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Contains(l.b.Bytes(), []byte(s))
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func maxI(v []int64) int64 { return slices.Max(v) }
func minI(v []int64) int64 { return slices.Min(v) }
func maxF(v []float64) float64 {
	return slices.Max(v)
}

// percentile is the nearest-rank percentile of v (p in 0..100).
func percentile(v []float64, p float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

// watchLoad samples the 1-min load average every 5 s until stop closes.
func (b *bench) watchLoad(stop <-chan struct{}) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if f := strings.Fields(loadavg()); len(f) > 0 {
			if l, err := strconv.ParseFloat(f[0], 64); err == nil {
				b.loadMu.Lock()
				if b.loadMax == 0 || l < b.loadMin {
					b.loadMin = l
				}
				b.loadMax = max(b.loadMax, l)
				b.loadMu.Unlock()
			}
		}
		select {
		case <-t.C:
		case <-stop:
			return
		}
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "node ?"
	}
	return "Node " + strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
}

func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return name + " ?"
	}
	l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(l)
}
