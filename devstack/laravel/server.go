// Package laravel is an HTTP stand-in for the Laravel side of EchoTray's
// backend contract: Sanctum-style token login, the current user, logout and
// Pusher channel authorisation (/broadcasting/auth), with seeded users.
//
// It answers the way a Laravel 10/11 API with `auth:sanctum` and
// `Broadcast::routes()` does: JSON errors `{"message": ...}`, 422 validation
// errors with "errors", 401 `{"message":"Unauthenticated."}`, channel rules
// matched after stripping `private-`/`presence-`, 403 when a rule refuses, and
// a 302 to /login for an unauthenticated /broadcasting/auth request that does
// not ask for JSON. Test hooks (RevokeAll, FailNext, SetDelay, Requests) and
// HTTP hooks under /_devstack/ let client tests provoke every answer.
package laravel

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"echotray/devstack/publish"
)

// Default paths of the backend contract.
const (
	DefaultLoginPath         = "/api/login"
	DefaultUserPath          = "/api/user"
	DefaultLogoutPath        = "/api/logout"
	DefaultBroadcastAuthPath = "/broadcasting/auth"
	// DiscoveryPath is the broadcasting discovery route (no auth).
	DiscoveryPath = "/api/broadcasting/config"
	// LoginPagePath is where an unauthenticated non-JSON request is redirected.
	LoginPagePath = "/login"
)

// Test hook paths (not part of Laravel).
const (
	HookRevokePath = "/_devstack/revoke" // POST: revoke every token
	HookTokensPath = "/_devstack/tokens" // GET: {"tokens": live token count}
	HookFailPath   = "/_devstack/fail"   // POST JSON {"path","status","body"}: FailNext
	// HookOutagePath: POST JSON {"path","status","seconds","retry_after"}: FailFor.
	HookOutagePath = "/_devstack/outage"
	// HookThrottlePath: POST JSON {"per_second","per_minute","per_user"}: SetThrottle.
	HookThrottlePath = "/_devstack/throttle"
)

// Paths are the endpoint paths the stand-in serves; empty fields take the
// defaults (e.g. set BroadcastAuth to "/api/broadcasting/auth" to mimic
// Laravel 11's withBroadcasting under the api prefix).
type Paths struct {
	Login, User, Logout, BroadcastAuth string
}

// Shape selects how login and user answers are shaped, so client tests can
// exercise the variants real Laravel backends use.
type Shape struct {
	// AccessToken names the login token field "access_token" (with
	// "token_type": "Bearer") instead of "token".
	AccessToken bool
	// WrapLogin wraps the whole login answer: {"success": true, "data": {...}}.
	WrapLogin bool
	// WrapUser answers user objects as API resources: {"data": {...user}},
	// both from GET /api/user and in the login answer's "user".
	WrapUser bool
}

// Config configures New.
type Config struct {
	// AppKey and AppSecret are the Pusher app credentials channel
	// signatures are made with (Soketi's key and secret).
	AppKey, AppSecret string
	// Users are the accounts; nil means DefaultUsers().
	Users []User
	// Logger receives one line per request (never a token or password);
	// nil discards.
	Logger *slog.Logger
	// TokenTTL is how long a token is valid; 0 means no expiry.
	TokenTTL time.Duration
	// Paths overrides the endpoint paths.
	Paths Paths
	// Shape selects the login/user answer shapes (changeable by SetShape).
	Shape Shape
	// BadCredentialsStatus is the status of a failed login, 401 (default)
	// or 422 (Laravel's ValidationException style, with "errors").
	BadCredentialsStatus int
	// Now is the clock for token expiry, throttling and outages; nil means
	// time.Now.
	Now func() time.Time

	// AuthThrottle limits /broadcasting/auth like Laravel's throttle
	// middleware (changeable by SetThrottle); the zero value does not limit.
	AuthThrottle Throttle

	// Discovery is what GET /api/broadcasting/config answers.
	Discovery Discovery
	// NoDiscovery hides GET /api/broadcasting/config (404), as a backend
	// without the route answers.
	NoDiscovery bool
}

// Server is the stand-in. Create it with New; it is safe for concurrent use.
type Server struct {
	cfg   Config
	log   *slog.Logger
	paths Paths
	users []User

	mu       sync.Mutex
	shape    Shape
	tokens   map[string]token
	tokenSeq int64
	failures map[string][]failure
	delays   map[string]time.Duration
	requests map[string]int
	throttle *limiter
	outages  map[string]outage
	byID     map[int64]int  // user id -> index in users
	byEmail  map[string]int // lower-case email -> index in users

	srv     *http.Server
	url     string
	served  chan struct{} // closed when Serve returns
	closing chan struct{} // closed by Close; ends injected delays
	once    sync.Once
}

type token struct {
	userID  int64
	expires time.Time // zero: never
}

type failure struct {
	status int
	body   string
}

// New returns a stand-in for cfg. Call Start to serve it, or mount Handler.
func New(cfg Config) *Server {
	if cfg.Users == nil {
		cfg.Users = DefaultUsers()
	}
	if cfg.BadCredentialsStatus == 0 {
		cfg.BadCredentialsStatus = http.StatusUnauthorized
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := cfg.Paths
	if p.Login == "" {
		p.Login = DefaultLoginPath
	}
	if p.User == "" {
		p.User = DefaultUserPath
	}
	if p.Logout == "" {
		p.Logout = DefaultLogoutPath
	}
	if p.BroadcastAuth == "" {
		p.BroadcastAuth = DefaultBroadcastAuthPath
	}
	s := &Server{
		cfg:      cfg,
		log:      logger,
		paths:    p,
		users:    append([]User(nil), cfg.Users...),
		shape:    cfg.Shape,
		tokens:   map[string]token{},
		failures: map[string][]failure{},
		delays:   map[string]time.Duration{},
		requests: map[string]int{},
		throttle: newLimiter(cfg.AuthThrottle),
		outages:  map[string]outage{},
		byID:     make(map[int64]int, len(cfg.Users)),
		byEmail:  make(map[string]int, len(cfg.Users)),
		closing:  make(chan struct{}),
	}
	for i, u := range s.users {
		if _, dup := s.byID[u.ID]; !dup {
			s.byID[u.ID] = i
		}
		if k := strings.ToLower(u.Email); k != "" {
			if _, dup := s.byEmail[k]; !dup {
				s.byEmail[k] = i
			}
		}
	}
	return s
}

// StartT starts a stand-in with DefaultUsers on a free loopback port for a
// test and closes it in tb.Cleanup. Its base URL is s.URL().
func StartT(tb testing.TB, appKey, appSecret string) *Server {
	tb.Helper()
	return StartConfigT(tb, Config{AppKey: appKey, AppSecret: appSecret})
}

// StartConfigT is StartT with a full Config.
func StartConfigT(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := New(cfg)
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("laravel stand-in: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("laravel stand-in: close: %v", err)
		}
	})
	return s
}

// Start serves the stand-in on addr ("127.0.0.1:0" for a free port) in the
// background and returns its base URL, e.g. "http://127.0.0.1:8000".
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("laravel stand-in: listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	if s.srv != nil {
		s.mu.Unlock()
		ln.Close()
		return "", errors.New("laravel stand-in: already started")
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	s.served = make(chan struct{})
	srv, served := s.srv, s.served
	s.mu.Unlock()
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("laravel stand-in: serve", "err", err)
		}
	}()
	s.log.Info("laravel stand-in listening", "url", s.URL())
	return s.URL(), nil
}

// URL returns the base URL after Start ("" before).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops serving, ending in-flight requests, and waits for the server
// goroutine. It is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.closing) })
	s.mu.Lock()
	srv, served := s.srv, s.served
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-served
	if err != nil {
		return fmt.Errorf("laravel stand-in: close: %w", err)
	}
	return nil
}

// Users returns a copy of the accounts.
func (s *Server) Users() []User {
	return append([]User(nil), s.users...)
}

// SetShape changes the shape of later login and user answers.
func (s *Server) SetShape(sh Shape) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shape = sh
}

// RevokeAll revokes every issued token: each now gets 401.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Tokens returns the number of live (issued, not revoked, not expired) tokens.
func (s *Server) Tokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	n := 0
	for _, t := range s.tokens {
		if t.live(now) {
			n++
		}
	}
	return n
}

// FailNext makes the next request to path (e.g. "/broadcasting/auth")
// answer status with body instead of being served. Calls queue up, one
// answer per request. An empty body means {"message": "<status text>"};
// a body that is JSON is sent as application/json, anything else as
// text/html (like an HTML error page from a proxy).
func (s *Server) FailNext(path string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[path] = append(s.failures[path], failure{status: status, body: body})
}

// SetDelay delays every later request to path by d before answering (0
// removes it), to exercise client timeouts. A delayed request ends early if
// the client gives up or the server closes.
func (s *Server) SetDelay(path string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.delays, path)
		return
	}
	s.delays[path] = d
}

// Requests returns how many requests path has received (served, failed by
// FailNext or not found alike).
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Handler returns the stand-in's HTTP handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// statusWriter records the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	path := r.URL.Path
	s.mu.Lock()
	s.requests[path]++
	delay := s.delays[path]
	var fail *failure
	if q := s.failures[path]; len(q) > 0 {
		fail = &q[0]
		s.failures[path] = q[1:]
	}
	out, inOutage := s.outages[path]
	if inOutage && !s.cfg.Now().Before(out.until) {
		delete(s.outages, path)
		inOutage = false
	}
	s.mu.Unlock()
	defer func() {
		s.log.Info("http", "method", r.Method, "path", path, "status", w.status, "dur", time.Since(start).Round(time.Microsecond))
	}()

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closing:
			t.Stop()
			return
		}
	}
	if fail != nil {
		writeRaw(w, fail.status, fail.body)
		return
	}
	if inOutage {
		s.writeOutage(w, out)
		return
	}
	if path == s.paths.BroadcastAuth && !s.allow(w, r) {
		return
	}
	switch path {
	case s.paths.Login:
		s.route(w, r, "POST", s.login)
	case s.paths.User:
		s.route(w, r, "GET", s.user)
	case s.paths.Logout:
		s.route(w, r, "POST", s.logout)
	case s.paths.BroadcastAuth:
		s.route(w, r, "GET|POST", s.broadcastAuth)
	case DiscoveryPath:
		if s.cfg.NoDiscovery {
			s.notFound(w, path)
			return
		}
		s.route(w, r, "GET", s.discovery)
	case LoginPagePath:
		s.route(w, r, "GET", loginPage)
	case HookRevokePath:
		s.route(w, r, "POST", s.hookRevoke)
	case HookTokensPath:
		s.route(w, r, "GET", s.hookTokens)
	case HookFailPath:
		s.route(w, r, "POST", s.hookFail)
	case HookOutagePath:
		s.route(w, r, "POST", s.hookOutage)
	case HookThrottlePath:
		s.route(w, r, "POST", s.hookThrottle)
	default:
		s.notFound(w, path)
	}
}

func (s *Server) notFound(w http.ResponseWriter, path string) {
	writeJSON(w, http.StatusNotFound, map[string]string{
		"message": "The route " + strings.TrimPrefix(path, "/") + " could not be found.",
	})
}

// route calls h if r's method is one of methods ("GET|POST"; GET allows
// HEAD), else answers 405 like Laravel.
func (s *Server) route(w http.ResponseWriter, r *http.Request, methods string, h http.HandlerFunc) {
	allowed := strings.Split(methods, "|")
	for _, m := range allowed {
		if r.Method == m || (m == "GET" && r.Method == http.MethodHead) {
			h(w, r)
			return
		}
	}
	supported := strings.Join(allowed, ", ")
	if strings.Contains(methods, "GET") {
		supported += ", HEAD"
	}
	w.Header().Set("Allow", supported)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{
		"message": fmt.Sprintf("The %s method is not supported for route %s. Supported methods: %s.",
			r.Method, strings.TrimPrefix(r.URL.Path, "/"), supported),
	})
}

// --- endpoints ---

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	in := readInput(r)
	email, password := strings.TrimSpace(in.Get("email")), in.Get("password")
	errs := map[string][]string{}
	switch {
	case email == "":
		errs["email"] = []string{"The email field is required."}
	case !strings.Contains(email, "@"):
		errs["email"] = []string{"The email field must be a valid email address."}
	}
	if password == "" {
		errs["password"] = []string{"The password field is required."}
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	u, ok := s.userByEmail(email)
	if !ok || u.Password != password {
		s.log.Info("login refused", "email", email)
		if s.cfg.BadCredentialsStatus == http.StatusUnprocessableEntity {
			writeValidation(w, map[string][]string{"email": {"These credentials do not match our records."}})
			return
		}
		writeJSON(w, s.cfg.BadCredentialsStatus, map[string]string{"message": "Invalid credentials."})
		return
	}
	tok := s.issue(u)
	s.log.Info("login", "email", u.Email, "user_id", u.ID)

	s.mu.Lock()
	sh := s.shape
	s.mu.Unlock()
	body := map[string]any{"user": s.userValue(u, sh)}
	if sh.AccessToken {
		body["access_token"] = tok
		body["token_type"] = "Bearer"
		if s.cfg.TokenTTL > 0 {
			body["expires_in"] = int64(s.cfg.TokenTTL / time.Second)
		}
	} else {
		body["token"] = tok
	}
	if sh.WrapLogin {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Login successful.", "data": body})
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.authenticate(r)
	if !ok {
		writeUnauthenticated(w)
		return
	}
	s.mu.Lock()
	sh := s.shape
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.userValue(u, sh))
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	u, tok, ok := s.authenticate(r)
	if !ok {
		writeUnauthenticated(w)
		return
	}
	s.mu.Lock()
	delete(s.tokens, tok)
	s.mu.Unlock()
	s.log.Info("logout", "user_id", u.ID)
	writeJSON(w, http.StatusOK, map[string]string{"message": "Logged out successfully."})
}

var socketIDRe = regexp.MustCompile(`\A\d+\.\d+\z`)

func (s *Server) broadcastAuth(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.authenticate(r)
	if !ok {
		// auth:sanctum refuses before the broadcaster runs.
		if expectsJSON(r) {
			writeUnauthenticated(w)
			return
		}
		http.Redirect(w, r, LoginPagePath, http.StatusFound)
		return
	}
	in := readInput(r)
	channel, socketID := in.Get("channel_name"), in.Get("socket_id")
	if channel == "" {
		s.forbidden(w, r, u, channel, "no channel_name")
		return
	}
	if !socketIDRe.MatchString(socketID) {
		// pusher-php-server throws; Laravel answers 500 with the message in debug mode.
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Invalid socket ID " + socketID})
		return
	}
	normalized, presence := channel, false
	switch {
	case strings.HasPrefix(channel, "private-encrypted-"):
		s.forbidden(w, r, u, channel, "encrypted channels are not configured")
		return
	case strings.HasPrefix(channel, "private-"):
		normalized = strings.TrimPrefix(channel, "private-")
	case strings.HasPrefix(channel, "presence-"):
		normalized, presence = strings.TrimPrefix(channel, "presence-"), true
	}
	allowed, info := s.canJoin(u, normalized)
	if !allowed {
		s.forbidden(w, r, u, channel, "channel rule refused")
		return
	}
	resp := map[string]string{}
	if presence {
		data := phpJSON(map[string]any{"user_id": u.ID, "user_info": info})
		resp["channel_data"] = data
		resp["auth"] = publish.ChannelAuth(s.cfg.AppKey, s.cfg.AppSecret, socketID, channel, data)
	} else {
		resp["auth"] = publish.ChannelAuth(s.cfg.AppKey, s.cfg.AppSecret, socketID, channel, "")
	}
	s.log.Info("channel authorised", "user_id", u.ID, "channel", channel)
	writeJSON(w, http.StatusOK, resp)
}

// canJoin applies the channel rules (routes/channels.php) to a channel name
// without its private-/presence- prefix. info is the presence user_info.
func (s *Server) canJoin(u User, name string) (bool, map[string]any) {
	info := map[string]any{"id": u.ID, "name": u.Name}
	if name == "system.admin" {
		return u.IsSystemAdmin(), info
	}
	if id, ok := strings.CutPrefix(name, "user."); ok {
		n, err := strconv.ParseInt(id, 10, 64)
		return err == nil && n == u.ID, info
	}
	if id, ok := strings.CutPrefix(name, "tenant."); ok {
		n, err := strconv.ParseInt(id, 10, 64)
		t, has := u.Tenant()
		return err == nil && has && n == t, info
	}
	return false, nil
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, u User, channel, why string) {
	s.log.Info("channel refused", "user_id", u.ID, "channel", channel, "why", why)
	// AccessDeniedHttpException carries no message.
	if expectsJSON(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": ""})
		return
	}
	writeRaw(w, http.StatusForbidden, "<!DOCTYPE html><html><head><title>Forbidden</title></head><body>403 | Forbidden</body></html>")
}

func loginPage(w http.ResponseWriter, _ *http.Request) {
	writeRaw(w, http.StatusOK, "<!DOCTYPE html><html><head><title>Login</title></head><body><form method=\"post\" action=\"/login\"></form></body></html>")
}

// --- test hooks over HTTP ---

func (s *Server) hookRevoke(w http.ResponseWriter, _ *http.Request) {
	n := s.Tokens()
	s.RevokeAll()
	s.log.Info("all tokens revoked", "count", n)
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}

func (s *Server) hookTokens(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]int{"tokens": s.Tokens()})
}

func (s *Server) hookFail(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Path   string `json:"path"`
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.Path == "" || in.Status < 100 || in.Status > 599 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": `want JSON {"path": "/...", "status": 100-599, "body": "..."}`})
		return
	}
	s.FailNext(in.Path, in.Status, in.Body)
	writeJSON(w, http.StatusOK, map[string]string{"message": "armed"})
}

// --- helpers ---

func (s *Server) userByEmail(email string) (User, bool) {
	if i, ok := s.byEmail[strings.ToLower(email)]; ok {
		return s.users[i], true
	}
	return User{}, false
}

func (s *Server) userByID(id int64) (User, bool) {
	if i, ok := s.byID[id]; ok {
		return s.users[i], true
	}
	return User{}, false
}

// issue creates a Sanctum-style token "<id>|<40 random characters>".
func (s *Server) issue(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenSeq++
	tok := strconv.FormatInt(s.tokenSeq, 10) + "|" + rand.Text() + rand.Text()[:14]
	t := token{userID: u.ID}
	if s.cfg.TokenTTL > 0 {
		t.expires = s.cfg.Now().Add(s.cfg.TokenTTL)
	}
	s.tokens[tok] = t
	return tok
}

// authenticate resolves the Bearer token to its user.
func (s *Server) authenticate(r *http.Request) (User, string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return User{}, "", false
	}
	tok = strings.TrimSpace(tok)
	s.mu.Lock()
	t, found := s.tokens[tok]
	if found && !t.live(s.cfg.Now()) {
		delete(s.tokens, tok)
		found = false
	}
	s.mu.Unlock()
	if !found {
		return User{}, "", false
	}
	u, ok := s.userByID(t.userID)
	return u, tok, ok
}

func (t token) live(now time.Time) bool {
	return t.expires.IsZero() || now.Before(t.expires)
}

func (s *Server) userValue(u User, sh Shape) any {
	if sh.WrapUser {
		return map[string]any{"data": toJSON(u)}
	}
	return toJSON(u)
}

// readInput merges query, form and JSON body input as Laravel's
// $request->input() does. Malformed JSON counts as no input.
func readInput(r *http.Request) url.Values {
	ct := r.Header.Get("Content-Type")
	if strings.Contains(ct, "json") {
		out := r.URL.Query()
		var m map[string]any
		if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m) == nil {
			for k, v := range m {
				switch v := v.(type) {
				case string:
					out.Set(k, v)
				case float64, bool:
					out.Set(k, fmt.Sprint(v))
				}
			}
		}
		return out
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	_ = r.ParseForm() // a malformed body leaves the values empty, answered below
	return r.Form
}

// expectsJSON is Laravel's Request::expectsJson: an XHR accepting anything,
// or an Accept header whose first type is JSON.
func expectsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	first := strings.TrimSpace(strings.Split(strings.Split(accept, ",")[0], ";")[0])
	if strings.Contains(first, "/json") || strings.Contains(first, "+json") {
		return true
	}
	ajax := strings.EqualFold(r.Header.Get("X-Requested-With"), "XMLHttpRequest")
	return ajax && (accept == "" || first == "*/*" || first == "*")
}

func writeUnauthenticated(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthenticated."})
}

func writeValidation(w http.ResponseWriter, errs map[string][]string) {
	msg := ""
	n := 0
	for _, field := range []string{"email", "password"} {
		if e, ok := errs[field]; ok {
			if msg == "" {
				msg = e[0]
			}
			n++
		}
	}
	if n > 1 {
		msg += fmt.Sprintf(" (and %d more error)", n-1)
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": msg, "errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	if body == "" {
		writeJSON(w, status, map[string]string{"message": http.StatusText(status)})
		return
	}
	if json.Valid([]byte(body)) {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// phpJSON encodes v as PHP's json_encode does by default ("/" escaped as
// "\/", non-ASCII as \uXXXX), so channel_data is what Laravel would send.
func phpJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "{}"
	}
	s := strings.TrimSuffix(b.String(), "\n")
	var out strings.Builder
	for _, r := range s {
		switch {
		case r == '/':
			out.WriteString(`\/`)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		case r >= 0x80:
			fmt.Fprintf(&out, `\u%04x`, r)
		default:
			out.WriteRune(r)
		}
	}
	return out.String()
}
