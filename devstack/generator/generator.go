// Package generator emits every event of the seed's Event Reference tables
// (websocket-integration-guide.md) on the right channels with realistic,
// Laravel-shaped payloads, through a signed Pusher HTTP API publisher.
//
// Channels: tenant events go to the public tenant.{id}; PasswordChanged,
// AccountSuspended, AccountActivated and ProfileUpdated to
// private-user.{id}; TenantRegistered, TenantApproved and SystemAlert to
// private-system.admin. Payloads nest their models the way a broadcastWith()
// would ({"user": {...}, "tenant_id": 1}, {"payment": {...}}), most carry an
// "event_id" UUID, and a few are flat or miss optional fields, as real
// backends' events do.
package generator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"echotray/devstack/laravel"
	"echotray/devstack/publish"
)

// Namespace is the prefix Laravel puts before an event's class name when
// the event has no broadcastAs().
const Namespace = `App\Events\`

// DefaultRate is the default number of events per second (one every 3 s).
const DefaultRate = 1.0 / 3

// Channel kinds of the seed.
const (
	kindTenant = iota // public tenant.{id}
	kindUser          // private-user.{id}
	kindAdmin         // private-system.admin
)

// AdminChannel is the system administrators' private channel.
const AdminChannel = "private-system.admin"

// catalog maps each event of the seed's Event Reference tables to its channel kind.
var catalog = map[string]int{
	"TenantCreated":      kindTenant,
	"TenantUpdated":      kindTenant,
	"TenantSuspended":    kindTenant,
	"UserCreated":        kindTenant,
	"UserUpdated":        kindTenant,
	"UserDeleted":        kindTenant,
	"PaymentCompleted":   kindTenant,
	"PaymentFailed":      kindTenant,
	"HotspotUserCreated": kindTenant,
	"HotspotUserExpired": kindTenant,
	"SystemNotification": kindTenant,
	"PasswordChanged":    kindUser,
	"AccountSuspended":   kindUser,
	"AccountActivated":   kindUser,
	"ProfileUpdated":     kindUser,
	"TenantRegistered":   kindAdmin,
	"TenantApproved":     kindAdmin,
	"SystemAlert":        kindAdmin,
}

// Catalog returns the names of every event in the seed's Event Reference
// tables (18), sorted.
func Catalog() []string {
	names := make([]string, 0, len(catalog))
	for n := range catalog {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ChannelKind describes where an event goes: "tenant" (tenant.{id}), "user"
// (private-user.{id}) or "admin" (private-system.admin); "" if unknown.
func ChannelKind(name string) string {
	k, ok := catalog[name]
	if !ok {
		return ""
	}
	return [...]string{"tenant", "user", "admin"}[k]
}

// Event is one generated event.
type Event struct {
	// Channel is the channel it is published on, e.g. "tenant.1".
	Channel string
	// Name is the short name, e.g. "PaymentCompleted".
	Name string
	// Data is the payload (JSON-encoded into the message's data string).
	Data map[string]any
	// Wire is the name as published: Namespace+Name or the bare Name.
	Wire string
}

// Generator produces and publishes events. Fields are read when Next,
// Samples, Publish or Run is called; set them before and leave them.
// Methods are safe for concurrent use.
type Generator struct {
	// Publisher publishes the events (needed by Publish and Run).
	Publisher *publish.Publisher
	// Tenants are the tenant ids to publish to; empty means the tenants of
	// Users, or 1 and 2.
	Tenants []int64
	// Users are the accounts whose private-user channels get user events;
	// empty means laravel.DefaultUsers().
	Users []laravel.User
	// Rate is events per second for Run; 0 means DefaultRate.
	Rate float64
	// Namespaced publishes `App\Events\<Name>` (Laravel without
	// broadcastAs); false publishes the bare name (broadcastAs).
	Namespaced bool
	// Mixed picks namespaced or bare at random per event, overriding Namespaced.
	Mixed bool
	// Rand is the source of randomness (math/rand/v2); nil means a random seed.
	Rand *rand.Rand
	// Now stamps the payloads' times; nil means time.Now.
	Now func() time.Time
	// Logger logs each publication in Run; nil discards.
	Logger *slog.Logger
	// OnPublish, if set, is called after each publication in Run and
	// PublishSamples with the event and the publisher's error.
	OnPublish func(Event, error)

	mu  sync.Mutex // guards rnd and seq
	rnd *rand.Rand
	seq int64
}

// Next returns a random event of the catalog on its channel, with a
// realistic payload. About one in eight payloads is flat or lacks an
// optional field.
func (g *Generator) Next() Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	names := Catalog()
	name := names[g.r().IntN(len(names))]
	return g.make(name, true)
}

// Samples returns one event of every catalog name, in Catalog order, each
// in the canonical nested shape with an event_id.
func (g *Generator) Samples() []Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Event
	for _, name := range Catalog() {
		out = append(out, g.make(name, false))
	}
	return out
}

// Publish publishes e under e.Wire (or its Name when Wire is empty).
func (g *Generator) Publish(ctx context.Context, e Event) error {
	if g.Publisher == nil {
		return errors.New("generator: no Publisher")
	}
	wire := e.Wire
	if wire == "" {
		wire = e.Name
	}
	if err := g.Publisher.Trigger(ctx, []string{e.Channel}, wire, e.Data, ""); err != nil {
		return fmt.Errorf("generator: publish %s on %s: %w", e.Name, e.Channel, err)
	}
	return nil
}

// PublishSamples publishes Samples() one after the other and returns the
// events and the first error (it goes on after errors).
func (g *Generator) PublishSamples(ctx context.Context) ([]Event, error) {
	events := g.Samples()
	var first error
	for _, e := range events {
		err := g.Publish(ctx, e)
		g.report(e, err)
		if err != nil && first == nil {
			first = err
		}
		if ctx.Err() != nil {
			return events, ctx.Err()
		}
	}
	return events, first
}

// Run publishes Next() events at Rate until ctx ends, the first one after
// at most one second. Publication errors are logged (and passed to
// OnPublish) and do not stop it: Soketi may be restarting. It returns nil
// when ctx ends, or an error if there is no Publisher.
func (g *Generator) Run(ctx context.Context) error {
	if g.Publisher == nil {
		return errors.New("generator: no Publisher")
	}
	rate := g.Rate
	if rate <= 0 {
		rate = DefaultRate
	}
	interval := time.Duration(float64(time.Second) / rate)
	timer := time.NewTimer(min(interval, time.Second))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		e := g.Next()
		err := g.Publish(ctx, e)
		if ctx.Err() != nil {
			return nil
		}
		g.report(e, err)
		timer.Reset(interval)
	}
}

func (g *Generator) report(e Event, err error) {
	log := g.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err != nil {
		log.Warn("publish failed", "event", e.Wire, "channel", e.Channel, "err", err)
	} else {
		log.Info("published", "event", e.Wire, "channel", e.Channel)
	}
	if g.OnPublish != nil {
		g.OnPublish(e, err)
	}
}

// r returns the random source; g.mu must be held.
func (g *Generator) r() *rand.Rand {
	if g.rnd == nil {
		g.rnd = g.Rand
		if g.rnd == nil {
			g.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		}
	}
	return g.rnd
}

func (g *Generator) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Generator) users() []laravel.User {
	if len(g.Users) > 0 {
		return g.Users
	}
	return laravel.DefaultUsers()
}

func (g *Generator) tenants() []int64 {
	if len(g.Tenants) > 0 {
		return g.Tenants
	}
	var ids []int64
	for _, u := range g.users() {
		if t, ok := u.Tenant(); ok && !slices.Contains(ids, t) {
			ids = append(ids, t)
		}
	}
	if len(ids) == 0 {
		ids = []int64{1, 2}
	}
	slices.Sort(ids)
	return ids
}

// wire returns the published name of short; g.mu must be held.
func (g *Generator) wire(short string) string {
	ns := g.Namespaced
	if g.Mixed {
		ns = g.r().IntN(2) == 0
	}
	if ns {
		return Namespace + short
	}
	return short
}

// make builds one event; g.mu must be held. With irregular, the payload may
// be flat or lack optional fields.
func (g *Generator) make(name string, irregular bool) Event {
	p := &payloads{r: g.r(), now: g.now()}
	e := Event{Name: name, Wire: g.wire(name)}
	var tenantID int64
	var user laravel.User
	switch catalog[name] {
	case kindTenant:
		ts := g.tenants()
		tenantID = ts[p.r.IntN(len(ts))]
		e.Channel = fmt.Sprintf("tenant.%d", tenantID)
	case kindUser:
		us := g.users()
		user = us[p.r.IntN(len(us))]
		e.Channel = fmt.Sprintf("private-user.%d", user.ID)
	case kindAdmin:
		e.Channel = AdminChannel
	}
	g.seq++
	e.Data = p.build(name, tenantID, user, g.seq)
	if irregular {
		p.irregular(name, e.Data)
	}
	return e
}
