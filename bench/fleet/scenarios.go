package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"echotray/devstack"
	"echotray/devstack/laravel"
	"echotray/devstack/publish"
)

// publication records which seqs went to which channel.
type publication map[string][]int64

// publishRound publishes one event to every channel of the fleet through
// pub: the tenants' channels, private-system.admin and every user's
// channel, 100 channels a request (Soketi's limit). Every member gets two
// events.
func (b *bench) publishRound(ctx context.Context, pub *publish.Publisher, into publication) error {
	var tenants, users []string
	seenT := map[string]bool{}
	for _, m := range b.members {
		for _, ch := range m.channels {
			switch {
			case ch == "private-system.admin":
			case len(ch) > 7 && ch[:7] == "tenant.":
				if !seenT[ch] {
					seenT[ch] = true
					tenants = append(tenants, ch)
				}
			default:
				users = append(users, ch)
			}
		}
	}
	groups := [][]string{{"private-system.admin"}}
	for chunk := range slices.Chunk(tenants, 100) {
		groups = append(groups, chunk)
	}
	for chunk := range slices.Chunk(users, 100) {
		groups = append(groups, chunk)
	}
	b.roundRequests = len(groups)
	for _, g := range groups {
		b.seq++
		p := payload{Seq: b.seq, Sent: time.Now().UnixNano()}
		if err := pub.Trigger(ctx, g, "App\\Events\\FleetPing", p, ""); err != nil {
			return fmt.Errorf("publish to %d channels: %w", len(g), err)
		}
		for _, ch := range g {
			into[ch] = append(into[ch], p.Seq)
		}
	}
	return nil
}

// delivery checks that every member got every event of its channels in
// pub exactly once, waiting up to wait for stragglers.
func (b *bench) delivery(pub publication, wait time.Duration) (expected, lost, dup int) {
	deadline := time.Now().Add(wait)
	for {
		expected, lost, dup = 0, 0, 0
		for _, m := range b.members {
			m.mu.Lock()
			for _, ch := range m.channels {
				for _, seq := range pub[ch] {
					expected++
					switch n := m.seen[seq]; {
					case n == 0:
						lost++
					case n > 1:
						dup++
					}
				}
			}
			m.mu.Unlock()
		}
		if lost == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *bench) nodePublisher(i int) *publish.Publisher {
	p := b.cluster.NodePublisher(i)
	p.Client = &http.Client{Timeout: 10 * time.Second}
	return p
}

func (b *bench) steady() error {
	b.printf("## Steady state: publish to node 1, deliver on every node\n\n")
	for _, m := range b.members {
		m.mu.Lock()
		m.recordLat, m.latencies = true, nil
		m.mu.Unlock()
	}
	t0 := time.Now()
	pub := publication{}
	p := b.nodePublisher(0)
	for range b.o.rounds {
		if err := b.publishRound(b.ctx, p, pub); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
	expected, lost, dup := b.delivery(pub, 10*time.Second)
	end := time.Now()
	var lats []time.Duration
	for _, m := range b.members {
		m.mu.Lock()
		lats = append(lats, m.latencies...)
		m.recordLat, m.latencies = false, nil
		m.mu.Unlock()
	}
	ls := durations(lats)
	dist, _ := b.cluster.Backends(b.ctx)
	b.printf("- %d rounds published to node 1 only (%d requests of up to 100 channels each); clients spread by haproxy: %s\n",
		b.o.rounds, b.o.rounds*b.roundRequests, backendsString(dist))
	b.printf("- deliveries expected %d, lost **%d**, duplicated %d\n", expected, lost, dup)
	b.printf("- delivery latency (publish request start → client's read), over %d deliveries: p50 **%s**, p99 **%s**, max %s\n\n",
		len(ls), percentile(ls, 50).Round(100*time.Microsecond), percentile(ls, 99).Round(100*time.Microsecond), percentile(ls, 100).Round(100*time.Microsecond))
	b.results = append(b.results, result{"steady", "zero loss, events published to one node reach clients on every node", lost == 0 && dup == 0,
		fmt.Sprintf("%d of %d delivered, p50 %s, p99 %s", expected-lost, expected, percentile(ls, 50).Round(100*time.Microsecond), percentile(ls, 99).Round(100*time.Microsecond))})
	return b.plot("steady", "Steady state: 20 events per client published to node 1", t0.Add(-time.Second), end.Add(time.Second), t0)
}

// storm summarises a disruption that started at t0.
type storm struct {
	affected   []*member
	allBackAt  time.Time // when the last affected member was fully subscribed again
	ok         bool
	samples    []sample
	sum        sample
	overLimit  int // 100 ms buckets with more auth requests than the limit allows
	acceptOver int // buckets with more accepted (200) answers than the limit allows
	bad        int // members left failed or forbidden
}

// measureStorm waits (up to timeout) until every member is fully
// subscribed and collects the figures of the window since t0.
func (b *bench) measureStorm(t0 time.Time, timeout time.Duration, limit int) storm {
	ok := b.waitFull(timeout)
	time.Sleep(2 * bucket) // let the recorder close the last bucket
	var s storm
	s.ok = ok
	s.allBackAt = t0
	for _, m := range b.members {
		sn := m.snap()
		if sn.droppedAt.After(t0) {
			s.affected = append(s.affected, m)
			if sn.fullAt.After(s.allBackAt) {
				s.allBackAt = sn.fullAt
			}
		}
		if sn.everBad {
			s.bad++
		}
	}
	end := s.allBackAt
	if !ok {
		end = time.Now()
	}
	s.samples = b.rec.window(t0, end)
	s.sum = sumWindow(s.samples)
	per := float64(limit) * bucket.Seconds()
	for _, x := range s.samples {
		if float64(x.AuthReqs) > per {
			s.overLimit++
		}
		if float64(x.AuthOK) > per {
			s.acceptOver++
		}
	}
	return s
}

func (b *bench) kill() error {
	b.printf("## One node killed (SIGKILL)\n\n")
	b.printSplit()
	t0 := time.Now()
	if err := b.cluster.Node(0).Kill(); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // let the drops arrive
	s := b.measureStorm(t0, 2*time.Minute, b.o.authRate)
	took := s.allBackAt.Sub(t0)
	need := totalPrivate(s.affected)
	b.printf("- affected clients (on the killed node): %d, needing %d authorisations (at %d/s at least %.1f s)\n",
		len(s.affected), need, b.o.authRate, float64(need)/float64(b.o.authRate))
	b.printf("- every affected client resubscribed through haproxy: %v, **%s** after the kill\n", s.ok, took.Round(10*time.Millisecond))
	b.printf("- auth requests %d, answered 429 **%d**, 200 %d; 100 ms buckets with more requests than the limit allows (%d): %d; with more accepted: %d\n",
		s.sum.AuthReqs, s.sum.Auth429, s.sum.AuthOK, b.o.authRate/10, s.overLimit, s.acceptOver)
	b.printf("- clients left failed or forbidden: %d\n", s.bad)
	if !s.ok {
		b.printf("- not resubscribed: %s\n", b.notFull(5))
	}
	// Events after recovery, published to the surviving node.
	pub := publication{}
	if err := b.publishRound(b.ctx, b.nodePublisher(1), pub); err != nil {
		return err
	}
	expected, lost, dup := b.delivery(pub, 10*time.Second)
	b.printf("- events published after recovery: %d expected, lost **%d**, duplicated %d\n", expected, lost, dup)
	end := time.Now()
	// Bring the node back for the next scenario.
	if err := b.cluster.Node(0).Restart(b.ctx); err != nil {
		return fmt.Errorf("restart the killed node: %w", err)
	}
	if err := b.cluster.WaitBackends(b.ctx, b.cluster.Nodes()); err != nil {
		return err
	}
	b.printf("- the node restarted and haproxy counted it up again %s after the kill\n\n", time.Since(t0).Round(100*time.Millisecond))
	b.results = append(b.results,
		result{"kill", "every affected client resubscribed within 15 s", s.ok && took <= 15*time.Second,
			fmt.Sprintf("%d affected, all back after %s", len(s.affected), took.Round(100*time.Millisecond))},
		result{"kill", "auth rate above the limit for at most one 100 ms bucket", s.overLimit <= 1,
			fmt.Sprintf("%d buckets over %d requests (%d requests, %d answered 429); accepted never above the limit in %d of %d buckets", s.overLimit, b.o.authRate/10, s.sum.AuthReqs, s.sum.Auth429, len(s.samples)-s.acceptOver, len(s.samples))},
		result{"kill", "no client left failed or forbidden", s.bad == 0, fmt.Sprintf("%d", s.bad)},
		result{"kill", "events published after recovery all delivered", lost == 0 && dup == 0, fmt.Sprintf("%d of %d", expected-lost, expected)},
	)
	return b.plot("kill", "Node 1 killed (SIGKILL); clients resubscribe through haproxy", t0.Add(-time.Second), end, t0)
}

// restartAll restarts every node in turn with the graceful shutdown,
// waiting for haproxy to count the node up before the next one. A node
// that was killed for stopping too slowly is reported and counted.
func (b *bench) restartAll() error {
	for i := range b.cluster.Nodes() {
		err := b.cluster.RestartNode(b.ctx, i)
		var slow *devstack.SlowStopError
		if errors.As(err, &slow) {
			b.slowStops++
			b.printf("- node %d did not finish its graceful shutdown within the runner's timeout and was killed (its clients already had 4200): %v\n", i+1, slow.Err)
			continue
		}
		if err != nil {
			return fmt.Errorf("restart node %d: %w", i+1, err)
		}
	}
	return nil
}

func (b *bench) rolling() error {
	b.printf("## Rolling restart of every node (graceful: 4200 to every client)\n\n")
	b.printSplit()
	t0 := time.Now()
	if err := b.restartAll(); err != nil {
		return err
	}
	restarted := time.Since(t0)
	s := b.measureStorm(t0, 2*time.Minute, b.o.authRate)
	took := s.allBackAt.Sub(t0)
	total, peak, peakAt := 0, 0, time.Duration(0)
	for _, x := range s.samples {
		total += x.Reconnects
		if x.Reconnects > peak {
			peak, peakAt = x.Reconnects, x.T
		}
	}
	share := 0.0
	if total > 0 {
		share = float64(peak) / float64(total) * 100
	}
	b.printf("- %d nodes restarted one after the other in %s; clients that lost their connection: %d\n", b.cluster.Nodes(), restarted.Round(100*time.Millisecond), len(s.affected))
	b.printf("- reconnections %d; busiest 100 ms holds %d = **%.1f %%** (at +%s)\n", total, peak, share, (peakAt - t0.Sub(b.rec.start)).Round(100*time.Millisecond))
	b.printf("- every client resubscribed: %v, %s after the first restart began\n", s.ok, took.Round(10*time.Millisecond))
	b.printf("- auth requests %d, answered 429 %d; clients left failed or forbidden: %d\n\n", s.sum.AuthReqs, s.sum.Auth429, s.bad)
	b.results = append(b.results, result{"rolling", "no 100 ms window holds more than 25 % of the reconnections", share <= 25,
		fmt.Sprintf("busiest window %.1f %% (%d of %d)", share, peak, total)})
	return b.plot("rolling", "Rolling restart, graceful (4200)", t0.Add(-time.Second), s.allBackAt.Add(time.Second), t0)
}

func (b *bench) outage(status int) error {
	b.printf("## Auth endpoint answers %d for %s (Retry-After %s) while every node restarts\n\n", status, b.o.outageFor, b.o.outageRetry)
	b.printSplit()
	before := make([]int64, len(b.members))
	for i, m := range b.members {
		before[i] = m.authReqs.Load()
	}
	t0 := time.Now()
	b.server.FailFor("/broadcasting/auth", status, b.o.outageFor, b.o.outageRetry)
	if err := b.restartAll(); err != nil {
		return err
	}
	time.Sleep(time.Until(t0.Add(b.o.outageFor)))
	recovered := time.Now()
	during := make([]int, len(b.members))
	maxDuring, over := 0, 0
	for i, m := range b.members {
		during[i] = int(m.authReqs.Load() - before[i])
		maxDuring = max(maxDuring, during[i])
		if during[i] > 10 {
			over++
		}
	}
	if b.o.recoveryRate != b.o.authRate {
		b.server.SetThrottle(laravel.Throttle{PerSecond: b.o.recoveryRate})
	}
	ok := b.waitFull(2 * time.Minute)
	time.Sleep(2 * bucket) // let the recorder close the last bucket
	if b.o.recoveryRate != b.o.authRate {
		b.server.SetThrottle(laravel.Throttle{PerSecond: b.o.authRate})
	}
	last, bad := recovered, 0
	for _, m := range b.members {
		sn := m.snap()
		if sn.fullAt.After(last) {
			last = sn.fullAt
		}
		if sn.everBad {
			bad++
		}
	}
	took := last.Sub(recovered)
	after := sumWindow(b.rec.window(recovered, last))
	sd := durations(intsToDur(during))
	outSum := sumWindow(b.rec.window(t0, recovered))
	need := totalPrivate(b.members)
	b.printf("- during the outage: %d auth requests (%d answered %d); per client: median %d, p99 %d, max **%d**; clients over 10: %d\n",
		outSum.AuthReqs, outSum.Auth429+outSum.Auth503, status, int(percentile(sd, 50)), int(percentile(sd, 99)), maxDuring, over)
	b.printf("- after recovery (throttle %d/s; %d authorisations needed, at least %.1f s): every client resubscribed: %v, **%s** after the endpoint recovered\n",
		b.o.recoveryRate, need, float64(need)/float64(b.o.recoveryRate), ok, took.Round(10*time.Millisecond))
	b.printf("- after recovery: auth requests %d, answered 429 %d; clients left failed or forbidden: %d\n", after.AuthReqs, after.Auth429, bad)
	if !ok {
		b.printf("- not resubscribed: %s\n", b.notFull(5))
	}
	b.printf("\n")
	name := "outage-" + strconv.Itoa(status)
	b.results = append(b.results,
		result{name, "every client resubscribed within 10 s after the endpoint recovers", ok && took <= 10*time.Second,
			fmt.Sprintf("%s (throttle %d/s, %d authorisations: ≥ %.1f s)", took.Round(100*time.Millisecond), b.o.recoveryRate, need, float64(need)/float64(b.o.recoveryRate))},
		result{name, "no client sent more than 10 auth requests during the outage", maxDuring <= 10, fmt.Sprintf("max %d, median %d", maxDuring, int(percentile(sd, 50)))},
	)
	return b.plot(name, fmt.Sprintf("Auth endpoint answers %d for %s while the nodes restart", status, b.o.outageFor), t0.Add(-time.Second), last.Add(time.Second), t0)
}

// printSplit reports how haproxy has spread the clients before a
// disruption (Soketi does not rebalance: after a node came back, it holds
// only the clients that connected since).
func (b *bench) printSplit() {
	dist, err := b.cluster.Backends(b.ctx)
	if err != nil {
		b.printf("- haproxy's split before: unknown (%v)\n", err)
		return
	}
	b.printf("- clients per node before: %s\n", backendsString(dist))
}

func intsToDur(xs []int) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = time.Duration(x)
	}
	return out
}

// result is one target of the issue, met or not.
type result struct {
	scenario, target string
	met              bool
	measured         string
}
