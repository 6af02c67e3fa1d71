package generator

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"echotray/devstack/laravel"
)

// laravelTime is how Laravel serialises Carbon dates.
const laravelTime = "2006-01-02T15:04:05.000000Z"

var (
	firstNames = []string{"Wanjiru", "Otieno", "Achieng", "Kamau", "Njeri", "Mwangi", "Chebet", "Kiprop",
		"Akinyi", "Mutua", "Nyambura", "Omondi", "Wambui", "Kariuki", "Halima", "Abdi", "Grace", "Brian",
		"Mercy", "Kevin", "Faith", "Dennis", "Esther", "Juma"}
	lastNames = []string{"Wanjiku", "Odhiambo", "Kiplagat", "Mwangi", "Njoroge", "Otieno", "Mutiso",
		"Chepkoech", "Hassan", "Kimani", "Ochieng", "Wekesa", "Nduta", "Barasa", "Korir", "Ali"}
	tenantNames = []string{"Sunrise WiFi", "Kilimani Hotspot", "Mombasa Connect", "Nakuru Net",
		"Eldoret Links", "Kisumu Lakeside WiFi", "Thika Road Hotspots", "Westlands Fibre", "Malindi Beach Net",
		"Machakos Online"}
	plans = []struct {
		name   string
		price  int
		length time.Duration
	}{
		{"1 Hour - KES 20", 20, time.Hour},
		{"3 Hours - KES 50", 50, 3 * time.Hour},
		{"Daily - KES 80", 80, 24 * time.Hour},
		{"Weekly - KES 350", 350, 7 * 24 * time.Hour},
		{"Monthly - KES 1200", 1200, 30 * 24 * time.Hour},
	}
	failReasons = []string{"Insufficient M-Pesa balance", "Request cancelled by user",
		"DS timeout: user cannot be reached", "Wrong PIN entered", "Transaction limit exceeded"}
	suspendReasons = []string{"Subscription payment overdue", "Terms of service violation",
		"Requested by the tenant owner", "Suspicious login activity"}
	notifications = []struct{ title, message, typ string }{
		{"Scheduled maintenance", "The billing service will be unavailable tonight from 01:00 to 02:00 EAT.", "warning"},
		{"Daily report ready", "Yesterday's revenue and session report is ready to download.", "info"},
		{"Router back online", "Router MikroTik-Westgate reconnected after 4 minutes offline.", "success"},
		{"Voucher batch exhausted", "All 500 vouchers of batch DAILY-80 have been used.", "warning"},
		{"SMS credit low", "Only 120 SMS credits left. Top up to keep sending receipts.", "error"},
	}
	alerts = []struct{ title, message, level, source string }{
		{"High queue latency", "Payment callback queue is 2,314 jobs behind (oldest 6 min).", "warning", "queue-worker"},
		{"M-Pesa API errors", "Daraja STK push failed for 14% of requests in the last 5 minutes.", "critical", "payments"},
		{"Disk space low", "Database volume at 91% capacity.", "warning", "db-01"},
		{"Certificate renewed", "TLS certificate for api.example.test renewed; valid for 90 days.", "info", "certbot"},
		{"RADIUS unreachable", "FreeRADIUS did not answer health checks for 60 s.", "critical", "radius-01"},
	}
	profileFields = []string{"name", "phone", "avatar", "timezone", "notification_preferences"}
	tenantFields  = []string{"name", "phone", "address", "logo", "billing_email"}
)

// payloads builds payloads from one random source.
type payloads struct {
	r   *rand.Rand
	now time.Time
}

func (p *payloads) pick(list []string) string { return list[p.r.IntN(len(list))] }

func (p *payloads) ts(t time.Time) string { return t.UTC().Format(laravelTime) }

// uuid returns a random version 4 UUID.
func (p *payloads) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(p.r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// phone returns a Safaricom number in the 2547XXXXXXXX form M-Pesa uses.
func (p *payloads) phone() string { return fmt.Sprintf("2547%08d", p.r.IntN(100000000)) }

// mpesaRef returns an M-Pesa receipt number such as "QK7H2B9XLM".
func (p *payloads) mpesaRef() string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := []byte{"QRST"[p.r.IntN(4)], "ABCDEFGHJK"[p.r.IntN(10)]}
	for len(b) < 10 {
		b = append(b, alnum[p.r.IntN(len(alnum))])
	}
	return string(b)
}

func (p *payloads) person() (name, email string) {
	first, last := p.pick(firstNames), p.pick(lastNames)
	return first + " " + last, strings.ToLower(first+"."+last) + fmt.Sprintf("%d@example.test", p.r.IntN(100))
}

// tenant returns tenant id; a seeded tenant (id 1..len(tenantNames)) has a
// stable name, others get name.
func (p *payloads) tenant(id int64, name string) map[string]any {
	if name == "" {
		name = tenantNames[int((id-1)%int64(len(tenantNames))+int64(len(tenantNames)))%len(tenantNames)]
	}
	slug := strings.ReplaceAll(strings.ToLower(name), " ", "-")
	return map[string]any{
		"id":     id,
		"name":   name,
		"slug":   slug,
		"email":  "billing@" + strings.ReplaceAll(slug, "-", "") + ".test",
		"phone":  p.phone(),
		"status": "active",
	}
}

func (p *payloads) newUser(tenantID int64) map[string]any {
	name, email := p.person()
	role := laravel.RoleStaff
	if p.r.IntN(4) == 0 {
		role = laravel.RoleTenantAdmin
	}
	return map[string]any{
		"id": 100 + p.r.IntN(9900), "name": name, "email": email,
		"role": role, "tenant_id": tenantID, "created_at": p.ts(p.now),
	}
}

func seedUser(u laravel.User) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "email": u.Email, "tenant_id": u.TenantID, "role": u.Role}
}

func (p *payloads) payment(status string) map[string]any {
	plan := plans[p.r.IntN(len(plans))]
	m := map[string]any{
		"id":         1000 + p.r.IntN(90000),
		"amount":     plan.price,
		"currency":   "KES",
		"phone":      p.phone(),
		"reference":  p.mpesaRef(),
		"method":     "mpesa",
		"status":     status,
		"package":    plan.name,
		"created_at": p.ts(p.now),
	}
	if status == "failed" {
		m["reference"] = nil // no receipt for a failed STK push
		m["checkout_request_id"] = fmt.Sprintf("ws_CO_%s%08d", p.now.UTC().Format("02012006150405"), p.r.IntN(100000000))
	}
	return m
}

func (p *payloads) hotspotUser(expired bool) map[string]any {
	plan := plans[p.r.IntN(len(plans))]
	phone := p.phone()
	start := p.now
	if expired {
		start = p.now.Add(-plan.length)
	}
	m := map[string]any{
		"id":         5000 + p.r.IntN(90000),
		"username":   "hs" + phone[len(phone)-6:],
		"phone":      phone,
		"plan":       plan.name,
		"expires_at": p.ts(start.Add(plan.length)),
		"mac":        fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", p.r.IntN(256), p.r.IntN(256), p.r.IntN(256), p.r.IntN(256), p.r.IntN(256), p.r.IntN(256)),
	}
	if expired {
		m["data_used_mb"] = 50 + p.r.IntN(4000)
	}
	return m
}

// build returns the canonical payload of name.
func (p *payloads) build(name string, tenantID int64, user laravel.User, seq int64) map[string]any {
	d := map[string]any{"event_id": p.uuid(), "timestamp": p.ts(p.now)}
	switch name {
	case "TenantCreated":
		d["tenant"] = p.tenant(tenantID, "")
		d["tenant_id"] = tenantID
	case "TenantUpdated":
		d["tenant"] = p.tenant(tenantID, "")
		d["tenant_id"] = tenantID
		d["changes"] = []string{p.pick(tenantFields)}
	case "TenantSuspended":
		t := p.tenant(tenantID, "")
		t["status"] = "suspended"
		d["tenant"] = t
		d["tenant_id"] = tenantID
		d["reason"] = p.pick(suspendReasons)
	case "UserCreated":
		d["user"] = p.newUser(tenantID)
		d["tenant_id"] = tenantID
	case "UserUpdated":
		d["user"] = p.newUser(tenantID)
		d["tenant_id"] = tenantID
		d["changes"] = []string{p.pick(profileFields)}
	case "UserDeleted":
		u := p.newUser(tenantID)
		d["user"] = map[string]any{"id": u["id"], "name": u["name"], "email": u["email"]}
		d["tenant_id"] = tenantID
	case "PaymentCompleted":
		d["payment"] = p.payment("completed")
		d["tenant_id"] = tenantID
	case "PaymentFailed":
		d["payment"] = p.payment("failed")
		d["tenant_id"] = tenantID
		d["reason"] = p.pick(failReasons)
	case "HotspotUserCreated":
		d["hotspot_user"] = p.hotspotUser(false)
		d["tenant_id"] = tenantID
	case "HotspotUserExpired":
		d["hotspot_user"] = p.hotspotUser(true)
		d["tenant_id"] = tenantID
	case "SystemNotification":
		n := notifications[p.r.IntN(len(notifications))]
		d["title"], d["message"], d["type"] = n.title, n.message, n.typ
		d["tenant_id"] = tenantID
	case "PasswordChanged":
		d["user"] = seedUser(user)
		d["changed_at"] = p.ts(p.now)
		d["ip_address"] = fmt.Sprintf("197.%d.%d.%d", 136+p.r.IntN(120), p.r.IntN(256), 1+p.r.IntN(254))
	case "AccountSuspended":
		d["user"] = seedUser(user)
		d["reason"] = p.pick(suspendReasons)
	case "AccountActivated":
		d["user"] = seedUser(user)
		d["activated_at"] = p.ts(p.now)
	case "ProfileUpdated":
		d["user"] = seedUser(user)
		d["changes"] = []string{p.pick(profileFields), p.pick(profileFields)}
	case "TenantRegistered":
		t := p.tenant(100+seq, fmt.Sprintf("%s %s", p.pick(lastNames), p.pick([]string{"WiFi", "Hotspot", "Net", "Connect"})))
		t["status"] = "pending"
		d["tenant"] = t
		name, email := p.person()
		d["owner"] = map[string]any{"name": name, "email": email}
	case "TenantApproved":
		d["tenant"] = p.tenant(100+seq, fmt.Sprintf("%s %s", p.pick(lastNames), p.pick([]string{"WiFi", "Hotspot", "Net", "Connect"})))
		d["approved_by"] = map[string]any{"id": 3, "name": "System Admin"}
	case "SystemAlert":
		a := alerts[p.r.IntN(len(alerts))]
		d["title"], d["message"], d["level"], d["source"] = a.title, a.message, a.level, a.source
	}
	return d
}

// nestedKeys are the model keys a flat payload lifts to the top level.
var nestedKeys = []string{"user", "payment", "hotspot_user", "tenant"}

// irregular makes about one payload in eight flat or incomplete: the model's
// fields lifted to the top level (a broadcastWith() returning
// $this->user->only(...)), no event_id, or a missing optional field.
func (p *payloads) irregular(name string, d map[string]any) {
	if p.r.IntN(8) != 0 {
		return
	}
	switch p.r.IntN(3) {
	case 0: // flat
		for _, k := range nestedKeys {
			m, ok := d[k].(map[string]any)
			if !ok {
				continue
			}
			delete(d, k)
			for mk, mv := range m {
				if _, taken := d[mk]; !taken {
					d[mk] = mv
				}
			}
			return
		}
		delete(d, "event_id")
	case 1: // an older event class without event_id
		delete(d, "event_id")
	default: // an optional field missing
		for _, k := range nestedKeys {
			if m, ok := d[k].(map[string]any); ok {
				for _, opt := range []string{"email", "phone", "plan", "slug"} {
					if _, has := m[opt]; has {
						delete(m, opt)
						return
					}
				}
			}
		}
		delete(d, "timestamp")
	}
}
