package realtime

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

var (
	// ErrUnauthorized means the authoriser answered 401: the session is over.
	// The client moves to StateFailed with an error matching it and does not
	// retry until Connect or Reconnect.
	ErrUnauthorized = errors.New("realtime: unauthorized (session expired)")
	// ErrForbidden means the authoriser answered 403: the user may not join
	// that channel. Other channels keep working.
	ErrForbidden = errors.New("realtime: forbidden channel")
	// ErrFrameTooLarge means the server sent a frame larger than
	// Config.MaxFrameBytes. The frame is refused without being buffered and
	// the connection is replaced.
	ErrFrameTooLarge = errors.New("realtime: frame too large")
	// ErrSubscriptionTimeout means the server did not confirm a subscription
	// within Config.SubscribeTimeout (Reverb answers a bad signature with a
	// pusher:error that names no channel). The client retries with backoff.
	ErrSubscriptionTimeout = errors.New("realtime: subscription not confirmed in time")
	// ErrPongTimeout means the server did not answer a pusher:ping within
	// Config.PongTimeout; the connection is treated as dead and replaced.
	ErrPongTimeout = errors.New("realtime: no reply to ping")
	// ErrWoke means the machine slept (the wall clock jumped ahead of the
	// monotonic clock); the connection is replaced at once.
	ErrWoke = errors.New("realtime: machine resumed from sleep")
)

// AuthError is returned by [HTTPAuthorizer] when the authorisation endpoint
// does not answer 200. errors.Is(err, ErrUnauthorized) holds for status 401
// and errors.Is(err, ErrForbidden) for 403.
type AuthError struct {
	// Status is the HTTP status code.
	Status int
	// Message is Laravel's JSON "message", or a short excerpt of the body.
	Message string
	// RetryAfter is how long the endpoint asked to wait with Retry-After
	// (delta-seconds or an HTTP-date) on a 429 or 503, capped at 5 minutes;
	// 0 when absent, unparsable or not in the future. When it is set the
	// client retries that channel alone after RetryAfter plus
	// Config.Jitter, on the same connection, instead of backing off; a
	// custom Authorizer may return an *AuthError with RetryAfter too.
	RetryAfter time.Duration
}

// Error describes the failure without any credential.
func (e *AuthError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("realtime: channel authorisation refused: HTTP %d: %s", e.Status, msg)
}

// Is makes errors.Is match ErrUnauthorized for 401 and ErrForbidden for 403.
func (e *AuthError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	}
	return false
}

// CloseError reports a Pusher close or error code that ended or refused a
// connection: a WebSocket close frame, a pusher:error received during the
// handshake, or a pusher:error followed within two seconds by a close without
// a code (Reverb's way of closing).
type CloseError struct {
	// Code is the close or pusher:error code, e.g. 4001 or 4200; 1006 when
	// the connection ended without a close frame.
	Code int
	// Message is the server's reason text, if any.
	Message string
}

// Error returns the code, its meaning and the server's message.
func (e *CloseError) Error() string {
	s := fmt.Sprintf("realtime: connection closed with code %d (%s)", e.Code, closeMeaning(e.Code))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// subscriptionError is a pusher:subscription_error sent by the server.
type subscriptionError struct {
	Channel string
	Type    string
	Message string
	Status  int
}

// Error describes the server's refusal.
func (e *subscriptionError) Error() string {
	s := fmt.Sprintf("realtime: server refused subscription to %q", e.Channel)
	if e.Type != "" {
		s += ": " + e.Type
	}
	if e.Status != 0 {
		s += fmt.Sprintf(" (status %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}
