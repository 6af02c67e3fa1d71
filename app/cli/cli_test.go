package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"echotray/app"
	"echotray/history"
	"echotray/notify"
)

// cliRig runs CLI commands against the fake backend and Pusher server.
type cliRig struct {
	b        *fakeBackend
	p        *fakePusher
	env      *testEnv
	notifier *recordingNotifier
}

func newCLIRig(t *testing.T) *cliRig {
	t.Helper()
	r := &cliRig{b: newFakeBackend(t, tenantUser(), adminUser()), p: newFakePusher(t), notifier: newRecordingNotifier()}
	r.env = newTestEnv(t)
	return r
}

// cli returns Commands as a new process would build it: a fresh session.
func (r *cliRig) cli(stdin string, stdout, stderr io.Writer) *Commands {
	return &Commands{
		Stdin:    strings.NewReader(stdin),
		Stdout:   r.env.red.Writer(stdout),
		Stderr:   r.env.red.Writer(stderr),
		Config:   r.env.cfg,
		Logger:   r.env.logger,
		Redactor: r.env.red,
		Secrets:  r.env.secrets,
		Notifier: r.notifier,
	}
}

func (r *cliRig) login(t *testing.T, who fakeUser) {
	t.Helper()
	var out, errOut strings.Builder
	pc := r.p.config()
	err := r.cli(who.Password+"\n", &out, &errOut).Login(context.Background(), LoginOptions{
		Server: r.b.URL(), Email: who.Email, PasswordStdin: true,
		Pusher: PusherFlags{Key: pc.Key, Host: pc.Host, Port: pc.Port, Scheme: "http"},
	})
	if err != nil {
		t.Fatalf("login: %v\n%s", err, errOut.String())
	}
}

func TestCLILogin(t *testing.T) {
	r := newCLIRig(t)
	var out, errOut strings.Builder
	pc := r.p.config()
	err := r.cli("secret-pw\n", &out, &errOut).Login(context.Background(), LoginOptions{
		Server: r.b.URL(), Email: "tina@example.com", PasswordStdin: true,
		Pusher: PusherFlags{Key: "my-key", Host: pc.Host, Port: pc.Port, Scheme: "http"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "Signed in as Tina Tenant <tina@example.com> (tenant admin, tenant 7) on " + r.b.URL() + "\nChannels: tenant.7, private-user.5\n"
	if out.String() != want {
		t.Errorf("output:\n%q\nwant\n%q", out.String(), want)
	}
	f := r.env.cfg.File()
	if f.Pusher.Key != "my-key" || f.Pusher.Port != pc.Port || f.Pusher.Host != pc.Host || f.Server != r.b.URL() || f.Email != "tina@example.com" {
		t.Errorf("settings not stored: %+v", f)
	}
	if ExitCode(err) != ExitOK {
		t.Error("exit code")
	}
}

func TestCLILoginWrongPassword(t *testing.T) {
	r := newCLIRig(t)
	var out, errOut strings.Builder
	err := r.cli("bad\n", &out, &errOut).Login(context.Background(), LoginOptions{
		Server: r.b.URL(), Email: "tina@example.com", PasswordStdin: true})
	if ExitCode(err) != ExitAuth {
		t.Fatalf("exit code %d for %v", ExitCode(err), err)
	}
	if err.Error() != "sign-in failed: These credentials do not match our records." {
		t.Errorf("message %q", err)
	}
	if out.String() != "" {
		t.Errorf("stdout %q", out.String())
	}
}

func TestCLILoginServerUnreachable(t *testing.T) {
	r := newCLIRig(t)
	url := r.b.URL()
	r.b.srv.Close()
	err := r.cli("pw\n", io.Discard, io.Discard).Login(context.Background(), LoginOptions{
		Server: url, Email: "tina@example.com", PasswordStdin: true})
	if ExitCode(err) != ExitError || !strings.Contains(err.Error(), "Cannot reach "+url+": connection refused") {
		t.Fatalf("exit %d: %v", ExitCode(err), err)
	}
}

func TestCLILoginNoKeyring(t *testing.T) {
	r := newCLIRig(t)
	keyring.MockInitWithError(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	defer keyring.MockInit()
	err := r.cli("secret-pw\n", io.Discard, io.Discard).Login(context.Background(), LoginOptions{
		Server: r.b.URL(), Email: "tina@example.com", PasswordStdin: true})
	if ExitCode(err) != ExitKeyring {
		t.Fatalf("exit %d: %v", ExitCode(err), err)
	}
	for _, want := range []string{"system keyring is unavailable", "no Secret Service is running", "session-only sign-in", "never written to a file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%s", want, err)
		}
	}
	if r.b.stat(&r.b.logins) != 0 {
		t.Error("the server was contacted")
	}
}

func TestCLILoginUsage(t *testing.T) {
	r := newCLIRig(t)
	tests := []struct {
		name  string
		stdin string
		o     LoginOptions
	}{
		{"no server", "pw\n", LoginOptions{Email: "a@b", PasswordStdin: true}},
		{"no email", "pw\n", LoginOptions{Server: r.b.URL(), PasswordStdin: true}},
		{"empty stdin", "", LoginOptions{Server: r.b.URL(), Email: "a@b", PasswordStdin: true}},
		{"no terminal", "", LoginOptions{Server: r.b.URL(), Email: "a@b"}},
		{"bad scheme", "pw\n", LoginOptions{Server: r.b.URL(), Email: "a@b", PasswordStdin: true, Pusher: PusherFlags{Scheme: "wss"}}},
		{"bad port", "pw\n", LoginOptions{Server: r.b.URL(), Email: "a@b", PasswordStdin: true, Pusher: PusherFlags{Port: 70000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.cli(tt.stdin, io.Discard, io.Discard).Login(context.Background(), tt.o)
			if ExitCode(err) != ExitUsage {
				t.Errorf("exit %d: %v", ExitCode(err), err)
			}
		})
	}
}

func TestCLIPasswordPrompt(t *testing.T) {
	r := newCLIRig(t)
	c := r.cli("", io.Discard, io.Discard)
	c.IsTerminal = func() bool { return true }
	c.ReadPassword = func() (string, error) { return "secret-pw", nil }
	if err := c.Login(context.Background(), LoginOptions{Server: r.b.URL(), Email: "tina@example.com"}); err != nil {
		t.Fatal(err)
	}
}

func TestCLIStatus(t *testing.T) {
	r := newCLIRig(t)
	var out strings.Builder
	err := r.cli("", &out, io.Discard).Status(context.Background())
	if ExitCode(err) != ExitAuth || !strings.HasPrefix(out.String(), "Nobody is signed in. Sign in with: echotray login") {
		t.Fatalf("exit %d %v:\n%s", ExitCode(err), err, out.String())
	}
	if !Reported(err) {
		t.Error("status printed the problem itself; main must not repeat it")
	}
	r.login(t, tenantUser())
	out.Reset()
	if err := r.cli("", &out, io.Discard).Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Signed in as Tina Tenant <tina@example.com> (tenant admin, tenant 7)\n",
		`Token:      in the system keyring (service "echotray", account "tina@example.com")`,
		"Channels:   tenant.7, private-user.5\n",
		"Server:     " + r.b.URL() + "\n",
		"WebSocket:  ws://127.0.0.1:",
		"Namespace:  App\\Events\n",
		"Config:     " + r.env.cfg.Path() + "\n",
		"History:    " + filepath.Join(r.env.dir, "data", "history.db") + "\n",
		"Log:        " + filepath.Join(r.env.dir, "cache", "logs", "echotray.log") + "\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	r.b.revokeAll()
	out.Reset()
	err = r.cli("", &out, io.Discard).Status(context.Background())
	if ExitCode(err) != ExitAuth || !strings.HasPrefix(out.String(), "Session expired, please sign in again") {
		t.Fatalf("exit %d %v:\n%s", ExitCode(err), err, out.String())
	}
}

func TestCLILogout(t *testing.T) {
	r := newCLIRig(t)
	r.login(t, tenantUser())
	var out strings.Builder
	if err := r.cli("", &out, io.Discard).Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Signed out.\n" || r.b.tokenCount() != 0 {
		t.Errorf("out %q, server tokens %d", out.String(), r.b.tokenCount())
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Error("token still in keyring")
	}
	out.Reset()
	if err := r.cli("", &out, io.Discard).Logout(context.Background()); err != nil || out.String() != "Nobody is signed in.\n" {
		t.Errorf("second logout: %v %q", err, out.String())
	}
}

func TestCLILogoutServerDownWarns(t *testing.T) {
	r := newCLIRig(t)
	r.login(t, tenantUser())
	r.b.srv.Close()
	var out, errOut strings.Builder
	if err := r.cli("", &out, &errOut).Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Signed out.\n" || !strings.Contains(errOut.String(), "the server could not be told") {
		t.Errorf("out %q err %q", out.String(), errOut.String())
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Error("token still in keyring")
	}
}

// watchRun runs Watch in the background with stdout as lines.
type watchRun struct {
	lines  chan string
	done   chan error
	cancel context.CancelFunc
	stderr *syncBuffer
}

func (r *cliRig) watch(t *testing.T, o WatchOptions) *watchRun {
	t.Helper()
	pr, pw := io.Pipe()
	w := &watchRun{lines: make(chan string, 64), done: make(chan error, 1), stderr: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	go func() {
		err := r.cli("", pw, w.stderr).Watch(ctx, o)
		pw.Close()
		w.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		<-w.done
	})
	return w
}

func (w *watchRun) line(t *testing.T) string {
	t.Helper()
	select {
	case l := <-w.lines:
		return l
	case <-time.After(10 * time.Second):
		t.Fatalf("no output line within 10 s; stderr:\n%s", w.stderr.String())
		return ""
	}
}

func (w *watchRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-w.done:
		w.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("watch did not end within 15 s; stderr:\n%s", w.stderr.String())
		return nil
	}
}

func TestCLIWatchJSON(t *testing.T) {
	r := newCLIRig(t)
	r.login(t, tenantUser())
	w := r.watch(t, WatchOptions{JSON: true})
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	r.p.publish("tenant.8", `App\Events\PaymentCompleted`, map[string]any{"amount": 1})
	r.p.publish("tenant.7", `App\Events\PaymentCompleted`, map[string]any{"amount": 500, "currency": "KES", "phone": "0712345678"})
	var got WatchLine
	line := w.line(t)
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("not JSON: %q", line)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal([]byte(line), &keys)
	for _, k := range []string{"time", "channel", "event", "type", "title", "message", "data"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("line lacks %q: %s", k, line)
		}
	}
	if got.Channel != "tenant.7" || got.Event != "PaymentCompleted" || got.Type != notify.TypeSuccess || got.Title == "" ||
		time.Since(got.Time) > time.Minute {
		t.Errorf("line %+v", got)
	}
	var data map[string]any
	if err := json.Unmarshal(got.Data, &data); err != nil || data["currency"] != "KES" {
		t.Errorf("data %s", got.Data)
	}
	m := r.notifier.wait(t)
	if m.Title != got.Title {
		t.Errorf("notification %+v", m)
	}
	r.p.publish("private-user.5", "AccountSuspended", map[string]any{"reason": "unpaid"})
	if err := json.Unmarshal([]byte(w.line(t)), &got); err != nil || got.Event != "AccountSuspended" || got.Channel != "private-user.5" {
		t.Errorf("private line %+v %v", got, err)
	}
	w.cancel()
	if err := w.wait(t); err != nil || ExitCode(err) != ExitOK {
		t.Fatalf("Ctrl-C: %v", err)
	}
	for _, want := range []string{"Watching as Tina Tenant", "Subscribed to tenant.7.", "Subscribed to private-user.5.", "Connected to ws://"} {
		if !strings.Contains(w.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, w.stderr.String())
		}
	}
	// Both events are in the history.
	st, err := app.OpenHistory(r.env.cfg.Effective(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.Count(context.Background(), history.Query{}); n != 2 {
		t.Errorf("history has %d entries, want 2", n)
	}
}

func TestCLIWatchNoNotifyAndText(t *testing.T) {
	r := newCLIRig(t)
	r.login(t, adminUser())
	w := r.watch(t, WatchOptions{NoNotify: true})
	r.p.waitSubscribed(t, "private-system.admin", "private-user.1")
	r.p.publish("private-system.admin", `App\Events\SystemAlert`, map[string]any{"message": "Disk almost full", "level": "error"})
	line := w.line(t)
	if !strings.Contains(line, "private-system.admin") || !strings.Contains(line, "SystemAlert") || !strings.Contains(line, "[error]") ||
		!strings.Contains(line, "Disk almost full") {
		t.Errorf("line %q", line)
	}
	select {
	case m := <-r.notifier.ch:
		t.Errorf("--no-notify showed %+v", m)
	default:
	}
}

func TestCLIWatchSessionExpired(t *testing.T) {
	r := newCLIRig(t)
	r.login(t, tenantUser())
	w := r.watch(t, WatchOptions{JSON: true})
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	r.b.revokeAll()
	r.p.dropAll()
	err := w.wait(t)
	if ExitCode(err) != ExitAuth || !strings.Contains(err.Error(), "Session expired, please sign in again: echotray login") {
		t.Fatalf("exit %d: %v", ExitCode(err), err)
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Error("token still in keyring")
	}
}

func TestCLIWatchNotSignedIn(t *testing.T) {
	r := newCLIRig(t)
	err := r.cli("", io.Discard, io.Discard).Watch(context.Background(), WatchOptions{})
	if ExitCode(err) != ExitAuth || !strings.Contains(err.Error(), "nobody is signed in") {
		t.Fatalf("exit %d: %v", ExitCode(err), err)
	}
}

func TestCLITokenNeverInOutputOrLogs(t *testing.T) {
	r := newCLIRig(t)
	var all strings.Builder
	pc := r.p.config()
	c := r.cli("secret-pw\n", &all, &all)
	if err := c.Login(context.Background(), LoginOptions{Server: r.b.URL(), Email: "tina@example.com", PasswordStdin: true,
		Pusher: PusherFlags{Key: pc.Key, Host: pc.Host, Port: pc.Port}}); err != nil {
		t.Fatal(err)
	}
	token, err := keyring.Get("echotray", "tina@example.com")
	if err != nil {
		t.Fatal(err)
	}
	_ = r.cli("", &all, &all).Status(context.Background())
	w := r.watch(t, WatchOptions{JSON: true})
	r.p.waitSubscribed(t, "tenant.7", "private-user.5")
	// Even an event carrying the token is masked in the output.
	r.p.publish("tenant.7", "SystemNotification", map[string]any{"message": "leak " + token})
	line := w.line(t)
	w.cancel()
	_ = w.wait(t)
	_ = r.cli("", &all, &all).Logout(context.Background())
	outputs := map[string]string{
		"stdout/stderr": all.String() + line + w.stderr.String(),
		"log":           r.env.logBuf.String(),
	}
	_ = filepath.WalkDir(r.env.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".db") && !strings.Contains(p, ".db-") {
			b, _ := os.ReadFile(p)
			outputs[p] = string(b)
		}
		return nil
	})
	for where, text := range outputs {
		if strings.Contains(text, token) {
			t.Errorf("token found in %s", where)
		}
	}
	if !strings.Contains(line, "leak [REDACTED]") {
		t.Errorf("line %q", line)
	}
}

func TestExitCodes(t *testing.T) {
	tests := map[error]int{
		nil:                                 ExitOK,
		errors.New("x"):                     ExitError,
		&UsageError{"u"}:                    ExitUsage,
		app.ErrNotSignedIn:                  ExitAuth,
		sessionError(app.ErrSessionExpired): ExitAuth,
		&app.APIError{Kind: app.KindUnauthorized}:                                  ExitAuth,
		&app.APIError{Kind: app.KindValidation}:                                    ExitAuth,
		&app.APIError{Kind: app.KindServer}:                                        ExitError,
		&app.KeyringError{Unavailable: true, Err: errors.New("x")}:                 ExitKeyring,
		&reportedError{&app.KeyringError{Unavailable: true, Err: errors.New("x")}}: ExitKeyring,
	}
	for err, want := range tests {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestCLIOpenHistoryReportsRecovery(t *testing.T) {
	r := newCLIRig(t)
	path := filepath.Join(r.env.dir, "data", "history.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("this is not a database, just damage"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	st, err := r.cli("", io.Discard, &errOut).OpenHistory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !strings.Contains(errOut.String(), "The history file was damaged; it was moved to "+path) {
		t.Errorf("stderr %q", errOut.String())
	}
}

func TestCLIWatchRetriesWhileServerDown(t *testing.T) {
	r := newCLIRig(t)
	r.login(t, tenantUser())
	r.b.mu.Lock()
	r.b.failStatus = 503
	r.b.mu.Unlock()
	w := r.watch(t, WatchOptions{})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(w.stderr.String(), "The server had a problem (503); trying again in 2 s (Ctrl-C to stop)") {
		if time.Now().After(deadline) {
			t.Fatalf("no retry note; stderr:\n%s", w.stderr.String())
		}
		select {
		case err := <-w.done:
			t.Fatalf("watch gave up on a 503: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	w.cancel()
	if err := w.wait(t); err != nil {
		t.Fatalf("Ctrl-C while retrying: %v", err)
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); err != nil {
		t.Error("a server problem deleted the token")
	}
}

func TestParseBuildInfo(t *testing.T) {
	raw, err := os.ReadFile("../../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	info, err := app.ParseBuildInfo(raw)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "EchoTray" || info.ID != "net.traidnet.echotray" || info.Version == "" || !info.Migrations["fyneDo"] {
		t.Errorf("info %+v", info)
	}
	if got, want := info.String(), "EchoTray "+info.Version+" (net.traidnet.echotray)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, bad := range []string{"[Details\n", "[Details]\nName = \"X\"\n"} {
		if _, err := app.ParseBuildInfo([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// A WebSocket setting that cannot be saved (a host with a port) is a usage
// error found before signing in: no token stored, nobody half signed in.
func TestCLILoginInvalidPusherHostSignsNobodyIn(t *testing.T) {
	r := newCLIRig(t)
	var out, errOut strings.Builder
	err := r.cli("secret-pw\n", &out, &errOut).Login(context.Background(), LoginOptions{
		Server: r.b.URL(), Email: "tina@example.com", PasswordStdin: true,
		Pusher: PusherFlags{Host: "ws.example.com:6001"},
	})
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), `"ws.example.com:6001"`) {
		t.Fatalf("exit %d: %v", ExitCode(err), err)
	}
	if n := r.b.stat(&r.b.logins); n != 0 {
		t.Errorf("signed in on the server (%d logins) with settings that cannot be saved", n)
	}
	if _, kerr := r.env.secrets.Get("tina@example.com"); !errors.Is(kerr, app.ErrSecretNotFound) {
		t.Errorf("a token is stored after a failed login: %v", kerr)
	}
	if out.String() != "" {
		t.Errorf("stdout %q", out.String())
	}
}
