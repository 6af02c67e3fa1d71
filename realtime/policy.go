package realtime

import (
	"math/rand/v2"
	"time"
)

const (
	backoffBase = time.Second
	backoffCap  = 60 * time.Second
	// stableAfter is how long a connection must live for the backoff to
	// start again from the first attempt.
	stableAfter = time.Minute
	// errorCloseWindow is how recent a pusher:error must be to stand in for
	// the code of a close that carries none (1005/1006), as Reverb sends the
	// code as a message and then drops TCP.
	errorCloseWindow = 2 * time.Second
	// jitterMax is the upper bound of DefaultJitter.
	jitterMax = time.Second
	// maxRetryAfter caps the wait an authorisation endpoint may ask for
	// with Retry-After.
	maxRetryAfter = 5 * time.Minute
)

// DefaultBackoff returns the delay before reconnection attempt number attempt
// (1 for the first retry): exponential with full jitter, a random duration in
// [0, min(60 s, 1 s * 2^(attempt-1))]. It keeps no state.
func DefaultBackoff(attempt int) time.Duration {
	return rand.N(backoffCeiling(attempt) + 1)
}

// DefaultJitter returns a uniformly random duration in [0, 1 s]. It is the
// default Config.Jitter: the delay before the first reconnection attempt after
// the server closed a live connection or the connection was lost, and the
// extra wait after an authorisation endpoint's Retry-After. It keeps no state.
func DefaultJitter() time.Duration {
	return rand.N(jitterMax + 1)
}

// backoffCeiling is the upper bound DefaultBackoff draws from.
func backoffCeiling(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 { // 1 s << 6 = 64 s already exceeds the cap
		return backoffCap
	}
	return min(backoffCap, backoffBase<<(attempt-1))
}

// closeAction is what the client does after a connection ends with a code.
type closeAction int

const (
	actBackoff closeAction = iota // retry after backoff
	actNow                        // reconnect at once
	actTLS                        // switch to TLS and reconnect at once
	actStop                       // refused: StateFailed, no retry
)

// closeActionFor maps a close or pusher:error code to an action, following
// the Pusher protocol's ranges.
func closeActionFor(code int) closeAction {
	switch {
	case code == 4000:
		return actTLS
	case code >= 4001 && code <= 4099:
		return actStop
	case code >= 4100 && code <= 4199:
		return actBackoff
	case code >= 4200 && code <= 4299:
		return actNow
	}
	// Everything else backs off, 4300-4999 included: those codes (client
	// event rejected, rate limited, server error) are about one message, and
	// a notifier that never sends client events should come back, not give up.
	return actBackoff
}

// closeMeaning is a short human description of a code.
func closeMeaning(code int) string {
	switch code {
	case 1000:
		return "normal closure"
	case 1001:
		return "going away"
	case 1005:
		return "no status"
	case 1006:
		return "connection dropped"
	case 1009:
		return "message too big"
	case 4000:
		return "application only accepts TLS"
	case 4001:
		return "application does not exist"
	case 4003:
		return "application disabled"
	case 4004:
		return "over connection quota"
	case 4005:
		return "path not found"
	case 4006:
		return "invalid version string format"
	case 4007:
		return "unsupported protocol version"
	case 4008:
		return "no protocol version supplied"
	case 4009:
		return "connection unauthorized"
	case 4100:
		return "over capacity"
	case 4200:
		return "generic reconnect immediately"
	case 4201:
		return "pong reply not received"
	case 4202:
		return "closed after inactivity"
	case 4301:
		return "client event rejected"
	}
	switch closeActionFor(code) {
	case actStop:
		return "refused, do not reconnect"
	case actNow:
		return "reconnect immediately"
	}
	if code >= 4100 && code <= 4199 {
		return "reconnect after backing off"
	}
	return "unexpected close"
}
