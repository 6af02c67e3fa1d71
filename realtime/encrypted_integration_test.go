//go:build integration

package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"echotray/devstack"
	"echotray/devstack/publish"
)

// bodyRecorder keeps the bodies of the requests a publisher sends.
type bodyRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (b *bodyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		b.mu.Lock()
		b.bodies = append(b.bodies, string(raw))
		b.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// encBackend is the backend's /broadcasting/auth for encrypted channels:
// it signs with Soketi's secret and hands out the shared secret derived
// from its master key (which the test may get wrong on purpose).
func encBackend(t *testing.T, s *devstack.Soketi, master *atomic.Pointer[[]byte], calls *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = r.ParseForm()
		ch, socketID := r.PostForm.Get("channel_name"), r.PostForm.Get("socket_id")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"auth":          publish.ChannelAuth(s.Key, s.Secret, socketID, ch, ""),
			"shared_secret": publish.SharedSecretBase64(ch, *master.Load()),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestIntegrationEncryptedChannelThroughSoketi(t *testing.T) {
	s := devstack.StartSoketiT(t)
	master := []byte("0123456789abcdef0123456789abcdef")
	var backendKey atomic.Pointer[[]byte]
	backendKey.Store(&master)
	var calls atomic.Int32
	backend := encBackend(t, s, &backendKey, &calls)
	const ch = "private-encrypted-payments.7"

	r := newRecorder()
	httpClient := &http.Client{Timeout: 5 * time.Second}
	cfg := Config{
		Key: s.Key, Host: s.Host, Port: s.Port,
		Authorizer: HTTPAuthorizer{Endpoint: backend.URL + "/broadcasting/auth", Client: httpClient},
		Logger:     debugLogger(),
	}
	r.hook(&cfg)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); httpClient.CloseIdleConnections() })
	c.Subscribe(ch)
	c.Connect()
	r.waitSub(t, ch, SubscriptionSubscribed, 15*time.Second)

	// A bare socket on the same channel sees what Soketi relays.
	raw, _ := dialRaw(t, s.WSURL())
	raw.send(fmt.Sprintf(`{"event":"pusher:subscribe","data":{"channel":%q,"auth":%q}}`, ch,
		publish.ChannelAuth(s.Key, s.Secret, raw.socketID, ch, "")))
	raw.readEvent("pusher_internal:subscription_succeeded")

	wire := &bodyRecorder{}
	pub := s.Publisher()
	pub.Client = &http.Client{Timeout: 10 * time.Second, Transport: wire}
	pub.EncryptionMasterKey = master
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const secret = "0712345678"
	if err := pub.Trigger(ctx, []string{ch}, `App\Events\PaymentCompleted`, map[string]any{"amount": 500, "phone": secret}, ""); err != nil {
		t.Fatal(err)
	}
	e := r.expectEvent(t, ch, `App\Events\PaymentCompleted`, 10*time.Second)
	if e.Err != nil || !strings.Contains(string(e.Data), secret) {
		t.Fatalf("event %+v data %s", e, e.Data)
	}
	var data map[string]any
	if err := json.Unmarshal(e.Data, &data); err != nil || data["amount"] != float64(500) {
		t.Fatalf("data %s: %v", e.Data, err)
	}
	// Soketi never had the plaintext: not in the published body, not in
	// what it relayed.
	relayed := raw.readEvent(`App\Events\PaymentCompleted`)
	wire.mu.Lock()
	body := strings.Join(wire.bodies, "\n")
	wire.mu.Unlock()
	for what, b := range map[string]string{"published body": body, "relayed frame": string(relayed)} {
		if strings.Contains(b, secret) || strings.Contains(b, "amount") || !strings.Contains(b, "ciphertext") || !strings.Contains(b, "nonce") {
			t.Errorf("%s is not ciphertext: %s", what, b)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("authorised %d times", n)
	}

	// The server's key changes: the client's secret is stale; one
	// re-authorisation fetches the new one and the event arrives.
	rotated := []byte("fedcba9876543210fedcba9876543210")
	backendKey.Store(&rotated)
	pub.EncryptionMasterKey = rotated
	if err := pub.Trigger(ctx, []string{ch}, "Rotated", map[string]any{"n": 1}, ""); err != nil {
		t.Fatal(err)
	}
	if e := r.expectEvent(t, ch, "Rotated", 10*time.Second); e.Err != nil || string(e.Data) != `{"n":1}` {
		t.Fatalf("after rotation: %+v %s", e, e.Data)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("authorised %d times, want 2", n)
	}

	// A wrong secret from the backend: one re-authorisation, then the
	// event is reported undecryptable; the connection stays up.
	time.Sleep(reauthCooldown) // a new key may be fetched again
	pub.EncryptionMasterKey = []byte("the server's third master key!!!")
	wrong := []byte("this is not the master key!!!!!!")
	backendKey.Store(&wrong)
	if err := pub.Trigger(ctx, []string{ch}, "Lost", map[string]any{"phone": secret}, ""); err != nil {
		t.Fatal(err)
	}
	e = r.expectEvent(t, ch, "Lost", 10*time.Second)
	if !errors.Is(e.Err, ErrUndecryptable) || string(e.Data) != "null" {
		t.Fatalf("undecryptable event %+v %s", e, e.Data)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("authorised %d times, want exactly one more", n)
	}
	if c.State() != StateConnected || c.Subscriptions()[ch] != SubscriptionSubscribed {
		t.Errorf("state %s, subscriptions %v", c.State(), c.Subscriptions())
	}
}
