package ipc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"echotray/notify"
)

// Version is the protocol version this package speaks. Every Message
// carries it in V; peers of another version are refused.
const Version = 1

// MaxLine is the longest line, in bytes without the terminating '\n', that
// either side accepts. Send refuses to encode a longer message.
const MaxLine = 64 << 10

// Timing and sizes of a connection.
const (
	// helloWait is how long the core waits for a client's hello, and the
	// default time a client waits for the core's welcome.
	helloWait = 3 * time.Second

	// writeWait is the time allowed to write one batch of queued lines
	// (or a client's one line) to the other side.
	writeWait = 3 * time.Second

	// probeWait bounds Listen's check whether a process listens at a
	// socket file it found (only with the lock held).
	probeWait = 3 * time.Second

	// launcherIdle is how long the core waits for each line of a
	// launcher after its hello; a launcher sends one request and closes.
	launcherIdle = 10 * time.Second

	// sendQueue is the number of lines queued for one peer on the core
	// side; a peer whose queue is full is disconnected.
	sendQueue = 256

	// messagesBuffer is the capacity of Client.Messages.
	messagesBuffer = 256

	// acceptBackoffMax caps the pause after a failed Accept.
	acceptBackoffMax = time.Second
)

// Op names what a Message asks for or reports.
type Op string

// The ops of protocol version 1, grouped by direction.
const (
	// OpHello is the client's first line: Role, PID.
	OpHello Op = "hello"
	// OpWelcome is the core's answer to hello: PID is the core's.
	OpWelcome Op = "welcome"
	// OpError may be sent either way: Text is a plain-text reason; the
	// sender closes the connection after it.
	OpError Op = "error"

	// OpShow asks the core to show Window ("history", "signin" or
	// "settings"), optionally at Entry (0 = none). The core also sends it
	// to a window process, with Notice.
	OpShow Op = "show"
	// OpSignedIn reports that the window signed in: the token is in the
	// keyring, or in Token when the keyring is unusable (session only).
	OpSignedIn Op = "signed-in"
	// OpSettingsSaved reports that the config file changed: reload and
	// apply it.
	OpSettingsSaved Op = "settings-saved"
	// OpPause pauses notifications until Until (zero = until resumed).
	OpPause Op = "pause"
	// OpResume ends a pause.
	OpResume Op = "resume"
	// OpReconnect asks the core to reconnect now.
	OpReconnect Op = "reconnect"
	// OpSignOut asks the core to sign out.
	OpSignOut Op = "sign-out"
	// OpSendTest asks the core to show a test notification.
	OpSendTest Op = "send-test"
	// OpHistoryChanged reports that history entries were read, deleted
	// or cleared: the core recounts the unread ones.
	OpHistoryChanged Op = "history-changed"
	// OpQuit asks the core to quit.
	OpQuit Op = "quit"

	// OpState carries the core's State: right after welcome, then on
	// every change. Core → window.
	OpState Op = "state"
	// OpEntryAdded carries a newly stored history entry in Added. Core →
	// window.
	OpEntryAdded Op = "entry-added"
	// OpReload tells a window process that many entries were stored at
	// once (a burst, a catch-up): reload the list from the store rather
	// than wait for one entry-added each. Core → window.
	OpReload Op = "reload"
	// OpBye tells a client that the core is quitting; the connection
	// ends after it and the window process exits. Core → client.
	OpBye Op = "bye"
)

// Role is what a client is, stated in its hello.
type Role string

// The client roles.
const (
	// RoleWindow is the window process: it receives Server.Broadcast.
	RoleWindow Role = "window"
	// RoleLauncher is a second EchoTray start that sends one request
	// (usually OpShow) and exits.
	RoleLauncher Role = "launcher"
)

// Message is one line of the protocol. Which fields are meaningful depends
// on Op; unused fields are left zero and omitted on the wire. Token is a
// secret: never log a Message as a whole.
type Message struct {
	V      int           `json:"v"`                // protocol version; Send fills it in
	Op     Op            `json:"op"`               // what the message is
	Role   Role          `json:"role,omitempty"`   // hello: the client's role
	PID    int           `json:"pid,omitempty"`    // hello, welcome: the sender's process id
	Window string        `json:"window,omitempty"` // show: "history", "signin" or "settings"
	Entry  int64         `json:"entry,omitempty"`  // show: a history entry id, 0 = none
	Notice string        `json:"notice,omitempty"` // show (core → window): a sentence to display
	Token  string        `json:"token,omitempty"`  // signed-in: the token when the keyring is unusable
	Until  time.Time     `json:"until,omitzero"`   // pause: the end, zero = until resumed
	State  *State        `json:"state,omitempty"`  // state: the core's state
	Added  *notify.Entry `json:"added,omitempty"`  // entry-added: the stored entry
	Text   string        `json:"text,omitempty"`   // error: the plain-text reason
	IDs    []int64       `json:"ids,omitempty"`    // history-changed: entries just marked read
	Purge  bool          `json:"purge,omitempty"`  // sign-out: also remove the account's history
}

// State is the core's state as a window process shows it.
type State struct {
	Conn        string    `json:"conn"`                   // tray.State name: signedout|connecting|connected|offline|expired
	User        string    `json:"user,omitempty"`         // the signed-in user's display name
	NextAttempt time.Time `json:"next_attempt,omitzero"`  // the next reconnect attempt, if offline
	PausedUntil time.Time `json:"paused_until,omitzero"`  // the end of a pause, if paused
	Unread      int       `json:"unread"`                 // unread history entries
	TrayPresent bool      `json:"tray_present"`           // whether a tray host shows the icon
	Banners     []string  `json:"banners,omitempty"`      // plain sentences for the history window, in order
	KeyringDown bool      `json:"keyring_down,omitempty"` // the keyring is unusable
	SessionOnly bool      `json:"session_only,omitempty"` // the token lives only as long as the core

	// Account is the history account of the signed-in (or last) user,
	// server + "#" + user id: the window shows only its entries.
	Account string `json:"account,omitempty"`
	// Since is when Conn took its current value (offline since, connected since).
	Since time.Time `json:"since,omitzero"`
	// Reason is a plain sentence why the connection is offline or failed.
	Reason string `json:"reason,omitempty"`
	// Warning is a plain sentence about a partial failure while
	// connected, e.g. "Connected, but personal notifications are
	// unavailable: the server refused them." Empty when all is well.
	Warning string `json:"warning,omitempty"`
	// Channels lists the subscriptions and how each one stands.
	Channels []ChannelState `json:"channels,omitempty"`
}

// ChannelState is one subscription as the status line shows it.
type ChannelState struct {
	Name   string `json:"name"`             // the channel name (for logs and tooltips)
	Kind   string `json:"kind"`             // "tenant", "personal", "admin", "notifications" or "extra"
	OK     bool   `json:"ok"`               // subscribed
	Reason string `json:"reason,omitempty"` // plain words when not OK
}

// clientOp reports whether a client may send op after its hello.
func clientOp(op Op) bool {
	switch op {
	case OpShow, OpSignedIn, OpSettingsSaved, OpPause, OpResume, OpReconnect,
		OpSignOut, OpSendTest, OpHistoryChanged, OpQuit, OpError:
		return true
	}
	return false
}

// coreOp reports whether the core may send op after its welcome.
func coreOp(op Op) bool {
	switch op {
	case OpShow, OpState, OpEntryAdded, OpReload, OpBye, OpError:
		return true
	}
	return false
}

// knownOp reports whether op is an op of this version in any direction.
func knownOp(op Op) bool {
	return op == OpHello || op == OpWelcome || clientOp(op) || coreOp(op)
}

// errLineTooLong is returned by readLine for a line longer than MaxLine.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLine)

// readLine reads one line of at most MaxLine bytes (without the '\n') into
// buf[:0] and returns it without the newline. A longer line fails with
// errLineTooLong as soon as more than MaxLine bytes of it have arrived,
// newline or not. A partial line before EOF is dropped and io.EOF returned.
func readLine(br *bufio.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		// Wait for at least one byte, then take what has arrived: unlike
		// ReadSlice this does not wait for a full buffer.
		if _, err := br.Peek(1); err != nil {
			return nil, err
		}
		chunk, _ := br.Peek(br.Buffered())
		n, found := len(chunk), false
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			n, found = i, true
		}
		if len(buf)+n > MaxLine {
			return nil, errLineTooLong
		}
		buf = append(buf, chunk[:n]...)
		if found {
			_, _ = br.Discard(n + 1)
			return buf, nil
		}
		_, _ = br.Discard(n)
	}
}

// decode parses one line. It checks the framing and the version, not the
// op's direction.
func decode(line []byte) (Message, error) {
	var m Message
	if !utf8.Valid(line) {
		return m, errors.New("malformed message: not UTF-8")
	}
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return m, errors.New("malformed message: not a JSON object")
	}
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return m, fmt.Errorf("malformed message: %v", err)
	}
	return m, nil
}

// encode marshals m with V filled in, as one line including the newline.
func encode(m Message) ([]byte, error) {
	m.V = Version
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("ipc: encode %s: %w", m.Op, err)
	}
	if len(b) > MaxLine {
		return nil, fmt.Errorf("ipc: %s message of %d bytes is longer than %d", m.Op, len(b), MaxLine)
	}
	return append(b, '\n'), nil
}

// versionMismatch is the error text for a peer speaking version v.
func versionMismatch(side, other string, v int) string {
	if v == 0 {
		return fmt.Sprintf("the %s sent no protocol version; this EchoTray %s speaks version %d", other, side, Version)
	}
	return fmt.Sprintf("this EchoTray %s speaks protocol version %d, the %s speaks version %d: restart EchoTray", side, Version, other, v)
}

// quoteOp quotes an op for a log line or an error text, shortened: it
// comes from the other side.
func quoteOp(op Op) string {
	const max = 32
	s := string(op)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}
