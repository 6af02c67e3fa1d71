package app

import "testing"

func TestAccountKey(t *testing.T) {
	for _, tc := range []struct {
		server string
		id     int64
		want   string
	}{
		{"https://billing.example.com", 42, "https://billing.example.com#42"},
		{"https://Billing.Example.COM/", 42, "https://billing.example.com#42"},
		{" https://billing.example.com:443/ ", 7, "https://billing.example.com#7"},
		{"http://127.0.0.1:8000", 5, "http://127.0.0.1:8000#5"},
		{"http://127.0.0.1:80/", 5, "http://127.0.0.1#5"},
		{"https://example.com/app/", 1, "https://example.com/app#1"},
		{"https://user:secret@example.com/app?x=1#frag", 1, "https://example.com/app#1"},
		{"billing.example.com", 3, "https://billing.example.com#3"},
	} {
		if got := AccountKey(tc.server, tc.id); got != tc.want {
			t.Errorf("AccountKey(%q, %d) = %q, want %q", tc.server, tc.id, got, tc.want)
		}
	}
	if a, b := AccountKey("https://x.example", 1), AccountKey("https://x.example", 2); a == b {
		t.Errorf("two users share the key %q", a)
	}
	if got := AccountOf("https://x.example/", User{ID: "12"}); got != "https://x.example#12" {
		t.Errorf("AccountOf = %q", got)
	}
	if got := AccountOf("https://x.example/", User{ID: "abc-1"}); got != "https://x.example#abc-1" {
		t.Errorf("AccountOf(string id) = %q", got)
	}
}
