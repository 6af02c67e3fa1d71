package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"echotray/app"
	"echotray/internal/termtext"
	"echotray/notify"
	"echotray/realtime"
)

// WatchOptions are the flags of `echotray watch`.
type WatchOptions struct {
	JSON     bool // one JSON object per event on stdout
	NoNotify bool // no desktop notifications
}

// WatchLine is one event as `watch --json` prints it.
type WatchLine struct {
	Time    time.Time       `json:"time"`
	Channel string          `json:"channel"`
	Event   string          `json:"event"` // without the Laravel namespace
	Type    notify.Type     `json:"type"`
	Title   string          `json:"title"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// Watch runs headless with the stored session until ctx ends (Ctrl-C: nil),
// the session expires (an error telling the user to sign in again) or the
// WebSocket server refuses the connection for good.
func (c *Commands) Watch(ctx context.Context, o WatchOptions) error {
	sess := c.session()
	u, err := sess.RestoreRetrying(ctx, nil, func(err error, next time.Time) {
		c.note("%v; trying again in %d s (Ctrl-C to stop)", err, secondsUntil(next))
	})
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return sessionError(err)
	}
	addr := c.Config.Effective().Realtime().Address()
	store, err := c.OpenHistory()
	if err != nil {
		return err
	}
	defer store.Close()

	notifier := c.Notifier
	icon := ""
	switch {
	case o.NoNotify:
		notifier = discardNotifier{}
	case notifier == nil:
		// Ours: made here, closed here.
		icon = app.NotificationIcon(c.logger())
		notifier = notify.NewDesktopNotifier(c.Info.Name, c.Info.ID, icon, nil)
		if cl, ok := notifier.(io.Closer); ok {
			defer cl.Close()
		}
	}
	out := &eventPrinter{w: c.Stdout, json: o.JSON}
	states := &stateReporter{c: c, addr: addr}
	expired := make(chan struct{}, 1)
	failed := make(chan error, 1)
	svc := app.NewService(app.ServiceOptions{
		Session:  sess,
		Store:    store,
		Notifier: notifier,
		AppName:  c.Info.Name,
		AppID:    c.Info.ID,
		Icon:     icon,
		Logger:   c.logger(),
		Hooks: app.Hooks{
			// Every handled event is printed, stored or not (a duplicate
			// or a history write failure still reached this user).
			OnEntry: func(e notify.Entry, _ bool) { out.print(e) },
			// What a catch-up brought back (after a start or a lost
			// connection) is printed like live events, oldest first.
			OnCaughtUp: func(es []notify.Entry) {
				for _, e := range es {
					out.print(e)
				}
				c.note("Fetched %s sent while EchoTray was not connected.", app.Plural(len(es), "notification"))
			},
			OnState: func(sc realtime.StateChange) {
				states.report(sc)
				if sc.Current == realtime.StateFailed && !errors.Is(sc.Err, realtime.ErrUnauthorized) {
					select {
					case failed <- sc.Err:
					default:
					}
				}
			},
			OnSubscription: func(sc realtime.SubscriptionChange) {
				if sc.Status == realtime.SubscriptionForbidden && sc.Channel == app.NotificationChannel(u, c.Config.Effective()) {
					// An app without Laravel's notification channel: nothing is lost.
					c.note("The server does not offer Laravel notifications (%s); only events are received.", sc.Channel)
					return
				}
				c.reportSubscription(sc)
			},
			OnDeliveryError: func(err error) {
				if err == nil {
					c.note("Desktop notifications work again.")
					return
				}
				c.note("Desktop notifications are not working: %s", app.DeliveryReason(err))
			},
			OnExpired: func(error) {
				select {
				case expired <- struct{}{}:
				default:
				}
			},
		},
	})
	var channels []string
	for _, ch := range app.ServiceChannels(u, c.Config.Effective()) {
		channels = append(channels, ch.Name)
	}
	c.note("Watching as %s: %s. Press Ctrl-C to stop.", u, strings.Join(channels, ", "))
	if err := svc.Start(u); err != nil {
		return err
	}
	defer svc.Stop()
	select {
	case <-ctx.Done():
		c.note("Stopped.")
		return nil
	case <-expired:
		return sessionError(app.ErrSessionExpired)
	case err := <-failed:
		return fmt.Errorf("the notification server %s refused the connection: %s", addr, app.ConnectionReason(err))
	}
}

// secondsUntil is the whole seconds from now until t, at least 1.
func secondsUntil(t time.Time) int {
	return max(1, int(time.Until(t).Round(time.Second)/time.Second))
}

// stateReporter tells the user about the connection on stderr. It is
// called from the realtime dispatcher only, one change at a time.
type stateReporter struct {
	c         *Commands
	addr      string // the WebSocket server, as people write it
	connected bool   // the last report was "connected"
}

func (r *stateReporter) report(sc realtime.StateChange) {
	wasConnected := r.connected
	r.connected = sc.Current == realtime.StateConnected
	switch sc.Current {
	case realtime.StateConnecting:
		if sc.Previous == realtime.StateInitialized {
			r.c.note("Connecting to %s…", r.addr)
		} else if wasConnected {
			r.c.note("Connection lost; reconnecting…")
		}
	case realtime.StateConnected:
		r.c.note("Connected to %s.", r.addr)
	case realtime.StateUnavailable:
		msg := "Cannot connect"
		if wasConnected {
			msg = "Connection lost"
		}
		if sc.Err != nil {
			msg += ": " + strings.TrimSuffix(app.ConnectionReason(sc.Err), ".")
		}
		if !sc.NextAttempt.IsZero() {
			msg += fmt.Sprintf("; retrying in %s", max(0, time.Until(sc.NextAttempt)).Round(time.Second))
		}
		r.c.note("%s", msg)
	case realtime.StateFailed:
		if errors.Is(sc.Err, realtime.ErrUnauthorized) {
			r.c.note("The server no longer accepts this session.")
		}
	}
}

// reportSubscription tells the user about a channel on stderr.
func (c *Commands) reportSubscription(sc realtime.SubscriptionChange) {
	switch sc.Status {
	case realtime.SubscriptionSubscribed:
		c.note("Subscribed to %s.", sc.Channel)
	case realtime.SubscriptionForbidden:
		c.note("Not allowed to receive %s: %s.", sc.Channel, app.ChannelReason(sc.Err))
	case realtime.SubscriptionFailed:
		c.note("Cannot receive %s: %s.", sc.Channel, app.ChannelReason(sc.Err))
	}
}

// eventPrinter writes events to stdout, one line each.
type eventPrinter struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (p *eventPrinter) print(e notify.Entry) {
	var line string
	if p.json {
		line = string(watchJSON(e))
	} else {
		// Everything but the time comes from the server: one line each,
		// nothing that drives the terminal.
		clean := func(s string) string { return termtext.Clean(s, termtext.Line) }
		line = fmt.Sprintf("%s  %-22s %-20s [%s] %s", e.Time.Local().Format("2006-01-02 15:04:05"),
			clean(e.Channel), clean(e.Event), clean(string(e.Type)), clean(e.Title))
		if e.Message != "" {
			line += ": " + clean(e.Message)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, line)
}

// watchJSON encodes one entry as a WatchLine; data that is not valid JSON
// is kept as a JSON string. Characters that could drive a terminal are
// \u-escaped (json.Marshal escapes C0 controls only, not DEL, the C1
// controls or bidi overrides); the JSON means the same.
func watchJSON(e notify.Entry) []byte {
	l := WatchLine{Time: e.Time, Channel: e.Channel, Event: e.Event, Type: e.Type,
		Title: e.Title, Message: e.Message, Data: e.Data}
	if len(l.Data) == 0 {
		l.Data = json.RawMessage("null")
	} else if !json.Valid(l.Data) {
		s, _ := json.Marshal(string(e.Data))
		l.Data = s
	}
	b, err := json.Marshal(l)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	return termtext.EscapeJSON(b)
}

// discardNotifier is the notifier of `watch --no-notify`.
type discardNotifier struct{}

func (discardNotifier) Notify(context.Context, notify.Message) error { return nil }
