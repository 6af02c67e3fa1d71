package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"
)

var (
	// ErrNotSignedIn means no token is stored: nobody is signed in.
	ErrNotSignedIn = errors.New("nobody is signed in")
	// ErrSessionExpired means the server no longer accepts the token; it has
	// been deleted.
	ErrSessionExpired = errors.New("Session expired, please sign in again") //nolint:staticcheck // ST1005: shown to the user as is.
)

// prober is a secret store that can say whether it works at all.
type prober interface{ Probe() error }

// LoginRequest is what the sign-in window or `echotray login` collects.
type LoginRequest struct {
	Server      string // server URL; empty means the configured one
	Email       string
	Password    string
	SessionOnly bool // keep the token in memory only; gone when the app quits
}

// SessionOptions configures NewSession.
type SessionOptions struct {
	Config   *ConfigStore // required
	Secrets  Secrets      // the keyring; nil means NewKeyringSecrets(0)
	HTTP     *http.Client // nil means NewHTTPClient()
	Logger   *slog.Logger // nil means discard
	Redactor *Redactor    // the token is registered here while held
}

// Session is the signed-in state: the token (in the keyring, or in memory
// for a session-only sign-in) and the user. It is safe for concurrent use;
// no network or keyring call happens under its lock.
type Session struct {
	cfg     *ConfigStore
	keyring Secrets
	memory  *MemorySecrets
	http    *http.Client
	log     *slog.Logger
	red     *Redactor

	mu          sync.Mutex
	token       string
	user        User
	api         *API
	account     string
	sessionOnly bool
	gen         uint64 // bumped whenever the token changes
}

// NewSession returns a session with nobody signed in yet; call Restore or
// Login.
func NewSession(opts SessionOptions) *Session {
	if opts.Secrets == nil {
		opts.Secrets = NewKeyringSecrets(0)
	}
	if opts.HTTP == nil {
		opts.HTTP = NewHTTPClient()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Redactor == nil {
		opts.Redactor = NewRedactor()
	}
	return &Session{
		cfg:     opts.Config,
		keyring: opts.Secrets,
		memory:  NewMemorySecrets(),
		http:    opts.HTTP,
		log:     opts.Logger,
		red:     opts.Redactor,
	}
}

// Config returns the settings store.
func (s *Session) Config() *ConfigStore { return s.cfg }

// HTTPClient returns the shared HTTP client.
func (s *Session) HTTPClient() *http.Client { return s.http }

// KeyringAvailable returns nil if tokens can be kept in the system keyring,
// else an error matching ErrKeyringUnavailable that says why.
func (s *Session) KeyringAvailable() error {
	if p, ok := s.keyring.(prober); ok {
		return p.Probe()
	}
	return nil
}

// Login signs in. Unless req.SessionOnly, it first checks the keyring and
// returns an error matching ErrKeyringUnavailable before contacting the
// server; the caller may then offer a session-only sign-in. On success the
// token is stored, the server and e-mail are saved in the config file, and
// any previous session is ended.
//
// The password is registered with the redactor for the duration of the
// call and masked in the returned error (which outlives the registration);
// the token is registered the moment the server's answer is read.
func (s *Session) Login(ctx context.Context, req LoginRequest) (_ User, err error) {
	if pw := maskedPassword(req.Password); pw != "" {
		s.red.Add(pw)
		defer s.red.Remove(pw)
		defer func() { err = scrubError(err, pw) }()
	}
	eff := s.cfg.Effective()
	server := eff.Server
	if strings.TrimSpace(req.Server) != "" {
		// As people type it: billing.example.com, a pasted page address.
		if server, err = NormalizeServerURL(req.Server); err != nil {
			return User{}, err
		}
		if cur, _ := NormalizeServer(eff.Server); s.cfg.Locked("server") && server != cur {
			s.log.Warn("sign-in to another server refused: the server is locked by the machine-wide settings",
				"asked", RedactURL(server), "locked", RedactURL(cur), "system_file", s.cfg.SystemPath())
			return User{}, &LockedError{Keys: []string{"server"}}
		}
	}
	email := strings.TrimSpace(req.Email)
	if email == "" {
		return User{}, errors.New("enter your e-mail address")
	}
	if req.Password == "" {
		return User{}, errors.New("enter your password")
	}
	api, err := s.newAPI(server, eff.Paths)
	if err != nil {
		return User{}, err
	}
	if !req.SessionOnly {
		if err := s.KeyringAvailable(); err != nil {
			return User{}, err
		}
	}
	// Ask the server for its realtime settings first: a server that cannot
	// answer that will not sign in either, and the answer is needed
	// before anything subscribes.
	disc, discErr := s.discover(ctx, api.Server())
	s.log.Info("signing in", "server", RedactURL(api.Server()), "email", email)
	token, user, err := api.Login(ctx, email, req.Password)
	if err != nil {
		s.log.Warn("sign-in failed", "server", RedactURL(api.Server()), "email", email, "err", err)
		return User{}, err
	}
	defer s.red.Remove(token) // api.Login registered it; hold registers it for the session
	defer func() { err = scrubError(err, token) }()

	// End any previous session before the new one replaces it.
	s.endPrevious(ctx, eff, req.SessionOnly)

	store := s.keyring
	if req.SessionOnly {
		store = s.memory
	}
	if err := store.Set(email, token); err != nil {
		s.revoke(api, token)
		return User{}, err
	}
	if discErr == nil {
		if err := s.cfg.SetDiscovered(disc); err != nil {
			s.log.Warn("the server's realtime settings could not be saved; they apply until EchoTray quits", "err", err)
		}
	}
	err = s.cfg.Update(func(c *Config) {
		c.Server = api.Server()
		c.Email = email
		c.UserID = user.ID
	})
	if err != nil {
		_ = store.Delete(email)
		s.revoke(api, token)
		return User{}, fmt.Errorf("signed in, but the settings could not be saved: %w", err)
	}
	s.mu.Lock()
	s.holdLocked(token)
	s.user, s.api, s.account, s.sessionOnly = user, api, email, req.SessionOnly
	s.mu.Unlock()
	s.log.Info("signed in", "user", user.ID, "role", user.RoleText(), "session_only", req.SessionOnly)
	return user, nil
}

// minMaskedPassword is the length below which a password is not masked:
// masking two letters would garble every message that has them, to hide
// a password that protects nothing.
const minMaskedPassword = 4

// maskedPassword returns the password to register with the redactor, or
// "" for one too short to mask.
func maskedPassword(pw string) string {
	if utf8.RuneCountInString(pw) < minMaskedPassword {
		return ""
	}
	return pw
}

// newAPI returns a client of server whose sign-in registers the token with
// the session's redactor.
func (s *Session) newAPI(server string, paths APIPaths) (*API, error) {
	api, err := NewAPI(server, paths, s.http)
	if err != nil {
		return nil, err
	}
	return api.WithRedactor(s.red), nil
}

// endPrevious signs out the session held before a new sign-in: the token in
// memory, or one stored in the keyring for the configured account. A
// session-only sign-in leaves the keyring alone (it is unavailable, and a
// hanging keyring would delay the sign-in by its timeout).
func (s *Session) endPrevious(ctx context.Context, eff Config, sessionOnlyLogin bool) {
	s.mu.Lock()
	token, api, account, sessionOnly := s.token, s.api, s.account, s.sessionOnly
	s.holdLocked("")
	s.user, s.api, s.account, s.sessionOnly = User{}, nil, "", false
	s.mu.Unlock()
	if token == "" {
		if sessionOnlyLogin {
			return
		}
		// A token stored by an earlier run, e.g. `echotray login` twice.
		account = eff.Account()
		t, err := s.keyring.Get(account)
		if err != nil {
			return
		}
		token = t
		api, _ = s.newAPI(eff.Server, eff.Paths)
	}
	s.red.Add(token)
	defer s.red.Remove(token)
	if api != nil {
		_ = api.Logout(ctx, token) // best effort; the token goes away here anyway
	}
	if sessionOnly {
		_ = s.memory.Delete(account)
	} else {
		_ = s.keyring.Delete(account)
	}
}

// holdLocked makes token the session's token, keeping exactly one
// registration with the redactor. s.mu must be held.
func (s *Session) holdLocked(token string) {
	if s.token == token {
		return
	}
	s.red.Remove(s.token)
	s.red.Add(token)
	s.token = token
	s.gen++
}

// generation identifies the token held now: it changes with every sign-in,
// sign-out and expiry, so a late answer about an older token can be told
// apart from one about the current token.
func (s *Session) generation() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// revoke tells the server to forget a token we could not keep.
func (s *Session) revoke(api *API, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), httpTimeout)
	defer cancel()
	if err := api.Logout(ctx, token); err != nil {
		s.log.Warn("could not revoke the token on the server", "err", err)
	}
}

// Restore resumes the stored session: it reads the token from the keyring
// and asks the server who it belongs to. No token gives ErrNotSignedIn; a
// token the server rejects is deleted and gives ErrSessionExpired; a
// keyring problem gives an error matching ErrKeyringUnavailable; a network
// or server problem gives that *APIError and keeps the token (try again
// later).
func (s *Session) Restore(ctx context.Context) (User, error) {
	eff := s.cfg.Effective()
	account := eff.Account()
	s.mu.Lock()
	token, sessionOnly := s.token, s.sessionOnly
	s.mu.Unlock()
	if token == "" || !sessionOnly {
		t, err := s.keyring.Get(account)
		if errors.Is(err, ErrSecretNotFound) {
			return User{}, ErrNotSignedIn
		}
		if err != nil {
			return User{}, err
		}
		token = t
	}
	s.red.Add(token)
	defer s.red.Remove(token)
	api, err := s.newAPI(eff.Server, eff.Paths)
	if err != nil {
		return User{}, fmt.Errorf("a token is stored but the server URL is not usable: %w", err)
	}
	s.mu.Lock()
	s.holdLocked(token)
	s.api, s.account = api, account
	s.mu.Unlock()
	return s.Check(ctx)
}

// Check asks the server who the current token belongs to. A 401 ends the
// session (the token is deleted) and gives ErrSessionExpired.
func (s *Session) Check(ctx context.Context) (User, error) {
	s.mu.Lock()
	token, api, gen := s.token, s.api, s.gen
	s.mu.Unlock()
	if token == "" || api == nil {
		return User{}, ErrNotSignedIn
	}
	u, err := api.User(ctx, token)
	if errors.Is(err, ErrUnauthorized) {
		s.log.Warn("the server rejected the token", "err", err)
		s.expireGeneration(gen)
		return User{}, ErrSessionExpired
	}
	if err != nil {
		return User{}, err
	}
	s.mu.Lock()
	if s.token == token {
		s.user = u
	}
	s.mu.Unlock()
	return u, nil
}

// Logout signs out: it tells the server to revoke the token (best effort)
// and deletes the token here. The returned error joins a server problem
// (an *APIError: the token is deleted locally anyway) and a keyring
// problem (the token may still be stored). Logout with nobody signed in
// still clears a stored token.
func (s *Session) Logout(ctx context.Context) error {
	eff := s.cfg.Effective()
	s.mu.Lock()
	token, api, account, sessionOnly := s.token, s.api, s.account, s.sessionOnly
	s.mu.Unlock()
	if account == "" {
		account = eff.Account()
	}
	var errs []error
	if token == "" {
		t, err := s.keyring.Get(account)
		switch {
		case errors.Is(err, ErrSecretNotFound):
			return ErrNotSignedIn
		case err != nil:
			return err
		}
		token = t
		s.red.Add(token)
		defer s.red.Remove(token)
	}
	if api == nil {
		var err error
		if api, err = s.newAPI(eff.Server, eff.Paths); err != nil {
			errs = append(errs, err)
		}
	}
	if api != nil {
		if err := api.Logout(ctx, token); err != nil && !errors.Is(err, ErrUnauthorized) {
			s.log.Warn("the server was not told about the sign-out", "err", err)
			errs = append(errs, err)
		}
	}
	if err := s.forget(account, sessionOnly, 0); err != nil {
		errs = append(errs, err)
	}
	s.log.Info("signed out")
	return errors.Join(errs...)
}

// Expire ends the session without telling the server: the token is
// deleted and the user forgotten.
func (s *Session) Expire() {
	s.expireGeneration(s.generation())
}

// expireGeneration is Expire for the token of generation gen only: if the
// user has signed in again since, the newer token is left alone.
func (s *Session) expireGeneration(gen uint64) {
	s.mu.Lock()
	account, sessionOnly, current := s.account, s.sessionOnly, s.gen
	s.mu.Unlock()
	if gen != current {
		s.log.Info("ignoring the expiry of a token that was already replaced")
		return
	}
	if account == "" {
		account = s.cfg.Effective().Account()
	}
	if err := s.forget(account, sessionOnly, gen); err != nil {
		s.log.Error("could not delete the expired token", "err", err)
	}
}

// forget deletes the token from its store and clears the state.
// With gen != 0 the state is cleared only if the token is still that
// generation's.
func (s *Session) forget(account string, sessionOnly bool, gen uint64) error {
	var err error
	if sessionOnly {
		err = s.memory.Delete(account)
	} else {
		err = s.keyring.Delete(account)
	}
	s.mu.Lock()
	if gen == 0 || gen == s.gen {
		s.holdLocked("")
		s.user, s.sessionOnly = User{}, false
	}
	s.mu.Unlock()
	return err
}

// User returns the signed-in user, if any.
func (s *Session) User() (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user, s.token != "" && s.user.ID != ""
}

// SignedIn reports whether a token is held.
func (s *Session) SignedIn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token != ""
}

// SessionOnly reports whether the token lives in memory only.
func (s *Session) SessionOnly() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionOnly
}

// Server returns the server URL of the current session, or the configured
// one.
func (s *Session) Server() string {
	s.mu.Lock()
	api := s.api
	s.mu.Unlock()
	if api != nil {
		return api.Server()
	}
	return s.cfg.Effective().Server
}

// Header returns the headers for an authenticated request with the current
// token (read per request, so a new sign-in takes effect at once).
func (s *Session) Header(ctx context.Context) (http.Header, error) {
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	if token == "" {
		return nil, ErrNotSignedIn
	}
	h := make(http.Header)
	h.Set("Authorization", "Bearer "+token)
	h.Set("Accept", "application/json")
	h.Set("X-Requested-With", "XMLHttpRequest")
	return h, nil
}

// AdoptSessionOnly takes over a session-only token that the user's own
// window process signed in with (the keyring is unusable there, so the
// token came over the per-user socket). It is held in memory for the
// configured account; call Restore to check it and learn the user.
func (s *Session) AdoptSessionOnly(token string) {
	account := s.cfg.Effective().Account()
	_ = s.memory.Set(account, token)
	s.mu.Lock()
	s.holdLocked(token)
	s.user, s.api, s.account, s.sessionOnly = User{}, nil, account, true
	s.mu.Unlock()
}

// Generation identifies the token held now: it changes with every sign-in,
// sign-out and expiry, so a late answer about an older token can be told
// apart from one about the current token.
func (s *Session) Generation() uint64 { return s.generation() }

// ExpireGeneration is Expire for the token of generation gen only: if the
// user has signed in again since, the newer token is left alone.
func (s *Session) ExpireGeneration(gen uint64) { s.expireGeneration(gen) }

// RefreshDiscovery asks the configured server for its realtime settings
// (Discover) and makes them the discovery layer of the settings (see
// ConfigStore.SetDiscovered): call it at each start, before connecting.
// With no server configured it does nothing. When the server cannot be
// asked (offline, 5xx, a bad answer) the error is returned and logged, and
// the answer saved at the last start or sign-in still applies.
func (s *Session) RefreshDiscovery(ctx context.Context) error {
	server := s.cfg.Effective().Server
	if strings.TrimSpace(server) == "" {
		return nil
	}
	d, err := s.discover(ctx, server)
	if err != nil {
		if _, ok := s.cfg.Discovery(); ok {
			s.log.Info("using the realtime settings the server gave last time")
		}
		return err
	}
	return s.cfg.SetDiscovered(d)
}

// discover runs Discover with the session's client and logs the outcome.
func (s *Session) discover(ctx context.Context, server string) (Discovered, error) {
	d, err := Discover(ctx, s.http, server)
	if err != nil {
		s.log.Warn("could not ask the server for its realtime settings", "server", RedactURL(server), "err", err)
		return d, err
	}
	for _, n := range d.Notes {
		s.log.Warn("server's realtime settings: "+n, "server", RedactURL(d.Server))
	}
	if d.Offered {
		s.log.Info("the server gave its realtime settings", "server", RedactURL(d.Server), "key", d.Key,
			"host", d.Host, "port", d.Port, "scheme", d.Scheme, "cluster", d.Cluster, "path", d.Path, "auth_endpoint", RedactURL(d.AuthEndpoint))
	} else {
		s.log.Info("the server offers no realtime settings; using the saved ones", "server", RedactURL(d.Server))
	}
	return d, nil
}
