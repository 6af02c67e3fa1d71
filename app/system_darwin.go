package app

// systemConfigPath is the machine-wide settings file on macOS.
func systemConfigPath(func(string) string) string {
	return "/Library/Application Support/EchoTray/config.json"
}
