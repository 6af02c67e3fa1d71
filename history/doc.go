// Package history is EchoTray's persistent event history: a SQLite
// database (pure Go, modernc.org/sqlite, so it builds with CGO_ENABLED=0) in
// WAL mode with a full-text index, and background retention.
//
// The core process writes to it (a *Store satisfies notify.HistoryWriter,
// the interface the notify Center stores through); the window process and
// the CLI read and change the same file. Entries are notify.Entry values:
// this package imports notify, and notify never imports it, so notify links
// no SQLite.
//
// One history per account: every entry belongs to the account that
// received it, and a Store works on one account at a time (SetAccount), so
// someone else signing in on the same computer never sees it (see
// account.go). Files from before accounts are migrated in place, without
// loss.
//
// Search the way cashiers search: besides title and message, the index
// holds the payload's values and every amount and phone number in one
// canonical form, so "1500", "1,500" and "KES 1,500" find "KES 1,500.00",
// and "0712 345 678" and "+254 712 345 678" find 254712345678 (see
// normalize.go).
//
// DefaultPath gives the per-user file; Open opens (and, when it is unusable,
// moves aside and replaces) it.
package history
