package notify

import (
	"encoding/json"
	"slices"
	"strings"
)

// Words for people: what a channel is ("Tenant", "Personal") and what kind
// of thing an event is about ("Payments", "Users"), so the history window
// never shows channel names or class names where staff look.

// ChannelKind is what a channel carries, as people know it.
type ChannelKind string

// The channel kinds. Their values match app/ipc ChannelState.Kind.
const (
	KindTenant        ChannelKind = "tenant"        // tenant.{id}: the tenant's business events
	KindPersonal      ChannelKind = "personal"      // private-user.{id}: the user's own account
	KindAdmin         ChannelKind = "admin"         // private-system.admin: system administrators
	KindNotifications ChannelKind = "notifications" // private-App.Models.User.{id}: Laravel notifications
	KindOther         ChannelKind = "extra"         // any other channel a deployment adds
)

// KindOfChannel returns the kind of a channel by its name, with or without
// the private-, private-encrypted- or presence- prefix. An empty name (an
// entry EchoTray made itself, such as a connection gap) is KindOther.
func KindOfChannel(channel string) ChannelKind {
	name := strings.TrimSpace(channel)
	for _, p := range []string{"private-encrypted-", "private-", "presence-"} {
		if strings.HasPrefix(name, p) {
			name = name[len(p):]
			break
		}
	}
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "tenant."):
		return KindTenant
	case strings.HasPrefix(lower, "user."):
		return KindPersonal
	case strings.HasPrefix(lower, "system."):
		return KindAdmin
	case strings.Contains(lower, "models.user."):
		return KindNotifications
	}
	return KindOther
}

// Label is the kind in words: "Tenant", "Personal", "System admin",
// "Notifications" or "Other".
func (k ChannelKind) Label() string {
	switch k {
	case KindTenant:
		return "Tenant"
	case KindPersonal:
		return "Personal"
	case KindAdmin:
		return "System admin"
	case KindNotifications:
		return "Notifications"
	}
	return "Other"
}

// ChannelLabel is the kind of channel in words; "EchoTray" for an entry
// without a channel (one EchoTray made itself).
func ChannelLabel(channel string) string {
	if strings.TrimSpace(channel) == "" {
		return "EchoTray"
	}
	return KindOfChannel(channel).Label()
}

// Category is what an event is about, for the history's filter.
type Category string

// The event categories, in the order the filter offers them.
const (
	CategoryPayments Category = "payments"
	CategoryUsers    Category = "users"
	CategoryHotspot  Category = "hotspot"
	CategoryTenants  Category = "tenants"
	CategoryAccount  Category = "account"
	CategorySystem   Category = "system"
)

// Categories lists every category in the filter's order.
func Categories() []Category {
	return []Category{CategoryPayments, CategoryUsers, CategoryHotspot, CategoryTenants, CategoryAccount, CategorySystem}
}

// Label is the category in words: "Payments", "Users", "Hotspot users",
// "Tenants", "Account", "System".
func (c Category) Label() string {
	switch c {
	case CategoryPayments:
		return "Payments"
	case CategoryUsers:
		return "Users"
	case CategoryHotspot:
		return "Hotspot users"
	case CategoryTenants:
		return "Tenants"
	case CategoryAccount:
		return "Account"
	case CategorySystem:
		return "System"
	}
	return string(c)
}

// ConnectionGapEvent is the event name of the entry EchoTray stores when it
// was offline and may have missed events.
const ConnectionGapEvent = "ConnectionGap"

// LaravelNotificationEvent is the short name of the event Laravel
// broadcasts a user's notification with.
const LaravelNotificationEvent = "BroadcastNotificationCreated"

// eventCategories maps every known event (short name) to its category: the
// 18 events of the backend's Event Reference, ProfileUpdated, Laravel
// notifications and EchoTray's own connection gap.
var eventCategories = map[string]Category{
	"PaymentCompleted":       CategoryPayments,
	"PaymentFailed":          CategoryPayments,
	"UserCreated":            CategoryUsers,
	"UserUpdated":            CategoryUsers,
	"UserDeleted":            CategoryUsers,
	"HotspotUserCreated":     CategoryHotspot,
	"HotspotUserExpired":     CategoryHotspot,
	"TenantCreated":          CategoryTenants,
	"TenantUpdated":          CategoryTenants,
	"TenantApproved":         CategoryTenants,
	"TenantSuspended":        CategoryTenants,
	"TenantRegistered":       CategoryTenants,
	"PasswordChanged":        CategoryAccount,
	"AccountSuspended":       CategoryAccount,
	"AccountActivated":       CategoryAccount,
	"ProfileUpdated":         CategoryAccount,
	LaravelNotificationEvent: CategoryAccount, // sent to this user
	"SystemNotification":     CategorySystem,
	"SystemAlert":            CategorySystem,
	ConnectionGapEvent:       CategorySystem,
	EventUndecryptable:       CategorySystem,
}

// EventCategory returns the category of an event (short or namespaced
// name). Unknown events are placed by their name's first word (Payment…,
// Hotspot…, Tenant…, User…, Account…); the rest are System.
func EventCategory(event string) Category {
	name := ShortName(event)
	if c, ok := eventCategories[name]; ok {
		return c
	}
	for _, p := range []struct {
		prefix string
		c      Category
	}{
		{"Payment", CategoryPayments}, {"Hotspot", CategoryHotspot}, {"Tenant", CategoryTenants},
		{"User", CategoryUsers}, {"Account", CategoryAccount}, {"Password", CategoryAccount}, {"Profile", CategoryAccount},
	} {
		if strings.HasPrefix(name, p.prefix) {
			return p.c
		}
	}
	return CategorySystem
}

// CategoryEvents lists the known events of a category, sorted: what a
// history query filters by (unknown events are not listed).
func CategoryEvents(c Category) []string {
	var out []string
	for name, cat := range eventCategories {
		if cat == c {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Field is one labelled value of a payload, for the history's detail pane.
type Field struct {
	Label string // "Amount", "Phone", …
	Value string // display text, e.g. "KES 1,500.00"
}

// detailField is a field the detail pane looks for: a label and a template
// of the paths to try.
type detailField struct {
	label string
	tmpl  *Template
}

// detailFields are the known payload fields, in the order shown.
var detailFields = func() []detailField {
	specs := []struct{ label, tmpl string }{
		{"Amount", "{" + fAmount + ":money}"},
		{"Phone", "{payment.phone_number|payment.phone|hotspot_user.phone_number|hotspot_user.phone|phone_number|phone|msisdn}"},
		{"Reference", "{payment.reference|payment.mpesa_reference|payment.mpesa_receipt|payment.receipt|payment.transaction_id|" +
			"transaction.reference|transaction.id|reference|mpesa_reference|mpesa_receipt|mpesa_code|receipt|receipt_number|transaction_id|transaction_code}"},
		{"Customer", "{payment.customer_name|payment.customer|customer_name|customer|payer}"},
		{"Package", "{payment.package|payment.plan|" + fPackage + "}"},
		{"Hotspot user", "{hotspot_user.username|hotspot_user.name}"},
		{"User", "{user.name|user.full_name|user.username|user|user_name|username|full_name}"},
		{"E-mail", "{user.email|email}"},
		{"Tenant", "{tenant.name|tenant.company_name|tenant.business_name|tenant_name|company_name|business_name}"},
		{"Reason", "{reason|payment.failure_reason|payment.reason|payment.error|failure_reason|suspension_reason|tenant.suspension_reason|error}"},
		{"Status", "{payment.status|status}"},
		{"Expires", "{hotspot_user.expires_at|expires_at|expiry:date}"},
	}
	out := make([]detailField, len(specs))
	for i, s := range specs {
		out[i] = detailField{label: s.label, tmpl: mustTemplate(s.tmpl)}
	}
	return out
}()

// DetailFields returns the known fields of a payload in words ("Amount":
// "KES 1,500.00", "Phone": "254712345678", …), in a fixed order, each value
// once. A payload that is not a JSON object gives none.
func DetailFields(data json.RawMessage) []Field {
	p := parsePayload(data)
	if p.root == nil {
		return nil
	}
	var out []Field
	seen := map[string]bool{}
	for _, f := range detailFields {
		v, ok := f.tmpl.render(p)
		if !ok || strings.TrimSpace(v) == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, Field{Label: f.label, Value: v})
	}
	return out
}
