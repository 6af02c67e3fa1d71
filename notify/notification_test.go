package notify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestNotificationEntryFromData(t *testing.T) {
	c := NewCatalog(nil)
	e := c.NotificationEntry(json.RawMessage(`{"title":"Invoice #12 paid","message":"KES 1,500 received.","level":"success",
		"id":"9b2f7f1e-0000-4000-8000-000000000001","type":"App\\Notifications\\InvoicePaid"}`))
	if e.Event != "InvoicePaid" || e.Title != "Invoice #12 paid" || e.Message != "KES 1,500 received." || e.Type != TypeSuccess {
		t.Errorf("entry = %+v", e)
	}
	if e.ExternalID != "9b2f7f1e-0000-4000-8000-000000000001" || e.Key != "notification/9b2f7f1e-0000-4000-8000-000000000001" {
		t.Errorf("ids: external %q key %q", e.ExternalID, e.Key)
	}
}

func TestNotificationEntryFallbacks(t *testing.T) {
	c := NewCatalog(nil)
	for _, tc := range []struct {
		data, title, message string
		typ                  Type
	}{
		{`{"id":"u1","type":"App\\Notifications\\InvoicePaid","amount":1500}`, "Invoice paid", "Amount: 1500", TypeSuccess},
		{`{"id":"u2","type":"App\\Notifications\\SMSDeliveryFailed","body":"Gateway down"}`, "SMS delivery failed", "Gateway down", TypeError},
		{`{"id":"u3","type":"App\\Notifications\\Reminder","severity":"warning"}`, "Reminder", noDetails, TypeWarning},
		{`{"id":"u4"}`, "Notification", noDetails, TypeInfo},
	} {
		e := c.NotificationEntry(json.RawMessage(tc.data))
		if e.Title != tc.title || e.Message != tc.message || e.Type != tc.typ {
			t.Errorf("%s: got %q / %q / %s, want %q / %q / %s", tc.data, e.Title, e.Message, e.Type, tc.title, tc.message, tc.typ)
		}
	}
}

func TestNotificationOverrideByClassName(t *testing.T) {
	c := NewCatalog(map[string]Override{"InvoicePaid": {Title: "Paid: {amount}", Type: TypeInfo, Muted: true}})
	e := c.NotificationEntry(json.RawMessage(`{"id":"u1","type":"App\\Notifications\\InvoicePaid","amount":"1500"}`))
	if e.Title != "Paid: 1500" || e.Type != TypeInfo {
		t.Errorf("override not applied: %+v", e)
	}
	if !c.Muted(e.Event) {
		t.Error("the override's mute does not apply by class name")
	}
}

func TestMergeNotification(t *testing.T) {
	got := MergeNotification("u9", `App\Notifications\InvoicePaid`, json.RawMessage(`{"title":"T","id":"other","type":"warning"}`))
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	if m["id"] != "u9" || m["type"] != `App\Notifications\InvoicePaid` || m["title"] != "T" {
		t.Errorf("merged = %s", got)
	}
	if got := MergeNotification("u9", "X", json.RawMessage(`null`)); string(got) != `{"id":"u9","type":"X"}` {
		t.Errorf("merged null = %s", got)
	}
}

func TestSentenceWords(t *testing.T) {
	for in, want := range map[string]string{
		`App\Notifications\InvoicePaid`: "Invoice paid",
		"SMSDelivered":                  "SMS delivered",
		"payment_reminder_sent":         "Payment reminder sent",
	} {
		if got := SentenceWords(in); got != want {
			t.Errorf("SentenceWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCenterHandlesLaravelNotification(t *testing.T) {
	store := &fakeStore{}
	n := &fakeNotifier{}
	c := NewCenter(CenterConfig{Store: store, Notifier: n})
	data := json.RawMessage(`{"title":"Invoice paid","message":"Thanks","id":"abc","type":"App\\Notifications\\InvoicePaid"}`)
	e, stored, err := c.Handle(context.Background(), Incoming{Channel: "private-App.Models.User.5", Event: NotificationEvent, Data: data})
	if err != nil || !stored {
		t.Fatalf("Handle: stored %v err %v", stored, err)
	}
	if e.Event != "InvoicePaid" || e.ExternalID != "abc" || e.Key != "notification/abc" || e.Channel != "private-App.Models.User.5" || e.Time.IsZero() {
		t.Errorf("entry = %+v", e)
	}
	// The same UUID again (caught up, or a replay) is not stored or shown twice.
	if _, stored, _ := c.Handle(context.Background(), Incoming{Channel: "private-App.Models.User.5", Event: NotificationEvent, Data: data}); stored {
		t.Error("the same notification was stored twice")
	}
	_ = c.Close()
	if got := len(n.sent()); got != 1 {
		t.Errorf("%d desktop notifications, want 1", got)
	}
}

func TestUndecryptableEventRendered(t *testing.T) {
	n := NewCatalog(nil).Render(EventUndecryptable, json.RawMessage(`{"event":"PaymentCompleted"}`))
	if n.Type != TypeWarning || n.Title != "Message Could Not Be Read" ||
		!strings.HasPrefix(n.Message, "A message (PaymentCompleted) could not be decrypted") {
		t.Errorf("%+v", n)
	}
	if n := NewCatalog(nil).Render(EventUndecryptable, nil); !strings.HasPrefix(n.Message, "A message could not be decrypted") {
		t.Errorf("without the event name: %q", n.Message)
	}
}
