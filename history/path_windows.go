package history

import (
	"os"
	"path/filepath"
)

// userDataDir is %LocalAppData%\EchoTray: machine-local, not roamed, as a
// history of one machine's notifications should be.
func userDataDir() (string, error) {
	dir, err := os.UserCacheDir() // %LocalAppData%
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "EchoTray"), nil
}
