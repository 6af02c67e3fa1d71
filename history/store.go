package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"echotray/notify"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Store defaults.
const (
	// DefaultMaxEntries is how many entries the history keeps by default.
	DefaultMaxEntries = 10_000
	// DefaultMaxAge is how long the history keeps an entry by default.
	DefaultMaxAge = 90 * 24 * time.Hour
	// DefaultPageSize is the page size of a Query whose Limit is 0.
	DefaultPageSize = 100
)

// Store errors callers branch on.
var (
	// ErrDiskFull is wrapped by a write that failed because the disk (or
	// the database's size limit) is full. The store stays usable: later
	// writes succeed once there is room again.
	ErrDiskFull = errors.New("history: disk full")
	// ErrEntryNotFound is wrapped by Get for an ID that is not stored.
	ErrEntryNotFound = errors.New("history entry not found")
)

// Options configures Open. The zero value gives the defaults.
type Options struct {
	// MaxEntries is how many of the newest entries the history keeps for
	// each account: 0 means DefaultMaxEntries, a negative value means no
	// limit.
	MaxEntries int
	// MaxAge is how long an entry is kept, whoever's it is: 0 means
	// DefaultMaxAge, a negative value means no limit.
	MaxAge time.Duration
	// Logger receives warnings (a recovered file, a failed prune); nil
	// discards them.
	Logger *slog.Logger
}

// Query selects history entries. The zero Query selects everything, newest
// first.
type Query struct {
	Search   string        // what the user typed: words of title, message and payload; amounts and phone numbers in any form
	Types    []notify.Type // any of these types; empty means all
	Channel  string        // exact channel name
	Event    string        // exact short event name
	Since    time.Time     // inclusive lower bound on Time; zero means none
	Until    time.Time     // exclusive upper bound on Time; zero means none
	Unread   bool          // only unread entries
	Limit    int           // page size; 0 means the store's default
	BeforeID int64         // keyset paging: only entries with ID < BeforeID
}

// Store is the persistent event history: a SQLite database (pure Go,
// modernc.org/sqlite) in WAL mode with a full-text index over title,
// message, the payload's values and normalised amounts and phone numbers.
//
// Every entry belongs to an account (see SetAccount); the store reads,
// counts, marks, deletes and searches only the current account's entries.
//
// Writes go through one connection, reads through a small pool, so a search
// never waits for a write and the history window can read while events are
// stored. Retention and the indexing of entries stored by an older version
// run in background goroutines, never on Add's path. A Store is safe for
// concurrent use; Close it when done.
type Store struct {
	path       string
	w          *sql.DB // the one writer connection
	r          *sql.DB // read-only connections
	log        *slog.Logger
	maxEntries int
	maxAge     time.Duration
	recovered  string
	now        func() time.Time

	pruneMu     sync.Mutex
	sincePrune  int       // inserts since the last prune
	lastPrune   time.Time // when the last prune ran (or the store opened)
	pruneReq    chan struct{}
	stop        chan struct{}
	done        chan struct{}
	closeOnce   sync.Once
	closeErr    error
	afterPrune  func(deleted int, err error) // test hook, set before any prune runs
	pruneFirst  time.Duration                // delay of the first background prune
	pruneEvery  time.Duration                // background prune period
	pruneAfterN int                          // prune after this many inserts

	acctMu    sync.RWMutex
	account   string           // the current account; "" until SetAccount
	accountID int64            // its row in accounts: 0 for "", -1 while not known
	acctIDs   map[string]int64 // account → row in accounts, as far as known

	indexed    chan struct{}               // closed once every entry has its search terms
	indexDone  chan struct{}               // closed when the indexer goroutine returns
	indexBatch int                         // rows the indexer fills per transaction
	afterIndex func(filled int, err error) // test hook, after each batch
}

// Background retention schedule.
const (
	firstPruneDelay = 30 * time.Second // lets a short-lived CLI run never prune
	pruneInterval   = time.Hour        // MaxAge is enforced even with no new events
	pruneMinGap     = time.Minute      // at most one insert-triggered prune a minute...
	pruneBatchN     = 200              // ...unless this many entries came in
	pruneChunk      = 500              // rows deleted per transaction
)

// Open opens (creating if needed) the history database at path, with
// its directory (mode 0700) and file (mode 0600, as are its -wal and -shm
// files).
//
// A file that is not a SQLite database, fails its integrity check or was
// written by a newer EchoTray is renamed to path + ".corrupt-<UTC time>"
// (".newer-<UTC time>" for the last case), together with its -wal and -shm
// files; a warning is logged, Recovered reports the new name and a fresh
// history is started. Any other failure (no permission on the directory, a
// locked file) is returned and nothing is moved.
func Open(path string, opts Options) (*Store, error) {
	s, err := openStore(path, opts, nil)
	var bad *unusableError
	if !errors.As(err, &bad) {
		return s, err
	}
	moved, merr := moveAside(path, bad.suffix, time.Now())
	if merr != nil {
		return nil, fmt.Errorf("history file %s is unusable (%v) and could not be moved aside: %w", path, bad.err, merr)
	}
	log := loggerOrDiscard(opts.Logger)
	log.Warn("the history file could not be used; it was moved aside and a new, empty history was started",
		"path", path, "moved_to", moved, "reason", bad.err.Error())
	s, err = openStore(path, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("start a fresh history after moving %s aside: %w", moved, err)
	}
	s.recovered = moved
	return s, nil
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Recovered returns where a corrupt or unreadable history file was moved
// when this Store was opened, or "" if the file was fine. The UI shows it so
// the user knows why the history is empty.
func (s *Store) Recovered() string { return s.recovered }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// entryColumns lists the entries columns in the order scanEntry reads them.
const entryColumns = "e.id, e.time, e.channel, e.event, e.type, e.title, e.message, e.data, e.read, e.key, " + entryAccountColumn + ", e.external_id"

// entrySummaryColumns is entryColumns without the payload, for list views.
const entrySummaryColumns = "e.id, e.time, e.channel, e.event, e.type, e.title, e.message, NULL, e.read, e.key, " + entryAccountColumn + ", e.external_id"

// entryAccountColumn reads an entry's account (entries hold the row of
// accounts).
const entryAccountColumn = "COALESCE((SELECT a.key FROM accounts a WHERE a.id = e.account), '')"

// Add stores e and sets e.ID. A zero e.Time becomes the current time, an
// empty e.Type becomes TypeInfo and an empty e.Account the store's current
// account (see SetAccount); e.Read is kept.
//
// Keys and external IDs are unique per account: when e.Key or e.ExternalID
// is not empty and that account already has an entry with the same one,
// Add stores nothing, sets e.ID to the stored entry's ID and reports
// inserted=false; when the duplicate has the same ExternalID and e.Read is
// true (read on the web before it was caught up), the stored entry is
// marked read.
//
// A full disk gives an error wrapping ErrDiskFull; the store stays usable.
func (s *Store) Add(ctx context.Context, e *notify.Entry) (inserted bool, err error) {
	if e == nil {
		return false, errors.New("add history entry: nil entry")
	}
	s.prepareEntry(e)
	acct, err := s.accountIDFor(ctx, e.Account)
	if err != nil {
		return false, err
	}
	var id int64
	err = s.w.QueryRowContext(ctx, insertEntrySQL, s.insertArgs(e, acct)...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id, err := findDuplicate(ctx, s.w, e, acct)
		if err != nil {
			return false, wrapStoreErr("add history entry: find the stored duplicate", err)
		}
		e.ID = id
		return false, nil
	}
	if err != nil {
		return false, wrapStoreErr("add history entry", err)
	}
	e.ID = id
	s.notePruneInsert(1)
	return true, nil
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// findDuplicate returns the ID of the stored entry e conflicted with (same
// account and Key, or same account and ExternalID) and marks it read when
// it has e's ExternalID and e arrived read.
func findDuplicate(ctx context.Context, db querier, e *notify.Entry, acct int64) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, `SELECT id FROM entries WHERE account = ?
		AND ((key = ? AND key <> '') OR (external_id = ? AND external_id <> '')) ORDER BY id LIMIT 1`,
		acct, e.Key, e.ExternalID).Scan(&id)
	if err != nil {
		return 0, err
	}
	if e.Read && e.ExternalID != "" {
		if _, err := db.ExecContext(ctx, "UPDATE entries SET read = 1 WHERE account = ? AND external_id = ? AND read = 0",
			acct, e.ExternalID); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// AddBatch stores entries in one transaction (events caught up after a
// reconnect, imports), with Add's rules for each: it sets every ID and
// returns how many were new. It is all or nothing: on error nothing is
// stored.
func (s *Store) AddBatch(ctx context.Context, entries []*notify.Entry) (inserted int, err error) {
	// The accounts' rows first: the writer has one connection, which the
	// transaction then holds.
	accts := make([]int64, len(entries))
	for i, e := range entries {
		if e == nil {
			return 0, errors.New("add history entries: nil entry")
		}
		s.prepareEntry(e)
		if accts[i], err = s.accountIDFor(ctx, e.Account); err != nil {
			return 0, err
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrapStoreErr("add history entries", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	ins, err := tx.PrepareContext(ctx, insertEntrySQL)
	if err != nil {
		return 0, wrapStoreErr("add history entries", err)
	}
	defer ins.Close()
	for i, e := range entries {
		var id int64
		err := ins.QueryRowContext(ctx, s.insertArgs(e, accts[i])...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id, err := findDuplicate(ctx, tx, e, accts[i])
			if err != nil {
				return 0, wrapStoreErr("add history entries: find the stored duplicate", err)
			}
			e.ID = id
			continue
		}
		if err != nil {
			return 0, wrapStoreErr("add history entries", err)
		}
		e.ID = id
		inserted++
	}
	if err := tx.Commit(); err != nil {
		return 0, wrapStoreErr("add history entries: commit", err)
	}
	s.notePruneInsert(inserted)
	return inserted, nil
}

const insertEntrySQL = `INSERT INTO entries (time, channel, event, type, title, message, data, read, key, account, external_id, vals, norm)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`

// prepareEntry fills in Add's defaults.
func (s *Store) prepareEntry(e *notify.Entry) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.Round(0) // drop the monotonic reading
	if e.Type == "" {
		e.Type = notify.TypeInfo
	}
	if e.Account == "" {
		e.Account = s.Account()
	}
}

func (s *Store) insertArgs(e *notify.Entry, acct int64) []any {
	var data any
	if len(e.Data) > 0 {
		data = []byte(e.Data)
	}
	vals, norm := searchTerms(e.Title, e.Message, e.Data)
	return []any{e.Time.UnixNano(), e.Channel, e.Event, string(e.Type), e.Title, e.Message, data, e.Read, e.Key,
		acct, e.ExternalID, vals, norm}
}

// wrapStoreErr adds context to err and ErrDiskFull when SQLite reports a full
// disk or database.
func wrapStoreErr(op string, err error) error {
	if sqliteCode(err) == sqlite3.SQLITE_FULL {
		return fmt.Errorf("%s: %w: %w", op, ErrDiskFull, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// sqliteCode returns the primary SQLite result code in err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// List returns the entries q selects, newest first. q.Limit 0 means
// DefaultPageSize and a negative Limit means all. For the next page, pass
// the last entry's ID as BeforeID.
func (s *Store) List(ctx context.Context, q Query) ([]notify.Entry, error) {
	return s.list(ctx, q, entryColumns)
}

func (s *Store) list(ctx context.Context, q Query, cols string) ([]notify.Entry, error) {
	tx, sc, err := s.readScope(ctx)
	if err != nil {
		return nil, fmt.Errorf("list history: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	from, where, args, order := buildQuery(q, sc, selectRows)
	query := "SELECT " + cols + from + where + " ORDER BY " + order + " DESC"
	if limit := storePageLimit(q.Limit); limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list history: %w", err)
	}
	defer rows.Close()
	var out []notify.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("list history: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list history: %w", err)
	}
	return out, nil
}

func storePageLimit(limit int) int {
	if limit == 0 {
		return DefaultPageSize
	}
	return max(limit, -1)
}

// ListIDs returns the IDs of the entries q selects, newest first. Unlike
// List, q.Limit 0 (or negative) means all: the history window keeps this
// slice (8 bytes an entry) and loads rows on demand with Summaries.
func (s *Store) ListIDs(ctx context.Context, q Query) ([]int64, error) {
	tx, sc, err := s.readScope(ctx)
	if err != nil {
		return nil, fmt.Errorf("list history IDs: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	from, where, args, order := buildQuery(q, sc, selectIDs)
	query := "SELECT " + order + from + where + " ORDER BY " + order + " DESC"
	if q.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list history IDs: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, 256)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list history IDs: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list history IDs: %w", err)
	}
	return ids, nil
}

// Summaries returns the current account's entries with the given IDs, in
// the order of ids, without their Data (use Get for the payload). IDs that
// are not stored (deleted or pruned meanwhile) or another account's are
// left out.
func (s *Store) Summaries(ctx context.Context, ids []int64) ([]notify.Entry, error) {
	const chunk = 500
	account := s.currentID()
	byID := make(map[int64]notify.Entry, len(ids))
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, 0, len(part)+1)
		args = append(args, account)
		for _, id := range part {
			args = append(args, id)
		}
		query := "SELECT " + entrySummaryColumns + " FROM entries e WHERE e.account = ? AND e.id IN (" + sqlPlaceholders(len(part)) + ")"
		rows, err := s.r.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("load history entries: %w", err)
		}
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("load history entries: %w", err)
			}
			byID[e.ID] = e
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("load history entries: %w", err)
		}
	}
	out := make([]notify.Entry, 0, len(byID))
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func sqlPlaceholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// Count returns how many of the current account's entries q selects
// (q.Limit is ignored).
func (s *Store) Count(ctx context.Context, q Query) (int, error) {
	tx, sc, err := s.readScope(ctx)
	if err != nil {
		return 0, fmt.Errorf("count history: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	from, where, args, _ := buildQuery(q, sc, selectCount)
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*)"+from+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count history: %w", err)
	}
	return n, nil
}

// scope is the account a query reads, and whether the file holds no
// other account's entries: then buildQuery may leave the account
// condition out where that is faster (a full-text search's IDs and count
// come from the index alone, a count of everything from the table's).
type scope struct {
	account int64 // the account's row in accounts
	sole    bool
}

// readScope starts a read transaction (one snapshot for the check and the
// query) and decides the scope of the current account in it.
func (s *Store) readScope(ctx context.Context) (*sql.Tx, scope, error) {
	sc := scope{account: s.currentID()}
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, sc, err
	}
	// Two index seeks (account < ? and account > ?), never a scan.
	var others bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM entries WHERE account < ?)
		OR EXISTS (SELECT 1 FROM entries WHERE account > ?)`, sc.account, sc.account).Scan(&others)
	if err != nil {
		tx.Rollback() //nolint:errcheck // read only
		return nil, sc, err
	}
	sc.sole = !others
	return tx, sc, nil
}

// Channels returns the distinct channels of the current account's entries,
// sorted (the history window's channel filter).
func (s *Store) Channels(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT DISTINCT channel FROM entries WHERE account = ? AND channel <> '' ORDER BY channel", s.currentID())
	if err != nil {
		return nil, fmt.Errorf("list history channels: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("list history channels: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list history channels: %w", err)
	}
	return out, nil
}

// Get returns the current account's entry with the given ID, payload
// included, or an error wrapping ErrEntryNotFound (also for another
// account's entry).
func (s *Store) Get(ctx context.Context, id int64) (notify.Entry, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+entryColumns+" FROM entries e WHERE e.id = ? AND e.account = ?", id, s.currentID())
	e, err := scanEntry(row)
	if errors.Is(err, sql.ErrNoRows) {
		return notify.Entry{}, fmt.Errorf("get history entry %d: %w", id, ErrEntryNotFound)
	}
	if err != nil {
		return notify.Entry{}, fmt.Errorf("get history entry %d: %w", id, err)
	}
	return e, nil
}

// UnreadCount returns how many of the current account's entries are
// unread.
func (s *Store) UnreadCount(ctx context.Context) (int, error) {
	return s.Count(ctx, Query{Unread: true})
}

// MarkRead marks the current account's entries with the given IDs read.
// Unknown IDs and other accounts' are ignored.
func (s *Store) MarkRead(ctx context.Context, ids ...int64) error {
	return markReadWhere(ctx, s, "id", ids, "mark history entries read")
}

// markReadWhere marks the current account's unread entries whose column
// col holds one of values read, 500 values a statement.
func markReadWhere[T any](ctx context.Context, s *Store, col string, values []T, what string) error {
	const chunk = 500
	account := s.currentID()
	for start := 0; start < len(values); start += chunk {
		part := values[start:min(start+chunk, len(values))]
		args := make([]any, 0, len(part)+1)
		args = append(args, account)
		for _, v := range part {
			args = append(args, v)
		}
		_, err := s.w.ExecContext(ctx,
			"UPDATE entries SET read = 1 WHERE account = ? AND read = 0 AND "+col+" IN ("+sqlPlaceholders(len(part))+")", args...)
		if err != nil {
			return wrapStoreErr(what, err)
		}
	}
	return nil
}

// MarkAllRead marks every entry of the current account read.
func (s *Store) MarkAllRead(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, "UPDATE entries SET read = 1 WHERE account = ? AND read = 0", s.currentID()); err != nil {
		return wrapStoreErr("mark all history entries read", err)
	}
	return nil
}

// Delete removes the current account's entry with the given ID. Deleting
// an entry that is not stored (already deleted or pruned) or another
// account's is not an error and changes nothing.
func (s *Store) Delete(ctx context.Context, id int64) error {
	if _, err := s.w.ExecContext(ctx, "DELETE FROM entries WHERE id = ? AND account = ?", id, s.currentID()); err != nil {
		return wrapStoreErr(fmt.Sprintf("delete history entry %d", id), err)
	}
	return nil
}

// Clear removes every entry of the current account in one transaction.
// IDs are not reused afterwards.
func (s *Store) Clear(ctx context.Context) error {
	account := s.currentID()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrapStoreErr("clear history", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var others bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM entries WHERE account < ?)
		OR EXISTS (SELECT 1 FROM entries WHERE account > ?)`, account, account).Scan(&others); err != nil {
		return wrapStoreErr("clear history", err)
	}
	if others {
		// Other accounts' entries stay: delete this account's rows (and
		// their index entries, through the trigger).
		if _, err := tx.ExecContext(ctx, "DELETE FROM entries WHERE account = ?", account); err != nil {
			return wrapStoreErr("clear history", err)
		}
		if err := tx.Commit(); err != nil {
			return wrapStoreErr("clear history: commit", err)
		}
		s.reclaim(ctx)
		return nil
	}
	// Every entry is this account's. Without the per-row FTS delete
	// trigger, SQLite truncates the table at once instead of deleting
	// 100,000 rows one by one; the index is then emptied with FTS5's
	// delete-all.
	for _, stmt := range []string{
		"DROP TRIGGER entries_ad",
		"DELETE FROM entries",
		"INSERT INTO entries_fts(entries_fts) VALUES ('delete-all')",
		fts2DeleteTrigger,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return wrapStoreErr("clear history", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wrapStoreErr("clear history: commit", err)
	}
	s.reclaim(ctx)
	return nil
}

// Close stops background retention and indexing and closes the database.
// It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		<-s.indexDone
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("close history: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanEntry(r rowScanner) (notify.Entry, error) {
	var (
		e    notify.Entry
		ns   int64
		typ  string
		data []byte
	)
	if err := r.Scan(&e.ID, &ns, &e.Channel, &e.Event, &typ, &e.Title, &e.Message, &data, &e.Read, &e.Key, &e.Account, &e.ExternalID); err != nil {
		return notify.Entry{}, err
	}
	e.Time = time.Unix(0, ns)
	e.Type = notify.Type(typ)
	if data != nil {
		e.Data = data
	}
	return e, nil
}

// What a query selects.
type selectMode int

const (
	selectRows  selectMode = iota // entry columns
	selectIDs                     // the order column only
	selectCount                   // count(*)
)

// buildQuery returns the FROM clause (with the full-text join when q
// searches), the WHERE clause (possibly empty), its arguments and the
// column that orders newest first (the ID), for the entries of sc's
// account. The entries table is aliased e, the full-text index f.
//
// The account condition uses the indexes that lead with the account (the
// filters, and a covering index for all IDs). It is left out when sc says
// every entry is the account's and that is faster: the IDs or count of a
// pure full-text search then read the index alone, without the join to
// entries (three times faster for a common word), and a count of
// everything reads the table's count.
func buildQuery(q Query, sc scope, mode selectMode) (from, where string, args []any, order string) {
	from, order = " FROM entries e", "e.id"
	filtered := len(q.Types) > 0 || q.Channel != "" || q.Event != "" || !q.Since.IsZero() || !q.Until.IsZero() || q.Unread
	text := strings.TrimSpace(q.Search)
	expr, fts := ftsSearch(text)
	var conds []string
	switch {
	case sc.sole && mode != selectRows && fts && !filtered:
		from = " FROM entries_fts f" // the index alone
	case sc.sole && mode == selectCount && text == "" && !filtered:
		// count(*) of the table
	default:
		conds = append(conds, "e.account = ?")
		args = append(args, sc.account)
		if fts {
			from = " FROM entries_fts f JOIN entries e ON e.id = f.rowid"
		}
	}
	if text != "" {
		if fts {
			// FTS5 as the outer loop walks its match list newest first
			// and stops at the LIMIT.
			order = "f.rowid"
			conds = append(conds, "entries_fts MATCH ?")
			args = append(args, expr)
		} else {
			// No letter or digit (e.g. "%" or "->"), so nothing the index
			// holds: a substring scan. Case does not matter for such text,
			// so instr (a quarter faster than LIKE) does.
			conds = append(conds, "(instr(e.title, ?) > 0 OR instr(e.message, ?) > 0)")
			args = append(args, text, text)
		}
	}
	if len(q.Types) > 0 {
		conds = append(conds, "e.type IN ("+sqlPlaceholders(len(q.Types))+")")
		for _, t := range q.Types {
			args = append(args, string(t))
		}
	}
	if q.Channel != "" {
		conds = append(conds, "e.channel = ?")
		args = append(args, q.Channel)
	}
	if q.Event != "" {
		conds = append(conds, "e.event = ?")
		args = append(args, q.Event)
	}
	if !q.Since.IsZero() {
		conds = append(conds, "e.time >= ?")
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		conds = append(conds, "e.time < ?")
		args = append(args, q.Until.UnixNano())
	}
	if q.Unread {
		conds = append(conds, "e.read = 0")
	}
	if q.BeforeID > 0 {
		conds = append(conds, order+" < ?")
		args = append(args, q.BeforeID)
	}
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	return from, where, args, order
}
