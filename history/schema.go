package history

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations holds the schema, one step per PRAGMA user_version: the
// database is at version len(migrations) once every step has run. A step is
// never edited after a release; changes go in a new step at the end.
var migrations = []string{
	// 1: the entries table, its indexes and the full-text index over title
	// and message (an external-content FTS5 table kept in step by triggers).
	`
CREATE TABLE entries (
	id      INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so keyset paging and "newer than" stay valid after deletes
	time    INTEGER NOT NULL,                  -- Unix nanoseconds
	channel TEXT    NOT NULL DEFAULT '',
	event   TEXT    NOT NULL DEFAULT '',
	type    TEXT    NOT NULL DEFAULT 'info',
	title   TEXT    NOT NULL DEFAULT '',
	message TEXT    NOT NULL DEFAULT '',
	data    BLOB,                              -- raw JSON payload
	read    INTEGER NOT NULL DEFAULT 0,
	key     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX entries_time    ON entries(time);
CREATE INDEX entries_type    ON entries(type);
CREATE INDEX entries_channel ON entries(channel);
CREATE INDEX entries_event   ON entries(event);
CREATE INDEX entries_unread  ON entries(read) WHERE read = 0;
CREATE UNIQUE INDEX entries_key ON entries(key) WHERE key <> '';
CREATE VIRTUAL TABLE entries_fts USING fts5(
	title, message,
	content = 'entries', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2'
);
` + ftsTriggers,
}

// ftsTriggers keep entries_fts in step with entries. Clear drops and
// recreates entries_ad, so the text lives here once.
const (
	ftsInsertTrigger = `
CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
	INSERT INTO entries_fts(rowid, title, message) VALUES (new.id, new.title, new.message);
END;`
	ftsDeleteTrigger = `
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
	INSERT INTO entries_fts(entries_fts, rowid, title, message) VALUES ('delete', old.id, old.title, old.message);
END;`
	ftsUpdateTrigger = `
CREATE TRIGGER entries_au AFTER UPDATE OF title, message ON entries BEGIN
	INSERT INTO entries_fts(entries_fts, rowid, title, message) VALUES ('delete', old.id, old.title, old.message);
	INSERT INTO entries_fts(rowid, title, message) VALUES (new.id, new.title, new.message);
END;`
	ftsTriggers = ftsInsertTrigger + ftsDeleteTrigger + ftsUpdateTrigger
)

// schemaVersion is the version this build writes and understands.
var schemaVersion = len(migrations)

// errNewerSchema reports a database written by a newer EchoTray.
type errNewerSchema struct{ have, want int }

func (e errNewerSchema) Error() string {
	return fmt.Sprintf("history schema version %d is newer than this EchoTray understands (%d)", e.have, e.want)
}

// migrate brings the database on db up to schemaVersion, one transaction
// per step. It returns errNewerSchema for a database from a newer build.
func migrateStore(ctx context.Context, db *sql.DB) error {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > schemaVersion {
		return errNewerSchema{have: have, want: schemaVersion}
	}
	for v := have; v < schemaVersion; v++ {
		if err := migrateStoreStep(ctx, db, v); err != nil {
			return err
		}
	}
	return nil
}

func migrateStoreStep(ctx context.Context, db *sql.DB, from int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate history schema to version %d: %w", from+1, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// Another process may have migrated while we waited for the write lock.
	var now int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&now); err != nil {
		return fmt.Errorf("migrate history schema: read version: %w", err)
	}
	if now != from {
		return nil
	}
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return fmt.Errorf("migrate history schema to version %d: %w", from+1, err)
	}
	// PRAGMA takes no bound parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		return fmt.Errorf("migrate history schema: set version %d: %w", from+1, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate history schema to version %d: commit: %w", from+1, err)
	}
	return nil
}
