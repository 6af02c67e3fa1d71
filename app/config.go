package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"echotray/history"
	"echotray/notify"
	"echotray/realtime"
)

// Default settings.
const (
	DefaultServer       = "" // none until the user signs in
	DefaultPusherKey    = "local-key"
	DefaultPusherHost   = "localhost"
	DefaultPusherPort   = 6001
	DefaultPusherScheme = "http"
	DefaultCluster      = "mt1"
	DefaultNamespace    = `App\Events`
	// DefaultNotificationChannel is Laravel's default channel for a
	// user's broadcast notifications (Echo's .notification()).
	DefaultNotificationChannel = "private-App.Models.User.{id}"
	DefaultLogLevel            = "info"
	DefaultMaxEntries          = history.DefaultMaxEntries
	DefaultMaxAgeDays          = int(history.DefaultMaxAge / (24 * time.Hour))
	DefaultFloodLimit          = notify.DefaultFloodLimit
	DefaultFloodWindow         = notify.DefaultFloodWindow
	configFileName             = "config.json"
	appDirName                 = "echotray"
)

// Environment variables that override the config file.
const (
	EnvServer        = "ECHOTRAY_SERVER"
	EnvPusherKey     = "ECHOTRAY_PUSHER_KEY"
	EnvPusherHost    = "ECHOTRAY_PUSHER_HOST"
	EnvPusherPort    = "ECHOTRAY_PUSHER_PORT"
	EnvPusherScheme  = "ECHOTRAY_PUSHER_SCHEME"
	EnvPusherCluster = "ECHOTRAY_PUSHER_CLUSTER"
	EnvAuthPath      = "ECHOTRAY_AUTH_PATH"
	EnvNamespace     = "ECHOTRAY_NAMESPACE"
	EnvLogLevel      = "ECHOTRAY_LOG_LEVEL"
	EnvConfigDir     = "ECHOTRAY_CONFIG_DIR"
	EnvDataDir       = history.DataDirEnv
	EnvCacheDir      = "ECHOTRAY_CACHE_DIR"
)

// APIPaths are the Laravel endpoints, relative to the server URL.
type APIPaths struct {
	Login  string `json:"login"`  // POST, e-mail and password → token
	User   string `json:"user"`   // GET, the token's user
	Logout string `json:"logout"` // POST, revokes the token
	Auth   string `json:"auth"`   // POST, private channel authorization
}

// withDefaults fills empty paths with Laravel's defaults.
func (p APIPaths) withDefaults() APIPaths {
	d := DefaultConfig().Paths
	p.Login = orDefault(p.Login, d.Login)
	p.User = orDefault(p.User, d.User)
	p.Logout = orDefault(p.Logout, d.Logout)
	p.Auth = orDefault(p.Auth, d.Auth)
	return p
}

// PusherConfig locates the Pusher-protocol WebSocket server (Soketi).
type PusherConfig struct {
	Key     string `json:"key"`     // app key
	Host    string `json:"host"`    // empty: ws-{cluster}.pusher.com
	Port    int    `json:"port"`    // TCP port
	Scheme  string `json:"scheme"`  // "http" (ws://) or "https" (wss://)
	Cluster string `json:"cluster"` // hosted Pusher cluster
	Path    string `json:"path"`    // URL path prefix, usually empty
}

// NotificationConfig holds the notification preferences.
// AllowErrorsWhilePaused (errors, such as a failed payment, show through a
// pause) is on by default: a file is read over DefaultConfig, so a file
// without the key reads as true, and one that says false keeps false.
type NotificationConfig struct {
	Muted                  []string                   `json:"muted,omitempty"`     // short event names never shown
	Overrides              map[string]notify.Override `json:"overrides,omitempty"` // per short event name
	PausedUntil            time.Time                  `json:"paused_until,omitzero"`
	AllowErrorsWhilePaused bool                       `json:"allow_errors_while_paused"`
	FloodLimit             int                        `json:"flood_limit"`  // notifications per window before a summary
	FloodWindow            Duration                   `json:"flood_window"` // e.g. "10s"
	// Channel is the private channel Laravel broadcasts the user's
	// notifications on; "{id}" stands for the user id. Empty turns
	// Laravel notifications off.
	Channel string `json:"channel"`
}

// ChannelsConfig lists channels a deployment adds to the ones the role
// needs, e.g. encrypted variants of the seed's channels.
type ChannelsConfig struct {
	// Extra channel names; "{tenant_id}" and "{user_id}" are replaced.
	Extra []string `json:"extra,omitempty"`
}

// HistoryConfig bounds the history.
type HistoryConfig struct {
	MaxEntries int `json:"max_entries"`  // oldest entries beyond this are pruned
	MaxAgeDays int `json:"max_age_days"` // entries older than this are pruned
}

// Config is every non-secret setting. The token is never part of it.
type Config struct {
	Server        string             `json:"server"`
	Paths         APIPaths           `json:"paths"`
	Pusher        PusherConfig       `json:"pusher"`
	Namespace     string             `json:"namespace"`
	Notifications NotificationConfig `json:"notifications"`
	Channels      ChannelsConfig     `json:"channels"`
	History       HistoryConfig      `json:"history"`
	StartAtLogin  bool               `json:"start_at_login"`
	StartHidden   bool               `json:"start_hidden"`
	LogLevel      string             `json:"log_level"`
	Email         string             `json:"email,omitempty"` // the signed-in account: the keyring account name
}

// DefaultConfig returns the settings of a fresh install.
func DefaultConfig() Config {
	return Config{
		Server: DefaultServer,
		Paths: APIPaths{
			Login:  "/api/login",
			User:   "/api/user",
			Logout: "/api/logout",
			Auth:   "/broadcasting/auth",
		},
		Pusher: PusherConfig{
			Key:     DefaultPusherKey,
			Host:    DefaultPusherHost,
			Port:    DefaultPusherPort,
			Scheme:  DefaultPusherScheme,
			Cluster: DefaultCluster,
		},
		Namespace: DefaultNamespace,
		Notifications: NotificationConfig{
			FloodLimit:  DefaultFloodLimit,
			FloodWindow: Duration(DefaultFloodWindow),

			// Errors show while paused unless the user turns it off.
			AllowErrorsWhilePaused: true,
			Channel:                DefaultNotificationChannel,
		},
		History:  HistoryConfig{MaxEntries: DefaultMaxEntries, MaxAgeDays: DefaultMaxAgeDays},
		LogLevel: DefaultLogLevel,
	}
}

// Duration is a time.Duration written as "10s" in JSON; a bare number is
// read as seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string like "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "10s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want \"10s\" or seconds, got %s", truncate(string(b), 40))
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Validate checks the settings and says what is wrong in words.
func (c Config) Validate() error {
	var errs []error
	if c.Server != "" {
		if _, err := NormalizeServer(c.Server); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Pusher.Key == "" {
		errs = append(errs, errors.New("the Pusher key is empty"))
	}
	if c.Pusher.Port < 0 || c.Pusher.Port > 65535 {
		errs = append(errs, fmt.Errorf("the Pusher port %d is not between 1 and 65535", c.Pusher.Port))
	}
	if c.Pusher.Scheme != "http" && c.Pusher.Scheme != "https" {
		errs = append(errs, fmt.Errorf("the Pusher scheme %q must be http or https", c.Pusher.Scheme))
	}
	if c.Pusher.Host == "" && c.Pusher.Cluster == "" {
		errs = append(errs, errors.New("set either a Pusher host or a cluster"))
	}
	if c.Pusher.Host != "" && strings.ContainsAny(c.Pusher.Host, "/: ") && !strings.HasPrefix(c.Pusher.Host, "[") {
		errs = append(errs, fmt.Errorf("the Pusher host %q must be a bare host name (no scheme, port or path)", c.Pusher.Host))
	}
	for name, p := range map[string]string{"login": c.Paths.Login, "user": c.Paths.User, "logout": c.Paths.Logout, "auth": c.Paths.Auth} {
		if p == "" {
			continue
		}
		if _, err := url.Parse(p); err != nil {
			errs = append(errs, fmt.Errorf("the %s path %q is not valid: %w", name, p, err))
		}
	}
	if _, err := ParseLevel(orDefault(c.LogLevel, DefaultLogLevel)); err != nil {
		errs = append(errs, err)
	}
	if c.Notifications.FloodLimit < 0 {
		errs = append(errs, fmt.Errorf("flood_limit %d must not be negative", c.Notifications.FloodLimit))
	}
	if c.History.MaxEntries < 0 || c.History.MaxAgeDays < 0 {
		errs = append(errs, errors.New("history limits must not be negative"))
	}
	return errors.Join(errs...)
}

// Endpoint returns the absolute URL of an API path on the configured server.
func (c Config) Endpoint(path string) string {
	s, err := NormalizeServer(c.Server)
	if err != nil {
		s = c.Server
	}
	return joinURL(s, path)
}

// Realtime is the connection part of c as a realtime.Config: the one
// mapping from settings to the client (the service adds the authorizer
// and handlers; the connection check uses it as it is).
func (c Config) Realtime() realtime.Config {
	return realtime.Config{
		Key:       c.Pusher.Key,
		Host:      c.Pusher.Host,
		Port:      c.Pusher.Port,
		TLS:       c.Pusher.Scheme == "https",
		Path:      c.Pusher.Path,
		Cluster:   c.Pusher.Cluster,
		Namespace: realtime.Namespace(c.Namespace),
	}
}

// Account returns the keyring account name: the signed-in e-mail, or
// "default".
func (c Config) Account() string {
	if c.Email != "" {
		return c.Email
	}
	return "default"
}

// Prefs returns the notification policy preferences. Events muted through
// an override count as muted.
func (c Config) Prefs() notify.Prefs {
	muted := make(map[string]bool, len(c.Notifications.Muted))
	for _, e := range c.Notifications.Muted {
		muted[e] = true
	}
	for e, o := range c.Notifications.Overrides {
		if o.Muted {
			muted[e] = true
		}
	}
	return notify.Prefs{
		Muted:                  muted,
		PausedUntil:            c.Notifications.PausedUntil,
		AllowErrorsWhilePaused: c.Notifications.AllowErrorsWhilePaused,
		FloodLimit:             c.Notifications.FloodLimit,
		FloodWindow:            time.Duration(c.Notifications.FloodWindow),
	}
}

// ApplyEnv overrides settings with the ECHOTRAY_* environment variables.
// Variables that are set but invalid are reported; the valid ones still
// apply.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	var errs []error
	set := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	set(EnvServer, &c.Server)
	set(EnvPusherKey, &c.Pusher.Key)
	set(EnvPusherHost, &c.Pusher.Host)
	set(EnvPusherCluster, &c.Pusher.Cluster)
	set(EnvAuthPath, &c.Paths.Auth)
	set(EnvNamespace, &c.Namespace)
	if v := strings.TrimSpace(getenv(EnvPusherPort)); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s=%q is not a port number", EnvPusherPort, v))
		} else {
			c.Pusher.Port = p
		}
	}
	if v := strings.ToLower(strings.TrimSpace(getenv(EnvPusherScheme))); v != "" {
		if v != "http" && v != "https" {
			errs = append(errs, fmt.Errorf("%s=%q must be http or https", EnvPusherScheme, v))
		} else {
			c.Pusher.Scheme = v
		}
	}
	if v := strings.TrimSpace(getenv(EnvLogLevel)); v != "" {
		if _, err := ParseLevel(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvLogLevel, err))
		} else {
			c.LogLevel = strings.ToLower(v)
		}
	}
	return errors.Join(errs...)
}

// clone returns a deep copy, so callers never share maps or slices.
func (c Config) clone() Config {
	c.Notifications.Muted = slices.Clone(c.Notifications.Muted)
	c.Notifications.Overrides = maps.Clone(c.Notifications.Overrides)
	return c
}

// ConfigDir returns $ECHOTRAY_CONFIG_DIR, or os.UserConfigDir()/echotray.
func ConfigDir() (string, error) {
	return appDir(EnvConfigDir, os.UserConfigDir, "config")
}

// CacheDir returns $ECHOTRAY_CACHE_DIR, or os.UserCacheDir()/echotray.
func CacheDir() (string, error) {
	return appDir(EnvCacheDir, os.UserCacheDir, "cache")
}

// LogPath returns the log file: CacheDir()/logs/echotray.log.
func LogPath() (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "logs", "echotray.log"), nil
}

func appDir(env string, base func() (string, error), what string) (string, error) {
	if d := os.Getenv(env); d != "" {
		return filepath.Abs(d)
	}
	b, err := base()
	if err != nil {
		return "", fmt.Errorf("find the user %s directory (set %s): %w", what, env, err)
	}
	return filepath.Join(b, appDirName), nil
}

// ConfigError is a config file that cannot be used, or invalid settings
// from the environment.
type ConfigError struct {
	Path string // the file; empty for environment errors
	Err  error
}

// Error names the file and the problem.
func (e *ConfigError) Error() string {
	if e.Path == "" {
		return "invalid settings in the environment: " + e.Err.Error()
	}
	return fmt.Sprintf("the config file %s cannot be used: %v", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// ConfigStore holds the settings in three layers: the config file, the
// ECHOTRAY_* environment and command-line overrides. It is safe for
// concurrent use.
type ConfigStore struct {
	mu        sync.Mutex
	path      string
	file      Config
	corrupt   bool // the file on disk could not be read; move it aside before writing
	getenv    func(string) string
	overrides func(*Config)
	listeners []func(Config)
}

// OpenConfig reads dir/config.json. A missing file gives the defaults. A
// corrupt file gives a usable store holding the defaults AND a
// *ConfigError naming the file, so a GUI can go on and say so; the file is
// moved aside on the next save, never silently overwritten. Invalid
// environment variables are also a *ConfigError. A nil getenv means none.
func OpenConfig(dir string, getenv func(string) string) (*ConfigStore, error) {
	s := &ConfigStore{path: filepath.Join(dir, configFileName), file: DefaultConfig(), getenv: getenv}
	var errs []error
	cfg, err := readConfig(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		s.corrupt = true
		errs = append(errs, &ConfigError{Path: s.path, Err: err})
	default:
		s.file = cfg
	}
	probe := s.file.clone()
	if err := probe.ApplyEnv(getenv); err != nil {
		errs = append(errs, &ConfigError{Err: err})
	}
	if len(errs) == 1 {
		return s, errs[0]
	}
	return s, errors.Join(errs...)
}

// readConfig parses a config file over the defaults.
func readConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	cfg := DefaultConfig()
	if len(bytes.TrimSpace(b)) == 0 {
		return Config{}, errors.New("the file is empty")
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return Config{}, fmt.Errorf("not valid JSON: %w", err)
	}
	return cfg, nil
}

// Path returns the config file's path.
func (s *ConfigStore) Path() string { return s.path }

// File returns the settings as the file has them.
func (s *ConfigStore) File() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.clone()
}

// Effective returns the settings in force: the file, then the environment,
// then the command-line overrides.
func (s *ConfigStore) Effective() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.effectiveLocked()
}

func (s *ConfigStore) effectiveLocked() Config {
	c := s.file.clone()
	_ = c.ApplyEnv(s.getenv) // invalid variables were reported by OpenConfig
	if s.overrides != nil {
		s.overrides(&c)
	}
	return c
}

// SetOverrides installs the command-line layer.
func (s *ConfigStore) SetOverrides(fn func(*Config)) {
	s.mu.Lock()
	s.overrides = fn
	s.mu.Unlock()
}

// OnChange registers fn to be called with the effective settings after
// every Update. It is called on the updating goroutine, never under a lock.
func (s *ConfigStore) OnChange(fn func(Config)) {
	s.mu.Lock()
	s.listeners = append(s.listeners, fn)
	s.mu.Unlock()
}

// Reload re-reads the file, which another EchoTray process (the window
// process saving the settings or signing in) may have changed. A missing
// file gives the defaults; an unreadable or corrupt one leaves the
// settings as they were and returns a *ConfigError. changed reports
// whether the file layer differs from before. Listeners are not called.
func (s *ConfigStore) Reload() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked()
}

func (s *ConfigStore) reloadLocked() (bool, error) {
	cfg, err := readConfig(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cfg = DefaultConfig()
	case err != nil:
		return false, &ConfigError{Path: s.path, Err: err}
	}
	old, _ := json.Marshal(s.file)
	now, _ := json.Marshal(cfg)
	s.file, s.corrupt = cfg, false
	return !bytes.Equal(old, now), nil
}

// Update edits the file layer with fn and saves it (directory 0700, file
// 0600, atomically). If saving fails the file layer is left unchanged.
func (s *ConfigStore) Update(fn func(*Config)) error {
	s.mu.Lock()
	if !s.corrupt {
		// Start from the file as it is now: another EchoTray process may
		// have saved since we read it.
		_, _ = s.reloadLocked()
	}
	next := s.file.clone()
	fn(&next)
	if err := next.Validate(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("settings not saved: %w", err)
	}
	if s.corrupt {
		// A symlinked config.json stays a link: its target is moved aside.
		target, err := configTarget(s.path)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		aside := fmt.Sprintf("%s.corrupt-%s", target, time.Now().Format("20060102-150405"))
		if err := os.Rename(target, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.mu.Unlock()
			return fmt.Errorf("move the corrupt config file aside: %w", err)
		}
		s.corrupt = false
	}
	if err := writeConfig(s.path, next); err != nil {
		s.mu.Unlock()
		return err
	}
	s.file = next
	eff := s.effectiveLocked()
	listeners := slices.Clone(s.listeners)
	s.mu.Unlock()
	for _, l := range listeners {
		l(eff.clone())
	}
	return nil
}

// writeConfig saves cfg atomically with private permissions. If path is a
// symbolic link (a config kept with the user's dotfiles), the file it
// points to is replaced, atomically in its own directory, and the link
// stays.
func writeConfig(path string, cfg Config) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("protect config directory: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	target, err := configTarget(path)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(target, append(b, '\n'), 0o600); err != nil {
		if target != path {
			return fmt.Errorf("the config file %s is a symbolic link; saving through it failed: %w", path, err)
		}
		return err
	}
	return nil
}

// maxSymlinkHops bounds following a chain of symbolic links (as the
// kernel's ELOOP does).
const maxSymlinkHops = 40

// configTarget returns the file a save of path replaces: path itself, or,
// when path is a symbolic link, the file at the end of its chain of links
// (which need not exist yet, but whose directory must: a save does not
// create folders inside someone's dotfiles).
func configTarget(path string) (string, error) {
	target := path
	for range maxSymlinkHops {
		fi, err := os.Lstat(target)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("save the config file %s: %w", path, err)
		}
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			if target == path {
				return path, nil
			}
			if st, err := os.Stat(filepath.Dir(target)); err != nil || !st.IsDir() {
				return "", fmt.Errorf("the config file %s is a symbolic link to %s, whose folder does not exist", path, target)
			}
			return target, nil
		}
		link, err := os.Readlink(target)
		if err != nil {
			return "", fmt.Errorf("save the config file %s: %w", path, err)
		}
		if !filepath.IsAbs(link) {
			// Relative to the link's real directory, so ".." means what
			// it means to the kernel.
			dir, err := filepath.EvalSymlinks(filepath.Dir(target))
			if err != nil {
				return "", fmt.Errorf("save the config file %s: %w", path, err)
			}
			link = filepath.Join(dir, link)
		}
		target = link
	}
	return "", fmt.Errorf("the config file %s is a symbolic link that leads to itself (or through more than %d links)", path, maxSymlinkHops)
}
