package app

import (
	"fmt"
	"os"
)

// startFile is the XDG autostart entry ~/.config/autostart/echotray.desktop
// ($XDG_CONFIG_HOME is honoured). Desktop settings tools switch it off with
// Hidden=true or X-GNOME-Autostart-enabled=false rather than deleting it.
var startFile = loginFile{
	path: func() (string, error) {
		dir, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("autostart: %w", err)
		}
		return xdgAutostartPath(dir), nil
	},
	content: desktopEntry,
	active:  desktopEntryActive,
}
