package history

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Background indexing of entries stored without search terms: every entry
// of a history from before version 2 (and any row written by other means).
// Add fills vals and norm itself, so once this has run nothing is left to
// do. It fills the newest entries first, a batch per transaction, so the
// entries people search first are ready first and Add waits at most for
// one batch. Until an entry is reached, its title and message are
// searchable as before; its payload values, amounts and phone numbers are
// not yet.

// indexBatchN is how many rows the indexer fills per transaction.
const indexBatchN = 200

// indexLoop fills the search terms of unindexed entries until there are
// none or the store is closed, then closes s.indexed.
func (s *Store) indexLoop() {
	defer close(s.indexDone)
	// Not cancelled by Close: an interrupted statement can leave the
	// writer connection unable to checkpoint the WAL at close. A batch is
	// short; Close waits for it and the loop stops before the next one.
	ctx := context.Background()
	stopped := func() bool {
		select {
		case <-s.stop:
			return true
		default:
			return false
		}
	}
	start := time.Now()
	total := 0
	for !stopped() {
		n, err := s.indexBatchOnce(ctx)
		total += n
		if s.afterIndex != nil {
			s.afterIndex(n, err)
		}
		if err != nil {
			s.log.Warn("history: indexing older entries for search failed; will retry", "err", err)
			select {
			case <-s.stop:
				return
			case <-time.After(10 * time.Second):
			}
			continue
		}
		if n < s.indexBatch {
			if total > 0 {
				s.log.Info("history: older entries indexed for search", "entries", total, "took", time.Since(start).Round(time.Millisecond))
			}
			close(s.indexed)
			return
		}
	}
}

// indexBatchOnce fills the search terms of up to s.indexBatch unindexed
// entries, newest first, in one transaction, and returns how many.
func (s *Store) indexBatchOnce(ctx context.Context) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrapStoreErr("index history entries", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	rows, err := tx.QueryContext(ctx, "SELECT id, title, message, data FROM entries WHERE norm IS NULL ORDER BY id DESC LIMIT ?", s.indexBatch)
	if err != nil {
		return 0, fmt.Errorf("index history entries: %w", err)
	}
	type row struct {
		id             int64
		title, message string
		data           []byte
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.title, &r.message, &r.data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("index history entries: %w", err)
		}
		batch = append(batch, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, fmt.Errorf("index history entries: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	// Oldest first in the batch: the index writes below go in rowid order.
	slices.Reverse(batch)
	ids := make([]any, len(batch))
	for i, r := range batch {
		ids[i] = r.id
	}
	in := "(" + sqlPlaceholders(len(ids)) + ")"
	// Remove the rows' index entries (title and message only)...
	if _, err := tx.ExecContext(ctx, `INSERT INTO entries_fts(entries_fts, rowid, title, message, vals, norm)
		SELECT 'delete', id, title, message, vals, norm FROM entries WHERE id IN `+in+` ORDER BY id`, ids...); err != nil {
		return 0, wrapStoreErr("index history entries", err)
	}
	// ...fill in the terms (the update trigger skips this change)...
	upd, err := tx.PrepareContext(ctx, "UPDATE entries SET vals = ?, norm = ? WHERE id = ?")
	if err != nil {
		return 0, fmt.Errorf("index history entries: %w", err)
	}
	defer upd.Close()
	for _, r := range batch {
		vals, norm := searchTerms(r.title, r.message, r.data)
		if _, err := upd.ExecContext(ctx, vals, norm, r.id); err != nil {
			return 0, wrapStoreErr("index history entries", err)
		}
	}
	// ...and index them whole.
	if _, err := tx.ExecContext(ctx, `INSERT INTO entries_fts(rowid, title, message, vals, norm)
		SELECT id, title, message, vals, norm FROM entries WHERE id IN `+in+` ORDER BY id`, ids...); err != nil {
		return 0, wrapStoreErr("index history entries", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, wrapStoreErr("index history entries: commit", err)
	}
	return len(batch), nil
}

// WaitIndexed waits until every entry stored by an older version of
// EchoTray has been indexed for search by this Store (see the package's
// indexing notes), or ctx ends. A history stored by this version never
// waits. `echotray history --search` waits so that its one search sees
// everything; the history window does not (its results fill in).
func (s *Store) WaitIndexed(ctx context.Context) error {
	select {
	case <-s.indexed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unindexed returns how many entries wait for their search terms.
func (s *Store) unindexed(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM entries WHERE norm IS NULL").Scan(&n)
	return n, err
}
