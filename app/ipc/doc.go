// Package ipc is the line protocol between the EchoTray core (the tray
// process) and its clients: the window process and a second EchoTray start
// (the launcher).
//
// # Transport
//
// The core listens on a per-user unix domain socket (Listen); clients
// connect with Dial or, for a single request, Ask. Unix domain sockets work
// on Linux, macOS and Windows 10 and later. The socket's directory is
// created with mode 0700 and the socket itself is chmod 0600. On Linux
// (SO_PEERCRED) and macOS (LOCAL_PEERCRED) the core also checks that the
// connecting process runs as the same user and rejects anyone else; on
// other systems it relies on the per-user directory.
//
// # Single instance
//
// A lock decides which process is the core, not an answer on the socket:
// Listen locks the file LockPath (the socket's path plus ".lock"; flock on
// Linux and macOS, LockFileEx on Windows) without waiting and holds it
// until Close; the system drops it when the process dies. A second start
// finds the lock held and gets ErrAlreadyRunning at once, however busy,
// slow or stuck the running core is and whoever else is connected; it then
// asks the core (Ask) to show a window, and if the core does not answer it
// exits with an error: it never becomes a second core. With the lock, a
// file already at the socket's path is replaced only if connecting to it
// is refused or finds nothing. Close removes the socket only if it is
// still the file Listen created (same device and inode), then releases the
// lock; the lock file stays.
//
// # Framing
//
// Every message is one JSON object (Message) on one line terminated by
// '\n', UTF-8, at most MaxLine bytes without the newline. A longer line is
// rejected as soon as more than MaxLine bytes of it have arrived; it is
// never buffered without bound. Unknown JSON fields are ignored.
//
// # Conversation
//
//	client                         core
//	{"v":1,"op":"hello","role":"window","pid":42}  →
//	                               ←  {"v":1,"op":"welcome","pid":7}
//	                               ←  {"v":1,"op":"state","state":{…}}
//	{"v":1,"op":"show","window":"settings"}        →
//	                               ←  {"v":1,"op":"entry-added","added":{…}}
//	                               ←  {"v":1,"op":"bye"}
//
// The first line a client sends is hello (Role, PID); it must arrive within
// 3 seconds. A launcher must then send each line within 10 seconds (it
// sends one request and closes); a window may stay idle as long as it
// likes. The core answers welcome with its own PID, and from then on
// both sides send the ops of their direction (see the Op constants) in any
// order. Messages from one side arrive in the order they were sent. The
// core sends bye when it quits; the connection then ends. Either side may
// send error with a plain-text reason, after which it closes the
// connection.
//
// The core treats any of these as a protocol error: a line that is not a
// JSON object or not UTF-8, a line longer than MaxLine, a wrong version, an
// unknown op, an op of the core→client direction, anything before hello, a
// second hello, no hello in time, an idle launcher. It logs a warning with the reason and the peer's pid,
// sends error and closes that connection; it keeps serving everybody else.
//
// # Versioning
//
// Every message carries the protocol version in V (Version, now 1). A
// change that an older peer would misread (a new op, a field with a new
// meaning) increments Version. A core answers a hello with a different
// version, older or newer, with an error naming both versions, for example
//
//	this EchoTray core speaks protocol version 1, the client speaks version 2: restart EchoTray
//
// and closes the connection; a client rejects a welcome of another version
// the same way. Adding an optional field that older peers may ignore does
// not change the version.
//
// # Concurrency
//
// On the core side every connection has one reader and one writer
// goroutine, so a silent or slow peer holds up nobody else. The reader parses lines and calls the ServerOptions callbacks
// in order; the writer drains a bounded queue of outgoing lines (Peer.Send
// never blocks), each write with a deadline. A peer that does not read
// until its queue is full is disconnected. On the client side one reader
// goroutine feeds Client.Messages; Client.Send writes directly, serialised
// by a mutex and bounded by a deadline.
//
// Package ipc imports neither package app nor Fyne.
package ipc
