package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Prune deletes the entries beyond the retention limits: older than MaxAge
// (whoever's they are) or not among the MaxEntries newest of their account
// (each account keeps its own MaxEntries: a busy cashier's history does not
// push out a colleague's). It deletes in small transactions, so an Add
// waits at most for one of them, and returns how many entries it deleted.
// The store calls it in the background (shortly after opening, after a
// burst of inserts, and every hour); call it directly only to force a
// prune.
func (s *Store) Prune(ctx context.Context) (int, error) {
	cutoffs, err := s.cutoffIDs(ctx)
	if err != nil {
		return 0, err
	}
	var oldest int64 // time bound in Unix nanoseconds; 0 = none
	if s.maxAge > 0 {
		oldest = s.now().Add(-s.maxAge).UnixNano()
	}
	total := 0
	for _, c := range cutoffs {
		n, err := s.deleteChunks(ctx, "SELECT id FROM entries WHERE account = ? AND id < ? ORDER BY id LIMIT ?", c.account, c.id)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune history: %w", err)
		}
	}
	if oldest != 0 {
		n, err := s.deleteChunks(ctx, "SELECT id FROM entries WHERE time < ? LIMIT ?", oldest)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune history: %w", err)
		}
	}
	if total > 0 {
		s.reclaim(ctx)
	}
	return total, nil
}

// deleteChunks deletes the rows the sub-select (with its bound arguments
// and a final LIMIT placeholder) picks, pruneChunk rows per transaction,
// until none is left.
func (s *Store) deleteChunks(ctx context.Context, pick string, bound ...any) (int, error) {
	total := 0
	args := append(append([]any{}, bound...), pruneChunk)
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		res, err := s.w.ExecContext(ctx, "DELETE FROM entries WHERE id IN ("+pick+")", args...)
		if err != nil {
			return total, wrapStoreErr("delete", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < pruneChunk {
			return total, nil
		}
	}
}

// accountCutoff is the ID of the oldest entry MaxEntries keeps of an
// account: its entries with a smaller ID go.
type accountCutoff struct {
	account int64 // row in accounts
	id      int64
}

// cutoffIDs returns the cutoff of every account that has more than
// MaxEntries entries (none when there is no count limit).
func (s *Store) cutoffIDs(ctx context.Context) ([]accountCutoff, error) {
	if s.maxEntries <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT DISTINCT account FROM entries")
	if err != nil {
		return nil, fmt.Errorf("prune history: %w", err)
	}
	var accounts []int64
	for rows.Next() {
		var a int64
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return nil, fmt.Errorf("prune history: %w", err)
		}
		accounts = append(accounts, a)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("prune history: %w", err)
	}
	var out []accountCutoff
	for _, a := range accounts {
		var id int64
		err := s.r.QueryRowContext(ctx, "SELECT id FROM entries WHERE account = ? ORDER BY id DESC LIMIT 1 OFFSET ?", a, s.maxEntries-1).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("prune history: %w", err)
		}
		out = append(out, accountCutoff{account: a, id: id})
	}
	return out, nil
}

// reclaim returns the pages freed by deletes to the file system, a chunk at
// a time so that writers are not held up. Failure only costs disk space, so
// it is logged.
func (s *Store) reclaim(ctx context.Context) {
	for range 1000 { // bound: 1000 × 256 pages of 4 KiB = 1 GiB
		var free int
		if err := s.w.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil || free == 0 {
			if err != nil {
				s.log.Warn("history: could not read the free page count", "err", err)
			}
			return
		}
		if _, err := s.w.ExecContext(ctx, "PRAGMA incremental_vacuum(256)"); err != nil {
			s.log.Warn("history: could not return free pages to the file system", "err", err)
			return
		}
	}
}

// notePruneInsert counts n inserts and wakes the pruner after a burst, or
// for the first insert a minute after the last prune. It never blocks.
func (s *Store) notePruneInsert(n int) {
	if n == 0 {
		return
	}
	s.pruneMu.Lock()
	s.sincePrune += n
	due := s.sincePrune >= s.pruneAfterN || s.now().Sub(s.lastPrune) >= pruneMinGap
	s.pruneMu.Unlock()
	if due {
		select {
		case s.pruneReq <- struct{}{}:
		default: // a prune is already pending
		}
	}
}

// pruneLoop runs Prune in the background until Close.
func (s *Store) pruneLoop() {
	defer close(s.done)
	first := time.NewTimer(s.pruneFirst)
	defer first.Stop()
	tick := time.NewTicker(s.pruneEvery)
	defer tick.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-first.C:
		case <-tick.C:
		case <-s.pruneReq:
		}
		s.pruneMu.Lock()
		s.sincePrune = 0
		s.lastPrune = s.now()
		s.pruneMu.Unlock()
		n, err := s.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("history: pruning old entries failed; will retry", "err", err)
		case n > 0:
			s.log.Debug("history: pruned old entries", "deleted", n)
		}
		if s.afterPrune != nil {
			s.afterPrune(n, err)
		}
	}
}
