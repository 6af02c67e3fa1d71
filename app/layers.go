package app

// Settings layers: what IT fixed machine-wide and what the server
// announced. These are placeholders of the contract; the system file and
// discovery fill them in.

// Locked reports whether key is locked by the machine-wide settings file,
// so Settings shows it disabled ("Set by your administrator"), login flags
// refuse it and the user file cannot change it. key is a JSON name of
// Config, top-level ("server", "pusher", "paths", "namespace",
// "notifications", "channels", "history", "start_at_login", ...) or dotted
// ("notifications.channel", "pusher.key").
func (s *ConfigStore) Locked(key string) bool { return false }

// FromServer reports whether key's value in Effective comes from the
// server's discovery answer rather than from a file ("pusher" when the
// realtime settings follow the server).
func (s *ConfigStore) FromServer(key string) bool { return false }
