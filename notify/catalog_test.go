package notify

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedEvents is every event in the seed's Event Reference tables
// (websocket-integration-guide.md), plus ProfileUpdated from its user
// channel list.
var seedEvents = []string{
	"TenantCreated", "TenantUpdated", "TenantApproved", "TenantSuspended", "TenantRegistered",
	"UserCreated", "UserUpdated", "UserDeleted", "PasswordChanged", "AccountSuspended", "AccountActivated",
	"PaymentCompleted", "PaymentFailed", "HotspotUserCreated", "HotspotUserExpired",
	"SystemNotification", "SystemAlert", "ProfileUpdated",
}

func TestCatalogKnownIsTheSeedList(t *testing.T) {
	want := slices.Clone(seedEvents)
	slices.Sort(want)
	if got := NewCatalog(nil).Known(); !slices.Equal(got, want) {
		t.Fatalf("Known() = %v\nwant %v", got, want)
	}
}

type catalogCase struct {
	name    string // sub-test name
	event   string
	data    string
	typ     Type
	title   string
	message string
}

// catalogCases covers every built-in event with a realistic payload (nested
// the way Laravel serialises event properties, and flat the way
// broadcastWith() sends them) and with its fields missing.
var catalogCases = []catalogCase{
	// Tenant events.
	{"nested", "TenantCreated", `{"tenant":{"id":3,"name":"Acme WiFi","email":"ops@acme.test"}}`,
		TypeSuccess, "Tenant Created", "A new tenant, Acme WiFi, has been created."},
	{"flat", "TenantCreated", `{"id":3,"name":"Acme WiFi"}`,
		TypeSuccess, "Tenant Created", "A new tenant, Acme WiFi, has been created."},
	{"missing", "TenantCreated", `{"tenant":{"id":3}}`,
		TypeSuccess, "Tenant Created", "A new tenant has been created."},
	{"nested", "TenantUpdated", `{"tenant":{"name":"Acme WiFi"}}`,
		TypeInfo, "Tenant Updated", "Tenant details for Acme WiFi have been updated."},
	{"missing", "TenantUpdated", `{}`,
		TypeInfo, "Tenant Updated", "Tenant details have been updated."},
	{"nested", "TenantApproved", `{"tenant":{"name":"Acme WiFi"}}`,
		TypeSuccess, "Tenant Approved", "Acme WiFi has been approved and can now use the platform."},
	{"missing", "TenantApproved", `null`,
		TypeSuccess, "Tenant Approved", "A tenant has been approved and can now use the platform."},
	{"with reason", "TenantSuspended", `{"tenant":{"name":"Acme WiFi"},"reason":"Unpaid invoice."}`,
		TypeWarning, "Tenant Suspended", "Acme WiFi has been suspended: Unpaid invoice."},
	{"no reason", "TenantSuspended", `{"tenant_name":"Acme WiFi"}`,
		TypeWarning, "Tenant Suspended", "Acme WiFi has been suspended."},
	{"missing", "TenantSuspended", `{}`,
		TypeWarning, "Tenant Suspended", "A tenant has been suspended."},
	{"nested", "TenantRegistered", `{"tenant":{"name":"Kilimani Hotspots","email":"a@k.test"}}`,
		TypeWarning, "Tenant Registered", "Kilimani Hotspots has registered and is awaiting approval."},
	{"missing", "TenantRegistered", ``,
		TypeWarning, "Tenant Registered", "A new tenant has registered and is awaiting approval."},

	// User events.
	{"seed example", "UserCreated", `{"user":{"id":7,"name":"John Doe","email":"john@example.com"}}`,
		TypeSuccess, "User Created", "John Doe has been added to the system."},
	{"flat", "UserCreated", `{"id":7,"name":"  John   Doe "}`,
		TypeSuccess, "User Created", "John Doe has been added to the system."},
	{"email only", "UserCreated", `{"user":{"email":"john@example.com"}}`,
		TypeSuccess, "User Created", "john@example.com has been added to the system."},
	{"missing", "UserCreated", `{"user":{"id":7,"name":null}}`,
		TypeSuccess, "User Created", "A new user has been added to the system."},
	{"nested", "UserUpdated", `{"user":{"name":"Mary Wanjiku"}}`,
		TypeInfo, "User Updated", "The details of Mary Wanjiku have been updated."},
	{"missing", "UserUpdated", `{"user":{}}`,
		TypeInfo, "User Updated", "A user's details have been updated."},
	{"nested", "UserDeleted", `{"user":{"name":"John Doe"}}`,
		TypeWarning, "User Deleted", "John Doe has been removed from the system."},
	{"missing", "UserDeleted", `{"user":{"name":"   "}}`,
		TypeWarning, "User Deleted", "A user has been removed from the system."},
	{"any", "PasswordChanged", `{"user":{"id":5}}`,
		TypeInfo, "Password Changed", "Your password has been changed. If this wasn't you, contact your administrator."},
	{"with reason", "AccountSuspended", `{"user":{"id":5},"reason":"Too many failed logins"}`,
		TypeWarning, "Account Suspended", "Your account has been suspended: Too many failed logins."},
	{"missing", "AccountSuspended", `{}`,
		TypeWarning, "Account Suspended", "Your account has been suspended. Contact your administrator for details."},
	{"any", "AccountActivated", `{"user":{"id":5}}`,
		TypeSuccess, "Account Activated", "Your account has been activated."},
	{"any", "ProfileUpdated", `{"user":{"id":5,"name":"Jane"}}`,
		TypeInfo, "Profile Updated", "Your profile has been updated."},

	// Payment events.
	{"nested", "PaymentCompleted", `{"payment":{"id":9,"amount":1500,"currency":"KES","phone_number":"254712345678"}}`,
		TypeSuccess, "Payment Completed", "Payment of KES 1,500.00 from 254712345678 completed successfully."},
	{"flat string amount", "PaymentCompleted", `{"amount":"2500.5","currency":"kes","user":{"name":"Jane Akinyi"}}`,
		TypeSuccess, "Payment Completed", "Payment of KES 2,500.50 from Jane Akinyi completed successfully."},
	{"no currency", "PaymentCompleted", `{"payment":{"amount":1234567.891}}`,
		TypeSuccess, "Payment Completed", "Payment of 1,234,567.89 completed successfully."},
	{"payer only", "PaymentCompleted", `{"payment":{"customer":{"name":"Jane"}}}`,
		TypeSuccess, "Payment Completed", "A payment from Jane completed successfully."},
	{"missing", "PaymentCompleted", `{}`,
		TypeSuccess, "Payment Completed", "A payment completed successfully."},
	{"nested", "PaymentFailed", `{"payment":{"amount":1500,"currency":"KES","phone_number":"254700000001"},"reason":"Insufficient funds."}`,
		TypeError, "Payment Failed", "Payment of KES 1,500.00 from 254700000001 failed: Insufficient funds."},
	{"flat", "PaymentFailed", `{"amount":50,"currency":"UGX"}`,
		TypeError, "Payment Failed", "Payment of UGX 50.00 failed."},
	{"reason only", "PaymentFailed", `{"reason":"Request timed out"}`,
		TypeError, "Payment Failed", "A payment failed: Request timed out."},
	{"missing", "PaymentFailed", `{}`,
		TypeError, "Payment Failed", "A payment failed."},

	// Hotspot events.
	{"nested", "HotspotUserCreated", `{"hotspot_user":{"username":"guest42","package":{"name":"Daily 1GB"}}}`,
		TypeSuccess, "Hotspot User Created", "Hotspot user guest42 has been created (Daily 1GB)."},
	{"camelCase property", "HotspotUserCreated", `{"hotspotUser":{"username":"guest42"}}`,
		TypeSuccess, "Hotspot User Created", "Hotspot user guest42 has been created."},
	{"plan", "HotspotUserCreated", `{"hotspot_user":{"username":"hs053509","phone":"254712053509","plan":"Daily - KES 80"}}`,
		TypeSuccess, "Hotspot User Created", "Hotspot user hs053509 has been created (Daily - KES 80)."},
	{"phone only", "HotspotUserCreated", `{"phone":"254712053509"}`,
		TypeSuccess, "Hotspot User Created", "Hotspot user 254712053509 has been created."},
	{"missing", "HotspotUserCreated", `{"hotspot_user":{}}`,
		TypeSuccess, "Hotspot User Created", "A new hotspot user has been created."},
	{"flat", "HotspotUserExpired", `{"username":"guest42"}`,
		TypeInfo, "Hotspot User Expired", "The session of hotspot user guest42 has expired."},
	{"missing", "HotspotUserExpired", `{}`,
		TypeInfo, "Hotspot User Expired", "A hotspot user's session has expired."},

	// System events take their text and type from the payload.
	{"own text and type", "SystemNotification", `{"title":"Maintenance tonight","message":"The portal is down 22:00-23:00.","type":"warning"}`,
		TypeWarning, "Maintenance tonight", "The portal is down 22:00-23:00."},
	{"message only", "SystemNotification", `{"message":"New price list published"}`,
		TypeInfo, "System Notification", "New price list published"},
	{"missing", "SystemNotification", `{}`,
		TypeInfo, "System Notification", "You have a new system notification."},
	{"critical level", "SystemAlert", `{"title":"Router offline","message":"MikroTik R1 is unreachable","level":"critical"}`,
		TypeError, "Router offline", "MikroTik R1 is unreachable"},
	{"info level", "SystemAlert", `{"message":"Backup finished","level":"info"}`,
		TypeInfo, "System Alert", "Backup finished"},
	{"bare string", "SystemAlert", `"Disk almost full"`,
		TypeWarning, "System Alert", "Disk almost full"},
	{"missing", "SystemAlert", `{"level":"nonsense"}`,
		TypeWarning, "System Alert", "A system alert was raised."},
}

func TestCatalogRendersEveryEvent(t *testing.T) {
	c := NewCatalog(nil)
	covered := map[string]bool{}
	for _, tc := range catalogCases {
		t.Run(tc.event+"/"+tc.name, func(t *testing.T) {
			n := c.Render(tc.event, json.RawMessage(tc.data))
			if n.Event != tc.event || n.Type != tc.typ || n.Title != tc.title || n.Message != tc.message {
				t.Errorf("Render(%s, %s) =\n  %s %s %q %q\nwant\n  %s %s %q %q",
					tc.event, tc.data, n.Event, n.Type, n.Title, n.Message, tc.event, tc.typ, tc.title, tc.message)
			}
			wantTimeout := DefaultTimeout
			if tc.typ == TypeError {
				wantTimeout = 0
			}
			if n.Timeout != wantTimeout {
				t.Errorf("Timeout = %v, want %v", n.Timeout, wantTimeout)
			}
		})
		if strings.HasPrefix(tc.name, "missing") || tc.name == "any" {
			covered[tc.event] = true
		}
	}
	for _, ev := range seedEvents {
		if !covered[ev] {
			t.Errorf("no test case with missing fields for %s", ev)
		}
	}
}

func TestCatalogSeedExampleShownFiveSeconds(t *testing.T) {
	n := NewCatalog(nil).Render(`App\Events\UserCreated`, json.RawMessage(`{"user":{"name":"John Doe"}}`))
	want := Notification{Event: "UserCreated", Type: TypeSuccess, Title: "User Created",
		Message: "John Doe has been added to the system.", Timeout: 5 * time.Second}
	if n != want {
		t.Fatalf("got %+v, want %+v", n, want)
	}
}

// oddPayloads are payload shapes that have broken renderers elsewhere.
var oddPayloads = []string{
	``, `null`, `{}`, `[]`, `"text"`, `42`, `true`, `{"a":`, `not json`,
	`{"user":null,"payment":null,"tenant":null,"amount":null}`,
	`{"user":[],"payment":[],"amount":[]}`,
	`{"user":{"name":{"first":"J"}},"amount":{"value":1}}`,
	`{"user":"John","amount":"lots","currency":"a very long currency"}`,
	`{"name":"{user.name}","message":"%s %!v <nil>","title":"{{x}}"}`,
	`{"data":{"user":{"name":"Wrapped"}}}`,
	`{"user":{"name":"` + strings.Repeat("x", 5000) + `"}}`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
}

func TestCatalogNeverShowsRawSyntax(t *testing.T) {
	c := NewCatalog(nil)
	events := append(slices.Clone(seedEvents), "InvoiceGenerated")
	for _, ev := range events {
		for _, data := range oddPayloads {
			n := c.Render(ev, json.RawMessage(data))
			for _, s := range []string{n.Title, n.Message} {
				if strings.TrimSpace(s) == "" {
					t.Errorf("Render(%s, %.40s): empty text in %+v", ev, data, n)
				}
				for _, bad := range []string{"<nil>", "%!", "map[", "[]", "{user", "{{", "}}", `{"`, "null"} {
					if strings.Contains(s, bad) && !strings.Contains(data, bad) {
						t.Errorf("Render(%s, %.40s) = %q contains %q", ev, data, s, bad)
					}
				}
				if strings.Contains(s, "  ") || strings.Contains(s, " .") || strings.Contains(s, "..") {
					t.Errorf("Render(%s, %.40s) = %q has a gap", ev, data, s)
				}
			}
			if !n.Type.Valid() {
				t.Errorf("Render(%s, %.40s): type %q", ev, data, n.Type)
			}
			if len([]rune(n.Message)) > maxStoredMessageRunes || len([]rune(n.Title)) > maxStoredTitleRunes {
				t.Errorf("Render(%s, %.40s): text not capped", ev, data)
			}
		}
	}
}

func TestCatalogFieldsAreCapped(t *testing.T) {
	long := strings.Repeat("word ", 100)
	n := NewCatalog(nil).Render("UserCreated", json.RawMessage(`{"user":{"name":"`+long+`"}}`))
	name, _, ok := strings.Cut(n.Message, " has been added")
	if !ok || !strings.HasSuffix(name, "…") || len([]rune(name)) > maxFieldRunes {
		t.Fatalf("long name not cut cleanly: %q", n.Message)
	}
}

func TestCatalogUnknownEvent(t *testing.T) {
	c := NewCatalog(nil)
	for _, tc := range []struct {
		event, data string
		typ         Type
		title, msg  string
	}{
		{"InvoiceGenerated", `{"invoice":{"number":"INV-1","amount":500},"event_id":"e1","tenant_id":3}`,
			TypeInfo, "Invoice Generated", "Invoice number: INV-1, Invoice amount: 500"},
		{`App\Events\SMSDelivered`, `{"to":"254712345678","status":"delivered","created_at":"2025-12-03 10:00:00"}`,
			TypeInfo, "SMS Delivered", "To: 254712345678, Status: delivered"},
		{"RouterRebooted", `{"router":{"name":"R1"},"uptime":3,"load":0.5,"users":12}`,
			TypeInfo, "Router Rebooted", "Router: R1, Uptime: 3, Load: 0.5"},
		{"backup.failed", `{"message":"Disk full","level":"error"}`,
			TypeError, "Backup Failed", "Disk full"},
		{"voucher_expired", `{"password":"hunter2","api_token":"t","voucherCode":"ABC"}`,
			TypeWarning, "Voucher Expired", "Voucher code: ABC"},
		{"client-typing", `{}`, TypeInfo, "Client Typing", "No details were sent with this event."},
		{"PlanActivated", `["Daily","Weekly"]`, TypeSuccess, "Plan Activated", "Daily and Weekly"},
	} {
		n := c.Render(tc.event, json.RawMessage(tc.data))
		if n.Type != tc.typ || n.Title != tc.title || n.Message != tc.msg {
			t.Errorf("Render(%s, %s) = %s %q %q, want %s %q %q", tc.event, tc.data, n.Type, n.Title, n.Message, tc.typ, tc.title, tc.msg)
		}
	}
}

func TestCatalogWords(t *testing.T) {
	for in, want := range map[string]string{
		"InvoiceGenerated":    "Invoice Generated",
		"invoice_generated":   "Invoice Generated",
		"invoice.generated":   "Invoice Generated",
		".invoice-generated":  "Invoice Generated",
		"SMSDelivered":        "SMS Delivered",
		`App\Events\Top10Hit`: "Top 10 Hit",
		"":                    "New Event",
		"___":                 "New Event",
	} {
		if got := Words(in); got != want {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCatalogOverrides(t *testing.T) {
	c := NewCatalog(map[string]Override{
		"PaymentCompleted": {Title: "Paid: {payment.amount:money}", Message: "[{payment.phone_number} ]paid {payment.amount:money?something}."},
		"usercreated":      {Message: "Welcome {user.name}!", Type: TypeInfo},
		"UserDeleted":      {Muted: true},
		"TenantCreated":    {Title: "Broken {tenant.name", Type: "loud"},
		"InvoiceGenerated": {Title: "Invoice {invoice.number}", Message: "Amount {invoice.amount:number}"},
	})

	n := c.Render("PaymentCompleted", json.RawMessage(`{"payment":{"amount":99,"currency":"KES","phone_number":"0712"}}`))
	if n.Title != "Paid: KES 99.00" || n.Message != "0712 paid KES 99.00." {
		t.Errorf("override: %q %q", n.Title, n.Message)
	}
	// A title whose field is missing falls back to the built-in; the
	// message's default fills in.
	n = c.Render("PaymentCompleted", json.RawMessage(`{}`))
	if n.Title != "Payment Completed" || n.Message != "paid something." {
		t.Errorf("override with missing fields: %q %q", n.Title, n.Message)
	}
	// Keys match ignoring case; Type overrides.
	n = c.Render("UserCreated", json.RawMessage(`{"user":{"name":"Ann"}}`))
	if n.Type != TypeInfo || n.Title != "User Created" || n.Message != "Welcome Ann!" {
		t.Errorf("case-insensitive override: %+v", n)
	}
	// A broken template and an invalid type are ignored.
	n = c.Render("TenantCreated", json.RawMessage(`{"tenant":{"name":"Acme"}}`))
	if n.Type != TypeSuccess || n.Title != "Tenant Created" {
		t.Errorf("broken override used: %+v", n)
	}
	// Overrides work for events the catalog does not know.
	n = c.Render("InvoiceGenerated", json.RawMessage(`{"invoice":{"number":"INV-7","amount":12500}}`))
	if n.Title != "Invoice INV-7" || n.Message != "Amount 12,500" {
		t.Errorf("unknown-event override: %+v", n)
	}
	if !c.Muted("UserDeleted") || !c.Muted(`App\Events\UserDeleted`) || c.Muted("UserCreated") {
		t.Error("Muted does not follow the overrides")
	}
	// The built-in catalog is untouched by another catalog's overrides.
	if n := NewCatalog(nil).Render("UserCreated", json.RawMessage(`{"user":{"name":"Ann"}}`)); n.Message != "Ann has been added to the system." {
		t.Errorf("built-in changed: %q", n.Message)
	}
}

func TestCatalogValidateOverrides(t *testing.T) {
	if err := ValidateOverrides(map[string]Override{
		"UserCreated": {Title: "{user.name|name?someone} joined", Message: "[from {x}]", Type: TypeInfo},
	}); err != nil {
		t.Errorf("valid overrides rejected: %v", err)
	}
	err := ValidateOverrides(map[string]Override{
		"TenantCreated": {Title: "Broken {tenant.name"},
		"UserCreated":   {Message: "{amount:euro}", Type: "loud"},
	})
	if err == nil {
		t.Fatal("invalid overrides accepted")
	}
	for _, want := range []string{"TenantCreated", "title", "not closed", "UserCreated", `unknown format "euro"`, `type "loud"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestCatalogUrgencyFromType(t *testing.T) {
	for typ, want := range map[Type]Urgency{
		TypeError: UrgencyCritical, TypeWarning: UrgencyNormal, TypeSuccess: UrgencyNormal, TypeInfo: UrgencyNormal,
	} {
		if got := typ.Urgency(); got != want {
			t.Errorf("%s.Urgency() = %d, want %d", typ, got, want)
		}
	}
}
