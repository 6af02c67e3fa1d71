package history

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"echotray/notify"
)

// sentNotifier is a notify.Notifier that records what it was asked to show.
type sentNotifier struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (n *sentNotifier) Notify(_ context.Context, m notify.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, m)
	return nil
}

func (n *sentNotifier) sent() []notify.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.msgs)
}

// TestCenterWithTheRealStore runs the notify pipeline on the SQLite history:
// a replayed event id is stored once and shown once, and every field
// arrives. It lives here, not in notify, because notify must not import
// this package.
func TestCenterWithTheRealStore(t *testing.T) {
	store, err := Open(t.TempDir()+"/history.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	n := &sentNotifier{}
	c := notify.NewCenter(notify.CenterConfig{Store: store, Notifier: n})
	in := func(event, data string) notify.Incoming {
		return notify.Incoming{Channel: "tenant.1", Event: event, Data: json.RawMessage(data)}
	}
	const data = `{"event_id":"a1","hotspot_user":{"username":"hs001","plan":"Daily - KES 80"}}`
	first, _, err := c.Handle(t.Context(), in("HotspotUserCreated", data))
	if err != nil || first.ID == 0 {
		t.Fatalf("first: %+v, %v", first, err)
	}
	again, _, err := c.Handle(t.Context(), in("HotspotUserCreated", data))
	if err != nil || again.ID != first.ID {
		t.Fatalf("replay: %+v, %v", again, err)
	}
	if err := c.Close(); err != nil { // sends what is queued
		t.Fatal(err)
	}
	if got := n.sent(); len(got) != 1 || got[0].EntryID != first.ID || got[0].Body != "Hotspot user hs001 has been created (Daily - KES 80)." {
		t.Fatalf("notified %+v", got)
	}
	stored, err := store.Get(t.Context(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Key != "tenant.1/HotspotUserCreated/a1" || stored.Event != "HotspotUserCreated" || stored.Type != notify.TypeSuccess ||
		stored.Title != "Hotspot User Created" || !json.Valid(stored.Data) {
		t.Fatalf("stored %+v", stored)
	}
	if count, _ := store.Count(t.Context(), Query{}); count != 1 {
		t.Fatalf("%d entries, want 1", count)
	}
}
