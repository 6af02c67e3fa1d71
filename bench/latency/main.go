// Command latency benchmarks EchoTray's realtime client against the real
// Soketi, side by side with pusher-js (the client Laravel Echo wraps).
//
// Latency mode publishes -events events through Soketi's signed HTTP API at
// a modest -rate, alternating between two public channels, each event
// carrying its send time; the Go client (this program re-run as a listener
// process) and pusher-js (devstack/node/pusherjs-listener.js, Node build)
// are subscribed to both channels and print when each event reached them.
// Both are separate processes on the same machine and clock. To counter
// Soketi's fan-out order (subscription order), the Go client joins channel A
// first and pusher-js joins channel B first.
//
// Sustained mode pushes -sustain-rate events/s for -sustain-for through one
// Go client connection using Soketi's batch endpoint (10 events a request,
// several publishers), checks loss by sequence number and samples the
// listener's heap every second.
//
// Usage:
//
//	go run ./bench/latency -events 2000 -rate 200
//	go run ./bench/latency -mode sustained -sustain-rate 5000 -sustain-for 10s
//
// It needs Node and devstack/node/node_modules (`make deps`).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"echotray/devstack"
	"echotray/devstack/publish"
)

func main() {
	var (
		mode     = flag.String("mode", "all", "latency, sustained or all")
		events   = flag.Int("events", 2000, "measured events in latency mode (>= 1000 for a meaningful p99)")
		rate     = flag.Float64("rate", 200, "publish rate in latency mode, events/s")
		warmup   = flag.Int("warmup", 200, "unmeasured events published first in latency mode")
		payload  = flag.Int("payload", 300, "approximate size of each event's data, bytes")
		sRate    = flag.Int("sustain-rate", 5000, "publish rate in sustained mode, events/s")
		sFor     = flag.Duration("sustain-for", 10*time.Second, "duration of the sustained run")
		pubs     = flag.Int("publishers", 8, "concurrent HTTP publishers in sustained mode")
		report   = flag.String("o", "", "also write the markdown report to this file")
		listener = flag.Bool("listener", false, "internal: run as the Go listener process")
		lHost    = flag.String("host", "", "internal: listener host")
		lPort    = flag.Int("port", 0, "internal: listener port")
		lKey     = flag.String("key", "", "internal: listener app key")
		lChans   = flag.String("channels", "", "internal: listener channels, comma-separated")
		lQuiet   = flag.Bool("quiet", false, "internal: listener prints a summary instead of every event")
		lMem     = flag.Bool("mem", false, "internal: listener samples memory every second")
		lExpect  = flag.Int("expect", 0, "internal: number of events the listener should expect")
	)
	flag.Parse()
	if *listener {
		if err := runListener(*lHost, *lPort, *lKey, strings.Split(*lChans, ","), *lQuiet, *lMem, *lExpect); err != nil {
			fmt.Fprintln(os.Stderr, "listener:", err)
			os.Exit(1)
		}
		return
	}
	b := &bench{payload: *payload}
	if err := b.run(*mode, *events, *rate, *warmup, *sRate, *sFor, *pubs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Print(b.out.String())
	if *report != "" {
		if err := os.WriteFile(*report, b.out.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

type bench struct {
	payload int
	soketi  *devstack.Soketi
	pub     *publish.Publisher
	out     bytes.Buffer
}

func (b *bench) printf(format string, a ...any) { fmt.Fprintf(&b.out, format, a...) }

func (b *bench) run(mode string, events int, rate float64, warmup, sRate int, sFor time.Duration, pubs int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := devstack.StartSoketi(ctx, devstack.SoketiOptions{})
	if err != nil {
		return fmt.Errorf("starting Soketi: %w", err)
	}
	defer s.Stop()
	b.soketi = s
	b.pub = s.Publisher()
	b.pub.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.header()
	if mode == "latency" || mode == "all" {
		if err := b.latency(events, rate, warmup); err != nil {
			return err
		}
	}
	if mode == "sustained" || mode == "all" {
		if err := b.sustained(sRate, sFor, pubs); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) header() {
	node, _ := exec.Command("node", "--version").Output()
	cpu := "unknown"
	if f, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(f), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, cpu, _ = strings.Cut(l, ": ")
				break
			}
		}
	}
	b.printf("Machine: %s/%s, %d CPUs (%s); %s; node %s; Soketi 1.6.1, pusher-js 8.4.0 (devstack/node).\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), strings.TrimSpace(cpu), runtime.Version(), strings.TrimSpace(string(node)))
}

// proc is a listener process printing JSON lines.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready chan struct{}

	mu      sync.Mutex
	events  map[int]line // by seq
	mem     []memSample
	summary *summary
	errs    []string
	done    chan struct{}
	stderr  bytes.Buffer
}

func startProc(name string, cmd *exec.Cmd) (*proc, error) {
	p := &proc{name: name, cmd: cmd, ready: make(chan struct{}, 16), events: map[int]line{}, done: make(chan struct{})}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = &limitedWriter{w: &p.stderr, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				continue
			}
			p.mu.Lock()
			switch l.Type {
			case "ready":
				p.ready <- struct{}{}
			case "event":
				if l.Seq != nil {
					if _, dup := p.events[*l.Seq]; !dup {
						p.events[*l.Seq] = l
					}
				}
			case "mem":
				p.mem = append(p.mem, *l.Mem)
			case "summary":
				p.summary = l.Summary
			case "error":
				p.errs = append(p.errs, l.Error)
			}
			p.mu.Unlock()
		}
	}()
	return p, nil
}

func (p *proc) waitReady(d time.Duration) error {
	select {
	case <-p.ready:
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited before subscribing: %s", p.name, p.stderr.String())
	case <-time.After(d):
		return fmt.Errorf("%s not subscribed within %s: %s", p.name, d, p.stderr.String())
	}
}

func (p *proc) send(cmd string) error {
	_, err := io.WriteString(p.stdin, cmd+"\n")
	return err
}

func (p *proc) count(minSeq int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for seq := range p.events {
		if seq >= minSeq {
			n++
		}
	}
	return n
}

func (p *proc) received() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.mem) == 0 {
		return 0
	}
	return p.mem[len(p.mem)-1].Received
}

// stop closes stdin (the listeners' stop signal) and waits for the exit.
func (p *proc) stop() error {
	p.stdin.Close()
	<-p.done
	errc := make(chan error, 1)
	go func() { errc <- p.cmd.Wait() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		return fmt.Errorf("%s did not exit", p.name)
	}
}

// limitedWriter keeps the first n bytes written to it (a child's stderr).
type limitedWriter struct {
	w io.Writer
	n int
}

// Write keeps what fits and reports everything as written.
func (l *limitedWriter) Write(b []byte) (int, error) {
	if l.n <= 0 {
		return len(b), nil
	}
	k := min(len(b), l.n)
	l.n -= k
	l.w.Write(b[:k])
	return len(b), nil
}

func (b *bench) goListener(channels []string, extra ...string) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-listener", "-host", b.soketi.Host, "-port", strconv.Itoa(b.soketi.Port),
		"-key", b.soketi.Key, "-channels", strings.Join(channels, ",")}, extra...)
	return startProc("go (realtime)", exec.Command(self, args...))
}

func (b *bench) nodeListener(channels []string) (*proc, error) {
	dir, err := devstack.NodeDir()
	if err != nil {
		return nil, err
	}
	args := append([]string{filepath.Join(dir, "pusherjs-listener.js"), b.soketi.Host, strconv.Itoa(b.soketi.Port), b.soketi.Key}, channels...)
	return startProc("pusher-js", exec.Command("node", args...))
}

// data builds an event payload of about b.payload bytes.
func (b *bench) data(seq int, sent float64) string {
	head := fmt.Sprintf(`{"seq":%d,"sent":%.3f,"tenant_id":1,"user":{"id":%d,"name":"Bench User","email":"bench@tenant1.test"},"pad":"`, seq, sent, seq)
	return head + strings.Repeat("x", max(0, b.payload-len(head)-2)) + `"}`
}

func (b *bench) latency(events int, rate float64, warmup int) error {
	const chA, chB = "bench.a", "bench.b"
	goL, err := b.goListener([]string{chA})
	if err != nil {
		return err
	}
	defer goL.stop()
	if err := goL.waitReady(30 * time.Second); err != nil {
		return err
	}
	nodeL, err := b.nodeListener([]string{chA, chB})
	if err != nil {
		return err
	}
	defer nodeL.stop()
	if err := nodeL.waitReady(30 * time.Second); err != nil {
		return err
	}
	if err := goL.send("subscribe " + chB); err != nil {
		return err
	}
	if err := goL.waitReady(30 * time.Second); err != nil {
		return err
	}

	ctx := context.Background()
	sent := make([]float64, events)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	start := time.Now()
	for i := -warmup; i < events; i++ {
		<-tick.C
		ch := chA
		if i%2 != 0 {
			ch = chB
		}
		now := time.Now()
		if i >= 0 {
			sent[i] = wallMS(now)
		}
		if err := b.pub.Trigger(ctx, []string{ch}, `App\Events\BenchEvent`, b.data(i, wallMS(now)), ""); err != nil {
			return fmt.Errorf("publishing event %d: %w", i, err)
		}
		if i == -1 {
			start = time.Now()
		}
	}
	elapsed := time.Since(start)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && (goL.count(0) < events || nodeL.count(0) < events) {
		time.Sleep(50 * time.Millisecond) // polling real processes with a deadline
	}
	if err := goL.stop(); err != nil {
		return err
	}
	if err := nodeL.stop(); err != nil {
		return err
	}

	type res struct {
		p             *proc
		all, onA, onB []float64
		lost          int
		byseq         map[int]float64
	}
	collect := func(p *proc) res {
		r := res{p: p, byseq: map[int]float64{}}
		p.mu.Lock()
		defer p.mu.Unlock()
		for i := 0; i < events; i++ {
			l, ok := p.events[i]
			if !ok {
				r.lost++
				continue
			}
			d := l.Recv - sent[i]
			r.all = append(r.all, d)
			r.byseq[i] = d
			if i%2 == 0 {
				r.onA = append(r.onA, d)
			} else {
				r.onB = append(r.onB, d)
			}
		}
		return r
	}
	rs := []res{collect(goL), collect(nodeL)}

	b.printf("## End-to-end latency: signed publish → Soketi → consumer\n\n")
	b.printf("%d measured events (after %d warm-up), %.0f events/s requested, %.0f achieved, ~%d-byte payload, "+
		"alternating channels %s (Go client subscribed first) and %s (pusher-js subscribed first). "+
		"Latency = consumer receive time − time just before the HTTP publish, wall clock, same machine.\n\n",
		events, warmup, rate, float64(events)/elapsed.Seconds(), b.payload, chA, chB)
	b.printf("| client | events | lost | p50 ms | p90 ms | p99 ms | max ms | mean ms |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		s := computeStats(r.all)
		b.printf("| %s | %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f |\n", r.p.name, s.N, r.lost, s.P50, s.P90, s.P99, s.Max, s.Mean)
	}
	b.printf("\nBy channel (fan-out order):\n\n| client | channel | p50 ms | p99 ms |\n|---|---|---:|---:|\n")
	for _, r := range rs {
		a, bb := computeStats(r.onA), computeStats(r.onB)
		b.printf("| %s | %s | %.3f | %.3f |\n| %s | %s | %.3f | %.3f |\n", r.p.name, chA, a.P50, a.P99, r.p.name, chB, bb.P50, bb.P99)
	}
	var diffs []float64
	goFaster := 0
	for seq, g := range rs[0].byseq {
		if n, ok := rs[1].byseq[seq]; ok {
			diffs = append(diffs, g-n)
			if g < n {
				goFaster++
			}
		}
	}
	ds := computeStats(diffs)
	b.printf("\nPaired per event (Go − pusher-js): median %.3f ms, p99 %.3f ms; Go client first in %d of %d events.\n\n",
		ds.P50, ds.P99, goFaster, len(diffs))
	for _, r := range rs {
		r.p.mu.Lock()
		if len(r.p.errs) > 0 {
			b.printf("%s reported errors: %v\n\n", r.p.name, r.p.errs)
		}
		r.p.mu.Unlock()
	}
	return nil
}

func (b *bench) sustained(rate int, dur time.Duration, pubs int) error {
	const ch = "bench.sustained"
	total := int(float64(rate) * dur.Seconds())
	goL, err := b.goListener([]string{ch}, "-quiet", "-mem", "-expect", strconv.Itoa(total))
	if err != nil {
		return err
	}
	defer goL.stop()
	if err := goL.waitReady(30 * time.Second); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // two idle memory samples as a baseline

	const batchSize = 10 // Soketi's default maximum
	type batch struct{ first, n int }
	jobs := make(chan batch, 1024)
	var pubErrs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	path := "/apps/" + b.soketi.AppID + "/batch_events"
	for range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				now := wallMS(time.Now())
				var body bytes.Buffer
				body.WriteString(`{"batch":[`)
				for k := range j.n {
					if k > 0 {
						body.WriteByte(',')
					}
					d, _ := json.Marshal(b.data(j.first+k, now))
					fmt.Fprintf(&body, `{"channel":%q,"name":"App\\Events\\BenchEvent","data":%s}`, ch, d)
				}
				body.WriteString(`]}`)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := b.pub.Do(ctx, http.MethodPost, path, nil, body.Bytes())
				cancel()
				if err != nil {
					pubErrs.Add(int64(j.n))
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	// Pace by elapsed time (every 2 ms, publish what is due), in batches of
	// at most 10.
	slot := time.NewTicker(2 * time.Millisecond)
	start := time.Now()
	for seq := 0; seq < total; {
		<-slot.C
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		for seq < due {
			n := min(batchSize, due-seq)
			jobs <- batch{seq, n}
			seq += n
		}
	}
	slot.Stop()
	close(jobs)
	wg.Wait()
	pubElapsed := time.Since(start)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && goL.received() < total-int(pubErrs.Load()) {
		time.Sleep(100 * time.Millisecond) // polling a real process with a deadline
	}
	time.Sleep(2 * time.Second) // memory after the load
	if err := goL.stop(); err != nil {
		return err
	}
	goL.mu.Lock()
	defer goL.mu.Unlock()
	sum := goL.summary
	if sum == nil {
		return errors.New("the Go listener printed no summary: " + goL.stderr.String())
	}
	b.printf("## Sustained rate: %d events/s for %s through one connection\n\n", rate, dur)
	b.printf("Published %d events in %s (%.0f events/s achieved) with %d concurrent publishers using "+
		"`POST /apps/{id}/batch_events` (%d events a request); publish errors: %d",
		total, pubElapsed.Round(time.Millisecond), float64(total)/pubElapsed.Seconds(), pubs, batchSize, pubErrs.Load())
	if e := firstErr.Load(); e != nil {
		b.printf(" (first: %v)", e)
	}
	b.printf(".\n\n")
	missing := total - int(pubErrs.Load()) - sum.Unique
	b.printf("| received | unique | missing | duplicates | p50 ms | p90 ms | p99 ms | max ms |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	b.printf("| %d | %d | %d | %d | %.2f | %.2f | %.2f | %.2f |\n\n", sum.Received, sum.Unique, missing, sum.Dups,
		sum.Lat.P50, sum.Lat.P90, sum.Lat.P99, sum.Lat.Max)
	b.printf("Latency here is from the batch request to the consumer (10 µs histogram buckets). %d events arrived after a "+
		"higher-numbered one: the %d publishers run concurrently, so Soketi receives batches out of numbering order; "+
		"the client delivers in wire order.\n\n", sum.Reordered, pubs)
	b.printf("Go listener memory, sampled every second (`runtime.ReadMemStats`; live heap = `/gc/heap/live:bytes`):\n\n")
	b.printf("| t s | events so far | HeapAlloc KiB | live heap KiB | Sys KiB | GCs | goroutines |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range goL.mem {
		live := "–" // no GC yet
		if m.NumGC > 0 {
			live = strconv.FormatUint(m.HeapLive>>10, 10)
		}
		b.printf("| %.0f | %d | %d | %s | %d | %d | %d |\n", m.T, m.Received, m.HeapAlloc>>10, live, m.Sys>>10, m.NumGC, m.Goroutines)
	}
	b.printf("\n")
	if len(goL.errs) > 0 {
		b.printf("Listener errors: %v\n\n", goL.errs)
	}
	return nil
}
