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
// Before each attempt, until one has succeeded, it asks the server for its
// realtime settings (RefreshDiscovery, at most DiscoveryTimeout): they are
// refreshed at each start, and a server unreachable at first is asked again
// once it answers.
//
// This is the one restore policy: the tray core and `echotray watch` both
// use it.
func (s *Session) RestoreRetrying(ctx context.Context, wake <-chan struct{}, onRetry func(err error, next time.Time)) (User, error) {
	delay := RestoreFirstDelay
	discovered := false
	for {
		if !discovered {
			discovered = s.refreshDiscoveryBounded(ctx)
		}
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

// DiscoveryTimeout bounds asking the server for its realtime settings at
// start: an unreachable server must not hold the start up (the saved
// settings apply meanwhile).
const DiscoveryTimeout = 5 * time.Second

// refreshDiscoveryBounded runs RefreshDiscovery within DiscoveryTimeout and
// reports whether the server answered (offered settings or said it has
// none); a failure is logged and the saved settings apply.
func (s *Session) refreshDiscoveryBounded(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, DiscoveryTimeout)
	defer cancel()
	if err := s.RefreshDiscovery(ctx); err != nil {
		s.log.Info("starting with the saved realtime settings", "err", err)
		return false
	}
	return true
}
