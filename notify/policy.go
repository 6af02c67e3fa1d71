package notify

import (
	"cmp"
	"crypto/sha256"
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
	// ErrorLimit is how many error notifications may show within
	// ErrorWindow. Errors (a failed payment) are never folded into the
	// flood summary: they show one by one up to this cap, and only past it
	// are the rest counted in one notification ("and 5 more failed
	// payments") when the window ends.
	ErrorLimit = 10
	// ErrorWindow is the window of ErrorLimit.
	ErrorWindow = 10 * time.Second
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
	// The app turns it on unless the user turned it off (see
	// app.DefaultConfig).
	AllowErrorsWhilePaused bool
	// FloodLimit is how many notifications other than errors may show
	// within FloodWindow before further ones are folded into one summary.
	// 0 means DefaultFloodLimit; a negative value turns flood control off,
	// and with it the cap on errors (ErrorLimit).
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
	verdictErrorHeld                // past the error cap: counted for "and N more"
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
	case verdictErrorHeld:
		return "past the error cap"
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
//
// Errors are not part of that: they neither count towards the flood limit
// nor are held for its summary. Up to ErrorLimit show within ErrorWindow;
// past it they are counted, and when the window ends they are shown as one
// notification, "and 5 more failed payments" (or as themselves if only one
// was held). Then errors show one by one again. De-duplication, mute and
// do-not-disturb apply to errors as to everything else.
//
// Memory is bounded whatever the server sends: the de-duplication memory
// holds SHA-256 hashes of its keys (never the event names or texts) and
// at most maxSeen of them; held and paused notifications are counted in at
// most maxGroups groups per event (and as many per kind past that, then
// just counted: "and N others"); a group keeps an event name only up to
// maxGroupName bytes, and trimmed lists are copied, not resliced, so no
// backing array keeps what was dropped.
type policy struct {
	recent   []time.Time // when notifications showed, within the window
	held     groups      // held for the flood summary
	flooding bool

	errRecent   []time.Time // when errors showed, within ErrorWindow
	errHeld     groups      // errors past the cap, for "and N more"
	errFlooding bool        // errors are past the cap until the window ends

	seen      map[[32]byte]time.Time // hashed de-duplication key → when shown
	seenOrder []seenKey              // the keys of seen, oldest first, from seenHead
	seenHead  int                    // seenOrder[:seenHead] are forgotten (zeroed)

	missed groups // hidden by do-not-disturb, for the summary on resume
}

// Policy memory bounds.
const (
	// maxSeen bounds the de-duplication memory (about 56 bytes a key).
	maxSeen = 10000
	// maxGroups is how many events (by name and type) held or paused
	// notifications are told apart by; past it they are counted by kind
	// ("payments") in up to maxGroups more groups, and past that only
	// counted ("and 12 others"). Either way the total is exact.
	maxGroups = 64
	// maxGroupName is the longest event name a group keeps. A longer name
	// (the realtime client refuses names over 200 characters, so only a
	// misbehaving source sends one) is kept as its hash: its group cannot be
	// left out of a summary by muting the event after it arrived.
	maxGroupName = 256
)

// groups counts held or paused notifications.
type groups struct {
	list     []heldGroup // by event and type, then by kind, in order of first arrival
	others   int         // past both caps: only counted
	otherTyp Type        // the most severe type among others
}

// heldGroup counts the held notifications of one event and type, or, for
// an overflow group (byKind), of one kind and type.
type heldGroup struct {
	key    string // groupKey of the event; "" for an overflow group
	event  string // the event name, if at most maxGroupName bytes
	byKind bool   // an overflow group: counted by noun, no event
	typ    Type
	noun   [2]string
	n      int
	last   item // shown as itself when it is all that is held
}

type seenKey struct {
	key [32]byte
	at  time.Time
}

// groupKey identifies an event in a group: the name itself when short,
// else a hash of it.
func groupKey(event string) string {
	if len(event) <= maxGroupName {
		return event
	}
	h := sha256.Sum256([]byte(event))
	return "\x00sha256:" + string(h[:])
}

// admit decides about it at now. armTimer asks the caller to call flush
// after prefs' flood window.
func (p *policy) admit(prefs Prefs, now time.Time, it item) (v verdict, armTimer bool) {
	if prefs.IsMuted(it.event) {
		return verdictMuted, false
	}
	if !allowedWhilePaused(prefs, now, it.typ) {
		if !p.duplicate(now, it) {
			p.missed.add(it)
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
	if it.typ == TypeError {
		return p.admitError(now, it)
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
	p.held = groups{}
	p.hold(it)
	return verdictHeld, true
}

// admitError is admit for an error that may show: it shows unless
// ErrorLimit errors showed within ErrorWindow; then it is counted for the
// notification at the end of the window.
func (p *policy) admitError(now time.Time, it item) (v verdict, armTimer bool) {
	if p.errFlooding {
		p.errHeld.add(it)
		return verdictErrorHeld, false
	}
	cutoff := now.Add(-ErrorWindow)
	p.errRecent = slices.DeleteFunc(p.errRecent, func(t time.Time) bool { return !t.After(cutoff) })
	if len(p.errRecent) < ErrorLimit {
		p.errRecent = append(p.errRecent, now)
		return verdictShow, false
	}
	p.errFlooding = true
	p.errHeld = groups{}
	p.errHeld.add(it)
	return verdictErrorHeld, true
}

// duplicate reports whether it was shown (or held) within DedupeWindow, and
// remembers it otherwise. Keyed events are de-duplicated by the history
// already; remembering their key here too covers a history that failed to
// store them. Events without a key are remembered by their content. Only a
// hash of the key is kept.
func (p *policy) duplicate(now time.Time, it item) bool {
	p.forget(now)
	key := dedupeKey(it)
	if at, dup := p.seen[key]; dup && now.Sub(at) < DedupeWindow && !now.Before(at) {
		return true
	}
	if p.seen == nil {
		p.seen = map[[32]byte]time.Time{}
	}
	p.seen[key] = now
	p.seenOrder = append(p.seenOrder, seenKey{key, now})
	return false
}

// forget drops the keys older than DedupeWindow, and the oldest past
// maxSeen. The dropped part of seenOrder is zeroed and, once it is the
// larger part, the rest is copied down, so the slice never grows past
// about twice maxSeen and holds nothing forgotten.
func (p *policy) forget(now time.Time) {
	for p.seenHead < len(p.seenOrder) {
		old := p.seenOrder[p.seenHead]
		if now.Sub(old.at) < DedupeWindow && len(p.seenOrder)-p.seenHead < maxSeen {
			break
		}
		if p.seen[old.key].Equal(old.at) {
			delete(p.seen, old.key)
		}
		p.seenOrder[p.seenHead] = seenKey{}
		p.seenHead++
	}
	live := len(p.seenOrder) - p.seenHead
	switch {
	case live == 0:
		p.seenOrder, p.seenHead = p.seenOrder[:0], 0
		if cap(p.seenOrder) > 1024 {
			p.seenOrder = nil // a burst is over: give its memory back
		}
	case p.seenHead >= 1024 && p.seenHead >= live:
		kept := make([]seenKey, live, max(2*live, 64))
		copy(kept, p.seenOrder[p.seenHead:])
		p.seenOrder, p.seenHead = kept, 0
	}
	if len(p.seen) == 0 && p.seen != nil {
		p.seen = nil // a map never shrinks: drop an empty one
	}
}

// dedupeKey hashes the de-duplication key of it: its own key when it has
// one, else its content (event, title, message and payload hash: two
// events that render alike, a generic sentence for two different models,
// are two events).
func dedupeKey(it item) [32]byte {
	h := sha256.New()
	if it.key != "" {
		h.Write([]byte("id\x00"))
		h.Write([]byte(it.key))
	} else {
		for _, s := range []string{"content", it.event, it.title, it.body} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		h.Write(it.payload[:])
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// hold counts it for the flood summary.
func (p *policy) hold(it item) {
	p.held.add(it)
}

// add counts it in the group of its event and type; past maxGroups events,
// in the group of its kind and type; past maxGroups kinds too, in others.
func (g *groups) add(it item) {
	key := groupKey(it.event)
	events := 0
	for i := range g.list {
		x := &g.list[i]
		if x.byKind {
			continue
		}
		events++
		if x.key == key && x.typ == it.typ {
			x.n++
			x.last = trimmed(it)
			return
		}
	}
	if events < maxGroups {
		hg := heldGroup{key: key, typ: it.typ, noun: it.noun, n: 1, last: trimmed(it)}
		if len(it.event) <= maxGroupName {
			hg.event = it.event
		}
		g.list = append(g.list, hg)
		return
	}
	kinds := 0
	for i := range g.list {
		x := &g.list[i]
		if !x.byKind {
			continue
		}
		kinds++
		if x.noun == it.noun && x.typ == it.typ {
			x.n++
			return
		}
	}
	if kinds < maxGroups {
		g.list = append(g.list, heldGroup{byKind: true, typ: it.typ, noun: it.noun, n: 1})
		return
	}
	g.others++
	if g.others == 1 || severity(it.typ) > severity(g.otherTyp) {
		g.otherTyp = it.typ
	}
}

// total is how many notifications g counts.
func (g *groups) total() int {
	n := g.others
	for _, x := range g.list {
		n += x.n
	}
	return n
}

// trimmed is it as a group keeps it to show it alone later: without its
// history key, with its event name only if short, and with title and body
// within the history's caps.
func trimmed(it item) item {
	it.key = ""
	if len(it.event) > maxGroupName {
		it.event = ""
	}
	it.title = Truncate(it.title, maxStoredTitleRunes)
	it.body = Truncate(it.body, maxStoredMessageRunes)
	return it
}

// hidden reports whether prefs at now leave the notifications of x out of
// a summary: their event is muted (only known for a group that kept its
// event name) or do-not-disturb hides their type.
func (x heldGroup) hidden(prefs Prefs, now time.Time) bool {
	return (x.event != "" && prefs.IsMuted(x.event)) || !allowedWhilePaused(prefs, now, x.typ)
}

// filter returns g without what prefs at now leave out (see hidden); the
// others are left out when do-not-disturb hides the most severe of them.
func (g groups) filter(prefs Prefs, now time.Time) groups {
	out := groups{list: slices.DeleteFunc(g.list, func(x heldGroup) bool { return x.hidden(prefs, now) })}
	if g.others > 0 && allowedWhilePaused(prefs, now, g.otherTyp) {
		out.others, out.otherTyp = g.others, g.otherTyp
	}
	return out
}

// single returns the one notification g holds, if it holds exactly one
// that can be shown as itself.
func (g groups) single() (item, bool) {
	if g.others == 0 && len(g.list) == 1 && g.list[0].n == 1 && !g.list[0].byKind {
		return g.list[0].last, true
	}
	return item{}, false
}

// resumed is called when do-not-disturb may have ended. If it has (prefs
// no longer pause at now) and notifications were hidden meanwhile, it
// returns one notification about them: the event itself, titled "While
// paused: …", when there was one, else "14 events while paused" counting
// them by kind. Events muted since are left out. While still paused it
// returns nil and keeps counting.
func (p *policy) resumed(prefs Prefs, now time.Time) *item {
	if prefs.Paused(now) || p.missed.total() == 0 {
		return nil
	}
	missed := p.missed.filter(prefs, now) // not paused: only mutes leave groups out
	p.missed = groups{}
	if it, ok := missed.single(); ok {
		it.title = "While paused: " + it.title
		return &it
	}
	if missed.total() == 0 {
		return nil
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
	arrived := p.held.total()
	held := p.held.filter(prefs, now)
	p.held = groups{}
	if arrived == 0 {
		// A quiet window: the flood is over.
		p.flooding = false
		p.recent = p.recent[:0]
		return nil, false
	}
	if it, ok := held.single(); ok {
		return &it, true
	}
	if held.total() == 0 {
		return nil, true
	}
	s := summaryOf(held)
	return &s, true
}

// flushErrors ends an error window at now: it returns what to show for the
// errors past the cap (nothing, the one held, or "and N more …"; see
// moreErrors), and errors show one by one again. Held errors whose event
// was muted or which do-not-disturb now hides are dropped.
func (p *policy) flushErrors(prefs Prefs, now time.Time) *item {
	if !p.errFlooding {
		return nil
	}
	held := p.errHeld.filter(prefs, now)
	p.errHeld, p.errFlooding = groups{}, false
	if it, ok := held.single(); ok {
		return &it
	}
	if held.total() == 0 {
		return nil
	}
	s := moreErrors(held)
	return &s
}

// flushFinal returns what is still held (for Close) and stops the flood.
func (p *policy) flushFinal(prefs Prefs, now time.Time) *item {
	out, _ := p.flush(prefs, now)
	p.flooding, p.held = false, groups{}
	return out
}

// moreErrors is the one notification for errors past the cap: "and 5 more
// failed payments" when they are all of one kind (the catalog's noun),
// else "and 5 more errors" with a body that counts them by kind. It is
// critical, and a click opens the history at the top.
func moreErrors(g groups) item {
	s := summaryOf(g) // its body counts them by kind
	one, many := "error", "errors"
	if noun, ok := g.noun(); ok && noun[0] != otherEvent {
		one, many = noun[0], noun[1]
		s.body = "They are all in the history."
	}
	s.title = "and " + plural(s.total, "more "+one, "more "+many)
	s.typ = TypeError
	s.timeout = timeoutFor(s.typ)
	return s
}

// otherEvent is the noun Catalog.category gives events it has no noun
// for: "and 5 more other events" would say nothing, so those are "errors".
const otherEvent = "other event"

// noun returns the noun of every notification g counts, if they share one.
func (g groups) noun() ([2]string, bool) {
	if g.others > 0 || len(g.list) == 0 {
		return [2]string{}, false
	}
	n := g.list[0].noun
	for _, x := range g.list[1:] {
		if x.noun != n {
			return [2]string{}, false
		}
	}
	return n, true
}

// summaryOf folds held notifications into one: "12 new events" with a body
// that counts them by kind, "8 payments, 4 users" (most first, ties in order
// of arrival), and "… and 3 others" for those counted past the group caps.
// Its type is the most severe of theirs (so an error makes the summary
// critical), and a click opens the history at the top.
func summaryOf(g groups) item {
	type count struct {
		noun  [2]string
		n     int
		first int
	}
	counts := map[string]*count{}
	typ, total := TypeInfo, 0
	for i, x := range g.list {
		c := counts[x.noun[0]]
		if c == nil {
			c = &count{noun: x.noun, first: i}
			counts[x.noun[0]] = c
		}
		c.n += x.n
		total += x.n
		if severity(x.typ) > severity(typ) {
			typ = x.typ
		}
	}
	if g.others > 0 {
		total += g.others
		if severity(g.otherTyp) > severity(typ) {
			typ = g.otherTyp
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
	body := strings.Join(parts, ", ")
	if g.others > 0 {
		body += fmt.Sprintf(" and %d others", g.others)
	}
	return item{
		typ:     typ,
		title:   plural(total, "new event", "new events"),
		body:    body,
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
