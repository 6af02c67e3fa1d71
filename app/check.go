package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"echotray/realtime"
)

// CheckResult is the outcome of one connection check, in words.
type CheckResult struct {
	OK   bool
	Text string // a sentence: "API: https://billing.example.com answers."
}

// ConnectionChecker tests settings: the API and the WebSocket server. It
// blocks until both checks end or ctx does, so callers run it on a worker
// goroutine.
type ConnectionChecker func(ctx context.Context, cfg Config) (api, ws CheckResult)

// CheckConnection is the real "Test connection": GET the user endpoint
// without a token (a 401 proves the Laravel API answers) and a Pusher
// handshake with the WebSocket server, both at once.
func CheckConnection(httpClient *http.Client) ConnectionChecker {
	return CheckConnectionAs(httpClient, nil)
}

// CheckConnectionAs is CheckConnection for a signed-in user: header gives
// the session's Authorization header (Session.Header). With a token, the
// server check also asks who is signed in and whether the server authorises
// the user's personal channel (a POST to the channel authorisation address
// with a dummy socket id, as the realtime connection would): a wrong
// authorisation path, which the connection alone does not reveal, shows
// here. header nil, or no session, checks without it.
func CheckConnectionAs(httpClient *http.Client, header func(ctx context.Context) (http.Header, error)) ConnectionChecker {
	return func(ctx context.Context, cfg Config) (CheckResult, CheckResult) {
		var wg sync.WaitGroup
		var api, ws CheckResult
		wg.Go(func() {
			api = checkAPI(ctx, cfg, httpClient)
			if api.OK && header != nil {
				api = checkPersonal(ctx, cfg, httpClient, header, api)
			}
		})
		wg.Go(func() { ws = checkWebSocket(ctx, cfg) })
		wg.Wait()
		return api, ws
	}
}

func checkAPI(ctx context.Context, cfg Config, httpClient *http.Client) CheckResult {
	api, err := NewAPI(cfg.Server, cfg.Paths, httpClient)
	if err != nil {
		return CheckResult{Text: "Server: " + Sentence(err.Error())}
	}
	_, err = api.User(ctx, "")
	switch {
	case err == nil, errors.Is(err, ErrUnauthorized):
		return CheckResult{OK: true, Text: "Server: " + api.Server() + " answers."}
	case errors.Is(err, context.DeadlineExceeded):
		return CheckResult{Text: "Server: " + api.Server() + " did not answer in time."}
	default:
		return CheckResult{Text: "Server: " + Sentence(err.Error())}
	}
}

// checkSocketID is the socket id of the authorisation check: a valid
// Pusher socket id no real connection has.
const checkSocketID = "1234.5678"

// checkPersonal adds the signed-in user's personal channel authorisation
// to the server check's result.
func checkPersonal(ctx context.Context, cfg Config, httpClient *http.Client, header func(context.Context) (http.Header, error), res CheckResult) CheckResult {
	h, err := header(ctx)
	if err != nil {
		return res // not signed in: nothing more to check
	}
	token := strings.TrimSpace(strings.TrimPrefix(h.Get("Authorization"), "Bearer"))
	api, err := NewAPI(cfg.Server, cfg.Paths, httpClient)
	if err != nil || token == "" {
		return res
	}
	u, err := api.User(ctx, token)
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			res.OK = false
			res.Text += " Your session there has ended: sign in again."
			return res
		}
		res.OK = false
		res.Text += " It could not say who is signed in: " + Sentence(err.Error())
		return res
	}
	authz := realtime.HTTPAuthorizer{
		Endpoint: joinURL(api.Server(), cfg.Paths.withDefaults().Auth),
		Client:   httpClient,
		Header:   func(context.Context) (http.Header, error) { return h, nil },
	}
	channel := channelUserPrefix + u.ID
	if _, err := authz.Authorize(ctx, checkSocketID, channel); err != nil {
		res.OK = false
		res.Text += " Personal notifications: " + Sentence(ChannelReason(err)) + " Check the server address and ask your administrator."
		return res
	}
	res.Text += " Personal notifications: allowed."
	return res
}

func checkWebSocket(ctx context.Context, cfg Config) CheckResult {
	changes := make(chan realtime.StateChange, 16)
	rc := cfg.Realtime()
	rc.OnStateChange = func(sc realtime.StateChange) {
		select {
		case changes <- sc:
		default:
		}
	}
	rc.Backoff = func(int) time.Duration { return time.Hour } // one attempt only
	client, err := realtime.New(rc)
	if err != nil {
		return CheckResult{Text: "Notification server: " + SetupProblem(err)}
	}
	defer client.Close()
	client.Connect()
	where := rc.Address()
	for {
		select {
		case sc := <-changes:
			switch sc.Current {
			case realtime.StateConnected:
				return CheckResult{OK: true, Text: "Notification server: connected to " + where + "."}
			case realtime.StateUnavailable, realtime.StateFailed:
				return CheckResult{Text: "Notification server: cannot connect to " + where + ": " + ConnectionReason(sc.Err)}
			}
		case <-ctx.Done():
			return CheckResult{Text: "Notification server: " + where + " did not answer in time."}
		}
	}
}

// Autostarter is start at login behind an interface, so the settings window
// tests need no desktop.
type Autostarter interface {
	// Set turns start at login on (with the --hidden flag when hidden) or
	// off.
	Set(on, hidden bool) error
	// Enabled reports whether start at login is on.
	Enabled() (bool, error)
}

// OSAutostart is the real Autostarter for the running executable.
type OSAutostart struct {
	// Exe returns the executable to start; nil means os.Executable.
	Exe func() (string, error)
}

// Set turns start at login on (rewriting the entry, so the executable path
// and the hidden flag are current) or off.
func (o OSAutostart) Set(on, hidden bool) error {
	if !on {
		return Autostart{}.Disable()
	}
	exe := o.Exe
	if exe == nil {
		exe = os.Executable
	}
	path, err := exe()
	if err != nil {
		return fmt.Errorf("find the EchoTray executable: %w", err)
	}
	return Autostart{Hidden: hidden}.Enable(path)
}

// Enabled reports whether the entry exists.
func (o OSAutostart) Enabled() (bool, error) { return Autostart{}.Enabled() }
