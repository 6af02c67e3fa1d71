package history

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"echotray/notify"
)

// cashierHistory stores events as the catalog renders the seed's payloads
// (notify/catalog.go, devstack/generator/payloads.go): amounts as
// "KES 1,500.00", phones as M-Pesa sends them (2547XXXXXXXX) or as typed
// by staff (07XX...), references in the payload only.
type cashierHistory struct {
	pay1500, pay15000, pay150, pay1500c50, refund, hotspot, user, gap, router int64
}

func addCashierHistory(t *testing.T, s *Store) cashierHistory {
	t.Helper()
	add := func(e notify.Entry) int64 {
		t.Helper()
		if e.Time.IsZero() {
			e.Time = testBase
		}
		return mustAdd(t, s, e).ID
	}
	var h cashierHistory
	h.pay1500 = add(notify.Entry{Channel: "tenant.1", Event: "PaymentCompleted", Type: notify.TypeSuccess,
		Title:   "Payment Completed",
		Message: "Payment of KES 1,500.00 from 254712345678 completed successfully.",
		Data: json.RawMessage(`{"event_id":"5f0c","timestamp":"2025-03-14T09:30:00Z","payment":{"id":48213,"amount":1500,"currency":"KES",` +
			`"phone":"254712345678","reference":"QGH7XYZ123","method":"mpesa","status":"completed","package":"Monthly - KES 1200",` +
			`"created_at":"2025-03-14 09:30:00"}}`)})
	h.pay15000 = add(notify.Entry{Channel: "tenant.1", Event: "PaymentCompleted", Type: notify.TypeSuccess,
		Title:   "Payment Completed",
		Message: "Payment of KES 15,000.00 from Otieno Mwangi completed successfully.",
		Data:    json.RawMessage(`{"payment":{"id":48214,"amount":"15000.00","currency":"KES","phone":"0722000111","reference":"RKT9ABC456","customer_name":"Otieno Mwangi"}}`)})
	h.pay150 = add(notify.Entry{Channel: "tenant.1", Event: "PaymentFailed", Type: notify.TypeError,
		Title:   "Payment Failed",
		Message: "Payment of KES 150.00 from 254733111222 failed: insufficient funds.",
		Data:    json.RawMessage(`{"payment":{"id":48215,"amount":150,"currency":"KES","phone":"254733111222","reference":null,"checkout_request_id":"ws_CO_14032025093000123"}}`)})
	h.pay1500c50 = add(notify.Entry{Channel: "tenant.2", Event: "PaymentCompleted", Type: notify.TypeSuccess,
		Title:   "Payment Completed",
		Message: "Payment of KES 1,500.50 completed successfully.",
		Data:    json.RawMessage(`{"payment":{"id":48216,"amount":1500.5,"currency":"KES"}}`)})
	h.refund = add(notify.Entry{Channel: "tenant.2", Event: "SystemNotification", Type: notify.TypeInfo,
		Title:   "Quarterly turnover",
		Message: "Turnover this quarter: KES 712,345,678.00",
		Data:    json.RawMessage(`{"total":712345678}`)})
	h.hotspot = add(notify.Entry{Channel: "tenant.1", Event: "HotspotUserCreated", Type: notify.TypeInfo,
		Title:   "Hotspot User Created",
		Message: "Hotspot user hs345678 was created.",
		Data:    json.RawMessage(`{"hotspot_user":{"id":5123,"username":"hs345678","phone":"254712345678","plan":"Daily - KES 80","mac":"0A:1B:2C:3D:4E:5F"}}`)})
	h.user = add(notify.Entry{Channel: "tenant.1", Event: "UserCreated", Type: notify.TypeSuccess,
		Title:   "User Created",
		Message: "Jane Wanjiru has been added to the system.",
		Data:    json.RawMessage(`{"user":{"id":301,"name":"Jane Wanjiru","email":"jane.wanjiru@acme.test","username":"jwanjiru","role":"staff"}}`)})
	// A gap entry (#11 item 5): an ordinary entry without a channel.
	h.gap = add(notify.Entry{Event: "ConnectionGap", Type: notify.TypeWarning,
		Title:   "Connection lost",
		Message: "Offline from 14:02 to 14:37 — events sent in that time were not received. 3 recovered.",
		Data:    json.RawMessage(`{"from":"2025-03-14T14:02:00+03:00","to":"2025-03-14T14:37:00+03:00","recovered":3}`)})
	h.router = add(notify.Entry{Channel: "tenant.1", Event: "RouterOffline", Type: notify.TypeError,
		Title: "Router offline", Message: "MikroTik hAP-042 at Westlands stopped answering"})
	return h
}

// TestSearchLikeCashiers checks every form #14 item 4 lists with real
// SQLite: amounts whatever the formatting, phones local and international,
// payload values; and no false friends.
func TestSearchLikeCashiers(t *testing.T) {
	s := testStore(t, Options{}, nil)
	h := addCashierHistory(t, s)
	ctx := context.Background()
	tests := []struct {
		search string
		want   []int64 // newest first
	}{
		// Amounts.
		{"1500", []int64{h.pay1500}},
		{"1,500", []int64{h.pay1500}},
		{"1500.00", []int64{h.pay1500}},
		{"1,500.00", []int64{h.pay1500}},
		{"KES 1,500", []int64{h.pay1500}},
		{"KES 1500", []int64{h.pay1500}},
		{"kes 1,500.00", []int64{h.pay1500}},
		{"1500 kes", []int64{h.pay1500}},
		{"15000", []int64{h.pay15000}},      // "15000.00" in the payload, "15,000.00" in the text
		{"15,000.00", []int64{h.pay15000}},  //
		{"150", []int64{h.pay150}},          //
		{"1,500.50", []int64{h.pay1500c50}}, // decimals are kept
		{"1500.5", []int64{h.pay1500c50}},   //
		{"712,345,678", []int64{h.refund}},  // an amount, not a phone
		{"712345678", []int64{h.refund}},    //
		// Phones, local and international, in groups or not.
		{"0712 345 678", []int64{h.hotspot, h.pay1500}},
		{"0712345678", []int64{h.hotspot, h.pay1500}},
		{"254712345678", []int64{h.hotspot, h.pay1500}},
		{"+254 712 345 678", []int64{h.hotspot, h.pay1500}},
		{"+254712345678", []int64{h.hotspot, h.pay1500}},
		{"0712-345-678", []int64{h.hotspot, h.pay1500}},
		{"(0712) 345678", []int64{h.hotspot, h.pay1500}},
		{"0722 000 111", []int64{h.pay15000}}, // stored in the local form
		{"254722000111", []int64{h.pay15000}},
		{"+254 722 000 111", []int64{h.pay15000}},
		{"0733111222", []int64{h.pay150}},
		{"failed 0733 111 222", []int64{h.pay150}},
		// Payload values: references, usernames, e-mail, package.
		{"QGH7XYZ123", []int64{h.pay1500}},
		{"qgh7xyz123", []int64{h.pay1500}},
		{"QGH7", []int64{h.pay1500}}, // typing: a prefix
		{"RKT9ABC456", []int64{h.pay15000}},
		{"hs345678", []int64{h.hotspot}},
		{"jwanjiru", []int64{h.user}},
		{"jane.wanjiru@acme.test", []int64{h.user}},
		{"ws_CO_14032025093000123", []int64{h.pay150}},
		{"mpesa", []int64{h.pay1500}},
		{"Otieno 15000", []int64{h.pay15000}},
		// Words and codes as before.
		{"payment completed", []int64{h.pay1500c50, h.pay15000, h.pay1500}},
		{"hAP-042", []int64{h.router}},
		{"042", []int64{h.router}},
		// Gap entries list and search like the others.
		{"offline from", []int64{h.gap}},
		{"14:02", []int64{h.gap}},
		{"not received", []int64{h.gap}},
		// No false friends.
		{"500", nil},                 // not "1,500" nor "1500.50"
		{"15", nil},                  // not 150, 1500, 15000
		{"1", nil},                   // not every amount starting with 1
		{"345", nil},                 // a phone's group is not a number
		{"678", nil},                 //
		{"0712", nil},                // nor its first group
		{"0712 345", nil},            // an incomplete phone finds nothing
		{"1500.01", nil},             //
		{"30", nil},                  // not "09:30:00" of a time stamp in the payload
		{"2025", nil},                // nor its year
		{"1200", []int64{h.pay1500}}, // but "Monthly - KES 1200" is a value of the payload
		{"80", []int64{h.hotspot}},   //
		{"3", []int64{h.gap}},        // "3 recovered"
	}
	for _, tt := range tests {
		got, err := s.ListIDs(ctx, Query{Search: tt.search})
		if err != nil {
			t.Errorf("search %q: %v", tt.search, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("search %q = %v, want %v", tt.search, got, tt.want)
		}
		page, err := s.List(ctx, Query{Search: tt.search, Limit: 50})
		if err != nil || !slices.Equal(ids(page), tt.want) {
			t.Errorf("List(search %q) = %v, %v; want %v", tt.search, ids(page), err, tt.want)
		}
		if n, err := s.Count(ctx, Query{Search: tt.search}); err != nil || n != len(tt.want) {
			t.Errorf("Count(search %q) = %d, %v; want %d", tt.search, n, err, len(tt.want))
		}
	}
	checkFTS(t, s)
}

// TestGapEntries: a ConnectionGap entry (#11 item 5) has no channel; it
// lists, filters, counts and reads like any other entry and adds no
// channel to the channel filter.
func TestGapEntries(t *testing.T) {
	s := testStore(t, Options{}, nil)
	h := addCashierHistory(t, s)
	ctx := context.Background()
	all, err := s.List(ctx, Query{})
	if err != nil || len(all) != 9 || all[1].ID != h.gap {
		t.Fatalf("List = %v, %v", ids(all), err)
	}
	g := all[1]
	if g.Event != "ConnectionGap" || g.Type != notify.TypeWarning || g.Channel != "" || g.Read {
		t.Errorf("gap entry = %+v", g)
	}
	warn, err := s.ListIDs(ctx, Query{Types: []notify.Type{notify.TypeWarning}})
	if err != nil || !slices.Equal(warn, []int64{h.gap}) {
		t.Errorf("warnings = %v, %v", warn, err)
	}
	byEvent, err := s.ListIDs(ctx, Query{Event: "ConnectionGap"})
	if err != nil || !slices.Equal(byEvent, []int64{h.gap}) {
		t.Errorf("event filter = %v, %v", byEvent, err)
	}
	chans, err := s.Channels(ctx)
	if err != nil || !slices.Equal(chans, []string{"tenant.1", "tenant.2"}) {
		t.Errorf("Channels = %v, %v", chans, err)
	}
	e, err := s.Get(ctx, h.gap)
	if err != nil || string(e.Data) != `{"from":"2025-03-14T14:02:00+03:00","to":"2025-03-14T14:37:00+03:00","recovered":3}` {
		t.Errorf("Get(gap) = %+v, %v", e, err)
	}
	sum, err := s.Summaries(ctx, []int64{h.gap})
	if err != nil || len(sum) != 1 || sum[0].Message != g.Message {
		t.Errorf("Summaries(gap) = %v, %v", sum, err)
	}
	if err := s.MarkRead(ctx, h.gap); err != nil {
		t.Fatal(err)
	}
	if unread, _ := s.ListIDs(ctx, Query{Unread: true, Event: "ConnectionGap"}); len(unread) != 0 {
		t.Errorf("gap still unread")
	}
	recent, err := s.ListIDs(ctx, Query{Since: testBase.Add(-time.Minute), Search: "offline"})
	if err != nil || !slices.Equal(recent, []int64{h.router, h.gap}) {
		t.Errorf("search offline = %v, %v", recent, err)
	}
}

// TestSearchTerms pins what goes into vals and norm.
func TestSearchTerms(t *testing.T) {
	tests := []struct {
		title, message, data string
		vals, norm           string
	}{
		{"Payment Completed", "Payment of KES 1,500.00 from 254712345678 completed successfully.",
			`{"payment":{"amount":1500,"phone":"254712345678","reference":"QGH7XYZ123"}}`,
			"1500 254712345678 QGH7XYZ123", "1500 p254712345678"},
		{"", "Call 0712 345 678 or +255 754 000 111 about 2 vouchers of KES 1,200.50", "",
			"", "p254712345678 p255754000111 2 1200d5"},
		{"", "hAP-042 QGH7XYZ123 KES1500 12kg", "", "", "042"},
		{"", "dates 2025-03-14 14:02", `{"at":"2025-03-14T14:02:00Z","n":7,"ok":true,"x":null,"list":["a b",3.10]}`,
			"2025-03-14T14:02:00Z a b 3.10 7", "2025 03 14 02 3d1 7"},
		{"", "", "not json {", "", ""},
	}
	for _, tt := range tests {
		vals, norm := searchTerms(tt.title, tt.message, []byte(tt.data))
		if vals != tt.vals || norm != tt.norm {
			t.Errorf("searchTerms(%q, %q, %s) = %q, %q; want %q, %q", tt.title, tt.message, tt.data, vals, norm, tt.vals, tt.norm)
		}
	}
}
