package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// Connection settings.
//
// journal_mode=WAL with synchronous=NORMAL: a transaction is committed once
// its frames are written to the WAL file, which happens before Add returns.
// Those writes are in the operating system's page cache, which survives the
// process being killed (kill -9, a crash), so a killed EchoTray loses no
// stored entry; only a power cut or OS crash can lose the last few commits,
// and never corrupts the file. FULL would fsync on every commit to cover
// power loss too, at several milliseconds per event; a notification history
// does not need that.
const (
	busyTimeoutMS = 5000
	openTimeout   = 30 * time.Second
	readerConns   = 4
)

// unusableError marks a database file that must be moved aside: not a
// database, damaged, or from a newer schema. suffix names the moved file.
type unusableError struct {
	suffix string
	err    error
}

func (e *unusableError) Error() string { return e.err.Error() }
func (e *unusableError) Unwrap() error { return e.err }

// openStore opens path; an *unusableError means the file should be moved
// aside and the open retried. configure, if not nil, adjusts the Store
// before its background goroutine starts (tests).
func openStore(path string, opts Options, configure func(*Store)) (*Store, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open history: create data directory: %w", err)
	}
	fresh, err := prepareFile(path)
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()

	params := url.Values{
		// temp_store: statement journals (an UPDATE whose triggers write
		// the full-text index) in memory, not in temporary files.
		"_pragma":       {fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS), "temp_store(MEMORY)"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_txlock":       {"immediate"}, // writers queue on busy_timeout, never deadlock on upgrade
	}
	if fresh {
		// Lets Prune and Clear give space back. Set only on an empty file:
		// on an existing one it would be a write, and a damaged file must
		// be moved aside exactly as it was found.
		params.Set("_auto_vacuum", "incremental")
	}
	w, err := sql.Open("sqlite", storeDSN(path, params))
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := checkDatabase(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	if err := migrateStore(ctx, w); err != nil {
		w.Close()
		var newer errNewerSchema
		if errors.As(err, &newer) {
			return nil, &unusableError{suffix: "newer", err: err}
		}
		if isCorrupt(err) {
			return nil, &unusableError{suffix: "corrupt", err: err}
		}
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	// SQLite gives -wal and -shm the database file's mode; make sure.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := restrictMode(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.Close()
			return nil, fmt.Errorf("open history: %w", err)
		}
	}

	r, err := sql.Open("sqlite", storeDSN(path, url.Values{
		"_pragma":     {fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS), "temp_store(MEMORY)"},
		"_query_only": {"1"},
	}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	r.SetMaxOpenConns(readerConns)
	r.SetMaxIdleConns(readerConns)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}

	s := &Store{
		path:        path,
		w:           w,
		r:           r,
		log:         loggerOrDiscard(opts.Logger),
		maxEntries:  opts.MaxEntries,
		maxAge:      opts.MaxAge,
		now:         time.Now,
		pruneReq:    make(chan struct{}, 1),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		pruneFirst:  firstPruneDelay,
		pruneEvery:  pruneInterval,
		pruneAfterN: pruneBatchN,
		indexed:     make(chan struct{}),
		indexDone:   make(chan struct{}),
		indexBatch:  indexBatchN,
	}
	if s.maxEntries == 0 {
		s.maxEntries = DefaultMaxEntries
	}
	if s.maxAge == 0 {
		s.maxAge = DefaultMaxAge
	}
	if configure != nil {
		configure(s)
	}
	s.lastPrune = s.now()
	go s.pruneLoop()
	go s.indexLoop()
	return s, nil
}

// prepareFile creates path with mode 0600 if it does not exist, and narrows
// the mode of an existing file to 0600. fresh reports an empty file. A file
// that exists but cannot be opened for reading and writing is unusable.
func prepareFile(path string) (fresh bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			if _, serr := os.Stat(path); serr == nil {
				return false, &unusableError{suffix: "corrupt", err: fmt.Errorf("history file is not readable and writable: %w", err)}
			}
		}
		return false, fmt.Errorf("open history: %w", err)
	}
	fi, err := f.Stat()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("open history: %w", err)
	}
	if err := restrictMode(path); err != nil {
		return false, fmt.Errorf("open history: %w", err)
	}
	return fi.Size() == 0, nil
}

// dsn builds a modernc.org/sqlite data source name: a file: URI, so that any
// character in path (even '?' or '#') is escaped, plus the driver's
// parameters.
func storeDSN(path string, params url.Values) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:///C:/Users/...
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: params.Encode()}
	return u.String()
}

// checkDatabase opens the first connection (which applies the pragmas; a
// file that is not a database fails here) and runs PRAGMA quick_check.
func checkDatabase(ctx context.Context, w *sql.DB) error {
	if err := w.PingContext(ctx); err != nil {
		if isCorrupt(err) {
			return &unusableError{suffix: "corrupt", err: err}
		}
		return err
	}
	rows, err := w.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		if isCorrupt(err) {
			return &unusableError{suffix: "corrupt", err: err}
		}
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return err
		}
		if msg != "ok" {
			problems = append(problems, msg)
		}
	}
	if err := rows.Err(); err != nil {
		if isCorrupt(err) {
			return &unusableError{suffix: "corrupt", err: err}
		}
		return err
	}
	if len(problems) > 0 {
		return &unusableError{suffix: "corrupt", err: fmt.Errorf("integrity check failed: %s", strings.Join(problems, "; "))}
	}
	return nil
}

// isCorrupt reports whether SQLite found the file damaged or not a database.
func isCorrupt(err error) bool {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// moveAside renames path, and its -wal and -shm files if present, to
// path + "." + suffix + "-" + a UTC time stamp (with a counter if that name
// is taken), and returns the new name of the database file.
func moveAside(path, suffix string, now time.Time) (string, error) {
	base := path + "." + suffix + "-" + now.UTC().Format("20060102T150405Z")
	dst := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dst = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(path, dst); err != nil {
		return "", err
	}
	for _, ext := range []string{"-wal", "-shm"} {
		if err := os.Rename(path+ext, dst+ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return dst, fmt.Errorf("move %s aside: %w", path+ext, err)
		}
	}
	return dst, nil
}
