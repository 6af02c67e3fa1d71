package ui

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"echotray/notify"
)

// peopleEntries are seed events as they arrive from the billing platform.
func peopleEntries() []notify.Entry {
	return []notify.Entry{
		{Time: historyNow.Add(-time.Hour), Channel: "tenant.1", Event: "UserCreated", Type: notify.TypeSuccess,
			Title: "User Created", Message: "Otieno Mwangi has been added to the system.",
			Data: json.RawMessage(`{"user":{"id":3,"name":"Otieno Mwangi","email":"otieno@example.com"}}`)},
		{Time: historyNow.Add(-30 * time.Minute), Channel: "tenant.1", Event: "HotspotUserCreated", Type: notify.TypeSuccess,
			Title: "Hotspot User Created", Message: "Hotspot user guest42 has been created (Daily 1GB).",
			Data: json.RawMessage(`{"hotspot_user":{"username":"guest42","package":"Daily 1GB","phone_number":"0712345678"}}`)},
		{Time: historyNow.Add(-20 * time.Minute), Channel: "private-system.admin", Event: "SystemAlert", Type: notify.TypeWarning,
			Title: "Disk almost full", Message: "Storage at 91%. Details: https://status.example.com/incidents/42.",
			Data: json.RawMessage(`{"title":"Disk almost full","level":"warning"}`)},
		{Time: historyNow.Add(-10 * time.Minute), Channel: "private-App.Models.User.5", Event: "BroadcastNotificationCreated", Type: notify.TypeInfo,
			Title: "Invoice ready", Message: "Your invoice for November is ready.",
			Data: json.RawMessage(`{"id":"9b1c","type":"App\\Notifications\\InvoiceReady"}`)},
		{Time: historyNow.Add(-5 * time.Minute), Channel: "tenant.1", Event: "PaymentFailed", Type: notify.TypeError,
			Title: "Payment Failed", Message: "Payment of KES 1,500.00 from 254712345678 failed: Insufficient funds.",
			Data: json.RawMessage(`{"payment":{"amount":1500,"currency":"KES","phone_number":"254712345678","reference":"QK81XYZ"},"reason":"Insufficient funds"}`)},
		{Time: historyNow.Add(-time.Minute), Channel: "private-user.5", Event: "PasswordChanged", Type: notify.TypeInfo,
			Title: "Password Changed", Message: "Your password has been changed."},
	}
}

// TestHistoryForPeople: kind labels instead of channel names, the filter
// by kind of event, the detail as a labelled table with the raw event
// under a collapsed "Technical details", and links that can be clicked.
func TestHistoryForPeople(t *testing.T) {
	st := openTestStore(t)
	seeded := seed(t, st, peopleEntries())
	f := newHistoryFixture(t, st)
	v := f.view

	// The source column says what the channel is.
	row := v.list.CreateItem().(*fyne.Container)
	v.fillRow(row, f.rowAt(3)) // newest first: the system alert
	if got := row.Objects[rowChannel].(*widget.Label).Text; got != "System admin" {
		t.Errorf("source column %q, want System admin", got)
	}
	if got := v.chanSel.Options; !slices.Equal(got, []string{allChannelsLabel, "Tenant", "Personal", "Notifications", "System admin"}) {
		t.Errorf("source choices %q", got)
	}

	// The kind-of-event filter, beside severity.
	for _, tc := range []struct {
		label string
		want  []string
	}{
		{"Payments", []string{"Payment Failed"}},
		{"Users", []string{"User Created"}},
		{"Hotspot users", []string{"Hotspot User Created"}},
		{"Account", []string{"Password Changed", "Invoice ready"}},
		{"System", []string{"Disk almost full"}},
		{"Tenants", nil},
	} {
		v.catSel.SetSelected(tc.label)
		f.wait()
		if got := f.listTitles(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.label, got, tc.want)
		}
	}
	// Combined with severity and source; live entries follow the filter.
	v.catSel.SetSelected("Payments")
	v.typeSel.SetSelected("Error")
	v.chanSel.SetSelected("Tenant")
	f.wait()
	if len(v.ids) != 1 {
		t.Errorf("payments, errors, tenant: %d", len(v.ids))
	}
	live := seed(t, st, []notify.Entry{
		{Time: historyNow, Channel: "tenant.1", Event: "PaymentFailed", Type: notify.TypeError, Title: "Payment Failed", Message: "again"},
		{Time: historyNow, Channel: "tenant.1", Event: "UserDeleted", Type: notify.TypeError, Title: "User Deleted", Message: "gone"},
	})
	v.Added(live[0])
	v.Added(live[1])
	f.wait()
	if got := f.listTitles(); !slices.Equal(got, []string{"Payment Failed", "Payment Failed"}) {
		t.Errorf("after live entries: %q", got)
	}
	v.resetFilters()
	v.Reload()
	f.wait()

	// The detail: the known fields as a table, plain words on top.
	payment := seeded[4].ID
	v.Select(payment)
	f.wait()
	if v.detailMeta.Text != "Error · Payment Failed · Tenant" {
		t.Errorf("meta %q", v.detailMeta.Text)
	}
	var table []string
	for _, o := range v.detailFields.Objects {
		table = append(table, o.(*widget.Label).Text)
	}
	want := []string{"Amount", "KES 1,500.00", "Phone", "254712345678", "Reference", "QK81XYZ", "Reason", "Insufficient funds"}
	if !slices.Equal(table, want) {
		t.Errorf("fields %q, want %q", table, want)
	}
	if v.detailTechItem.Open {
		t.Error("Technical details open by default")
	}
	if !strings.Contains(v.detailTech.Text, "Event: PaymentFailed") || !strings.Contains(v.detailTech.Text, "Channel: tenant.1") ||
		!strings.Contains(v.detailPayload.Text(), `"reference": "QK81XYZ"`) {
		t.Errorf("technical details %q / %q", v.detailTech.Text, v.detailPayload.Text())
	}
	f.assertMarkup("history/detail_people.xml")

	// Links in the message can be clicked.
	v.Select(seeded[2].ID)
	f.wait()
	if len(v.detailLinks.Objects) != 1 {
		t.Fatalf("%d links", len(v.detailLinks.Objects))
	}
	if h := v.detailLinks.Objects[0].(*widget.Hyperlink); h.URL.String() != "https://status.example.com/incidents/42" {
		t.Errorf("link %q", h.URL)
	}
}

// TestHistoryNarrowLayout: below narrowWidth the detail moves under the
// list, so neither is squeezed; back to side by side when wide.
func TestHistoryNarrowLayout(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, peopleEntries())
	f := newHistoryFixture(t, st)
	if !f.view.split.Horizontal {
		t.Error("960 px wide: not side by side")
	}
	f.win.Resize(fyne.NewSize(700, 700))
	f.settle()
	if f.view.split.Horizontal {
		t.Fatal("700 px wide: the detail is still beside the list")
	}
	f.view.list.Select(0)
	f.wait()
	if w := f.view.list.Size().Width; w < 650 {
		t.Errorf("narrow: the list is %.0f px wide", w)
	}
	if d := f.view.detail.Position().Y; d < f.view.list.Size().Height {
		t.Errorf("narrow: the detail is not under the list (y %.0f)", d)
	}
	f.assertMarkup("history/narrow.xml")
	f.win.Resize(fyne.NewSize(1000, 600))
	f.settle()
	if !f.view.split.Horizontal {
		t.Error("wide again: not side by side")
	}
}

// TestHistoryBurstShowsEveryEntry: during a burst of 1,000 entry-added
// messages the list shows every entry within 2 s of the last one, drawn
// in batches (not once per entry).
func TestHistoryBurstShowsEveryEntry(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	v := f.view
	// The real scheduling: a flush is queued behind the Added calls
	// already waiting.
	v.schedule = func(fn func()) { go v.runOnUI(fn) }
	var batch []*notify.Entry
	for i := range 1000 {
		batch = append(batch, &notify.Entry{Time: historyNow, Channel: "tenant.1", Event: "PaymentCompleted",
			Type: notify.TypeSuccess, Title: fmt.Sprintf("Payment %d", i), Message: "KES 100"})
	}
	if _, err := st.AddBatch(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, e := range batch {
		// As the ipc reader does: one UI call per message.
		v.runOnUI(func() { v.Added(*e) })
	}
	for len(v.ids) < 1007 {
		if f.q.flush() == 0 {
			time.Sleep(time.Millisecond)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("after 2 s the list shows %d of 1,007", len(v.ids))
		}
	}
	if v.total != 1007 || v.ids[0] != batch[999].ID {
		t.Errorf("total %d, top %d", v.total, v.ids[0])
	}
	t.Logf("1,000 entries listed in %v", time.Since(start))
}

// TestHistoryPerAccount: the view shows only the signed-in account's
// entries; another account signing in sees none of them, from the first
// load on.
func TestHistoryPerAccount(t *testing.T) {
	st := openTestStore(t)
	st.SetAccount("https://billing.example.com#5")
	seed(t, st, peopleEntries()[:3])
	st.SetAccount("https://billing.example.com#9")
	seed(t, st, peopleEntries()[3:4])
	st.SetAccount("")

	f := newHistoryFixtureWith(t, st, func(o *HistoryViewOptions) {
		o.Account, o.AccountKnown = "https://billing.example.com#9", true
	})
	if got := f.listTitles(); !slices.Equal(got, []string{"Invoice ready"}) {
		t.Errorf("account 9 sees %q", got)
	}
	f.view.SetAccount("https://billing.example.com#5")
	f.wait()
	if got := f.listTitles(); len(got) != 3 || slices.Contains(got, "Invoice ready") {
		t.Errorf("account 5 sees %q", got)
	}
	f.view.SetAccount("https://other.example.com#5")
	f.wait()
	if len(f.view.ids) != 0 || f.view.total != 0 {
		t.Errorf("a new account sees %d entries", len(f.view.ids))
	}
}
