package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"echotray/notify"
)

// schemaV1 is the "v-previous" fixture: the schema of history files
// written before accounts (PRAGMA user_version 1), copied here as it was
// released, so that the migration is tested against a real old file and
// not against whatever migrations[0] says today.
const schemaV1 = `
CREATE TABLE entries (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	time    INTEGER NOT NULL,
	channel TEXT    NOT NULL DEFAULT '',
	event   TEXT    NOT NULL DEFAULT '',
	type    TEXT    NOT NULL DEFAULT 'info',
	title   TEXT    NOT NULL DEFAULT '',
	message TEXT    NOT NULL DEFAULT '',
	data    BLOB,
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
CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
	INSERT INTO entries_fts(rowid, title, message) VALUES (new.id, new.title, new.message);
END;
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
	INSERT INTO entries_fts(entries_fts, rowid, title, message) VALUES ('delete', old.id, old.title, old.message);
END;
CREATE TRIGGER entries_au AFTER UPDATE OF title, message ON entries BEGIN
	INSERT INTO entries_fts(entries_fts, rowid, title, message) VALUES ('delete', old.id, old.title, old.message);
	INSERT INTO entries_fts(rowid, title, message) VALUES (new.id, new.title, new.message);
END;
PRAGMA user_version = 1;
`

// writeV1History creates a version-1 history file at path holding entries
// (as the version-1 store wrote them) and returns them with their IDs.
func writeV1History(t testing.TB, path string, entries []notify.Entry) []notify.Entry {
	t.Helper()
	db, err := sql.Open("sqlite", storeDSN(path, map[string][]string{"_journal_mode": {"WAL"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schemaV1); err != nil {
		t.Fatalf("v1 schema: %v", err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO entries (time, channel, event, type, title, message, data, read, key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	if err != nil {
		t.Fatal(err)
	}
	out := slices.Clone(entries)
	for i := range out {
		e := &out[i]
		var data any
		if len(e.Data) > 0 {
			data = []byte(e.Data)
		}
		if err := stmt.QueryRow(e.Time.UnixNano(), e.Channel, e.Event, string(e.Type), e.Title, e.Message, data, e.Read, e.Key).Scan(&e.ID); err != nil {
			t.Fatal(err)
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// v1Entries is a version-1 history: payments with amounts and phones in
// the payload, read and unread, keyed and not.
func v1Entries(n int) []notify.Entry {
	out := make([]notify.Entry, n)
	for i := range out {
		amount := 100 * (i%40 + 1)
		out[i] = notify.Entry{
			Time:    testBase.Add(time.Duration(i) * time.Minute),
			Channel: fmt.Sprintf("tenant.%d", i%3+1),
			Event:   "PaymentCompleted",
			Type:    notify.Types[i%4],
			Title:   "Payment Completed",
			Message: fmt.Sprintf("Payment of KES %s.00 from 2547%08d completed successfully.", groupThousands(amount), i),
			Data: json.RawMessage(fmt.Sprintf(`{"payment":{"id":%d,"amount":%d,"currency":"KES","phone":"07%08d","reference":"QX%07dK"}}`,
				i, amount, i, i)),
			Read: i%3 == 0,
		}
		if i%5 == 0 {
			out[i].Key = fmt.Sprintf("evt-%d", i)
		}
	}
	return out
}

func groupThousands(n int) string {
	s := fmt.Sprint(n)
	if len(s) > 3 {
		return s[:len(s)-3] + "," + s[len(s)-3:]
	}
	return s
}

// TestMigrateFromV1 opens a history file of the previous schema: nothing
// is lost, words are searchable at once, amounts, phones and payload values
// once the background indexer has run, and the rows belong to the first
// account signed in.
func TestMigrateFromV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	old := writeV1History(t, path, v1Entries(1234))
	filled := make(chan int, 100)
	s, err := openStore(path, Options{MaxEntries: -1, MaxAge: -1}, func(s *Store) {
		s.indexBatch = 100 // several batches
		s.afterIndex = func(n int, err error) {
			if err != nil {
				t.Errorf("indexer: %v", err)
			}
			filled <- n
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Recovered() != "" {
		t.Fatalf("the old file was moved aside to %s", s.Recovered())
	}
	ctx := context.Background()
	var version int
	if err := s.w.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != schemaVersion {
		t.Errorf("user_version = %d, %v; want %d", version, err, schemaVersion)
	}
	// Words are found before the indexer is done (the index was rebuilt).
	if n, err := s.Count(ctx, Query{Search: "completed successfully"}); err != nil || n != len(old) {
		t.Errorf("word search right after the migration = %d, %v; want %d", n, err, len(old))
	}
	if err := s.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	batches := 0
	for len(filled) > 0 {
		if n := <-filled; n > 0 {
			batches++
		}
	}
	if batches != 13 { // 1234 rows
		t.Errorf("indexed in %d batches of 100, want 13", batches)
	}
	if n, err := s.unindexed(ctx, s.r); err != nil || n != 0 {
		t.Errorf("%d entries left unindexed, %v", n, err)
	}

	// Nothing lost: every row, field by field (before SetAccount, the
	// store shows the entries without an account: all of them).
	got, err := s.List(ctx, Query{Limit: -1})
	if err != nil || len(got) != len(old) {
		t.Fatalf("List = %d entries, %v; want %d", len(got), err, len(old))
	}
	slices.Reverse(got)
	for i, e := range got {
		w := old[i]
		if e.ID != w.ID || !e.Time.Equal(w.Time) || e.Channel != w.Channel || e.Event != w.Event || e.Type != w.Type ||
			e.Title != w.Title || e.Message != w.Message || !bytes.Equal(e.Data, w.Data) || e.Read != w.Read || e.Key != w.Key ||
			e.Account != "" || e.ExternalID != "" {
			t.Fatalf("entry %d after migration = %+v, want %+v", i, e, w)
		}
	}
	// The new search finds old entries: amount, phone in both forms,
	// payload reference.
	for search, want := range map[string]int{
		"1,500":            1234/40 + 1, // amount 1500: i%40 == 14
		"KES 4,000.00":     1234 / 40,   // i%40 == 39
		"254700000777":     1,
		"0700 000 777":     1,
		"+254 700 000 777": 1,
		"QX0000777K":       1,
		"777":              1, // the payment's id (a payload value), not the phone's digits
		"000":              0, // not a phone's group
	} {
		if n, err := s.Count(ctx, Query{Search: search}); err != nil || n != want {
			t.Errorf("Count(search %q) = %d, %v; want %d", search, n, err, want)
		}
	}
	// Old keys still deduplicate.
	if ok, err := s.Add(ctx, &notify.Entry{Title: "again", Key: "evt-5"}); ok || err != nil {
		t.Errorf("Add with an old key = %v, %v; want a duplicate", ok, err)
	}
	checkFTS(t, s)

	// The first account adopts them all, unread counts and all.
	unread, _ := s.UnreadCount(ctx)
	s.SetAccount(acctA)
	if n, _ := s.Count(ctx, Query{}); n != len(old) {
		t.Errorf("A sees %d, want %d", n, len(old))
	}
	if n, _ := s.UnreadCount(ctx); n != unread {
		t.Errorf("A unread = %d, want %d", n, unread)
	}
	if n, _ := s.Count(ctx, Query{Search: "0700 000 777"}); n != 1 {
		t.Errorf("A phone search = %d", n)
	}
	s.SetAccount(acctB)
	if n, _ := s.Count(ctx, Query{}); n != 0 {
		t.Errorf("B sees %d of A's adopted entries", n)
	}
}

// TestMigratedFileReopens: a migrated file opens again without migrating
// or indexing anything, and a store on a fresh file never waits.
func TestMigratedFileReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	writeV1History(t, path, v1Entries(50))
	for range 2 {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.WaitIndexed(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if n, _ := s.Count(context.Background(), Query{Search: "0700000007"}); n != 1 {
			t.Errorf("phone search after reopen = %d", n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	fresh := testStore(t, Options{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fresh.WaitIndexed(ctx); err != nil {
		t.Errorf("WaitIndexed on a fresh history: %v", err)
	}
}
