//go:build integration

package devstack

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNodeDir needs the npm dev stack installed (make deps), so it runs with
// the integration tests.
func TestNodeDir(t *testing.T) {
	t.Setenv(NodeDirEnv, "")
	dir, err := NodeDir()
	if err != nil {
		t.Fatalf("NodeDir: %v", err)
	}
	if !filepath.IsAbs(dir) || filepath.Base(dir) != "node" {
		t.Errorf("NodeDir = %s", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		t.Errorf("no package.json in %s", dir)
	}
}
