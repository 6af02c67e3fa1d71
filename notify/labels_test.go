package notify

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestKindOfChannel(t *testing.T) {
	for _, tc := range []struct {
		name, channel string
		kind          ChannelKind
		label         string
	}{
		{"tenant", "tenant.1", KindTenant, "Tenant"},
		{"encrypted tenant", "private-encrypted-tenant.12", KindTenant, "Tenant"},
		{"personal", "private-user.5", KindPersonal, "Personal"},
		{"personal without prefix", "user.5", KindPersonal, "Personal"},
		{"admin", "private-system.admin", KindAdmin, "System admin"},
		{"laravel notifications", "private-App.Models.User.5", KindNotifications, "Notifications"},
		{"presence", "presence-tenant.3", KindTenant, "Tenant"},
		{"other", "private-routers.7", KindOther, "Other"},
		{"none", "", KindOther, "EchoTray"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOfChannel(tc.channel); got != tc.kind {
				t.Errorf("KindOfChannel(%q) = %q, want %q", tc.channel, got, tc.kind)
			}
			if got := ChannelLabel(tc.channel); got != tc.label {
				t.Errorf("ChannelLabel(%q) = %q, want %q", tc.channel, got, tc.label)
			}
		})
	}
}

// seedCategories places the 18 events of the seed (seedEvents).
var seedCategories = map[string]Category{
	"TenantCreated": CategoryTenants, "TenantUpdated": CategoryTenants, "TenantApproved": CategoryTenants,
	"TenantSuspended": CategoryTenants, "UserCreated": CategoryUsers, "UserUpdated": CategoryUsers,
	"UserDeleted": CategoryUsers, "PasswordChanged": CategoryAccount, "AccountSuspended": CategoryAccount,
	"AccountActivated": CategoryAccount, "PaymentCompleted": CategoryPayments, "PaymentFailed": CategoryPayments,
	"HotspotUserCreated": CategoryHotspot, "HotspotUserExpired": CategoryHotspot,
	"SystemNotification": CategorySystem, "SystemAlert": CategorySystem, "TenantRegistered": CategoryTenants, "ProfileUpdated": CategoryAccount,
}

func TestEventCategory(t *testing.T) {
	for _, ev := range seedEvents {
		if _, ok := seedCategories[ev]; !ok {
			t.Errorf("seed event %q has no expected category here", ev)
		}
	}
	for ev, want := range seedCategories {
		if got := EventCategory(ev); got != want {
			t.Errorf("EventCategory(%q) = %q, want %q", ev, got, want)
		}
		if got := EventCategory(`App\Events\` + ev); got != want {
			t.Errorf("EventCategory(namespaced %q) = %q, want %q", ev, got, want)
		}
		if !slices.Contains(CategoryEvents(want), ev) {
			t.Errorf("CategoryEvents(%q) lacks %q", want, ev)
		}
	}
	for ev, want := range map[string]Category{
		`Illuminate\Notifications\Events\BroadcastNotificationCreated`: CategoryAccount,
		"ConnectionGap":       CategorySystem,
		"PaymentReversed":     CategoryPayments,
		"HotspotVoucherSold":  CategoryHotspot,
		"RouterOffline":       CategorySystem,
		"UserPasswordExpired": CategoryUsers,
	} {
		if got := EventCategory(ev); got != want {
			t.Errorf("EventCategory(%q) = %q, want %q", ev, got, want)
		}
	}
	// Every category has a label and known events; every catalog event
	// has a category listed.
	for _, c := range Categories() {
		if c.Label() == string(c) || len(CategoryEvents(c)) == 0 {
			t.Errorf("category %q: label %q, events %v", c, c.Label(), CategoryEvents(c))
		}
	}
	for _, ev := range NewCatalog(nil).Known() {
		if _, ok := eventCategories[ev]; !ok {
			t.Errorf("catalog event %q has no category of its own", ev)
		}
	}
}

func TestDetailFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want []Field
	}{
		{"payment", `{"payment":{"amount":1500,"currency":"KES","phone_number":"254712345678","reference":"QK81XYZ","status":"failed"},"reason":"Insufficient funds"}`,
			[]Field{{"Amount", "KES 1,500.00"}, {"Phone", "254712345678"}, {"Reference", "QK81XYZ"}, {"Reason", "Insufficient funds"}, {"Status", "failed"}}},
		{"hotspot", `{"hotspot_user":{"username":"guest42","package":"Daily 1GB","phone_number":"0712345678"},"tenant":{"name":"Kisumu Pier"}}`,
			[]Field{{"Phone", "0712345678"}, {"Package", "Daily 1GB"}, {"Hotspot user", "guest42"}, {"Tenant", "Kisumu Pier"}}},
		{"payment with a package", `{"payment":{"amount":"350","currency":"KES","package":"Weekly - KES 350","customer_name":"Jane Wanjiru"}}`,
			[]Field{{"Amount", "KES 350.00"}, {"Customer", "Jane Wanjiru"}, {"Package", "Weekly - KES 350"}}},
		{"user", `{"user":{"id":3,"name":"Otieno Mwangi","email":"otieno@example.com"}}`,
			[]Field{{"User", "Otieno Mwangi"}, {"E-mail", "otieno@example.com"}}},
		{"not an object", `[1,2,3]`, nil},
		{"empty", ``, nil},
		{"unknown fields", `{"router":{"id":7}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DetailFields(json.RawMessage(tc.data))
			if !slices.Equal(got, tc.want) {
				t.Errorf("DetailFields = %v, want %v", got, tc.want)
			}
		})
	}
}
