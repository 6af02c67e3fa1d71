package app

import "path/filepath"

// systemConfigPath is the machine-wide settings file on Windows:
// %ProgramData%\EchoTray\config.json (C:\ProgramData when unset).
func systemConfigPath(getenv func(string) string) string {
	base := getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "EchoTray", "config.json")
}
