package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// EnvSystemConfig points to the machine-wide settings file instead of the
// operating system's place for it (SystemConfigPath); tests and packagers
// use it.
const EnvSystemConfig = "ECHOTRAY_SYSTEM_CONFIG"

// lockedKey is the machine-wide file's list of keys the user cannot
// change.
const lockedKey = "locked"

// SystemConfigPath returns the machine-wide settings file: the value of
// ECHOTRAY_SYSTEM_CONFIG (read through getenv; nil means os.Getenv), else
// /etc/echotray/config.json on Linux and other Unix systems,
// %ProgramData%\EchoTray\config.json on Windows and
// /Library/Application Support/EchoTray/config.json on macOS.
func SystemConfigPath(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if p := strings.TrimSpace(getenv(EnvSystemConfig)); p != "" {
		return p
	}
	return systemConfigPath(getenv)
}

// systemFile is the machine-wide file, parsed.
type systemFile struct {
	keys    flatLayer
	locked  map[string]bool
	unknown []string // keys that are not settings (ignored)
}

// readSystemFile reads the machine-wide file. A missing file is no error
// and gives an empty layer. Any problem makes the whole file unusable:
// half of IT's settings would be worse than none.
func readSystemFile(path string) (systemFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return systemFile{}, nil
	}
	if err != nil {
		return systemFile{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return systemFile{}, fmt.Errorf("%s is empty", path)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return systemFile{}, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	sf := systemFile{locked: map[string]bool{}}
	if raw, ok := top[lockedKey]; ok {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return systemFile{}, fmt.Errorf(`%s: "locked" must be a list of setting names, like ["server", "pusher"]: %w`, path, err)
		}
		for _, k := range list {
			k = strings.TrimSpace(k)
			if !knownKeys()[k] {
				sf.unknown = append(sf.unknown, "locked: "+k)
				continue
			}
			sf.locked[k] = true
		}
		delete(top, lockedKey)
	}
	rest, _ := json.Marshal(top)
	keys, unknown, err := flatten(rest)
	if err != nil {
		return systemFile{}, fmt.Errorf("%s: %w", path, err)
	}
	// Every value must have the type of its setting, and the result must
	// be valid settings. The server may be written as people write it.
	if v, ok := keys["server"]; ok {
		var server string
		if err := json.Unmarshal(v, &server); err != nil {
			return systemFile{}, fmt.Errorf("%s: server: %w", path, err)
		}
		if server != "" {
			norm, err := NormalizeServerURL(server)
			if err != nil {
				return systemFile{}, fmt.Errorf("%s: server: %w", path, err)
			}
			keys["server"], _ = json.Marshal(norm)
		}
	}
	cfg := DefaultConfig()
	if err := keys.apply(&cfg); err != nil {
		return systemFile{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return systemFile{}, fmt.Errorf("%s: %s", path, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	sf.keys = keys
	sf.unknown = append(sf.unknown, unknown...)
	sort.Strings(sf.unknown)
	return sf, nil
}
