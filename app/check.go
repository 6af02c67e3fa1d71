package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
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
	return func(ctx context.Context, cfg Config) (CheckResult, CheckResult) {
		var wg sync.WaitGroup
		var api, ws CheckResult
		wg.Go(func() { api = checkAPI(ctx, cfg, httpClient) })
		wg.Go(func() { ws = checkWebSocket(ctx, cfg) })
		wg.Wait()
		return api, ws
	}
}

func checkAPI(ctx context.Context, cfg Config, httpClient *http.Client) CheckResult {
	api, err := NewAPI(cfg.Server, cfg.Paths, httpClient)
	if err != nil {
		return CheckResult{Text: "API: " + Sentence(err.Error())}
	}
	_, err = api.User(ctx, "")
	switch {
	case err == nil, errors.Is(err, ErrUnauthorized):
		return CheckResult{OK: true, Text: "API: " + api.Server() + " answers."}
	case errors.Is(err, context.DeadlineExceeded):
		return CheckResult{Text: "API: " + api.Server() + " did not answer in time."}
	default:
		return CheckResult{Text: "API: " + Sentence(err.Error())}
	}
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
		return CheckResult{Text: "WebSocket: " + Sentence(err.Error())}
	}
	defer client.Close()
	client.Connect()
	where := rc.Address()
	for {
		select {
		case sc := <-changes:
			switch sc.Current {
			case realtime.StateConnected:
				return CheckResult{OK: true, Text: "WebSocket: connected to " + where + "."}
			case realtime.StateUnavailable, realtime.StateFailed:
				reason := "no connection"
				if sc.Err != nil {
					reason = sc.Err.Error()
				}
				return CheckResult{Text: "WebSocket: cannot connect to " + where + ": " + reason + "."}
			}
		case <-ctx.Done():
			return CheckResult{Text: "WebSocket: " + where + " did not answer in time."}
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
