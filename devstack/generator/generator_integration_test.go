//go:build integration

package generator_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"echotray/devstack"
	"echotray/devstack/generator"
	"echotray/devstack/publish"
)

// TestSamplesThroughSoketi publishes one of every event into the real
// Soketi and checks that a subscriber of every seed channel receives each
// on its channel, under its wire name, with the payload as a JSON string.
func TestSamplesThroughSoketi(t *testing.T) {
	s := devstack.StartSoketiT(t)
	conn, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	type frame struct {
		Event, Channel string
		Data           json.RawMessage
	}
	read := func() frame {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		var f frame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read: %v", err)
		}
		return f
	}
	var est struct {
		SocketID string `json:"socket_id"`
	}
	var raw string
	if f := read(); json.Unmarshal(f.Data, &raw) != nil || json.Unmarshal([]byte(raw), &est) != nil {
		t.Fatalf("handshake %+v", f)
	}
	channels := []string{"tenant.1", "tenant.2", "private-user.1", "private-user.2", "private-user.3", "private-user.4", generator.AdminChannel}
	for _, ch := range channels {
		data := map[string]string{"channel": ch}
		if strings.HasPrefix(ch, "private-") {
			data["auth"] = publish.ChannelAuth(s.Key, s.Secret, est.SocketID, ch, "")
		}
		if err := conn.WriteJSON(map[string]any{"event": "pusher:subscribe", "data": data}); err != nil {
			t.Fatal(err)
		}
		if f := read(); f.Event != "pusher_internal:subscription_succeeded" || f.Channel != ch {
			t.Fatalf("subscribe %s: %+v", ch, f)
		}
	}

	g := &generator.Generator{Publisher: s.Publisher(), Mixed: true}
	events, err := g.PublishSamples(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range events {
		f := read()
		if f.Event != want.Wire || f.Channel != want.Channel {
			t.Fatalf("got %s on %s, want %s on %s", f.Event, f.Channel, want.Wire, want.Channel)
		}
		var s string
		if err := json.Unmarshal(f.Data, &s); err != nil {
			t.Fatalf("%s: data is not a JSON string: %s", want.Name, f.Data)
		}
		var got, exp map[string]any
		wantJSON, _ := json.Marshal(want.Data)
		_ = json.Unmarshal(wantJSON, &exp)
		if err := json.Unmarshal([]byte(s), &got); err != nil || !reflect.DeepEqual(got, exp) {
			t.Errorf("%s payload:\n got %s\nwant %s", want.Name, s, wantJSON)
		}
	}
}
