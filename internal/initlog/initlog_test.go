package initlog

import (
	"log"
	"strings"
	"testing"
)

func TestRestoreReturnsInitOutput(t *testing.T) {
	log.Print("during init")
	got := Restore()
	if !strings.Contains(got, "during init") {
		t.Fatalf("captured %q", got)
	}
	if Restore() != "" {
		t.Error("second Restore returned text again")
	}
}
