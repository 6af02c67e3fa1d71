package realtime

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/nacl/secretbox"
)

// Encrypted channels (Laravel's EncryptedPrivateChannel, Echo's
// encryptedPrivate): private channels whose names start with
// "private-encrypted-". The authorisation answer carries "shared_secret",
// the base64 of a 32-byte key (the server derives it as
// sha256(channel + encryption master key)); each event's data is
// {"nonce": base64 of 24 bytes, "ciphertext": base64}, a NaCl secretbox
// (XSalsa20-Poly1305) that the client opens with the key, as pusher-js
// does. The WebSocket server only relays the ciphertext: it never holds
// the key.
//
// When an event cannot be opened (the server rotated the master key, or
// the answer of an earlier authorisation is stale) the client authorises
// the channel once more for a new key (without resubscribing) and tries
// again; events of that channel arriving meanwhile wait, in order. An
// event that the new key cannot open either, or whose data is not an
// encrypted payload at all, is delivered with Err set (errors.Is
// ErrUndecryptable) and null Data, so the application can record that a
// message was lost; nothing is dropped silently and nothing panics.
//
// The client has no API for client events, so none can be sent on an
// encrypted channel (pusher-js refuses them there; Soketi too).

// encryptedPrefix starts the name of every encrypted channel.
const encryptedPrefix = "private-encrypted-"

// ErrUndecryptable matches Event.Err of an encrypted event that could not
// be decrypted.
var ErrUndecryptable = errors.New("realtime: an encrypted event could not be decrypted")

// errOpen is a secretbox that the key does not open: another key may.
var errOpen = errors.New("the shared secret does not open it")

// Bounds of re-authorising an encrypted channel whose event could not be
// decrypted.
const (
	// maxPendingDecrypt is how many events of one channel wait for a new
	// key; beyond it the oldest are reported undecryptable.
	maxPendingDecrypt = 256
	// reauthCooldown: an event that fails with a key fetched less than
	// this long ago is reported at once, without another authorisation,
	// so a server that sends garbage cannot make the client hammer its
	// authorisation endpoint.
	reauthCooldown = 10 * time.Second
)

// isEncrypted reports whether ch is an encrypted channel.
func isEncrypted(ch string) bool { return strings.HasPrefix(ch, encryptedPrefix) }

// parseSharedSecret decodes the auth answer's shared_secret.
func parseSharedSecret(s string) (*[32]byte, error) {
	if s == "" {
		return nil, errors.New(`the authorisation answer has no "shared_secret" for an encrypted channel`)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("the shared_secret is not base64: %w", err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("the shared_secret is %d bytes, not 32", len(b))
	}
	var key [32]byte
	copy(key[:], b)
	return &key, nil
}

// encryptedPayload is the data of an event on an encrypted channel.
type encryptedPayload struct {
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

// decryptData opens an encrypted event's (normalised) data with key and
// returns the plaintext, normalised like any event data (JSON as is, other
// text as a JSON string). errOpen means the key does not open it; any
// other error means the data is not an encrypted payload.
func decryptData(data json.RawMessage, key *[32]byte) (json.RawMessage, error) {
	var p encryptedPayload
	if err := dataField(data, &p); err != nil {
		return nil, fmt.Errorf("not an encrypted payload: %w", err)
	}
	if p.Nonce == "" || p.Ciphertext == "" {
		return nil, errors.New(`not an encrypted payload: want "nonce" and "ciphertext"`)
	}
	nonce, err := base64.StdEncoding.DecodeString(p.Nonce)
	if err != nil || len(nonce) != 24 {
		return nil, fmt.Errorf("the nonce is not 24 bytes of base64 (%d bytes, %v)", len(nonce), err)
	}
	box, err := base64.StdEncoding.DecodeString(p.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("the ciphertext is not base64: %w", err)
	}
	if len(box) < secretbox.Overhead {
		return nil, fmt.Errorf("the ciphertext is %d bytes, shorter than its %d-byte tag", len(box), secretbox.Overhead)
	}
	var n [24]byte
	copy(n[:], nonce)
	plain, ok := secretbox.Open(nil, box, &n, key)
	if !ok {
		return nil, errOpen
	}
	return plaintextData(plain), nil
}

// plaintextData turns decrypted bytes into event data as pusher-js does:
// JSON is parsed (a JSON string holding JSON is unwrapped, as for any
// event), anything else is kept as a string.
func plaintextData(plain []byte) json.RawMessage {
	if json.Valid(plain) {
		return normaliseData(json.RawMessage(plain))
	}
	s := string(plain)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b, _ := json.Marshal(s)
	return b
}

// encState is the per-connection key of an encrypted channel and the
// events waiting for a new one.
type encState struct {
	key       *[32]byte
	keyAt     time.Time // when key was fetched
	reauthing bool      // an authorisation for a new key is in flight
	reauthSeq uint64
	pending   []item // events waiting for the new key, in order (cost booked)
}

// encryptedEvent decrypts an event of an encrypted channel and hands it
// to the dispatcher, or makes it wait for a new key.
func (l *loop) encryptedEvent(ch string, s *connSub, it item) {
	e := s.enc
	if e == nil || e.key == nil {
		l.undecryptable(it, errors.New("it arrived before the channel's key"))
		return
	}
	if e.reauthing {
		l.queueDecrypt(e, it)
		return
	}
	data, err := decryptData(it.event.Data, e.key)
	switch {
	case err == nil:
		it.event.Data = data
		l.c.disp.push(it)
	case errors.Is(err, errOpen) && (e.keyAt.IsZero() || time.Since(e.keyAt) >= reauthCooldown):
		// Probably encrypted with another key: fetch the current one once.
		l.log.Info("realtime: an encrypted event could not be decrypted; fetching a new key", "channel", ch, "event", it.event.Name)
		l.queueDecrypt(e, it)
		l.reauthorize(ch, s)
	default:
		l.undecryptable(it, err)
	}
}

// queueDecrypt keeps an event until the channel's new key arrives.
func (l *loop) queueDecrypt(e *encState, it item) {
	if len(e.pending) >= maxPendingDecrypt {
		l.undecryptable(e.pending[0], errors.New("too many events waited for a new key"))
		e.pending = e.pending[1:]
	}
	e.pending = append(e.pending, it)
}

// undecryptable delivers an event that could not be decrypted, with Err
// set and no data.
func (l *loop) undecryptable(it item, cause error) {
	l.log.Warn("realtime: an encrypted event could not be decrypted; reporting it", "channel", it.event.Channel, "event", it.event.Name, "err", cause)
	it.event.Data = nullJSON
	it.event.Err = fmt.Errorf("%w: %v", ErrUndecryptable, cause)
	l.c.disp.push(it)
}

// dropPending gives back the room of events waiting for a key of a
// subscription that ends.
func (l *loop) dropPending(s *connSub) {
	if s.enc == nil {
		return
	}
	for _, it := range s.enc.pending {
		l.dropFrame(it.cost)
	}
	s.enc.pending = nil
	s.enc.reauthing = false
}

// reauthorize asks the authoriser again for the channel's key, on the
// current socket, without resubscribing.
func (l *loop) reauthorize(ch string, s *connSub) {
	e := s.enc
	e.reauthing = true
	l.authSeq++
	e.reauthSeq = l.authSeq
	ctx, cancel := context.WithTimeout(l.conn.ctx, l.s.SubscribeTimeout)
	l.goAuthorize(ctx, cancel, evReauth, ch, e.reauthSeq)
}

// reauthDone takes the new key, if any, and delivers the waiting events:
// decrypted, or reported undecryptable.
func (l *loop) reauthDone(ev connEvent) {
	s := l.subs[ev.channel]
	if s == nil || s.enc == nil || !s.enc.reauthing || s.enc.reauthSeq != ev.seq {
		return // unsubscribed or reconnected meanwhile
	}
	e := s.enc
	e.reauthing = false
	e.keyAt = time.Now()
	err := ev.err
	if err == nil {
		var key *[32]byte
		if key, err = parseSharedSecret(ev.auth.SharedSecret); err == nil {
			e.key = key
		}
	}
	if err != nil {
		l.log.Warn("realtime: could not fetch a new key for an encrypted channel", "channel", ev.channel, "err", err)
	}
	pending := e.pending
	e.pending = nil
	for _, it := range pending {
		if err != nil {
			l.undecryptable(it, fmt.Errorf("a new key could not be fetched: %w", err))
			continue
		}
		data, derr := decryptData(it.event.Data, e.key)
		if derr != nil {
			if errors.Is(derr, errOpen) {
				derr = errors.New("the new key does not open it either")
			}
			l.undecryptable(it, derr)
			continue
		}
		it.event.Data = data
		l.c.disp.push(it)
	}
	if errors.Is(err, ErrUnauthorized) {
		l.log.Warn("realtime: session is over; not retrying", "channel", ev.channel, "err", err)
		l.fail(fmt.Errorf("realtime: authorising %q: %w", ev.channel, err))
	}
}
