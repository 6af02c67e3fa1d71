package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// benchPayload is a typical PaymentCompleted payload from the backend.
var benchPayload = json.RawMessage(`{"event_id":"0b6c1f8e-3f0a-4c55-9b1e-2a7d9f1c3e44","timestamp":"2025-12-03T10:00:00.000000Z",` +
	`"payment":{"id":48213,"amount":350,"currency":"KES","phone":"254712345678","reference":"QK7H2B9XLM",` +
	`"method":"mpesa","status":"completed","package":"Weekly - KES 350","created_at":"2025-12-03T10:00:00.000000Z"},"tenant_id":1}`)

func BenchmarkCatalogRender(b *testing.B) {
	c := NewCatalog(nil)
	b.ReportAllocs()
	for b.Loop() {
		c.Render("PaymentCompleted", benchPayload)
	}
}

func BenchmarkCatalogRenderUnknown(b *testing.B) {
	c := NewCatalog(nil)
	b.ReportAllocs()
	for b.Loop() {
		c.Render("InvoiceGenerated", benchPayload)
	}
}

// BenchmarkPolicyAdmitStorm measures the policy during a flood (every
// event held for the summary), with a full de-duplication memory.
func BenchmarkPolicyAdmitStorm(b *testing.B) {
	var p policy
	prefs := Prefs{}
	items := make([]item, 4096)
	for i := range items {
		items[i] = payment(i)
	}
	now := t0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(time.Millisecond)
		p.admit(prefs, now, items[i%len(items)])
		i++
	}
}

// nopStore is a HistoryWriter that assigns ids and keeps nothing.
type nopStore struct{ id int64 }

func (s *nopStore) Add(_ context.Context, e *Entry) (bool, error) {
	s.id++
	e.ID = s.id
	return true, nil
}

// BenchmarkCenterHandle measures Handle up to the delivery queue (history
// and desktop faked): render, key, policy, enqueue.
func BenchmarkCenterHandle(b *testing.B) {
	c := NewCenter(CenterConfig{Store: &nopStore{}, Notifier: nopNotifier{}, Prefs: Prefs{FloodLimit: -1}})
	defer c.Close()
	data := make([]json.RawMessage, 1024)
	for i := range data {
		data[i] = json.RawMessage(fmt.Sprintf(`{"event_id":"e%d","payment":{"amount":%d,"currency":"KES","phone":"2547%08d"}}`, i, i, i))
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := c.Handle(ctx, Incoming{Channel: "tenant.1", Event: "PaymentCompleted", Data: data[i%len(data)]}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
