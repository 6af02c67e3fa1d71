//go:build !linux

package laravelapp

import (
	"errors"
	"syscall"
)

// errUnsupported: the devstack's Laravel app runs on Linux (Debian's packages).
var errUnsupported = errors.New("laravelapp: the devstack Laravel app runs on Linux only")

func sysProcAttr() *syscall.SysProcAttr { return nil }

func groupPIDs(int) []int { return nil }

func alive(int, int) bool { return false }

func signalGroup(int, []int, bool) {}

func platformSupported() error { return errUnsupported }

func getpgid() int { return 0 }

const ownerEnv = "ECHOTRAY_LARAVELAPP_OWNER"

func sweepOrphans() []int { return nil }
