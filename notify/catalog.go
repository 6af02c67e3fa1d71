package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Display times. Success, info and warning notifications stay 5 s, as the web
// frontend's toasts do. Errors get 0, which means "the server's default":
// they are sent with critical urgency, and freedesktop servers keep critical
// notifications until the user dismisses them.
const (
	DefaultTimeout = 5 * time.Second
	ErrorTimeout   = 0
)

// Length caps of rendered text kept in the history (the desktop bubble cuts
// further, to MaxTitleRunes and MaxBodyRunes).
const (
	maxStoredTitleRunes   = 200
	maxStoredMessageRunes = 1000
)

// Notification is an event rendered for people: what the history stores and
// what the desktop bubble shows.
type Notification struct {
	Event   string        // short event name, e.g. "UserCreated"
	Type    Type          // success, info, warning or error
	Title   string        // e.g. "User Created"
	Message string        // e.g. "John Doe has been added to the system."
	Timeout time.Duration // display time; 0 = the notification server's default
}

// Override replaces parts of the built-in catalog for one event, from the
// user's config file. Title and Message are templates (see Template); a
// template that cannot be filled from a payload falls back to the built-in
// text. Type, when valid, replaces the built-in type. Muted silences the
// event on the desktop (it is still kept in the history).
type Override struct {
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	Type    Type   `json:"type,omitempty"`
	Muted   bool   `json:"muted,omitempty"`
}

// Validate reports the problems of o: templates that don't parse and an
// unknown type. The catalog ignores the bad parts of an override; Validate
// lets the app tell the user about them.
func (o Override) Validate() error {
	var errs []error
	if o.Title != "" {
		if _, err := ParseTemplate(o.Title); err != nil {
			errs = append(errs, fmt.Errorf("title: %w", err))
		}
	}
	if o.Message != "" {
		if _, err := ParseTemplate(o.Message); err != nil {
			errs = append(errs, fmt.Errorf("message: %w", err))
		}
	}
	if o.Type != "" && !o.Type.Valid() {
		errs = append(errs, fmt.Errorf("type %q: want success, info, warning or error", o.Type))
	}
	return errors.Join(errs...)
}

// ValidateOverrides validates every override (see Override.Validate), naming
// the event of each problem.
func ValidateOverrides(overrides map[string]Override) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if err := overrides[name].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("notification override for %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Catalog renders events into notifications: the built-in table for every
// event of the backend, the user's overrides on top, and a generic rendering
// for events it does not know. It is safe for concurrent use.
type Catalog struct {
	overrides map[string]compiledOverride // by lower-case event name
}

type compiledOverride struct {
	title, message *Template
	typ            Type
	muted          bool
}

// NewCatalog returns the built-in catalog with overrides applied (keys are
// short event names, matched ignoring case). Unparseable templates and
// invalid types in an override are ignored; see ValidateOverrides.
func NewCatalog(overrides map[string]Override) *Catalog {
	c := &Catalog{overrides: make(map[string]compiledOverride, len(overrides))}
	for name, o := range overrides {
		var co compiledOverride
		if o.Title != "" {
			co.title, _ = ParseTemplate(o.Title)
		}
		if o.Message != "" {
			co.message, _ = ParseTemplate(o.Message)
		}
		if o.Type.Valid() {
			co.typ = o.Type
		}
		co.muted = o.Muted
		c.overrides[strings.ToLower(ShortName(name))] = co
	}
	return c
}

// Known returns every built-in event name, sorted.
func (c *Catalog) Known() []string {
	names := make([]string, 0, len(builtins))
	for name := range builtins {
		if name != EventUndecryptable { // EchoTray's own, not the backend's
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Muted reports whether the user's overrides mute event.
func (c *Catalog) Muted(event string) bool {
	if c == nil {
		return false
	}
	return c.overrides[strings.ToLower(ShortName(event))].muted
}

// Render turns an event and its payload into a notification. It never fails:
// missing payload fields give a sentence without them, and unknown events get
// their name split into words as the title and a short summary of the
// payload as the message. A namespaced name (`App\Events\UserCreated`) is
// shortened first.
func (c *Catalog) Render(event string, data json.RawMessage) Notification {
	return c.render(ShortName(event), parsePayload(data))
}

// render is Render for a short name and a decoded payload: the built-in
// table's text (or a summary of an unknown event), then the user's override.
func (c *Catalog) render(name string, p payload) Notification {
	return c.renderWith(name, p, renderBase, "New Event")
}

// renderBase renders name from the built-in table, or summarises an event
// it does not describe.
func renderBase(name string, p payload) Notification {
	if b := lookupBuiltin(name); b != nil {
		return b.render(p)
	}
	return renderUnknown(name, p)
}

// noDetails is the message of an unknown event with nothing to summarise.
const noDetails = "No details were sent with this event."

func timeoutFor(t Type) time.Duration {
	if t == TypeError {
		return ErrorTimeout
	}
	return DefaultTimeout
}

// ShortName strips a PHP namespace: `App\Events\UserCreated` → "UserCreated".
// Names without a backslash (including Echo's dotted custom names) are kept.
func ShortName(event string) string {
	event = strings.TrimSpace(event)
	if i := strings.LastIndexByte(event, '\\'); i >= 0 {
		event = event[i+1:]
	}
	return strings.TrimPrefix(event, ".")
}

// category returns the singular and plural noun that counts event in a
// flood summary ("8 payments, 4 users").
func (c *Catalog) category(event string) (one, many string) {
	if b := lookupBuiltin(ShortName(event)); b != nil {
		return b.noun[0], b.noun[1]
	}
	return "other event", "other events"
}

// builtin is one event of the built-in catalog.
type builtin struct {
	typ      Type
	titles   []*Template // variants: the first that renders wins
	messages []*Template
	typeFrom []string // payload fields whose value may set the type
	noun     [2]string
}

func (b *builtin) render(p payload) Notification {
	n := Notification{Type: b.typ}
	if t, ok := p.level(b.typeFrom...); ok {
		n.Type = t
	}
	n.Title = firstRendered(b.titles, p)
	n.Message = firstRendered(b.messages, p)
	return n
}

func firstRendered(variants []*Template, p payload) string {
	for _, t := range variants {
		if s, ok := t.render(p); ok {
			return s
		}
	}
	return ""
}

// level returns the Type named by the first of paths whose value is a
// level typeFromLevel knows.
func (p payload) level(paths ...string) (Type, bool) {
	for _, path := range paths {
		if s, ok := p.str(path); ok {
			if t, ok := typeFromLevel(s); ok {
				return t, true
			}
		}
	}
	return "", false
}

// typeFromLevel maps a payload's "type"/"level"/"severity" to a Type:
// Laravel/PSR log levels, toast types and common synonyms.
func typeFromLevel(level string) (Type, bool) {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "success", "ok", "succeeded", "completed", "resolved":
		return TypeSuccess, true
	case "info", "information", "notice", "debug", "normal", "low":
		return TypeInfo, true
	case "warning", "warn", "medium", "high":
		return TypeWarning, true
	case "error", "danger", "critical", "crit", "alert", "emergency", "emerg", "fatal", "failure", "failed", "urgent":
		return TypeError, true
	}
	return "", false
}

// Field alternatives shared by the built-in templates. Laravel broadcasts
// either the public properties of the event (a model under its property
// name: {"user": {...}}) or a flat broadcastWith() array ({"name": ...}).
const (
	fTenant  = "tenant.name|tenant.company_name|tenant.business_name|tenant|tenant_name|company_name|business_name|name"
	fUser    = "user|name|full_name|username|email"
	fAmount  = "payment.amount|transaction.amount|amount"
	fPayer   = "payment.customer_name|payment.customer|payment.user|payment.phone_number|payment.phone|customer|customer_name|user|phone_number|phone|payer"
	fReason  = "reason|payment.failure_reason|payment.reason|payment.error|failure_reason|error|message"
	fHotspot = "hotspot_user.username|hotspot_user.phone_number|hotspot_user.name|username|user.username|phone_number|phone"
	fPackage = "hotspot_user.package|hotspot_user.plan|package|plan|package_name|plan_name"
	fSuspend = "reason|tenant.suspension_reason|suspension_reason"
)

// spec is the source form of a builtin.
type spec struct {
	typ      Type
	titles   []string
	messages []string
	typeFrom []string
	noun     [2]string
}

// catalogSpec is the built-in catalog: one entry for every event of the
// backend's Event Reference.
var catalogSpec = map[string]spec{
	// Tenant events.
	"TenantCreated": {
		typ:      TypeSuccess,
		titles:   []string{"Tenant Created"},
		messages: []string{"A new tenant, {" + fTenant + "}, has been created.", "A new tenant has been created."},
		noun:     [2]string{"tenant", "tenants"},
	},
	"TenantUpdated": {
		typ:      TypeInfo,
		titles:   []string{"Tenant Updated"},
		messages: []string{"Tenant details for {" + fTenant + "} have been updated.", "Tenant details have been updated."},
		noun:     [2]string{"tenant", "tenants"},
	},
	"TenantApproved": {
		typ:      TypeSuccess,
		titles:   []string{"Tenant Approved"},
		messages: []string{"{" + fTenant + "} has been approved and can now use the platform.", "A tenant has been approved and can now use the platform."},
		noun:     [2]string{"tenant", "tenants"},
	},
	"TenantSuspended": {
		typ:      TypeWarning,
		titles:   []string{"Tenant Suspended"},
		messages: []string{"{" + fTenant + "} has been suspended[: {" + fSuspend + "}].", "A tenant has been suspended[: {" + fSuspend + "}]."},
		noun:     [2]string{"tenant", "tenants"},
	},
	"TenantRegistered": {
		// A warning: a registration waits for an admin to act on it.
		typ:      TypeWarning,
		titles:   []string{"Tenant Registered"},
		messages: []string{"{" + fTenant + "} has registered and is awaiting approval.", "A new tenant has registered and is awaiting approval."},
		noun:     [2]string{"tenant registration", "tenant registrations"},
	},

	// User events.
	"UserCreated": {
		typ:      TypeSuccess,
		titles:   []string{"User Created"},
		messages: []string{"{" + fUser + "} has been added to the system.", "A new user has been added to the system."},
		noun:     [2]string{"user", "users"},
	},
	"UserUpdated": {
		typ:      TypeInfo,
		titles:   []string{"User Updated"},
		messages: []string{"The details of {" + fUser + "} have been updated.", "A user's details have been updated."},
		noun:     [2]string{"user", "users"},
	},
	"UserDeleted": {
		typ:      TypeWarning,
		titles:   []string{"User Deleted"},
		messages: []string{"{" + fUser + "} has been removed from the system.", "A user has been removed from the system."},
		noun:     [2]string{"user", "users"},
	},
	"PasswordChanged": {
		typ:      TypeInfo,
		titles:   []string{"Password Changed"},
		messages: []string{"Your password has been changed. If this wasn't you, contact your administrator."},
		noun:     [2]string{"account update", "account updates"},
	},
	"AccountSuspended": {
		typ:    TypeWarning,
		titles: []string{"Account Suspended"},
		messages: []string{
			"Your account has been suspended: {reason}.",
			"Your account has been suspended. Contact your administrator for details.",
		},
		noun: [2]string{"account update", "account updates"},
	},
	"AccountActivated": {
		typ:      TypeSuccess,
		titles:   []string{"Account Activated"},
		messages: []string{"Your account has been activated."},
		noun:     [2]string{"account update", "account updates"},
	},
	"ProfileUpdated": {
		typ:      TypeInfo,
		titles:   []string{"Profile Updated"},
		messages: []string{"Your profile has been updated."},
		noun:     [2]string{"account update", "account updates"},
	},

	// Payment events.
	"PaymentCompleted": {
		typ:    TypeSuccess,
		titles: []string{"Payment Completed"},
		messages: []string{
			"Payment of {" + fAmount + ":money}[ from {" + fPayer + "}] completed successfully.",
			"A payment[ from {" + fPayer + "}] completed successfully.",
		},
		noun: [2]string{"payment", "payments"},
	},
	"PaymentFailed": {
		typ:    TypeError,
		titles: []string{"Payment Failed"},
		messages: []string{
			"Payment of {" + fAmount + ":money}[ from {" + fPayer + "}] failed[: {" + fReason + "}].",
			"A payment[ from {" + fPayer + "}] failed[: {" + fReason + "}].",
		},
		noun: [2]string{"failed payment", "failed payments"},
	},

	// Hotspot events.
	"HotspotUserCreated": {
		typ:    TypeSuccess,
		titles: []string{"Hotspot User Created"},
		messages: []string{
			"Hotspot user {" + fHotspot + "} has been created[ ({" + fPackage + "})].",
			"A new hotspot user has been created[ ({" + fPackage + "})].",
		},
		noun: [2]string{"hotspot user", "hotspot users"},
	},
	"HotspotUserExpired": {
		typ:    TypeInfo,
		titles: []string{"Hotspot User Expired"},
		messages: []string{
			"The session of hotspot user {" + fHotspot + "} has expired.",
			"A hotspot user's session has expired.",
		},
		noun: [2]string{"hotspot user", "hotspot users"},
	},

	// System events: the payload says what to show.
	"SystemNotification": {
		typ:      TypeInfo,
		titles:   []string{"{title|subject|notification.title}", "System Notification"},
		messages: []string{"{message|body|text|content|description|notification.message|notification.body}", "You have a new system notification."},
		typeFrom: []string{"type", "level", "severity", "notification.type"},
		noun:     [2]string{"message", "messages"},
	},
	// An event on an encrypted channel that could not be decrypted (the
	// service renames it; "event" is the original short name).
	EventUndecryptable: {
		typ:      TypeWarning,
		titles:   []string{"Message Could Not Be Read"},
		messages: []string{"A message[ ({event})] could not be decrypted, so its content is unknown. If this keeps happening, ask your administrator to check the encryption settings."},
		noun:     [2]string{"unreadable message", "unreadable messages"},
	},
	"SystemAlert": {
		typ:      TypeWarning,
		titles:   []string{"{title|subject|alert.title}", "System Alert"},
		messages: []string{"{message|body|text|description|details|alert.message}", "A system alert was raised."},
		typeFrom: []string{"level", "severity", "type", "alert.level"},
		noun:     [2]string{"alert", "alerts"},
	},
}

// EventUndecryptable is the event name the history and notifications get
// for an event that could not be decrypted.
const EventUndecryptable = "MessageNotDecrypted"

// builtins is catalogSpec with its templates parsed.
var builtins = func() map[string]*builtin {
	m := make(map[string]*builtin, len(catalogSpec))
	for name, s := range catalogSpec {
		b := &builtin{typ: s.typ, typeFrom: s.typeFrom, noun: s.noun}
		for _, t := range s.titles {
			b.titles = append(b.titles, mustTemplate(t))
		}
		for _, t := range s.messages {
			b.messages = append(b.messages, mustTemplate(t))
		}
		m[name] = b
	}
	return m
}()

// lookupBuiltin finds a built-in event by exact name, else ignoring case.
func lookupBuiltin(name string) *builtin {
	if b, ok := builtins[name]; ok {
		return b
	}
	for k, b := range builtins {
		if strings.EqualFold(k, name) {
			return b
		}
	}
	return nil
}

// renderUnknown renders an event the catalog doesn't know: its name in words
// as the title, and the payload's own message or a summary of its first few
// fields as the message. The type comes from the payload's level, else from
// the name ("…Failed" is an error).
func renderUnknown(name string, p payload) Notification {
	n := Notification{Type: TypeInfo, Title: Words(name)}
	if t, ok := typeFromName(name); ok {
		n.Type = t
	}
	if t, ok := p.level("level", "severity", "type"); ok {
		n.Type = t
	}
	if s, ok := p.strN(maxStoredMessageRunes, "message", "body", "text", "description"); ok {
		n.Message = s
	} else {
		n.Message = summarise(p)
	}
	return n
}

// typeFromName guesses a type from the last word of an event name.
func typeFromName(name string) (Type, bool) {
	if len(name) > maxWordsInput { // only the end matters
		i := len(name) - maxWordsInput
		for i < len(name) && !utf8.RuneStart(name[i]) {
			i++
		}
		name = name[i:]
	}
	words := strings.Fields(Words(name))
	if len(words) == 0 {
		return "", false
	}
	switch strings.ToLower(words[len(words)-1]) {
	case "failed", "failure", "error", "errored", "rejected", "declined":
		return TypeError, true
	case "suspended", "expired", "deleted", "removed", "cancelled", "canceled", "revoked", "blocked", "warning":
		return TypeWarning, true
	case "created", "completed", "approved", "activated", "succeeded", "added", "paid", "registered":
		return TypeSuccess, true
	}
	return "", false
}

// Words splits an event name into title-cased words: "InvoiceGenerated",
// "invoice_generated", "invoice.generated" and "invoice-generated" all give
// "Invoice Generated"; acronyms stay whole ("SMSDelivered" → "SMS
// Delivered"). Only the first maxWordsInput bytes of a name are read: a
// title is cut far shorter anyway, and a server may send names of any
// length.
func Words(name string) string {
	name = ShortName(name)
	if len(name) > maxWordsInput {
		i := maxWordsInput
		for i > 0 && !utf8.RuneStart(name[i]) {
			i--
		}
		name = name[:i]
	}
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ':' || unicode.IsSpace(r):
			flush()
			continue
		case unicode.IsUpper(r) && len(cur) > 0:
			prev := cur[len(cur)-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		case unicode.IsDigit(r) && len(cur) > 0 && !unicode.IsDigit(cur[len(cur)-1]):
			flush()
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		cur = append(cur, r)
	}
	flush()
	for i, w := range words {
		rw := []rune(w)
		rw[0] = unicode.ToUpper(rw[0])
		words[i] = string(rw)
	}
	if len(words) == 0 {
		return "New Event"
	}
	return CleanText(strings.Join(words, " "))
}

// maxWordsInput is how much of a name Words reads, in bytes.
const maxWordsInput = 1024

// summaryMaxFields is how many payload fields an unknown event's message
// lists.
const summaryMaxFields = 3

// summarise describes a payload in a few "Field: value" pairs, in the
// payload's own order, leaving out ids, timestamps and secrets.
func summarise(p payload) string {
	var parts []string
	add := func(label, value string) bool {
		parts = append(parts, label+": "+value)
		return len(parts) >= summaryMaxFields
	}
	switch root := p.root.(type) {
	case *object:
	outer:
		for _, k := range root.keys {
			if skipSummaryKey(k) {
				continue
			}
			label := humanKey(k)
			switch v := root.vals[k].(type) {
			case *object:
				if s, ok := display(v); ok {
					if add(label, s) {
						break outer
					}
					continue
				}
				for _, sk := range v.keys {
					if skipSummaryKey(sk) {
						continue
					}
					if s, ok := scalarText(v.vals[sk]); ok {
						if add(label+" "+strings.ToLower(humanKey(sk)), s) {
							break outer
						}
					}
				}
			default:
				if s, ok := display(v); ok {
					if add(label, s) {
						break outer
					}
				}
			}
		}
	case []any:
		if s, ok := display(root); ok {
			return s
		}
		if len(root) > 0 {
			return fmt.Sprintf("%d items were sent with this event.", len(root))
		}
	case json.Number, bool:
		if s, ok := display(root); ok {
			return s
		}
	}
	if len(parts) == 0 {
		return noDetails
	}
	return strings.Join(parts, ", ")
}

// skipSummaryKey reports keys that mean nothing to a reader or must not be
// shown: ids, timestamps, socket ids and secrets.
func skipSummaryKey(k string) bool {
	n := normKey(k)
	switch n {
	case "id", "uuid", "eventid", "socket", "socketid", "timestamp", "createdat", "updatedat", "deletedat",
		"password", "token", "secret", "apikey", "accesstoken", "remembertoken", "level", "severity", "type":
		return true
	}
	lower := strings.ToLower(k)
	return strings.HasSuffix(lower, "_id") || strings.HasSuffix(k, "Id") || strings.HasSuffix(lower, "_at") ||
		strings.Contains(n, "password") || strings.Contains(n, "token") || strings.Contains(n, "secret")
}

// humanKey turns "invoice_number" or "invoiceNumber" into "Invoice number".
func humanKey(k string) string {
	w := strings.ToLower(Words(k))
	if w == "" || w == "new event" {
		return "Value"
	}
	r := []rune(w)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// Laravel notifications. A notification sent through Laravel's broadcast
// channel arrives as this event on the user's notification channel
// (private-App.Models.User.{id} by default), with the notification's data
// plus "id" (its UUID, also its row in the notifications table) and "type"
// (the notification class).
const (
	// NotificationEvent is the event Laravel broadcasts a notification as.
	NotificationEvent = `Illuminate\Notifications\Events\BroadcastNotificationCreated`
	// notificationShort is its short name.
	notificationShort = "BroadcastNotificationCreated"
	// NotificationKeyPrefix starts the history key of a Laravel
	// notification: the same whether it arrived live or at catch-up.
	NotificationKeyPrefix = "notification/"
)

// IsNotificationEvent reports whether event (short or namespaced) is
// Laravel's broadcast notification event.
func IsNotificationEvent(event string) bool {
	return strings.EqualFold(ShortName(event), notificationShort)
}

// NotificationKey is the history de-duplication key of the Laravel
// notification with this UUID.
func NotificationKey(uuid string) string { return NotificationKeyPrefix + uuid }

// NotificationEntry renders a Laravel notification for the history: data
// is the broadcast payload (the notification's data plus "id" and "type",
// see MergeNotification for a database row). Title, message and type come
// from the data ("title"/"subject", "message"/"body"/"text"/"line",
// "level"/"severity" or a "type" that names a level), else from the class
// name in words ("App\Notifications\InvoicePaid" → "Invoice paid"). The
// user's overrides apply by the class's short name ("InvoicePaid"), which
// is also the entry's Event. The UUID is ExternalID and, prefixed, Key.
// Channel and Time are left to the caller.
func (c *Catalog) NotificationEntry(data json.RawMessage) Entry {
	p := parsePayload(data)
	class, _ := p.str("type")
	uuid, _ := p.str("id")
	name := notificationName(class)
	n := c.renderWith(name, p, renderNotification, "New notification")
	e := Entry{
		Event:      name,
		Type:       n.Type,
		Title:      n.Title,
		Message:    n.Message,
		Data:       storableJSON(data),
		ExternalID: uuid,
	}
	if uuid != "" {
		e.Key = NotificationKey(uuid)
	}
	return e
}

// MergeNotification builds the broadcast payload of a database
// notification row: its data with "id" and "type" set, as Laravel's
// BroadcastNotificationCreated does, so a notification caught up later is
// stored and shown as it would have been live.
func MergeNotification(uuid, class string, data json.RawMessage) json.RawMessage {
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		m = map[string]json.RawMessage{}
		if t := strings.TrimSpace(string(data)); t != "" && t != "null" && json.Valid(data) {
			m["data"] = data
		}
	}
	m["id"], _ = json.Marshal(uuid)
	m["type"], _ = json.Marshal(class)
	b, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return b
}

// notificationName is the short class name of a notification, or
// "Notification" when the payload names none.
func notificationName(class string) string {
	if s := ShortName(class); s != "" && !strings.ContainsAny(s, " \t") {
		return s
	}
	return "Notification"
}

// renderNotification renders a Laravel notification by its data.
func renderNotification(name string, p payload) Notification {
	n := Notification{Type: TypeInfo, Title: SentenceWords(name)}
	if t, ok := typeFromName(name); ok {
		n.Type = t
	}
	if t, ok := p.level("level", "severity", "type", "status"); ok {
		n.Type = t
	}
	if s, ok := p.str("title", "subject", "heading"); ok {
		n.Title = s
	}
	if s, ok := p.strN(maxStoredMessageRunes, "message", "body", "text", "line", "content", "description"); ok {
		n.Message = s
	} else {
		n.Message = summarise(p)
	}
	return n
}

// renderWith renders name with base, then applies the user's override for
// name, cleans and bounds the texts, and fills an empty title with
// emptyTitle and an empty message with noDetails.
func (c *Catalog) renderWith(name string, p payload, base func(string, payload) Notification, emptyTitle string) Notification {
	n := base(name, p)
	n.Event = name
	if c != nil {
		if o, ok := c.overrides[strings.ToLower(name)]; ok {
			if o.typ != "" {
				n.Type = o.typ
			}
			if s, ok := o.title.render(p); ok {
				n.Title = s
			}
			if s, ok := o.message.render(p); ok {
				n.Message = s
			}
		}
	}
	n.Title = Truncate(CleanText(n.Title), maxStoredTitleRunes)
	n.Message = Truncate(cleanMultiline(n.Message), maxStoredMessageRunes)
	if n.Title == "" {
		n.Title = emptyTitle
	}
	if n.Message == "" {
		n.Message = noDetails
	}
	n.Timeout = timeoutFor(n.Type)
	return n
}

// SentenceWords is Words in sentence case: "InvoicePaid" → "Invoice paid";
// acronyms stay upper case ("SMSDelivered" → "SMS delivered").
func SentenceWords(name string) string {
	words := strings.Fields(Words(name))
	for i, w := range words {
		if i == 0 || isAcronym(w) {
			continue
		}
		words[i] = strings.ToLower(w)
	}
	return strings.Join(words, " ")
}

func isAcronym(w string) bool {
	n := 0
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
		n++
	}
	return n > 1
}
