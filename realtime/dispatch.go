package realtime

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
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
}

// warnQueueFrom is the queue length at which the dispatcher starts warning
// about a slow consumer (then at every doubling).
const warnQueueFrom = 1024

// dispatcher calls the handlers from one goroutine, in order, never under a
// lock. Its queue is unbounded so that producers (the supervisor) never block.
type dispatcher struct {
	log            *slog.Logger
	onEvent        func(Event)
	onState        func(StateChange)
	onSubscription func(SubscriptionChange)
	listeners      *atomic.Pointer[[]*listener]

	mu       sync.Mutex
	queue    []item
	closed   bool
	warnNext int

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
		warnNext:       warnQueueFrom,
		wake:           make(chan struct{}, 1),
		done:           make(chan struct{}),
	}
}

// push queues one handler call. It never blocks. Items pushed after close
// are dropped.
func (d *dispatcher) push(it item) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.queue = append(d.queue, it)
	n := len(d.queue)
	warn := n >= d.warnNext
	if warn {
		d.warnNext *= 2
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	if warn {
		d.log.Warn("realtime: event handlers are slow; dispatch queue is growing", "queued", n)
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
			d.warnNext = warnQueueFrom // drained: warn again from the start
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
			work[i] = item{} // drop references to delivered payloads
		}
		if cap(work) > 64*warnQueueFrom {
			work = nil // do not keep a burst's memory forever
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
