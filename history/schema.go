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

	// 2: one history per account, Laravel notification UUIDs, and search
	// the way cashiers search.
	//   - account: who received the entry, a row of accounts (whose key is
	//     opaque to the store; row 0, "", holds the entries from before
	//     accounts until the first account adopts them, see SetAccount);
	//     keys and external IDs are unique per account.
	//   - external_id: the Laravel notification UUID.
	//   - vals, norm: the payload's values and the normalised amounts and
	//     phone numbers (searchTerms), filled by Add; NULL until the
	//     background indexer has filled them for older rows.
	//   - meta: small facts about the file (who adopted the legacy rows,
	//     the last account).
	//   - the filter indexes lead with the account; entries_account holds
	//     the time too, so a date filter walks it newest first without
	//     reading rows (entries_time stays for retention by age, which
	//     spans accounts).
	// The full-text index is rebuilt over the four text columns; vals and
	// norm are empty for existing rows until the indexer reaches them.
	`
CREATE TABLE accounts (
	id  INTEGER PRIMARY KEY,
	key TEXT NOT NULL UNIQUE
);
INSERT INTO accounts (id, key) VALUES (0, '');
ALTER TABLE entries ADD COLUMN account     INTEGER NOT NULL DEFAULT 0; -- a row of accounts
ALTER TABLE entries ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN vals        TEXT;
ALTER TABLE entries ADD COLUMN norm        TEXT;
DROP INDEX entries_key;
DROP INDEX entries_unread;
DROP INDEX entries_type;
DROP INDEX entries_channel;
DROP INDEX entries_event;
CREATE UNIQUE INDEX entries_account_key      ON entries(account, key)         WHERE key <> '';
CREATE UNIQUE INDEX entries_account_external ON entries(account, external_id) WHERE external_id <> '';
CREATE INDEX entries_account         ON entries(account, id, time);
CREATE INDEX entries_account_unread  ON entries(account, id) WHERE read = 0;
CREATE INDEX entries_account_type    ON entries(account, type);
CREATE INDEX entries_account_channel ON entries(account, channel);
CREATE INDEX entries_account_event   ON entries(account, event);
CREATE INDEX entries_unindexed      ON entries(id) WHERE norm IS NULL;
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
DROP TRIGGER entries_ai;
DROP TRIGGER entries_ad;
DROP TRIGGER entries_au;
DROP TABLE entries_fts;
CREATE VIRTUAL TABLE entries_fts USING fts5(
	title, message, vals, norm,
	content = 'entries', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');
` + fts2Triggers,
}

// The version-1 full-text triggers (title and message only). Step 1 is
// written with them and never changes; step 2 replaces them.
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

// The full-text triggers from version 2 on: the index covers title,
// message, vals (the payload's values) and norm (normalised amounts and
// phone numbers, see searchTerms). A row whose norm is NULL (stored by an
// older version, not yet reached by the indexer) is indexed with its title
// and message; the indexer fills vals and norm and replaces the row's index
// entry itself, in bulk and in rowid order (FTS5 flushes its pending
// terms whenever a write goes back in rowid order, which a per-row
// delete and insert does every time), so the update trigger skips that
// change. Clear drops and recreates entries_ad, so the text lives here
// once.
const (
	fts2InsertTrigger = `
CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
	INSERT INTO entries_fts(rowid, title, message, vals, norm) VALUES (new.id, new.title, new.message, new.vals, new.norm);
END;`
	fts2DeleteTrigger = `
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
	INSERT INTO entries_fts(entries_fts, rowid, title, message, vals, norm) VALUES ('delete', old.id, old.title, old.message, old.vals, old.norm);
END;`
	fts2UpdateTrigger = `
CREATE TRIGGER entries_au AFTER UPDATE OF title, message, vals, norm ON entries
WHEN NOT (old.norm IS NULL AND new.norm IS NOT NULL) BEGIN
	INSERT INTO entries_fts(entries_fts, rowid, title, message, vals, norm) VALUES ('delete', old.id, old.title, old.message, old.vals, old.norm);
	INSERT INTO entries_fts(rowid, title, message, vals, norm) VALUES (new.id, new.title, new.message, new.vals, new.norm);
END;`
	fts2Triggers = fts2InsertTrigger + fts2DeleteTrigger + fts2UpdateTrigger
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
