package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"echotray/realtime"
)

// line is one JSON line a listener prints. The Node listener prints the same
// "ready", "event" and "done" shapes.
type line struct {
	Type    string  `json:"type"`
	Channel string  `json:"channel,omitempty"`
	Event   string  `json:"event,omitempty"`
	Seq     *int    `json:"seq,omitempty"`
	Recv    float64 `json:"recv,omitempty"` // wall-clock ms
	Current string  `json:"current,omitempty"`

	// Go listener only.
	Mem     *memSample `json:"mem,omitempty"`
	Summary *summary   `json:"summary,omitempty"`
	Error   string     `json:"error,omitempty"`
}

// memSample is the Go listener's memory, sampled every second.
type memSample struct {
	T          float64 `json:"t"`          // seconds since the listener started
	HeapAlloc  uint64  `json:"heap_alloc"` // runtime.MemStats.HeapAlloc
	HeapLive   uint64  `json:"heap_live"`  // /gc/heap/live:bytes: live heap after the last GC
	Sys        uint64  `json:"sys"`        // runtime.MemStats.Sys
	NumGC      uint32  `json:"num_gc"`     // completed GC cycles
	Goroutines int     `json:"goroutines"` // runtime.NumGoroutine
	Received   int     `json:"received"`   // events so far
}

// summary is what the Go listener reports in quiet (sustained) mode.
type summary struct {
	Received  int   `json:"received"`
	Unique    int   `json:"unique"`
	Dups      int   `json:"dups"`
	Reordered int   `json:"reordered"` // events with a lower seq than one before them
	MaxSeq    int   `json:"max_seq"`
	Lat       stats `json:"latency_ms"`
}

// eventData is the payload the benchmark publishes.
type eventData struct {
	Seq  int     `json:"seq"`
	Sent float64 `json:"sent"` // wall-clock ms at publish
}

func wallMS(t time.Time) float64 { return float64(t.UnixNano()) / 1e6 }

// runListener is the Go side of the comparison: EchoTray's realtime client
// in its own process, like pusher-js in node. Commands on stdin:
// "subscribe CHANNEL"; EOF ends it.
func runListener(host string, port int, key string, channels []string, quiet, mem bool, expect int) error {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	var outMu sync.Mutex
	emit := func(l line, flush bool) {
		b, _ := json.Marshal(l)
		outMu.Lock()
		out.Write(b)
		out.WriteByte('\n')
		if flush {
			out.Flush()
		}
		outMu.Unlock()
	}
	start := time.Now()

	var (
		mu       sync.Mutex
		sum      summary
		seen     = newSeqSet(expect)
		hist     = newHistogram()
		lastSeq  = -1
		want     = map[string]bool{}
		readyFor = map[string]bool{}
	)
	for _, ch := range channels {
		want[ch] = true
	}
	cfg := realtime.Config{
		Key:    key,
		Host:   host,
		Port:   port,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnEvent: func(e realtime.Event) {
			recv := time.Now() // the moment the event reaches the consumer
			var d eventData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				emit(line{Type: "error", Error: fmt.Sprintf("bad data %s: %v", e.Data, err)}, true)
				return
			}
			if !quiet {
				seq := d.Seq
				emit(line{Type: "event", Channel: e.Channel, Event: e.Name, Seq: &seq, Recv: wallMS(recv)}, true)
				return
			}
			mu.Lock()
			sum.Received++
			if seen.add(d.Seq) {
				sum.Unique++
			} else {
				sum.Dups++
			}
			if d.Seq < lastSeq {
				sum.Reordered++
			}
			lastSeq = max(lastSeq, d.Seq)
			sum.MaxSeq = lastSeq
			hist.add(wallMS(recv) - d.Sent)
			mu.Unlock()
		},
		OnSubscription: func(sc realtime.SubscriptionChange) {
			if sc.Status != realtime.SubscriptionSubscribed {
				if sc.Err != nil {
					emit(line{Type: "error", Error: sc.Err.Error()}, true)
				}
				return
			}
			mu.Lock()
			readyFor[sc.Channel] = true
			all := len(readyFor) >= len(want)
			for ch := range want {
				all = all && readyFor[ch]
			}
			mu.Unlock()
			if all {
				emit(line{Type: "ready", Channel: sc.Channel}, true)
			}
		},
		OnStateChange: func(sc realtime.StateChange) {
			emit(line{Type: "state", Current: sc.Current.String()}, true)
		},
	}
	c, err := realtime.New(cfg)
	if err != nil {
		return err
	}
	for _, ch := range channels {
		c.Subscribe(ch)
	}
	c.Connect()

	stopMem := make(chan struct{})
	memDone := make(chan struct{})
	go func() {
		defer close(memDone)
		if !mem {
			return
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			metrics.Read(sample)
			mu.Lock()
			n := sum.Received
			mu.Unlock()
			emit(line{Type: "mem", Mem: &memSample{
				T: time.Since(start).Seconds(), HeapAlloc: ms.HeapAlloc, HeapLive: sample[0].Value.Uint64(),
				Sys: ms.Sys, NumGC: ms.NumGC, Goroutines: runtime.NumGoroutine(), Received: n,
			}}, true)
			select {
			case <-tick.C:
			case <-stopMem:
				return
			}
		}
	}()

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		if cmd == "subscribe" && arg != "" {
			mu.Lock()
			want[arg] = true
			mu.Unlock()
			c.Subscribe(arg)
		}
	}
	if err := in.Err(); err != nil && err != io.EOF {
		return err
	}
	close(stopMem)
	<-memDone
	c.Close()
	if quiet {
		mu.Lock()
		sum.Lat = hist.stats()
		s := sum
		mu.Unlock()
		emit(line{Type: "summary", Summary: &s}, false)
	}
	emit(line{Type: "done"}, true)
	return nil
}
