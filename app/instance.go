package app

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrAlreadyRunning is returned by ClaimInstance when another EchoTray is
// running for this user; it has been asked to show its window.
var ErrAlreadyRunning = errors.New("EchoTray is already running")

// instanceSocketName is the file name of the single-instance socket.
const instanceSocketName = "echotray.sock"

// instanceTimeout bounds one exchange between two instances.
const instanceTimeout = 3 * time.Second

// InstanceSocketPath is the per-user path of the single-instance socket:
// $XDG_RUNTIME_DIR/echotray.sock when that directory exists, else
// echotray.sock in CacheDir (created with mode 0700).
func InstanceSocketPath() (string, error) {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return filepath.Join(dir, instanceSocketName), nil
		}
	}
	dir, err := CacheDir()
	if err != nil {
		return "", fmt.Errorf("single-instance socket: %w", err)
	}
	return filepath.Join(dir, instanceSocketName), nil
}

// Instance is the running EchoTray's end of the single-instance socket. A
// second launch connects, sends "show" and exits; the Instance then calls
// its onShow callback. Unix domain sockets work on Linux, macOS and
// Windows 10 and later.
type Instance struct {
	ln     net.Listener
	path   string
	onShow func()
	log    *slog.Logger

	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// ClaimInstance makes this process the running instance by listening at
// path. If another instance listens there, it asks that one to show its
// window and returns ErrAlreadyRunning. A socket file left behind by a
// crashed instance (nobody answers) is removed and taken over.
//
// onShow runs on the Instance's own goroutine, once per "show" request;
// the GUI moves it to the Fyne thread with fyne.Do.
func ClaimInstance(path string, onShow func(), logger *slog.Logger) (*Instance, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("single-instance socket directory: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		// The address is taken: either a live instance or a stale file.
		if sendErr := sendShow(path); sendErr == nil {
			return nil, ErrAlreadyRunning
		}
		if _, statErr := os.Lstat(path); statErr != nil {
			return nil, fmt.Errorf("single-instance socket %s: %w", path, err)
		}
		logger.Info("removing a stale single-instance socket", "path", path)
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return nil, fmt.Errorf("remove stale single-instance socket %s: %w", path, rmErr)
		}
		if ln, err = net.Listen("unix", path); err != nil {
			return nil, fmt.Errorf("single-instance socket %s: %w", path, err)
		}
	}
	in := &Instance{ln: ln, path: path, onShow: onShow, log: logger}
	in.wg.Add(1)
	go in.serve()
	return in, nil
}

// Path is the socket's path.
func (in *Instance) Path() string { return in.path }

// Close stops listening, removes the socket file and waits until no
// request is being handled. It is safe to call more than once.
func (in *Instance) Close() error {
	in.closeOnce.Do(func() {
		in.closeErr = in.ln.Close()
		in.wg.Wait()
	})
	return in.closeErr
}

func (in *Instance) serve() {
	defer in.wg.Done()
	for {
		conn, err := in.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				in.log.Warn("single-instance socket stopped", "err", err)
			}
			return
		}
		in.handle(conn)
	}
}

// handle answers one request. Requests are handled one at a time: they are
// rare and tiny, and a slow peer is cut off by the deadline.
func (in *Instance) handle(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(instanceTimeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		in.log.Debug("single-instance request unreadable", "err", err)
		return
	}
	switch strings.TrimSpace(line) {
	case "show":
		_, _ = conn.Write([]byte("ok\n"))
		if in.onShow != nil {
			in.onShow()
		}
	default:
		_, _ = conn.Write([]byte("unknown command\n"))
	}
}

// sendShow asks the instance listening at path to show its window and waits
// for its acknowledgement.
func sendShow(path string) error {
	conn, err := net.DialTimeout("unix", path, instanceTimeout)
	if err != nil {
		return fmt.Errorf("connect to the running instance: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(instanceTimeout))
	if _, err := conn.Write([]byte("show\n")); err != nil {
		return fmt.Errorf("send to the running instance: %w", err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read the running instance's reply: %w", err)
	}
	if strings.TrimSpace(reply) != "ok" {
		return fmt.Errorf("the running instance replied %q", strings.TrimSpace(reply))
	}
	return nil
}
