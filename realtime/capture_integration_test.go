//go:build integration

package realtime

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"echotray/devstack"
	"echotray/devstack/publish"
)

var updateFrames = flag.Bool("update-frames", false, "write the frames captured from Soketi to testdata/frames (fuzz seed corpus)")

// rawPeer is a bare WebSocket connection to Soketi, below our client.
type rawPeer struct {
	t        *testing.T
	ws       *websocket.Conn
	socketID string
}

func dialRaw(t *testing.T, url string) (*rawPeer, []byte) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	p := &rawPeer{t: t, ws: ws}
	first := p.read()
	if f, err := decodeFrame(first); err == nil && f.Event == "pusher:connection_established" {
		p.socketID, _, _ = parseEstablished(f)
	}
	return p, first
}

func (p *rawPeer) read() []byte {
	p.t.Helper()
	p.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := p.ws.ReadMessage()
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	return b
}

// readEvent reads until a frame with the event name arrives.
func (p *rawPeer) readEvent(event string) []byte {
	p.t.Helper()
	for {
		b := p.read()
		if f, err := decodeFrame(b); err == nil && f.Event == event {
			return b
		}
	}
}

func (p *rawPeer) send(s string) {
	if err := p.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// TestIntegrationRealSoketiFrames provokes every frame type a notifier sees
// from the real Soketi and checks how decodeFrame reads each. With
// -update-frames it stores them as the fuzz seed corpus.
func TestIntegrationRealSoketiFrames(t *testing.T) {
	s := devstack.StartSoketiT(t)
	captured := map[string][]byte{}
	check := func(name string, b []byte, event, channel string) frame {
		t.Helper()
		f, err := decodeFrame(b)
		if err != nil || f.Event != event || f.Channel != channel {
			t.Fatalf("%s: decodeFrame(%s) = %+v, %v", name, b, f, err)
		}
		captured[name] = b
		return f
	}

	a, first := dialRaw(t, s.WSURL())
	f := check("soketi-connection-established", first, "pusher:connection_established", "")
	if _, act, err := parseEstablished(f); err != nil || act != 30 {
		t.Fatalf("handshake: %d, %v", act, err)
	}
	a.send(`{"event":"pusher:ping","data":{}}`)
	check("soketi-pong", a.readEvent("pusher:pong"), "pusher:pong", "")

	a.send(`{"event":"pusher:subscribe","data":{"channel":"tenant.1"}}`)
	check("soketi-subscription-succeeded-public", a.readEvent("pusher_internal:subscription_succeeded"), "pusher_internal:subscription_succeeded", "tenant.1")

	a.send(`{"event":"pusher:subscribe","data":{"channel":"private-user.1","auth":"` + s.Key + `:bad"}}`)
	f = check("soketi-subscription-error", a.readEvent("pusher:subscription_error"), "pusher:subscription_error", "private-user.1")
	if se := parseSubscriptionError(f); se.Status != 401 || se.Type != "AuthError" {
		t.Fatalf("subscription_error parsed as %+v", se)
	}

	cd := `{"user_id":1,"user_info":{"name":"Alice"}}`
	a.send(fmt.Sprintf(`{"event":"pusher:subscribe","data":{"channel":"presence-room.1","auth":%q,"channel_data":%q}}`,
		publish.ChannelAuth(s.Key, s.Secret, a.socketID, "presence-room.1", cd), cd))
	f = check("soketi-subscription-succeeded-presence", a.readEvent("pusher_internal:subscription_succeeded"), "pusher_internal:subscription_succeeded", "presence-room.1")
	if !strings.Contains(string(f.Data), `"presence"`) {
		t.Fatalf("presence data not unwrapped: %s", f.Data)
	}
	b, _ := dialRaw(t, s.WSURL())
	cd2 := `{"user_id":2,"user_info":{"name":"Bob"}}`
	b.send(fmt.Sprintf(`{"event":"pusher:subscribe","data":{"channel":"presence-room.1","auth":%q,"channel_data":%q}}`,
		publish.ChannelAuth(s.Key, s.Secret, b.socketID, "presence-room.1", cd2), cd2))
	check("soketi-member-added", a.readEvent("pusher_internal:member_added"), "pusher_internal:member_added", "presence-room.1")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub := s.Publisher()
	if err := pub.Trigger(ctx, []string{"tenant.1"}, `App\Events\UserCreated`, map[string]any{"user": map[string]any{"id": 9, "name": "Zoë \"Bo\""}}, ""); err != nil {
		t.Fatal(err)
	}
	f = check("soketi-laravel-event", a.readEvent(`App\Events\UserCreated`), `App\Events\UserCreated`, "tenant.1")
	if string(f.Data) != `{"user":{"id":9,"name":"Zoë \"Bo\""}}` {
		t.Fatalf("event data %s", f.Data)
	}
	if err := pub.Trigger(ctx, []string{"tenant.1"}, "SystemNotification", "plain text, not JSON", ""); err != nil {
		t.Fatal(err)
	}
	f = check("soketi-event-text-data", a.readEvent("SystemNotification"), "SystemNotification", "tenant.1")
	if string(f.Data) != `"plain text, not JSON"` {
		t.Fatalf("text data %s", f.Data)
	}

	// Client events are disabled by default: Soketi answers pusher:error 4301.
	a.send(`{"event":"client-typing","channel":"presence-room.1","data":{"x":1}}`)
	f = check("soketi-error-4301", a.readEvent("pusher:error"), "pusher:error", "presence-room.1") // Soketi names the channel
	if pe := parsePusherError(f); pe.Code != 4301 {
		t.Fatalf("client event error %+v", pe)
	}

	bad, first := dialRaw(t, strings.Replace(s.WSURL(), "/app/"+s.Key, "/app/no-such-key", 1))
	_ = bad
	f = check("soketi-error-4001", first, "pusher:error", "")
	if pe := parsePusherError(f); pe.Code != 4001 {
		t.Fatalf("bad key error %+v", pe)
	}

	go s.Stop()
	f = check("soketi-error-4200", a.readEvent("pusher:error"), "pusher:error", "")
	if pe := parsePusherError(f); pe.Code != 4200 {
		t.Fatalf("shutdown error %+v", pe)
	}

	if *updateFrames {
		for name, b := range captured {
			if err := os.WriteFile(filepath.Join("testdata", "frames", name+".json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %d frames", len(captured))
	}
}
