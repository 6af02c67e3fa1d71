// Command echotray is a desktop tray notifier for the hotspot billing
// platform: it signs in against the Laravel API, listens on the user's
// realtime channels and turns every event into a desktop notification.
//
// Without a command it starts the tray app. The commands login, watch,
// history, status and logout run headless: they create no Fyne app and need
// no display. See usageText for the command line.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"golang.org/x/term"

	"echotray/app"
	"echotray/assets"
	"echotray/internal/initlog"
)

// fyneAppToml is the packaging metadata; name, ID and version come from it
// so that --version, the About box and the packages always agree.
//
//go:embed FyneApp.toml
var fyneAppToml []byte

const usageText = `Usage:
  echotray [--hidden] [--log-level LEVEL]   start the tray app
  echotray login --server URL --email EMAIL [--password-stdin]
                 [--pusher-key K] [--pusher-host H] [--pusher-port N] [--pusher-scheme http|https]
  echotray watch [--json] [--no-notify]
  echotray history [--json] [--search TEXT] [--limit N] [--unread]
  echotray status
  echotray logout
  echotray --version

Every command also takes --log-level debug|info|warn|error.
Run "echotray COMMAND --help" for the flags of a command.

Settings live in %s (ECHOTRAY_CONFIG_DIR);
ECHOTRAY_* environment variables override the file, and flags override both.
Exit codes: 0 ok, 1 error, 2 usage, 3 not signed in / session expired /
wrong credentials, 4 system keyring unavailable.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses the command line and runs the tray app or a command; it
// returns the exit code.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	// What libraries logged while initialising (Fyne's locale complaints)
	// goes to the log file, not in front of every command's output.
	startup := strings.TrimSpace(initlog.Restore())
	info, err := app.ParseBuildInfo(fyneAppToml)
	if err != nil {
		fmt.Fprintln(stderr, "echotray:", err)
		return app.ExitError
	}
	root := flag.NewFlagSet("echotray", flag.ContinueOnError)
	root.SetOutput(stderr)
	version := root.Bool("version", false, "print the name, version and app ID, then exit")
	hidden := root.Bool("hidden", false, "start the tray app without opening a window (used at login)")
	logLevel := root.String("log-level", "", "log level: debug, info, warn or error (default from the config, else info)")
	root.Usage = func() {
		fmt.Fprintf(stderr, usageText, configFileHint())
		fmt.Fprintln(stderr, "\nFlags of the tray app:")
		root.PrintDefaults()
	}
	if err := root.Parse(args); err != nil {
		return parseExit(err)
	}
	if *version {
		fmt.Fprintln(stdout, info)
		return app.ExitOK
	}
	rest := root.Args()
	if len(rest) == 0 {
		return runGUI(info, *logLevel, *hidden, stderr, startup)
	}
	cmd := &command{info: info, logLevel: *logLevel, startup: startup, stdin: stdin, stdout: stdout, stderr: stderr}
	return cmd.run(rest[0], rest[1:])
}

// parseExit maps a flag parsing error to an exit code (--help is not an
// error).
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return app.ExitOK
	}
	return app.ExitUsage
}

// configFileHint names the config file for the usage text.
func configFileHint() string {
	dir, err := app.ConfigDir()
	if err != nil {
		return "config.json in the user config directory"
	}
	return dir + string(os.PathSeparator) + "config.json"
}

// runGUI starts the tray app: the only place a Fyne app is created.
func runGUI(info app.BuildInfo, logLevel string, hidden bool, stderr io.Writer, startup string) int {
	cfg, cfgErr := openConfig()
	if cfg == nil {
		fmt.Fprintln(stderr, "echotray:", cfgErr)
		return app.ExitError
	}
	logs, err := setupLogging(cfg, logLevel, stderr, slog.LevelWarn)
	if err != nil {
		fmt.Fprintln(stderr, "echotray:", err)
		return app.ExitError
	}
	defer logs.Close()
	logStartup(logs.Logger, startup)
	if cfgErr != nil {
		// The GUI goes on with the defaults and tells the user.
		logs.Logger.Error("config file unusable; using the defaults", "err", cfgErr)
	}
	fyneapp.SetMetadata(fyne.AppMetadata{
		ID:         info.ID,
		Name:       info.Name,
		Version:    info.Version,
		Build:      info.Build,
		Icon:       assets.AppIcon,
		Migrations: info.Migrations,
	})
	a := fyneapp.NewWithID(info.ID)
	err = app.RunGUI(a, app.GUIOptions{
		Info:      info,
		Config:    cfg,
		ConfigErr: cfgErr,
		Logger:    logs.Logger,
		Redactor:  logs.Redactor,
		LogPath:   logs.Path,
		Hidden:    hidden || cfg.Effective().StartHidden,
	})
	if err != nil {
		logs.Logger.Error("tray app ended with an error", "err", err)
		fmt.Fprintln(stderr, "echotray:", err)
		return app.ExitError
	}
	return app.ExitOK
}

// openConfig opens the config store. A corrupt file or bad environment
// still gives a store (with defaults) and the error.
func openConfig() (*app.ConfigStore, error) {
	dir, err := app.ConfigDir()
	if err != nil {
		return nil, err
	}
	return app.OpenConfig(dir, os.Getenv)
}

// setupLogging logs to the rotated file in the cache directory and to
// stderr at stderrLevel (or at the explicit --log-level). A log file that
// cannot be opened is reported and skipped.
func setupLogging(cfg *app.ConfigStore, flagLevel string, stderr io.Writer, stderrLevel slog.Level) (*app.Logging, error) {
	levelText := cfg.Effective().LogLevel
	if flagLevel != "" {
		levelText = flagLevel
	}
	level, err := app.ParseLevel(levelText)
	if err != nil {
		return nil, &app.UsageError{Msg: err.Error()}
	}
	if flagLevel != "" {
		stderrLevel = level
	}
	opts := app.LogOptions{Level: level, Stderr: stderr, StderrLevel: stderrLevel}
	path, err := app.LogPath()
	if err == nil {
		opts.File = path
		logs, ferr := app.SetupLogging(opts)
		if ferr == nil {
			return logs, nil
		}
		err = ferr
	}
	fmt.Fprintf(stderr, "echotray: logging to stderr only: %v\n", err)
	opts.File = ""
	return app.SetupLogging(opts)
}

// logStartup records what libraries logged while initialising.
func logStartup(l *slog.Logger, startup string) {
	if startup != "" {
		l.Debug("messages logged during start-up", "text", startup)
	}
}

// command runs one headless command.
type command struct {
	info     app.BuildInfo
	logLevel string
	startup  string
	stdin    *os.File
	stdout   io.Writer
	stderr   io.Writer
}

// newFlags returns a FlagSet for a command with the common --log-level.
func (c *command) newFlags(name, synopsis, about string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("echotray "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	level := fs.String("log-level", c.logLevel, "log level on stderr and in the log file: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: echotray %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs, level
}

func (c *command) run(name string, args []string) int {
	switch name {
	case "login":
		return c.login(args)
	case "watch":
		return c.watch(args)
	case "history":
		return c.history(args)
	case "status":
		return c.simple(args, "status", "Print the signed-in user and the settings, or that nobody is signed in.",
			func(ctx context.Context, cli *app.CLI) error { return cli.Status(ctx) })
	case "logout":
		return c.simple(args, "logout", "Sign out: the server revokes the token and it is deleted from the keyring.",
			func(ctx context.Context, cli *app.CLI) error { return cli.Logout(ctx) })
	case "help", "-h", "--help":
		fmt.Fprintf(c.stdout, usageText, configFileHint())
		return app.ExitOK
	case "version":
		fmt.Fprintln(c.stdout, c.info)
		return app.ExitOK
	}
	fmt.Fprintf(c.stderr, "echotray: unknown command %q\n\n", name)
	fmt.Fprintf(c.stderr, usageText, configFileHint())
	return app.ExitUsage
}

func (c *command) login(args []string) int {
	fs, level := c.newFlags("login",
		"--server URL --email EMAIL [--password-stdin] [--pusher-key K] [--pusher-host H] [--pusher-port N] [--pusher-scheme http|https]",
		"Sign in and keep the token in the system keyring (never in a file). The settings\n"+
			"given are saved in the config file. Without --password-stdin the password is\n"+
			"asked for on the terminal.")
	var o app.LoginOptions
	fs.StringVar(&o.Server, "server", "", "the backend URL, e.g. https://billing.example.com (default: the saved one)")
	fs.StringVar(&o.Email, "email", "", "your e-mail address (default: the saved one)")
	fs.BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of standard input")
	fs.StringVar(&o.Pusher.Key, "pusher-key", "", "the Pusher/Soketi app key (saved; default local-key)")
	fs.StringVar(&o.Pusher.Host, "pusher-host", "", "the WebSocket host (saved; default localhost)")
	fs.IntVar(&o.Pusher.Port, "pusher-port", 0, "the WebSocket port (saved; default 6001)")
	fs.StringVar(&o.Pusher.Scheme, "pusher-scheme", "", "http (ws://) or https (wss://) (saved; default http)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		return c.usage(fs, "unexpected arguments: "+strings.Join(fs.Args(), " "))
	}
	return c.exec(*level, func(ctx context.Context, cli *app.CLI) error { return cli.Login(ctx, o) })
}

func (c *command) watch(args []string) int {
	fs, level := c.newFlags("watch", "[--json] [--no-notify]",
		"Run headless with the stored session: connect, subscribe to the channels of your\n"+
			"role, keep each event in the history, show it on the desktop and print it.\n"+
			"Ctrl-C stops (exit 0); an expired session exits with code 3.")
	var o app.WatchOptions
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per event: time, channel, event, type, title, message, data")
	fs.BoolVar(&o.NoNotify, "no-notify", false, "do not show desktop notifications")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		return c.usage(fs, "unexpected arguments: "+strings.Join(fs.Args(), " "))
	}
	return c.exec(*level, func(ctx context.Context, cli *app.CLI) error { return cli.Watch(ctx, o) })
}

func (c *command) history(args []string) int {
	fs, level := c.newFlags("history", "[--json] [--search TEXT] [--limit N] [--unread]",
		"Print the notification history, newest first.")
	var o app.HistoryCmdOptions
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per entry")
	fs.StringVar(&o.Search, "search", "", "only entries whose title or message match TEXT")
	fs.IntVar(&o.Limit, "limit", app.DefaultHistoryLimit, "print at most N entries")
	fs.BoolVar(&o.Unread, "unread", false, "only unread entries")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		return c.usage(fs, "unexpected arguments: "+strings.Join(fs.Args(), " "))
	}
	if o.Limit < 0 {
		return c.usage(fs, "--limit must not be negative")
	}
	return c.exec(*level, func(ctx context.Context, cli *app.CLI) error {
		store, err := cli.OpenHistory()
		if err != nil {
			return err
		}
		defer store.Close()
		return app.RunHistory(ctx, cli.Stdout, store, o)
	})
}

// simple runs a command without flags of its own.
func (c *command) simple(args []string, name, about string, fn func(context.Context, *app.CLI) error) int {
	fs, level := c.newFlags(name, "", about)
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		return c.usage(fs, "unexpected arguments: "+strings.Join(fs.Args(), " "))
	}
	return c.exec(*level, fn)
}

func (c *command) usage(fs *flag.FlagSet, msg string) int {
	fmt.Fprintf(c.stderr, "echotray: %s\n", msg)
	fs.Usage()
	return app.ExitUsage
}

// exec sets up config, logging and the keyring, runs fn until it returns
// or Ctrl-C, and prints its error.
func (c *command) exec(logLevel string, fn func(context.Context, *app.CLI) error) int {
	cfg, err := openConfig()
	if err != nil {
		// Headless commands don't guess: a corrupt file is reported by name.
		fmt.Fprintln(c.stderr, "echotray:", err)
		return app.ExitError
	}
	// Commands say what happens in words on stderr; log records go there
	// only for errors, unless --log-level asks for more.
	logs, err := setupLogging(cfg, logLevel, c.stderr, slog.LevelError)
	if err != nil {
		fmt.Fprintln(c.stderr, "echotray:", err)
		return app.ExitCode(err)
	}
	defer logs.Close()
	logStartup(logs.Logger, c.startup)
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
	fd := int(c.stdin.Fd())
	cli := &app.CLI{
		Stdin:        c.stdin,
		Stdout:       logs.Redactor.Writer(c.stdout),
		Stderr:       logs.Redactor.Writer(c.stderr),
		Config:       cfg,
		Logger:       logs.Logger,
		Redactor:     logs.Redactor,
		Secrets:      app.NewKeyringSecrets(0),
		Info:         c.info,
		IsTerminal:   func() bool { return term.IsTerminal(fd) },
		ReadPassword: func() (string, error) { b, err := term.ReadPassword(fd); return string(b), err },
	}
	err = fn(ctx, cli)
	if err != nil {
		logs.Logger.Debug("command failed", "err", err)
		if !app.Reported(err) {
			fmt.Fprintln(cli.Stderr, "echotray:", err)
		}
	}
	return app.ExitCode(err)
}
