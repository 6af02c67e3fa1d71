package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"echotray/app/catchup"
	"echotray/notify"
	"echotray/realtime"
)

// Channel kinds, as the status line names them (ipc.ChannelState.Kind).
const (
	KindTenant        = "tenant"
	KindPersonal      = "personal"
	KindAdmin         = "admin"
	KindNotifications = "notifications"
	KindExtra         = "extra"
)

// ChannelSpec is one channel the service subscribes and what kind it is.
type ChannelSpec struct {
	Name string
	Kind string
}

// ServiceChannels are the channels the service subscribes for u with cfg:
// the role's channels, the user's Laravel notification channel
// (notifications.channel with "{id}"; empty turns it off) and the extra
// channels of the settings ("{tenant_id}" and "{user_id}" replaced), each
// once, in that order.
func ServiceChannels(u User, cfg Config) []ChannelSpec {
	var out []ChannelSpec
	seen := map[string]bool{}
	add := func(name, kind string) {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, ChannelSpec{Name: name, Kind: kind})
	}
	for _, ch := range u.Channels() {
		switch {
		case ch == ChannelSystemAdmin:
			add(ch, KindAdmin)
		case strings.HasPrefix(ch, channelUserPrefix):
			add(ch, KindPersonal)
		default:
			add(ch, KindTenant)
		}
	}
	if nc := NotificationChannel(u, cfg); nc != "" {
		add(nc, KindNotifications)
	}
	for _, ch := range extraChannels(u, cfg) {
		add(ch, KindExtra)
	}
	return out
}

// extraChannels is Config.ExtraChannels for u; ids that are not numbers
// are replaced as written.
func extraChannels(u User, cfg Config) []string {
	if id, err := strconv.ParseInt(u.ID, 10, 64); err == nil {
		var tenant *int64
		if t, err := strconv.ParseInt(u.TenantID, 10, 64); err == nil {
			tenant = &t
		}
		if tenant != nil || u.TenantID == "" {
			return cfg.ExtraChannels(id, tenant)
		}
	}
	var out []string
	for _, ch := range cfg.Channels.Extra {
		if strings.Contains(ch, "{tenant_id}") && u.TenantID == "" {
			continue // a tenant channel for a user outside any tenant
		}
		out = append(out, strings.NewReplacer("{tenant_id}", u.TenantID, "{user_id}", u.ID).Replace(ch))
	}
	return out
}

// NotificationChannel is the user's Laravel notification channel, or ""
// when notifications are off.
func NotificationChannel(u User, cfg Config) string {
	ch := strings.TrimSpace(cfg.Notifications.Channel)
	if ch == "" {
		return ""
	}
	return strings.ReplaceAll(ch, "{id}", u.ID)
}

// ChannelKind is the kind of a channel of ServiceChannels(u, cfg);
// "extra" for any other.
func ChannelKind(u User, cfg Config, channel string) string {
	for _, c := range ServiceChannels(u, cfg) {
		if c.Name == channel {
			return c.Kind
		}
	}
	return KindExtra
}

// Connection gaps: a loss longer than GapMin is written to the history;
// one longer than GapNotify also raises a desktop notification.
var (
	GapMin    = 10 * time.Second
	GapNotify = 5 * time.Minute
)

// GapEvent is the history event name of a connection gap entry.
const GapEvent = "ConnectionGap"

// GapChannel is the channel of EchoTray's own entries.
const GapChannel = "local"

// GapEntry is the history entry for a connection lost from from to to;
// recovered is how many notifications catch-up brought back (nil when it
// did not run).
func GapEntry(from, to time.Time, recovered *int) notify.Entry {
	msg := fmt.Sprintf("Offline from %s to %s — events sent in that time were not received", clock(from, to), clock(to, from))
	if recovered != nil && *recovered > 0 {
		msg += " — " + FormatCount(*recovered) + " recovered"
	}
	msg += "."
	data := fmt.Sprintf(`{"from":%q,"to":%q,"recovered":%s}`, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), recoveredJSON(recovered))
	return notify.Entry{
		Time:    to,
		Channel: GapChannel,
		Event:   GapEvent,
		Type:    notify.TypeWarning,
		Title:   "Offline for " + DurationWords(to.Sub(from)),
		Message: msg,
		Data:    []byte(data),
	}
}

func recoveredJSON(n *int) string {
	if n == nil {
		return "null"
	}
	return fmt.Sprint(*n)
}

// clock is t as a local time of day, with the weekday when other is on
// another day.
func clock(t, other time.Time) string {
	t, other = t.Local(), other.Local()
	y1, m1, d1 := t.Date()
	y2, m2, d2 := other.Date()
	if y1 != y2 || m1 != m2 || d1 != d2 {
		return t.Format("Mon 15:04")
	}
	return t.Format("15:04")
}

// DurationWords is d in words: "40 seconds", "35 minutes", "2 hours 5 minutes".
func DurationWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return Plural(int(d.Round(time.Second)/time.Second), "second")
	case d < time.Hour:
		return Plural(int(d.Round(time.Minute)/time.Minute), "minute")
	}
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m == 0 {
		return Plural(h, "hour")
	}
	return Plural(h, "hour") + " " + Plural(m, "minute")
}

// catchReq asks the catch-up worker for a catch-up; after a lost
// connection it carries the gap.
type catchReq struct {
	from, to time.Time // zero: the start of the service
}

// setupCatchUp prepares the run's catch-up and read sync (when the user's
// notification channel is on).
func (s *Service) setupCatchUp(r *running) {
	r.catchReqs = make(chan catchReq, 16)
	r.notifChannel = NotificationChannel(r.user, r.cfg)
	dir := s.opts.StateDir
	if dir == "" {
		d, err := CacheDir()
		if err != nil {
			s.log.Warn("no cache directory: catch-up and read sync are off", "err", err)
		}
		dir = d
	}
	if r.notifChannel == "" || dir == "" {
		return
	}
	server := normalizedServer(s.opts.Session.Server())
	client := &catchup.Client{Server: server, HTTP: s.opts.Session.HTTPClient(), Header: s.opts.Session.Header, PerPage: 100}
	r.catchup = &catchup.Runner{
		Client:  client,
		Store:   s.opts.Store,
		Catalog: notify.NewCatalog(r.cfg.Notifications.Overrides),
		State:   catchup.NewState(filepath.Join(dir, catchup.StateFileName)),
		Account: r.account,
		Channel: r.notifChannel,
		Logger:  s.opts.Logger.With("component", "catchup"),
	}
	r.syncer = &catchup.Syncer{Client: client, Account: r.account, Path: filepath.Join(dir, catchup.QueueFileName),
		Logger: s.opts.Logger.With("component", "readsync")}
}

// startCatchUp starts the run's catch-up worker and read-sync worker and
// asks for the catch-up of the start.
func (s *Service) startCatchUp(r *running) {
	r.wg.Add(2)
	go s.catchLoop(r)
	go s.heartbeat(r)
	if r.syncer != nil {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.syncer.Run(r.ctx)
		}()
	}
	r.catchReqs <- catchReq{}
}

// trackGap runs on the realtime dispatcher: it notes when a live
// connection is lost and, once connected again, hands the gap to the
// catch-up worker.
func (s *Service) trackGap(r *running, sc realtime.StateChange) {
	now := s.now()
	switch {
	case sc.Current == realtime.StateConnected:
		if !r.lostAt.IsZero() {
			req := catchReq{from: r.lostAt, to: now}
			r.lostAt = time.Time{}
			select {
			case r.catchReqs <- req:
			default:
				s.log.Warn("catch-up queue full; dropping a request")
			}
			if r.syncer != nil {
				r.syncer.Kick()
			}
		}
	case sc.Previous == realtime.StateConnected && sc.Current != realtime.StateDisconnected:
		r.lostAt = now
		// After a sleep the loss is only noticed on waking: the gap
		// began when the computer was last seen awake.
		if beat := r.beat.Load(); beat != 0 {
			if last := time.Unix(0, beat); now.Sub(last) > 2*beatEvery {
				r.lostAt = last
			}
		}
	}
}

// beatEvery is how often a running service notes that the computer is
// awake (the start of a gap that a sleep caused).
const beatEvery = 10 * time.Second

// heartbeat notes the wall-clock time every beatEvery until the run ends;
// a suspended computer runs no timer, so the last beat is when it slept.
func (s *Service) heartbeat(r *running) {
	defer r.wg.Done()
	t := time.NewTicker(beatEvery)
	defer t.Stop()
	r.beat.Store(s.now().UnixNano())
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
			r.beat.Store(s.now().UnixNano())
		}
	}
}

// catchLoop is the run's catch-up worker: one catch-up at a time, off
// the dispatcher, so live events and the core never wait for it.
func (s *Service) catchLoop(r *running) {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case req := <-r.catchReqs:
			s.catchUp(r, req)
		}
	}
}

// catchUp runs one catch-up and, after a gap, writes the gap entry.
func (s *Service) catchUp(r *running, req catchReq) {
	var recovered *int
	if r.catchup != nil && !r.catchOff {
		res, err := r.catchup.Run(r.ctx)
		switch {
		case r.ctx.Err() != nil:
			return
		case errors.Is(err, catchup.ErrUnsupported):
			r.catchOff = true
			s.log.Info("the server offers no notification list; catch-up is off for this server", "err", err)
		case errors.Is(err, catchup.ErrUnauthorized):
			s.expireAsync(r, fmt.Errorf("%w: %w", ErrSessionExpired, err))
			return
		case err != nil:
			s.log.Warn("catch-up failed; it runs again after the next reconnection", "err", err)
		}
		if err == nil || len(res.New) > 0 {
			n := len(res.New)
			recovered = &n
		}
		if len(res.New) > 0 {
			if h := s.opts.Hooks.OnCaughtUp; h != nil {
				h(res.New)
			}
			s.announce(r, res.New)
		}
	}
	if req.from.IsZero() || req.to.Sub(req.from) <= GapMin {
		return
	}
	e := GapEntry(req.from, req.to, recovered)
	stored, err := s.opts.Store.Add(r.ctx, &e)
	if err != nil {
		s.log.Error("cannot store the connection gap", "err", err)
	}
	s.log.Info("connection gap", "from", req.from, "to", req.to, "recovered", recovered)
	if h := s.opts.Hooks.OnEntry; h != nil {
		h(e, stored)
	}
	if req.to.Sub(req.from) > GapNotify && s.opts.Notifier != nil && !r.center.Prefs().Paused(s.now()) {
		s.notify(r.ctx, notify.Message{EntryID: e.ID, AppName: s.opts.AppName, Title: e.Title,
			Body: e.Message, Icon: s.opts.Icon, Urgency: notify.UrgencyNormal, Timeout: notify.DefaultTimeout})
	}
}

// announce shows what a catch-up recovered: each when few, else one
// summary; nothing while paused or for muted events.
func (s *Service) announce(r *running, entries []notify.Entry) {
	if s.opts.Notifier == nil {
		return
	}
	prefs := r.center.Prefs()
	if prefs.Paused(s.now()) {
		return
	}
	var shown []notify.Entry
	for _, e := range entries {
		if !prefs.Muted[e.Event] && !r.catchup.Catalog.Muted(e.Event) {
			shown = append(shown, e)
		}
	}
	for _, m := range catchup.Messages(shown, s.opts.AppName, s.opts.Icon) {
		s.notify(r.ctx, m)
	}
}

func (s *Service) notify(ctx context.Context, m notify.Message) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := s.opts.Notifier.Notify(ctx, m); err != nil {
		s.log.Warn("cannot show a notification", "title", m.Title, "err", err)
	}
}

// MarkReadRemote marks the entries read on the server where they came
// from a Laravel database notification: queued (on disk) and sent by the
// read-sync worker, never blocking. Entries without a UUID are skipped.
func (s *Service) MarkReadRemote(ctx context.Context, ids []int64) error {
	s.mu.Lock()
	r := s.run
	s.mu.Unlock()
	if r == nil || r.syncer == nil || len(ids) == 0 {
		return nil
	}
	m, err := s.opts.Store.ExternalIDs(ctx, ids...)
	if err != nil {
		return fmt.Errorf("find the notifications to mark read: %w", err)
	}
	var uuids []string
	for _, id := range ids {
		if u := m[id]; u != "" {
			uuids = append(uuids, u)
		}
	}
	return r.syncer.Enqueue(uuids...)
}

func (s *Service) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// ForgetAccountState removes what catch-up and read sync keep for account
// in dir ("" means the cache directory): used when its history is removed
// from this computer.
func ForgetAccountState(dir, account string) error {
	if dir == "" {
		d, err := CacheDir()
		if err != nil {
			return err
		}
		dir = d
	}
	return errors.Join(
		catchup.NewState(filepath.Join(dir, catchup.StateFileName)).Forget(account),
		catchup.ForgetQueue(filepath.Join(dir, catchup.QueueFileName), account))
}
