package devstack

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// StartSoketiT starts Soketi for a test with a free port and generated
// credentials, failing tb if it cannot start. It is stopped in tb.Cleanup.
// Soketi's output goes to soketi.log in tb.TempDir(); when the test has
// failed, the end of it is also written to tb.Log.
func StartSoketiT(tb testing.TB) *Soketi {
	tb.Helper()
	return StartSoketiOptsT(tb, SoketiOptions{})
}

// StartSoketiOptsT is StartSoketiT with options; opts.Log is ignored.
func StartSoketiOptsT(tb testing.TB, opts SoketiOptions) *Soketi {
	tb.Helper()
	logPath := filepath.Join(tb.TempDir(), "soketi.log")
	f, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("devstack: create soketi log: %v", err)
	}
	opts.Log = f
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	defer cancel()
	s, err := StartSoketi(ctx, opts)
	if err != nil {
		f.Close()
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("devstack: stop soketi: %v", err)
		}
		f.Close()
		if tb.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				if len(b) > 16<<10 {
					b = b[len(b)-16<<10:]
				}
				tb.Logf("soketi output (%s):\n%s", logPath, b)
			}
		}
	})
	return s
}
