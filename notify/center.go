package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by Handle after Close.
var ErrClosed = errors.New("notify: center closed")

// Incoming is one event from the realtime connection.
type Incoming struct {
	Channel  string          // e.g. "tenant.1"
	Event    string          // short or namespaced event name
	Data     json.RawMessage // the payload
	Received time.Time       // zero means now
}

// CenterConfig configures a Center. Only Store is needed for history;
// everything else has a default.
type CenterConfig struct {
	Store    HistoryWriter // history; nil keeps none
	Catalog  *Catalog      // nil means NewCatalog(nil)
	Notifier Notifier      // nil shows nothing on the desktop
	Prefs    Prefs
	AppName  string // shown by the notification server; default "EchoTray"
	Icon     string // path of the app icon, for notifications
	Logger   *slog.Logger
	// OnStored is called after every new history entry, from Handle's
	// goroutine, never under a lock.
	OnStored func(Entry)
	// OnDeliveryError is called from the delivery goroutine when desktop
	// notifications start failing (with the error), and again with nil when
	// they work again; not for every failure.
	OnDeliveryError func(error)
}

// Center is the pipeline from an event to the user: it renders the event
// with the catalog, stores it in the history first, lets the policy decide
// (mute, do-not-disturb, de-duplication, flood control) and hands what is to
// be shown to one delivery goroutine with a bounded queue, so Handle never
// waits for the desktop. A flood summary, and the count of errors past the
// error cap, are sent by a timer when their window ends. Methods are safe
// for concurrent use.
type Center struct {
	store    HistoryWriter
	catalog  *Catalog
	notifier Notifier
	appName  string
	icon     string
	log      *slog.Logger
	onStored func(Entry)
	deliver  *deliverer

	mu     sync.Mutex
	prefs  Prefs
	pol    policy
	timer  *time.Timer // flood window; nil when no flood
	errs   *time.Timer // error window; nil when errors are within the cap
	pause  *time.Timer // fires when a timed do-not-disturb ends
	closed bool
}

// NewCenter starts a Center. Call Close when done.
func NewCenter(cfg CenterConfig) *Center {
	c := &Center{
		store:    cfg.Store,
		catalog:  cfg.Catalog,
		notifier: cfg.Notifier,
		appName:  cfg.AppName,
		icon:     cfg.Icon,
		log:      cfg.Logger,
		onStored: cfg.OnStored,
		prefs:    cfg.Prefs.clone(),
	}
	if c.catalog == nil {
		c.catalog = NewCatalog(nil)
	}
	if c.notifier == nil {
		c.notifier = nopNotifier{}
	}
	if c.appName == "" {
		c.appName = "EchoTray"
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.deliver = newDeliverer(c.notifier, c.log, cfg.OnDeliveryError)
	c.mu.Lock()
	c.armPauseLocked(time.Now())
	c.mu.Unlock()
	return c
}

// Handle takes one event: it renders it, stores it in the history, and, if
// the policy lets it through, queues a desktop notification. It returns the
// stored entry (with its ID) so the app can update its views. An event whose
// key the history already has (a replay) is neither stored again nor shown,
// and OnStored is not called; Handle then returns the entry as the history
// reported it (the Store sets the ID of the entry already stored), stored
// false and a nil error. stored is true only for a newly inserted entry. When the history fails, the notification is still shown and the
// error is returned.
func (c *Center) Handle(ctx context.Context, in Incoming) (e Entry, stored bool, err error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return Entry{}, false, ErrClosed
	}

	name := ShortName(in.Event)
	var n Notification
	if IsNotificationEvent(in.Event) {
		// A Laravel notification: named by its class, keyed by its UUID.
		e = c.catalog.NotificationEntry(in.Data)
		e.Time, e.Channel = in.Received, in.Channel
		name = e.Event
		n = Notification{Event: name, Type: e.Type, Title: e.Title, Message: e.Message, Timeout: timeoutFor(e.Type)}
	} else {
		p := parsePayload(in.Data)
		n = c.catalog.render(name, p)
		e = Entry{
			Time:    in.Received,
			Channel: in.Channel,
			Event:   name,
			Type:    n.Type,
			Title:   n.Title,
			Message: n.Message,
			Data:    storableJSON(in.Data),
			Key:     eventKey(in.Channel, name, p),
		}
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}

	var storeErr error
	if c.store != nil {
		inserted, err := c.store.Add(ctx, &e)
		switch {
		case err != nil:
			storeErr = fmt.Errorf("store %s event in the history: %w", name, err)
			c.log.Error("history: event not stored; showing it anyway", "event", name, "channel", in.Channel, "err", err)
		case !inserted:
			c.log.Debug("event already in the history; not shown again", "event", name, "key", e.Key)
			return e, false, nil
		default:
			stored = true
			if c.onStored != nil {
				c.onStored(e)
			}
		}
	}

	one, many := c.catalog.category(name)
	it := item{
		event:   name,
		typ:     n.Type,
		title:   n.Title,
		body:    n.Message,
		entryID: e.ID,
		timeout: n.Timeout,
		key:     e.Key,
		payload: sha256.Sum256(bytes.TrimSpace(in.Data)),
		noun:    [2]string{one, many},
	}
	if c.catalog.Muted(name) {
		c.log.Debug("notification muted in the catalog overrides", "event", name)
		return e, stored, storeErr
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return e, stored, storeErr
	}
	v, arm := c.pol.admit(c.prefs, time.Now(), it)
	switch {
	case arm && v == verdictErrorHeld:
		c.armErrorsLocked()
	case arm:
		c.armLocked()
	}
	c.mu.Unlock()

	if v == verdictShow {
		c.deliver.enqueue(c.message(it))
	} else {
		c.log.Debug("notification not shown now", "event", name, "reason", v.String())
	}
	return e, stored, storeErr
}

// armLocked starts the flood window timer. c.mu must be held.
func (c *Center) armLocked() {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(c.prefs.floodWindow(), c.floodWindowEnded)
}

// floodWindowEnded runs on the flood timer: it sends the summary of what was
// held and starts the next window while the flood lasts.
func (c *Center) floodWindowEnded() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	out, rearm := c.pol.flush(c.prefs, time.Now())
	if rearm {
		c.armLocked()
	} else {
		c.timer = nil
	}
	c.mu.Unlock()
	if out != nil {
		c.log.Debug("flood window ended", "title", out.title, "body", out.body)
		c.deliver.enqueue(c.message(*out))
	}
}

// armErrorsLocked starts the error window timer. c.mu must be held.
func (c *Center) armErrorsLocked() {
	if c.errs != nil {
		c.errs.Stop()
	}
	c.errs = time.AfterFunc(ErrorWindow, c.errorWindowEnded)
}

// errorWindowEnded runs on the error timer: it sends the one notification
// for the errors past the cap ("and 5 more failed payments").
func (c *Center) errorWindowEnded() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	out := c.pol.flushErrors(c.prefs, time.Now())
	c.errs = nil
	c.mu.Unlock()
	if out != nil {
		c.log.Debug("error window ended", "title", out.title, "body", out.body)
		c.deliver.enqueue(c.message(*out))
	}
}

// message builds the desktop message for it: clean text cut to the desktop
// limits.
func (c *Center) message(it item) Message {
	return Message{
		EntryID: it.entryID,
		AppName: c.appName,
		Title:   Truncate(CleanText(it.title), MaxTitleRunes),
		Body:    Truncate(cleanMultiline(it.body), MaxBodyRunes),
		Icon:    c.icon,
		Urgency: it.typ.Urgency(),
		Timeout: it.timeout,
	}
}

// SetPrefs replaces the preferences; they apply to the next event (and to a
// flood summary not yet sent). Ending do-not-disturb shows what it hid: one
// notification that counts the events (they are all in the history).
func (c *Center) SetPrefs(p Prefs) {
	p = p.clone()
	c.mu.Lock()
	c.prefs = p
	now := time.Now()
	var out *item
	if !c.closed {
		out = c.pol.resumed(p, now)
		c.armPauseLocked(now)
	}
	c.mu.Unlock()
	c.sendResumed(out)
}

// armPauseLocked makes the pause timer fire when a timed do-not-disturb
// ends, so the summary of what it hid comes then, not with the next event.
// c.mu must be held.
func (c *Center) armPauseLocked(now time.Time) {
	if c.pause != nil {
		c.pause.Stop()
		c.pause = nil
	}
	if c.prefs.Paused(now) && !UntilResumed(c.prefs.PausedUntil, now) {
		c.pause = time.AfterFunc(c.prefs.PausedUntil.Sub(now), c.pauseEnded)
	}
}

// pauseEnded runs on the pause timer.
func (c *Center) pauseEnded() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	now := time.Now()
	out := c.pol.resumed(c.prefs, now)
	c.armPauseLocked(now) // a timer that fired a moment early tries again
	c.mu.Unlock()
	c.sendResumed(out)
}

// sendResumed queues the summary of what do-not-disturb hid, if any.
func (c *Center) sendResumed(out *item) {
	if out == nil {
		return
	}
	c.log.Info("do-not-disturb ended", "title", out.title, "body", out.body)
	c.deliver.enqueue(c.message(*out))
}

// Prefs returns a copy of the current preferences.
func (c *Center) Prefs() Prefs {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.prefs.clone()
}

// Close sends a pending flood summary (and count of errors past the cap)
// and stops the delivery goroutine (giving queued notifications a few
// seconds). The Notifier is not closed:
// whoever made it owns it. Handle returns ErrClosed afterwards. Close is
// idempotent.
func (c *Center) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.errs != nil {
		c.errs.Stop()
		c.errs = nil
	}
	if c.pause != nil {
		c.pause.Stop()
		c.pause = nil
	}
	now := time.Now()
	errs := c.pol.flushErrors(c.prefs, now)
	out := c.pol.flushFinal(c.prefs, now)
	c.mu.Unlock()
	for _, it := range []*item{errs, out} {
		if it != nil {
			c.deliver.enqueue(c.message(*it))
		}
	}
	c.deliver.close(closeGrace)
	return nil
}

// eventIDPaths are where a payload may carry its own unique id. Field names
// match ignoring case, "_" and "-" (event_id, eventId, EventID). A bare
// top-level "uuid" or "id" is not among them: in a flat Laravel payload that
// is the model's id, and two updates of one model are two events.
var eventIDPaths = [][]string{
	{"event_id"}, {"event_uuid"}, {"event", "id"}, {"event", "uuid"}, {"meta", "event_id"},
}

// EventKey is the history de-duplication key of an event: channel, short
// event name and the payload's own event id (see eventIDPaths), or "" when
// the payload has none.
func EventKey(channel, event string, data json.RawMessage) string {
	return eventKey(channel, ShortName(event), parsePayload(data))
}

func eventKey(channel, name string, p payload) string {
	for _, path := range eventIDPaths {
		v, ok := p.find(path)
		if !ok {
			continue
		}
		var id string
		switch t := v.(type) {
		case string:
			id = Truncate(CleanText(t), 128)
		case json.Number:
			id = t.String()
			if len(id) > 128 {
				// A number no backend uses as an id; keep the key short
				// but still unique to it.
				sum := sha256.Sum256([]byte(id))
				id = "n" + hex.EncodeToString(sum[:16])
			}
		}
		if id != "" {
			return channel + "/" + name + "/" + id
		}
	}
	return ""
}

// storableJSON returns data as valid JSON for the history: empty data
// becomes null and anything that is not JSON is kept as a JSON string, so no
// payload is lost or breaks the store.
func storableJSON(data json.RawMessage) json.RawMessage {
	trimmed := strings.TrimSpace(string(data))
	if trimmed == "" {
		return json.RawMessage("null")
	}
	if json.Valid([]byte(trimmed)) {
		return data
	}
	quoted, err := json.Marshal(strings.ToValidUTF8(string(data), "\uFFFD"))
	if err != nil { // cannot happen for a valid UTF-8 string
		return json.RawMessage("null")
	}
	return quoted
}
