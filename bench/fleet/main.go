// Command fleet benchmarks a fleet of EchoTray desktops on a Soketi cluster:
// N realtime.Clients (the project's own client, each with its own
// WebSocket) signed in as N users of the Laravel stand-in — tenant staff
// on tenant.{id} and private-user.{id}, system admins on
// private-system.admin and private-user.{id} — through haproxy to a
// cluster of Soketi nodes sharing Redis (devstack.StartCluster), with the
// stand-in's /broadcasting/auth throttled like Laravel's `throttle`
// middleware.
//
// Scenarios, in this order, each with figures and one PNG plot
// (connected and fully subscribed clients over time; auth requests, 429s,
// 503s and reconnections per 100 ms):
//
//   - ramp: every client connects at once (start-up of the fleet);
//   - memory: Go heap + stacks and goroutines per idle connected client;
//   - steady: events published to one node reach clients on every node
//     (latency p50/p99, loss);
//   - kill: one node gets SIGKILL; time until every affected client is
//     resubscribed through haproxy, auth requests and 429s, events after
//     recovery;
//   - rolling: every node restarted in turn with Soketi's graceful shutdown
//     (4200 to every client); share of the reconnections in the busiest
//     100 ms;
//   - outage: the auth endpoint answers 429 (then 503) for 30 s while the
//     nodes are restarted, so every client needs authorisation during it;
//     time to resubscribe after recovery, auth requests per client during
//     the outage.
//
// Usage:
//
//	go run ./bench/fleet -clients 2000 -out docs/bench
//
// It needs Node with devstack/node/node_modules, redis-server and haproxy
// (`make deps`).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"echotray/devstack"
	"echotray/devstack/laravel"
)

type options struct {
	clients        int
	nodes          int
	tenants        int
	adminEvery     int
	authRate       int
	recoveryRate   int
	rounds         int
	outageFor      time.Duration
	outageRetry    time.Duration
	outageStatuses []int
	out            string
	report         string
	log            string
	memProfile     string
	settle         time.Duration
	scenarios      map[string]bool
}

func main() {
	var o options
	var statuses, scen string
	flag.IntVar(&o.clients, "clients", 2000, "number of desktops (realtime.Clients)")
	flag.IntVar(&o.nodes, "nodes", 2, "Soketi nodes behind haproxy (2 or 3)")
	flag.IntVar(&o.tenants, "tenants", 50, "tenants the staff are spread over")
	flag.IntVar(&o.adminEvery, "admin-every", 10, "every n-th user is a system admin")
	flag.IntVar(&o.authRate, "auth-rate", 100, "throttle of /broadcasting/auth, requests per second for the whole endpoint")
	flag.IntVar(&o.recoveryRate, "recovery-auth-rate", 0, "throttle after the auth outage ends; 0 means -auth-rate")
	flag.IntVar(&o.rounds, "rounds", 10, "publish rounds in the steady state (each reaches every client twice)")
	flag.DurationVar(&o.outageFor, "outage", 30*time.Second, "length of the auth outage")
	flag.DurationVar(&o.outageRetry, "outage-retry-after", 8*time.Second, "Retry-After sent during the auth outage")
	flag.StringVar(&statuses, "outage-status", "429,503", "statuses of the auth outage scenarios")
	flag.StringVar(&o.out, "out", ".cache/bench", "directory for the PNG plots (fleet-<scenario>.png)")
	flag.StringVar(&o.report, "report", "", "also write the markdown report to this file")
	flag.StringVar(&o.log, "log", "", "file for the cluster's output (default: a file in the temporary directory)")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a heap profile of the idle fleet to this file")
	flag.DurationVar(&o.settle, "settle", 65*time.Second, "idle time before each disruption; longer than the client's 1-minute stability window, so every scenario starts from a fresh backoff")
	flag.StringVar(&scen, "scenarios", "steady,kill,rolling,outage", "scenarios to run after ramp and memory")
	flag.Parse()
	for _, s := range strings.Split(statuses, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			o.outageStatuses = append(o.outageStatuses, n)
		}
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(scen, ",") {
		o.scenarios[strings.TrimSpace(s)] = true
	}
	if o.recoveryRate == 0 {
		o.recoveryRate = o.authRate
	}
	b := &bench{o: o}
	err := b.run()
	fmt.Print(b.out.String())
	if o.report != "" {
		if werr := os.WriteFile(o.report, []byte(b.out.String()), 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

type bench struct {
	o          options
	out        strings.Builder
	cluster    *devstack.Cluster
	server     *laravel.Server
	rec        *recorder
	members    []*member
	httpTr     *http.Transport
	seq        int64
	ctx        context.Context
	results    []result
	clusterRef atomic.Pointer[devstack.Cluster] // for the signal handler
	slowStops  int                              // nodes killed for stopping too slowly
	// roundRequests is the number of publish requests of one round.
	roundRequests int
}

func (b *bench) printf(format string, a ...any) {
	fmt.Fprintf(&b.out, format, a...)
	fmt.Fprintf(os.Stderr, format, a...) // progress
}

func (b *bench) run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	// Ctrl-C or SIGTERM ends the run and still stops the cluster.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; !ok {
			return
		}
		fmt.Fprintln(os.Stderr, "fleet: interrupted; stopping the cluster")
		if c := b.clusterRef.Load(); c != nil {
			_ = c.Stop()
		}
		os.Exit(1)
	}()
	b.ctx = ctx
	raiseFileLimit(b.o.clients)
	if err := os.MkdirAll(b.o.out, 0o755); err != nil {
		return err
	}

	logPath := b.o.log
	if logPath == "" {
		logPath = filepath.Join(os.TempDir(), "echotray-fleet-cluster.log")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	c, err := devstack.StartCluster(ctx, devstack.ClusterOptions{Nodes: b.o.nodes, Log: logf})
	if err != nil {
		return fmt.Errorf("starting the cluster: %w", err)
	}
	defer c.Stop()
	b.cluster = c
	b.clusterRef.Store(c)

	users := laravel.FleetUsers(1000, b.o.clients, b.o.tenants, b.o.adminEvery)
	b.server = laravel.New(laravel.Config{
		AppKey: c.Key, AppSecret: c.Secret, Users: users,
		AuthThrottle: laravel.Throttle{PerSecond: b.o.authRate},
		Discovery:    laravel.Discovery{Host: c.Host, Port: c.Port, Scheme: "http"},
	})
	base, err := b.server.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer b.server.Close()
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	seedStart := time.Now()
	tokens, err := b.server.IssueTokens(ids...)
	if err != nil {
		return err
	}
	seedDur := time.Since(seedStart)

	b.header(logPath, seedDur)

	b.rec = newRecorder()
	go b.rec.run(ctx)
	b.httpTr = &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second}
	httpc := &http.Client{Timeout: 10 * time.Second, Transport: b.httpTr}

	// Baseline for the memory per client: everything but the clients.
	base0 := memNow()

	for i, u := range users {
		m, err := newMember(i, u, tokens[i], b.rec, c.Host, c.Port, c.Key, base+"/broadcasting/auth", httpc)
		if err != nil {
			return err
		}
		b.members = append(b.members, m)
	}
	defer func() {
		var wg sync.WaitGroup
		for _, m := range b.members {
			wg.Go(func() { m.c.Close() })
		}
		wg.Wait()
	}()

	if err := b.ramp(); err != nil {
		return err
	}
	b.memory(base0)
	if b.o.memProfile != "" {
		if err := writeHeapProfile(b.o.memProfile); err != nil {
			return err
		}
	}
	if b.o.scenarios["steady"] {
		if err := b.steady(); err != nil {
			return err
		}
	}
	if b.o.scenarios["kill"] {
		b.settleDown()
		if err := b.kill(); err != nil {
			return err
		}
	}
	if b.o.scenarios["rolling"] {
		b.settleDown()
		if err := b.rolling(); err != nil {
			return err
		}
	}
	if b.o.scenarios["outage"] {
		for _, st := range b.o.outageStatuses {
			b.settleDown()
			if err := b.outage(st); err != nil {
				return err
			}
		}
	}
	b.targets()
	b.printf("Load average at the end: %s\n", loadAvg())
	return nil
}

// settleDown waits -settle with the fleet idle and connected.
func (b *bench) settleDown() {
	fmt.Fprintf(os.Stderr, "fleet: idle for %s before the next disruption\n", b.o.settle)
	time.Sleep(b.o.settle)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// targets prints the issue's targets with ✓ or ✗.
func (b *bench) targets() {
	b.printf("## Targets\n\n| scenario | target | measured | met |\n|---|---|---|---|\n")
	for _, r := range b.results {
		mark := "✗"
		if r.met {
			mark = "✓"
		}
		b.printf("| %s | %s | %s | %s |\n", r.scenario, r.target, r.measured, mark)
	}
	b.printf("\n")
}

func (b *bench) header(logPath string, seed time.Duration) {
	cpu := "unknown"
	if f, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(f), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, cpu, _ = strings.Cut(l, ": ")
				break
			}
		}
	}
	admins := 0
	for _, u := range b.server.Users() {
		if u.IsSystemAdmin() {
			admins++
		}
	}
	b.printf("# EchoTray fleet benchmark\n\n")
	b.printf("Command: `go run ./bench/fleet %s`\n\n", strings.Join(os.Args[1:], " "))
	b.printf("Machine: %s/%s, %d CPUs (%s), %s; load average at start %s.\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), strings.TrimSpace(cpu), runtime.Version(), loadAvg())
	b.printf("Cluster: %d Soketi 1.6.1 nodes (Redis adapter, redis-server %s) behind haproxy on 127.0.0.1:%d; output in %s.\n",
		b.cluster.Nodes(), "from Debian", b.cluster.Port, logPath)
	b.printf("Fleet: %d realtime.Clients, %d staff in %d tenants (tenant.{id} + private-user.{id}), %d system admins (private-system.admin + private-user.{id}); %d tokens seeded in %s.\n",
		b.o.clients, b.o.clients-admins, b.o.tenants, admins, b.o.clients, seed.Round(time.Millisecond))
	b.printf("Auth endpoint: the Laravel stand-in, /broadcasting/auth throttled to %d requests/s for the whole endpoint (429 with Retry-After).\n\n", b.o.authRate)
}

// totalPrivate is the number of authorisations a full resubscription of
// the given members needs.
func totalPrivate(ms []*member) int {
	n := 0
	for _, m := range ms {
		n += m.private
	}
	return n
}

// waitFull waits until every member is connected and fully subscribed, or
// timeout passes; it returns whether they all are.
func (b *bench) waitFull(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if int(b.rec.full.Load()) == len(b.members) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return int(b.rec.full.Load()) == len(b.members)
}

// notFull lists a few members that are not fully subscribed, for the report.
func (b *bench) notFull(max int) string {
	var out []string
	for _, m := range b.members {
		m.mu.Lock()
		if !m.full {
			out = append(out, fmt.Sprintf("user %d connected=%v status=%v errs=%v", m.user.ID, m.connected, m.status, m.lastErr))
		}
		m.mu.Unlock()
		if len(out) == max {
			break
		}
	}
	return strings.Join(out, "; ")
}

func (b *bench) ramp() error {
	b.printf("## Ramp: %d clients connect at once\n\n", len(b.members))
	t0 := time.Now()
	for _, m := range b.members {
		m.c.Connect()
	}
	ok := b.waitFull(5 * time.Minute)
	end := time.Now()
	time.Sleep(2 * bucket) // let the recorder close the last bucket
	last := t0
	for _, m := range b.members {
		if s := m.snap(); s.fullAt.After(last) {
			last = s.fullAt
		}
	}
	st := sumWindow(b.rec.window(t0, end))
	b.printf("- every client connected and subscribed: %v, after %s (%d authorisations needed; at %d/s that is at least %.1f s)\n",
		ok, last.Sub(t0).Round(10*time.Millisecond), totalPrivate(b.members), b.o.authRate, float64(totalPrivate(b.members))/float64(b.o.authRate))
	b.printf("- auth requests %d, answered 429 %d, 200 %d\n", st.AuthReqs, st.Auth429, st.AuthOK)
	if !ok {
		return fmt.Errorf("ramp: not every client subscribed within 5 minutes: %s", b.notFull(5))
	}
	dist, _ := b.cluster.Backends(b.ctx)
	b.printf("- haproxy's split: %s\n\n", backendsString(dist))
	return b.plot("ramp", "Ramp: every client connects at once", t0.Add(-time.Second), end.Add(time.Second), t0)
}

func (b *bench) memory(base0 memStat) {
	b.printf("## Memory per idle connected client\n\n")
	time.Sleep(3 * time.Second) // idle
	b.httpTr.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
	now := memNow()
	n := float64(len(b.members))
	perHeap := float64(int64(now.heap)-int64(base0.heap)) / n
	perStack := float64(int64(now.stack)-int64(base0.stack)) / n
	perG := float64(now.goroutines-base0.goroutines) / n
	b.printf("- Go heap in use + stacks, after GC, divided by %d: **%.1f KiB** per client (heap %.1f KiB, stacks %.1f KiB)\n",
		len(b.members), (perHeap+perStack)/1024, perHeap/1024, perStack/1024)
	b.printf("- goroutines per client: **%.2f** (%d in all, %d before the fleet)\n", perG, now.goroutines, base0.goroutines)
	b.results = append(b.results, result{"memory", "memory per idle client ≤ 64 KiB", (perHeap+perStack)/1024 <= 64,
		fmt.Sprintf("%.1f KiB (heap %.1f + stacks %.1f), %.2f goroutines", (perHeap+perStack)/1024, perHeap/1024, perStack/1024, perG)})
	b.printf("- (the process also holds the Laravel stand-in and its %d tokens; they are in the baseline, as are the idle auth HTTP connections, closed before measuring)\n\n", len(b.members))
}

type memStat struct {
	heap, stack uint64
	goroutines  int
}

func memNow() memStat {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memStat{heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func backendsString(bs []devstack.BackendStatus) string {
	var parts []string
	for _, x := range bs {
		parts = append(parts, fmt.Sprintf("%s %s %d connections", x.Name, x.Status, x.Sessions))
	}
	return strings.Join(parts, ", ")
}

// raiseFileLimit makes room for the fleet's sockets (each client holds a
// WebSocket, the stand-in the other end of the auth connections).
func raiseFileLimit(clients int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	want := uint64(clients*4 + 1024)
	if lim.Cur < want {
		lim.Cur = min(want, lim.Max)
		if lim.Cur < want {
			// Root may raise the hard limit too.
			l2 := syscall.Rlimit{Cur: want, Max: max(want, lim.Max)}
			if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l2) == nil {
				return
			}
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintf(os.Stderr, "fleet: cannot raise the open-file limit to %d: %v\n", want, err)
		}
	}
	if lim.Cur < want {
		fmt.Fprintf(os.Stderr, "fleet: open-file limit %d may be too low for %d clients\n", lim.Cur, clients)
	}
}

// sumWindow adds up the counters of samples.
func sumWindow(ss []sample) sample {
	var t sample
	for _, s := range ss {
		t.AuthReqs += s.AuthReqs
		t.Auth429 += s.Auth429
		t.Auth503 += s.Auth503
		t.AuthOK += s.AuthOK
		t.Reconnects += s.Reconnects
		t.Drops += s.Drops
	}
	return t
}

// percentile returns the p-th percentile (0-100) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

func durations(ds []time.Duration) []time.Duration {
	out := slices.Clone(ds)
	slices.Sort(out)
	return out
}
