package history

// restrictMode does nothing on Windows: Unix permission bits don't exist
// there (os.Chmod only toggles the read-only flag), the history lives in the
// user's own %LocalAppData%, whose ACL already keeps other users out, and
// touching the -shm file that SQLite holds open fails with a sharing
// violation.
func restrictMode(string) error { return nil }
