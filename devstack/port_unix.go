//go:build unix

package devstack

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// claimPort takes this user's advisory claim on port p across processes: an
// exclusive flock on a per-port file that the kernel drops when the holder
// exits, however it exits. Servers started by parallel test binaries claim
// their port before binding it, so two of them never pick the same one
// (Soketi binds with SO_REUSEPORT and would otherwise share it silently).
// It returns ok=false when another holder has the claim.
func claimPort(p int) (release func(), ok bool) {
	dir := filepath.Join(os.TempDir(), "echotray-devstack-ports-"+strconv.Itoa(os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return func() {}, true // no claims possible: fall back to the bind check alone
	}
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%d.lock", p)), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return func() {}, true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}
