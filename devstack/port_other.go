//go:build !unix

package devstack

// claimPort has no cross-process claim here; the bind check alone guards.
func claimPort(int) (release func(), ok bool) { return func() {}, true }
