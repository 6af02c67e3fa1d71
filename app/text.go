package app

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"echotray/realtime"
)

// Sentence capitalises s and ends it with a full stop, so an error text
// ("cannot reach the server") reads as a sentence in a window or a banner.
func Sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.ContainsAny(s[len(s)-1:], ".!?…") {
		s += "."
	}
	return s
}

// FormatCount writes n with thousands separators: 100000 -> "100,000".
func FormatCount(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Plural is n (with thousands separators) and noun in the right number:
// "1 notification", "2 notifications", "1 match", "3 matches", "1 entry",
// "2 entries".
func Plural(n int, noun string) string {
	if n != 1 {
		switch {
		case strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"), strings.HasSuffix(noun, "s"):
			noun += "es"
		case strings.HasSuffix(noun, "y"):
			noun = noun[:len(noun)-1] + "ies"
		default:
			noun += "s"
		}
	}
	return FormatCount(n) + " " + noun
}

// Plain words for connection problems. The realtime client's errors carry
// protocol names, URLs and Go error text; people read these sentences
// instead (the log keeps the detail).

// ConnectionReason says in plain words why the notification server cannot
// be reached or refused the connection.
func ConnectionReason(err error) string {
	if err == nil {
		return "The connection to the notification server was lost."
	}
	var ce *realtime.CloseError
	if errors.As(err, &ce) {
		r := closeReason(ce.Code)
		if m := strings.TrimSpace(ce.Message); m != "" && ce.Code >= 4000 {
			// The server's own words (Soketi's "Over quota"), quoted.
			r = strings.TrimSuffix(r, ".") + " (the server said: " + truncate(m, 120) + ")."
		}
		return r
	}
	var ae *realtime.AuthError
	if errors.As(err, &ae) {
		return ChannelReason(err)
	}
	switch {
	case errors.Is(err, realtime.ErrWoke):
		return "The computer woke from sleep; reconnecting."
	case errors.Is(err, realtime.ErrPongTimeout):
		return "The notification server stopped answering."
	case errors.Is(err, realtime.ErrFrameTooLarge):
		return "The notification server sent a message that was too large."
	case errors.Is(err, context.DeadlineExceeded):
		return "The notification server did not answer in time."
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "The notification server's address could not be found. Check the network connection or the server address."
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return "The notification server's security certificate is not trusted."
	}
	text := strings.ToLower(err.Error())
	switch {
	case strings.Contains(text, "connection refused"):
		return "The notification server is not accepting connections; it may be down or restarting."
	case strings.Contains(text, "no route to host"), strings.Contains(text, "network is unreachable"):
		return "There is no network connection to the notification server."
	case strings.Contains(text, "timeout"), strings.Contains(text, "timed out"), strings.Contains(text, "deadline"):
		return "The notification server did not answer in time."
	case strings.Contains(text, "certificate"), strings.Contains(text, "tls"), strings.Contains(text, "x509"):
		return "A secure connection to the notification server could not be made (certificate problem)."
	case strings.Contains(text, "bad handshake"), strings.Contains(text, "http 404"), strings.Contains(text, "404 not found"):
		return "The notification server's address or path is wrong: nothing answers there."
	case strings.Contains(text, "config.key"):
		return "No application key is set for the notification server."
	case strings.Contains(text, "config.host"), strings.Contains(text, "config.cluster"):
		return "No notification server address is set."
	case strings.Contains(text, "config.port"):
		return "The notification server's port is not valid."
	case strings.Contains(text, "ca file"):
		return "The certificate file in the settings cannot be used."
	case strings.Contains(text, "eof"), strings.Contains(text, "connection lost"), strings.Contains(text, "reset by peer"),
		strings.Contains(text, "broken pipe"):
		return "The connection to the notification server was lost."
	}
	return "The notification server cannot be reached."
}

// closeReason words a Pusher close code.
func closeReason(code int) string {
	switch {
	case code == 4001:
		return "The notification server does not know this application key. Check the key in the settings."
	case code == 4003:
		return "The notification server has turned this application off."
	case code == 4004:
		return "The notification server's connection limit was reached."
	case code == 4005:
		return "The notification server's address or path is wrong."
	case code == 4009:
		return "The notification server refused this client."
	case code >= 4000 && code < 4100:
		return "The notification server refused the connection. Check the connection settings."
	case code == 4200 || (code >= 4100 && code < 4300):
		return "The notification server is restarting or busy; reconnecting."
	}
	return "The connection to the notification server was lost."
}

// ChannelReason says in plain words why a channel could not be joined.
func ChannelReason(err error) string {
	var ae *realtime.AuthError
	if errors.As(err, &ae) {
		switch {
		case ae.Status == 401:
			return "the session has expired"
		case ae.Status == 403:
			return "the server refused them (not allowed for this account)"
		case ae.Status == 404:
			return "the server refused them (its authorisation address was not found)"
		case ae.Status == 419:
			return "the server refused them (it wants a browser session, not an app token)"
		case ae.Status == 429:
			return "the server is busy (too many requests); retrying"
		case ae.Status >= 500:
			return "the server failed to authorise them; retrying"
		}
		return "the server refused them"
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, realtime.ErrForbidden):
		return "the server refused them (not allowed for this account)"
	case errors.Is(err, realtime.ErrSubscriptionTimeout):
		return "the notification server did not confirm them; retrying"
	}
	text := strings.ToLower(err.Error())
	if strings.Contains(text, "refused subscription") || strings.Contains(text, "rejected a subscription") {
		return "the notification server refused them"
	}
	return "they cannot be set up right now; retrying"
}

// SetupProblem says in plain words why the connection could not be set up
// from the settings ("Config.Key is required" and the like).
func SetupProblem(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	lower := strings.ToLower(text)
	if strings.Contains(lower, "realtime:") || strings.Contains(lower, "config.") {
		return ConnectionReason(err)
	}
	if strings.HasPrefix(lower, "service: ") || strings.Contains(lower, "the server's user has no id") {
		return "The server did not say who is signed in."
	}
	return Sentence(text)
}

// DeliveryReason says in plain words why desktop notifications fail.
func DeliveryReason(err error) string {
	if err == nil {
		return ""
	}
	text := strings.ToLower(err.Error())
	switch {
	case strings.Contains(text, "serviceunknown"), strings.Contains(text, "not provided by any .service"),
		strings.Contains(text, "no such name"):
		return "No notification service is running on this desktop."
	case strings.Contains(text, "dbus"), strings.Contains(text, "d-bus"), strings.Contains(text, "session bus"):
		return "The desktop's notification service cannot be reached."
	case strings.Contains(text, "timeout"), strings.Contains(text, "deadline"), strings.Contains(text, "timed out"):
		return "The desktop's notification service did not answer in time."
	}
	return "The desktop's notification service did not accept them."
}
