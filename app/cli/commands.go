package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/term"

	"echotray/app"
)

// usageText is the text of `echotray --help`; the %s are the config file
// and the machine-wide one. The
// internal `window` command is left out on purpose.
const usageText = `Usage:
  echotray [--hidden] [--log-level LEVEL]   start the tray app
  echotray login --server URL --email EMAIL [--password-stdin]
                 [--pusher-key K] [--pusher-host H] [--pusher-port N] [--pusher-scheme http|https]
                 (the --pusher-* flags only for a server that does not announce them)
  echotray watch [--json] [--no-notify]
  echotray history [--json] [--search TEXT] [--limit N] [--unread]
  echotray status
  echotray logout
  echotray --version

Every command also takes --log-level debug|info|warn|error.
Run "echotray COMMAND --help" for the flags of a command.

Settings live in %s (ECHOTRAY_CONFIG_DIR);
ECHOTRAY_* environment variables override the file, and flags override both.
An administrator's machine-wide settings are read first and may lock some
(%s, ECHOTRAY_SYSTEM_CONFIG).
Exit codes: 0 ok, 1 error, 2 usage, 3 not signed in / session expired /
wrong credentials, 4 system keyring unavailable.
`

// WindowLogName is the log file of the window process, next to the core's
// (app.LogPath), so the two processes never rotate the same file.
const WindowLogName = "echotray-window.log"

// Env is what a command runs with: the process's standard streams and what
// main found out before dispatching.
type Env struct {
	Info     app.BuildInfo
	LogLevel string // the root --log-level; "" means the config's
	Startup  string // what libraries logged while initialising (goes to the log file)
	Stdin    *os.File
	Stdout   io.Writer
	Stderr   io.Writer
}

// PrintUsage writes the usage text of echotray to w.
func PrintUsage(w io.Writer) {
	fmt.Fprintf(w, usageText, configFileHint(), app.SystemConfigPath(os.Getenv))
}

// ParseExit maps a flag parsing error to an exit code: --help is not an
// error.
func ParseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitUsage
}

// configFileHint names the config file for the usage text.
func configFileHint() string {
	dir, err := app.ConfigDir()
	if err != nil {
		return "config.json in the user config directory"
	}
	return filepath.Join(dir, "config.json")
}

// Process is what the core and the window process start with.
type Process struct {
	Config    *app.ConfigStore // never nil
	ConfigErr error            // the config file is unusable: Config holds the defaults
	Logs      *app.Logging
}

// StartProcess opens the config and the log file logName ("" = the core's,
// app.LogPath) for the core or the window process, logging to stderr from
// warnings up (or at level, the --log-level given). Both processes go on
// with the defaults when the config file is corrupt (the error is logged
// and kept in ConfigErr). A nil Process cannot start: the reason is on
// stderr and the process exits with code.
func StartProcess(env Env, level, logName string) (p *Process, code int) {
	cfg, cfgErr := openConfig()
	if cfg == nil {
		PrintError(env.Stderr, cfgErr)
		return nil, ExitError
	}
	logs, err := setupLogging(cfg, level, logName, env.Stderr, slog.LevelWarn)
	if err != nil {
		PrintError(env.Stderr, err)
		return nil, ExitCode(err)
	}
	logStartup(logs.Logger, env.Startup)
	cfg.SetLogger(logs.Logger)
	if cfgErr != nil {
		logs.Logger.Error("config file unusable; using the defaults", "err", cfgErr)
	}
	return &Process{Config: cfg, ConfigErr: cfgErr, Logs: logs}, ExitOK
}

// Close closes the log file.
func (p *Process) Close() error { return p.Logs.Close() }

// openConfig opens the config store in app.ConfigDir. A corrupt file or a
// bad environment still gives a store (with defaults) and the error; only
// a missing config directory gives no store.
func openConfig() (*app.ConfigStore, error) {
	dir, err := app.ConfigDir()
	if err != nil {
		return nil, err
	}
	return app.OpenConfig(dir, os.Getenv)
}

// setupLogging logs to the rotated file name in the log directory (the
// directory of app.LogPath; "" means app.LogPath itself) and to stderr at
// stderrLevel, or at flagLevel when that is given. The file's level is
// flagLevel, else the config's. A log file that cannot be opened is
// reported on stderr and skipped. A bad flagLevel is a *UsageError.
func setupLogging(cfg *app.ConfigStore, flagLevel, name string, stderr io.Writer, stderrLevel slog.Level) (*app.Logging, error) {
	levelText := cfg.Effective().LogLevel
	if flagLevel != "" {
		levelText = flagLevel
	}
	level, err := app.ParseLevel(levelText)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	if flagLevel != "" {
		stderrLevel = level
	}
	opts := app.LogOptions{Level: level, Stderr: stderr, StderrLevel: stderrLevel}
	path, err := app.LogPath()
	if err == nil {
		if name != "" {
			path = filepath.Join(filepath.Dir(path), name)
		}
		opts.File = path
		logs, ferr := app.SetupLogging(opts)
		if ferr == nil {
			return logs, nil
		}
		err = ferr
	}
	PrintError(stderr, fmt.Errorf("logging to stderr only: %w", err))
	opts.File = ""
	return app.SetupLogging(opts)
}

// logStartup records at debug level what libraries logged while
// initialising.
func logStartup(l *slog.Logger, startup string) {
	if startup = strings.TrimSpace(startup); startup != "" {
		l.Debug("messages logged during start-up", "text", startup)
	}
}

// Main runs the command args[0] with the arguments after it and returns
// the exit code. An unknown command prints the usage (exit code 2).
func Main(args []string, env Env) int {
	if len(args) == 0 {
		PrintUsage(env.Stderr)
		return ExitUsage
	}
	c := &cmdline{env: env}
	name, args := args[0], args[1:]
	switch name {
	case "login":
		return c.login(args)
	case "watch":
		return c.watch(args)
	case "history":
		return c.history(args)
	case "status":
		return c.simple(args, "status", "Print the signed-in user and the settings, or that nobody is signed in.",
			func(ctx context.Context, cmds *Commands) error { return cmds.Status(ctx) })
	case "logout":
		return c.simple(args, "logout", "Sign out: the server revokes the token and it is deleted from the keyring.",
			func(ctx context.Context, cmds *Commands) error { return cmds.Logout(ctx) })
	case "help", "-h", "--help":
		PrintUsage(env.Stdout)
		return ExitOK
	case "version":
		fmt.Fprintln(env.Stdout, env.Info)
		return ExitOK
	}
	PrintError(env.Stderr, fmt.Errorf("unknown command %q", name))
	fmt.Fprintln(env.Stderr)
	PrintUsage(env.Stderr)
	return ExitUsage
}

// WindowFlags are the flags of the internal `echotray window` command,
// which the core starts to show its windows.
type WindowFlags struct {
	Show     string // app.WindowHistory (the default), WindowSignIn or WindowSettings
	Entry    int64  // the history entry to select; 0 = none
	Notice   string // a sentence for the window to show (e.g. why sign-in is needed)
	LogLevel string // --log-level, defaulting to the root one
}

// ParseWindow parses the flags of `echotray window`. When ok is false the
// process exits with code: 0 after --help, 2 for bad flags; the text is
// already on stderr.
func ParseWindow(args []string, env Env) (w WindowFlags, code int, ok bool) {
	c := &cmdline{env: env}
	fs, level := c.newFlags("window", "[--show history|signin|settings] [--entry ID] [--notice TEXT]",
		"Open EchoTray's windows in a process of their own (the tray app starts it).")
	fs.StringVar(&w.Show, "show", app.WindowHistory, "the window to show: history, signin or settings")
	fs.Int64Var(&w.Entry, "entry", 0, "the history entry to select (with --show history)")
	fs.StringVar(&w.Notice, "notice", "", "a notice for the window to show")
	if code, ok := c.parse(fs, args); !ok {
		return w, code, false
	}
	switch {
	case w.Show != app.WindowHistory && w.Show != app.WindowSignIn && w.Show != app.WindowSettings:
		return w, c.usage(fs, "--show "+strconv.Quote(w.Show)+" must be history, signin or settings"), false
	case w.Entry < 0:
		return w, c.usage(fs, "--entry must not be negative"), false
	}
	w.LogLevel = *level
	return w, ExitOK, true
}

// cmdline is one run of a command line: the flags of a command and how it runs.
type cmdline struct {
	env Env
}

// newFlags returns a FlagSet for a command with the common --log-level.
func (c *cmdline) newFlags(name, synopsis, about string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("echotray "+name, flag.ContinueOnError)
	fs.SetOutput(c.env.Stderr)
	level := fs.String("log-level", c.env.LogLevel, "log level on stderr and in the log file: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(c.env.Stderr, "Usage: echotray %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs, level
}

func (c *cmdline) login(args []string) int {
	fs, level := c.newFlags("login",
		"--server URL --email EMAIL [--password-stdin] [--pusher-key K] [--pusher-host H] [--pusher-port N] [--pusher-scheme http|https]",
		"Sign in and keep the token in the system keyring (never in a file). The settings\n"+
			"given are saved in the config file. Without --password-stdin the password is\n"+
			"asked for on the terminal.")
	var o LoginOptions
	fs.StringVar(&o.Server, "server", "", "the server's address, e.g. billing.example.com (default: the saved one)")
	fs.StringVar(&o.Email, "email", "", "your e-mail address (default: the saved one)")
	fs.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	fs.StringVar(&o.Pusher.Key, "pusher-key", "", "the Pusher/Soketi app key (saved; default local-key)")
	fs.StringVar(&o.Pusher.Host, "pusher-host", "", "the WebSocket host (saved; default localhost)")
	fs.IntVar(&o.Pusher.Port, "pusher-port", 0, "the WebSocket port (saved; default 6001)")
	fs.StringVar(&o.Pusher.Scheme, "pusher-scheme", "", "http (ws://) or https (wss://) (saved; default http)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	return c.exec(*level, func(ctx context.Context, cmds *Commands) error {
		if err := lockedLoginFlags(cmds.Config, o); err != nil {
			return err
		}
		return cmds.Login(ctx, o)
	})
}

// lockedLoginFlags refuses login flags that would change a setting the
// machine-wide file locks (a usage error: exit code 2). Giving the locked
// value itself is fine.
func lockedLoginFlags(cfg *app.ConfigStore, o LoginOptions) error {
	eff := cfg.Effective()
	var flags, keys []string
	if o.Server != "" && cfg.Locked("server") {
		given, err := app.NormalizeServerURL(o.Server)
		if cur, _ := app.NormalizeServer(eff.Server); err != nil || given != cur {
			flags, keys = append(flags, "--server"), append(keys, "server")
		}
	}
	for _, f := range []struct {
		flag, key string
		given     bool
		same      bool
	}{
		{"--pusher-key", "pusher.key", o.Pusher.Key != "", o.Pusher.Key == eff.Pusher.Key},
		{"--pusher-host", "pusher.host", o.Pusher.Host != "", o.Pusher.Host == eff.Pusher.Host},
		{"--pusher-port", "pusher.port", o.Pusher.Port != 0, o.Pusher.Port == eff.Pusher.Port},
		{"--pusher-scheme", "pusher.scheme", o.Pusher.Scheme != "", o.Pusher.Scheme == eff.Pusher.Scheme},
	} {
		if f.given && !f.same && cfg.Locked(f.key) {
			flags, keys = append(flags, f.flag), append(keys, f.key)
		}
	}
	if len(flags) == 0 {
		return nil
	}
	le := &app.LockedError{Keys: keys}
	msg := fmt.Sprintf("%s cannot be used: %s%s (set in %s)", strings.Join(flags, " and "),
		strings.ToLower(le.Error()[:1]), strings.TrimSuffix(le.Error()[1:], "."), cfg.SystemPath())
	if o.Server != "" && eff.Server != "" && slices.Contains(keys, "server") {
		msg += ". Sign in without --server to use " + eff.Server
	}
	return &UsageError{Msg: msg + "."}
}

func (c *cmdline) watch(args []string) int {
	fs, level := c.newFlags("watch", "[--json] [--no-notify]",
		"Run headless with the stored session: connect, subscribe to the channels of your\n"+
			"role, keep each event in the history, show it on the desktop and print it.\n"+
			"Ctrl-C stops (exit 0); an expired session exits with code 3.")
	var o WatchOptions
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per event: time, channel, event, type, title, message, data")
	fs.BoolVar(&o.NoNotify, "no-notify", false, "do not show desktop notifications")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	return c.exec(*level, func(ctx context.Context, cmds *Commands) error {
		return cmds.Watch(ctx, o) // its restore asks the server for its realtime settings
	})
}

func (c *cmdline) history(args []string) int {
	fs, level := c.newFlags("history", "[--json] [--search TEXT] [--limit N] [--unread]",
		"Print the notification history, newest first.")
	var o HistoryOptions
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per entry")
	fs.StringVar(&o.Search, "search", "", "only entries whose title or message match TEXT")
	fs.IntVar(&o.Limit, "limit", DefaultHistoryLimit, "print at most N entries")
	fs.BoolVar(&o.Unread, "unread", false, "only unread entries")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if o.Limit < 0 {
		return c.usage(fs, "--limit must not be negative")
	}
	return c.exec(*level, func(ctx context.Context, cmds *Commands) error { return cmds.History(ctx, o) })
}

// simple runs a command without flags of its own.
func (c *cmdline) simple(args []string, name, about string, fn func(context.Context, *Commands) error) int {
	fs, level := c.newFlags(name, "", about)
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	return c.exec(*level, fn)
}

// parse parses a command's flags; when ok is false the command ends with
// code (its text is on stderr). Commands take no arguments besides flags.
func (c *cmdline) parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		return ParseExit(err), false
	}
	if fs.NArg() > 0 {
		return c.usage(fs, "unexpected arguments: "+strings.Join(fs.Args(), " ")), false
	}
	return ExitOK, true
}

// usage reports a command-line mistake with the command's usage.
func (c *cmdline) usage(fs *flag.FlagSet, msg string) int {
	PrintError(c.env.Stderr, errors.New(msg))
	fs.Usage()
	return ExitUsage
}

// exec sets up config, logging and the keyring, runs fn until it returns
// or Ctrl-C, and prints its error.
func (c *cmdline) exec(logLevel string, fn func(context.Context, *Commands) error) int {
	stderr := c.env.Stderr
	cfg, err := openConfig()
	if err != nil {
		// Headless commands don't guess: a corrupt file is reported by name.
		PrintError(stderr, err)
		return ExitError
	}
	// Commands say what happens in words on stderr; log records go there
	// only for errors, unless --log-level asks for more.
	logs, err := setupLogging(cfg, logLevel, "", stderr, slog.LevelError)
	if err != nil {
		PrintError(stderr, err)
		return ExitCode(err)
	}
	defer logs.Close()
	logStartup(logs.Logger, c.env.Startup)
	cfg.SetLogger(logs.Logger)
	if p := cfg.SystemProblem(); p != "" {
		fmt.Fprintln(stderr, "echotray: note:", p)
	}
	cfg.SetOverrides(func(cf *app.Config) {
		if logLevel != "" {
			cf.LogLevel = logLevel
		}
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first Ctrl-C a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	cmds := &Commands{
		Stdin:    strings.NewReader(""),
		Stdout:   logs.Redactor.Writer(c.env.Stdout),
		Stderr:   logs.Redactor.Writer(stderr),
		Config:   cfg,
		Logger:   logs.Logger,
		Redactor: logs.Redactor,
		Secrets:  app.NewKeyringSecrets(0),
		Info:     c.env.Info,
	}
	if in := c.env.Stdin; in != nil {
		cmds.Stdin = in
		fd := int(in.Fd())
		cmds.IsTerminal = func() bool { return term.IsTerminal(fd) }
		cmds.ReadPassword = func() (string, error) { b, err := term.ReadPassword(fd); return string(b), err }
	}
	err = fn(ctx, cmds)
	if err != nil {
		logs.Logger.Debug("command failed", "err", err)
		if !Reported(err) {
			PrintError(cmds.Stderr, err)
		}
	}
	return ExitCode(err)
}
