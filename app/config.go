package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
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
	Email         string             `json:"email,omitempty"`   // the signed-in account: the keyring account name
	UserID        string             `json:"user_id,omitempty"` // the signed-in (or last) user's id: the history account
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
		// As people write it: the store saves it normalised.
		if _, err := NormalizeServerURL(c.Server); err != nil {
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

// ConfigStore holds the settings in layers (see the top of layers.go):
// the defaults, the server's discovery answer, the machine-wide file, the
// user's file, the ECHOTRAY_* environment and command-line overrides. It
// is safe for concurrent use.
type ConfigStore struct {
	mu       sync.Mutex
	path     string // the user's file
	sysPath  string // the machine-wide file
	discPath string // the last discovery answers

	user       flatLayer // the user file's explicit keys
	userExtra  map[string]json.RawMessage
	system     flatLayer // the machine-wide file's keys (empty when unusable)
	locked     map[string]bool
	sysErr     error
	sysUnknown []string
	disc       map[string]Discovered // by normalised server

	file    Config            // defaults < discovered < system < user, locks applied
	src     map[string]source // where each key of file comes from
	ignored []string          // user-file keys ignored because they are locked

	corrupt   bool // the file on disk could not be read; move it aside before writing
	getenv    func(string) string
	overrides func(*Config)
	listeners []func(Config)

	log    *slog.Logger
	logged map[string]bool // problems already logged
}

// OpenConfig reads the machine-wide file (SystemConfigPath) and
// dir/config.json. A missing file gives the defaults. A corrupt user file
// gives a usable store holding the defaults AND a *ConfigError naming the
// file, so a GUI can go on and say so; the file is moved aside on the next
// save, never silently overwritten. Invalid environment variables are also
// a *ConfigError. A machine-wide file that cannot be used is not an error
// here (it must never stop a sign-in): it is ignored, and SystemProblem
// and SystemError say why. A nil getenv means none.
func OpenConfig(dir string, getenv func(string) string) (*ConfigStore, error) {
	env := getenv
	if env == nil {
		env = func(string) string { return "" }
	}
	s := &ConfigStore{
		path:     filepath.Join(dir, configFileName),
		sysPath:  SystemConfigPath(env),
		discPath: filepath.Join(dir, discoveredFileName),
		getenv:   getenv,
		logged:   map[string]bool{},
	}
	var errs []error
	s.readSystemLocked()
	s.readDiscoveredLocked()
	user, extra, err := readUserFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		s.corrupt = true
		errs = append(errs, &ConfigError{Path: s.path, Err: err})
	default:
		s.user, s.userExtra = user, extra
	}
	s.rebuildLocked()
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

// readUserFile reads the user's file: its explicit keys (see
// configVersionKey for files of older versions) and the keys that are not
// settings, kept as they are when the file is saved.
func readUserFile(path string) (flatLayer, map[string]json.RawMessage, error) {
	cfg, err := readConfig(path)
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	keys, _, err := flatten(b)
	if err != nil {
		return nil, nil, fmt.Errorf("not valid JSON: %w", err)
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(b, &top)
	extra := map[string]json.RawMessage{}
	for k, v := range top {
		if !knownKeys()[k] && k != configVersionKey {
			extra[k] = v
		}
	}
	var version int
	_ = json.Unmarshal(top[configVersionKey], &version)
	canon := flattenConfig(cfg)
	if version < configVersion {
		// Written by an older version, which saved every setting: a value
		// equal to the default was not chosen.
		defaults := flattenConfig(DefaultConfig())
		for k := range keys {
			if d, ok := defaults[k]; ok && bytes.Equal(d, canon[k]) {
				delete(keys, k)
			}
		}
	}
	for k := range keys {
		if v, ok := canon[k]; ok {
			keys[k] = v // canonical form, so changes compare by value
		}
	}
	return keys, extra, nil
}

// readSystemLocked (re)reads the machine-wide file. s.mu must be held (or
// s not yet shared).
func (s *ConfigStore) readSystemLocked() {
	sf, err := readSystemFile(s.sysPath)
	s.system, s.locked, s.sysErr, s.sysUnknown = sf.keys, sf.locked, err, sf.unknown
	if s.locked == nil {
		s.locked = map[string]bool{}
	}
	if err != nil {
		s.system, s.locked = nil, map[string]bool{}
	}
	s.logProblemsLocked()
}

// rebuildLocked computes the file view and the sources from the layers.
// s.mu must be held.
func (s *ConfigStore) rebuildLocked() {
	merged, src := flatLayer{}, map[string]source{}
	put := func(l flatLayer, from source) {
		for k, v := range l {
			merged[k], src[k] = v, from
		}
	}
	var ignored []string
	upper := flatLayer{}
	maps.Copy(upper, s.system)
	for k, v := range s.user {
		if lockedIn(s.locked, k) {
			ignored = append(ignored, k)
			continue
		}
		upper[k] = v
	}
	// The discovery answer of the server in force, if any.
	base := DefaultConfig()
	_ = upper.apply(&base)
	if server, err := s.serverLocked(base.Server); err == nil {
		if d, ok := s.disc[server]; ok {
			l, from := d.layer()
			put(l, from)
		}
	}
	put(s.system, srcSystem)
	for k, v := range s.user {
		if !lockedIn(s.locked, k) {
			merged[k], src[k] = v, srcUser
		}
	}
	cfg := DefaultConfig()
	if err := merged.apply(&cfg); err != nil {
		// Each layer was checked on its own; fall back to the files alone.
		cfg = base
	}
	if _, err := NormalizeServer(cfg.Server); err != nil && cfg.Server != "" {
		// A hand-written "billing.example.com".
		if n, err := NormalizeServerURL(cfg.Server); err == nil {
			cfg.Server = n
		}
	}
	s.file, s.src = cfg, src
	sort.Strings(ignored)
	s.ignored = ignored
	s.logProblemsLocked()
}

// serverLocked is the server in force given the files' server: the
// environment's unless the server is locked, normalised. s.mu must be
// held.
func (s *ConfigStore) serverLocked(fileServer string) (string, error) {
	if s.getenv != nil && !lockedIn(s.locked, "server") {
		if v := strings.TrimSpace(s.getenv(EnvServer)); v != "" {
			fileServer = v
		}
	}
	return NormalizeServer(fileServer)
}

// SetLogger sets where the store reports a machine-wide file that cannot
// be used and user settings ignored because they are locked (each once).
func (s *ConfigStore) SetLogger(l *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = l
	s.logProblemsLocked()
}

func (s *ConfigStore) logProblemsLocked() {
	if s.log == nil {
		return
	}
	once := func(key string, fn func()) {
		if !s.logged[key] {
			s.logged[key] = true
			fn()
		}
	}
	if s.sysErr != nil {
		once("system:"+s.sysErr.Error(), func() {
			s.log.Error("the machine-wide settings file cannot be used; ignoring it", "path", s.sysPath, "err", s.sysErr)
		})
	}
	if len(s.sysUnknown) > 0 {
		once("unknown:"+strings.Join(s.sysUnknown, ","), func() {
			s.log.Warn("the machine-wide settings file names settings that do not exist; ignoring them", "path", s.sysPath, "keys", s.sysUnknown)
		})
	}
	for _, k := range s.ignored {
		once("ignored:"+k, func() {
			s.log.Warn("a setting in the user's file is locked by the machine-wide file; ignoring the user's value", "key", k, "user_file", s.path, "system_file", s.sysPath)
		})
	}
}

// Path returns the config file's path.
func (s *ConfigStore) Path() string { return s.path }

// File returns the settings the files give, without the environment and
// command-line overrides: the defaults, the server's discovery answer, the
// machine-wide file and the user's file, with locked keys as IT set them.
// Update's function edits this.
func (s *ConfigStore) File() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.clone()
}

// Effective returns the settings in force: File, then the environment,
// then the command-line overrides; locked keys keep the machine-wide
// file's values.
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
	if len(s.locked) > 0 {
		fixed, eff := flattenConfig(s.file), flattenConfig(c)
		var changed bool
		for k, v := range fixed {
			if lockedIn(s.locked, k) && !bytes.Equal(eff[k], v) {
				eff[k], changed = v, true
			}
		}
		for k := range eff {
			if _, ok := fixed[k]; !ok && lockedIn(s.locked, k) {
				delete(eff, k)
				changed = true
			}
		}
		if changed {
			out := DefaultConfig()
			// Keys dropped by omitempty must not come back from the defaults.
			out.Notifications.Muted, out.Notifications.Overrides, out.Channels.Extra = nil, nil, nil
			if eff.apply(&out) == nil {
				c = out
			}
		}
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
// every Update, and after SetDiscovered when it changes them. It is called
// on the updating goroutine, never under a lock.
func (s *ConfigStore) OnChange(fn func(Config)) {
	s.mu.Lock()
	s.listeners = append(s.listeners, fn)
	s.mu.Unlock()
}

// Reload re-reads the files, which another EchoTray process (the window
// process saving the settings or signing in), IT or a discovery may have
// changed. A missing user file gives the defaults; an unreadable or
// corrupt one leaves the settings as they were and returns a
// *ConfigError. changed reports whether File differs from before.
// Listeners are not called.
func (s *ConfigStore) Reload() (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked()
}

func (s *ConfigStore) reloadLocked() (bool, error) {
	old, _ := json.Marshal(s.file)
	s.readSystemLocked()
	s.readDiscoveredLocked()
	user, extra, err := readUserFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		user, extra = nil, nil
	case err != nil:
		s.rebuildLocked()
		return false, &ConfigError{Path: s.path, Err: err}
	}
	s.user, s.userExtra, s.corrupt = user, extra, false
	s.rebuildLocked()
	now, _ := json.Marshal(s.file)
	return !bytes.Equal(old, now), nil
}

// Update edits the settings with fn and saves the user's file (directory
// 0700, file 0600, atomically). fn gets File; the file keeps the keys it
// had and gains those fn changed, so a value fn leaves alone keeps
// following the layers below. A change to a locked key is refused with a
// *LockedError (errors.Is ErrLocked) and nothing is saved. If saving fails
// the settings are left unchanged.
func (s *ConfigStore) Update(fn func(*Config)) error {
	s.mu.Lock()
	if !s.corrupt {
		// Start from the file as it is now: another EchoTray process may
		// have saved since we read it.
		_, _ = s.reloadLocked()
	}
	cur := s.file.clone()
	next := cur.clone()
	fn(&next)
	if err := next.Validate(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("settings not saved: %w", err)
	}
	if next.Server != "" {
		next.Server, _ = NormalizeServerURL(next.Server) // valid: checked above
	}
	before, after := flattenConfig(cur), flattenConfig(next)
	user := maps.Clone(s.user)
	if user == nil {
		user = flatLayer{}
	}
	var locked []string
	for _, k := range slices.Sorted(maps.Keys(knownKeys())) {
		b, inBefore := before[k]
		a, inAfter := after[k]
		if inBefore == inAfter && bytes.Equal(a, b) {
			continue
		}
		if lockedIn(s.locked, k) {
			locked = append(locked, k)
			continue
		}
		if inAfter {
			user[k] = a
		} else {
			delete(user, k)
		}
	}
	if len(locked) > 0 {
		s.mu.Unlock()
		return &LockedError{Keys: locked}
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
	return s.saveUserLocked(user)
}

// userFileBytes encodes the user's file: the version mark, the explicit
// keys and the other keys it had.
func userFileBytes(user flatLayer, extra map[string]json.RawMessage) ([]byte, error) {
	nested, err := user.nest()
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(nested, &top); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	for k, v := range extra {
		if _, ok := top[k]; !ok {
			top[k] = v
		}
	}
	top[configVersionKey] = json.RawMessage(strconv.Itoa(configVersion))
	b, err := json.MarshalIndent(top, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return append(b, '\n'), nil
}

// writeConfig saves raw atomically with private permissions. If path is a
// symbolic link (a config kept with the user's dotfiles), the file it
// points to is replaced, atomically in its own directory, and the link
// stays.
func writeConfig(path string, raw []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("protect config directory: %w", err)
	}
	target, err := configTarget(path)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(target, raw, 0o600); err != nil {
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

// serverAddressHint is the sentence every NormalizeServerURL error ends
// with: what to type.
const serverAddressHint = "Enter the address of your billing server, like billing.example.com."

// pageSegments are first path segments of Laravel web pages and API
// routes. A pasted address is cut at the first of them: the server is
// what comes before.
var pageSegments = map[string]bool{
	"api": true, "broadcasting": true, "sanctum": true, "login": true, "logout": true,
	"register": true, "password": true, "forgot-password": true, "reset-password": true,
	"verify-email": true, "email": true, "two-factor-challenge": true, "dashboard": true,
	"home": true, "admin": true, "notifications": true, "settings": true, "profile": true,
	"user": true, "users": true, "account": true, "payments": true, "invoices": true,
	"tenants": true, "app": true, "nova": true, "horizon": true, "telescope": true,
}

// NormalizeServerURL turns what a person types or pastes as "the server"
// into the server URL EchoTray stores (scheme://host[:port][/base], no
// trailing slash, lower-case scheme and host). Its errors are plain
// sentences that can be shown as they are.
//
// The rules:
//   - Spaces around the address are ignored.
//   - Without a scheme, loopback addresses (localhost, *.localhost,
//     127.0.0.0/8, ::1) get http://, everything else https:// (type
//     http:// explicitly for a plain-HTTP server on the network).
//   - Only http and https are accepted; the port, when given, must be
//     1–65535. User and password in the URL (a staging site behind basic
//     authentication) are kept.
//   - A pasted page address is reduced to the server: the query and
//     fragment are dropped; the path is cut at the first segment that is
//     a Laravel page or route (api, login, dashboard, home, broadcasting,
//     notifications, payments, … — see pageSegments) or a file (a segment
//     with a dot, like index.php); if the pasted address had a query or
//     fragment and no such segment, the whole path is dropped (it was a
//     page). Otherwise the path is kept: it is the folder the application
//     is installed in (https://example.com/billing), which the API paths
//     are relative to.
func NormalizeServerURL(input string) (string, error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return "", errors.New(serverAddressHint)
	}
	if strings.ContainsAny(s, " \t\r\n\\") {
		return "", fmt.Errorf("%q is not a server address. %s", RedactURL(s), serverAddressHint)
	}
	lower := strings.ToLower(s)
	hasScheme := strings.Contains(lower, "://")
	if !hasScheme {
		if at := strings.IndexByte(s, '@'); at >= 0 && !strings.ContainsAny(s[:at], ":/") {
			return "", fmt.Errorf("That looks like an e-mail address. %s", serverAddressHint)
		}
		if strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") {
			return "", fmt.Errorf("%q is not a server address (write https:// with two slashes). %s", RedactURL(s), serverAddressHint)
		}
		s = "//" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if strings.Contains(err.Error(), "port") {
			return "", fmt.Errorf("The port in %q must be a number between 1 and 65535. %s", RedactURL(strings.TrimPrefix(s, "//")), serverAddressHint)
		}
		return "", fmt.Errorf("%q is not a server address. %s", RedactURL(strings.TrimPrefix(s, "//")), serverAddressHint)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if hasScheme && u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("The address must start with https:// or http:// (or with neither). %s", serverAddressHint)
	}
	host := u.Hostname()
	if host == "" {
		return "", fmt.Errorf("%q has no server name. %s", RedactURL(strings.TrimPrefix(s, "//")), serverAddressHint)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("The port in %q must be a number between 1 and 65535. %s", RedactURL(strings.TrimPrefix(s, "//")), serverAddressHint)
		}
	}
	if strings.ContainsAny(host, "%_!$&'()*+,;=") && !strings.Contains(host, ":") {
		return "", fmt.Errorf("%q is not a server name. %s", host, serverAddressHint)
	}
	if !hasScheme {
		u.Scheme = "https"
		if isLoopbackHost(host) {
			u.Scheme = "http"
		}
	}
	u.Host = strings.ToLower(u.Host)
	pasted := u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#")
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	u.Path = serverBasePath(u.Path, pasted)
	u.RawPath = ""
	out := strings.TrimRight(u.String(), "/")
	if _, err := NormalizeServer(out); err != nil {
		return "", fmt.Errorf("%q is not a server address. %s", RedactURL(strings.TrimPrefix(s, "//")), serverAddressHint)
	}
	return out, nil
}

// serverBasePath keeps the part of a pasted path that is the folder the
// application lives in (see NormalizeServerURL).
func serverBasePath(p string, pasted bool) string {
	var keep []string
	cut := false
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			continue
		}
		if pageSegments[strings.ToLower(seg)] || strings.Contains(seg, ".") {
			cut = true
			break
		}
		keep = append(keep, seg)
	}
	if pasted && !cut {
		return ""
	}
	if len(keep) == 0 {
		return ""
	}
	return "/" + strings.Join(keep, "/")
}

// isLoopbackHost reports whether host (no port, no brackets) is this
// computer: localhost, a *.localhost name, 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return false
}
