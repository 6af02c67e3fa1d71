//go:build !linux

package ui

import "time"

// threadCPU is not available here: tests fall back to the wall clock.
func threadCPU() (time.Duration, bool) { return 0, false }
