package ipc

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Two local peers that connect and never say hello do not make a second
// launch a second core: Listen says ErrAlreadyRunning within 3 s (the
// lock decides, not an answer), a launcher's Ask still gets through, and
// the first core's socket stays.
func TestSilentPeersDoNotDefeatSingleInstance(t *testing.T) {
	s := startServer(t, nil) // the real hello wait of 3 s
	silent := []*rawPeer{dialRaw(t, s.Path()), dialRaw(t, s.Path())}
	waitPeers(t, s.Server, 2)

	start := time.Now()
	second, err := Listen(ServerOptions{Path: s.Path()})
	took := time.Since(start)
	if second != nil {
		second.Close()
	}
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Listen: %v, want ErrAlreadyRunning", err)
	}
	if took > 3*time.Second {
		t.Errorf("second Listen took %v, want under 3 s", took)
	}
	// What the second launch does next: ask the running core.
	if err := Ask(s.Path(), Message{Op: OpShow, Window: "history"}, 2*time.Second); err != nil {
		t.Fatalf("Ask while two silent peers are connected: %v", err)
	}
	if m := receive(t, s.rec.messages, "show"); m.Window != "history" {
		t.Errorf("got %+v", m)
	}
	if fi, err := os.Lstat(s.Path()); err != nil || !os.SameFile(fi, s.sock) {
		t.Errorf("the core's socket was replaced or removed: %v", err)
	}
	// The silent peers are cut off after the hello wait, each on its own.
	for _, p := range silent {
		_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := p.br.ReadBytes('\n')
		if m, derr := decode(line); err != nil || derr != nil || m.Op != OpError || !strings.Contains(m.Text, "no hello within 3s") {
			t.Errorf("silent peer got %q, %v; want the hello timeout", line, err)
		}
	}
}

// A core that holds the lock but does not answer at all (stuck): a second
// launch still gets ErrAlreadyRunning at once, its Ask fails within its
// timeout, and the stuck core's socket is left alone.
func TestStuckCoreIsNotReplaced(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "e.sock")
	lock, err := acquireLock(LockPath(path))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.release()
	ln := muteListener(t, path)

	start := time.Now()
	s, err := Listen(ServerOptions{Path: path})
	if s != nil {
		s.Close()
	}
	if !errors.Is(err, ErrAlreadyRunning) || time.Since(start) > time.Second {
		t.Fatalf("Listen: %v after %v, want ErrAlreadyRunning at once", err, time.Since(start))
	}
	start = time.Now()
	if err := Ask(path, Message{Op: OpShow, Window: "history"}, 300*time.Millisecond); err == nil ||
		!strings.Contains(err.Error(), "no welcome") {
		t.Errorf("Ask a stuck core: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Ask took %v with a timeout of 300ms", d)
	}
	assertSameSocket(t, path, ln)
}

// A process listening at the path without the lock (an EchoTray from before
// the lock) that accepts but never answers is alive, not stale: Listen
// says ErrAlreadyRunning and removes nothing.
func TestLiveListenerWithoutLockIsNotStale(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "e.sock")
	ln := muteListener(t, path)
	s, err := Listen(ServerOptions{Path: path})
	if s != nil {
		s.Close()
	}
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("Listen: %v, want ErrAlreadyRunning", err)
	}
	assertSameSocket(t, path, ln)
	// The lock was given back: once the old process is gone, Listen works.
	ln.Close()
	s2 := startServerAt(t, path, nil)
	if err := Ask(path, Message{Op: OpResume}, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	receive(t, s2.rec.messages, "resume")
}

// Close removes the socket only if it is still the one the server created.
func TestCloseLeavesAnotherSocketAlone(t *testing.T) {
	s := startServer(t, nil)
	// Someone removes the core's socket and listens at the path.
	if err := os.Remove(s.Path()); err != nil {
		t.Fatal(err)
	}
	other := muteListener(t, s.Path())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	assertSameSocket(t, s.Path(), other)
	s.log.waitLog(t, "level=WARN", "left the IPC socket alone")
}

// The lock is released by Close, and held against a second Listen in the
// same process (flock belongs to the open file, not the process).
func TestLockFile(t *testing.T) {
	s := startServer(t, nil)
	lockPath := LockPath(s.Path())
	if _, err := acquireLock(lockPath); !errors.Is(err, errLocked) {
		t.Fatalf("acquireLock while the server runs: %v, want errLocked", err)
	}
	fi, err := os.Stat(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v, want 0600", fi.Mode().Perm())
	}
	if b, err := os.ReadFile(lockPath); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, %v; want the pid", b, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := acquireLock(lockPath)
	if err != nil {
		t.Fatalf("acquireLock after Close: %v", err)
	}
	l.release()
	l.release() // idempotent
	if _, err := os.Stat(lockPath); err != nil {
		t.Errorf("the lock file must stay: %v", err)
	}
}

// Only "refused" and "not found" make a socket stale.
func TestRefusedOrMissing(t *testing.T) {
	dir := shortTempDir(t)
	_, err := net.DialTimeout("unix", filepath.Join(dir, "none.sock"), time.Second)
	if !refusedOrMissing(err) {
		t.Errorf("missing file: %v is not stale", err)
	}
	path := filepath.Join(dir, "dead.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := net.DialTimeout("unix", path, time.Second); !refusedOrMissing(err) {
		t.Errorf("dead socket: %v is not stale", err)
	}
	for _, err := range []error{
		os.ErrDeadlineExceeded,
		&net.OpError{Op: "dial", Net: "unix", Err: os.ErrPermission},
		errors.New("something else"),
	} {
		if refusedOrMissing(err) {
			t.Errorf("%v counts as stale", err)
		}
	}
}

// muteListener listens at path, accepts and never answers; it closes at
// the end of the test.
func muteListener(t *testing.T, path string) *net.UnixListener {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln
}

// assertSameSocket checks that path is still the socket of ln.
func assertSameSocket(t *testing.T, path string, ln *net.UnixListener) {
	t.Helper()
	now, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("the socket at %s is gone: %v", path, err)
	}
	// Connecting reaches ln: the file is still its socket.
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		t.Fatalf("the socket at %s no longer answers: %v", path, err)
	}
	c.Close()
	if now.Mode()&os.ModeSocket == 0 {
		t.Errorf("%s is not a socket: %v", path, now.Mode())
	}
}

// A peer streaming a line without a newline (445 MiB in the audit) is cut
// off after MaxLine bytes, before or after its hello: the core's heap does
// not grow with what it sends, and the core keeps serving.
func TestEndlessLineDoesNotGrowTheHeap(t *testing.T) {
	const (
		stream   = 64 << 20 // what the peer tries to send
		chunk    = 1 << 20
		maxGrown = 16 << 20
	)
	for _, afterHello := range []bool{false, true} {
		t.Run(map[bool]string{false: "before hello", true: "after hello"}[afterHello], func(t *testing.T) {
			s := startServer(t, nil)
			raw := dialRaw(t, s.Path())
			if afterHello {
				raw.hello(RoleWindow)
				receive(t, s.rec.connects, "OnConnect")
			}
			data := []byte(strings.Repeat("a", chunk))
			runtime.GC()
			base := heapInUse()
			peak, sent := base, 0
			var werr error
			for sent < stream {
				_ = raw.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				n, err := raw.conn.Write(data)
				sent += n
				peak = max(peak, heapInUse())
				if err != nil {
					werr = err
					break
				}
			}
			if werr == nil {
				t.Fatalf("the core read all %d MiB of one line", stream>>20)
			}
			if ne := (net.Error)(nil); errors.As(werr, &ne) && ne.Timeout() {
				t.Fatalf("the core stopped reading but kept the connection: %v", werr)
			}
			if grown := int64(peak) - int64(base); grown > maxGrown {
				t.Errorf("the heap grew by %d MiB while the peer sent %d MiB", grown>>20, sent>>20)
			}
			t.Logf("cut off after %d KiB sent (%v); heap grew by at most %d KiB",
				sent>>10, werr, (int64(peak)-int64(base))>>10)
			s.log.waitLog(t, "level=WARN", "protocol error", "line longer than 65536 bytes")
			// Still serving.
			if err := Ask(s.Path(), Message{Op: OpResume}, 2*time.Second); err != nil {
				t.Fatal(err)
			}
			receive(t, s.rec.messages, "resume")
		})
	}
}

// heapInUse is the bytes of live and not yet collected heap objects.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A launcher that says hello and then idles is cut off; a window may idle.
func TestLauncherIdleLimit(t *testing.T) {
	s := startServer(t, func(o *ServerOptions) { o.launcherIdle = 150 * time.Millisecond })
	w, err := Dial(s.Path(), RoleWindow, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	receive(t, s.rec.connects, "OnConnect")

	raw := dialRaw(t, s.Path())
	raw.hello(RoleLauncher)
	receive(t, s.rec.connects, "OnConnect")
	// A request in time is served, and restarts the wait.
	time.Sleep(50 * time.Millisecond)
	_ = raw.write(`{"v":1,"op":"resume"}` + "\n")
	receive(t, s.rec.messages, "resume")
	raw.expectClosedWithError("a launcher idle for 150ms")
	receive(t, s.rec.disconnects, "launcher OnDisconnect")
	s.log.waitLog(t, "level=WARN", "protocol error", "launcher idle")

	// The window, idle as long, is still connected.
	nothing(t, s.rec.disconnects, "window disconnect")
	if err := w.Send(Message{Op: OpReconnect}); err != nil {
		t.Fatal(err)
	}
	receive(t, s.rec.messages, "reconnect")
	if launcherIdle != 10*time.Second {
		t.Errorf("launcherIdle = %v", launcherIdle)
	}
}
