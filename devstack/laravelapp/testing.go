package laravelapp

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// StartT starts the app for a test, skipping the test when Available fails
// and failing it when the app does not start. PHP's output goes to
// laravelapp.log in tb.TempDir() (o.Log is ignored) and, when the test has
// failed, its end to tb.Log. The app is stopped in tb.Cleanup, which fails
// the test if a php process is left.
func StartT(tb testing.TB, o Options) *App {
	tb.Helper()
	if err := Available(); err != nil {
		tb.Skipf("the devstack Laravel app cannot run here: %v", err)
	}
	logPath := filepath.Join(tb.TempDir(), "laravelapp.log")
	f, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("laravelapp: create log: %v", err)
	}
	o.Log = f
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	defer cancel()
	a, err := Start(ctx, o)
	if err != nil {
		f.Close()
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if err := a.Stop(); err != nil {
			tb.Errorf("laravelapp: stop: %v", err)
		}
		f.Close()
		if tb.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				if len(b) > 16<<10 {
					b = b[len(b)-16<<10:]
				}
				tb.Logf("laravel app output (%s):\n%s", logPath, b)
			}
		}
	})
	return a
}
