// Package cli is echotray's command line: the headless commands (login,
// watch, history, status, logout) with their exit codes, the command table
// main dispatches to (Main), the flags of the internal window command
// (ParseWindow) and the start-up the core and the window process share
// (StartProcess: config and log file). It imports no GUI toolkit: the
// commands need no display.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"echotray/app"
	"echotray/history"
	"echotray/internal/termtext"
	"echotray/notify"
)

// Exit codes of the command-line modes.
const (
	ExitOK       = 0 // success; also Ctrl-C during watch
	ExitError    = 1 // anything else
	ExitUsage    = 2 // bad flags or arguments
	ExitAuth     = 3 // nobody signed in, session expired, wrong credentials
	ExitKeyring  = 4 // the system keyring is unavailable
	loginCommand = "echotray login --server URL --email EMAIL"
)

// UsageError is a command-line mistake (exit code 2).
type UsageError struct{ Msg string }

// Error returns the message.
func (e *UsageError) Error() string { return e.Msg }

// authError is a failure whose remedy is signing in (exit code 3).
type authError struct {
	msg string
	err error
}

func (e *authError) Error() string { return e.msg }
func (e *authError) Unwrap() error { return e.err }

// reportedError is an error the command has already explained on its
// output; it still sets the exit code.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// Reported reports whether the command already told the user about err,
// so main must not print it again.
func Reported(err error) bool {
	var r *reportedError
	return errors.As(err, &r)
}

// ExitCode maps an error of a command to the process exit code.
func ExitCode(err error) int {
	var (
		usage *UsageError
		auth  *authError
		api   *app.APIError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.Is(err, app.ErrKeyringUnavailable):
		return ExitKeyring
	case errors.As(err, &auth), errors.Is(err, app.ErrNotSignedIn), errors.Is(err, app.ErrSessionExpired),
		errors.Is(err, app.ErrUnauthorized):
		return ExitAuth
	case errors.As(err, &api) && api.Kind == app.KindValidation:
		return ExitAuth
	}
	return ExitError
}

// Commands runs the headless commands. It creates no Fyne app and needs no
// display. Output goes to Stdout; messages for people to Stderr.
type Commands struct {
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	Config   *app.ConfigStore
	Logger   *slog.Logger
	Redactor *app.Redactor
	Secrets  app.Secrets     // nil means the OS keyring
	HTTP     *http.Client    // nil means app.NewHTTPClient()
	Notifier notify.Notifier // nil means desktop notifications (tests inject a fake)
	Info     app.BuildInfo
	// IsTerminal reports whether Stdin is an interactive terminal (for the
	// password prompt); nil means it is not.
	IsTerminal func() bool
	// ReadPassword reads a password from the terminal without echo.
	ReadPassword func() (string, error)
	// Session is built from the fields above on first use; tests may set it.
	Session *app.Session
}

func (c *Commands) session() *app.Session {
	if c.Session == nil {
		c.Session = app.NewSession(app.SessionOptions{
			Config:   c.Config,
			Secrets:  c.Secrets,
			HTTP:     c.HTTP,
			Logger:   c.Logger,
			Redactor: c.Redactor,
		})
	}
	return c.Session
}

func (c *Commands) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// printf writes to Stdout, cleaned for a terminal (see terminalf).
func (c *Commands) printf(format string, args ...any) {
	fmt.Fprint(c.Stdout, terminalf(format, args...))
}

// note writes a message for people to Stderr, cleaned for a terminal (see
// terminalf).
func (c *Commands) note(format string, args ...any) {
	fmt.Fprint(c.Stderr, terminalf(format, args...)+"\n")
}

// terminalf formats like fmt.Sprintf for a terminal. The arguments carry
// text from elsewhere (the server's names and messages, errors quoting
// it): each string, error and fmt.Stringer argument is cleaned to one line,
// and the result is cleaned again keeping the format's own line breaks, so
// no argument can drive the terminal or start a line of its own.
func terminalf(format string, args ...any) string {
	clean := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			clean[i] = termtext.Clean(v, termtext.Line)
		case error:
			clean[i] = termtext.Clean(v.Error(), termtext.Line)
		case fmt.Stringer:
			clean[i] = termtext.Clean(v.String(), termtext.Line)
		default:
			clean[i] = a
		}
	}
	return termtext.Clean(fmt.Sprintf(format, clean...), termtext.Lines)
}

// PrintError writes err to w as the line "echotray: …", cleaned for a
// terminal: error texts quote servers and peers. Line breaks the message
// means are kept.
func PrintError(w io.Writer, err error) {
	fmt.Fprintln(w, "echotray:", termtext.Clean(err.Error(), termtext.Lines))
}

// OpenHistory opens the history store for a command and tells the user if
// a damaged history file had to be moved aside.
func (c *Commands) OpenHistory() (*history.Store, error) {
	st, err := app.OpenHistory(c.Config.Effective(), c.logger())
	if err != nil {
		return nil, err
	}
	if moved := st.Recovered(); moved != "" {
		c.note("The history file was damaged; it was moved to %s and a new history was started.", moved)
	}
	return st, nil
}

// PusherFlags are the WebSocket settings `login` may be given. Zero values
// mean "not given".
type PusherFlags struct {
	Key, Host string
	Port      int
	Scheme    string
}

// LoginOptions are the flags of `echotray login`.
type LoginOptions struct {
	Server        string
	Email         string
	PasswordStdin bool
	Pusher        PusherFlags
}

// Login signs in and stores the token in the keyring and the given settings
// in the config file, then prints who is signed in.
func (c *Commands) Login(ctx context.Context, o LoginOptions) error {
	if err := validatePusherFlags(o.Pusher); err != nil {
		return err
	}
	// Settings that cannot be saved must fail before the sign-in, or the
	// token would be stored with an error exit.
	if file := c.Config.File(); file.Validate() == nil {
		applyPusherFlags(&file, o.Pusher)
		if err := file.Validate(); err != nil {
			return &UsageError{"the WebSocket settings given cannot be used: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
		}
	}
	eff := c.Config.Effective()
	server := o.Server
	if server == "" {
		server = eff.Server
	}
	if server == "" {
		return &UsageError{"login needs --server URL (e.g. --server https://billing.example.com)"}
	}
	email := o.Email
	if email == "" {
		email = eff.Email
	}
	if email == "" {
		return &UsageError{"login needs --email EMAIL"}
	}
	// Check the keyring first: without it the CLI cannot keep a session
	// from one command to the next, so don't ask for the password at all.
	sess := c.session()
	if err := sess.KeyringAvailable(); err != nil {
		return keyringLoginError(err)
	}
	password, err := c.readPassword(o.PasswordStdin)
	if err != nil {
		return err
	}
	u, err := sess.Login(ctx, app.LoginRequest{Server: server, Email: email, Password: password})
	switch {
	case errors.Is(err, app.ErrKeyringUnavailable):
		return keyringLoginError(err)
	case err != nil:
		return fmt.Errorf("sign-in failed: %w", err)
	}
	if err := c.Config.Update(func(cfg *app.Config) { applyPusherFlags(cfg, o.Pusher) }); err != nil {
		return fmt.Errorf("signed in, but the WebSocket settings were not saved: %w", err)
	}
	c.printf("Signed in as %s on %s\n", u, sess.Server())
	c.printf("Channels: %s\n", strings.Join(u.Channels(), ", "))
	return nil
}

// keyringLoginError explains why the CLI cannot sign in without a keyring.
func keyringLoginError(err error) error {
	return fmt.Errorf("cannot sign in: %w.\n"+
		"`echotray login` keeps the token only in the system keyring, so the other commands can use it; "+
		"it is never written to a file.\n"+
		"Start a Secret Service (for example gnome-keyring or KeePassXC) and unlock it, then try again, "+
		"or start the tray app (`echotray`), which offers a session-only sign-in", err)
}

func validatePusherFlags(p PusherFlags) error {
	if p.Port < 0 || p.Port > 65535 {
		return &UsageError{fmt.Sprintf("--pusher-port %d is not between 1 and 65535", p.Port)}
	}
	if p.Scheme != "" && p.Scheme != "http" && p.Scheme != "https" {
		return &UsageError{fmt.Sprintf("--pusher-scheme %q must be http or https", p.Scheme)}
	}
	if strings.Contains(p.Host, "://") {
		return &UsageError{fmt.Sprintf("--pusher-host %q must be a host name without a scheme (use --pusher-scheme)", p.Host)}
	}
	return nil
}

func applyPusherFlags(cfg *app.Config, p PusherFlags) {
	if p.Key != "" {
		cfg.Pusher.Key = p.Key
	}
	if p.Host != "" {
		cfg.Pusher.Host = p.Host
	}
	if p.Port != 0 {
		cfg.Pusher.Port = p.Port
	}
	if p.Scheme != "" {
		cfg.Pusher.Scheme = p.Scheme
	}
}

// readPassword reads the password from stdin (--password-stdin) or, on a
// terminal, from a prompt without echo.
func (c *Commands) readPassword(fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(c.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the password from stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", &UsageError{"--password-stdin: no password on standard input"}
		}
		return pw, nil
	}
	if c.IsTerminal == nil || !c.IsTerminal() || c.ReadPassword == nil {
		return "", &UsageError{"no terminal to ask for the password: pipe it in with --password-stdin"}
	}
	fmt.Fprint(c.Stderr, "Password: ")
	pw, err := c.ReadPassword()
	fmt.Fprintln(c.Stderr)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if pw == "" {
		return "", &UsageError{"no password given"}
	}
	return pw, nil
}

// Status prints the signed-in user and the settings, or that nobody is
// signed in.
func (c *Commands) Status(ctx context.Context) error {
	sess := c.session()
	u, err := sess.Restore(ctx)
	var result error
	switch {
	case err == nil:
		c.printf("Signed in as %s\n", u)
		if sess.SessionOnly() {
			c.printf("Token:      in memory only\n")
		} else {
			c.printf("Token:      in the system keyring (service %q, account %q)\n", app.KeyringService, c.Config.Effective().Account())
		}
		c.printf("Channels:   %s\n", strings.Join(u.Channels(), ", "))
	case errors.Is(err, app.ErrNotSignedIn):
		c.printf("Nobody is signed in. Sign in with: %s\n", loginCommand)
		result = &authError{msg: "nobody is signed in", err: err}
	case errors.Is(err, app.ErrSessionExpired):
		c.printf("Session expired, please sign in again: %s\n", loginCommand)
		result = &authError{msg: "the session has expired", err: err}
	case errors.Is(err, app.ErrKeyringUnavailable):
		c.printf("Cannot tell who is signed in: %v\n", err)
		result = err
	default:
		c.printf("Signed in as %s, but the server could not confirm it: %v\n", c.Config.Effective().Email, err)
		result = err
	}
	c.printSettings()
	if result != nil {
		return &reportedError{result}
	}
	return nil
}

// printSettings prints the effective settings and where things are kept.
func (c *Commands) printSettings() {
	cfg := c.Config.Effective()
	p := cfg.Pusher
	server := cfg.Server
	if server == "" {
		server = "(not set)"
	}
	c.printf("Server:     %s\n", server)
	c.printf("WebSocket:  %s (key %s, cluster %s, path %q)\n", cfg.Realtime().Address(), p.Key, p.Cluster, p.Path)
	c.printf("API paths:  login %s, user %s, logout %s, auth %s\n", cfg.Paths.Login, cfg.Paths.User, cfg.Paths.Logout, cfg.Paths.Auth)
	c.printf("Namespace:  %s\n", cfg.Namespace)
	c.printf("Config:     %s\n", c.Config.Path())
	if path, err := history.DefaultPath(); err == nil {
		c.printf("History:    %s\n", path)
	}
	if path, err := app.LogPath(); err == nil {
		c.printf("Log:        %s\n", path)
	}
}

// Logout signs out: the server revokes the token and it is deleted from
// the keyring.
func (c *Commands) Logout(ctx context.Context) error {
	err := c.session().Logout(ctx)
	switch {
	case err == nil:
		c.printf("Signed out.\n")
		return nil
	case errors.Is(err, app.ErrNotSignedIn):
		c.printf("Nobody is signed in.\n")
		return nil
	case errors.Is(err, app.ErrKeyringUnavailable):
		return fmt.Errorf("cannot sign out: %w", err)
	case onlyAPIErrors(err):
		c.printf("Signed out.\n")
		c.note("Warning: the server could not be told, so the token may stay valid there until it expires: %v", err)
		return nil
	}
	return fmt.Errorf("sign-out: %w", err)
}

// onlyAPIErrors reports whether every error joined in err is an *APIError
// (the server was not told, but the token is gone here).
func onlyAPIErrors(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyAPIErrors(e) {
				return false
			}
		}
		return true
	}
	var api *app.APIError
	return errors.As(err, &api)
}

// sessionError words ErrNotSignedIn and ErrSessionExpired for the CLI.
func sessionError(err error) error {
	switch {
	case errors.Is(err, app.ErrNotSignedIn):
		return &authError{msg: "nobody is signed in; sign in with: " + loginCommand, err: err}
	case errors.Is(err, app.ErrSessionExpired):
		return &authError{msg: "Session expired, please sign in again: " + loginCommand, err: err}
	}
	return err
}
