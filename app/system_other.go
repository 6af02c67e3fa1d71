//go:build !linux && !darwin && !windows

package app

// systemConfigPath is the machine-wide settings file on other Unix
// systems.
func systemConfigPath(func(string) string) string { return "/etc/echotray/config.json" }
