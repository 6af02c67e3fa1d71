package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// One history per account (#14 item 3).
//
// Every entry has an account: who received it (the app uses server + "#" +
// user id; the store treats it as an opaque string). SetAccount chooses the
// account a Store works on: Add stamps it on new entries, and every read,
// count, search, mark, delete and clear sees only its entries, so someone
// else signing in on the same computer never sees them.
//
// Entries stored before accounts existed (a history from an older
// EchoTray, migrated in place without loss) have the account "". The first
// non-empty account passed to SetAccount on a file adopts them — that is
// who was signed in when the upgraded EchoTray started — and the meta table
// records who did, so a different account later never sees them.
//
// Both processes (the tray core and the window) open the same file; each
// calls SetAccount with the signed-in account (the window with ipc
// State.Account), and adoption happens once whoever comes first.

// Meta keys.
const (
	metaLegacyOwner = "legacy_owner" // the account that adopted the entries from before accounts
	metaLastAccount = "last_account" // the account SetAccount was last called with (not "")
)

// accountTimeout bounds SetAccount's writes (adoption, the last account).
const accountTimeout = 30 * time.Second

// SetAccount makes account the store's current account: from then on Add
// stamps entries whose Account is empty with it, and every other method
// sees only its entries. Before SetAccount is called (and after
// SetAccount("")) the store works on the entries without an account.
//
// The first non-empty account ever set on a history file adopts the entries
// stored before accounts existed (see the package's account notes), and
// the account is recorded as the last one (LastAccount). Those writes are
// logged if they fail (adoption is then tried again at the next
// SetAccount); the account is set in any case. Use SetAccountContext to get
// the error.
func (s *Store) SetAccount(account string) {
	ctx, cancel := context.WithTimeout(context.Background(), accountTimeout)
	defer cancel()
	if err := s.SetAccountContext(ctx, account); err != nil {
		s.log.Warn("history: could not record the account; will retry at the next sign-in", "err", err)
	}
}

// SetAccountContext is SetAccount, returning the error of its writes (the
// account is set even then).
func (s *Store) SetAccountContext(ctx context.Context, account string) error {
	var (
		id  int64 // "" is row 0
		err error
	)
	if account != "" {
		if id, err = s.adopt(ctx, account); err != nil {
			// The account may exist all the same (another process made
			// it); else it has no entries here yet.
			var lerr error
			if id, lerr = lookupAccount(ctx, s.r, account); lerr != nil || id == 0 {
				id = -1
			}
		}
	}
	s.acctMu.Lock()
	s.account, s.accountID = account, id
	if id > 0 {
		s.cacheAccountLocked(account, id)
	}
	s.acctMu.Unlock()
	return err
}

// Account returns the current account ("" before SetAccount).
func (s *Store) Account() string {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	return s.account
}

// currentID returns the current account's row in accounts (-1 when it has
// none yet: nothing is its).
func (s *Store) currentID() int64 {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	return s.accountID
}

func (s *Store) cacheAccountLocked(account string, id int64) {
	if s.acctIDs == nil {
		s.acctIDs = map[string]int64{}
	}
	s.acctIDs[account] = id
}

// accountIDFor returns the row of account in accounts, making it if
// needed (entries refer to accounts by row: an index entry then takes a
// byte or two, not the account's text).
func (s *Store) accountIDFor(ctx context.Context, account string) (int64, error) {
	if account == "" {
		return 0, nil
	}
	s.acctMu.RLock()
	id, ok := s.acctIDs[account]
	s.acctMu.RUnlock()
	if ok {
		return id, nil
	}
	id, err := makeAccount(ctx, s.w, account)
	if err != nil {
		return 0, wrapStoreErr("history: record the account", err)
	}
	s.acctMu.Lock()
	s.cacheAccountLocked(account, id)
	if s.account == account {
		s.accountID = id
	}
	s.acctMu.Unlock()
	return id, nil
}

// makeAccount returns the row of account in accounts, inserting it if
// needed.
func makeAccount(ctx context.Context, db querier, account string) (int64, error) {
	if _, err := db.ExecContext(ctx, "INSERT INTO accounts (key) VALUES (?) ON CONFLICT (key) DO NOTHING", account); err != nil {
		return 0, err
	}
	var id int64
	err := db.QueryRowContext(ctx, "SELECT id FROM accounts WHERE key = ?", account).Scan(&id)
	return id, err
}

// lookupAccount returns the row of account in accounts, or 0 when it has
// none.
func lookupAccount(ctx context.Context, db *sql.DB, account string) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, "SELECT id FROM accounts WHERE key = ?", account).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// adopt makes account's row in accounts, gives it the entries without an
// account if no account has adopted them yet, and records account as the
// last one, in one transaction. It returns the account's row.
func (s *Store) adopt(ctx context.Context, account string) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrapStoreErr("history: set the account", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	id, err := makeAccount(ctx, tx, account)
	if err != nil {
		return 0, wrapStoreErr("history: record the account", err)
	}
	var owner string
	err = tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaLegacyOwner).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := tx.ExecContext(ctx, "UPDATE entries SET account = ? WHERE account = 0", id)
		if err != nil {
			return 0, wrapStoreErr("history: adopt the entries from before accounts", err)
		}
		n, _ := res.RowsAffected()
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", metaLegacyOwner, account); err != nil {
			return 0, wrapStoreErr("history: adopt the entries from before accounts", err)
		}
		if n > 0 {
			s.log.Info("history: the entries stored before accounts now belong to the signed-in account", "entries", n)
		}
	case err != nil:
		return 0, wrapStoreErr("history: read the account record", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		metaLastAccount, account); err != nil {
		return 0, wrapStoreErr("history: record the last account", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, wrapStoreErr("history: set the account: commit", err)
	}
	return id, nil
}

// LastAccount returns the account SetAccount was last called with on this
// history file (by any process), or "" if none was or it was deleted with
// DeleteAccount. `echotray history` shows its entries when nobody is signed
// in.
func (s *Store) LastAccount(ctx context.Context) (string, error) {
	var a string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaLastAccount).Scan(&a)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("history: read the last account: %w", err)
	}
	return a, nil
}

// DeleteAccount removes every entry of account (signing out with "also
// remove this account's history from this computer"), whatever the current
// account, in small transactions, and returns how many it removed. The
// account is forgotten as LastAccount.
func (s *Store) DeleteAccount(ctx context.Context, account string) (int, error) {
	var id int64 // "" is row 0
	if account != "" {
		err := s.w.QueryRowContext(ctx, "SELECT id FROM accounts WHERE key = ?", account).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = -1 // no entries
		} else if err != nil {
			return 0, fmt.Errorf("delete the account's history: %w", err)
		}
	}
	n, err := s.deleteChunks(ctx, "SELECT id FROM entries WHERE account = ? ORDER BY id LIMIT ?", id)
	if err != nil {
		return n, fmt.Errorf("delete the account's history: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, "DELETE FROM meta WHERE key = ? AND value = ?", metaLastAccount, account); err != nil {
		return n, wrapStoreErr("delete the account's history: forget the account", err)
	}
	if n > 0 {
		s.reclaim(ctx)
	}
	return n, nil
}

// ExternalIDs returns the external IDs (Laravel notification UUIDs) of the
// current account's entries with the given IDs, for read sync. Entries
// without one, unknown IDs and other accounts' are left out.
func (s *Store) ExternalIDs(ctx context.Context, ids ...int64) (map[int64]string, error) {
	const chunk = 500
	account := s.currentID()
	out := make(map[int64]string)
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, 0, len(part)+1)
		args = append(args, account)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.r.QueryContext(ctx, "SELECT id, external_id FROM entries WHERE account = ? AND external_id <> '' AND id IN ("+
			sqlPlaceholders(len(part))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("read external IDs: %w", err)
		}
		for rows.Next() {
			var id int64
			var ext string
			if err := rows.Scan(&id, &ext); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read external IDs: %w", err)
			}
			out[id] = ext
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read external IDs: %w", err)
		}
	}
	return out, nil
}

// ReadByExternalID marks the current account's entries with the given
// external IDs read (notifications read on the web, learnt at catch-up).
// Unknown IDs are ignored.
func (s *Store) ReadByExternalID(ctx context.Context, uuids ...string) error {
	// "" would match every entry without one.
	uuids = slices.DeleteFunc(slices.Clone(uuids), func(u string) bool { return u == "" })
	return markReadWhere(ctx, s, "external_id", uuids, "mark history entries read by external ID")
}
