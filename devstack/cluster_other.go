//go:build !unix

package devstack

// raiseFileLimit has nothing to raise where there is no RLIMIT_NOFILE.
func raiseFileLimit() {}

// fileLimit is unknown here.
func fileLimit() int { return 0 }
