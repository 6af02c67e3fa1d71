package app

import (
	"context"
	"errors"
	"time"
)

// Delays between attempts to restore a session while the server cannot be
// reached: the core and `echotray watch` share them.
const (
	RestoreFirstDelay = 2 * time.Second
	RestoreMaxDelay   = time.Minute
)

// Retryable reports whether a Restore error may go away by itself: the
// server could not be reached, did not answer in time or failed (5xx).
// Everything else (nobody signed in, expired, keyring, a misconfigured
// server) needs the user.
func Retryable(err error) bool {
	var api *APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.Kind {
	case KindUnreachable, KindTimeout, KindServer:
		return true
	}
	return false
}

// RestoreRetrying is Session.Restore, tried again while the error is
// Retryable: after RestoreFirstDelay, doubling up to RestoreMaxDelay. Before
// each wait it calls onRetry (may be nil) with the error and the time of
// the next attempt. A value on wake (may be nil) ends a wait at once
// ("Reconnect now"). It returns the first non-retryable result, or ctx's
// error when ctx ends.
//
// This is the one restore policy: the tray core and `echotray watch` both
// use it.
func (s *Session) RestoreRetrying(ctx context.Context, wake <-chan struct{}, onRetry func(err error, next time.Time)) (User, error) {
	delay := RestoreFirstDelay
	for {
		u, err := s.Restore(ctx)
		if ctx.Err() != nil {
			return User{}, ctx.Err()
		}
		if err == nil || !Retryable(err) {
			return u, err
		}
		if onRetry != nil {
			onRetry(err, time.Now().Add(delay))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return User{}, ctx.Err()
		case <-wake:
			t.Stop()
		case <-t.C:
		}
		delay = min(delay*2, RestoreMaxDelay)
	}
}
