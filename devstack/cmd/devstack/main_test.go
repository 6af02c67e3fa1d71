package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	var errs bytes.Buffer
	o, err := parseFlags(nil, &errs)
	if err != nil {
		t.Fatal(err)
	}
	if o.soketiPort != 6001 || o.key != "local-key" || o.appID != "local-id" || o.serverAddr != "127.0.0.1:8000" ||
		o.names != "namespaced" || o.rate <= 0.3 || o.rate >= 0.34 || o.secret != "" {
		t.Errorf("defaults = %+v", o)
	}
	o, err = parseFlags([]string{"--from", "s.json", "--once"}, &errs)
	if err != nil || !o.noSoketi || !o.noServer || !o.once {
		t.Errorf("--from: %+v %v", o, err)
	}
	for _, bad := range [][]string{
		{"--names", "weird"},
		{"--rate", "0"},
		{"--rate", "-1"},
		{"--no-soketi"},
		{"extra"},
		{"--nope"},
	} {
		if _, err := parseFlags(bad, &errs); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
	if _, err := parseFlags([]string{"--no-soketi", "--secret", "s"}, &errs); err != nil {
		t.Errorf("--no-soketi with --secret: %v", err)
	}
}

func TestParseTenants(t *testing.T) {
	got, err := parseTenants(" 1, 2,7 ,")
	if err != nil || !reflect.DeepEqual(got, []int64{1, 2, 7}) {
		t.Errorf("parseTenants = %v, %v", got, err)
	}
	for _, bad := range []string{"", ",", "a", "0", "-3", "1,x"} {
		if _, err := parseTenants(bad); err == nil {
			t.Errorf("parseTenants(%q) accepted", bad)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	tid := int64(1)
	st := State{Server: "http://127.0.0.1:8000", PusherKey: "local-key", PusherHost: "127.0.0.1", PusherPort: 6001,
		PusherScheme: "http", PusherCluster: "mt1", PusherAppID: "local-id", PusherSecret: "s", PID: 1,
		Users: []stateUser{{ID: 1, Email: "alice@tenant1.test", Password: "password", TenantID: &tid}}}
	if err := writeState(path, st); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	raw, _ := os.ReadFile(path)
	// run-demo.sh reads these keys with sed, one per line.
	for _, line := range []string{`"server": "http://127.0.0.1:8000",`, `"pusher_key": "local-key",`, `"pusher_port": 6001,`, `"pusher_scheme": "http",`} {
		if !strings.Contains(string(raw), "\n  "+line+"\n") {
			t.Errorf("state file lacks the line %s:\n%s", line, raw)
		}
	}
	back, err := readState(path)
	if err != nil || !reflect.DeepEqual(back, st) {
		t.Errorf("readState = %+v, %v", back, err)
	}
	if err := os.WriteFile(path, []byte(`{"server":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readState(path); err == nil || !strings.Contains(err.Error(), "no Soketi credentials") {
		t.Errorf("incomplete state: %v", err)
	}
	if err := os.WriteFile(path, []byte(`{`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readState(path); err == nil {
		t.Error("corrupt state accepted")
	}
	if _, err := readState(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing state accepted")
	}
}

func TestPrintSettings(t *testing.T) {
	var b bytes.Buffer
	tid := int64(2)
	printSettings(&b, State{Server: "http://127.0.0.1:8000", BroadcastAuth: "http://127.0.0.1:8000/broadcasting/auth",
		PusherKey: "local-key", PusherHost: "127.0.0.1", PusherPort: 6001, PusherScheme: "http", PusherCluster: "mt1",
		Users: []stateUser{{ID: 2, Name: "Bob", Email: "bob@tenant2.test", TenantID: &tid, Role: "tenant_admin"}, {ID: 3, Name: "Admin", Email: "admin@echotray.test"}}}, true)
	out := b.String()
	for _, want := range []string{"http://127.0.0.1:8000", "local-key", "6001", "http", "mt1", "bob@tenant2.test", "tenant 2", "system admin, no tenant"} {
		if !strings.Contains(out, want) {
			t.Errorf("settings lack %q:\n%s", want, out)
		}
	}
}
