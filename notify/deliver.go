package notify

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Message is one desktop notification, ready to send.
type Message struct {
	EntryID int64   // history entry to open on click; 0 for summaries (opens the history)
	AppName string  // application name shown by the notification server
	Title   string  // plain text, at most MaxTitleRunes
	Body    string  // plain text (a Notifier escapes it if the server renders markup), at most MaxBodyRunes
	Icon    string  // path of the application icon (PNG)
	Urgency Urgency // from the type: errors are critical
	Timeout time.Duration
}

// Notifier shows desktop notifications. Notify may block until the
// notification service answers; it must respect ctx.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Delivery tuning.
const (
	// deliveryQueueSize bounds the notifications waiting for the desktop;
	// when it is full the oldest waiting one is dropped (it is in the
	// history already).
	deliveryQueueSize = 32
	// notifyTimeout bounds one call to the Notifier.
	notifyTimeout = 10 * time.Second
	// closeGrace is how long Close lets the worker send what is queued.
	closeGrace = 3 * time.Second
)

// deliverer owns the one goroutine that talks to the Notifier, so a slow or
// broken notification service never blocks event handling.
type deliverer struct {
	notifier Notifier
	log      *slog.Logger
	onError  func(error)

	mu    sync.Mutex
	queue []Message
	wake  chan struct{} // capacity 1: "the queue may have work"

	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context // cancelled when Close's grace runs out
	cancel context.CancelFunc

	// failing is owned by the worker goroutine.
	failing bool
}

func newDeliverer(n Notifier, log *slog.Logger, onError func(error)) *deliverer {
	ctx, cancel := context.WithCancel(context.Background())
	d := &deliverer{
		notifier: n,
		log:      log,
		onError:  onError,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
	}
	go d.run()
	return d
}

// enqueue adds m without blocking; when the queue is full the oldest
// waiting message is dropped.
func (d *deliverer) enqueue(m Message) {
	d.mu.Lock()
	var dropped *Message
	if len(d.queue) >= deliveryQueueSize {
		old := d.queue[0]
		dropped = &old
		d.queue = append(d.queue[:0], d.queue[1:]...)
	}
	d.queue = append(d.queue, m)
	d.mu.Unlock()
	if dropped != nil {
		d.log.Warn("desktop notification queue full: dropped the oldest notification (it is in the history)",
			"title", dropped.Title, "entry_id", dropped.EntryID, "queue_size", deliveryQueueSize)
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *deliverer) next() (Message, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return Message{}, false
	}
	m := d.queue[0]
	d.queue[0] = Message{}
	d.queue = d.queue[1:]
	return m, true
}

func (d *deliverer) run() {
	defer close(d.done)
	for {
		if m, ok := d.next(); ok {
			d.send(m)
			continue
		}
		select {
		case <-d.wake:
		case <-d.stop:
			// Send what is left; Close cancels d.ctx when its grace ends.
			for m, ok := d.next(); ok; m, ok = d.next() {
				d.send(m)
			}
			return
		}
	}
}

func (d *deliverer) send(m Message) {
	if d.ctx.Err() != nil {
		d.log.Debug("desktop notification dropped at shutdown", "title", m.Title)
		return
	}
	ctx, cancel := context.WithTimeout(d.ctx, notifyTimeout)
	err := safeNotify(ctx, d.notifier, m)
	cancel()
	switch {
	case err != nil && d.ctx.Err() != nil:
		d.log.Debug("desktop notification dropped at shutdown", "title", m.Title, "err", err)
	case err != nil:
		if d.failing {
			d.log.Debug("desktop notification failed", "title", m.Title, "err", err)
			return
		}
		d.failing = true
		d.log.Warn("desktop notifications are failing; events are still kept in the history", "err", err)
		if d.onError != nil {
			d.onError(err)
		}
	case d.failing:
		d.failing = false
		d.log.Info("desktop notifications work again")
		if d.onError != nil {
			d.onError(nil)
		}
	}
}

// safeNotify calls n.Notify, turning a panic in it into an error.
func safeNotify(ctx context.Context, n Notifier, m Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("desktop notifier panicked: %v", r)
		}
	}()
	return n.Notify(ctx, m)
}

// close stops the worker after it has sent what is queued, giving it at
// most grace; whatever is left then is dropped.
func (d *deliverer) close(grace time.Duration) {
	close(d.stop)
	t := time.AfterFunc(grace, d.cancel)
	<-d.done
	t.Stop()
	d.cancel()
}

// nopNotifier is used when no Notifier is configured: history only.
type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, Message) error { return nil }
