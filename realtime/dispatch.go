package realtime

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// itemKind says which handler an item is for.
type itemKind uint8

const (
	itemEvent itemKind = iota
	itemState
	itemSubscription
)

// item is one queued handler call.
type item struct {
	kind  itemKind
	event Event
	state StateChange
	sub   SubscriptionChange
	// cost is the room booked for an event with reserve, given back when
	// it has been handled; 0 for anything else.
	cost int64
}

// Bounds of the dispatch queue. An application event takes room from the
// moment the reader has decoded it (before it reaches the supervisor) until
// its handlers have returned. When the next event does not fit, the reader
// waits: it stops reading the socket, so the server's writes back up in
// TCP, instead of the queue growing without limit. The room is counted in
// events and in bytes, whichever runs out first; one event always fits
// into an empty queue, so a frame larger than maxQueuedBytes (up to
// Config.MaxFrameBytes) still gets through alone.
//
// State and subscription changes are never held up (the supervisor that
// pushes them must not block): they take no room. They are few by
// construction (one per connection attempt, per subscription attempt), so
// they need no bound of their own.
const (
	// maxQueuedEvents is the most application events read and not yet
	// handled.
	maxQueuedEvents = 4096
	// maxQueuedBytes is the most frame bytes (plus eventOverhead each)
	// read and not yet handled: what a flood costs in memory at most.
	maxQueuedBytes = 8 << 20
	// eventOverhead is what one queued event costs beyond its frame bytes
	// (the Event, the item, channel and queue slots), for the byte count.
	eventOverhead = 256
)

// Backpressure warnings: the first time in an episode (from when the
// queue was last empty) that the reader has to wait, at most once per
// backpressureWarnEvery.
const backpressureWarnEvery = 30 * time.Second

// dispatcher calls the handlers from one goroutine, in order, never under a
// lock. Pushing never blocks; the queue is bounded by reserve, which the
// connection's reader calls before handing an event on.
type dispatcher struct {
	log            *slog.Logger
	onEvent        func(Event)
	onState        func(StateChange)
	onSubscription func(SubscriptionChange)
	listeners      *atomic.Pointer[[]*listener]

	mu     sync.Mutex
	queue  []item
	closed bool

	// Room booked by reserve and not yet given back by release.
	events int
	bytes  int64
	// space, when not nil, is closed by the next release: a reader waits on
	// it.
	space chan struct{}
	// Backpressure bookkeeping, for the logs.
	waited   bool      // the reader waited since the queue was last empty
	waits    int       // episodes since the last warning
	warnedAt time.Time // last warning

	wake chan struct{} // capacity 1
	done chan struct{} // closed when run returns
}

func newDispatcher(s *settings, listeners *atomic.Pointer[[]*listener]) *dispatcher {
	return &dispatcher{
		log:            s.Logger,
		onEvent:        s.OnEvent,
		onState:        s.OnStateChange,
		onSubscription: s.OnSubscription,
		listeners:      listeners,
		wake:           make(chan struct{}, 1),
		done:           make(chan struct{}),
	}
}

// eventCost is the room an event decoded from a frame of n bytes takes.
func eventCost(n int) int64 { return int64(n) + eventOverhead }

// reserve books room for one event of the given cost. It reports true at
// once when the event fits. Otherwise it returns a channel that is closed
// when room may have been freed: the caller waits on it (or gives up) and
// calls reserve again.
func (d *dispatcher) reserve(cost int64) (ok bool, wait <-chan struct{}) {
	d.mu.Lock()
	if d.events == 0 || d.events < maxQueuedEvents && d.bytes+cost <= maxQueuedBytes {
		d.events++
		d.bytes += cost
		d.mu.Unlock()
		return true, nil
	}
	warn, events, bytes, waits := false, d.events, d.bytes, 0
	if !d.waited {
		d.waited = true
		d.waits++
		if now := time.Now(); now.Sub(d.warnedAt) >= backpressureWarnEvery {
			warn, waits = true, d.waits
			d.warnedAt, d.waits = now, 0
		}
	}
	if d.space == nil {
		d.space = make(chan struct{})
	}
	wait = d.space
	d.mu.Unlock()
	if warn {
		d.log.Warn("realtime: event handlers are slower than the server; reading paused until they catch up",
			"queued_events", events, "queued_bytes", bytes,
			"max_events", maxQueuedEvents, "max_bytes", maxQueuedBytes, "pauses", waits)
	}
	return false, wait
}

// release gives back the room of one event: handled, or dropped before it
// was queued.
func (d *dispatcher) release(cost int64) {
	if cost <= 0 {
		return
	}
	d.mu.Lock()
	d.events--
	d.bytes -= cost
	if d.events == 0 {
		d.waited = false
	}
	if d.space != nil {
		close(d.space)
		d.space = nil
	}
	d.mu.Unlock()
}

// push queues one handler call. It never blocks. Items pushed after close
// are dropped (their room is given back).
func (d *dispatcher) push(it item) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.release(it.cost)
		return
	}
	d.queue = append(d.queue, it)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// close makes run return once everything already queued is delivered.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run is the dispatcher goroutine.
func (d *dispatcher) run() {
	defer close(d.done)
	var work []item
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			closed := d.closed
			d.mu.Unlock()
			if closed {
				return
			}
			<-d.wake
			continue
		}
		work, d.queue = d.queue, work[:0]
		d.mu.Unlock()
		for i := range work {
			d.call(&work[i])
			d.release(work[i].cost)
			work[i] = item{} // drop references to delivered payloads
		}
		if cap(work) > 2*maxQueuedEvents {
			work = nil // do not keep a burst of state changes forever
		}
	}
}

// call invokes the handlers for one item, recovering panics.
func (d *dispatcher) call(it *item) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("realtime: handler panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	switch it.kind {
	case itemEvent:
		if d.onEvent != nil {
			d.onEvent(it.event)
		}
		if ls := d.listeners.Load(); ls != nil {
			for _, l := range *ls {
				if l.matches(&it.event) {
					d.callListener(l, it.event)
				}
			}
		}
	case itemState:
		if d.onState != nil {
			d.onState(it.state)
		}
	case itemSubscription:
		if d.onSubscription != nil {
			d.onSubscription(it.sub)
		}
	}
}

// callListener isolates one listener's panic from the others.
func (d *dispatcher) callListener(l *listener, e Event) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("realtime: listener panicked", "channel", l.channel, "event", l.event,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if !l.stopped.Load() {
		l.fn(e)
	}
}

// listener is one Listen registration.
type listener struct {
	channel string // "" matches every channel
	event   string
	m       matcher
	fn      func(Event)
	stopped atomic.Bool
}

func (l *listener) matches(e *Event) bool {
	return (l.channel == "" || l.channel == e.Channel) && l.m.match(e.Name)
}
