package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Timeouts of the shared HTTP client.
const (
	httpTimeout         = 15 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	maxResponseBytes    = 1 << 20
	// revokeTimeout bounds telling the server to forget a token a failed
	// sign-in got: the sign-in waits for it.
	revokeTimeout = 5 * time.Second
	// maxLoginNesting is how many "data" wrappers a sign-in answer may have
	// around its token.
	maxLoginNesting = 2
)

// ErrUnauthorized matches an *APIError for an HTTP 401: wrong credentials on
// sign-in, an expired or revoked token anywhere else.
var ErrUnauthorized = errors.New("unauthorized")

// ErrorKind classifies an *APIError.
type ErrorKind int

// The kinds of API errors, each with its own wording for the user.
const (
	KindHTTP         ErrorKind = iota // another unexpected HTTP status
	KindUnauthorized                  // 401
	KindForbidden                     // 403
	KindValidation                    // 422
	KindServer                        // 5xx
	KindUnreachable                   // connection refused, no such host, network down
	KindTLS                           // certificate not trusted, not speaking TLS
	KindTimeout                       // no answer in time
	KindBadResponse                   // not the JSON we expect
)

// APIError is a failed call to the Laravel API. Its Error text is meant for
// the user as it stands.
type APIError struct {
	Kind    ErrorKind
	Status  int                 // HTTP status; 0 when no answer arrived
	URL     string              // the endpoint called
	Message string              // user-readable text, the backend's own where it sent one
	Fields  map[string][]string // per-field messages of a 422 answer
	Err     error               // the underlying cause, if any
}

// Error returns the user-readable message.
func (e *APIError) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *APIError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnauthorized) true for a 401.
func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && e.Kind == KindUnauthorized
}

// NewHTTPClient returns the HTTP client to share between the API and the
// channel authorizer: proxy from the environment, bounded timeouts. It does
// not follow redirects: following one turns a POST into a GET (a confusing
// 405 for the sign-in) and could carry the token elsewhere; the redirect is
// reported instead, naming where it points.
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSHandshakeTimeout = tlsHandshakeTimeout
	tr.ResponseHeaderTimeout = httpTimeout
	return &http.Client{
		Timeout:       httpTimeout,
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// API is a client of the Laravel backend's session endpoints. It is safe
// for concurrent use.
type API struct {
	server string
	paths  APIPaths
	client *http.Client
	red    *Redactor // Login registers the token here; nil means none
}

// NewAPI returns a client for the backend at server (an http or https URL).
// A nil client means NewHTTPClient().
func NewAPI(server string, paths APIPaths, client *http.Client) (*API, error) {
	s, err := NormalizeServer(server)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = NewHTTPClient()
	}
	return &API{server: s, paths: paths.withDefaults(), client: client}, nil
}

// WithRedactor returns a copy of a whose Login registers the token with r
// the moment it is read from the server's answer.
func (a *API) WithRedactor(r *Redactor) *API {
	c := *a
	c.red = r
	return &c
}

// NormalizeServer checks a server URL and removes a trailing slash. Its
// errors show the URL without a password.
func NormalizeServer(server string) (string, error) {
	s := strings.TrimRight(strings.TrimSpace(server), "/")
	if s == "" {
		return "", errors.New("no server URL is set (use --server https://your-server)")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, password and all
		}
		return "", fmt.Errorf("the server URL %q is not valid: %w", RedactURL(server), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("the server URL %q must start with http:// or https://", u.Redacted())
	}
	if u.Host == "" {
		return "", fmt.Errorf("the server URL %q has no host name", u.Redacted())
	}
	return s, nil
}

// RedactURL returns a URL for logs and messages: with the password of
// its credentials (https://user:password@host) replaced by "xxxxx", as
// url.URL.Redacted does. Text that does not parse as a URL is masked by
// pattern.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return userinfoRE.ReplaceAllString(s, "${1}xxxxx@")
}

// Server returns the normalized server URL.
func (a *API) Server() string { return a.server }

// HTTPClient returns the shared HTTP client.
func (a *API) HTTPClient() *http.Client { return a.client }

// Endpoint returns the absolute URL of an API path.
func (a *API) Endpoint(path string) string { return joinURL(a.server, path) }

// joinURL appends a path to a server URL; an absolute path URL stays as is.
func joinURL(server, path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return strings.TrimRight(server, "/") + path
}

// Login signs in with e-mail and password and returns the API token and
// the user. Wrong credentials give an *APIError matching ErrUnauthorized
// (401) or of KindValidation (422), with the backend's message.
//
// The token is registered with a's redactor (WithRedactor) as soon as it
// is read, before any further request could log it. On success it stays
// registered once: the caller calls Remove when it no longer needs that.
// If the sign-in fails after the token was issued (the user cannot be
// read or is not valid), the token is revoked on the server, masked in the
// returned error's text in all its forms, and unregistered.
func (a *API) Login(ctx context.Context, email, password string) (string, User, error) {
	body, err := json.Marshal(map[string]string{"email": email, "password": password, "device_name": "EchoTray"})
	if err != nil {
		return "", User{}, fmt.Errorf("encode sign-in request: %w", err)
	}
	endpoint := a.Endpoint(a.paths.Login)
	raw, err := a.do(ctx, http.MethodPost, endpoint, "", body)
	if err != nil {
		return "", User{}, err
	}
	token, user, hasUser, err := parseLogin(raw)
	if err != nil {
		return "", User{}, badResponse(endpoint, err)
	}
	a.red.Add(token)
	fail := func(err error) (string, User, error) {
		a.revoke(ctx, token)
		err = scrubError(err, token)
		a.red.Remove(token)
		return "", User{}, err
	}
	if !hasUser {
		user, err = a.User(ctx, token)
		if err != nil {
			return fail(err)
		}
	}
	if err := user.validate(); err != nil {
		return fail(badResponse(endpoint, err))
	}
	return token, user, nil
}

// revoke tells the server to forget a token that a failed sign-in got, best
// effort: also when ctx was cancelled, bounded by revokeTimeout.
func (a *API) revoke(ctx context.Context, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	_ = a.Logout(ctx, token)
}

// User returns the user the token belongs to. An expired or revoked token
// gives an *APIError matching ErrUnauthorized.
func (a *API) User(ctx context.Context, token string) (User, error) {
	endpoint := a.Endpoint(a.paths.User)
	raw, err := a.do(ctx, http.MethodGet, endpoint, token, nil)
	if err != nil {
		return User{}, err
	}
	u, err := parseUser(raw)
	if err != nil {
		return User{}, badResponse(endpoint, err)
	}
	if err := u.validate(); err != nil {
		return User{}, badResponse(endpoint, err)
	}
	return u, nil
}

// Logout revokes the token on the server.
func (a *API) Logout(ctx context.Context, token string) error {
	_, err := a.do(ctx, http.MethodPost, a.Endpoint(a.paths.Logout), token, nil)
	return err
}

// do performs one JSON request and returns the body of a 2xx answer, or an
// *APIError.
func (a *API) do(ctx context.Context, method, endpoint, token string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, rd)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, password and all
		}
		shown := RedactURL(endpoint)
		return nil, &APIError{Kind: KindHTTP, URL: shown, Message: fmt.Sprintf("Invalid request to %s: %v", shown, err), Err: err}
	}
	endpoint = req.URL.Redacted() // for messages: no password
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "EchoTray")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(ctxErr, context.DeadlineExceeded) {
			return nil, ctxErr
		}
		return nil, transportError(endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, transportError(endpoint, err)
	}
	if len(raw) > maxResponseBytes {
		return nil, &APIError{Kind: KindBadResponse, Status: resp.StatusCode, URL: endpoint,
			Message: fmt.Sprintf("The server's answer from %s is too large (over %d bytes)", endpoint, maxResponseBytes)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if len(bytes.TrimSpace(raw)) > 0 && !isJSON(resp.Header.Get("Content-Type"), raw) {
			return nil, notJSON(endpoint, resp)
		}
		return raw, nil
	}
	return nil, statusError(endpoint, resp, raw)
}

// isJSON reports whether a body looks like JSON: a JSON content type, or
// none and a body starting like JSON.
func isJSON(contentType string, raw []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		return true
	}
	t := bytes.TrimSpace(raw)
	return (mt == "" || mt == "text/plain") && len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

func notJSON(endpoint string, resp *http.Response) *APIError {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "no content type"
	}
	return &APIError{Kind: KindBadResponse, Status: resp.StatusCode, URL: endpoint,
		Message: fmt.Sprintf("The server at %s did not answer with JSON (got %s, status %d); check the server URL", endpoint, ct, resp.StatusCode)}
}

func badResponse(endpoint string, err error) *APIError {
	endpoint = RedactURL(endpoint)
	return &APIError{Kind: KindBadResponse, URL: endpoint, Err: err,
		Message: fmt.Sprintf("The server's answer from %s was not understood: %v", endpoint, err)}
}

// laravelError is the error body Laravel sends.
type laravelError struct {
	Message string              `json:"message"`
	Error   string              `json:"error"`
	Errors  map[string][]string `json:"errors"`
}

// statusError turns a non-2xx answer into an *APIError with the backend's
// message where it sent one.
func statusError(endpoint string, resp *http.Response, raw []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, URL: endpoint}
	var le laravelError
	jsonOK := isJSON(resp.Header.Get("Content-Type"), raw) && json.Unmarshal(raw, &le) == nil
	backend := strings.TrimSpace(le.Message)
	if backend == "" {
		backend = strings.TrimSpace(le.Error)
	}
	if jsonOK {
		e.Fields = le.Errors
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		e.Kind = KindUnauthorized
		e.Message = orDefault(backend, "The server did not accept the credentials (401 Unauthenticated)")
	case code == http.StatusForbidden:
		e.Kind = KindForbidden
		e.Message = orDefault(backend, "The server refused access (403 Forbidden)")
	case code == http.StatusUnprocessableEntity:
		e.Kind = KindValidation
		e.Message = validationMessage(backend, le.Errors)
	case code == http.StatusTooManyRequests:
		e.Kind = KindHTTP
		e.Message = orDefault(backend, "Too many attempts; wait a minute and try again")
	case code >= 500:
		e.Kind = KindServer
		e.Message = fmt.Sprintf("The server had a problem (%d)", code)
		if backend != "" && backend != "Server Error" {
			e.Message += ": " + backend
		}
	case code == http.StatusNotFound:
		e.Kind = KindHTTP
		e.Message = fmt.Sprintf("%s was not found (404); check the server URL and API paths", endpoint)
	case code >= 300 && code < 400:
		e.Kind = KindHTTP
		e.Message = redirectMessage(endpoint, resp)
	default:
		e.Kind = KindHTTP
		e.Message = fmt.Sprintf("The server answered %s from %s", resp.Status, endpoint)
		if backend != "" {
			e.Message += ": " + backend
		}
	}
	return e
}

// validationMessage picks the clearest text of a 422 answer: the first
// field error (e-mail first), else the message.
func validationMessage(message string, fields map[string][]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "email") != (keys[j] == "email") {
			return keys[i] == "email"
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		for _, m := range fields[k] {
			if m = strings.TrimSpace(m); m != "" {
				return m
			}
		}
	}
	return orDefault(message, "The server rejected the request (422)")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// transportError words a failure to get an answer at all.
func transportError(endpoint string, err error) *APIError {
	e := &APIError{URL: endpoint, Err: err}
	base := endpoint
	if u, perr := url.Parse(endpoint); perr == nil {
		base = u.Scheme + "://" + u.Host
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		recordErr tls.RecordHeaderError
		dnsErr    *net.DNSError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &verifyErr):
		e.Kind = KindTLS
		e.Message = "The server's certificate is not trusted: " + certReason(verifyErr.Err)
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		e.Kind = KindTLS
		e.Message = "The server's certificate is not trusted: " + certReason(err)
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		e.Kind = KindTLS
		e.Message = fmt.Sprintf("Cannot talk TLS to %s: the server does not speak HTTPS there (try http://)", base)
	case errors.As(err, &dnsErr):
		e.Kind = KindUnreachable
		e.Message = fmt.Sprintf("Cannot reach %s: no such host %q", base, dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Kind = KindUnreachable
		e.Message = fmt.Sprintf("Cannot reach %s: connection refused", base)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		e.Kind = KindUnreachable
		e.Message = fmt.Sprintf("Cannot reach %s: the network is unreachable", base)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		e.Kind = KindUnreachable
		e.Message = fmt.Sprintf("Cannot reach %s: the connection was closed by the server", base)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		e.Kind = KindTimeout
		e.Message = fmt.Sprintf("The server at %s did not answer in time", base)
	default:
		e.Kind = KindUnreachable
		e.Message = fmt.Sprintf("Cannot reach %s: %v", base, rootCause(err))
	}
	return e
}

// certReason words a certificate verification failure.
func certReason(err error) string {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknownCA):
		return "it is signed by an unknown authority (self-signed or a private CA)"
	case errors.As(err, &hostErr):
		return hostErr.Error()
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "it has expired or is not yet valid"
		}
		return invalid.Error()
	}
	return rootCause(err).Error()
}

// rootCause strips url.Error and net.OpError wrappers for a shorter text.
func rootCause(err error) error {
	for {
		switch e := err.(type) {
		case *url.Error:
			err = e.Err
		case *net.OpError:
			err = e.Err
		default:
			return err
		}
	}
}

// parseLogin reads a sign-in answer: token or access_token, at the top level
// or under "data" (at most maxLoginNesting levels deep); the user bare or as
// {"data": user}, possibly absent.
func parseLogin(raw []byte) (token string, u User, hasUser bool, err error) {
	return parseLoginLevel(raw, 0)
}

func parseLoginLevel(raw []byte, depth int) (token string, u User, hasUser bool, err error) {
	var body struct {
		Token       string          `json:"token"`
		AccessToken string          `json:"access_token"`
		User        json.RawMessage `json:"user"`
		Data        json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return "", User{}, false, fmt.Errorf("sign-in answer: %w", err)
	}
	if body.Token == "" && body.AccessToken == "" && isObject(body.Data) {
		if depth >= maxLoginNesting {
			return "", User{}, false, fmt.Errorf("the sign-in answer has no token: \"data\" is nested more than %d levels deep", maxLoginNesting)
		}
		return parseLoginLevel(body.Data, depth+1)
	}
	token = body.Token
	if token == "" {
		token = body.AccessToken
	}
	if token == "" {
		return "", User{}, false, errors.New("the sign-in answer has no token")
	}
	if !isObject(body.User) {
		return token, User{}, false, nil
	}
	u, err = parseUser(body.User)
	if err != nil {
		return "", User{}, false, err
	}
	return token, u, true, nil
}

// parseUser reads a user, bare or wrapped as {"data": user}.
func parseUser(raw []byte) (User, error) {
	var wrapped struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &wrapped); err != nil {
		return User{}, fmt.Errorf("user: %w", err)
	}
	if isObject(wrapped.Data) {
		raw = wrapped.Data
	}
	var u User
	if err := json.Unmarshal(raw, &u); err != nil {
		return User{}, fmt.Errorf("user: %w", err)
	}
	return u, nil
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// redirectMessage words a redirect of an API request: usually http:// where
// the server wants https://, or a Laravel route that sends unauthenticated
// requests to a login page.
func redirectMessage(endpoint string, resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return fmt.Sprintf("The server answered %s from %s without saying where to", resp.Status, endpoint)
	}
	from, _ := url.Parse(endpoint)
	if from != nil && from.Scheme == "http" && loc.Scheme == "https" && loc.Host == from.Host {
		return fmt.Sprintf("The server redirects %s to https://; set the server URL to https://%s", endpoint, from.Host)
	}
	return fmt.Sprintf("The server redirected %s to %s; check the server URL and API paths", endpoint, loc.Redacted())
}
