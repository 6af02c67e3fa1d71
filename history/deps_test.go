package history

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNotifyLinksNoSQLite fails when echotray/notify, directly or through
// another package, depends on SQLite or on this package: the store lives
// here so that notify, and whatever needs only notify, links no database.
func TestNotifyLinksNoSQLite(t *testing.T) {
	// go test puts $GOROOT/bin first on the test's PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not available: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "echotray/notify").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps echotray/notify: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps echotray/notify: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "echotray/notify") {
		t.Fatalf("go list -deps echotray/notify did not list notify itself:\n%s", out)
	}
	for _, d := range deps {
		if d == "modernc.org/sqlite" || strings.HasPrefix(d, "modernc.org/sqlite/") || d == "echotray/history" {
			t.Errorf("echotray/notify depends on %s", d)
		}
	}
}
