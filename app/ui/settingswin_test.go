package ui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
	"echotray/notify"
)

var settingsNow = time.Date(2026, 3, 4, 10, 0, 0, 0, time.Local)

// fakeAutostart records Set calls.
type fakeAutostart struct {
	on, hidden bool
	calls      int
	err        error
}

func (f *fakeAutostart) Set(on, hidden bool) error {
	f.calls++
	if f.err != nil {
		return f.err
	}
	f.on, f.hidden = on, hidden
	return nil
}

func (f *fakeAutostart) Enabled() (bool, error) { return f.on, nil }

type settingsFixture struct {
	s      *settingsWindow
	cfg    *app.ConfigStore
	auto   *fakeAutostart
	saved  int
	checks []app.Config
	q      *uiQueue
}

func newTestSettings(t *testing.T, env map[string]string) *settingsFixture {
	t.Helper()
	a := test.NewTempApp(t)
	cfg, err := app.OpenConfig(t.TempDir(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	f := &settingsFixture{cfg: cfg, auto: &fakeAutostart{}, q: &uiQueue{}}
	f.s = newSettingsWindow(a, settingsDeps{
		config:    cfg,
		events:    notify.NewCatalog(nil).Known(),
		autostart: f.auto,
		saved:     func() { f.saved++ },
		now:       func() time.Time { return settingsNow },
		runOnUI:   f.q.do,
		check: func(ctx context.Context, c app.Config) (app.CheckResult, app.CheckResult) {
			f.checks = append(f.checks, c)
			return app.CheckResult{OK: true, Text: "API: " + c.Server + " answers."},
				app.CheckResult{Text: "WebSocket: cannot connect to ws://" + c.Pusher.Host + ": connection refused."}
		},
	})
	f.s.win.Resize(fyne.NewSize(640, 700))
	t.Cleanup(f.s.win.Close)
	return f
}

func (f *settingsFixture) check(t *testing.T, name string) {
	t.Helper()
	for i, n := range f.s.deps.events {
		if n == name {
			test.Tap(f.s.mutes[i])
			return
		}
	}
	t.Fatalf("no mute checkbox for %s", name)
}

func TestSettingsWindowTabs(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	settle(f.s.win)
	test.AssertRendersToMarkup(t, "settings/connection.xml", f.s.win.Canvas())
	f.s.tabs.SelectIndex(1)
	settle(f.s.win)
	test.AssertRendersToMarkup(t, "settings/notifications.xml", f.s.win.Canvas())
	f.s.tabs.SelectIndex(2)
	settle(f.s.win)
	test.AssertRendersToMarkup(t, "settings/general.xml", f.s.win.Canvas())
}

func TestSettingsWindowLoadsDefaults(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	d := app.DefaultConfig()
	if f.s.server.Text != d.Server || f.s.key.Text != d.Pusher.Key || f.s.port.Text != "6001" ||
		f.s.scheme.Selected != d.Pusher.Scheme || f.s.authPath.Text != d.Paths.Auth || f.s.namespace.Text != d.Namespace {
		t.Errorf("form does not show the defaults: server %q key %q port %q scheme %q auth %q ns %q",
			f.s.server.Text, f.s.key.Text, f.s.port.Text, f.s.scheme.Selected, f.s.authPath.Text, f.s.namespace.Text)
	}
	if f.s.dnd.Selected != dndOff {
		t.Errorf("DND %q, want %q", f.s.dnd.Selected, dndOff)
	}
	if !f.s.allowErrors.Checked {
		t.Error("\"Show error notifications even while paused\" is off by default")
	}
	if len(f.s.mutes) != len(notify.NewCatalog(nil).Known()) || len(f.s.mutes) == 0 {
		t.Errorf("%d mute checkboxes", len(f.s.mutes))
	}
	if f.s.envNote.Visible() {
		t.Error("environment note without environment overrides")
	}
}

func TestSettingsWindowSave(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	f.s.server.SetText("https://billing.example.com")
	f.s.host.SetText("ws.example.com")
	f.s.port.SetText("443")
	f.s.scheme.SetSelected("https")
	f.s.tabs.SelectIndex(1)
	f.check(t, "PaymentCompleted")
	f.check(t, "UserUpdated")
	f.s.dnd.SetSelected(dndHour)
	test.Tap(f.s.allowErrors) // on by default: this turns it off
	f.s.tabs.SelectIndex(2)
	test.Tap(f.s.startAtLogin)
	test.Tap(f.s.startHidden)
	test.Tap(f.s.save)

	if f.s.message.Visible() {
		t.Fatalf("save failed: %s", f.s.message.Text)
	}
	c := f.cfg.File()
	if c.Server != "https://billing.example.com" || c.Pusher.Host != "ws.example.com" || c.Pusher.Port != 443 || c.Pusher.Scheme != "https" {
		t.Errorf("connection not saved: %+v %+v", c.Server, c.Pusher)
	}
	if want := []string{"PaymentCompleted", "UserUpdated"}; !reflect.DeepEqual(c.Notifications.Muted, want) {
		t.Errorf("muted %q, want %q", c.Notifications.Muted, want)
	}
	if !c.Notifications.PausedUntil.Equal(settingsNow.Add(time.Hour)) || c.Notifications.AllowErrorsWhilePaused {
		t.Errorf("DND not saved: until %v, allow errors %v", c.Notifications.PausedUntil, c.Notifications.AllowErrorsWhilePaused)
	}
	if !c.StartAtLogin || !c.StartHidden {
		t.Errorf("general not saved: %v %v", c.StartAtLogin, c.StartHidden)
	}
	if !f.auto.on || !f.auto.hidden {
		t.Errorf("autostart not enabled with --hidden: %+v", f.auto)
	}
	if f.saved != 1 {
		t.Errorf("saving told the core %d times, want once", f.saved)
	}
	if f.s.shown {
		t.Error("window still open after saving")
	}

	// Reopening shows what was saved; the running pause keeps its end.
	f.s.show()
	if f.s.dnd.Selected != dndHour || !f.s.dndNote.Visible() || f.s.dndNote.Text != "Paused until 11:00." {
		t.Errorf("DND %q note %q", f.s.dnd.Selected, f.s.dndNote.Text)
	}
	f.s.deps.now = func() time.Time { return settingsNow.Add(30 * time.Minute) }
	test.Tap(f.s.save)
	if got := f.cfg.File().Notifications.PausedUntil; !got.Equal(settingsNow.Add(time.Hour)) {
		t.Errorf("saving again moved the pause end to %v", got)
	}
}

func TestSettingsWindowDNDForeverAndOff(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	f.s.dnd.SetSelected(dndForever)
	test.Tap(f.s.save)
	if got := f.cfg.File().Notifications.PausedUntil; !got.Equal(notify.PausedForever) {
		t.Fatalf("paused until %v, want PausedForever", got)
	}
	f.s.show()
	if f.s.dnd.Selected != dndForever {
		t.Errorf("reloaded DND %q", f.s.dnd.Selected)
	}
	f.s.dnd.SetSelected(dndOff)
	test.Tap(f.s.save)
	if got := f.cfg.File().Notifications.PausedUntil; !got.IsZero() {
		t.Errorf("paused until %v after turning it off", got)
	}
}

func TestSettingsWindowInvalidInputKeepsWindow(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	before := f.cfg.File()
	// Each problem shows at its field, at once; Save and Test are off.
	for _, port := range []string{"sixty", "403179", "0", "-1"} {
		f.s.port.SetText(port)
		if f.s.portF.hint.Text != "Enter a number from 1 to 65535, like 443 or 6001." || f.s.portF.hint.Importance != widget.DangerImportance ||
			!f.s.save.Disabled() || !f.s.testButton.Disabled() || f.s.message.Text != invalidFormNote || !f.s.advancedItem.Open {
			t.Errorf("port %q: hint %q, save disabled %v, message %q", port, f.s.portF.hint.Text, f.s.save.Disabled(), f.s.message.Text)
		}
	}
	f.s.port.SetText("6001")
	if f.s.save.Disabled() || f.s.message.Visible() || f.s.portF.hint.Importance == widget.DangerImportance {
		t.Errorf("valid port: save disabled %v, message %q", f.s.save.Disabled(), f.s.message.Text)
	}
	f.s.key.SetText("")
	f.s.server.SetText("ftp://nowhere")
	f.s.host.SetText("https://ws.example.com:6001")
	f.s.authPath.SetText("broadcasting/auth")
	for _, fld := range []*connField{f.s.keyF, f.s.serverF, f.s.hostF, f.s.authPathF} {
		if fld.err == nil || strings.Contains(fld.hint.Text, "parse") {
			t.Errorf("%s: hint %q", fld.key, fld.hint.Text)
		}
	}
	test.Tap(f.s.save)
	if !f.s.message.Visible() {
		t.Fatal("invalid settings saved without a message")
	}
	if !f.s.shown || f.saved != 0 || f.auto.calls != 0 {
		t.Error("invalid settings closed the window or were applied")
	}
	if !reflect.DeepEqual(f.cfg.File(), before) {
		t.Error("invalid settings were written")
	}
	settle(f.s.win)
	test.AssertRendersToMarkup(t, "settings/invalid.xml", f.s.win.Canvas())
}

func TestSettingsWindowAutostartFailure(t *testing.T) {
	f := newTestSettings(t, nil)
	f.auto.err = errors.New("permission denied")
	f.s.show()
	test.Tap(f.s.startAtLogin)
	test.Tap(f.s.save)
	if !f.cfg.File().StartAtLogin {
		t.Error("setting not saved")
	}
	if !f.s.shown || f.s.message.Text != "Saved, but start at login could not be changed: permission denied." {
		t.Errorf("message %q, window shown %v", f.s.message.Text, f.s.shown)
	}
}

func TestSettingsWindowAutostartUntouchedWhenOff(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	test.Tap(f.s.save)
	if f.auto.calls != 0 {
		t.Error("autostart touched although start at login was and stays off")
	}
}

func TestSettingsWindowCancelDropsEdits(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	f.s.host.SetText("elsewhere")
	f.s.hide()
	f.s.show()
	if f.s.host.Text != app.DefaultConfig().Pusher.Host {
		t.Errorf("edit survived cancelling: %q", f.s.host.Text)
	}
	f.s.host.SetText("kept")
	f.s.show() // already open: keeps the edit
	if f.s.host.Text != "kept" {
		t.Error("showing an open window dropped the edits")
	}
}

func TestSettingsWindowEnvironmentNote(t *testing.T) {
	f := newTestSettings(t, map[string]string{"ECHOTRAY_PUSHER_HOST": "from-env", "ECHOTRAY_SERVER": "http://env.example"})
	f.s.show()
	if !f.s.envNote.Visible() || f.s.envNote.Text != "Some settings are set on this computer for EchoTray (ECHOTRAY_SERVER, ECHOTRAY_PUSHER_HOST). What you save here applies once they are removed." {
		t.Errorf("note %q", f.s.envNote.Text)
	}
	if f.s.host.Text == "from-env" {
		t.Error("form shows the environment value instead of the file's")
	}
}

func TestSettingsWindowTestConnection(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	f.s.server.SetText("https://billing.example.com")
	f.s.host.SetText("unsaved-host")
	test.Tap(f.s.testButton)
	f.s.pending.Wait()
	f.q.flush()
	if len(f.checks) != 1 || f.checks[0].Pusher.Host != "unsaved-host" {
		t.Fatalf("check ran with %+v, want the form's unsaved settings", f.checks)
	}
	if f.s.apiResult.Text != "Billing server: https://billing.example.com answers." ||
		f.s.wsResult.Text != "Notification server: can't be reached. Connection refused. Check the settings under Advanced, or ask your administrator." {
		t.Errorf("results %q / %q", f.s.apiResult.Text, f.s.wsResult.Text)
	}
	if f.s.testButton.Disabled() || f.s.testActivity.Visible() {
		t.Error("progress not cleared")
	}
	if f.cfg.File().Pusher.Host == "unsaved-host" {
		t.Error("testing saved the settings")
	}
	settle(f.s.win)
	test.AssertRendersToMarkup(t, "settings/test_connection.xml", f.s.win.Canvas())
}

func TestSettingsWindowShowsFilePaths(t *testing.T) {
	a := test.NewTempApp(t)
	cfg, err := app.OpenConfig(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s := newSettingsWindow(a, settingsDeps{config: cfg, logPath: "/home/ann/.cache/echotray/logs/echotray.log"})
	want := "Settings file: " + cfg.Path() + "\nLog file: /home/ann/.cache/echotray/logs/echotray.log"
	if s.paths == nil || s.paths.Text != want {
		t.Errorf("paths label %v, want %q", s.paths, want)
	}
	if f := newTestSettings(t, nil); f.s.paths != nil {
		t.Error("paths shown without a log path")
	}
}

// TestSettingsWindowServerAddress: "Server address" comes first and takes
// what people type; it is saved as an address.
func TestSettingsWindowServerAddress(t *testing.T) {
	f := newTestSettings(t, nil)
	f.s.show()
	if f.s.advancedItem.Open {
		t.Error("Advanced is open at first")
	}
	f.s.server.SetText("billing.example.com")
	if f.s.serverF.err != nil || f.s.save.Disabled() {
		t.Fatalf("billing.example.com refused: %q", f.s.serverF.hint.Text)
	}
	test.Tap(f.s.save)
	if got := f.cfg.File().Server; got != "https://billing.example.com" {
		t.Errorf("saved server %q", got)
	}
}

// TestSettingsWindowLockedAndFromServer: fields IT locked are disabled and
// say so; values that follow the server are read-only; neither is saved
// from the form.
func TestSettingsWindowLockedAndFromServer(t *testing.T) {
	a := test.NewTempApp(t)
	cfg, err := app.OpenConfig(t.TempDir(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s := newSettingsWindow(a, settingsDeps{
		config:     cfg,
		runOnUI:    func(f func()) { f() },
		locked:     func(k string) bool { return k == "server" || k == "paths.auth" },
		fromServer: func(k string) bool { return strings.HasPrefix(k, "pusher.") || k == "pusher" },
	})
	t.Cleanup(s.win.Close)
	s.show()
	for _, fld := range []*connField{s.serverF, s.authPathF} {
		if !fld.entry.Disabled() || fld.hint.Text != lockedHint {
			t.Errorf("%s: disabled %v, hint %q", fld.key, fld.entry.Disabled(), fld.hint.Text)
		}
	}
	for _, fld := range []*connField{s.keyF, s.hostF, s.portF, s.clusterF, s.pathF} {
		if !fld.entry.Disabled() || fld.hint.Text != fromServerHint {
			t.Errorf("%s: disabled %v, hint %q", fld.key, fld.entry.Disabled(), fld.hint.Text)
		}
	}
	if s.namespace.Disabled() || s.loginPath.Disabled() {
		t.Error("a free field is disabled")
	}
	s.namespace.SetText(`Billing\Events`)
	test.Tap(s.save)
	c := cfg.File()
	if c.Namespace != `Billing\Events` || c.Pusher != app.DefaultConfig().Pusher || c.Server != "" {
		t.Errorf("saved %q %+v %q", c.Namespace, c.Pusher, c.Server)
	}
	s.advanced.Open(0)
	s.win.Resize(fyne.NewSize(640, 900))
	settle(s.win)
	test.AssertRendersToMarkup(t, "settings/locked.xml", s.win.Canvas())
}

func TestCheckResultText(t *testing.T) {
	for _, tc := range []struct {
		r    app.CheckResult
		want string
	}{
		{app.CheckResult{OK: true, Text: "Server: https://billing.example.com answers."}, "Billing server: https://billing.example.com answers."},
		{app.CheckResult{Text: "Notification server: cannot connect to ws://localhost:6001: the notification server refused the connection."},
			"Notification server: can't be reached. The notification server refused the connection. Check the settings under Advanced, or ask your administrator."},
		{app.CheckResult{Text: "API: Get \"http://x/api/user\": dial tcp: connection refused"},
			"Billing server: can't be reached at this address. Connection refused. Check the server address, or ask your administrator."},
		{app.CheckResult{Text: "Notification server: your personal notifications are refused (404): check the permission path."},
			"Notification server: your personal notifications are refused (404): check the permission path."},
	} {
		if got := checkResultText(tc.r); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.r.Text, got, tc.want)
		}
	}
}

// TestSettingsWindowMachineFileLocksServer: with a real machine-wide
// settings file that sets and locks the server, the Server address field
// shows IT's address, disabled, and says so; Save keeps it.
func TestSettingsWindowMachineFileLocksServer(t *testing.T) {
	a := test.NewTempApp(t)
	system := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(system, []byte(`{"server":"https://billing.example.com","locked":["server"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The user's own file names another server: it is ignored.
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"server":"https://other.example.com"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == app.EnvSystemConfig {
			return system
		}
		return ""
	}
	cfg, err := app.OpenConfig(dir, getenv)
	if err != nil {
		t.Fatal(err)
	}
	s := newSettingsWindow(a, settingsDeps{config: cfg, runOnUI: func(f func()) { f() }})
	t.Cleanup(s.win.Close)
	s.show()
	if s.server.Text != "https://billing.example.com" || !s.server.Disabled() || s.serverF.hint.Text != lockedHint {
		t.Errorf("server field %q, disabled %v, hint %q", s.server.Text, s.server.Disabled(), s.serverF.hint.Text)
	}
	if s.namespace.Disabled() {
		t.Error("a field IT did not lock is disabled")
	}
	test.Tap(s.save)
	if got := cfg.Effective().Server; got != "https://billing.example.com" {
		t.Errorf("server after Save %q", got)
	}
}
