package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Auth is the answer of an authorisation endpoint for a private or presence
// channel.
type Auth struct {
	// Auth is the "key:signature" string sent with pusher:subscribe.
	Auth string
	// ChannelData is the presence channel_data string, passed on verbatim
	// (the signature covers its exact bytes).
	ChannelData string
	// SharedSecret is the private-encrypted channel secret, if any.
	SharedSecret string
}

// Authorizer signs subscriptions to private- and presence- channels for a
// socket. Implementations must honour ctx. Errors matching ErrUnauthorized end
// the session (StateFailed); errors matching ErrForbidden mark only that
// channel forbidden; an *AuthError with RetryAfter set is retried after that
// wait (capped at 5 minutes) plus Config.Jitter; any other error is retried
// with backoff. The connection stays up in every case but the first.
type Authorizer interface {
	Authorize(ctx context.Context, socketID, channel string) (Auth, error)
}

// defaultAuthClient is used when HTTPAuthorizer.Client is nil.
var defaultAuthClient = &http.Client{Timeout: 10 * time.Second}

// maxAuthBody bounds how much of an authorisation response is read.
const maxAuthBody = 64 << 10

// HTTPAuthorizer authorises channels against Laravel's /broadcasting/auth
// (or any Pusher-compatible endpoint): a form-encoded POST of socket_id and
// channel_name with Accept: application/json, so Laravel answers 401 in JSON
// instead of redirecting to a login page.
type HTTPAuthorizer struct {
	// Endpoint is the full URL, e.g. http://host/broadcasting/auth.
	Endpoint string
	// Client is reused for every request and must have a Timeout; nil means
	// a shared client with a 10 s timeout.
	Client *http.Client
	// Header returns the request headers, typically Authorization: Bearer,
	// and is called for every request so that a refreshed token is used on
	// the next attempt. It may be nil. An error from it aborts the request
	// and is returned wrapped (so ErrUnauthorized from it ends the session).
	Header func(ctx context.Context) (http.Header, error)
}

// authResponse is the JSON body of a 200 answer.
type authResponse struct {
	Auth         string `json:"auth"`
	ChannelData  string `json:"channel_data"`
	SharedSecret string `json:"shared_secret"`
}

// Authorize implements [Authorizer]. A non-200 answer is an *[AuthError]
// carrying Laravel's {"message": ...}; for 429 and 503 its RetryAfter holds
// the Retry-After header (Laravel's throttle middleware sends it).
func (a HTTPAuthorizer) Authorize(ctx context.Context, socketID, channel string) (Auth, error) {
	if a.Endpoint == "" {
		return Auth{}, errors.New("realtime: HTTPAuthorizer has no Endpoint")
	}
	form := url.Values{"socket_id": {socketID}, "channel_name": {channel}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Auth{}, fmt.Errorf("realtime: building auth request: %w", err)
	}
	if a.Header != nil {
		h, err := a.Header(ctx)
		if err != nil {
			return Auth{}, fmt.Errorf("realtime: auth request headers: %w", err)
		}
		for k, vs := range h {
			req.Header[k] = append([]string(nil), vs...)
		}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if req.Header.Get("X-Requested-With") == "" {
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
	}
	req.Header.Set("X-Socket-ID", socketID)

	client := a.Client
	if client == nil {
		client = defaultAuthClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error includes the URL, never the headers.
		return Auth{}, fmt.Errorf("realtime: auth request for %q: %w", channel, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAuthBody))
	if err != nil {
		return Auth{}, fmt.Errorf("realtime: reading auth response for %q: %w", channel, err)
	}
	if resp.StatusCode != http.StatusOK {
		ae := &AuthError{Status: resp.StatusCode, Message: errorMessage(body)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			ae.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return Auth{}, ae
	}
	var ar authResponse
	if err := json.Unmarshal(body, &ar); err != nil || ar.Auth == "" {
		hint := ""
		if resp.Request != nil && resp.Request.URL.String() != a.Endpoint {
			hint = fmt.Sprintf(" (redirected to %s; is the endpoint behind a login page?)", resp.Request.URL.Redacted())
		}
		if err == nil {
			err = errors.New(`no "auth" field`)
		}
		return Auth{}, fmt.Errorf("realtime: bad auth response for %q%s: %w", channel, hint, err)
	}
	return Auth{Auth: ar.Auth, ChannelData: ar.ChannelData, SharedSecret: ar.SharedSecret}, nil
}

// parseRetryAfter reads a Retry-After value, delta-seconds or an HTTP-date
// (RFC 9110 10.2.3), as a wait from now capped at maxRetryAfter. It returns
// 0 for an empty, unparsable or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter // only ErrRange: too many digits
		}
		d = time.Duration(n) * time.Second
	} else {
		t, err := http.ParseTime(v)
		if err != nil {
			return 0
		}
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// errorMessage extracts Laravel's {"message": ...} or a short text excerpt.
func errorMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &m) == nil {
		if m.Message != "" {
			return m.Message
		}
		if m.Error != "" {
			return m.Error
		}
		return ""
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
