//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Exit codes of echotray (see `echotray --help`).
const (
	exitError   = 1
	exitUsage   = 2
	exitAuth    = 3
	exitKeyring = 4
)

// secretRE finds the token in `secret-tool search --all` output.
var secretRE = regexp.MustCompile(`(?m)^secret = (.+)$`)

// storedToken returns the token the keyring holds for EchoTray; the test
// fails if there is none.
func storedToken(t *testing.T, d *Desktop, account string) string {
	t.Helper()
	out := d.SecretSearch(t)
	if !strings.Contains(out, "attribute.service = echotray") || !strings.Contains(out, "attribute.username = "+account) {
		t.Fatalf("no EchoTray token for %s in the keyring:\n%s", account, out)
	}
	m := secretRE.FindStringSubmatch(out)
	if m == nil || len(strings.TrimSpace(m[1])) < 10 {
		t.Fatalf("no secret in:\n%s", out)
	}
	return strings.TrimSpace(m[1])
}

// assertNoToken fails if the token occurs in any file under dir (except
// the history database) or in any of the texts.
func assertNoToken(t *testing.T, token, dir string, texts map[string]string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(filepath.Base(p), "history.db") {
			if strings.Contains(readAll(p), token) {
				t.Errorf("the token is written in %s", p)
			}
		}
		return nil
	})
	for where, s := range texts {
		if strings.Contains(s, token) {
			t.Errorf("the token appears in %s", where)
		}
	}
}

// historyLines runs `echotray history --json` and returns its entries.
func historyLines(t *testing.T, a *App) []map[string]any {
	t.Helper()
	r := a.Run(t, "", "history", "--json", "--limit", "100")
	if r.Code != 0 {
		t.Fatalf("history --json:\n%s", r)
	}
	var res []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("history line %q: %v", sc.Text(), err)
		}
		res = append(res, m)
	}
	return res
}

// TestTenantStaff: sign in via the CLI, watch receives the tenant and the
// private events and raises notifications, another tenant's events never
// arrive, a Soketi restart is survived, the history has it all, logout
// empties the keyring.
func TestTenantStaff(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := StartStack(t)
	a := d.NewApp(t)

	login := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...)
	if login.Code != 0 || !strings.Contains(login.Stdout, "Signed in as Alice Wanjiru <alice@tenant1.test> (tenant admin, tenant 1)") ||
		!strings.Contains(login.Stdout, "Channels: tenant.1, private-user.1") {
		t.Fatalf("login:\n%s", login)
	}
	token := storedToken(t, d, "alice@tenant1.test")
	cfg := readAll(a.ConfigFile())
	if !strings.Contains(cfg, `"email": "alice@tenant1.test"`) || !strings.Contains(cfg, st.Laravel.URL()) {
		t.Errorf("config file lacks the account or server:\n%s", cfg)
	}
	if fi, err := os.Stat(a.ConfigFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config file mode: %v %v", fi, err)
	}

	status := a.Run(t, "", "status")
	if status.Code != 0 || !strings.Contains(status.Stdout, "Signed in as Alice Wanjiru") ||
		!strings.Contains(status.Stdout, "Channels:   tenant.1, private-user.1") {
		t.Fatalf("status:\n%s", status)
	}

	w := a.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to tenant.1.", 1)
	w.WaitStderr(t, "Subscribed to private-user.1.", 1)

	// Bob's tenant first: it must never arrive.
	st.Publish(t, "tenant.2", `App\Events\PaymentCompleted`, map[string]any{"amount": 999, "currency": "KES", "phone": "0700000002"})
	st.Publish(t, "private-user.2", `App\Events\PasswordChanged`, map[string]any{"user": map[string]any{"id": 2}})
	st.Publish(t, "tenant.1", `App\Events\PaymentCompleted`, map[string]any{"amount": 500, "currency": "KES", "phone": "0712345678"})
	st.Publish(t, "private-user.1", `App\Events\PasswordChanged`, map[string]any{"user": map[string]any{"id": 1, "name": "Alice Wanjiru"}})

	pay := w.JSONLine(t)
	if pay.Channel != "tenant.1" || pay.Event != "PaymentCompleted" || pay.Type != "success" || pay.Title == "" {
		t.Fatalf("first event: %+v", pay)
	}
	var payData map[string]any
	if err := json.Unmarshal(pay.Data, &payData); err != nil || payData["amount"] != float64(500) {
		t.Errorf("payment data %s", pay.Data)
	}
	pw := w.JSONLine(t)
	if pw.Channel != "private-user.1" || pw.Event != "PasswordChanged" {
		t.Fatalf("second event: %+v", pw)
	}
	for _, l := range []WatchLine{pay, pw} {
		n := d.WaitNotification(t, l.Title, func(n Notification) bool { return n.Summary == l.Title && n.Body == l.Message })
		if n.AppName != "EchoTray" {
			t.Errorf("notification app name %q", n.AppName)
		}
	}

	// Soketi restarts: the client reconnects and resubscribes by itself.
	ctx := context.Background()
	if err := st.Soketi.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	w.WaitStderr(t, "Subscribed to tenant.1.", 2)
	w.WaitStderr(t, "Subscribed to private-user.1.", 2)
	st.Publish(t, "tenant.2", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"name": "Other Tenant User"}})
	st.Publish(t, "tenant.1", `App\Events\UserCreated`, map[string]any{"user": map[string]any{"name": "John Doe"}})
	uc := w.JSONLine(t)
	if uc.Channel != "tenant.1" || uc.Event != "UserCreated" || !strings.Contains(uc.Message, "John Doe") {
		t.Fatalf("event after the restart: %+v", uc)
	}
	d.WaitNotification(t, uc.Title, func(n Notification) bool { return n.Summary == uc.Title && n.Body == uc.Message })

	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("watch after Ctrl-C exited %d\n%s", code, w.Stderr.String())
	}
	if out := w.Stdout(); strings.Contains(out, "tenant.2") || strings.Contains(out, "private-user.2") ||
		strings.Contains(out, "Other Tenant User") || strings.Count(out, "\n") != 3 {
		t.Errorf("watch printed other events than the three expected:\n%s", out)
	}
	for _, n := range d.Notifications() {
		if strings.Contains(n.Body, "Other Tenant") || strings.Contains(n.Body, "999") {
			t.Errorf("another tenant's event was notified: %+v", n)
		}
	}

	hist := historyLines(t, a)
	events := map[string]bool{}
	for _, h := range hist {
		events[h["event"].(string)] = true
		if h["channel"] == "tenant.2" || h["channel"] == "private-user.2" {
			t.Errorf("another tenant's event in the history: %v", h)
		}
	}
	if len(hist) != 3 || !events["PaymentCompleted"] || !events["PasswordChanged"] || !events["UserCreated"] {
		t.Errorf("history: %v", hist)
	}

	logout := a.Run(t, "", "logout")
	if logout.Code != 0 || !strings.Contains(logout.Stdout, "Signed out.") {
		t.Fatalf("logout:\n%s", logout)
	}
	if s := d.SecretSearch(t); strings.TrimSpace(s) != "" {
		t.Errorf("keyring not empty after logout:\n%s", s)
	}
	if n := st.Laravel.Tokens(); n != 0 {
		t.Errorf("the server still has %d live tokens after logout", n)
	}
	after := a.Run(t, "", "status")
	if after.Code != exitAuth || !strings.Contains(after.Stdout, "Nobody is signed in.") {
		t.Errorf("status after logout:\n%s", after)
	}
	assertNoToken(t, token, a.Dir, map[string]string{
		"login output": login.Stdout + login.Stderr, "status output": status.Stdout + status.Stderr,
		"watch output": w.Stdout() + w.Stderr.String(), "logout output": logout.Stdout + logout.Stderr,
	})
	if !strings.Contains(readAll(a.LogFile()), "signed in") {
		t.Errorf("the log file %s has no record of the sign-in", a.LogFile())
	}
}

// TestRevokedSession: tokens revoked on the server → watch exits non-zero
// telling the user to sign in again, and the token is gone.
func TestRevokedSession(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := StartStack(t)
	a := d.NewApp(t)
	if r := a.Run(t, "password\n", st.LoginArgs("bob@tenant2.test")...); r.Code != 0 {
		t.Fatalf("login:\n%s", r)
	}
	storedToken(t, d, "bob@tenant2.test")
	w := a.Start(t, "watch", "--json", "--no-notify")
	w.WaitStderr(t, "Subscribed to tenant.2.", 1)
	w.WaitStderr(t, "Subscribed to private-user.2.", 1)

	st.Laravel.RevokeAll()
	// The next channel authorisation (after the reconnect a restart
	// forces) answers 401.
	if err := st.Soketi.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	code := w.Wait(t)
	if code != exitAuth {
		t.Fatalf("watch exited %d, want %d\n%s", code, exitAuth, w.Stderr.String())
	}
	if !strings.Contains(w.Stderr.String(), "Session expired, please sign in again: echotray login") {
		t.Errorf("watch did not tell the user to sign in:\n%s", w.Stderr.String())
	}
	if s := d.SecretSearch(t); strings.TrimSpace(s) != "" {
		t.Errorf("expired token still in the keyring:\n%s", s)
	}
	r := a.Run(t, "", "watch")
	if r.Code != exitAuth || !strings.Contains(r.Stderr, "nobody is signed in") {
		t.Errorf("watch without a session:\n%s", r)
	}
}

// TestSystemAdmin: an admin gets private-system.admin and their private
// channel, not tenant channels.
func TestSystemAdmin(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true, Notifications: true})
	st := StartStack(t)
	a := d.NewApp(t)
	login := a.Run(t, "password\n", st.LoginArgs("admin@echotray.test")...)
	if login.Code != 0 || !strings.Contains(login.Stdout, "(system admin)") ||
		!strings.Contains(login.Stdout, "Channels: private-system.admin, private-user.3") {
		t.Fatalf("login:\n%s", login)
	}
	w := a.Start(t, "watch", "--json")
	w.WaitStderr(t, "Subscribed to private-system.admin.", 1)
	w.WaitStderr(t, "Subscribed to private-user.3.", 1)
	st.Publish(t, "tenant.1", `App\Events\PaymentCompleted`, map[string]any{"amount": 1})
	st.Publish(t, "private-system.admin", `App\Events\TenantRegistered`, map[string]any{"tenant": map[string]any{"name": "Acme WiFi"}})
	st.Publish(t, "private-system.admin", `App\Events\SystemAlert`, map[string]any{"message": "Disk almost full", "level": "error"})
	reg := w.JSONLine(t)
	if reg.Channel != "private-system.admin" || reg.Event != "TenantRegistered" {
		t.Fatalf("event: %+v", reg)
	}
	alert := w.JSONLine(t)
	if alert.Event != "SystemAlert" || alert.Type != "error" {
		t.Fatalf("event: %+v", alert)
	}
	d.WaitNotification(t, reg.Title, func(n Notification) bool { return n.Summary == reg.Title && n.Body == reg.Message })
	n := d.WaitNotification(t, alert.Title, func(n Notification) bool { return n.Summary == alert.Title })
	if n.Urgency != 2 {
		t.Errorf("an error notification has urgency %d, want 2 (critical)", n.Urgency)
	}
	w.Interrupt(t)
	if code := w.Wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(w.Stdout(), "tenant.1") {
		t.Errorf("an admin received a tenant event:\n%s", w.Stdout())
	}
}

// TestWrongPassword: the backend's message, a non-zero exit, nothing
// stored.
func TestWrongPassword(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{Keyring: true})
	st := StartStack(t)
	a := d.NewApp(t)
	r := a.Run(t, "not-the-password\n", st.LoginArgs("alice@tenant1.test")...)
	if r.Code != exitAuth || !strings.Contains(r.Stderr, "Invalid credentials.") || r.Stdout != "" {
		t.Fatalf("login with a wrong password:\n%s", r)
	}
	if s := d.SecretSearch(t); strings.TrimSpace(s) != "" {
		t.Errorf("keyring not empty:\n%s", s)
	}
	if st.Laravel.Tokens() != 0 {
		t.Error("the server issued a token")
	}
}

// TestNoKeyring: without a Secret Service the CLI refuses to sign in,
// says why, and points to the tray app's session-only sign-in.
func TestNoKeyring(t *testing.T) {
	d := StartDesktop(t, DesktopOptions{})
	st := StartStack(t)
	a := d.NewApp(t)
	r := a.Run(t, "password\n", st.LoginArgs("alice@tenant1.test")...)
	if r.Code != exitKeyring {
		t.Fatalf("login without a keyring:\n%s", r)
	}
	for _, want := range []string{"the system keyring is unavailable", "session-only sign-in", "never written to a file"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("message lacks %q:\n%s", want, r.Stderr)
		}
	}
	if st.Laravel.Tokens() != 0 {
		t.Error("a token was issued although it could not be kept")
	}
	if strings.Contains(readAll(a.ConfigFile()), "alice") {
		t.Error("the account was saved although sign-in failed")
	}
}

// TestHeadlessWithoutDisplay: --version and status need neither a display
// nor a session bus; the version comes from FyneApp.toml.
func TestHeadlessWithoutDisplay(t *testing.T) {
	toml, err := os.ReadFile(filepath.Join("..", "..", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*` + name + `\s*=\s*"([^"]*)"`).FindSubmatch(toml)
		if m == nil {
			t.Fatalf("FyneApp.toml has no %s", name)
		}
		return string(m[1])
	}
	dir := t.TempDir()
	a := &App{Dir: dir, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"ECHOTRAY_CONFIG_DIR=" + filepath.Join(dir, "config"),
		"ECHOTRAY_DATA_DIR=" + filepath.Join(dir, "data"),
		"ECHOTRAY_CACHE_DIR=" + filepath.Join(dir, "cache"),
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(dir, "no-bus"),
	}}
	v := a.Run(t, "", "--version")
	if want := fmt.Sprintf("%s %s (%s)\n", field("Name"), field("Version"), field("ID")); v.Code != 0 || v.Stdout != want {
		t.Fatalf("--version:\n%s", v)
	}
	if v.Stderr != "" {
		t.Errorf("--version wrote to stderr: %q", v.Stderr)
	}
	s := a.Run(t, "", "status")
	if s.Code != exitKeyring || !strings.Contains(s.Stdout, "the system keyring is unavailable") || !strings.Contains(s.Stdout, "Config:") {
		t.Errorf("status without a bus:\n%s", s)
	}
	u := a.Run(t, "", "watch", "--bogus")
	if u.Code != exitUsage {
		t.Errorf("bad flag:\n%s", u)
	}
	// A corrupt config file is named, not a crash.
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "config.json"), []byte("{nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := a.Run(t, "", "status")
	if c.Code != exitError || !strings.Contains(c.Stderr, filepath.Join(dir, "config", "config.json")) {
		t.Errorf("corrupt config:\n%s", c)
	}
}
