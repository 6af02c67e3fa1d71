package catchup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"echotray/notify"
)

// Defaults of a Runner.
const (
	// DefaultOverlap is subtracted from the newest created_at seen: rows
	// written in the same second, or committed a moment late, are fetched
	// again and dropped as duplicates by their UUID.
	DefaultOverlap = 2 * time.Minute
	// DefaultFirstWindow is how far back the first catch-up of an account
	// looks (no state yet).
	DefaultFirstWindow = 24 * time.Hour
	// DefaultMaxPages bounds one catch-up.
	DefaultMaxPages = 2000
	// DefaultBatch is how many entries go into the history per transaction.
	DefaultBatch = 500
)

// Store is the part of the history a catch-up writes to (history.Store).
type Store interface {
	AddBatch(ctx context.Context, entries []*notify.Entry) (int, error)
}

// readMarker is the history store's way to mark entries read that were read
// on the web (history helper's ReadByExternalID), used when present.
type readMarker interface {
	ReadByExternalID(ctx context.Context, uuids ...string) error
}

// Runner catches up one account's notifications.
type Runner struct {
	Client  *Client
	Store   Store
	Catalog *notify.Catalog // nil: the built-in catalog
	State   *State
	Account string
	// Channel is what the entries are filed under: the user's
	// notification channel, as live ones are.
	Channel  string
	Overlap  time.Duration // 0: DefaultOverlap
	MaxPages int           // 0: DefaultMaxPages
	Batch    int           // 0: DefaultBatch
	Logger   *slog.Logger
	// Now is the local clock, used only for the first catch-up of an
	// account (which has no server time to start from).
	Now func() time.Time
}

// Result is what one catch-up did.
type Result struct {
	// Fetched is how many notifications the server listed.
	Fetched int
	// New are the entries stored now (not already in the history), oldest
	// first, with their IDs.
	New []notify.Entry
	// Unread counts the New entries not read on the web.
	Unread int
	// Since is where the fetch started (the server's clock).
	Since time.Time
	// Truncated is set when the page bound ended the catch-up early; the
	// next one continues.
	Truncated bool
}

// Run fetches what was created since the account's last known
// notification (less the overlap) and stores it. It returns ErrUnsupported
// when the server has no such route and ErrUnauthorized for a 401.
func (r *Runner) Run(ctx context.Context) (Result, error) {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	overlap, maxPages, batch := r.Overlap, r.MaxPages, r.Batch
	if overlap <= 0 {
		overlap = DefaultOverlap
	}
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	if batch <= 0 {
		batch = DefaultBatch
	}
	catalog := r.Catalog
	if catalog == nil {
		catalog = notify.NewCatalog(nil)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	last, known, err := r.State.Since(r.Account)
	if err != nil {
		log.Warn("catch-up state unreadable; starting afresh", "err", err)
	}
	var res Result
	if known {
		res.Since = last.Add(-overlap)
	} else {
		res.Since = now().Add(-DefaultFirstWindow)
	}
	var (
		pending []*notify.Entry
		read    []string
		newest  time.Time
	)
	// flush stores the pending entries in one transaction and notes the
	// new ones; the state advances only past what is stored.
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		n, err := r.Store.AddBatch(ctx, pending)
		if err != nil {
			return fmt.Errorf("catchup: store: %w", err)
		}
		for _, e := range newEntries(pending, n) {
			res.New = append(res.New, *e)
			if !e.Read {
				res.Unread++
			}
		}
		if m, ok := r.Store.(readMarker); ok && len(read) > 0 {
			// Read on the web since it was stored (live, unread).
			if err := m.ReadByExternalID(ctx, read...); err != nil {
				log.Warn("cannot mark notifications read on the web as read", "err", err)
			}
		}
		pending, read = nil, nil
		if !newest.IsZero() {
			if err := r.State.Advance(r.Account, newest); err != nil {
				log.Warn("cannot save the catch-up state", "err", err)
			}
		}
		return nil
	}
	fr, err := r.Client.Fetch(ctx, res.Since, maxPages, func(items []Item) error {
		for _, it := range items {
			if it.ID == "" {
				continue
			}
			e := catalog.NotificationEntry(notify.MergeNotification(it.ID, it.Type, it.Data))
			e.Channel, e.Time = r.Channel, it.CreatedAt
			e.Read = it.ReadAt != nil
			if e.Read {
				read = append(read, it.ID)
			}
			pending = append(pending, &e)
			if it.CreatedAt.After(newest) {
				newest = it.CreatedAt
			}
		}
		if len(pending) >= batch {
			return flush()
		}
		return nil
	})
	res.Fetched, res.Truncated = fr.Items, fr.Truncated
	if ferr := flush(); ferr != nil {
		return res, errors.Join(err, ferr)
	}
	if err != nil {
		return res, err
	}
	if fr.Truncated && !newest.IsZero() {
		// The next catch-up continues exactly where this one stopped:
		// without the overlap, whose pages would all be seen again.
		if err := r.State.Advance(r.Account, newest.Add(overlap)); err != nil {
			log.Warn("cannot save the catch-up state", "err", err)
		}
	}
	if newest.IsZero() && !known && !fr.ServerTime.IsZero() {
		// Nothing yet: start next time from the server's clock now.
		if err := r.State.Advance(r.Account, fr.ServerTime); err != nil {
			log.Warn("cannot save the catch-up state", "err", err)
		}
	}
	log.Info("catch-up done", "account", r.Account, "since", res.Since, "fetched", res.Fetched,
		"new", len(res.New), "unread", res.Unread, "pages", fr.Pages, "truncated", fr.Truncated)
	return res, nil
}

// newEntries picks the n entries of batch that AddBatch inserted. It sets
// every entry's ID: a duplicate gets the older entry's ID, and every ID
// the batch inserted is higher than any stored before it, so the new ones
// are the n highest distinct IDs (a UUID twice in one batch shares one).
func newEntries(batch []*notify.Entry, n int) []*notify.Entry {
	if n <= 0 {
		return nil
	}
	ids := make([]int64, 0, len(batch))
	seen := map[int64]bool{}
	for _, e := range batch {
		if !seen[e.ID] {
			seen[e.ID] = true
			ids = append(ids, e.ID)
		}
	}
	slices.Sort(ids)
	if n > len(ids) {
		n = len(ids)
	}
	threshold := ids[len(ids)-n]
	var out []*notify.Entry
	taken := map[int64]bool{}
	for _, e := range batch {
		if e.ID >= threshold && !taken[e.ID] {
			taken[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}
