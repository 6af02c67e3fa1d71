package laravel

import (
	"net/http"
	"strings"
)

// Discovery is the public half of the broadcasting connection that
// GET /api/broadcasting/config answers (no authentication), so a client
// needs only the server's address: {"key", "host", "port", "scheme",
// "cluster", "path", "auth_endpoint"}. Never the secret or the app id.
// Empty fields are answered null ("path" as ""), as the Laravel app's
// BroadcastConfigController does when config/broadcasting.php leaves them
// unset.
type Discovery struct {
	// Key is the Pusher app key; "" means Config.AppKey.
	Key string
	// Host, Port and Scheme ("http" or "https") are where the WebSocket
	// server (Soketi, or haproxy in front of a cluster) is reached.
	Host   string
	Port   int
	Scheme string
	// Cluster is the Pusher cluster name, e.g. "mt1".
	Cluster string
	// Path is a URL path prefix in front of /app/{key}.
	Path string
	// AuthEndpoint is the channel authorisation URL; "" means the stand-in's
	// own broadcast auth route under the URL the request came to.
	AuthEndpoint string
}

// discovery answers GET /api/broadcasting/config.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	d := s.cfg.Discovery
	key := d.Key
	if key == "" {
		key = s.cfg.AppKey
	}
	auth := d.AuthEndpoint
	if auth == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		auth = scheme + "://" + r.Host + s.paths.BroadcastAuth
	}
	nullable := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	var port any
	if d.Port > 0 {
		port = d.Port
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"key":           nullable(key),
		"host":          nullable(d.Host),
		"port":          port,
		"scheme":        nullable(strings.ToLower(d.Scheme)),
		"cluster":       nullable(d.Cluster),
		"path":          d.Path,
		"auth_endpoint": auth,
	})
}
