//go:build integration

package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"echotray/devstack"
	"echotray/devstack/laravel"
	"echotray/devstack/publish"
)

// sdk runs devstack/node/crosscheck.js (the official pusher npm SDK) on cases.
func sdk(t *testing.T, cases []map[string]any) []map[string]any {
	t.Helper()
	dir, err := devstack.NodeDir()
	if err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "crosscheck.js"))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("crosscheck.js: %v\n%s", err, stderr.String())
	}
	var res []map[string]any
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("crosscheck.js answered %q (%v)", out, err)
	}
	for i, r := range res {
		if e, ok := r["error"]; ok {
			t.Fatalf("crosscheck.js case %d %v: %v", i, cases[i], e)
		}
	}
	return res
}

func TestCrossCheckChannelAuthWithPusherSDK(t *testing.T) {
	type in struct {
		key, secret, socketID, channel string
		presence                       map[string]any
	}
	inputs := []in{
		{"278d425bdf160c739803", "7ad3773142a6692b25b8", "1234.1234", "private-foobar", nil},
		{"local-key", "local-secret", "123456789.987654321", "private-user.1", nil},
		{"local-key", "local-secret", "1.2", "private-system.admin", nil},
		{"k", "sëcret✓ with spaces/and:colons", "42.42", "private-tenant.7", nil},
		{"app-key", "s", "7.8", "presence-tenant.1", map[string]any{"user_id": 5, "user_info": map[string]any{"name": "Ann"}}},
		{"app-key", "s", "7.8", "presence-room.1", map[string]any{"user_id": "abc", "user_info": map[string]any{"name": "Zoë / <x>"}}},
		{"app-key", "s", "7.8", "tenant.1", nil},
	}
	var cases []map[string]any
	for _, c := range inputs {
		m := map[string]any{"op": "channel", "key": c.key, "secret": c.secret, "socket_id": c.socketID, "channel": c.channel}
		if c.presence != nil {
			m["presence"] = c.presence
		}
		cases = append(cases, m)
	}
	res := sdk(t, cases)
	for i, c := range inputs {
		sdkData := res[i]["channel_data"].(string)
		if (c.presence != nil) != (sdkData != "") {
			t.Fatalf("case %d: SDK channel_data %q", i, sdkData)
		}
		got := publish.ChannelAuth(c.key, c.secret, c.socketID, c.channel, sdkData)
		if want := res[i]["auth"].(string); got != want {
			t.Errorf("case %d (%s): ChannelAuth = %s, SDK %s", i, c.channel, got, want)
		}
	}
}

func TestCrossCheckStandInWithPusherSDK(t *testing.T) {
	const key, secret = "xcheck-key", "xcheck-secret-∂"
	l := laravel.StartT(t, key, secret)
	a := api{t: t, base: l.URL()}
	type ask struct{ email, socketID, channel string }
	asks := []ask{
		{"alice@tenant1.test", "1.1", "private-user.1"},
		{"alice@tenant1.test", "98765.43210", "private-tenant.1"},
		{"bob@tenant2.test", "5.6", "private-user.2"},
		{"admin@echotray.test", "111111.222222", "private-system.admin"},
		{"alice@tenant1.test", "3.4", "presence-tenant.1"},
		{"carol@tenant1.test", "3.4", "presence-tenant.1"},
	}
	tokens := map[string]string{}
	var cases []map[string]any
	var answers []map[string]any
	for _, q := range asks {
		if tokens[q.email] == "" {
			tokens[q.email] = a.login(q.email, "password")
		}
		status, m := a.auth(tokens[q.email], q.socketID, q.channel)
		if status != http.StatusOK {
			t.Fatalf("stand-in %s %s: %d %v", q.email, q.channel, status, m)
		}
		answers = append(answers, m)
		c := map[string]any{"op": "channel", "key": key, "secret": secret, "socket_id": q.socketID, "channel": q.channel}
		if cd, ok := m["channel_data"].(string); ok {
			var presence map[string]any
			if err := json.Unmarshal([]byte(cd), &presence); err != nil {
				t.Fatalf("channel_data %q: %v", cd, err)
			}
			c["presence"] = presence
		}
		cases = append(cases, c)
	}
	res := sdk(t, cases)
	for i, q := range asks {
		if got, want := answers[i]["auth"], res[i]["auth"]; got != want {
			t.Errorf("%s %s: stand-in auth %v, SDK %v", q.email, q.channel, got, want)
		}
		if cd, ok := answers[i]["channel_data"]; ok && cd != res[i]["channel_data"] {
			t.Errorf("%s %s: stand-in channel_data %v, SDK %v", q.email, q.channel, cd, res[i]["channel_data"])
		}
	}
}

func TestCrossCheckSignQueryWithPusherSDK(t *testing.T) {
	type in struct {
		key, secret, method, path string
		params                    map[string]string
		body                      string
		ts                        int64
	}
	inputs := []in{
		{"278d425bdf160c739803", "7ad3773142a6692b25b8", "POST", "/apps/3/events", nil,
			`{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}`, 1353088179},
		{"local-key", "local-secret", "GET", "/apps/local-id/channels", map[string]string{"filter_by_prefix": "presence-", "info": "user_count"}, "", 1700000000},
		{"local-key", "local-secret", "GET", "/apps/local-id/channels/presence-tenant.1/users", nil, "", 1700000001},
		{"k", "sëcret✓", "post", "/apps/9/batch_events", nil, `{"batch":[{"name":"ü","channel":"c","data":"{}"}]}`, 1},
	}
	var cases []map[string]any
	for _, c := range inputs {
		m := map[string]any{"op": "query", "key": c.key, "secret": c.secret, "method": c.method, "path": c.path, "timestamp": c.ts}
		if c.params != nil {
			m["params"] = c.params
		}
		if c.body != "" {
			m["body"] = c.body
		}
		cases = append(cases, m)
	}
	res := sdk(t, cases)
	for i, c := range inputs {
		// Rebuild the SDK's parameter set independently, then sign it in Go.
		params := url.Values{"auth_key": {c.key}, "auth_timestamp": {jsonNum(c.ts)}, "auth_version": {"1.0"}}
		if c.body != "" {
			params.Set("body_md5", publish.BodyMD5([]byte(c.body)))
		}
		for k, v := range c.params {
			params.Set(k, v)
		}
		got := publish.SignQuery(c.secret, c.method, c.path, params)
		if want := res[i]["auth_signature"].(string); got != want {
			t.Errorf("case %d %s %s: SignQuery = %s, SDK %s (SDK query %s)", i, c.method, c.path, got, want, res[i]["query"])
		}
		// And the SDK's own query, parsed, signs the same in Go.
		sdkQuery, err := url.ParseQuery(res[i]["query"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if got := publish.SignQuery(c.secret, c.method, c.path, sdkQuery); got != sdkQuery.Get("auth_signature") {
			t.Errorf("case %d: SignQuery of the SDK's query = %s, SDK %s", i, got, sdkQuery.Get("auth_signature"))
		}
	}
}

func jsonNum(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestCrossCheckTriggerWithPusherSDK sends the same event through the SDK's
// pusher.trigger() and publish.Publisher.Trigger to a recorder and compares
// the two HTTP requests byte for byte.
func TestCrossCheckTriggerWithPusherSDK(t *testing.T) {
	type request struct {
		method, path string
		query        url.Values
		body         string
	}
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.Method, r.URL.Path, r.URL.Query(), string(b)})
		mu.Unlock()
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()

	const appID, key, secret, ts = "77", "tk", "ts3cret", 1700000123
	events := []struct {
		channels []string
		name     string
		data     any
		socketID string
	}{
		{[]string{"tenant.1"}, `App\Events\PaymentCompleted`, map[string]any{"payment": map[string]any{"amount": 150, "currency": "KES", "phone": "254712345678"}}, ""},
		{[]string{"private-user.1", "private-user.2"}, "PasswordChanged", map[string]any{"note": "a/b <c> & ü"}, "123.456"},
		{[]string{"private-system.admin"}, "SystemAlert", `{"title":"pre-encoded"}`, ""},
	}
	var cases []map[string]any
	for _, e := range events {
		cases = append(cases, map[string]any{
			"op": "trigger", "base_url": srv.URL, "app_id": appID, "key": key, "secret": secret,
			"channels": e.channels, "event": e.name, "data": e.data, "socket_id": e.socketID, "timestamp": ts,
		})
	}
	sdk(t, cases)
	pub := &publish.Publisher{BaseURL: srv.URL, AppID: appID, Key: key, Secret: secret, Now: func() time.Time { return time.Unix(ts, 0) }}
	for _, e := range events {
		if err := pub.Trigger(context.Background(), e.channels, e.name, e.data, e.socketID); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2*len(events) {
		t.Fatalf("recorded %d requests, want %d", len(got), 2*len(events))
	}
	for i := range events {
		s, g := got[i], got[len(events)+i]
		if s.method != g.method || s.path != g.path {
			t.Errorf("event %d: SDK %s %s, Go %s %s", i, s.method, s.path, g.method, g.path)
		}
		if s.body != g.body {
			t.Errorf("event %d body:\n SDK %s\n  Go %s", i, s.body, g.body)
		}
		for _, k := range []string{"auth_key", "auth_timestamp", "auth_version", "body_md5", "auth_signature"} {
			if s.query.Get(k) != g.query.Get(k) {
				t.Errorf("event %d %s: SDK %q, Go %q", i, k, s.query.Get(k), g.query.Get(k))
			}
		}
		if !strings.Contains(s.body, `"data":"`) {
			t.Errorf("event %d: the SDK's data is not a JSON string: %s", i, s.body)
		}
	}
}
