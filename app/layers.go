package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Settings layers. The settings in force are built from, lowest first:
//
//  1. the defaults (DefaultConfig);
//  2. what the server announced (discovery, see Discover and
//     SetDiscovered), or, when it announced nothing, the API's host as
//     the WebSocket host;
//  3. the machine-wide file IT installed (see SystemConfigPath), whose
//     "locked" list fixes keys for good;
//  4. the user's file;
//  5. the ECHOTRAY_* environment, then command-line overrides (neither
//     can change a locked key).
//
// Only keys a file actually has count for it: a user file that does not
// name pusher.host leaves it to the layers below. Keys are the JSON names
// of Config: top-level ("server", "namespace", "start_at_login") or, inside
// the groups paths, pusher, notifications, channels and history, dotted
// ("pusher.host", "notifications.channel"). A group name ("pusher") stands
// for all its keys in "locked", Locked and FromServer.

// configVersionKey marks a user file written by this version: every key
// in it was set on purpose. In an older file (which held every setting)
// keys with the default value count as not set, so that discovery and
// the machine-wide file can fill them.
const (
	configVersionKey = "config_version"
	configVersion    = 2
)

// source is where the value of a key in force comes from.
type source uint8

const (
	srcDefault source = iota
	srcServer         // the server's discovery answer
	srcAPIHost        // the API's host, when the server offers no discovery
	srcSystem         // the machine-wide file
	srcUser           // the user's file
)

// flatLayer is one layer's explicit keys with their JSON values.
type flatLayer map[string]json.RawMessage

// groupKeys are the Config fields whose keys are addressed one by one.
var groupKeys = map[string]bool{"paths": true, "pusher": true, "notifications": true, "channels": true, "history": true}

// knownKeys returns every key of Config: top-level names and dotted group
// members.
var knownKeys = sync.OnceValue(func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		keys[name] = true
		if groupKeys[name] {
			ft := f.Type
			for j := range ft.NumField() {
				if sub := jsonName(ft.Field(j)); sub != "" {
					keys[name+"."+sub] = true
				}
			}
		}
	}
	return keys
})

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// flatten splits a JSON object into its keys: group members dotted,
// everything else whole. Null values count as absent; other keys than
// Config's are returned in unknown.
func flatten(raw []byte) (flatLayer, []string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, nil, err
	}
	out := flatLayer{}
	var unknown []string
	for k, v := range top {
		if isNull(v) {
			continue
		}
		if groupKeys[k] && isObject(v) {
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(v, &sub); err != nil {
				return nil, nil, err
			}
			for sk, sv := range sub {
				if isNull(sv) {
					continue
				}
				if !knownKeys()[k+"."+sk] {
					unknown = append(unknown, k+"."+sk)
					continue
				}
				out[k+"."+sk] = sv
			}
			continue
		}
		if !knownKeys()[k] {
			unknown = append(unknown, k)
			continue
		}
		out[k] = v
	}
	sort.Strings(unknown)
	return out, unknown, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// flattenConfig returns every key of c with its canonical JSON value.
// Keys left out by omitempty are absent.
func flattenConfig(c Config) flatLayer {
	b, err := json.Marshal(c)
	if err != nil {
		return flatLayer{} // Config always marshals
	}
	f, _, _ := flatten(b)
	return f
}

// nest turns a flat layer back into a JSON object.
func (f flatLayer) nest() ([]byte, error) {
	top := map[string]any{}
	for k, v := range f {
		g, sub, dotted := strings.Cut(k, ".")
		if !dotted {
			top[k] = v
			continue
		}
		m, ok := top[g].(map[string]any)
		if !ok {
			m = map[string]any{}
			top[g] = m
		}
		m[sub] = v
	}
	return json.Marshal(top)
}

// apply reads the layer's keys into c.
func (f flatLayer) apply(c *Config) error {
	if len(f) == 0 {
		return nil
	}
	b, err := f.nest()
	if err != nil {
		return err
	}
	return json.Unmarshal(b, c)
}

// covers reports whether the lock or group name k covers key.
func covers(k, key string) bool {
	return k == key || strings.HasPrefix(key, k+".")
}

// lockedIn reports whether key, or its group, is in locked.
func lockedIn(locked map[string]bool, key string) bool {
	if locked[key] {
		return true
	}
	g, _, dotted := strings.Cut(key, ".")
	return dotted && locked[g]
}

// ErrLocked matches a *LockedError.
var ErrLocked = errors.New("set by your administrator")

// LockedError is a change to settings IT locked in the machine-wide file.
// Its text is a plain sentence for people.
type LockedError struct {
	Keys []string // the locked keys the change touched
}

// Error says which setting is fixed, in words.
func (e *LockedError) Error() string {
	names := make([]string, 0, len(e.Keys))
	seen := map[string]bool{}
	for _, k := range e.Keys {
		n := settingName(k)
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	what := "This setting is"
	switch len(names) {
	case 0:
	case 1:
		what = upperFirst(names[0]) + " is"
	default:
		what = upperFirst(strings.Join(names[:len(names)-1], ", ")+" and "+names[len(names)-1]) + " are"
	}
	return what + " set by your administrator and cannot be changed on this computer."
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// settingName names a key for people.
func settingName(key string) string {
	g, sub, _ := strings.Cut(key, ".")
	switch g {
	case "server":
		return "the server address"
	case "pusher":
		if sub == "" {
			return "the WebSocket server settings"
		}
		return "the WebSocket " + strings.ReplaceAll(sub, "_", " ")
	case "paths":
		return "the server paths"
	case "notifications":
		if sub == "channel" {
			return "the notification channel"
		}
		return "the notification settings"
	case "channels":
		return "the extra channels"
	case "history":
		return "the history limits"
	case "start_at_login", "start_hidden":
		return "starting at login"
	case "log_level":
		return "the log level"
	case "email":
		return "the e-mail address"
	}
	return "the setting " + key
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Locked reports whether key is locked by the machine-wide settings file,
// so Settings shows it disabled ("Set by your administrator"), login flags
// refuse it and the user file cannot change it. key is a JSON name of
// Config, top-level ("server", "pusher", "paths", "namespace",
// "notifications", "channels", "history", "start_at_login", ...) or dotted
// ("notifications.channel", "pusher.key"). A dotted key is locked when it
// or its group is; a group name is locked only when the group itself is
// listed.
func (s *ConfigStore) Locked(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lockedIn(s.locked, key)
}

// LockedKeys returns the keys the machine-wide file locks, sorted.
func (s *ConfigStore) LockedKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.locked))
}

// FromServer reports whether key's value in Effective comes from the
// server's discovery answer rather than from a file ("pusher" when the
// realtime settings follow the server: a group name reports whether any
// of its keys does; "pusher.host" that key alone). An environment variable
// or command-line override may still replace it in Effective.
func (s *ConfigStore) FromServer(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, src := range s.src {
		if src == srcServer && covers(key, k) {
			return true
		}
	}
	return false
}

// SystemProblem returns a plain sentence for people when the machine-wide
// settings file exists but cannot be used (it is then ignored: the
// defaults and the user's settings apply), or "" when there is none or it
// is fine. SystemError has the detail for the log.
func (s *ConfigStore) SystemProblem() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sysErr == nil {
		return ""
	}
	return fmt.Sprintf("The settings your administrator installed for EchoTray (%s) cannot be used, so EchoTray uses its own defaults. Please tell your administrator.", s.sysPath)
}

// SystemError returns why the machine-wide settings file cannot be used,
// for the log, or nil.
func (s *ConfigStore) SystemError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sysErr
}

// SystemPath returns the machine-wide settings file read (it need not
// exist).
func (s *ConfigStore) SystemPath() string { return s.sysPath }

// ExtraChannels returns channels.extra with "{user_id}" and "{tenant_id}"
// replaced, trimmed, without empty names and duplicates, in order. A
// channel that needs "{tenant_id}" is left out for a user without a
// tenant (tenantID nil).
func (c Config) ExtraChannels(userID int64, tenantID *int64) []string {
	var out []string
	seen := map[string]bool{}
	for _, ch := range c.Channels.Extra {
		ch = strings.TrimSpace(ch)
		if strings.Contains(ch, "{tenant_id}") {
			if tenantID == nil {
				continue
			}
			ch = strings.ReplaceAll(ch, "{tenant_id}", fmt.Sprint(*tenantID))
		}
		ch = strings.ReplaceAll(ch, "{user_id}", fmt.Sprint(userID))
		if ch == "" || seen[ch] {
			continue
		}
		seen[ch] = true
		out = append(out, ch)
	}
	return out
}

// Unset removes keys (or whole groups: "pusher") from the user's file, so
// the layers below apply again: the server's settings, IT's or the
// defaults (Settings' "use the server's settings"). Locked keys are
// refused with a *LockedError. Listeners are called as after Update.
func (s *ConfigStore) Unset(keys ...string) error {
	s.mu.Lock()
	if !s.corrupt {
		_, _ = s.reloadLocked()
	}
	user := maps.Clone(s.user)
	var locked []string
	for k := range user {
		for _, u := range keys {
			if !covers(u, k) {
				continue
			}
			if lockedIn(s.locked, k) {
				locked = append(locked, k)
				continue
			}
			delete(user, k)
		}
	}
	if len(locked) > 0 {
		s.mu.Unlock()
		sort.Strings(locked)
		return &LockedError{Keys: locked}
	}
	if len(user) == len(s.user) {
		s.mu.Unlock()
		return nil
	}
	return s.saveUserLocked(user)
}

// saveUserLocked writes user as the user's settings file, makes it the
// user layer and calls the listeners with the new settings in force. s.mu
// must be held; saveUserLocked releases it.
func (s *ConfigStore) saveUserLocked(user flatLayer) error {
	raw, err := userFileBytes(user, s.userExtra)
	if err == nil {
		err = writeConfig(s.path, raw)
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.user = user
	s.rebuildLocked()
	eff := s.effectiveLocked()
	listeners := slices.Clone(s.listeners)
	s.mu.Unlock()
	for _, l := range listeners {
		l(eff.clone())
	}
	return nil
}
