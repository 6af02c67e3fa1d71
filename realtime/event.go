package realtime

import (
	"encoding/json"
	"strings"
	"time"
)

// Event is an application event received on a subscribed channel.
type Event struct {
	// Channel is the channel name as on the wire, e.g. "tenant.1" or
	// "private-user.5".
	Channel string
	// Name is the event name as on the wire: `App\Events\UserCreated`, or the
	// broadcastAs name such as `UserCreated`.
	Name string
	// Data is the payload. A data field that is a JSON string holding JSON is
	// unwrapped (Laravel double-encodes); a string that is not JSON is kept as
	// the JSON string; a missing data field is `null`.
	Data json.RawMessage
	// UserID is the top-level user_id of client events on presence channels.
	UserID string
	// Received is when the reader goroutine read the frame.
	Received time.Time
	// Err is set when the event arrived but cannot be used: on an
	// encrypted channel, one that could not be decrypted (errors.Is
	// ErrUndecryptable; Data is then null). Record it ("a message could
	// not be decrypted") rather than show its data.
	Err error
}

// ShortName returns the event name without the namespace:
// `App\Events\UserCreated` becomes `UserCreated`; a name outside the namespace
// is returned unchanged.
func (e Event) ShortName(ns Namespace) string { return ns.Strip(e.Name) }

// Namespace is the Laravel event namespace that Echo prefixes to listened
// names. Dots and backslashes are equivalent separators, so `App\Events` and
// "App.Events" are the same namespace.
type Namespace string

const (
	// DefaultNamespace is Echo's default namespace ("App.Events").
	DefaultNamespace Namespace = `App\Events`
	// NoNamespace disables namespacing, like Echo's `namespace: false`. Use it
	// in [Config.Namespace], where the empty string means DefaultNamespace.
	NoNamespace Namespace = "."
)

// prefix returns the namespace with backslash separators and no leading or
// trailing separator; "" when there is no namespace.
func (ns Namespace) prefix() string {
	return strings.Trim(strings.ReplaceAll(string(ns), ".", `\`), `\`)
}

// Format turns a listened name into the wire name, exactly as Echo's
// EventFormatter does: a name starting with "." or `\` is literal (the first
// character is removed); otherwise the namespace is prefixed and every "." is
// replaced by `\`. With DefaultNamespace, "UserCreated" becomes
// `App\Events\UserCreated` and "Billing.PaymentCompleted" becomes
// `App\Events\Billing\PaymentCompleted`.
func (ns Namespace) Format(listen string) string {
	if strings.HasPrefix(listen, ".") || strings.HasPrefix(listen, `\`) {
		return listen[1:]
	}
	if p := ns.prefix(); p != "" {
		listen = p + `\` + listen
	}
	return strings.ReplaceAll(listen, ".", `\`)
}

// Strip removes the namespace from a wire name: `App\Events\UserCreated`
// becomes `UserCreated`. Names outside the namespace are returned unchanged.
func (ns Namespace) Strip(wire string) string {
	p := ns.prefix()
	if p != "" && len(wire) > len(p)+1 && strings.HasPrefix(wire, p) && wire[len(p)] == '\\' {
		return wire[len(p)+1:]
	}
	return wire
}

// matcher decides which wire names a listened name receives. A literal name
// (leading "." or `\`) matches only itself; any other name matches its
// namespaced form and, so that broadcastAs names need no leading dot, itself.
type matcher struct {
	formatted, plain string
}

func newMatcher(ns Namespace, listen string) matcher {
	m := matcher{formatted: ns.Format(listen)}
	if !strings.HasPrefix(listen, ".") && !strings.HasPrefix(listen, `\`) {
		m.plain = listen
	}
	return m
}

func (m matcher) match(wire string) bool {
	return wire == m.formatted || (m.plain != "" && wire == m.plain)
}
