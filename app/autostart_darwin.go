package app

import (
	"fmt"
	"os"
)

// startFile is the LaunchAgent ~/Library/LaunchAgents/net.traidnet.echotray.plist;
// launchd reads it at the next login.
var startFile = loginFile{
	path: func() (string, error) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("autostart: %w", err)
		}
		return launchAgentPath(home), nil
	},
	content: launchAgentPlist,
	active:  func(string) bool { return true },
}
