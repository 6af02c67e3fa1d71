package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DiscoveryPath is where a backend announces its realtime settings
// (docs/backend.md): GET, no authentication, answering
// {"key","host","port","scheme","cluster","path","auth_endpoint"}, all
// optional but "key".
const DiscoveryPath = "/api/broadcasting/config"

// discoveredFileName keeps the last discovery answer next to the user's
// settings, so a start without the network connects as before.
const discoveredFileName = "discovered.json"

// Discovered is what a server said about its realtime settings.
type Discovered struct {
	// Server is the normalised server URL that was asked.
	Server string `json:"server"`
	// Offered is false when the server has no discovery (404 and the
	// like): the saved settings apply, with the API's host as the
	// WebSocket host unless one is set.
	Offered bool `json:"offered"`
	// The answer, checked. Empty or zero: not announced.
	Key          string `json:"key,omitempty"`
	Host         string `json:"host,omitempty"`
	Port         int    `json:"port,omitempty"`
	Scheme       string `json:"scheme,omitempty"` // "http" or "https"
	Cluster      string `json:"cluster,omitempty"`
	Path         string `json:"path,omitempty"`
	AuthEndpoint string `json:"auth_endpoint,omitempty"` // a path on the server, or a URL on its host
	// Notes are what was ignored in the answer and why, for the log.
	Notes []string `json:"-"`
	// Fetched is when the server answered.
	Fetched time.Time `json:"fetched"`
}

// discoveryAnswer is the JSON of the discovery endpoint. Port may be a
// number or a string (env() values in Laravel's config are strings).
type discoveryAnswer struct {
	Key          string          `json:"key"`
	Host         string          `json:"host"`
	Port         json.RawMessage `json:"port"`
	Scheme       string          `json:"scheme"`
	Cluster      string          `json:"cluster"`
	Path         string          `json:"path"`
	AuthEndpoint string          `json:"auth_endpoint"`
}

// Discover asks server (a URL as NormalizeServerURL accepts it) for its
// realtime settings with GET {server}/api/broadcasting/config. A server
// without the endpoint (404, 405, a redirect to a login page, a web page
// instead of JSON) gives Discovered{Offered: false} and no error. An
// unreachable server, a 5xx answer or an answer without a usable key is an
// error (an *APIError for HTTP and network problems): the caller keeps
// what it knew. A nil client means NewHTTPClient().
func Discover(ctx context.Context, client *http.Client, server string) (Discovered, error) {
	s, err := NormalizeServerURL(server)
	if err != nil {
		return Discovered{}, err
	}
	if client == nil {
		client = NewHTTPClient()
	}
	endpoint := joinURL(s, DiscoveryPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return Discovered{}, fmt.Errorf("discovery request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := client.Do(req)
	if err != nil {
		return Discovered{}, transportError(RedactURL(endpoint), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Discovered{}, transportError(RedactURL(endpoint), err)
	}
	d := Discovered{Server: s, Fetched: time.Now().UTC()}
	switch {
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusMethodNotAllowed,
		resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden,
		resp.StatusCode >= 300 && resp.StatusCode < 400:
		d.Notes = append(d.Notes, fmt.Sprintf("the server answered %d: no discovery", resp.StatusCode))
		return d, nil
	case resp.StatusCode != http.StatusOK:
		return Discovered{}, statusError(RedactURL(endpoint), resp, raw)
	case !isJSON(resp.Header.Get("Content-Type"), raw):
		// A single-page app answers every path with its page.
		d.Notes = append(d.Notes, "the server answered with a web page, not JSON: no discovery")
		return d, nil
	}
	var a discoveryAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return Discovered{}, badResponse(RedactURL(endpoint), err)
	}
	if err := d.fill(a); err != nil {
		return Discovered{}, badResponse(RedactURL(endpoint), err)
	}
	d.Offered = true
	return d, nil
}

// fill checks the answer and takes what is usable; only a missing or bad
// key is an error.
func (d *Discovered) fill(a discoveryAnswer) error {
	api, err := url.Parse(d.Server)
	if err != nil {
		return err
	}
	key := strings.TrimSpace(a.Key)
	if key == "" {
		return errors.New(`the discovery answer has no "key"`)
	}
	if strings.ContainsAny(key, "/?#: ") {
		return fmt.Errorf("the discovery answer's key %q is not an app key", truncate(key, 40))
	}
	d.Key = key
	if h := strings.TrimSpace(a.Host); h != "" {
		// Tolerate "wss://ws.example.com" and "ws.example.com:6001".
		if u, err := url.Parse(h); err == nil && u.Host != "" {
			h = u.Host
			if a.Scheme == "" {
				switch u.Scheme {
				case "wss", "https":
					a.Scheme = "https"
				case "ws", "http":
					a.Scheme = "http"
				}
			}
		}
		if host, port, err := net.SplitHostPort(h); err == nil {
			h = host
			if len(a.Port) == 0 {
				a.Port = json.RawMessage(port)
			}
		}
		switch {
		case strings.ContainsAny(h, "/ @?#") || h == "":
			d.Notes = append(d.Notes, fmt.Sprintf("host %q ignored: not a host name", truncate(a.Host, 60)))
		case isLoopbackHost(h) && !isLoopbackHost(api.Hostname()):
			// The server's own view (PHP publishing to Soketi on the
			// same machine), not an address for desktops.
			d.Notes = append(d.Notes, fmt.Sprintf("host %q ignored: a loopback address of a server that is not on this computer; using the API's host", h))
		default:
			d.Host = strings.ToLower(h)
		}
	}
	if p := strings.Trim(strings.TrimSpace(string(a.Port)), `"`); p != "" && p != "null" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			d.Notes = append(d.Notes, fmt.Sprintf("port %s ignored: not a port number", truncate(p, 20)))
		} else {
			d.Port = n
		}
	}
	switch strings.ToLower(strings.TrimSpace(a.Scheme)) {
	case "":
	case "https", "wss":
		d.Scheme = "https"
	case "http", "ws":
		d.Scheme = "http"
	default:
		d.Notes = append(d.Notes, fmt.Sprintf("scheme %q ignored: not http or https", truncate(a.Scheme, 20)))
	}
	if c := strings.TrimSpace(a.Cluster); c != "" {
		if strings.ContainsAny(c, "/.:@ ") {
			d.Notes = append(d.Notes, fmt.Sprintf("cluster %q ignored", truncate(c, 40)))
		} else {
			d.Cluster = c
		}
	}
	if p := strings.Trim(strings.TrimSpace(a.Path), "/"); p != "" {
		if strings.ContainsAny(p, "?# ") {
			d.Notes = append(d.Notes, fmt.Sprintf("path %q ignored", truncate(a.Path, 40)))
		} else {
			d.Path = "/" + p
		}
	}
	if ae := strings.TrimSpace(a.AuthEndpoint); ae != "" {
		u, err := url.Parse(ae)
		switch {
		case err != nil || u.RawQuery != "" && u.Path == "":
			d.Notes = append(d.Notes, fmt.Sprintf("auth_endpoint %q ignored: not a path", truncate(ae, 60)))
		case u.IsAbs() && !strings.EqualFold(u.Host, api.Host):
			// The token goes with every authorisation: never to another host.
			d.Notes = append(d.Notes, fmt.Sprintf("auth_endpoint %q ignored: not on the server's host", RedactURL(truncate(ae, 80))))
		case u.IsAbs() && u.Scheme != api.Scheme:
			d.Notes = append(d.Notes, fmt.Sprintf("auth_endpoint %q ignored: not the server's scheme", RedactURL(truncate(ae, 80))))
		case u.IsAbs():
			d.AuthEndpoint = u.String()
		case u.Host != "" || !strings.HasPrefix(u.Path, "/"):
			d.Notes = append(d.Notes, fmt.Sprintf("auth_endpoint %q ignored: not a path starting with /", truncate(ae, 60)))
		default:
			d.AuthEndpoint = u.Path
		}
	}
	return nil
}

// apiHost is the host of the API server, for the WebSocket host when the
// server names none.
func (d Discovered) apiHost() string {
	u, err := url.Parse(d.Server)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// apiScheme is the API server's scheme.
func (d Discovered) apiScheme() string {
	if strings.HasPrefix(d.Server, "https://") {
		return "https"
	}
	return "http"
}

// layer returns the settings the answer stands for, and their source.
//
//   - Offered: pusher.key; pusher.host (the answer's; none but a cluster
//     means hosted Pusher, ws-{cluster}.pusher.com; neither means the
//     API's host); pusher.port (the answer's, else 443 or 80 by scheme);
//     pusher.scheme (the answer's, else the API's); pusher.cluster (when
//     given); pusher.path; paths.auth (auth_endpoint, when given).
//   - Not offered: pusher.host = the API's host (the files may set it).
func (d Discovered) layer() (flatLayer, source) {
	j := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	if !d.Offered {
		h := d.apiHost()
		if h == "" {
			return nil, srcAPIHost
		}
		return flatLayer{"pusher.host": j(h)}, srcAPIHost
	}
	f := flatLayer{"pusher.key": j(d.Key)}
	host := d.Host
	if host == "" && d.Cluster == "" {
		host = d.apiHost()
	}
	f["pusher.host"] = j(host)
	f["pusher.port"] = j(d.Port)
	scheme := d.Scheme
	if scheme == "" {
		scheme = d.apiScheme()
	}
	f["pusher.scheme"] = j(scheme)
	if d.Cluster != "" {
		f["pusher.cluster"] = j(d.Cluster)
	}
	f["pusher.path"] = j(d.Path)
	if d.AuthEndpoint != "" {
		f["paths.auth"] = j(d.AuthEndpoint)
	}
	return f, srcServer
}

// discoveredFile is the content of discovered.json.
type discoveredFile struct {
	Servers []Discovered `json:"servers"`
}

// maxDiscoveredServers bounds discovered.json: the servers signed in to
// most recently.
const maxDiscoveredServers = 8

// readDiscoveredLocked (re)reads the saved discovery answers; a missing or
// damaged file means none. s.mu must be held (or s not yet shared).
func (s *ConfigStore) readDiscoveredLocked() {
	s.disc = map[string]Discovered{}
	b, err := os.ReadFile(s.discPath)
	if err != nil {
		return
	}
	var f discoveredFile
	if json.Unmarshal(b, &f) != nil {
		return
	}
	for _, d := range f.Servers {
		if d.Server != "" && (!d.Offered || d.Key != "") {
			s.disc[d.Server] = d
		}
	}
}

// SetDiscovered records what d.Server said about its realtime settings (a
// result of Discover), saves it next to the user's settings (so a start
// without the network connects as before) and, when d.Server is the
// server in force, makes it the discovery layer: values the machine-wide
// and user files do not set follow the server. Listeners are called when
// the settings in force change.
func (s *ConfigStore) SetDiscovered(d Discovered) error {
	server, err := NormalizeServer(d.Server)
	if err != nil {
		return err
	}
	d.Server, d.Notes = server, nil
	s.mu.Lock()
	s.readDiscoveredLocked()
	old, _ := json.Marshal(s.file)
	s.disc[server] = d
	list := slices.SortedFunc(maps.Values(s.disc), func(a, b Discovered) int { return b.Fetched.Compare(a.Fetched) })
	if len(list) > maxDiscoveredServers {
		list = list[:maxDiscoveredServers]
	}
	b, err := json.MarshalIndent(discoveredFile{Servers: list}, "", "  ")
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(s.discPath), 0o700); err == nil {
			err = writeFileAtomic(s.discPath, append(b, '\n'), 0o600)
		}
	}
	s.rebuildLocked()
	now, _ := json.Marshal(s.file)
	var eff Config
	changed := !bytes.Equal(old, now)
	if changed {
		eff = s.effectiveLocked()
	}
	listeners := slices.Clone(s.listeners)
	s.mu.Unlock()
	if changed {
		for _, l := range listeners {
			l(eff.clone())
		}
	}
	if err != nil {
		return fmt.Errorf("save the server's settings: %w", err)
	}
	return nil
}

// Discovery returns the saved discovery answer of the server in force, if
// any.
func (s *ConfigStore) Discovery() (Discovered, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	server, err := s.serverLocked(s.file.Server)
	if err != nil {
		return Discovered{}, false
	}
	d, ok := s.disc[server]
	return d, ok
}
