package realtime

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Identification sent in the connection URL (pusher-js sends client=js).
const (
	clientName    = "echotray-go"
	clientVersion = "1.0.0"
)

// Defaults applied by New to zero fields of Config.
const (
	// DefaultMaxFrameBytes is the default Config.MaxFrameBytes (1 MiB).
	DefaultMaxFrameBytes = 1 << 20
	// DefaultActivityTimeout is the default cap on the server's
	// activity_timeout (Pusher's own 120 s).
	DefaultActivityTimeout = 120 * time.Second
	// DefaultPongTimeout is how long a pusher:ping may go unanswered (as in
	// pusher-js).
	DefaultPongTimeout = 30 * time.Second
	// DefaultHandshakeTimeout bounds one connection attempt.
	DefaultHandshakeTimeout = 15 * time.Second
	// DefaultSubscribeTimeout bounds authorising and confirming one
	// subscription.
	DefaultSubscribeTimeout = 15 * time.Second
)

// Config configures a [Client]. Only Key and Host (or Cluster) are required.
type Config struct {
	// Key is the Pusher application key.
	Key string
	// Host is the WebSocket server host name or IP. When empty, Cluster
	// selects hosted Pusher: ws-{Cluster}.pusher.com.
	Host string
	// Port defaults to 443 with TLS and 80 without.
	Port int
	// TLS selects wss://. A server that closes with 4000 switches the client
	// to TLS for later attempts.
	TLS bool
	// Path is a URL path prefix in front of /app/{key}, e.g. "/ws".
	Path string
	// Cluster is the hosted Pusher cluster, used when Host is empty.
	Cluster string

	// Origin, when set, is sent as the Origin header (Reverb checks it).
	Origin string
	// CAFile is a PEM file of extra root certificates trusted in addition to
	// the system roots (or to TLSConfig.RootCAs when set).
	CAFile string
	// TLSConfig is the base TLS configuration for wss; it is cloned.
	TLSConfig *tls.Config
	// Proxy selects an HTTP proxy per request; nil means
	// http.ProxyFromEnvironment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). Return
	// nil to connect directly. http:// and socks5:// proxies are supported.
	Proxy func(*http.Request) (*url.URL, error)

	// Authorizer signs private- and presence- channels; usually an
	// HTTPAuthorizer for Laravel's /broadcasting/auth.
	Authorizer Authorizer
	// Namespace is used by Listen; "" means DefaultNamespace, NoNamespace
	// disables it.
	Namespace Namespace

	// MaxFrameBytes is the largest frame accepted; 0 means 1 MiB. A larger
	// frame is refused with ErrFrameTooLarge without being buffered.
	MaxFrameBytes int64
	// ActivityTimeout caps the server's activity_timeout: after this much
	// inbound silence the client sends pusher:ping. 0 means 120 s.
	ActivityTimeout time.Duration
	// PongTimeout is how long to wait for any reply to pusher:ping before the
	// connection is considered dead. 0 means 30 s.
	PongTimeout time.Duration
	// HandshakeTimeout bounds dialling, the WebSocket upgrade and waiting for
	// pusher:connection_established. 0 means 15 s.
	HandshakeTimeout time.Duration
	// SubscribeTimeout bounds authorising and confirming one subscription.
	// 0 means 15 s.
	SubscribeTimeout time.Duration
	// Backoff returns the delay before reconnection attempt n (n >= 1). nil
	// means DefaultBackoff. It is also used, with a 1 s floor, between
	// retries of a failed subscription (authoriser error without
	// Retry-After, server refusal, timeout): n counts that channel's
	// failures on the current connection and starts again at 1 after the
	// server confirms the subscription or on a new connection. With
	// DefaultBackoff a channel whose authorisation keeps failing therefore
	// backs off with full jitter up to 60 s.
	Backoff func(attempt int) time.Duration
	// Jitter returns a random delay that spreads the retries of many
	// clients hit by the same event; a negative value counts as 0. nil means
	// DefaultJitter, uniform in [0, 1 s]. It is used:
	//   - before the first reconnection attempt after the server closed a
	//     live connection (4200-4299 "reconnect now", Soketi's graceful
	//     shutdown; 4000, switching to TLS; any other code) or the
	//     connection was lost (dropped socket, no pong), added to the 1 s
	//     minimum for 4100-4199. A restarted or dead Soketi node makes every
	//     client reconnect at once; with the default 2,000 clients arrive
	//     spread over one second instead of in the same millisecond. The
	//     cost is latency: on average 0.5 s, at most 1 s, more before that
	//     first attempt. Later attempts of a failure streak use Backoff;
	//     Connect, Reconnect and a wake from sleep connect at once.
	//   - after the wait an authorisation endpoint asked for with
	//     Retry-After (see AuthError.RetryAfter), so that channels
	//     throttled together do not come back in the same instant.
	Jitter func() time.Duration
	// Logger receives diagnostics; nil discards them. Tokens and signatures
	// are never logged.
	Logger *slog.Logger
	// NetDialContext replaces the TCP dialer (tests use in-memory pipes).
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Handlers: called one at a time, in arrival order, from one dispatcher
	// goroutine, never under a lock. A slow handler delays only later
	// handlers, never keepalive; when the bounded dispatch queue is full the
	// client stops reading until the handlers catch up (see the package
	// documentation). Any of them may be nil.

	// OnEvent receives every application event on a wanted channel.
	OnEvent func(Event)
	// OnStateChange receives every connection state change.
	OnStateChange func(StateChange)
	// OnSubscription receives every subscription status change.
	OnSubscription func(SubscriptionChange)
}

// settings is Config with defaults applied and derived values computed.
type settings struct {
	Config
	host      string
	portSet   bool
	tlsConfig *tls.Config
}

func newSettings(cfg Config) (*settings, error) {
	s := &settings{Config: cfg}
	if cfg.Key == "" {
		return nil, errors.New("realtime: Config.Key is required")
	}
	if strings.ContainsAny(cfg.Key, "/?#") {
		return nil, fmt.Errorf("realtime: invalid Config.Key %q", cfg.Key)
	}
	switch {
	case cfg.Host != "":
		s.host = cfg.Host
	case cfg.Cluster != "":
		s.host = "ws-" + cfg.Cluster + ".pusher.com"
	default:
		return nil, errors.New("realtime: Config.Host or Config.Cluster is required")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("realtime: invalid Config.Port %d", cfg.Port)
	}
	s.portSet = cfg.Port != 0
	if p := strings.Trim(cfg.Path, "/"); p != "" {
		s.Path = "/" + p
	} else {
		s.Path = ""
	}
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	if s.MaxFrameBytes <= 0 {
		s.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if s.ActivityTimeout <= 0 {
		s.ActivityTimeout = DefaultActivityTimeout
	}
	if s.PongTimeout <= 0 {
		s.PongTimeout = DefaultPongTimeout
	}
	if s.HandshakeTimeout <= 0 {
		s.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if s.SubscribeTimeout <= 0 {
		s.SubscribeTimeout = DefaultSubscribeTimeout
	}
	if s.Backoff == nil {
		s.Backoff = DefaultBackoff
	}
	if s.Jitter == nil {
		s.Jitter = DefaultJitter
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Proxy == nil {
		s.Proxy = http.ProxyFromEnvironment
	}
	tc, err := buildTLSConfig(cfg.TLSConfig, cfg.CAFile)
	if err != nil {
		return nil, err
	}
	s.tlsConfig = tc
	return s, nil
}

// buildTLSConfig clones base and adds the certificates of caFile to the
// system roots (or base.RootCAs).
func buildTLSConfig(base *tls.Config, caFile string) (*tls.Config, error) {
	var tc *tls.Config
	if base != nil {
		tc = base.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if caFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("realtime: reading CA file: %w", err)
	}
	pool := tc.RootCAs
	if pool == nil {
		if pool, err = x509.SystemCertPool(); err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
	} else {
		pool = pool.Clone()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("realtime: CA file %s holds no PEM certificate", caFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// url returns the connection URL for the given TLS mode.
func (s *settings) url(useTLS bool) string {
	scheme, port := "ws", s.Port
	if useTLS {
		scheme = "wss"
	}
	switch {
	case !s.portSet && useTLS:
		port = 443
	case !s.portSet:
		port = 80
	case useTLS && !s.TLS && port == 80:
		// Switched to TLS by a 4000 close: the plain-HTTP port cannot serve it.
		port = 443
	}
	q := url.Values{
		"protocol": {"7"},
		"client":   {clientName},
		"version":  {clientVersion},
		"flash":    {"false"},
	}
	u := url.URL{
		Scheme:   scheme,
		Host:     net.JoinHostPort(s.host, strconv.Itoa(port)),
		Path:     s.Path + "/app/" + s.Key,
		RawQuery: q.Encode(),
	}
	return u.String()
}

// Address is the WebSocket server as a person would write it, e.g.
// "wss://ws.example.com:443/ws" or "ws-eu.pusher.com" for a cluster: the
// scheme, host, the port when set and the path prefix, without the app
// key and query. It is the one place the address is formatted for people
// and logs; the connection URL itself is built when connecting.
func (c Config) Address() string {
	scheme := "ws"
	if c.TLS {
		scheme = "wss"
	}
	host := c.Host
	if host == "" && c.Cluster != "" {
		host = "ws-" + c.Cluster + ".pusher.com"
	}
	if c.Port != 0 {
		host = net.JoinHostPort(host, strconv.Itoa(c.Port))
	}
	path := ""
	if p := strings.Trim(c.Path, "/"); p != "" {
		path = "/" + p
	}
	return scheme + "://" + host + path
}
