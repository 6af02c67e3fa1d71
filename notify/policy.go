package notify

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Policy defaults.
const (
	// DefaultFloodLimit is how many notifications may show within the flood
	// window before the rest are summarised.
	DefaultFloodLimit = 3
	// DefaultFloodWindow is the flood control window.
	DefaultFloodWindow = 10 * time.Second
	// DedupeWindow is how long a shown event is remembered: by its key when
	// it carried an event id, else by its content (event, title, message
	// and payload).
	// The same again within it is stored but not shown a second time (e.g. a
	// replay after a reconnect, or one event broadcast on two channels the
	// user listens to).
	DedupeWindow = 30 * time.Second
)

// PausedForever is a PausedUntil that means "paused until resumed".
var PausedForever = time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)

// untilResumedAfter is how far ahead a pause end must be to count as "until
// resumed": PausedForever, and far-future ends written by older versions.
const untilResumedAfter = 10 * 365 * 24 * time.Hour

// UntilResumed reports whether a pause ending at until means "until
// resumed" at now. It is the one test for it: the tray, the settings
// window and the pause summary all use it.
func UntilResumed(until, now time.Time) bool {
	return !until.Before(PausedForever) || until.Sub(now) >= untilResumedAfter
}

// Prefs are the user's notification preferences. The zero Prefs shows
// everything with the default flood control.
type Prefs struct {
	// Muted events (by short event name, e.g. "UserUpdated") are kept in the
	// history but never shown on the desktop.
	Muted map[string]bool
	// PausedUntil turns do-not-disturb on until that time; zero means off,
	// PausedForever means until resumed. Paused events are still stored.
	PausedUntil time.Time
	// AllowErrorsWhilePaused lets error-type events through do-not-disturb.
	AllowErrorsWhilePaused bool
	// FloodLimit is how many notifications may show within FloodWindow
	// before further ones are folded into one summary. 0 means
	// DefaultFloodLimit; a negative value turns flood control off.
	FloodLimit int
	// FloodWindow is the flood control window; 0 means DefaultFloodWindow.
	FloodWindow time.Duration
}

// Paused reports whether do-not-disturb is on at now.
func (p Prefs) Paused(now time.Time) bool {
	return !p.PausedUntil.IsZero() && now.Before(p.PausedUntil)
}

// IsMuted reports whether event (a short or namespaced name) is muted. The
// keys of Muted may be namespaced too; case does not matter.
func (p Prefs) IsMuted(event string) bool {
	name := ShortName(event)
	if p.Muted[name] {
		return true
	}
	for k, v := range p.Muted {
		if v && strings.EqualFold(ShortName(k), name) {
			return true
		}
	}
	return false
}

func (p Prefs) floodLimit() int {
	if p.FloodLimit == 0 {
		return DefaultFloodLimit
	}
	return p.FloodLimit
}

func (p Prefs) floodWindow() time.Duration {
	if p.FloodWindow <= 0 {
		return DefaultFloodWindow
	}
	return p.FloodWindow
}

// clone returns p with its own Muted map.
func (p Prefs) clone() Prefs {
	p.Muted = maps.Clone(p.Muted)
	return p
}

// item is a notification on its way through the policy.
type item struct {
	event   string
	typ     Type
	title   string
	body    string
	entryID int64
	timeout time.Duration
	key     string    // the event's own key (Entry.Key); "" = de-duplicate by content
	payload [32]byte  // SHA-256 of the raw payload: part of the content
	noun    [2]string // singular and plural, for summaries
	total   int       // for a summary: how many notifications it stands for
}

// verdict is what the policy decided for one notification.
type verdict int

const (
	verdictShow      verdict = iota // show it now
	verdictMuted                    // its event is muted
	verdictPaused                   // do-not-disturb
	verdictDuplicate                // same content shown moments ago
	verdictHeld                     // flood: held for the summary
)

func (v verdict) String() string {
	switch v {
	case verdictShow:
		return "show"
	case verdictMuted:
		return "muted"
	case verdictPaused:
		return "paused"
	case verdictDuplicate:
		return "duplicate"
	case verdictHeld:
		return "held for summary"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// policy decides which notifications show. It holds no lock and reads no
// clock: the Center serialises calls and passes the time, so tests drive it
// with virtual time.
//
// Flood control: up to the flood limit show within the flood window; the
// next one starts a flood. During a flood notifications are held, and at the
// end of each window the held ones are shown as one summary (or as
// themselves if only one was held). A window with nothing held ends the
// flood. Held notifications are kept as counts per event and type, so a
// storm of any size takes little memory.
type policy struct {
	recent   []time.Time // when notifications showed, within the window
	held     []heldGroup // in order of first arrival
	flooding bool

	seen      map[string]time.Time // de-duplication key → when shown
	seenOrder []seenKey            // the keys of seen, oldest first

	missed []heldGroup // hidden by do-not-disturb, for the summary on resume
}

// heldGroup counts the held notifications of one event and type.
type heldGroup struct {
	event string
	typ   Type
	noun  [2]string
	n     int
	last  item // shown as itself when it is all that is held
}

type seenKey struct {
	key string
	at  time.Time
}

// maxSeen bounds the de-duplication memory.
const maxSeen = 10000

// admit decides about it at now. armTimer asks the caller to call flush
// after prefs' flood window.
func (p *policy) admit(prefs Prefs, now time.Time, it item) (v verdict, armTimer bool) {
	if prefs.IsMuted(it.event) {
		return verdictMuted, false
	}
	if !allowedWhilePaused(prefs, now, it.typ) {
		if !p.duplicate(now, it) {
			p.missed = addToGroups(p.missed, it)
		}
		return verdictPaused, false
	}
	if p.duplicate(now, it) {
		return verdictDuplicate, false
	}
	limit := prefs.floodLimit()
	if limit < 0 {
		return verdictShow, false
	}
	if p.flooding {
		p.hold(it)
		return verdictHeld, false
	}
	cutoff := now.Add(-prefs.floodWindow())
	p.recent = slices.DeleteFunc(p.recent, func(t time.Time) bool { return !t.After(cutoff) })
	if len(p.recent) < limit {
		p.recent = append(p.recent, now)
		return verdictShow, false
	}
	p.flooding = true
	p.held = p.held[:0]
	p.hold(it)
	return verdictHeld, true
}

// duplicate reports whether it was shown (or held) within DedupeWindow, and
// remembers it otherwise. Keyed events are de-duplicated by the history
// already; remembering their key here too covers a history that failed to
// store them. Events without a key are remembered by their content.
func (p *policy) duplicate(now time.Time, it item) bool {
	for len(p.seenOrder) > 0 {
		old := p.seenOrder[0]
		if now.Sub(old.at) < DedupeWindow && len(p.seenOrder) < maxSeen {
			break
		}
		if p.seen[old.key].Equal(old.at) {
			delete(p.seen, old.key)
		}
		p.seenOrder = p.seenOrder[1:]
	}
	key := "id\x00" + it.key
	if it.key == "" {
		// The payload too: two events that render alike (a generic
		// sentence for two different models) are two events.
		key = "content\x00" + it.event + "\x00" + it.title + "\x00" + it.body + "\x00" + string(it.payload[:])
	}
	if at, dup := p.seen[key]; dup && now.Sub(at) < DedupeWindow && !now.Before(at) {
		return true
	}
	if p.seen == nil {
		p.seen = map[string]time.Time{}
	}
	p.seen[key] = now
	p.seenOrder = append(p.seenOrder, seenKey{key, now})
	return false
}

// hold counts it for the flood summary.
func (p *policy) hold(it item) {
	p.held = addToGroups(p.held, it)
}

// addToGroups counts it in the group of its event and type.
func addToGroups(groups []heldGroup, it item) []heldGroup {
	for i := range groups {
		if g := &groups[i]; g.event == it.event && g.typ == it.typ {
			g.n++
			g.last = it
			return groups
		}
	}
	return append(groups, heldGroup{event: it.event, typ: it.typ, noun: it.noun, n: 1, last: it})
}

// resumed is called when do-not-disturb may have ended. If it has (prefs
// no longer pause at now) and notifications were hidden meanwhile, it
// returns one notification about them: the event itself, titled "While
// paused: …", when there was one, else "14 events while paused" counting
// them by kind. Events muted since are left out. While still paused it
// returns nil and keeps counting.
func (p *policy) resumed(prefs Prefs, now time.Time) *item {
	if prefs.Paused(now) || len(p.missed) == 0 {
		return nil
	}
	missed := slices.DeleteFunc(p.missed, func(g heldGroup) bool { return prefs.IsMuted(g.event) })
	p.missed = nil
	switch {
	case len(missed) == 0:
		return nil
	case len(missed) == 1 && missed[0].n == 1:
		it := missed[0].last
		it.title = "While paused: " + it.title
		return &it
	}
	s := summaryOf(missed)
	s.title = plural(s.total, "event", "events") + " while paused"
	return &s
}

func allowedWhilePaused(prefs Prefs, now time.Time, typ Type) bool {
	return !prefs.Paused(now) || prefs.AllowErrorsWhilePaused && typ == TypeError
}

// flush ends a flood window at now. It returns what to show for the held
// notifications (nothing, the one held, or a summary) and whether another
// window follows (rearm). Held notifications whose event was muted or which
// do-not-disturb now hides in the meantime are dropped.
func (p *policy) flush(prefs Prefs, now time.Time) (out *item, rearm bool) {
	if !p.flooding {
		return nil, false
	}
	arrived := len(p.held)
	held := slices.DeleteFunc(p.held, func(g heldGroup) bool {
		return prefs.IsMuted(g.event) || !allowedWhilePaused(prefs, now, g.typ)
	})
	p.held = nil
	if arrived == 0 {
		// A quiet window: the flood is over.
		p.flooding = false
		p.recent = p.recent[:0]
		return nil, false
	}
	switch {
	case len(held) == 0:
		return nil, true
	case len(held) == 1 && held[0].n == 1:
		it := held[0].last
		return &it, true
	}
	s := summaryOf(held)
	return &s, true
}

// flushFinal returns what is still held (for Close) and stops the flood.
func (p *policy) flushFinal(prefs Prefs, now time.Time) *item {
	out, _ := p.flush(prefs, now)
	p.flooding, p.held = false, nil
	return out
}

// summaryOf folds held notifications into one: "12 new events" with a body
// that counts them by kind, "8 payments, 4 users" (most first, ties in order
// of arrival). Its type is the most severe of theirs (so an error makes the
// summary critical), and a click opens the history at the top.
func summaryOf(groups []heldGroup) item {
	type count struct {
		noun  [2]string
		n     int
		first int
	}
	counts := map[string]*count{}
	typ, total := TypeInfo, 0
	for i, g := range groups {
		c := counts[g.noun[0]]
		if c == nil {
			c = &count{noun: g.noun, first: i}
			counts[g.noun[0]] = c
		}
		c.n += g.n
		total += g.n
		if severity(g.typ) > severity(typ) {
			typ = g.typ
		}
	}
	list := slices.Collect(maps.Values(counts))
	slices.SortFunc(list, func(a, b *count) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.first, b.first))
	})
	parts := make([]string, len(list))
	for i, c := range list {
		parts[i] = plural(c.n, c.noun[0], c.noun[1])
	}
	return item{
		typ:     typ,
		title:   plural(total, "new event", "new events"),
		body:    strings.Join(parts, ", "),
		timeout: timeoutFor(typ),
		total:   total,
	}
}

// severity orders types for summaries; success and info rank alike.
func severity(t Type) int {
	switch t {
	case TypeError:
		return 2
	case TypeWarning:
		return 1
	}
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
