package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"echotray/app/ipc"
	"echotray/assets"
	"echotray/history"
	"echotray/notify"
	"echotray/tray"
)

// CoreOptions is what main passes to RunCore.
type CoreOptions struct {
	Info      BuildInfo    // name, ID and version
	Config    *ConfigStore // never nil; on a corrupt file it holds defaults
	ConfigErr error        // non-nil: the file was corrupt; defaults are in use
	Logger    *slog.Logger // already redacting
	Redactor  *Redactor    // for NewSession
	LogLevel  string       // passed on to the window process ("" for the default)
	Hidden    bool         // start without showing a window (start hidden, or at login)
	// Stop, when it delivers, quits the core (SIGINT/SIGTERM).
	Stop <-chan os.Signal
}

// RunCore runs the long-lived tray process: the session, the realtime
// connection, notifications, the history writer and the tray icon, with
// no GUI toolkit. Windows open in a window process started on demand. It
// returns after Quit. If EchoTray already runs for this user, it asks that
// instance to show its history window and returns nil at once.
func RunCore(opts CoreOptions) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	socket, err := InstanceSocketPath()
	if err != nil {
		return fmt.Errorf("find the per-user socket: %w", err)
	}

	// The server is claimed before anything else (a second launch must
	// only ask the first to show its window), but the core that serves
	// its peers is made after. toCore waits for it; when the start failed
	// there is none and the request is dropped.
	var core *Core // set before ready is closed; nil when the start failed
	ready := make(chan struct{})
	toCore := func(f func(*Core)) {
		<-ready
		if core != nil {
			f(core)
		}
	}
	server, err := ipc.Listen(ipc.ServerOptions{
		Path:         socket,
		Logger:       log.With("component", "ipc"),
		OnConnect:    func(p *ipc.Peer) { toCore(func(c *Core) { c.PeerConnected(p) }) },
		OnMessage:    func(p *ipc.Peer, m ipc.Message) { toCore(func(c *Core) { c.PeerMessage(p, m) }) },
		OnDisconnect: func(p *ipc.Peer) { toCore(func(c *Core) { c.PeerDisconnected(p) }) },
	})
	if errors.Is(err, ipc.ErrAlreadyRunning) {
		log.Info("EchoTray is already running; asking it to show its window")
		if err := ipc.Ask(socket, ipc.Message{Op: ipc.OpShow, Window: WindowHistory}, 5*time.Second); err != nil {
			return fmt.Errorf("EchoTray is already running but did not answer: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim the per-user socket: %w", err)
	}
	defer server.Close()

	cfg := opts.Config.Effective()
	store, err := OpenHistory(cfg, log)
	if err != nil {
		close(ready)
		return fmt.Errorf("open the notification history: %w", err)
	}
	defer store.Close()

	appName := orDefault(opts.Info.Name, "EchoTray")
	iconPath := NotificationIcon(log)
	sess := NewSession(SessionOptions{Config: opts.Config, Secrets: NewKeyringSecrets(0), Logger: opts.Logger, Redactor: opts.Redactor})
	clicks := make(chan int64, 16)
	notifier := notify.NewDesktopNotifier(appName, opts.Info.ID, iconPath, func(id int64) {
		select {
		case clicks <- id:
		default:
		}
	})
	defer func() {
		if c, ok := notifier.(io.Closer); ok {
			if err := c.Close(); err != nil {
				log.Warn("closing the desktop notifier", "err", err)
			}
		}
	}()

	watch, werr := NewTrayWatch(nil, log)
	if werr != nil {
		log.Warn("no tray host check", "err", werr)
	}
	defer watch.Close()

	host := tray.NewHost(log.With("component", "tray"))
	core = NewCore(CoreDeps{
		Config:    opts.Config,
		ConfigErr: opts.ConfigErr,
		Logger:    log,
		Session:   sess,
		NewService: func(h Hooks) coreService {
			return NewService(ServiceOptions{
				Session:  sess,
				Store:    store,
				Notifier: notifier,
				AppName:  appName,
				AppID:    opts.Info.ID,
				Icon:     iconPath,
				Logger:   opts.Logger,
				Hooks:    h,
			})
		},
		Unread:      store,
		Notifier:    notifier,
		Tray:        host,
		Spawn:       windowSpawner(opts, log),
		AppName:     appName,
		IconPath:    iconPath,
		Hidden:      opts.Hidden,
		TrayPresent: watch.Present(),
		Tick:        trayTick,
		Quit:        host.Quit,
	})
	close(ready)
	watch.SetOnChange(core.SetTrayPresent)
	go func() {
		for {
			select {
			case id := <-clicks:
				core.OnNotificationClick(id)
			case <-opts.Stop:
				log.Info("asked to stop")
				core.Quit()
			case <-core.Done():
				return
			}
		}
	}()

	// The tray host's loop runs on the main goroutine (required on macOS
	// and Windows); the core starts once the tray is ready.
	host.Run(core.Run, nil)
	<-core.Done()
	log.Info("EchoTray stopped")
	return nil
}

// WindowExecutable is the file name of the window program installed next
// to the core on Linux and macOS (see WindowProgram).
const WindowExecutable = "echotray-window"

// WindowProgram is the executable the core starts for its windows: the
// window program next to the core's executable (Linux and macOS ship the
// core without the GUI toolkit, so it stays small), else the core's
// executable itself (Windows ships one echotray.exe holding both).
func WindowProgram() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the EchoTray executable: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	sibling := filepath.Join(filepath.Dir(exe), WindowExecutable+filepath.Ext(exe))
	if fi, err := os.Stat(sibling); err == nil && !fi.IsDir() {
		return sibling, nil
	}
	return exe, nil
}

// windowSpawner starts `PROGRAM window --show W [--entry ID] [--notice T]`
// with the WindowProgram.
func windowSpawner(opts CoreOptions, log *slog.Logger) Spawner {
	return func(req WindowRequest) (<-chan struct{}, error) {
		exe, err := WindowProgram()
		if err != nil {
			return nil, err
		}
		args := []string{"window", "--show", req.Window}
		if req.Entry > 0 {
			args = append(args, "--entry", strconv.FormatInt(req.Entry, 10))
		}
		if req.Notice != "" {
			args = append(args, "--notice", req.Notice)
		}
		if opts.LogLevel != "" {
			args = append([]string{"--log-level", opts.LogLevel}, args...)
		}
		cmd := exec.Command(exe, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start the window process: %w", err)
		}
		log.Debug("window process", "pid", cmd.Process.Pid, "args", args)
		exited := make(chan struct{})
		go func() {
			err := cmd.Wait()
			log.Info("window process exited", "pid", cmd.Process.Pid, "err", err)
			close(exited)
		}()
		return exited, nil
	}
}

// OpenHistory opens the history store at history.DefaultPath (under
// $ECHOTRAY_DATA_DIR when set) with the configured retention.
func OpenHistory(cfg Config, logger *slog.Logger) (*history.Store, error) {
	path, err := history.DefaultPath()
	if err != nil {
		return nil, err
	}
	st, err := history.Open(path, history.Options{
		MaxEntries: cfg.History.MaxEntries,
		MaxAge:     time.Duration(cfg.History.MaxAgeDays) * 24 * time.Hour,
		Logger:     logger,
	})
	if err != nil {
		return nil, fmt.Errorf("open the history %s: %w", path, err)
	}
	if moved := st.Recovered(); moved != "" && logger != nil {
		logger.Warn("the history file was damaged and moved aside; a new one was started", "moved_to", moved)
	}
	// Until someone signs in, the history shows the last account's
	// entries (`echotray history`, the window before the core's state).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if last, err := st.LastAccount(ctx); err != nil {
		if logger != nil {
			logger.Warn("cannot read the history's last account", "err", err)
		}
	} else if last != "" {
		st.SetAccount(last)
	}
	return st, nil
}

// NotificationIcon writes the app icon to the cache directory for the
// notification server and returns its path ("" if that fails).
func NotificationIcon(log *slog.Logger) string {
	dir, err := CacheDir()
	if err != nil {
		log.Warn("no cache directory for the notification icon", "err", err)
		return ""
	}
	path := filepath.Join(dir, "echotray.png")
	data := assets.AppIconPNG
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return path
	}
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		log.Warn("cannot write the notification icon", "err", err)
		return ""
	}
	return path
}
