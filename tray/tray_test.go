package tray

import (
	"bytes"
	"testing"
	"time"

	"echotray/assets"
)

var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func TestShown(t *testing.T) {
	paused := now.Add(time.Hour)
	for _, tc := range []struct {
		name string
		s    Status
		want State
	}{
		{"signed out", Status{Conn: SignedOut}, SignedOut},
		{"connected", Status{Conn: Connected}, Connected},
		{"connected and paused", Status{Conn: Connected, PausedUntil: paused}, Paused},
		{"connecting and paused", Status{Conn: Connecting, PausedUntil: paused}, Paused},
		{"pause over", Status{Conn: Connected, PausedUntil: now}, Connected},
		{"offline wins over pause", Status{Conn: Offline, PausedUntil: paused}, Offline},
		{"expired wins over pause", Status{Conn: Expired, PausedUntil: paused}, Expired},
		{"signed out wins over pause", Status{Conn: SignedOut, PausedUntil: paused}, SignedOut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Shown(now); got != tc.want {
				t.Errorf("Shown = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTooltip(t *testing.T) {
	forever := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		s      Status
		unread int
		want   string
	}{
		{"connected", Status{Conn: Connected, User: "Alice"}, 0, "EchoTray — connected as Alice"},
		{"connected unread", Status{Conn: Connected, User: "Alice"}, 3, "EchoTray — connected as Alice · 3 unread"},
		{"connected no name", Status{Conn: Connected}, 0, "EchoTray — connected"},
		{"connecting", Status{Conn: Connecting, User: "Alice"}, 0, "EchoTray — connecting…"},
		{"offline", Status{Conn: Offline, NextAttempt: now.Add(12 * time.Second)}, 0, "Offline — next attempt in 12 s"},
		{"offline rounds up", Status{Conn: Offline, NextAttempt: now.Add(11200 * time.Millisecond)}, 0, "Offline — next attempt in 12 s"},
		{"offline minutes", Status{Conn: Offline, NextAttempt: now.Add(90 * time.Second)}, 2, "Offline — next attempt in 2 min · 2 unread"},
		{"offline due", Status{Conn: Offline, NextAttempt: now}, 0, "Offline — reconnecting…"},
		{"offline refused", Status{Conn: Offline}, 0, "Offline — not retrying; use Reconnect now"},
		{"offline paused", Status{Conn: Offline, NextAttempt: now.Add(5 * time.Second), PausedUntil: forever}, 0,
			"Offline — next attempt in 5 s · notifications paused"},
		{"expired", Status{Conn: Expired}, 1, "EchoTray — session expired, please sign in again · 1 unread"},
		{"signed out", Status{Conn: SignedOut}, 0, "EchoTray — not signed in"},
		{"paused today", Status{Conn: Connected, PausedUntil: now.Add(time.Hour)}, 0, "EchoTray — notifications paused until 11:00"},
		{"paused tomorrow", Status{Conn: Connected, PausedUntil: now.Add(20 * time.Hour)}, 0, "EchoTray — notifications paused until Thu 06:00"},
		{"paused forever", Status{Conn: Connected, PausedUntil: forever}, 4, "EchoTray — notifications paused until resumed · 4 unread"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Tooltip(tc.s, tc.unread, now); got != tc.want {
				t.Errorf("Tooltip = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCountdown(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:             "0 s",
		0:                        "0 s",
		time.Millisecond:         "1 s",
		time.Second:              "1 s",
		59 * time.Second:         "59 s",
		59500 * time.Millisecond: "60 s",
		time.Minute:              "1 min",
		61 * time.Second:         "2 min",
		5 * time.Minute:          "5 min",
	} {
		if got := Countdown(d); got != want {
			t.Errorf("Countdown(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestStateNamesHaveIcons(t *testing.T) {
	if len(assets.TrayStates) != 6 {
		t.Fatalf("assets has %d tray states, tray has 6", len(assets.TrayStates))
	}
	seen := map[string]bool{}
	for _, s := range []State{SignedOut, Connecting, Connected, Offline, Expired, Paused} {
		seen[s.String()] = true
		for _, unread := range []int{0, 7} {
			want, err := assets.TrayIconPNG(s.String(), unread > 0, IconSize)
			if err != nil {
				t.Fatalf("%v: %v", s, err)
			}
			if got := IconPNG(s, unread); !bytes.Equal(got, want) {
				t.Errorf("IconPNG(%v, %d) is not %s", s, unread, assets.TrayIconName(s.String(), unread > 0, IconSize))
			}
		}
	}
	for _, name := range assets.TrayStates {
		if !seen[name] {
			t.Errorf("assets has an icon for %q, which is no tray state", name)
		}
	}
}

func TestIconUnknownStateFallsBack(t *testing.T) {
	if got := IconPNG(State(42), 0); !bytes.Equal(got, assets.AppIcon64PNG) {
		t.Error("IconPNG(unknown) is not the app icon")
	}
	if got := State(42).String(); got != "State(42)" {
		t.Errorf("String = %q", got)
	}
}
