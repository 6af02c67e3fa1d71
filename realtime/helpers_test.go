package realtime

import (
	"log/slog"
	"os"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newListenerPtr() *atomic.Pointer[[]*listener] { return new(atomic.Pointer[[]*listener]) }

// debugLogger logs to stderr when REALTIME_DEBUG is set.
func debugLogger() *slog.Logger {
	if os.Getenv("REALTIME_DEBUG") == "" {
		return discardLogger()
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
