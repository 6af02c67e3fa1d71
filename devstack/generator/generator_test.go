package generator

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"echotray/devstack/laravel"
	"echotray/devstack/publish"
)

// seedTables is the seed guide's Event Reference, event → channel pattern.
var seedTables = map[string]string{
	"TenantCreated": "tenant", "TenantUpdated": "tenant", "TenantApproved": "admin", "TenantSuspended": "tenant",
	"UserCreated": "tenant", "UserUpdated": "tenant", "UserDeleted": "tenant",
	"PasswordChanged": "user", "AccountSuspended": "user", "AccountActivated": "user",
	"PaymentCompleted": "tenant", "PaymentFailed": "tenant",
	"HotspotUserCreated": "tenant", "HotspotUserExpired": "tenant",
	"SystemNotification": "tenant", "SystemAlert": "admin", "TenantRegistered": "admin",
	"ProfileUpdated": "user",
}

var channelRe = map[string]*regexp.Regexp{
	"tenant": regexp.MustCompile(`^tenant\.[0-9]+$`),
	"user":   regexp.MustCompile(`^private-user\.[0-9]+$`),
	"admin":  regexp.MustCompile(`^private-system\.admin$`),
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func seeded(seed uint64) *Generator {
	return &Generator{
		Rand: rand.New(rand.NewPCG(seed, seed+1)),
		Now:  func() time.Time { return time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) },
	}
}

func TestCatalogMatchesSeed(t *testing.T) {
	names := Catalog()
	if len(names) != 18 {
		t.Fatalf("Catalog has %d names, want 18", len(names))
	}
	for _, n := range names {
		want, ok := seedTables[n]
		if !ok {
			t.Errorf("%s is not in the seed tables", n)
		}
		if got := ChannelKind(n); got != want {
			t.Errorf("ChannelKind(%s) = %q, want %q", n, got, want)
		}
	}
	if ChannelKind("Nope") != "" {
		t.Error("ChannelKind of an unknown event")
	}
}

// path returns the value at a dotted path of a decoded payload.
func path(d map[string]any, p string) any {
	var cur any = d
	for _, k := range strings.Split(p, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// roundTrip returns d as a client decodes it.
func roundTrip(t *testing.T, d map[string]any) map[string]any {
	t.Helper()
	s, err := publish.EncodeData(d)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return out
}

func TestSamples(t *testing.T) {
	g := seeded(1)
	samples := g.Samples()
	if len(samples) != 18 {
		t.Fatalf("%d samples", len(samples))
	}
	required := map[string][]string{
		"TenantCreated":      {"tenant.id", "tenant.name", "tenant.slug", "tenant_id"},
		"TenantUpdated":      {"tenant.name", "changes"},
		"TenantSuspended":    {"tenant.name", "reason"},
		"UserCreated":        {"user.id", "user.name", "user.email", "tenant_id"},
		"UserUpdated":        {"user.name", "user.email", "changes"},
		"UserDeleted":        {"user.id", "user.name", "user.email"},
		"PaymentCompleted":   {"payment.id", "payment.amount", "payment.currency", "payment.phone", "payment.reference", "payment.method"},
		"PaymentFailed":      {"payment.amount", "payment.currency", "payment.phone", "reason"},
		"HotspotUserCreated": {"hotspot_user.username", "hotspot_user.plan", "hotspot_user.expires_at"},
		"HotspotUserExpired": {"hotspot_user.username", "hotspot_user.plan", "hotspot_user.expires_at"},
		"SystemNotification": {"title", "message", "type"},
		"PasswordChanged":    {"user.id", "user.name", "user.email"},
		"AccountSuspended":   {"user.name", "reason"},
		"AccountActivated":   {"user.name"},
		"ProfileUpdated":     {"user.name", "changes"},
		"TenantRegistered":   {"tenant.name", "tenant.id"},
		"TenantApproved":     {"tenant.name", "approved_by.name"},
		"SystemAlert":        {"title", "message", "level"},
	}
	for i, e := range samples {
		if e.Name != Catalog()[i] {
			t.Errorf("sample %d is %s, want %s", i, e.Name, Catalog()[i])
		}
		if !channelRe[seedTables[e.Name]].MatchString(e.Channel) {
			t.Errorf("%s on %s", e.Name, e.Channel)
		}
		if e.Wire != e.Name {
			t.Errorf("Wire = %s without Namespaced", e.Wire)
		}
		d := roundTrip(t, e.Data)
		if id, _ := d["event_id"].(string); !uuidRe.MatchString(id) {
			t.Errorf("%s: event_id %v is not a v4 UUID", e.Name, d["event_id"])
		}
		for _, p := range required[e.Name] {
			if v := path(d, p); v == nil || v == "" {
				t.Errorf("%s lacks %s: %v", e.Name, p, d)
			}
		}
		if strings.HasPrefix(e.Name, "Payment") && path(d, "payment.currency") != "KES" {
			t.Errorf("%s currency %v", e.Name, path(d, "payment.currency"))
		}
	}
	// User events address the channel's own user.
	for _, e := range samples {
		if seedTables[e.Name] == "user" {
			if want := "private-user." + jsonNum(path(roundTrip(t, e.Data), "user.id")); e.Channel != want {
				t.Errorf("%s on %s carries user %v", e.Name, e.Channel, want)
			}
		}
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestNextChannelsNamesAndIrregularity(t *testing.T) {
	g := seeded(7)
	g.Namespaced = true
	g.Tenants = []int64{5, 9}
	g.Users = []laravel.User{{ID: 42, Name: "Zed", Email: "zed@x.test"}}
	seen := map[string]int{}
	withoutEventID, flat := 0, 0
	const n = 4000
	for range n {
		e := g.Next()
		seen[e.Name]++
		if e.Wire != Namespace+e.Name {
			t.Fatalf("Wire %q, want namespaced", e.Wire)
		}
		switch seedTables[e.Name] {
		case "tenant":
			if e.Channel != "tenant.5" && e.Channel != "tenant.9" {
				t.Fatalf("%s on %s", e.Name, e.Channel)
			}
		case "user":
			if e.Channel != "private-user.42" {
				t.Fatalf("%s on %s", e.Name, e.Channel)
			}
		case "admin":
			if e.Channel != AdminChannel {
				t.Fatalf("%s on %s", e.Name, e.Channel)
			}
		}
		d := roundTrip(t, e.Data)
		if _, ok := d["event_id"]; !ok {
			withoutEventID++
		}
		nested := false
		for _, k := range nestedKeys {
			if _, ok := d[k]; ok {
				nested = true
			}
		}
		if !nested && (d["name"] != nil || d["amount"] != nil || d["username"] != nil) {
			flat++
		}
	}
	if len(seen) != 18 {
		t.Errorf("Next produced %d distinct events in %d draws: %v", len(seen), n, seen)
	}
	// "Most events carry an event_id", "occasionally flat or missing fields".
	if withoutEventID == 0 || withoutEventID > n/5 {
		t.Errorf("%d of %d events lack event_id", withoutEventID, n)
	}
	if flat == 0 || flat > n/10 {
		t.Errorf("%d of %d payloads are flat", flat, n)
	}
}

func TestMixedAndDeterministic(t *testing.T) {
	g := seeded(3)
	g.Mixed = true
	ns, bare := 0, 0
	for range 200 {
		if strings.HasPrefix(g.Next().Wire, Namespace) {
			ns++
		} else {
			bare++
		}
	}
	if ns == 0 || bare == 0 {
		t.Errorf("Mixed gave %d namespaced and %d bare names", ns, bare)
	}
	a, b := seeded(11), seeded(11)
	for range 50 {
		if ea, eb := a.Next(), b.Next(); !reflect.DeepEqual(ea, eb) {
			t.Fatalf("same seed, different events:\n%v\n%v", ea, eb)
		}
	}
}

// recorder is a fake Pusher HTTP API that checks signatures and records events.
type recorder struct {
	mu     sync.Mutex
	events []map[string]any
	got    chan struct{}
}

func newRecorder(t *testing.T, secret string) (*recorder, *publish.Publisher) {
	rec := &recorder{got: make(chan struct{}, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if publish.SignQuery(secret, r.Method, r.URL.Path, q) != q.Get("auth_signature") {
			w.WriteHeader(401)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		rec.mu.Lock()
		rec.events = append(rec.events, m)
		rec.mu.Unlock()
		rec.got <- struct{}{}
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return rec, &publish.Publisher{BaseURL: srv.URL, AppID: "1", Key: "k", Secret: secret}
}

func TestPublishSamples(t *testing.T) {
	rec, pub := newRecorder(t, "sec")
	g := seeded(5)
	g.Publisher = pub
	g.Namespaced = true
	var reported int
	g.OnPublish = func(_ Event, err error) {
		if err != nil {
			t.Errorf("publish: %v", err)
		}
		reported++
	}
	events, err := g.PublishSamples(context.Background())
	if err != nil || len(events) != 18 || reported != 18 {
		t.Fatalf("PublishSamples: %d events, %d reported, %v", len(events), reported, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, m := range rec.events {
		if m["name"] != Namespace+events[i].Name {
			t.Errorf("published name %v, want %s", m["name"], Namespace+events[i].Name)
		}
		if _, isString := m["data"].(string); !isString {
			t.Errorf("data is not a JSON string: %v", m["data"])
		}
	}
	g.Publisher = &publish.Publisher{BaseURL: pub.BaseURL, AppID: "1", Key: "k", Secret: "wrong"}
	g.OnPublish = nil
	if _, err := g.PublishSamples(context.Background()); err == nil {
		t.Error("PublishSamples with a wrong secret did not fail")
	}
}

func TestRun(t *testing.T) {
	rec, pub := newRecorder(t, "sec")
	g := seeded(9)
	g.Publisher = pub
	g.Rate = 200
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	for range 5 {
		select {
		case <-rec.got:
		case <-time.After(10 * time.Second):
			t.Fatal("Run published fewer than 5 events in 10 s at rate 200/s")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := (&Generator{}).Run(context.Background()); err == nil {
		t.Error("Run without a Publisher did not fail")
	}
}
