package app

// systemConfigPath is the machine-wide settings file on Linux.
func systemConfigPath(func(string) string) string { return "/etc/echotray/config.json" }
