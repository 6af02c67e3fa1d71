package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// report renders the results as Markdown.
func (b *bench) report() string {
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }

	b.loadMu.Lock()
	lmin, lmax := b.loadMin, b.loadMax
	b.loadMu.Unlock()
	p("Machine: %s/%s, %d CPUs (%s), %s RAM, kernel %s; %s; %s; %s. Started %s, took %s. Load average (1, 5, 15 min) "+
		"%s at the start, %s at the end; the 1-min load ranged %.2f–%.2f during the run (sampled every 5 s).\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), memTotal(), kernel(), runtime.Version(), nodeVersion(),
		"xfce4-panel "+firstLine("dpkg-query", "-W", "-f", "${Version}", "xfce4-panel"), b.started.Format("2006-01-02 15:04 MST"),
		b.took.Round(time.Second), b.loadStart, b.loadEnd, lmin, lmax)
	p("Binaries: `%s` %s (core, `CGO_ENABLED=0 -tags nowindow`), `%s` %s (windows, Fyne).\n\n",
		b.core, fileSize(b.core), b.window, fileSize(b.window))

	p("### Idle: memory and CPU\n\n")
	p("Each process idle for %s, %d times; a cell shows each measurement. RSS = VmRSS (/proc/PID/status), "+
		"PSS = Pss (/proc/PID/smaps_rollup), both at the end of each window; CPU = utime+stime delta (/proc/PID/stat, "+
		"10 ms resolution)%s; wakeups/s = context switches of all its threads (/proc/PID/task/*/status) per second.\n\n", b.o.idle, b.o.repeat, b.per30Note())
	p("| process | RSS MiB | PSS MiB | CPU s / 30 s | wakeups/s | target | met |\n|---|---:|---:|---:|---:|---|:-:|\n")
	rows := []idleResult{b.coreIdle, b.nodeIdle, b.watchIdle}
	rows = append(rows, b.oldIdle...)
	rows = append(rows, b.winIdle, b.winHiddenIdle, b.coreWithWin)
	for _, r := range rows {
		if len(r.RSS) == 0 {
			continue
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", r.Name, mibs(r.RSS), mibs(r.PSS), cpus(r.CPU, b.per30()), rates(r.Wake), r.Target, r.Met)
	}
	p("\nPSS divides shared pages among the processes that map them: the core and `watch` run the same executable " +
		"side by side (and pusher-js the same `node` as Soketi), so their PSS is lower than it would be alone; " +
		"the targets are on RSS.")
	if len(b.watchIdle.RSS) > 0 && len(b.nodeIdle.RSS) > 0 {
		ratio := float64(maxI(b.watchIdle.RSS)) / float64(minI(b.nodeIdle.RSS))
		p(" `watch` / pusher-js RSS: %.2f (target ≤ %.1f, worst case of the %d measurements).", ratio, targetWatchRatio, b.o.repeat)
	}
	if len(b.oldIdle) > 0 && len(b.coreIdle.RSS) > 0 {
		var more []string
		for _, o := range b.oldIdle {
			more = append(more, fmt.Sprintf("%s %+.1f MiB", o.Short, float64(minI(o.RSS)-maxI(b.coreIdle.RSS))/1024))
		}
		p(" RSS above the core's: %s.", strings.Join(more, ", "))
	}
	p("\n\n")

	p("### Tray \"Open history\" → history window on screen\n\n")
	p("The tray menu's \"Open history\" entry clicked over D-Bus (com.canonical.dbusmenu `Event(id, \"clicked\")` on the "+
		"item registered with xfce4-panel's systray), as the panel does for a user; time until the X window "+
		"\"%s…\" is viewable (mapped by xfwm4), polled every 10 ms. Cold: no window process (the previous one was ended "+
		"with SIGTERM and reaped). Warm: the process alive, its window hidden by a close request (`_NET_CLOSE_WINDOW`, as the "+
		"title bar's close button). Percentiles are nearest-rank.\n\n", historyTitlePrefix)
	p("| start | runs | p50 s | p90 s | min s | max s | target | met |\n|---|---:|---:|---:|---:|---:|---|:-:|\n")
	for _, s := range []struct {
		name   string
		v      []float64
		target float64
	}{{"cold (window process started by the core)", b.cold, targetColdP50P90}, {"warm (window process alive, window hidden)", b.warm, targetWarmP50P90}} {
		if len(s.v) == 0 {
			continue
		}
		p50, p90 := percentile(s.v, 50), percentile(s.v, 90)
		p("| %s | %d | %s | %s | %s | %s | p50, p90 ≤ %.1f s | %s |\n", s.name, len(s.v), secs(p50), secs(p90),
			secs(percentile(s.v, 0)), secs(percentile(s.v, 100)), s.target, mark(p50 <= s.target && p90 <= s.target))
	}
	p("\nEach run, in order: cold %s; warm %s.\n\n", list(b.cold), list(b.warm))
	if b.crossCheck != "" {
		p("Check of the benchmark's X11 reading: %s.\n\n", b.crossCheck)
	}

	bu := b.burst
	if bu.Events > 0 {
		p("### A burst of %s events with the history window open\n\n", thousands(bu.Events))
		p("Tenant events (the generator's realistic payloads) on %s, published through Soketi's HTTP API batch endpoint "+
			"(10 events a request, %d concurrent publishers). Times are from the first request.\n\n", publicChannel, b.o.publishers)
		p("| published in | all %s in the history DB | title \"%s\" | core CPU s | window process CPU s |\n|---:|---:|---:|---:|---:|\n",
			thousands(bu.Events), bu.WantTitle)
		p("| %s | %s | %s | %.2f | %.2f |\n\n", dur(bu.PublishTook), reached(bu.DBAll), reached(bu.TitleAll), bu.CoreCPU, bu.WindowCPU)
		p("After the burst: %d new entries in the history DB, %d unread; the window's title read %q.", bu.DBCount, bu.DBUnread, bu.LastTitle)
		p(" CPU is counted from the first request until both were reached (or the 120 s limit).\n")
	}
	return w.String()
}

func (b *bench) per30Note() string {
	if b.o.idle == 30*time.Second {
		return ""
	}
	return fmt.Sprintf(", scaled from %s to 30 s", b.o.idle)
}

func mibs(v []int64) string {
	var s []string
	for _, k := range v {
		s = append(s, fmt.Sprintf("%.1f", float64(k)/1024))
	}
	return strings.Join(s, " / ")
}

func cpus(v []float64, scale float64) string {
	var s []string
	for _, c := range v {
		s = append(s, fmt.Sprintf("%.2f", c*scale))
	}
	return strings.Join(s, " / ")
}

func rates(v []float64) string {
	var s []string
	for _, r := range v {
		s = append(s, fmt.Sprintf("%.0f", r))
	}
	return strings.Join(s, " / ")
}

func secs(v float64) string {
	if math.IsInf(v, 1) {
		return "> 20"
	}
	return fmt.Sprintf("%.3f", v)
}

func list(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, secs(x))
	}
	return strings.Join(s, ", ") + " s"
}

func dur(d interface{ Seconds() float64 }) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func reached(d interface{ Seconds() float64 }) string {
	if d.Seconds() == 0 {
		return "✗ not within 120 s"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, m, _ := strings.Cut(l, ": ")
			return strings.TrimSpace(m)
		}
	}
	return "?"
}

func memTotal() string {
	k, err := kibField("/proc/meminfo", "MemTotal")
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f GiB", float64(k)/1024/1024)
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func fileSize(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return "?"
	}
	return strconv.FormatFloat(float64(fi.Size())/1024/1024, 'f', 1, 64) + " MiB"
}
