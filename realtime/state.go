package realtime

import (
	"fmt"
	"time"
)

// State is the connection state of a [Client]. It follows pusher-js.
type State int

const (
	// StateInitialized is the state of a new client before Connect.
	StateInitialized State = iota
	// StateConnecting means a connection attempt is in progress.
	StateConnecting
	// StateConnected means the handshake completed and the socket is live.
	StateConnected
	// StateUnavailable means the connection was lost or could not be made; the
	// client retries at [StateChange.NextAttempt].
	StateUnavailable
	// StateDisconnected means the user asked to disconnect (Disconnect or
	// Close); the client does not retry until Connect or Reconnect.
	StateDisconnected
	// StateFailed means the server refused the client (close codes
	// 4001-4099) or the session is over (authorisation answered 401). The
	// client does not retry until Connect or Reconnect.
	StateFailed
)

// String returns the lower-case pusher-js name of the state, e.g. "connecting".
func (s State) String() string {
	switch s {
	case StateInitialized:
		return "initialized"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateUnavailable:
		return "unavailable"
	case StateDisconnected:
		return "disconnected"
	case StateFailed:
		return "failed"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// StateChange describes one transition of the connection state machine.
type StateChange struct {
	// Previous and Current are the states before and after the change.
	Previous, Current State
	// Err is the cause of the change; nil when it was requested or is a
	// success.
	Err error
	// NextAttempt is when the client will try to connect again, set while it
	// waits in StateUnavailable; zero otherwise.
	NextAttempt time.Time
}

// SubscriptionStatus is the state of one wanted channel on the current
// connection.
type SubscriptionStatus int

const (
	// SubscriptionPending means the channel is wanted but not yet confirmed by
	// the server on the current connection (not connected yet, authorising, or
	// waiting for pusher_internal:subscription_succeeded).
	SubscriptionPending SubscriptionStatus = iota
	// SubscriptionSubscribed means the server confirmed the subscription on
	// the current connection.
	SubscriptionSubscribed
	// SubscriptionFailed means the last attempt failed (server error,
	// timeout, authoriser error); the client retries with backoff, or at
	// the time the error names when the authoriser asked to wait
	// (Retry-After on a 429 or 503).
	SubscriptionFailed
	// SubscriptionForbidden means the authoriser answered 403: the user may
	// not join this channel. It is retried only on the next connection.
	SubscriptionForbidden
)

// String returns a lower-case name such as "subscribed".
func (s SubscriptionStatus) String() string {
	switch s {
	case SubscriptionPending:
		return "pending"
	case SubscriptionSubscribed:
		return "subscribed"
	case SubscriptionFailed:
		return "failed"
	case SubscriptionForbidden:
		return "forbidden"
	}
	return fmt.Sprintf("subscription(%d)", int(s))
}

// SubscriptionChange reports a change of a channel's [SubscriptionStatus].
// A Subscribed change is published after every (re)subscription, which is the
// moment to catch up on events missed while disconnected.
type SubscriptionChange struct {
	// Channel is the channel name as on the wire.
	Channel string
	// Status is the new status.
	Status SubscriptionStatus
	// Err is the reason for Failed and Forbidden; nil otherwise.
	Err error
}
