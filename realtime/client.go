package realtime

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxAuthConcurrency bounds parallel authorisation requests per client.
const maxAuthConcurrency = 4

// Client is a Pusher protocol v7 client. Create it with New, configure
// channels with Subscribe, start it with Connect and stop it with Close. All
// methods are safe for concurrent use; see the package documentation for the
// threading contract.
type Client struct {
	s     *settings
	log   *slog.Logger
	epoch time.Time // monotonic reference for lastRead
	disp  *dispatcher

	listenMu  sync.Mutex
	listeners atomic.Pointer[[]*listener]

	state    atomic.Int32
	socketID atomic.Pointer[string]

	mu     sync.Mutex
	wanted map[string]*wantedSub
	order  []string // wanted channels in subscription order

	cmds    chan command
	kick    chan struct{} // the wanted set changed
	events  chan connEvent
	quit    chan struct{} // closed when the supervisor exits
	authSem chan struct{}

	wg        sync.WaitGroup // supervisor, connection and auth goroutines
	closeOnce sync.Once
	closed    chan struct{}

	// wallNow reads the wall clock for sleep detection; tests replace it.
	wallNow func() time.Time
}

// wantedSub is the public status of one wanted channel.
type wantedSub struct {
	status SubscriptionStatus
	err    error
	// invalid marks a name that can never be subscribed; the supervisor
	// skips it.
	invalid bool
}

type command uint8

const (
	cmdConnect command = iota
	cmdDisconnect
	cmdReconnect
	cmdClose
)

// New validates cfg, applies defaults and starts the client's supervisor and
// dispatcher goroutines. The client does not connect until Connect. Close
// eventsBuffer is the capacity of the supervisor's inbox. A connEvent is a
// few hundred bytes, so 16 keep an idle client small (256 cost 64 KiB per
// client, half of its memory in a fleet); the connection's reader simply
// waits while the supervisor is busy.
const eventsBuffer = 16

// must be called to release it.
func New(cfg Config) (*Client, error) {
	s, err := newSettings(cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{
		s:       s,
		log:     s.Logger,
		epoch:   time.Now(),
		wanted:  make(map[string]*wantedSub),
		cmds:    make(chan command, 8),
		kick:    make(chan struct{}, 1),
		events:  make(chan connEvent, eventsBuffer),
		quit:    make(chan struct{}),
		authSem: make(chan struct{}, maxAuthConcurrency),
		closed:  make(chan struct{}),
		wallNow: time.Now,
	}
	empty := ""
	c.socketID.Store(&empty)
	c.disp = newDispatcher(s, &c.listeners)
	go c.disp.run()
	c.wg.Add(1)
	go c.supervise()
	return c, nil
}

// command hands a request to the supervisor; it is dropped after Close.
func (c *Client) command(cmd command) {
	select {
	case c.cmds <- cmd:
	case <-c.quit:
	}
}

// Connect starts connecting. It does not block and is idempotent: it does
// nothing while connecting, connected or waiting to retry. After Disconnect
// or in StateFailed it starts again with a fresh backoff.
func (c *Client) Connect() { c.command(cmdConnect) }

// Disconnect closes the socket and stops retrying. The wanted channels are
// kept and resubscribed on the next Connect.
func (c *Client) Disconnect() { c.command(cmdDisconnect) }

// Reconnect drops the current connection, if any, and connects at once with a
// fresh backoff.
func (c *Client) Reconnect() { c.command(cmdReconnect) }

// Close disconnects, delivers the handler calls already queued and returns
// after every goroutine of the client has exited. It is idempotent and always
// returns nil. It must not be called from a handler.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.command(cmdClose)
		<-c.quit
		c.wg.Wait()
		c.disp.close()
		<-c.disp.done
		close(c.closed)
	})
	<-c.closed
	return nil
}

// State returns the current connection state.
func (c *Client) State() State { return State(c.state.Load()) }

// SocketID returns the socket id of the live connection, or "" when not
// connected.
func (c *Client) SocketID() string { return *c.socketID.Load() }

// Subscribe adds a channel to the wanted set. It may be called before or
// after Connect; the channel is (re)subscribed on every connection, private-
// and presence- channels after authorisation. Subscribing twice is a no-op.
// A name the protocol does not allow is reported at once as
// SubscriptionFailed. private-encrypted- channels are decrypted with the
// key their authorisation returns (see encrypted.go).
func (c *Client) Subscribe(channel string) {
	err := validChannel(channel)
	c.mu.Lock()
	if _, ok := c.wanted[channel]; ok {
		c.mu.Unlock()
		return
	}
	w := &wantedSub{status: SubscriptionPending}
	if err != nil {
		*w = wantedSub{status: SubscriptionFailed, err: err, invalid: true}
	}
	c.wanted[channel] = w
	c.order = append(c.order, channel)
	c.mu.Unlock()
	if err != nil {
		c.log.Warn("realtime: cannot subscribe", "channel", channel, "err", err)
		c.disp.push(item{kind: itemSubscription, sub: SubscriptionChange{Channel: channel, Status: SubscriptionFailed, Err: err}})
		return
	}
	c.poke()
}

// Unsubscribe removes a channel from the wanted set and leaves it on the
// server. Listeners registered with Listen are kept.
func (c *Client) Unsubscribe(channel string) {
	c.mu.Lock()
	if _, ok := c.wanted[channel]; !ok {
		c.mu.Unlock()
		return
	}
	delete(c.wanted, channel)
	if i := slices.Index(c.order, channel); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.mu.Unlock()
	c.poke()
}

func (c *Client) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Subscriptions returns a snapshot of the wanted channels and their status.
func (c *Client) Subscriptions() map[string]SubscriptionStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]SubscriptionStatus, len(c.wanted))
	for ch, w := range c.wanted {
		m[ch] = w.status
	}
	return m
}

// Listen calls fn for every event named event on channel, with Echo's naming
// rules (see Namespace.Format): "UserCreated" receives both
// `App\Events\UserCreated` and a broadcastAs name `UserCreated`; ".x" receives
// only the literal name "x". An empty channel matches every channel. Listen
// does not subscribe. fn runs on the dispatcher goroutine after OnEvent. The
// returned stop function is idempotent and may be called from fn; after it
// returns, fn may still run once, for the event the dispatcher was already
// delivering, and never after that.
func (c *Client) Listen(channel, event string, fn func(Event)) (stop func()) {
	if fn == nil {
		return func() {}
	}
	l := &listener{channel: channel, event: event, m: newMatcher(c.s.Namespace, event), fn: fn}
	c.listenMu.Lock()
	var next []*listener
	if cur := c.listeners.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	next = append(next, l)
	c.listeners.Store(&next)
	c.listenMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.stopped.Store(true)
			c.listenMu.Lock()
			defer c.listenMu.Unlock()
			cur := c.listeners.Load()
			next := slices.DeleteFunc(slices.Clone(*cur), func(x *listener) bool { return x == l })
			c.listeners.Store(&next)
		})
	}
}

// wantedList returns the wanted, subscribable channels in order.
func (c *Client) wantedList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.order))
	for _, ch := range c.order {
		if !c.wanted[ch].invalid {
			out = append(out, ch)
		}
	}
	return out
}

// wantedEntries returns the wanted, subscribable channels in order and their
// entries, read at one instant.
func (c *Client) wantedEntries() ([]string, map[string]*wantedSub) {
	c.mu.Lock()
	defer c.mu.Unlock()
	order := make([]string, 0, len(c.order))
	m := make(map[string]*wantedSub, len(c.order))
	for _, ch := range c.order {
		if w := c.wanted[ch]; !w.invalid {
			order = append(order, ch)
			m[ch] = w
		}
	}
	return order, m
}

// setSubStatus records a status change of a wanted channel and publishes it.
// Only the supervisor calls it, so publications keep their order. A change to
// the same status without an error is not published again.
func (c *Client) setSubStatus(channel string, st SubscriptionStatus, err error) {
	c.mu.Lock()
	w := c.wanted[channel]
	if w == nil || w.invalid || (w.status == st && err == nil && w.err == nil) {
		c.mu.Unlock()
		return
	}
	w.status, w.err = st, err
	c.mu.Unlock()
	c.disp.push(item{kind: itemSubscription, sub: SubscriptionChange{Channel: channel, Status: st, Err: err}})
}

// maxChannelName is Soketi's limit on channel names.
const maxChannelName = 200

// validChannel applies the Pusher channel-name rules.
func validChannel(ch string) error {
	switch {
	case ch == "":
		return errors.New("realtime: empty channel name")
	case len(ch) > maxChannelName:
		return fmt.Errorf("realtime: channel name longer than %d characters", maxChannelName)
	case ch == encryptedPrefix:
		return errors.New("realtime: an encrypted channel needs a name after private-encrypted-")
	}
	for _, r := range ch {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_=@,.;", r):
		default:
			return fmt.Errorf("realtime: channel name %q contains %q", ch, r)
		}
	}
	return nil
}

// needsAuth reports whether a channel must be authorised.
func needsAuth(ch string) bool {
	return strings.HasPrefix(ch, "private-") || strings.HasPrefix(ch, "presence-")
}
