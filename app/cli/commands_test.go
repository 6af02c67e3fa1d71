package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"echotray/app"
)

// run runs Main as the process would, with the output collected.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = Main(args, Env{Info: app.BuildInfo{Name: "EchoTray", ID: "net.traidnet.echotray", Version: "1.2.3"},
		Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestMainUsage(t *testing.T) {
	newTestEnv(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // a part of stdout
		stderr   string // a part of stderr
		noStdout bool
	}{
		{name: "help", args: []string{"help"}, code: ExitOK, stdout: "echotray watch [--json] [--no-notify]"},
		{name: "version", args: []string{"version"}, code: ExitOK, stdout: "EchoTray 1.2.3 (net.traidnet.echotray)\n"},
		{name: "unknown", args: []string{"frobnicate"}, code: ExitUsage, stderr: `echotray: unknown command "frobnicate"`, noStdout: true},
		{name: "bad flag", args: []string{"watch", "--bogus"}, code: ExitUsage, stderr: "Usage: echotray watch", noStdout: true},
		{name: "arguments", args: []string{"status", "now"}, code: ExitUsage, stderr: "unexpected arguments: now", noStdout: true},
		{name: "negative limit", args: []string{"history", "--limit", "-1"}, code: ExitUsage, stderr: "--limit must not be negative", noStdout: true},
		{name: "command help", args: []string{"login", "--help"}, code: ExitOK, stderr: "--password-stdin", noStdout: true},
		{name: "bad level", args: []string{"status", "--log-level", "loud"}, code: ExitUsage, stderr: "loud", noStdout: true},
		{name: "window is internal", args: []string{"help"}, code: ExitOK, stdout: "echotray status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) ||
				(tt.noStdout && stdout != "") {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "echotray window") {
				t.Errorf("the usage names the internal window command:\n%s%s", stdout, stderr)
			}
		})
	}
}

// Main runs a command end to end: config, log file, keyring, output.
func TestMainStatus(t *testing.T) {
	r := newCLIRig(t)
	code, stdout, stderr := run(t, "status")
	if code != ExitAuth || !strings.HasPrefix(stdout, "Nobody is signed in.") || stderr != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r.login(t, tenantUser())
	code, stdout, stderr = run(t, "status")
	if code != ExitOK || !strings.HasPrefix(stdout, "Signed in as Tina Tenant") || stderr != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(r.env.dir, "cache", "logs", "echotray.log")); err != nil {
		t.Errorf("no log file: %v", err)
	}
	code, stdout, _ = run(t, "history")
	if code != ExitOK || stdout != "The history is empty.\n" {
		t.Errorf("history: exit %d %q", code, stdout)
	}
}

// A corrupt config file is named, exit code 1.
func TestMainCorruptConfig(t *testing.T) {
	e := newTestEnv(t)
	corruptConfig(t, e)
	code, stdout, stderr := run(t, "status")
	if code != ExitError || !strings.Contains(stderr, e.cfg.Path()) || stdout != "" {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestParseWindow(t *testing.T) {
	newTestEnv(t)
	tests := []struct {
		name string
		args []string
		want WindowFlags
		code int
		ok   bool
	}{
		{"default", nil, WindowFlags{Show: app.WindowHistory, LogLevel: "warn"}, ExitOK, true},
		{"entry", []string{"--show", "history", "--entry", "42"}, WindowFlags{Show: app.WindowHistory, Entry: 42, LogLevel: "warn"}, ExitOK, true},
		{"sign-in notice", []string{"--show", "signin", "--notice", "Session expired.", "--log-level", "debug"},
			WindowFlags{Show: app.WindowSignIn, Notice: "Session expired.", LogLevel: "debug"}, ExitOK, true},
		{"settings", []string{"--show", "settings"}, WindowFlags{Show: app.WindowSettings, LogLevel: "warn"}, ExitOK, true},
		{"help", []string{"--help"}, WindowFlags{}, ExitOK, false},
		{"bad window", []string{"--show", "about"}, WindowFlags{}, ExitUsage, false},
		{"negative entry", []string{"--entry", "-1"}, WindowFlags{}, ExitUsage, false},
		{"arguments", []string{"history"}, WindowFlags{}, ExitUsage, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut strings.Builder
			got, code, ok := ParseWindow(tt.args, Env{LogLevel: "warn", Stderr: &errOut})
			if ok != tt.ok || code != tt.code || (ok && got != tt.want) {
				t.Errorf("got %+v, %d, %v; want %+v, %d, %v\n%s", got, code, ok, tt.want, tt.code, tt.ok, errOut.String())
			}
			if !ok && !strings.Contains(errOut.String(), "Usage: echotray window") {
				t.Errorf("no usage on stderr:\n%s", errOut.String())
			}
		})
	}
}

// The window process logs to a file of its own next to the core's, and
// goes on with the defaults when the config file is corrupt.
func TestStartProcessWindow(t *testing.T) {
	e := newTestEnv(t)
	corruptConfig(t, e)
	var errOut strings.Builder
	p, code := StartProcess(Env{Stderr: &errOut, Startup: "lang: Error parsing user locale C\n"}, "", WindowLogName)
	if p == nil {
		t.Fatalf("no process (exit %d): %s", code, errOut.String())
	}
	want := filepath.Join(e.dir, "cache", "logs", WindowLogName)
	if p.Logs.Path != want || p.ConfigErr == nil || p.Config == nil {
		t.Errorf("log %q (want %q), config error %v", p.Logs.Path, want, p.ConfigErr)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	core, err := app.LogPath()
	if err != nil || filepath.Dir(core) != filepath.Dir(want) || core == want {
		t.Errorf("core log %q (%v) is not a different file next to %q", core, err, want)
	}
	b, _ := os.ReadFile(want)
	if !strings.Contains(string(b), "config file unusable; using the defaults") || strings.Contains(string(b), "locale") {
		t.Errorf("window log:\n%s", b)
	}
	if !strings.Contains(errOut.String(), "config file unusable") {
		t.Errorf("stderr (warnings and up): %q", errOut.String())
	}
	if p, code := StartProcess(Env{Stderr: &errOut}, "loud", WindowLogName); p != nil || code != ExitUsage {
		t.Errorf("--log-level loud: %v, exit %d", p, code)
	}
}

// corruptConfig writes a config file that is not JSON.
func corruptConfig(t *testing.T, e *testEnv) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(e.cfg.Path()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.cfg.Path(), []byte("{nope"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A machine-wide file that locks the server: login flags that would change
// it exit 2 with the reason, before any password is asked for.
func TestMainLoginLockedFlags(t *testing.T) {
	e := newTestEnv(t)
	sys := filepath.Join(e.dir, "system.json")
	if err := os.WriteFile(sys, []byte(`{"server": "billing.example.com", "pusher": {"host": "ws.corp.example"}, "locked": ["server", "pusher.host"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(app.EnvSystemConfig, sys)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--server", "https://other.example.com"}, []string{"--server cannot be used", "the server address is set by your administrator", sys, "https://billing.example.com"}},
		{[]string{"--pusher-host", "ws.mine.example"}, []string{"--pusher-host cannot be used", "administrator"}},
		{[]string{"--server", "other.example.com", "--pusher-host", "x"}, []string{"--server and --pusher-host cannot be used", "the server address and the WebSocket host are set"}},
	} {
		code, stdout, stderr := run(t, append([]string{"login", "--email", "a@example.com", "--password-stdin"}, tt.args...)...)
		if code != ExitUsage || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", tt.args, code, stdout)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tt.args, stderr, w)
			}
		}
	}
	// The locked value itself is no change: the command goes on (and stops
	// at the missing password).
	code, _, stderr := run(t, "login", "--server", "https://billing.example.com/", "--email", "a@example.com", "--password-stdin")
	if strings.Contains(stderr, "administrator") || code == ExitOK {
		t.Errorf("the locked server given: exit %d\n%s", code, stderr)
	}
}

// A malformed machine-wide file is reported and does not stop a command.
func TestMainSystemProblemNoted(t *testing.T) {
	e := newTestEnv(t)
	sys := filepath.Join(e.dir, "system.json")
	if err := os.WriteFile(sys, []byte(`{"server": `), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(app.EnvSystemConfig, sys)
	code, stdout, stderr := run(t, "status")
	if code != ExitAuth || !strings.Contains(stdout, "Nobody is signed in") || !strings.Contains(stderr, "Please tell your administrator") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
