package tray

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"echotray/assets"
)

func TestWarningState(t *testing.T) {
	now := time.Date(2026, 12, 1, 14, 0, 0, 0, time.Local)
	const w = "Connected, but personal notifications are unavailable: the server refused them."
	s := Status{Conn: Connected, User: "Ann", Warning: w}
	if got := s.Shown(now); got != Warning {
		t.Fatalf("Shown = %v, want warning", got)
	}
	if !Warning.SignedIn() {
		t.Error("Warning is not signed in")
	}
	if got := Tooltip(s, 2, now); got != w+" · 2 unread" {
		t.Errorf("Tooltip = %q", got)
	}
	// Over a pause too: a partial failure matters more.
	s.PausedUntil = now.Add(time.Hour)
	if got := s.Shown(now); got != Warning {
		t.Errorf("paused: Shown = %v", got)
	}
	if got := Tooltip(s, 0, now); !strings.HasSuffix(got, "notifications paused") {
		t.Errorf("paused: Tooltip = %q", got)
	}
	// Only while connected: offline says offline.
	if got := (Status{Conn: Offline, Warning: w}).Shown(now); got != Offline {
		t.Errorf("offline with a warning: Shown = %v", got)
	}
	want, _ := assets.TrayIconPNG("expired", false, IconSize)
	if got := IconPNG(Warning, 0); !bytes.Equal(got, want) {
		t.Error("the warning icon is not the attention icon")
	}
	if IconName(Warning) != "expired" || IconName(Offline) != "offline" {
		t.Error("IconName")
	}
}

func TestWarningMenuFirstLine(t *testing.T) {
	now := time.Now()
	const w = "Connected, but personal notifications are unavailable: the server refused them."
	m := NewModel(Status{Conn: Connected, Warning: w}, 0, now)
	items := Items(m, Actions{Reconnect: func() {}, SignOut: func() {}})
	if items[0].Label != w || !items[0].Disabled {
		t.Errorf("first item = %+v", items[0])
	}
	for _, it := range items {
		if it.Label == LabelReconnect && it.Disabled {
			t.Error("Reconnect now is disabled in the warning state")
		}
	}
}
