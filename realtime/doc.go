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
// # Behaving well in a fleet
//
// Thousands of clients share one Soketi cluster and one authorisation
// endpoint, so one event (a node restarting or dying, the endpoint
// throttling) reaches all of them at once. The client spreads its answer:
//
//   - The first reconnection attempt after the server closed a live
//     connection (4200 "reconnect now", which Soketi sends to every socket
//     when it shuts down; any other code) or the connection was lost waits
//     [Config.Jitter], uniform in [0, 1 s] by default, on top of the 1 s
//     minimum of 4100-4199: 2,000 clients arrive over a second instead of in
//     the same millisecond, for 0.5 s more latency on average (1 s at
//     most). Later attempts of a failure streak use [Config.Backoff] (full
//     jitter, 1 s doubling to 60 s). Connect, Reconnect and a wake from
//     sleep connect at once.
//   - An authorisation answered 429 or 503 with Retry-After (delta-seconds or
//     an HTTP-date, capped at 5 minutes) makes that channel alone wait that
//     long plus Jitter, on the same connection; it is reported as
//     SubscriptionFailed with an error that says "rate limited, retrying at
//     ..." and wraps the [AuthError]. Without Retry-After, and for 5xx and
//     network errors, the channel backs off with Backoff (full jitter up to
//     60 s, at least 1 s), starting again after a confirmed subscription or
//     on a new connection. At most four authorisation requests per client
//     are in flight at a time.
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
//     it from a handler would deadlock).
//   - The dispatch queue is bounded, and a slow handler slows the server
//     down instead of growing it. Every application event takes room in it
//     from the moment the reader decodes it until its handlers return: at
//     most 4,096 events and 8 MiB of frames (maxQueuedEvents,
//     maxQueuedBytes; one event always fits an empty queue). When the next
//     event does not fit, the reader stops reading until the handlers catch
//     up, so the socket's buffers fill and TCP makes the server wait; it
//     logs a warning when that starts (at most every 30 s). Nothing is
//     dropped for lack of room: an event is lost only when its connection
//     is closed (reconnect, disconnect, wake, Close) while the reader holds
//     it or before the supervisor has queued it, and such losses are counted
//     and logged with a warning when the connection's goroutines exit.
//     State and subscription changes never wait for room.
//   - Keepalive does not sit behind the dispatcher: pusher:ping and
//     pusher:pong, activity and the pong timeout are handled by the reader
//     and the supervisor, so a slow handler delays later handlers only. While
//     the reader is held back by a full queue the client is not reading, so
//     silence proves nothing: keepalive then keeps sending pusher:ping every
//     activity timeout (servers such as Reverb count client messages as
//     activity) but never declares the connection dead; once the reader
//     resumes, activity is measured from then. A server ping that arrives
//     meanwhile is answered when the reader reaches it.
//   - The frame decoder refuses event and channel names longer than 200
//     characters (Pusher's own limit), with a warning; such frames are never
//     delivered.
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
//
// # Encrypted channels
//
// private-encrypted- channels (Echo's encryptedPrivate) are decrypted with
// the key their authorisation returns ("shared_secret"); an event that
// cannot be decrypted after one re-authorisation for a new key arrives
// with [Event].Err matching [ErrUndecryptable] and null Data. See
// encrypted.go.
package realtime
