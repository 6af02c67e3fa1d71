package app

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"echotray/notify"
)

func noEnv(string) string { return "" }

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaultsWhenMissing(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenConfig(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Effective()
	d := DefaultConfig()
	if c.Pusher != d.Pusher || c.Paths != d.Paths || c.Namespace != `App\Events` {
		t.Errorf("effective %+v, want defaults", c)
	}
	if c.Pusher.Key != "local-key" || c.Pusher.Host != "localhost" || c.Pusher.Port != 6001 ||
		c.Pusher.Scheme != "http" || c.Pusher.Cluster != "mt1" {
		t.Errorf("pusher defaults %+v", c.Pusher)
	}
	if c.Paths.Login != "/api/login" || c.Paths.User != "/api/user" || c.Paths.Logout != "/api/logout" || c.Paths.Auth != "/broadcasting/auth" {
		t.Errorf("path defaults %+v", c.Paths)
	}
	if c.History.MaxEntries != 10000 || c.History.MaxAgeDays != 90 {
		t.Errorf("history defaults %+v", c.History)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("opening created the file: %v", err)
	}
}

func TestConfigSaveAndReload(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "echotray")
	s, _ := OpenConfig(dir, noEnv)
	var seen []Config
	s.OnChange(func(c Config) { seen = append(seen, c) })
	err := s.Update(func(c *Config) {
		c.Server = "https://billing.example.com"
		c.Email = "tina@example.com"
		c.Pusher.Port = 6002
		c.Notifications.Muted = []string{"UserUpdated"}
		c.Notifications.Overrides = map[string]notify.Override{"PaymentCompleted": {Title: "Paid: {amount}"}}
		c.Notifications.FloodWindow = Duration(30 * time.Second)
		c.Notifications.PausedUntil = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].Pusher.Port != 6002 {
		t.Errorf("OnChange got %+v", seen)
	}
	st, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(dir)
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", dst.Mode().Perm())
	}
	raw, _ := os.ReadFile(s.Path())
	if !strings.Contains(string(raw), `"flood_window": "30s"`) {
		t.Errorf("flood window not written as a duration string:\n%s", raw)
	}
	s2, err := OpenConfig(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := s2.Effective()
	if c.Server != "https://billing.example.com" || c.Email != "tina@example.com" || c.Pusher.Port != 6002 ||
		c.Notifications.Overrides["PaymentCompleted"].Title != "Paid: {amount}" ||
		time.Duration(c.Notifications.FloodWindow) != 30*time.Second ||
		!c.Notifications.PausedUntil.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("reloaded %+v", c)
	}
	p := c.Prefs()
	if !p.Muted["UserUpdated"] || p.FloodWindow != 30*time.Second || p.FloodLimit != 3 {
		t.Errorf("prefs %+v", p)
	}
}

func TestConfigCorruptFileNamedAndKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{"server": "https://x", `), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := OpenConfig(dir, noEnv)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Path != path {
		t.Fatalf("err = %v, want a ConfigError for %s", err, path)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("message %q should name the file and the problem", err)
	}
	if s == nil || s.Effective().Pusher.Key != "local-key" {
		t.Fatal("a corrupt file must still give a store with the defaults")
	}
	// Saving moves the corrupt file aside instead of destroying it.
	if err := s.Update(func(c *Config) { c.Server = "https://y" }); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(path + ".corrupt-*")
	if len(matches) != 1 {
		t.Fatalf("corrupt copy: %v", matches)
	}
	old, _ := os.ReadFile(matches[0])
	if string(old) != `{"server": "https://x", ` {
		t.Errorf("corrupt copy changed: %q", old)
	}
}

func TestConfigEmptyAndWrongTypes(t *testing.T) {
	for name, body := range map[string]string{
		"empty":      "",
		"wrong type": `{"pusher": {"port": "six"}}`,
		"bad dur":    `{"notifications": {"flood_window": "soon"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_ = os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o600)
			_, err := OpenConfig(dir, noEnv)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want ConfigError", err)
			}
		})
	}
}

func TestConfigLayers(t *testing.T) {
	dir := t.TempDir()
	s, _ := OpenConfig(dir, noEnv)
	_ = s.Update(func(c *Config) { c.Server = "https://file"; c.Pusher.Host = "file-host" })
	env := envMap(map[string]string{
		EnvServer: "https://env", EnvPusherKey: "env-key", EnvPusherHost: "env-host", EnvPusherPort: "7001",
		EnvPusherScheme: "HTTPS", EnvPusherCluster: "eu", EnvAuthPath: "/custom/auth",
		EnvNamespace: `Acme\Events`, EnvLogLevel: "debug",
	})
	s, err := OpenConfig(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Effective()
	want := PusherConfig{Key: "env-key", Host: "env-host", Port: 7001, Scheme: "https", Cluster: "eu"}
	if c.Server != "https://env" || c.Pusher != want || c.Paths.Auth != "/custom/auth" ||
		c.Namespace != `Acme\Events` || c.LogLevel != "debug" {
		t.Errorf("env layer: %+v", c)
	}
	if f := s.File(); f.Server != "https://file" || f.Pusher.Host != "file-host" {
		t.Errorf("env leaked into the file layer: %+v", f)
	}
	s.SetOverrides(func(c *Config) { c.Pusher.Host = "flag-host" })
	if got := s.Effective().Pusher.Host; got != "flag-host" {
		t.Errorf("flags must override env: host %q", got)
	}
	// Saving keeps env and flag values out of the file.
	_ = s.Update(func(c *Config) { c.StartHidden = true })
	raw, _ := os.ReadFile(s.Path())
	if strings.Contains(string(raw), "env-host") || strings.Contains(string(raw), "flag-host") {
		t.Errorf("override saved in the file:\n%s", raw)
	}
}

func TestConfigBadEnvReported(t *testing.T) {
	s, err := OpenConfig(t.TempDir(), envMap(map[string]string{
		EnvPusherPort: "abc", EnvPusherScheme: "ftp", EnvLogLevel: "loud", EnvPusherHost: "ok-host",
	}))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Path != "" {
		t.Fatalf("err = %v, want an environment ConfigError", err)
	}
	for _, want := range []string{"ECHOTRAY_PUSHER_PORT", "ECHOTRAY_PUSHER_SCHEME", "ECHOTRAY_LOG_LEVEL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	c := s.Effective()
	if c.Pusher.Port != 6001 || c.Pusher.Scheme != "http" || c.Pusher.Host != "ok-host" {
		t.Errorf("valid variables must still apply, invalid ones not: %+v", c.Pusher)
	}
}

func TestConfigValidateRejectsAndKeepsFile(t *testing.T) {
	dir := t.TempDir()
	s, _ := OpenConfig(dir, noEnv)
	_ = s.Update(func(c *Config) { c.Pusher.Port = 6010 })
	err := s.Update(func(c *Config) { c.Pusher.Scheme = "ws"; c.Pusher.Port = 70000 })
	if err == nil || !strings.Contains(err.Error(), "scheme") || !strings.Contains(err.Error(), "70000") {
		t.Fatalf("err = %v", err)
	}
	s2, _ := OpenConfig(dir, noEnv)
	if s2.File().Pusher.Port != 6010 {
		t.Error("an invalid update changed the file")
	}
}

func TestDurationJSON(t *testing.T) {
	var d Duration
	if err := json.Unmarshal([]byte(`15`), &d); err != nil || time.Duration(d) != 15*time.Second {
		t.Errorf("seconds: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`"1m30s"`), &d); err != nil || time.Duration(d) != 90*time.Second {
		t.Errorf("string: %v %v", d, err)
	}
}

func TestConfigNeverHoldsToken(t *testing.T) {
	// Config has no field that could carry a token: every string field is
	// named, and the e-mail is the only account datum.
	b, _ := json.Marshal(DefaultConfig())
	for _, k := range []string{"token", "password", "secret"} {
		if strings.Contains(strings.ToLower(string(b)), k) {
			t.Errorf("config JSON has a %q field: %s", k, b)
		}
	}
}

func TestAppDirsFromEnv(t *testing.T) {
	base := t.TempDir()
	t.Setenv(EnvConfigDir, base+"/c")
	t.Setenv(EnvCacheDir, base+"/k")
	if d, _ := ConfigDir(); d != base+"/c" {
		t.Errorf("ConfigDir = %s", d)
	}
	if p, _ := LogPath(); p != filepath.Join(base, "k", "logs", "echotray.log") {
		t.Errorf("LogPath = %s", p)
	}
}

// assertSymlink fails unless path is a symbolic link to want.
func assertSymlink(t *testing.T, path, want string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symbolic link (%v, %v)", path, fi.Mode(), err)
	}
	if got, _ := os.Readlink(path); got != want {
		t.Errorf("%s points to %q, want %q", path, got, want)
	}
}

// onlyFiles fails unless dir holds exactly names (no temporary files left).
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func TestConfigSymlinkWrittenThrough(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "config")
	dots := filepath.Join(root, "dotfiles", "echotray")
	for _, d := range []string{dir, dots} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(dots, "config.json")
	if err := os.WriteFile(target, []byte(`{"server":"https://old.example.com"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config.json")
	rel := filepath.Join("..", "dotfiles", "echotray", "config.json")
	if err := os.Symlink(rel, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	s, err := OpenConfig(dir, noEnv)
	if err != nil || s.File().Server != "https://old.example.com" {
		t.Fatalf("open through the link: %v, %q", err, s.File().Server)
	}
	for _, server := range []string{"https://new.example.com", "https://newer.example.com"} {
		if err := s.Update(func(c *Config) { c.Server = server }); err != nil {
			t.Fatal(err)
		}
		assertSymlink(t, link, rel)
		raw, err := os.ReadFile(target)
		if err != nil || !strings.Contains(string(raw), server) {
			t.Fatalf("target holds %q, %v; want %s", raw, err, server)
		}
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("target mode %v, want 0600", fi.Mode().Perm())
	}
	onlyFiles(t, dir, "config.json")
	onlyFiles(t, dots, "config.json")

	// A chain of two links, the last one absolute.
	mid := filepath.Join(root, "dotfiles", "mid.json")
	if err := os.Symlink(target, mid); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mid, link); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(c *Config) { c.Server = "https://chain.example.com" }); err != nil {
		t.Fatal(err)
	}
	assertSymlink(t, link, mid)
	assertSymlink(t, mid, target)
	if raw, _ := os.ReadFile(target); !strings.Contains(string(raw), "chain.example.com") {
		t.Errorf("target holds %q", raw)
	}
}

func TestConfigSymlinkEdgeCases(t *testing.T) {
	root := t.TempDir()
	link := filepath.Join(root, "config.json")
	if err := os.Symlink("dots/config.json", link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	s, err := OpenConfig(root, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	// Dangling, into a folder that does not exist: refused, clearly.
	err = s.Update(func(c *Config) { c.Server = "https://x.example.com" })
	if err == nil || !strings.Contains(err.Error(), "is a symbolic link to") || !strings.Contains(err.Error(), "folder does not exist") {
		t.Errorf("dangling link into nowhere: %v", err)
	}
	assertSymlink(t, link, "dots/config.json")
	// Dangling, into a folder that exists: the file is created there.
	if err := os.Mkdir(filepath.Join(root, "dots"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(c *Config) { c.Server = "https://x.example.com" }); err != nil {
		t.Fatal(err)
	}
	assertSymlink(t, link, "dots/config.json")
	if raw, _ := os.ReadFile(filepath.Join(root, "dots", "config.json")); !strings.Contains(string(raw), "x.example.com") {
		t.Errorf("target holds %q", raw)
	}

	// A loop: refused, and left as it is.
	loopDir := t.TempDir()
	a, b := filepath.Join(loopDir, "config.json"), filepath.Join(loopDir, "b.json")
	if err := os.Symlink("b.json", a); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("config.json", b); err != nil {
		t.Fatal(err)
	}
	ls, _ := OpenConfig(loopDir, noEnv)
	if err := ls.Update(func(c *Config) { c.Server = "https://x.example.com" }); err == nil || !strings.Contains(err.Error(), "leads to itself") {
		t.Errorf("loop: %v", err)
	}
	assertSymlink(t, a, "b.json")
}

func TestConfigSymlinkCorruptTargetMovedAside(t *testing.T) {
	root := t.TempDir()
	dots := filepath.Join(root, "dots")
	if err := os.Mkdir(dots, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dots, "echotray.json")
	if err := os.WriteFile(target, []byte(`{"server": `), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "config.json")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	s, err := OpenConfig(root, noEnv)
	if err == nil {
		t.Fatal("a corrupt target was not reported")
	}
	if err := s.Update(func(c *Config) { c.Server = "https://y.example.com" }); err != nil {
		t.Fatal(err)
	}
	assertSymlink(t, link, target)
	aside, _ := filepath.Glob(target + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("corrupt copy: %v", aside)
	}
	if raw, _ := os.ReadFile(aside[0]); string(raw) != `{"server": ` {
		t.Errorf("corrupt copy holds %q", raw)
	}
	if raw, _ := os.ReadFile(target); !strings.Contains(string(raw), "y.example.com") {
		t.Errorf("target holds %q", raw)
	}
}

// TestConfigErrorsWhilePausedDefault: "show errors while paused" is on for
// a fresh install and for a config file without the key (older versions
// did not always write it); a file that says false keeps false.
func TestConfigErrorsWhilePausedDefault(t *testing.T) {
	if !DefaultConfig().Notifications.AllowErrorsWhilePaused || !DefaultConfig().Prefs().AllowErrorsWhilePaused {
		t.Fatal("errors while paused are off by default")
	}
	for _, tc := range []struct {
		name, file string // file "" = no config file
		want       bool
	}{
		{"no file", "", true},
		{"missing key", `{"server":"https://billing.example.com","notifications":{"flood_limit":3}}`, true},
		{"no notifications", `{"server":"https://billing.example.com"}`, true},
		{"null notifications", `{"notifications":null}`, true},
		{"explicit false", `{"notifications":{"allow_errors_while_paused":false}}`, false},
		{"explicit true", `{"notifications":{"allow_errors_while_paused":true}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := OpenConfig(dir, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			c := s.Effective()
			if c.Notifications.AllowErrorsWhilePaused != tc.want || c.Prefs().AllowErrorsWhilePaused != tc.want {
				t.Errorf("allow errors while paused = %v (prefs %v), want %v",
					c.Notifications.AllowErrorsWhilePaused, c.Prefs().AllowErrorsWhilePaused, tc.want)
			}
		})
	}
}

// TestConfigErrorsShownWhilePausedByDefault: with the default settings,
// pausing hides a completed payment but still shows a failed one; with
// the setting turned off in the file, both are hidden.
func TestConfigErrorsShownWhilePausedByDefault(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"defaults", "", []string{"Payment Failed"}},
		{"explicit false", `{"notifications":{"allow_errors_while_paused":false}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := OpenConfig(dir, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			prefs := s.Effective().Prefs()
			prefs.PausedUntil = notify.PausedForever
			n := newRecordingNotifier()
			c := notify.NewCenter(notify.CenterConfig{Notifier: n, Prefs: prefs})
			for _, ev := range []string{"PaymentCompleted", "PaymentFailed"} {
				if _, _, err := c.Handle(t.Context(), notify.Incoming{Channel: "tenant.1", Event: ev, Data: json.RawMessage(`{"amount":1500}`)}); err != nil {
					t.Fatal(err)
				}
			}
			c.Close() // waits for the delivery of what was queued
			n.mu.Lock()
			var got []string
			for _, m := range n.msgs {
				got = append(got, m.Title)
			}
			n.mu.Unlock()
			if !slices.Equal(got, tc.want) {
				t.Errorf("shown while paused: %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNormalizeServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"billing.example.com":          "https://billing.example.com",
		"  billing.example.com/  ":     "https://billing.example.com",
		"Billing.Example.COM":          "https://billing.example.com",
		"HTTPS://Billing.Example.com/": "https://billing.example.com",
		"http://127.0.0.1:8000":        "http://127.0.0.1:8000",
		"127.0.0.1:40317":              "http://127.0.0.1:40317",
		"localhost:8000":               "http://localhost:8000",
		"app.localhost":                "http://app.localhost",
		"[::1]:8000":                   "http://[::1]:8000",
		"10.0.0.5:8000":                "https://10.0.0.5:8000",
		"http://10.0.0.5:8000":         "http://10.0.0.5:8000",
		"billing.example.com:8443":     "https://billing.example.com:8443",
		"https://billing.example.com/dashboard/payments?x=1": "https://billing.example.com",
		"https://billing.example.com/login":                  "https://billing.example.com",
		"https://billing.example.com/api/user":               "https://billing.example.com",
		"https://billing.example.com/#/payments":             "https://billing.example.com",
		"https://billing.example.com/reports?month=3":        "https://billing.example.com",
		"https://example.com/billing":                        "https://example.com/billing",
		"https://example.com/billing/":                       "https://example.com/billing",
		"https://example.com/billing/login?next=/home":       "https://example.com/billing",
		"https://example.com/billing/index.php/dashboard":    "https://example.com/billing",
		"https://stage:pw@stage.example.com/home":            "https://stage:pw@stage.example.com",
		"intranet-billing":                                   "https://intranet-billing",
	} {
		got, err := NormalizeServerURL(in)
		if err != nil || got != want {
			t.Errorf("NormalizeServerURL(%q) = %q, %v; want %q", in, got, err, want)
			continue
		}
		// The result is a valid stored server and is stable.
		if again, err := NormalizeServerURL(got); err != nil || again != got {
			t.Errorf("NormalizeServerURL(%q) again = %q, %v", got, again, err)
		}
		if _, err := NormalizeServer(got); err != nil {
			t.Errorf("NormalizeServer(%q): %v", got, err)
		}
	}
}

func TestNormalizeServerURLErrorsArePlain(t *testing.T) {
	for in, mention := range map[string]string{
		"":                        "like billing.example.com",
		"   ":                     "like billing.example.com",
		"ftp://billing.example":   "https://",
		"ws://billing.example":    "https://",
		"anna@example.com":        "e-mail address",
		"billing example com":     "not a server address",
		"https://":                "no server name",
		"https:/billing.example":  "two slashes",
		"billing.example.com:0":   "between 1 and 65535",
		"billing.example.com:99x": "between 1 and 65535",
		"https://h:70000":         "between 1 and 65535",
		"https://u:S3cret@:80/":   "no server name",
	} {
		_, err := NormalizeServerURL(in)
		if err == nil {
			t.Errorf("NormalizeServerURL(%q) accepted", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, mention) {
			t.Errorf("NormalizeServerURL(%q) = %q, want it to mention %q", in, msg, mention)
		}
		if !strings.HasSuffix(msg, serverAddressHint) {
			t.Errorf("NormalizeServerURL(%q) = %q does not end with the hint", in, msg)
		}
		for _, jargon := range []string{"parse", "invalid", "url.", "%!"} {
			if strings.Contains(strings.ToLower(msg), jargon) {
				t.Errorf("NormalizeServerURL(%q) = %q has %q", in, msg, jargon)
			}
		}
		if strings.Contains(msg, "S3cret") {
			t.Errorf("NormalizeServerURL(%q) shows the password: %q", in, msg)
		}
	}
}

func FuzzNormalizeServerURL(f *testing.F) {
	for _, s := range []string{"billing.example.com", "http://127.0.0.1:8000/x?y#z", "[::1]", "a@b", "https://u:p@h:1/api"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeServerURL(in)
		if err != nil {
			return
		}
		if _, err := NormalizeServer(got); err != nil {
			t.Fatalf("NormalizeServerURL(%q) = %q, not a valid server: %v", in, got, err)
		}
		if again, err := NormalizeServerURL(got); err != nil || again != got {
			t.Fatalf("not stable: %q → %q → %q, %v", in, got, again, err)
		}
	})
}
