package realtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// frame is one decoded Pusher message.
type frame struct {
	Event   string
	Channel string
	// Data is normalised: a JSON string holding JSON is unwrapped, a missing
	// field is `null`.
	Data   json.RawMessage
	UserID string
}

// wireFrame is the JSON shape of a Pusher message.
type wireFrame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	UserID  json.RawMessage `json:"user_id"`
}

var (
	nullJSON        = json.RawMessage("null")
	errNoEventField = errors.New("frame has no event name")
)

// maxEventName is Pusher's limit on event names, in characters (Soketi
// enforces it, and maxChannelName on channel names, on what it accepts).
// A frame whose event or channel name is longer is refused by the decoder:
// no server keeping the protocol sends one, and such names would be
// carried into handlers, logs, the history and the desktop.
const maxEventName = 200

// isAppEvent reports whether an event name is an application event, not a
// pusher: or pusher_internal: protocol message.
func isAppEvent(name string) bool {
	return !strings.HasPrefix(name, "pusher:") && !strings.HasPrefix(name, "pusher_internal:")
}

// longerThan reports whether s has more than n characters (runes).
func longerThan(s string, n int) bool {
	return len(s) > n && (len(s) > utf8.UTFMax*n || utf8.RuneCountInString(s) > n)
}

// decodeFrame parses one text frame. It never panics; every error describes
// what was wrong. The returned Data does not alias b.
func decodeFrame(b []byte) (frame, error) {
	var w wireFrame
	if err := json.Unmarshal(b, &w); err != nil {
		return frame{}, fmt.Errorf("invalid frame JSON: %w", err)
	}
	if w.Event == "" {
		return frame{}, errNoEventField
	}
	if longerThan(w.Event, maxEventName) {
		return frame{}, fmt.Errorf("event name of %d bytes is longer than %d characters", len(w.Event), maxEventName)
	}
	if longerThan(w.Channel, maxChannelName) {
		return frame{}, fmt.Errorf("channel name of %d bytes is longer than %d characters", len(w.Channel), maxChannelName)
	}
	f := frame{Event: w.Event, Channel: w.Channel, Data: normaliseData(w.Data)}
	if len(w.UserID) > 0 && !bytes.Equal(w.UserID, nullJSON) {
		var s string
		if err := json.Unmarshal(w.UserID, &s); err == nil {
			f.UserID = s
		} else {
			f.UserID = string(w.UserID) // a number; keep its text
		}
	}
	return f, nil
}

// normaliseData applies pusher-js's rule: a string is JSON-parsed if it can
// be, otherwise kept as is. raw is owned by the caller's decoded frame.
func normaliseData(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || bytes.Equal(raw, nullJSON) {
		return nullJSON
	}
	if raw[0] != '"' {
		return raw
	}
	s, ok := unquote(raw)
	if !ok {
		return raw
	}
	inner := bytes.TrimSpace(s)
	if len(inner) == 0 || !json.Valid(inner) {
		return raw
	}
	return inner
}

// unquote decodes a JSON string literal that encoding/json has already
// validated (so it needs no second validation pass). Without escapes it
// returns a sub-slice of q; otherwise a new slice. Invalid or unpaired
// surrogates become U+FFFD, as in encoding/json. ok is false for input that
// is not a string literal.
func unquote(q []byte) (out []byte, ok bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return nil, false
	}
	if !utf8.Valid(q) {
		// encoding/json replaces invalid UTF-8 with U+FFFD; let it.
		var s string
		if json.Unmarshal(q, &s) != nil {
			return nil, false
		}
		return []byte(s), true
	}
	q = q[1 : len(q)-1]
	i := bytes.IndexByte(q, '\\')
	if i < 0 {
		return q, true
	}
	b := make([]byte, i, len(q))
	copy(b, q[:i])
	for i < len(q) {
		c := q[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(q) {
			return nil, false
		}
		switch q[i+1] {
		case '"', '\\', '/':
			b = append(b, q[i+1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n := unquoteRune(q[i:])
			if n == 0 {
				return nil, false
			}
			b = utf8.AppendRune(b, r)
			i += n
			continue
		default:
			return nil, false
		}
		i += 2
	}
	return b, true
}

// unquoteRune decodes \uXXXX (and a following low surrogate) at the start
// of s, returning the rune and the bytes consumed (0 if malformed).
func unquoteRune(s []byte) (rune, int) {
	r := hex4(s)
	if r < 0 {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if r2 := hex4(s[6:]); r2 >= 0 {
		if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
			return d, 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 parses `\uXXXX` at the start of s; -1 if absent or malformed.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// dataField unmarshals a normalised data payload into v.
func dataField(data json.RawMessage, v any) error {
	if len(data) == 0 || bytes.Equal(data, nullJSON) {
		return errors.New("missing data")
	}
	return json.Unmarshal(data, v)
}

// handshake is the payload of pusher:connection_established.
type handshake struct {
	SocketID        string          `json:"socket_id"`
	ActivityTimeout json.RawMessage `json:"activity_timeout"`
}

// parseEstablished validates pusher:connection_established and returns the
// socket id and the server's activity timeout in seconds (0 if absent).
func parseEstablished(f frame) (socketID string, activitySeconds int, err error) {
	var h handshake
	if err := dataField(f.Data, &h); err != nil {
		return "", 0, fmt.Errorf("bad pusher:connection_established data: %w", err)
	}
	if h.SocketID == "" {
		return "", 0, errors.New("pusher:connection_established without socket_id")
	}
	if len(h.ActivityTimeout) > 0 && !bytes.Equal(h.ActivityTimeout, nullJSON) {
		s := string(bytes.Trim(h.ActivityTimeout, `"`))
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("pusher:connection_established: bad activity_timeout %s", h.ActivityTimeout)
		}
		activitySeconds = int(n)
	}
	return h.SocketID, activitySeconds, nil
}

// pusherError is the payload of pusher:error. Code is 0 when absent.
type pusherError struct {
	Code    int
	Message string
}

func parsePusherError(f frame) pusherError {
	var raw struct {
		Code    *json.Number `json:"code"`
		Message string       `json:"message"`
	}
	if err := dataField(f.Data, &raw); err != nil {
		return pusherError{Message: string(f.Data)}
	}
	e := pusherError{Message: raw.Message}
	if raw.Code != nil {
		if n, err := raw.Code.Int64(); err == nil {
			e.Code = int(n)
		}
	}
	return e
}

func parseSubscriptionError(f frame) *subscriptionError {
	e := &subscriptionError{Channel: f.Channel}
	var raw struct {
		Type   string `json:"type"`
		Error  string `json:"error"`
		Status int    `json:"status"`
	}
	if err := dataField(f.Data, &raw); err != nil {
		if !bytes.Equal(f.Data, nullJSON) {
			e.Message = string(f.Data)
		}
		return e
	}
	e.Type, e.Message, e.Status = raw.Type, raw.Error, raw.Status
	return e
}

// Outgoing messages. Marshalling these types cannot fail.

type subscribeData struct {
	Channel     string `json:"channel"`
	Auth        string `json:"auth,omitempty"`
	ChannelData string `json:"channel_data,omitempty"`
}

type outFrame struct {
	Event string `json:"event"`
	Data  any    `json:"data"`
}

var (
	pingFrame = []byte(`{"event":"pusher:ping","data":{}}`)
	pongFrame = []byte(`{"event":"pusher:pong","data":{}}`)
)

func subscribeFrame(channel string, a Auth) []byte {
	b, _ := json.Marshal(outFrame{Event: "pusher:subscribe", Data: subscribeData{
		Channel: channel, Auth: a.Auth, ChannelData: a.ChannelData,
	}})
	return b
}

func unsubscribeFrame(channel string) []byte {
	b, _ := json.Marshal(outFrame{Event: "pusher:unsubscribe", Data: subscribeData{Channel: channel}})
	return b
}
