package ipc

// credentials identify the process at the other end of a connection.
type credentials struct {
	known bool // false: the platform cannot tell (the check is skipped)
	uid   int
	pid   int // 0 when unknown
}
