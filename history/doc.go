// Package history is EchoTray's persistent event history: a SQLite
// database (pure Go, modernc.org/sqlite, so it builds with CGO_ENABLED=0) in
// WAL mode with a full-text index over title and message, and background
// retention.
//
// The core process writes to it (a *Store satisfies notify.HistoryWriter,
// the interface the notify Center stores through); the window process and
// the CLI read and change the same file. Entries are notify.Entry values:
// this package imports notify, and notify never imports it, so notify links
// no SQLite.
//
// DefaultPath gives the per-user file; Open opens (and, when it is unusable,
// moves aside and replaces) it.
package history
