package tray

import (
	"reflect"
	"testing"
	"time"
)

// recorder builds Actions that record which one fired.
type recorder struct{ fired []string }

func (r *recorder) actions() Actions {
	rec := func(name string) func() { return func() { r.fired = append(r.fired, name) } }
	return Actions{
		OpenHistory: rec("history"), SignIn: rec("signin"), Pause: rec("pause"), Resume: rec("resume"),
		Settings: rec("settings"), Reconnect: rec("reconnect"), SendTest: rec("test"),
		SignOut: rec("signout"), Quit: rec("quit"),
	}
}

// row is a menu item as the tests compare it: "-" for a separator, else the
// label with " (off)" when disabled.
func rows(m []Item) []string {
	var out []string
	for _, it := range m {
		switch {
		case it.Separator:
			out = append(out, "-")
		case it.Disabled:
			out = append(out, it.Label+" (off)")
		default:
			out = append(out, it.Label)
		}
	}
	return out
}

func find(t *testing.T, m []Item, label string) Item {
	t.Helper()
	for _, it := range m {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no item %q in %v", label, rows(m))
	return Item{}
}

func TestMenuConnected(t *testing.T) {
	var r recorder
	m := Items(NewModel(Status{Conn: Connected, User: "Alice"}, 3, now), r.actions())
	want := []string{
		"EchoTray — connected as Alice · 3 unread (off)", "-",
		"Open history", "-",
		"Pause notifications for 1 hour", "Settings", "Reconnect now", "Send test notification", "-",
		"Sign out", "-",
		"Quit",
	}
	if got := rows(m); !reflect.DeepEqual(got, want) {
		t.Errorf("menu\n got %q\nwant %q", got, want)
	}
	if !find(t, m, LabelQuit).IsQuit {
		t.Error("Quit item is not marked IsQuit")
	}
}

func TestMenuActionsFire(t *testing.T) {
	var r recorder
	m := Items(NewModel(Status{Conn: Connected}, 0, now), r.actions())
	for _, label := range []string{LabelOpenHistory, LabelPause, LabelSettings, LabelReconnect, LabelSendTest, LabelSignOut, LabelQuit} {
		find(t, m, label).Action()
	}
	want := []string{"history", "pause", "settings", "reconnect", "test", "signout", "quit"}
	if !reflect.DeepEqual(r.fired, want) {
		t.Errorf("fired %q, want %q", r.fired, want)
	}
}

func TestMenuPausedTogglesToResume(t *testing.T) {
	var r recorder
	s := Status{Conn: Connected, PausedUntil: now.Add(time.Hour)}
	m := Items(NewModel(s, 0, now), r.actions())
	find(t, m, LabelResume).Action()
	for _, it := range m {
		if it.Label == LabelPause {
			t.Error("paused menu still offers Pause")
		}
	}
	if !reflect.DeepEqual(r.fired, []string{"resume"}) {
		t.Errorf("fired %q", r.fired)
	}
	// Once the pause is over, the same status gives Pause again.
	m = Items(NewModel(s, 0, now.Add(2*time.Hour)), r.actions())
	find(t, m, LabelPause)
}

func TestMenuSignedOut(t *testing.T) {
	for _, st := range []State{SignedOut, Expired} {
		t.Run(st.String(), func(t *testing.T) {
			var r recorder
			m := Items(NewModel(Status{Conn: st}, 0, now), r.actions())
			got := rows(m)
			want := []string{
				got[0], "-",
				"Open history", "Sign in…", "-",
				"Pause notifications for 1 hour (off)", "Settings", "Reconnect now (off)", "Send test notification", "-",
				"Sign out (off)", "-",
				"Quit",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("menu\n got %q\nwant %q", got, want)
			}
			find(t, m, LabelSignIn).Action()
			if !reflect.DeepEqual(r.fired, []string{"signin"}) {
				t.Errorf("fired %q", r.fired)
			}
		})
	}
}

func TestMenuResumeEnabledWhenSignedOut(t *testing.T) {
	var r recorder
	m := Items(NewModel(Status{Conn: SignedOut, PausedUntil: now.Add(time.Hour)}, 0, now), r.actions())
	if it := find(t, m, LabelResume); it.Disabled {
		t.Error("Resume is disabled while signed out; a pause could not be lifted")
	}
}

func TestMenuOfflineAndConnecting(t *testing.T) {
	for _, st := range []State{Offline, Connecting} {
		var r recorder
		m := Items(NewModel(Status{Conn: st}, 0, now), r.actions())
		for _, label := range []string{LabelReconnect, LabelSendTest, LabelSignOut, LabelPause} {
			if find(t, m, label).Disabled {
				t.Errorf("%v: %s disabled", st, label)
			}
		}
	}
}

func TestMenuNilActionDisabled(t *testing.T) {
	m := Items(NewModel(Status{Conn: Connected}, 0, now), Actions{Quit: func() {}})
	if !find(t, m, LabelSettings).Disabled {
		t.Error("item without an action is enabled")
	}
	if find(t, m, LabelQuit).Disabled {
		t.Error("Quit disabled")
	}
}

func TestModelStableDuringCountdown(t *testing.T) {
	s := Status{Conn: Offline, NextAttempt: now.Add(30 * time.Second)}
	a, b := NewModel(s, 1, now), NewModel(s, 1, now.Add(5*time.Second))
	if a != b {
		t.Errorf("model changes with the countdown: %+v vs %+v", a, b)
	}
	if a.Summary != "Offline — reconnecting… · 1 unread" {
		t.Errorf("summary %q", a.Summary)
	}
	if NewModel(s, 2, now) == a {
		t.Error("model ignores the unread count")
	}
}

func TestMenuNoSummary(t *testing.T) {
	m := Items(Model{State: Connected}, Actions{})
	if m[0].Label != LabelOpenHistory {
		t.Errorf("first item %q, want %q", m[0].Label, LabelOpenHistory)
	}
}

// TestItemsShape checks what every menu holds whatever the model:
// separators are bare, exactly one Quit item ends it, and disabled follows
// the action.
func TestItemsShape(t *testing.T) {
	var r recorder
	for _, st := range []State{SignedOut, Connecting, Connected, Offline, Expired, Paused} {
		for _, a := range []Actions{r.actions(), {}} {
			m := Items(NewModel(Status{Conn: st}, 1, now), a)
			quits := 0
			for i, it := range m {
				if it.Separator && (it.Label != "" || it.Action != nil || it.IsQuit) {
					t.Errorf("%v: separator %d has %+v", st, i, it)
				}
				if !it.Separator && it.Label == "" {
					t.Errorf("%v: item %d has no label", st, i)
				}
				if it.Action == nil && !it.Separator && !it.Disabled {
					t.Errorf("%v: %q has no action but is enabled", st, it.Label)
				}
				if it.IsQuit {
					quits++
					if i != len(m)-1 || it.Label != LabelQuit {
						t.Errorf("%v: quit item %q at %d of %d", st, it.Label, i, len(m))
					}
				}
			}
			if quits != 1 {
				t.Errorf("%v: %d quit items", st, quits)
			}
		}
	}
}
