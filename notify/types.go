// Package notify turns realtime events into desktop notifications.
//
// It holds the event catalog (event name → type, title and message), the
// notification policy (mute, do-not-disturb, flood control, de-duplication),
// delivery to the desktop behind the small Notifier interface, and Entry,
// the record of one event that the history keeps. The persistent history
// itself is package echotray/history, which imports notify: the Center writes
// to it through the HistoryWriter interface, so notify links no SQLite. It
// imports no Fyne package, so it tests without a display and with
// CGO_ENABLED=0.
package notify

import (
	"context"
	"encoding/json"
	"time"
)

// Type is the kind of a notification, as the web frontend's toasts have it.
type Type string

// The notification types, from the most to the least pleasant.
const (
	TypeSuccess Type = "success"
	TypeInfo    Type = "info"
	TypeWarning Type = "warning"
	TypeError   Type = "error"
)

// Types lists every Type in display order.
var Types = []Type{TypeSuccess, TypeInfo, TypeWarning, TypeError}

// Valid reports whether t is one of the known types.
func (t Type) Valid() bool {
	switch t {
	case TypeSuccess, TypeInfo, TypeWarning, TypeError:
		return true
	}
	return false
}

// Urgency is the freedesktop notification urgency level.
type Urgency byte

// Urgency levels, with the values of the freedesktop "urgency" hint.
const (
	UrgencyLow      Urgency = 0
	UrgencyNormal   Urgency = 1
	UrgencyCritical Urgency = 2
)

// Urgency maps a type to the urgency a desktop notification gets: errors are
// critical, everything else is normal.
func (t Type) Urgency() Urgency {
	if t == TypeError {
		return UrgencyCritical
	}
	return UrgencyNormal
}

// Entry is one event as stored in the history.
type Entry struct {
	ID      int64           // assigned by the store
	Time    time.Time       // when the event was received
	Channel string          // e.g. "tenant.1" or "private-user.5"
	Event   string          // short name, the Laravel namespace stripped
	Type    Type            // notification type from the catalog
	Title   string          // rendered title
	Message string          // rendered message
	Data    json.RawMessage // the raw payload
	Read    bool            // whether the user has seen it in the history window
	Key     string          // de-duplication key; empty means none, else unique
	// Account is who received it: server + "#" + user id. The store
	// fills it in from its current account when empty.
	Account string
	// ExternalID is the Laravel notification's UUID for entries that came
	// from a database notification (live or caught up); empty otherwise.
	// It is unique per account and is what read sync sends back.
	ExternalID string
}

// HistoryWriter is the part of the history store the Center needs.
type HistoryWriter interface {
	// Add stores e and sets e.ID. It reports inserted=false when an entry
	// with the same non-empty Key already exists.
	Add(ctx context.Context, e *Entry) (inserted bool, err error)
}
