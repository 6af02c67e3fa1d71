package realtime

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/nacl/secretbox"
)

// keyFor derives a channel's shared secret as Laravel's Pusher driver
// does: sha256(channel + master key).
func keyFor(channel, master string) *[32]byte {
	k := sha256.Sum256([]byte(channel + master))
	return &k
}

func b64(k *[32]byte) string { return base64.StdEncoding.EncodeToString(k[:]) }

// seal encrypts plaintext as the publisher does and returns the event's
// data string: {"nonce","ciphertext"}.
func seal(t testing.TB, key *[32]byte, plaintext string) string {
	t.Helper()
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		t.Fatal(err)
	}
	box := secretbox.Seal(nil, []byte(plaintext), &nonce, key)
	b, _ := json.Marshal(map[string]string{
		"nonce":      base64.StdEncoding.EncodeToString(nonce[:]),
		"ciphertext": base64.StdEncoding.EncodeToString(box),
	})
	return string(b)
}

// keyAuthorizer signs and hands out shared secrets: keys[n] for the n-th
// call (the last one after that).
type keyAuthorizer struct {
	mu    sync.Mutex
	keys  []*[32]byte
	calls int
	err   func(n int) error
}

func (a *keyAuthorizer) Authorize(ctx context.Context, socketID, channel string) (Auth, error) {
	a.mu.Lock()
	n := a.calls
	a.calls++
	k := a.keys[min(n, len(a.keys)-1)]
	fail := a.err
	a.mu.Unlock()
	if fail != nil {
		if err := fail(n); err != nil {
			return Auth{}, err
		}
	}
	a2 := Auth{Auth: sign(socketID, channel)}
	if k != nil {
		a2.SharedSecret = b64(k)
	}
	return a2, nil
}

func (a *keyAuthorizer) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

const encChannel = "private-encrypted-payments.7"

// encRig connects a client with a keyAuthorizer to the fake server and
// subscribes the encrypted channel.
func encRig(t *testing.T, auth *keyAuthorizer) (*recorder, *fakeConn, *Client) {
	t.Helper()
	s := newFakeServer(t)
	r := newRecorder()
	cfg := testConfig(s, r)
	cfg.Authorizer = auth
	c := newTestClient(t, s, cfg)
	c.Subscribe(encChannel)
	c.Connect()
	fc := s.next(t, time.Second)
	r.waitSub(t, encChannel, SubscriptionSubscribed, time.Second)
	return r, fc, c
}

func TestEncryptedChannelDecrypts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		key := keyFor(encChannel, "master")
		auth := &keyAuthorizer{keys: []*[32]byte{key}}
		r, fc, _ := encRig(t, auth)
		// As Laravel sends it: the data is a JSON string holding the payload.
		fc.sendString(`App\Events\PaymentCompleted`, encChannel, seal(t, key, `{"amount":500,"phone":"0712345678"}`))
		e := r.waitEvent(t, time.Second)
		if e.Err != nil || string(e.Data) != `{"amount":500,"phone":"0712345678"}` || e.Channel != encChannel {
			t.Fatalf("event %+v data %s", e, e.Data)
		}
		// Data sent as an object works too; text that is not JSON stays a string.
		fc.send("X", encChannel, seal(t, key, `plain words`))
		if e := r.waitEvent(t, time.Second); e.Err != nil || string(e.Data) != `"plain words"` {
			t.Fatalf("event %+v data %s", e, e.Data)
		}
		if auth.count() != 1 {
			t.Errorf("authorised %d times", auth.count())
		}
	})
}

func TestEncryptedWrongKeyReauthorisesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old, cur := keyFor(encChannel, "old-master"), keyFor(encChannel, "new-master")
		auth := &keyAuthorizer{keys: []*[32]byte{old, cur}}
		r, fc, c := encRig(t, auth)
		// The server rotated its key: the first event needs the new one.
		fc.sendString("A", encChannel, seal(t, cur, `{"n":1}`))
		fc.sendString("B", encChannel, seal(t, cur, `{"n":2}`)) // waits behind A, in order
		for _, want := range []string{`{"n":1}`, `{"n":2}`} {
			e := r.waitEvent(t, time.Second)
			if e.Err != nil || string(e.Data) != want {
				t.Fatalf("event %+v data %s, want %s", e, e.Data, want)
			}
		}
		if auth.count() != 2 {
			t.Fatalf("authorised %d times, want 2 (subscribe, one new key)", auth.count())
		}
		// Re-authorising does not resubscribe.
		fc.expectNone(t, "pusher:unsubscribe", time.Second)
		// An event no key opens: reported, no storm of authorisations.
		fc.sendString("C", encChannel, seal(t, keyFor(encChannel, "garbage"), `{"n":3}`))
		e := r.waitEvent(t, time.Second)
		if !errors.Is(e.Err, ErrUndecryptable) || string(e.Data) != "null" || e.Name != "C" || e.Channel != encChannel {
			t.Fatalf("undecryptable event %+v", e)
		}
		if auth.count() != 2 {
			t.Errorf("authorised %d times within the cool-down", auth.count())
		}
		if c.State() != StateConnected {
			t.Errorf("state %s", c.State())
		}
	})
}

func TestEncryptedWrongSecretThenError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wrong := keyFor(encChannel, "wrong")
		auth := &keyAuthorizer{keys: []*[32]byte{wrong}}
		r, fc, _ := encRig(t, auth)
		fc.sendString(`App\Events\PaymentCompleted`, encChannel, seal(t, keyFor(encChannel, "right"), `{"amount":1}`))
		e := r.waitEvent(t, time.Second)
		if !errors.Is(e.Err, ErrUndecryptable) || !strings.Contains(e.Err.Error(), "new key") || e.Name != `App\Events\PaymentCompleted` {
			t.Fatalf("event %+v", e)
		}
		if auth.count() != 2 {
			t.Errorf("authorised %d times, want exactly one re-authorisation", auth.count())
		}
		// After the cool-down a new failure may fetch a key again.
		time.Sleep(reauthCooldown)
		fc.sendString("Y", encChannel, seal(t, keyFor(encChannel, "right"), `{}`))
		if e := r.waitEvent(t, time.Second); !errors.Is(e.Err, ErrUndecryptable) {
			t.Fatalf("event %+v", e)
		}
		if auth.count() != 3 {
			t.Errorf("authorised %d times", auth.count())
		}
	})
}

func TestEncryptedReauthFailureReportsEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		auth := &keyAuthorizer{keys: []*[32]byte{keyFor(encChannel, "a")}, err: func(n int) error {
			if n > 0 {
				return &AuthError{Status: 500, Message: "down"}
			}
			return nil
		}}
		r, fc, c := encRig(t, auth)
		fc.sendString("A", encChannel, seal(t, keyFor(encChannel, "b"), `{}`))
		e := r.waitEvent(t, time.Second)
		if !errors.Is(e.Err, ErrUndecryptable) || !strings.Contains(e.Err.Error(), "could not be fetched") {
			t.Fatalf("event %+v", e)
		}
		if c.State() != StateConnected {
			t.Errorf("state %s", c.State())
		}
	})
}

func TestEncryptedBadPayloadReportedWithoutReauth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		auth := &keyAuthorizer{keys: []*[32]byte{keyFor(encChannel, "a")}}
		r, fc, _ := encRig(t, auth)
		for _, data := range []string{`{"amount":1}`, `{"nonce":"AAAA","ciphertext":"AAAA"}`, `"x"`, `null`} {
			fc.send("A", encChannel, data)
			if e := r.waitEvent(t, time.Second); !errors.Is(e.Err, ErrUndecryptable) {
				t.Fatalf("%s: event %+v", data, e)
			}
		}
		if auth.count() != 1 {
			t.Errorf("authorised %d times: a malformed payload needs no new key", auth.count())
		}
	})
}

func TestEncryptedWithoutSharedSecretFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		r := newRecorder()
		cfg := testConfig(s, r)
		cfg.Authorizer = &keyAuthorizer{keys: []*[32]byte{nil}}
		c := newTestClient(t, s, cfg)
		c.Subscribe(encChannel)
		c.Connect()
		fc := s.next(t, time.Second)
		f := r.waitSub(t, encChannel, SubscriptionFailed, time.Second)
		if !strings.Contains(f.Err.Error(), "shared_secret") {
			t.Fatalf("error %v", f.Err)
		}
		fc.expectNone(t, "pusher:subscribe", 500*time.Millisecond)
	})
}

func TestParseSharedSecret(t *testing.T) {
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString(make([]byte, 31))} {
		if _, err := parseSharedSecret(bad); err == nil {
			t.Errorf("parseSharedSecret(%q) accepted", bad)
		}
	}
	k := keyFor("c", "m")
	if got, err := parseSharedSecret(b64(k)); err != nil || *got != *k {
		t.Errorf("parseSharedSecret = %v, %v", got, err)
	}
}

func FuzzDecrypt(f *testing.F) {
	key := keyFor(encChannel, "fuzz")
	f.Add([]byte(seal(f, key, `{"a":1}`)))
	f.Add([]byte(`{"nonce":"","ciphertext":""}`))
	f.Add([]byte(`{"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`"{\"nonce\":1}"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return // frames are JSON before they get here
		}
		out, err := decryptData(normaliseData(json.RawMessage(data)), key)
		if err == nil && !json.Valid(out) {
			t.Fatalf("decrypted data is not JSON: %q", out)
		}
		// Whatever opened must re-seal and open to the same data.
		if err == nil {
			again, err := decryptData(json.RawMessage(seal(t, key, string(out))), key)
			if err != nil || !bytes.Equal(normaliseData(again), normaliseData(out)) {
				t.Fatalf("round trip: %q → %q, %v", out, again, err)
			}
		}
	})
}
