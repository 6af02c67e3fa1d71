package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// systemRig is a user config dir and a machine-wide file for one test.
type systemRig struct {
	dir, sysPath string
}

func newSystemRig(t *testing.T, system string) systemRig {
	t.Helper()
	root := t.TempDir()
	r := systemRig{dir: filepath.Join(root, "user"), sysPath: filepath.Join(root, "etc", "config.json")}
	if system != "" {
		if err := os.MkdirAll(filepath.Dir(r.sysPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(r.sysPath, []byte(system), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r systemRig) env(extra map[string]string) func(string) string {
	return func(k string) string {
		if k == EnvSystemConfig {
			return r.sysPath
		}
		return extra[k]
	}
}

func (r systemRig) writeUser(t *testing.T, body string) {
	t.Helper()
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "config.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (r systemRig) open(t *testing.T, env map[string]string) *ConfigStore {
	t.Helper()
	s, err := OpenConfig(r.dir, r.env(env))
	if err != nil {
		t.Fatalf("OpenConfig: %v", err)
	}
	return s
}

func TestSystemConfigPath(t *testing.T) {
	if got := SystemConfigPath(func(k string) string {
		if k == EnvSystemConfig {
			return " /tmp/x.json "
		}
		return ""
	}); got != "/tmp/x.json" {
		t.Errorf("SystemConfigPath with %s = %q", EnvSystemConfig, got)
	}
	if got := SystemConfigPath(func(string) string { return "" }); got == "" || !strings.HasSuffix(filepath.ToSlash(got), "config.json") {
		t.Errorf("SystemConfigPath = %q", got)
	}
}

func TestSystemFileIsReadBeforeTheUsers(t *testing.T) {
	r := newSystemRig(t, `{"server": "billing.example.com", "pusher": {"host": "ws.example.com", "port": 443, "scheme": "https"}, "history": {"max_entries": 500}}`)
	r.writeUser(t, `{"pusher": {"port": 6443}, "config_version": 2}`)
	s := r.open(t, nil)
	c := s.Effective()
	if c.Server != "https://billing.example.com" {
		t.Errorf("server %q: the system file's, normalised", c.Server)
	}
	if c.Pusher.Host != "ws.example.com" || c.Pusher.Scheme != "https" || c.Pusher.Port != 6443 {
		t.Errorf("pusher %+v: host and scheme from the system file, port from the user's", c.Pusher)
	}
	if c.History.MaxEntries != 500 || c.History.MaxAgeDays != DefaultMaxAgeDays {
		t.Errorf("history %+v", c.History)
	}
	if s.Locked("server") || s.Locked("pusher.port") || s.SystemProblem() != "" {
		t.Error("nothing is locked, nothing is wrong")
	}
}

func TestSystemLocksKeys(t *testing.T) {
	r := newSystemRig(t, `{"server": "https://billing.example.com", "pusher": {"key": "corp-key"}, "locked": ["server", "pusher"]}`)
	r.writeUser(t, `{"server": "https://evil.example.com", "pusher": {"key": "mine", "host": "mine.example.com"}, "email": "ann@example.com", "config_version": 2}`)
	var logs bytes.Buffer
	s := r.open(t, map[string]string{EnvServer: "https://env.example.com", EnvPusherHost: "env.example.com"})
	s.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	c := s.Effective()
	if c.Server != "https://billing.example.com" || c.Pusher.Key != "corp-key" || c.Pusher.Host != DefaultPusherHost {
		t.Errorf("locked keys from the user file or the environment won: server %q pusher %+v", c.Server, c.Pusher)
	}
	if c.Email != "ann@example.com" {
		t.Errorf("email %q: not locked, the user's", c.Email)
	}
	for key, want := range map[string]bool{"server": true, "pusher": true, "pusher.host": true, "pusher.key": true, "paths": false, "paths.auth": false, "email": false} {
		if got := s.Locked(key); got != want {
			t.Errorf("Locked(%q) = %v, want %v", key, got, want)
		}
	}
	if got := strings.Count(logs.String(), "locked by the machine-wide file"); got != 3 {
		t.Errorf("ignored user keys logged %d times, want 3 (server, pusher.key, pusher.host):\n%s", got, logs.String())
	}
	// Logged once, not at every reload.
	if _, err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(logs.String(), "locked by the machine-wide file"); got != 3 {
		t.Errorf("logged again after Reload: %d", got)
	}
	// Update refuses to change them, with a plain sentence.
	err := s.Update(func(c *Config) { c.Server = "https://other.example.com" })
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.Keys[0] != "server" {
		t.Fatalf("Update of a locked key: %v", err)
	}
	if err.Error() != "The server address is set by your administrator and cannot be changed on this computer." {
		t.Errorf("LockedError text %q", err.Error())
	}
	if err := s.Update(func(c *Config) { c.Pusher.Port = 1 }); !errors.Is(err, ErrLocked) {
		t.Errorf("Update of a key in a locked group: %v", err)
	}
	// Other keys still save; the locked ones (same value) are no change.
	if err := s.Update(func(c *Config) { c.Server = "https://billing.example.com"; c.Email = "bob@example.com" }); err != nil {
		t.Fatalf("Update of an unlocked key: %v", err)
	}
	if got := s.Effective().Email; got != "bob@example.com" {
		t.Errorf("email %q", got)
	}
	if got := s.LockedKeys(); strings.Join(got, ",") != "pusher,server" {
		t.Errorf("LockedKeys = %v", got)
	}
}

func TestSystemLockDottedKey(t *testing.T) {
	r := newSystemRig(t, `{"notifications": {"channel": ""}, "locked": ["notifications.channel", "no.such.key"]}`)
	s := r.open(t, nil)
	if !s.Locked("notifications.channel") || s.Locked("notifications") || s.Locked("notifications.muted") {
		t.Error("only notifications.channel is locked")
	}
	if err := s.Update(func(c *Config) { c.Notifications.Muted = []string{"X"} }); err != nil {
		t.Errorf("muting is not locked: %v", err)
	}
	if err := s.Update(func(c *Config) { c.Notifications.Channel = "private-x.{id}" }); !errors.Is(err, ErrLocked) {
		t.Errorf("channel is locked: %v", err)
	}
	if got := s.Effective().Notifications.Channel; got != "" {
		t.Errorf("channel %q, want IT's empty one", got)
	}
}

func TestSystemFileMalformedNeverBlocks(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       `{"server": `,
		"empty":          "  ",
		"wrong type":     `{"pusher": {"port": "six"}}`,
		"invalid value":  `{"pusher": {"scheme": "gopher"}}`,
		"bad locked":     `{"locked": "server"}`,
		"bad server":     `{"server": "ftp://x"}`,
		"not an object":  `[1, 2]`,
		"invalid values": `{"server": "https://ok.example.com", "log_level": "loud"}`,
	} {
		t.Run(name, func(t *testing.T) {
			r := newSystemRig(t, body)
			r.writeUser(t, `{"server": "https://mine.example.com", "config_version": 2}`)
			var logs bytes.Buffer
			s := r.open(t, nil) // no error: sign-in must go on
			s.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
			if got := s.Effective().Server; got != "https://mine.example.com" {
				t.Errorf("server %q: the user's, as if there were no system file", got)
			}
			if s.Locked("server") {
				t.Error("a malformed file locks nothing")
			}
			p := s.SystemProblem()
			if !strings.Contains(p, r.sysPath) || !strings.Contains(p, "administrator") ||
				strings.ContainsAny(strings.ReplaceAll(p, r.sysPath, ""), "{}\"") {
				t.Errorf("SystemProblem = %q", p)
			}
			if s.SystemError() == nil || !strings.Contains(logs.String(), "cannot be used") {
				t.Errorf("not logged: %q", logs.String())
			}
			if err := s.Update(func(c *Config) { c.Email = "a@b.c" }); err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
}

func TestSystemFileMissingIsFine(t *testing.T) {
	r := newSystemRig(t, "")
	s := r.open(t, nil)
	if s.SystemProblem() != "" || s.SystemError() != nil || s.Locked("server") {
		t.Error("a missing machine-wide file is no problem")
	}
	if s.SystemPath() != r.sysPath {
		t.Errorf("SystemPath %q", s.SystemPath())
	}
}

func TestUserFileKeepsOnlyExplicitKeys(t *testing.T) {
	r := newSystemRig(t, `{"pusher": {"host": "ws.corp.example"}}`)
	s := r.open(t, nil)
	if err := s.Update(func(c *Config) { c.Server = "https://billing.example.com"; c.Email = "a@example.com" }); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	if len(top) != 3 || top["server"] == nil || top["email"] == nil || string(top["config_version"]) != "2" {
		t.Errorf("user file has more than it was given:\n%s", raw)
	}
	// IT changes the machine-wide file later: the user, who never chose a
	// host, follows.
	if err := os.WriteFile(r.sysPath, []byte(`{"pusher": {"host": "ws2.corp.example"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.Reload(); err != nil || !changed {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	if got := s.Effective().Pusher.Host; got != "ws2.corp.example" {
		t.Errorf("host %q", got)
	}
	// A user's own choice wins; resetting it to IT's value keeps it explicit
	// until it is removed from the file.
	if err := s.Update(func(c *Config) { c.Pusher.Host = "mine.example.com" }); err != nil {
		t.Fatal(err)
	}
	if got := s.Effective().Pusher.Host; got != "mine.example.com" {
		t.Errorf("host %q", got)
	}
}

func TestUserFileUnknownKeysKept(t *testing.T) {
	r := newSystemRig(t, "")
	r.writeUser(t, `{"server": "https://a.example.com", "x_future": {"a": 1}, "config_version": 2}`)
	s := r.open(t, nil)
	if err := s.Update(func(c *Config) { c.Email = "a@example.com" }); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(s.Path())
	if !strings.Contains(string(raw), `"x_future"`) {
		t.Errorf("a key of a newer version was dropped:\n%s", raw)
	}
}

func TestLegacyUserFileDefaultsAreNotChoices(t *testing.T) {
	// An older version wrote every setting: its default-valued keys must
	// not hide discovery or IT's file.
	r := newSystemRig(t, `{"pusher": {"host": "ws.corp.example"}}`)
	full, _ := json.Marshal(func() Config {
		c := DefaultConfig()
		c.Server = "https://a.example.com"
		c.Pusher.Port = 7001
		return c
	}())
	r.writeUser(t, string(full))
	s := r.open(t, nil)
	c := s.Effective()
	if c.Pusher.Host != "ws.corp.example" || c.Pusher.Port != 7001 || c.Server != "https://a.example.com" {
		t.Errorf("pusher %+v server %q", c.Pusher, c.Server)
	}
}

func TestExtraChannels(t *testing.T) {
	c := DefaultConfig()
	c.Channels.Extra = []string{"private-encrypted-tenant.{tenant_id}", " private-encrypted-user.{user_id} ", "", "private-encrypted-user.{user_id}", "public-news"}
	tenant := int64(7)
	if got := strings.Join(c.ExtraChannels(5, &tenant), ","); got != "private-encrypted-tenant.7,private-encrypted-user.5,public-news" {
		t.Errorf("with a tenant: %s", got)
	}
	if got := strings.Join(c.ExtraChannels(5, nil), ","); got != "private-encrypted-user.5,public-news" {
		t.Errorf("without a tenant: %s", got)
	}
	if got := DefaultConfig().ExtraChannels(1, nil); len(got) != 0 {
		t.Errorf("no extra channels: %v", got)
	}
}

func TestServerWrittenAsPeopleDo(t *testing.T) {
	r := newSystemRig(t, "")
	r.writeUser(t, `{"server": "billing.example.com", "config_version": 2}`)
	s := r.open(t, nil)
	if got := s.Effective().Server; got != "https://billing.example.com" {
		t.Errorf("hand-written server read as %q", got)
	}
	if err := s.Update(func(c *Config) { c.Server = " Other.Example.com/login " }); err != nil {
		t.Fatal(err)
	}
	if got := s.File().Server; got != "https://other.example.com" {
		t.Errorf("saved server %q, want it normalised", got)
	}
	err := s.Update(func(c *Config) { c.Server = "ftp://x" })
	if err == nil || !strings.Contains(err.Error(), "like billing.example.com") {
		t.Errorf("Update with a bad server: %v", err)
	}
}
