// Package realtime is a Pusher Channels protocol v7 client with Laravel Echo
// conventions, written for long-running desktop processes that talk to Soketi,
// Laravel Reverb or hosted Pusher.
//
// A [Client] holds at most one WebSocket connection at a time. It reconnects by
// itself (exponential backoff with full jitter, close-code aware), detects dead
// connections with pusher:ping/pusher:pong keepalive and machines that slept,
// and re-authorises and resubscribes every wanted channel on each new
// connection, because the socket_id changes every time.
//
// # Threading contract
//
//   - Every exported method of [Client] is safe for concurrent use and never
//     blocks on the network. Connect, Disconnect, Reconnect, Subscribe and
//     Unsubscribe only record the request; the work happens on the client's own
//     goroutines.
//   - One supervisor goroutine owns the connection state machine: every state
//     change happens in one place and is published once, in order.
//   - Each connection has exactly one reader and one writer goroutine.
//     Authorisation requests run on short-lived goroutines (at most four at a
//     time) whose results are checked against a connection generation counter,
//     so a late answer for an old socket is ignored.
//   - The handlers in [Config] (OnEvent, OnStateChange, OnSubscription) and the
//     functions given to [Client.Listen] are called from a single dispatcher
//     goroutine, one at a time, in the order things happened on the wire, and
//     never while the client holds a lock. A handler may call any method of the
//     client except Close (Close waits for the dispatcher to finish, so calling
//     it from a handler would deadlock). The dispatch queue is unbounded: a slow
//     handler delays later handlers but never the reader, the writer or
//     keepalive. The client logs a warning each time the queue doubles past
//     1,024 items.
//   - A panic in a handler is recovered and logged; delivery continues.
//   - [Client.Close] stops everything, delivers what is already queued, and
//     returns only after every goroutine the client started has exited.
//
// # Laravel names
//
// Laravel broadcasts `App\Events\UserCreated` unless the event defines
// broadcastAs. [Namespace] reproduces Echo's EventFormatter: Listen(ch,
// "UserCreated", fn) receives both `App\Events\UserCreated` and a broadcastAs
// name `UserCreated`; a leading "." (".user.created") matches the literal name
// only.
package realtime
