package devstack

import (
	"bufio"
	"context"
	"encoding/csv"
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

// Health check timing of the load balancer in front of a Cluster: a node is
// probed every clusterCheckInter and taken out after clusterCheckFall failed
// probes (so about a second after it dies), put back after clusterCheckRise
// good ones.
const (
	clusterCheckInter = 500 * time.Millisecond
	clusterCheckFall  = 2
	clusterCheckRise  = 2
	// clusterMaxConn is haproxy's connection limit (each client holds one
	// front and one back connection), lowered to fit the open-file limit.
	clusterMaxConn = 20000
)

// ClusterOptions configures StartCluster. The zero value starts two Soketi
// nodes with generated credentials.
type ClusterOptions struct {
	// Nodes is the number of Soketi nodes, 2 or 3 (0 means 2).
	Nodes int
	// AppID, Key and Secret are the app credentials, the same on every
	// node; empty ones are generated.
	AppID, Key, Secret string
	// Dir holds the processes' files (haproxy.cfg, Redis's directory);
	// "" means a new temporary directory, removed by Stop.
	Dir string
	// Log receives the output of every process, each line prefixed with its
	// name ("redis", "haproxy", "soketi-1", ...); nil discards it.
	Log io.Writer
	// ShutdownGrace is each node's pause between sending 4200 and closing
	// its listener on a graceful stop; 0 means DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// Env holds extra environment entries for every Soketi node.
	Env []string
}

// Cluster is a Soketi cluster as the platform deploys it: Soketi nodes
// sharing one Redis (SOKETI_ADAPTER_DRIVER=redis, so an event published to
// any node reaches clients on every node) behind haproxy on one WebSocket
// port. Every process runs on loopback on a free port and is stopped by PID.
// Methods are safe for concurrent use.
type Cluster struct {
	// Host is the loopback address everything listens on, "127.0.0.1".
	Host string
	// Port is haproxy's front port: WebSockets (/app/{key}) and the HTTP API.
	Port int
	// RedisPort is the port of the cluster's redis-server.
	RedisPort int
	// StatsPort serves haproxy's statistics (/stats, ";csv" for CSV).
	StatsPort int
	// AppID, Key and Secret are the credentials of the app on every node.
	AppID, Key, Secret string

	nodes   []*Soketi
	redis   *daemon
	haproxy *daemon
	dir     string
	ownDir  bool

	mu      sync.Mutex
	stopped bool
}

// daemon is one redis-server or haproxy process.
type daemon struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	out     *Tail
	release func() // port claims
}

// StartCluster starts redis-server, opts.Nodes Soketi nodes with the Redis
// adapter and haproxy in front of them, and returns once an HTTP request
// through haproxy is answered by a node. ctx bounds the start only. It needs
// redis-server and haproxy in PATH (Debian packages redis-server and
// haproxy; scripts/deps.sh installs them). On error nothing is left running.
//
// It raises this process's soft open-file limit to the hard limit and keeps
// it for child processes, so that haproxy and the nodes can hold thousands
// of connections.
func StartCluster(ctx context.Context, opts ClusterOptions) (c *Cluster, err error) {
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	if opts.Nodes < 1 || opts.Nodes > 9 {
		return nil, fmt.Errorf("devstack: cluster of %d nodes: want 1 to 9", opts.Nodes)
	}
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("devstack: redis-server not found (install the Debian package redis-server): %w", err)
	}
	haproxyBin, err := exec.LookPath("haproxy")
	if err != nil {
		// Debian installs it in /usr/sbin, which is not in every PATH.
		if _, serr := os.Stat("/usr/sbin/haproxy"); serr != nil {
			return nil, fmt.Errorf("devstack: haproxy not found (install the Debian package haproxy): %w", err)
		}
		haproxyBin = "/usr/sbin/haproxy"
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartTimeout*time.Duration(opts.Nodes))
		defer cancel()
	}
	raiseFileLimit()

	c = &Cluster{Host: "127.0.0.1", AppID: opts.AppID, Key: opts.Key, Secret: opts.Secret, dir: opts.Dir}
	if c.AppID == "" {
		c.AppID = strconv.Itoa(100000 + int(randUint32()%900000))
	}
	if c.Key == "" {
		c.Key = "key-" + RandHex(10)
	}
	if c.Secret == "" {
		c.Secret = RandHex(20)
	}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "echotray-cluster-"); err != nil {
			return nil, fmt.Errorf("devstack: cluster directory: %w", err)
		}
		c.ownDir = true
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
			c = nil
		}
	}()

	// Redis.
	redisDir := filepath.Join(c.dir, "redis")
	if err = os.MkdirAll(redisDir, 0o700); err != nil {
		return c, fmt.Errorf("devstack: redis directory: %w", err)
	}
	port, release, err := claimFreePort()
	if err != nil {
		return c, err
	}
	c.RedisPort = port
	c.redis, err = startDaemon("redis", opts.Log, release, redisBin,
		"--port", strconv.Itoa(port), "--bind", c.Host, "--save", "", "--appendonly", "no",
		"--dir", redisDir, "--daemonize", "no", "--protected-mode", "no", "--logfile", "")
	if err != nil {
		return c, err
	}
	if err = waitRedis(ctx, c.redis, net.JoinHostPort(c.Host, strconv.Itoa(port))); err != nil {
		return c, err
	}

	// Soketi nodes, one at a time (each start is CPU-heavy).
	for i := range opts.Nodes {
		env := append([]string{
			"SOKETI_ADAPTER_DRIVER=redis",
			"SOKETI_ADAPTER_REDIS_PREFIX=echotray-" + c.AppID,
			"SOKETI_DB_REDIS_HOST=" + c.Host,
			"SOKETI_DB_REDIS_PORT=" + strconv.Itoa(c.RedisPort),
		}, opts.Env...)
		var w io.Writer
		if opts.Log != nil {
			w = &prefixWriter{w: opts.Log, prefix: fmt.Sprintf("soketi-%d | ", i+1)}
		}
		s, serr := StartSoketi(ctx, SoketiOptions{
			AppID: c.AppID, Key: c.Key, Secret: c.Secret, Log: w,
			ShutdownGrace: opts.ShutdownGrace, Env: env,
		})
		if serr != nil {
			return c, fmt.Errorf("devstack: cluster node %d: %w", i+1, serr)
		}
		c.nodes = append(c.nodes, s)
	}

	// haproxy.
	front, releaseFront, err := claimFreePort()
	if err != nil {
		return c, err
	}
	stats, releaseStats, err := claimFreePort()
	if err != nil {
		releaseFront()
		return c, err
	}
	c.Port, c.StatsPort = front, stats
	cfgPath := filepath.Join(c.dir, "haproxy.cfg")
	if err = os.WriteFile(cfgPath, []byte(c.haproxyConfig()), 0o600); err != nil {
		releaseFront()
		releaseStats()
		return c, fmt.Errorf("devstack: write haproxy.cfg: %w", err)
	}
	c.haproxy, err = startDaemon("haproxy", opts.Log, func() { releaseFront(); releaseStats() },
		haproxyBin, "-db", "-f", cfgPath)
	if err != nil {
		return c, err
	}
	if err = c.waitFront(ctx); err != nil {
		return c, err
	}
	return c, nil
}

// haproxyConfig is the load balancer's configuration: HTTP mode (WebSocket
// upgrades pass through), round robin, tunnel timeout of an hour for idle
// sockets, and a health check of Soketi's GET /ready (HTTP/1.1: uWebSockets
// does not answer HTTP/1.0), which answers 200
// while the node accepts connections and an error once it is shutting down,
// so a stopping or dead node leaves the rotation within about a second (a
// killed node refuses the probe's connection at once). A probe may take up
// to 3 s, so a node that is merely busy (a reconnection storm on a loaded
// machine) is not taken out; and a node marked down keeps its open
// sessions: a dead node's sockets close by themselves, a live one's should
// not be cut because a probe was slow. A connection that cannot reach its
// node is sent to another one.
func (c *Cluster) haproxyConfig() string {
	maxConn := clusterMaxConn
	if lim := fileLimit(); lim > 0 {
		// haproxy needs two descriptors a connection plus some of its own.
		maxConn = min(maxConn, (lim-200)/2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `global
	maxconn %d
	log stderr format raw local0 notice
	stats socket %s mode 600 level admin

defaults
	mode http
	log global
	option dontlognull
	timeout connect 2s
	timeout check 3s
	timeout client 1h
	timeout server 1h
	timeout tunnel 1h
	timeout http-request 10s
	timeout client-fin 5s
	timeout server-fin 5s
	retries 3
	option redispatch 1
	maxconn %d

frontend ws
	bind %s:%d
	default_backend soketi

backend soketi
	balance roundrobin
	option httpchk
	http-check send meth GET uri /ready ver HTTP/1.1 hdr Host localhost
	http-check expect status 200
	default-server inter %dms fastinter %dms downinter %dms fall %d rise %d
`, maxConn, c.adminSocket(), maxConn, c.Host, c.Port,
		clusterCheckInter.Milliseconds(), clusterCheckInter.Milliseconds(), clusterCheckInter.Milliseconds(),
		clusterCheckFall, clusterCheckRise)
	for i, n := range c.nodes {
		fmt.Fprintf(&b, "\tserver node%d %s:%d check\n", i+1, n.Host, n.Port)
	}
	fmt.Fprintf(&b, `
frontend stats
	bind %s:%d
	stats enable
	stats uri /stats
	stats refresh 1s
`, c.Host, c.StatsPort)
	return b.String()
}

// startDaemon starts a foreground server in its own process group.
func startDaemon(name string, log io.Writer, release func(), bin string, args ...string) (*daemon, error) {
	out := NewTail(8 << 10)
	var w io.Writer = out
	if log != nil {
		w = io.MultiWriter(out, &prefixWriter{w: log, prefix: name + " | "})
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		release()
		return nil, fmt.Errorf("devstack: start %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, out: out, done: make(chan struct{}), release: release}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// stop ends the daemon: SIGTERM to its group, SIGKILL after 5 s.
func (d *daemon) stop() error {
	if d == nil {
		return nil
	}
	defer d.release()
	select {
	case <-d.done:
		killGroup(d.cmd.Process)
		return nil
	default:
	}
	terminateGroup(d.cmd.Process)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-d.done:
		killGroup(d.cmd.Process) // stragglers
		return nil
	case <-t.C:
		killGroup(d.cmd.Process)
		<-d.done
		return fmt.Errorf("devstack: %s (pid %d) ignored SIGTERM for 5s; killed", d.name, d.cmd.Process.Pid)
	}
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// waitRedis waits until redis answers PING.
func waitRedis(ctx context.Context, d *daemon, addr string) error {
	var last error
	for {
		if last = pingRedis(addr); last == nil {
			return nil
		}
		if d.exited() {
			return fmt.Errorf("devstack: redis-server exited before becoming ready: %v; output:\n%s", d.err, d.out.String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devstack: redis-server not ready: %w (last probe: %v); output:\n%s", ctx.Err(), last, d.out.String())
		case <-time.After(readyPoll):
		}
	}
}

func pingRedis(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// waitFront waits until a signed API request through haproxy succeeds and
// haproxy counts every node up.
func (c *Cluster) waitFront(ctx context.Context) error {
	pub := c.Publisher()
	pub.Client = &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		if _, last = pub.Channels(ctx, ""); last == nil {
			up, err := c.BackendsUp(ctx)
			if err == nil && up == len(c.nodes) {
				return nil
			}
			last = fmt.Errorf("%d of %d nodes up (%v)", up, len(c.nodes), err)
		}
		if c.haproxy.exited() {
			return fmt.Errorf("devstack: haproxy exited before becoming ready: %v; output:\n%s", c.haproxy.err, c.haproxy.out.String())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devstack: haproxy not ready: %w (last probe: %v); output:\n%s", ctx.Err(), last, c.haproxy.out.String())
		case <-time.After(readyPoll):
		}
	}
}

// HTTPURL returns the base URL of the front (haproxy), "http://127.0.0.1:port".
func (c *Cluster) HTTPURL() string {
	return "http://" + net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// WSURL returns the WebSocket URL a Pusher client connects to through haproxy.
func (c *Cluster) WSURL() string {
	return "ws://" + net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) + "/app/" + c.Key +
		"?protocol=7&client=devstack&version=1.0&flash=false"
}

// Publisher returns a publisher that goes through haproxy to whichever node
// it picks.
func (c *Cluster) Publisher() *publish.Publisher {
	return &publish.Publisher{BaseURL: c.HTTPURL(), AppID: c.AppID, Key: c.Key, Secret: c.Secret}
}

// NodePublisher returns a publisher that talks to node i (0-based) directly.
func (c *Cluster) NodePublisher(i int) *publish.Publisher {
	return c.nodes[i].Publisher()
}

// Nodes returns the number of Soketi nodes.
func (c *Cluster) Nodes() int { return len(c.nodes) }

// Node returns Soketi node i (0-based): Kill it (SIGKILL, an abrupt drop),
// Stop it (graceful: 4200 to every client) or Restart it (same port and
// credentials; haproxy puts it back after two good health checks).
func (c *Cluster) Node(i int) *Soketi { return c.nodes[i] }

// adminSocket is the path of haproxy's runtime API socket.
func (c *Cluster) adminSocket() string { return filepath.Join(c.dir, "haproxy.sock") }

// haproxyCommand sends one command to haproxy's runtime API and returns the
// answer.
func (c *Cluster) haproxyCommand(ctx context.Context, cmd string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.adminSocket())
	if err != nil {
		return "", fmt.Errorf("devstack: haproxy runtime API: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("devstack: haproxy runtime API: %w", err)
	}
	b, err := io.ReadAll(conn) // haproxy closes after one command
	if err != nil {
		return "", fmt.Errorf("devstack: haproxy runtime API: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SetMaintenance takes node i (0-based) out of haproxy's rotation (on) or
// puts it back (off): in maintenance haproxy sends it no new connection and
// keeps the ones it has, as a deploy drains a node before restarting it.
// Back in, haproxy sends it connections once its health check passes.
func (c *Cluster) SetMaintenance(ctx context.Context, i int, on bool) error {
	state := "ready"
	if on {
		state = "maint"
	}
	out, err := c.haproxyCommand(ctx, fmt.Sprintf("set server soketi/node%d state %s", i+1, state))
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("devstack: haproxy refused to set node %d %s: %s", i+1, state, out)
	}
	return nil
}

// RestartNode restarts node i (0-based) as a deploy does: it puts the node
// in maintenance in haproxy (no new connections), restarts it gracefully
// as Node(i).Restart does (4200 to its clients, who reconnect through
// haproxy to the other nodes), puts it back and waits until haproxy counts
// every node up again. Without the maintenance step, clients reconnecting
// in the first seconds would be sent to the stopping node, which is too
// busy closing its sockets to answer the health check. Soketi with the
// Redis adapter evicts its sockets one by one on shutdown, which can take
// longer than the runner's stop timeout with thousands of clients on a
// loaded machine; the runner then kills it (the clients already had their
// 4200) and RestartNode starts it again all the same. The error about the
// slow stop is returned with a nil error from the start as *SlowStopError
// (errors.As), so callers can report it.
func (c *Cluster) RestartNode(ctx context.Context, i int) error {
	n := c.nodes[i]
	if err := c.SetMaintenance(ctx, i, true); err != nil {
		return err
	}
	var slow error
	if err := n.Restart(ctx); err != nil {
		if n.Running() {
			return err
		}
		// Stopped (killed after the timeout) but not started again.
		slow = err
		if err := n.Restart(ctx); err != nil {
			return fmt.Errorf("devstack: start node %d again: %w", i+1, err)
		}
	}
	if err := c.SetMaintenance(ctx, i, false); err != nil {
		return err
	}
	if err := c.WaitBackends(ctx, len(c.nodes)); err != nil {
		return err
	}
	if slow != nil {
		return &SlowStopError{Node: i, Err: slow}
	}
	return nil
}

// SlowStopError reports a node that did not finish its graceful shutdown in
// time and was killed before RestartNode started it again.
type SlowStopError struct {
	Node int   // 0-based
	Err  error // the runner's error
}

func (e *SlowStopError) Error() string {
	return fmt.Sprintf("devstack: node %d was slow to stop (restarted anyway): %v", e.Node+1, e.Err)
}

func (e *SlowStopError) Unwrap() error { return e.Err }

// PIDs returns the process ids of every process of the cluster that is
// running: redis-server, haproxy and the Soketi nodes.
func (c *Cluster) PIDs() []int {
	var pids []int
	for _, d := range []*daemon{c.redis, c.haproxy} {
		if d != nil && !d.exited() {
			pids = append(pids, d.cmd.Process.Pid)
		}
	}
	for _, n := range c.nodes {
		if p := n.PID(); p != 0 {
			pids = append(pids, p)
		}
	}
	return pids
}

// BackendStatus is one node as haproxy sees it.
type BackendStatus struct {
	// Name is haproxy's server name, "node1" for Node(0).
	Name string
	// Status is haproxy's status: "UP", "DOWN", "UP 1/2", "MAINT", ...
	Status string
	// Sessions is the number of connections haproxy has open to the node.
	Sessions int
}

// Up reports whether haproxy sends new connections to the node.
func (b BackendStatus) Up() bool { return strings.HasPrefix(b.Status, "UP") }

// Backends returns haproxy's view of every node, in node order.
func (c *Cluster) Backends(ctx context.Context) ([]BackendStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://"+net.JoinHostPort(c.Host, strconv.Itoa(c.StatsPort))+"/stats;csv", nil)
	if err != nil {
		return nil, fmt.Errorf("devstack: haproxy stats: %w", err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("devstack: haproxy stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("devstack: haproxy stats: %s", resp.Status)
	}
	r := csv.NewReader(resp.Body)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 1 {
		return nil, fmt.Errorf("devstack: haproxy stats: bad CSV: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimPrefix(strings.TrimSpace(h), "# ")] = i
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	out := make([]BackendStatus, len(c.nodes))
	for i := range out {
		out[i] = BackendStatus{Name: fmt.Sprintf("node%d", i+1), Status: "UNKNOWN"}
	}
	for _, row := range rows[1:] {
		if get(row, "pxname") != "soketi" {
			continue
		}
		var idx int
		if _, err := fmt.Sscanf(get(row, "svname"), "node%d", &idx); err != nil || idx < 1 || idx > len(out) {
			continue
		}
		n, _ := strconv.Atoi(get(row, "scur"))
		out[idx-1].Status = get(row, "status")
		out[idx-1].Sessions = n
	}
	return out, nil
}

// BackendsUp returns how many nodes haproxy counts up.
func (c *Cluster) BackendsUp(ctx context.Context) (int, error) {
	bs, err := c.Backends(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range bs {
		if b.Up() {
			n++
		}
	}
	return n, nil
}

// WaitBackends waits until haproxy counts exactly want nodes up.
func (c *Cluster) WaitBackends(ctx context.Context, want int) error {
	var last error
	for {
		up, err := c.BackendsUp(ctx)
		if err == nil && up == want {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("devstack: haproxy did not count %d nodes up: %w (last: %d up, %v)", want, ctx.Err(), up, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops everything the cluster started, by PID: haproxy first (clients
// see their sockets close), then the nodes (gracefully), then Redis; and
// removes the directory it created. It waits for every exit and is
// idempotent.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	var errs []error
	if c.haproxy != nil {
		errs = append(errs, c.haproxy.stop())
	}
	var wg sync.WaitGroup
	nodeErrs := make([]error, len(c.nodes))
	for i, n := range c.nodes {
		wg.Go(func() { nodeErrs[i] = n.Stop() })
	}
	wg.Wait()
	errs = append(errs, nodeErrs...)
	if c.redis != nil {
		errs = append(errs, c.redis.stop())
	}
	if c.ownDir {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	return errors.Join(errs...)
}

// prefixWriter writes each line to w with a prefix.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			break
		}
		_, _ = io.WriteString(p.w, p.prefix+string(p.buf[:i+1]))
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
