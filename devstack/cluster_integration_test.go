//go:build integration

package devstack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"echotray/devstack"
	"echotray/realtime"
)

// fleetClient is one realtime.Client through the cluster's haproxy, counting
// events and (re)subscriptions.
type fleetClient struct {
	c *realtime.Client

	mu     sync.Mutex
	events map[string]int // event data -> times received
	subs   int            // SubscriptionSubscribed changes
}

func (f *fleetClient) got(data string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events[data]
}

func (f *fleetClient) subscribedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs
}

func startCluster(t *testing.T, nodes int) *devstack.Cluster {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "cluster.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	c, err := devstack.StartCluster(ctx, devstack.ClusterOptions{Nodes: nodes, Log: logf})
	if err != nil {
		logf.Close()
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				if len(b) > 24<<10 {
					b = b[len(b)-24<<10:]
				}
				t.Logf("cluster output:\n%s", b)
			}
		}
	})
	return c
}

func connectFleet(t *testing.T, c *devstack.Cluster, n int, channel string) []*fleetClient {
	t.Helper()
	var fleet []*fleetClient
	for range n {
		f := &fleetClient{events: map[string]int{}}
		rc, err := realtime.New(realtime.Config{
			Key: c.Key, Host: c.Host, Port: c.Port,
			OnEvent: func(e realtime.Event) {
				f.mu.Lock()
				f.events[string(bytes.Trim(e.Data, `"`))]++
				f.mu.Unlock()
			},
			OnSubscription: func(s realtime.SubscriptionChange) {
				if s.Status == realtime.SubscriptionSubscribed {
					f.mu.Lock()
					f.subs++
					f.mu.Unlock()
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		f.c = rc
		t.Cleanup(func() { rc.Close() })
		rc.Subscribe(channel)
		rc.Connect()
		fleet = append(fleet, f)
	}
	return fleet
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func allSubscribed(fleet []*fleetClient, atLeast int) func() bool {
	return func() bool {
		for _, f := range fleet {
			if f.subscribedCount() < atLeast {
				return false
			}
		}
		return true
	}
}

func allGot(fleet []*fleetClient, data string) func() bool {
	return func() bool {
		for _, f := range fleet {
			if f.got(data) < 1 {
				return false
			}
		}
		return true
	}
}

// TestCluster runs the cluster through fan-out across nodes, a node killed
// with SIGKILL and brought back, a rolling graceful restart, and a Stop that
// must leave no process.
func TestCluster(t *testing.T) {
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	const channel = "fleet-test"
	fleet := connectFleet(t, c, 8, channel)
	waitFor(t, 15*time.Second, "every client subscribed", allSubscribed(fleet, 1))
	all := append([]*fleetClient(nil), fleet...) // grows with late joiners
	parent := t

	t.Run("fan-out", func(t *testing.T) {
		bs, err := c.Backends(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if !b.Up() || b.Sessions == 0 {
				t.Fatalf("round robin did not spread the clients over every node: %+v", bs)
			}
		}
		// Published to one node, the event reaches clients on every node
		// (through Redis).
		for i := range c.Nodes() {
			data := "from-node-" + strconv.Itoa(i+1)
			if err := c.NodePublisher(i).Trigger(ctx, []string{channel}, "Ping", data, ""); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "every client got "+data, allGot(fleet, data))
		}
		if err := c.Publisher().Trigger(ctx, []string{channel}, "Ping", "via-front", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "every client got the event published through haproxy", allGot(fleet, "via-front"))
	})

	t.Run("node-killed", func(t *testing.T) {
		bs, err := c.Backends(ctx)
		if err != nil {
			t.Fatal(err)
		}
		affected := bs[0].Sessions
		before := make([]int, len(fleet))
		for i, f := range fleet {
			before[i] = f.subscribedCount()
		}
		killed := time.Now()
		if err := c.Node(0).Kill(); err != nil {
			t.Fatal(err)
		}
		// The clients that were on node 1 reconnect through haproxy to node
		// 2 and resubscribe.
		waitFor(t, 15*time.Second, "the affected clients resubscribed", func() bool {
			n := 0
			for i, f := range fleet {
				if f.subscribedCount() > before[i] {
					n++
				}
			}
			return n >= affected
		})
		t.Logf("%d clients on the killed node resubscribed through haproxy in %s", affected, time.Since(killed).Round(time.Millisecond))
		if err := c.WaitBackends(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := c.NodePublisher(1).Trigger(ctx, []string{channel}, "Ping", "after-kill", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "every client got the event after the kill", allGot(fleet, "after-kill"))

		// Back on the same port; haproxy takes it again after two checks.
		if err := c.Node(0).Restart(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitBackends(ctx, 2); err != nil {
			t.Fatal(err)
		}
		// A new client lands on the restarted node (round robin) and gets
		// what the other node publishes.
		// Registered on the parent test: they stay for the later subtests.
		late := connectFleet(parent, c, 2, channel)
		waitFor(t, 15*time.Second, "the late clients subscribed", allSubscribed(late, 1))
		all = append(all, late...)
		if err := c.NodePublisher(1).Trigger(ctx, []string{channel}, "Ping", "after-restart", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "every client got the event after the restart", allGot(all, "after-restart"))
		if err := c.NodePublisher(0).Trigger(ctx, []string{channel}, "Ping", "from-restarted", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "every client got the event of the restarted node", allGot(all, "from-restarted"))
	})

	t.Run("graceful-restart", func(t *testing.T) {
		// Restarting every node in turn sends each client 4200; they come
		// back through haproxy, to whichever node is up.
		before := make([]int, len(all))
		for i, f := range all {
			before[i] = f.subscribedCount()
		}
		for i := range c.Nodes() {
			if err := c.RestartNode(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		restarted := time.Now()
		waitFor(t, 15*time.Second, "every client resubscribed after the rolling restart", func() bool {
			for i, f := range all {
				if f.subscribedCount() <= before[i] {
					if time.Since(restarted) > 14*time.Second {
						t.Logf("client %d: state %s, subscriptions %v, subscribed %d times (before %d)",
							i, f.c.State(), f.c.Subscriptions(), f.subscribedCount(), before[i])
					}
					return false
				}
			}
			return true
		})
		if err := c.NodePublisher(1).Trigger(ctx, []string{channel}, "Ping", "after-rolling", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "every client got the event after the rolling restart", allGot(all, "after-rolling"))
	})

	t.Run("stop-leaves-nothing", func(t *testing.T) {
		pids := c.PIDs()
		if len(pids) != 2+c.Nodes() {
			t.Fatalf("PIDs = %v, want redis, haproxy and %d nodes", pids, c.Nodes())
		}
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				t.Errorf("process %d is still there after Stop", pid)
			}
			// Nor anything in its process group (Soketi's children).
			if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process group %d: kill 0 = %v, want ESRCH", pid, err)
			}
		}
		if got := c.PIDs(); len(got) != 0 {
			t.Errorf("PIDs after Stop = %v", got)
		}
	})
}

// TestClusterThreeNodes checks a three-node cluster: haproxy spreads the
// clients over all three, an event published to the third node reaches
// all of them, and Stop leaves no process.
func TestClusterThreeNodes(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	const channel = "fleet-three"
	fleet := connectFleet(t, c, 9, channel)
	waitFor(t, 15*time.Second, "every client subscribed", allSubscribed(fleet, 1))
	bs, err := c.Backends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if !b.Up() || b.Sessions == 0 {
			t.Fatalf("not every node got clients: %+v", bs)
		}
	}
	if err := c.NodePublisher(2).Trigger(ctx, []string{channel}, "Ping", "from-node-3", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "every client got the event of node 3", allGot(fleet, "from-node-3"))
	pids := c.PIDs()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("process %d is still there after Stop", pid)
		}
	}
}
