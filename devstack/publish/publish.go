package publish

import (
	"bytes"
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

// DefaultTimeout bounds a request when Publisher.Client is nil.
const DefaultTimeout = 10 * time.Second

// maxErrorBody bounds how much of an error answer is read into an APIError.
const maxErrorBody = 4 << 10

// Publisher publishes events through the Pusher HTTP API of one app.
// The zero value is not usable: BaseURL, AppID, Key and Secret are required.
// A Publisher is safe for concurrent use.
type Publisher struct {
	// BaseURL is the server's HTTP address, e.g. "http://127.0.0.1:6001".
	BaseURL string
	// AppID, Key and Secret are the app's credentials.
	AppID, Key, Secret string
	// Client sends the requests; nil means a client with DefaultTimeout.
	Client *http.Client
	// Now gives auth_timestamp; nil means time.Now.
	Now func() time.Time
	// EncryptionMasterKey (32 bytes, see ParseMasterKey) encrypts events
	// on private-encrypted- channels end to end, as Laravel's Pusher
	// broadcaster does with encryption_master_key_base64: the server
	// relays only ciphertext. Without it such a trigger is refused.
	EncryptionMasterKey []byte
}

// APIError is a refusal by the HTTP API: a non-2xx answer, or a 200 answer
// whose body is Soketi's {"error", "code"} (see Do).
type APIError struct {
	Status  int    // HTTP status code
	Message string // the server's message ("error" or "message" field, else the body)
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("pusher http api: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

var defaultClient = &http.Client{Timeout: DefaultTimeout}

// triggerBody is the JSON body of POST /apps/{id}/events, in the field
// order of pusher-php-server (Laravel) and pusher-http-node.
type triggerBody struct {
	Name     string   `json:"name"`
	Data     string   `json:"data"`
	Channels []string `json:"channels"`
	SocketID string   `json:"socket_id,omitempty"`
}

// Trigger publishes one event named name on channels, as Laravel's Pusher
// broadcaster does. data is sent as a JSON string: a string, []byte or
// json.RawMessage is sent as is, anything else is JSON-marshalled first.
// A non-empty socketID excludes that connection (Laravel's toOthers()).
// On a private-encrypted- channel (alone in channels) the data is
// encrypted with EncryptionMasterKey first.
// A refusal is returned as an *APIError carrying the server's message and
// status (see Do).
func (p *Publisher) Trigger(ctx context.Context, channels []string, name string, data any, socketID string) error {
	if len(channels) == 0 {
		return errors.New("publish: trigger: no channels")
	}
	payload, err := EncodeData(data)
	if err != nil {
		return fmt.Errorf("publish: trigger %s: %w", name, err)
	}
	for _, ch := range channels {
		if !IsEncrypted(ch) {
			continue
		}
		// As pusher-php-server: one encrypted channel per trigger, since
		// each channel has its own key.
		if len(channels) > 1 {
			return fmt.Errorf("publish: trigger %s: an encrypted channel (%s) must be triggered on its own", name, ch)
		}
		if len(p.EncryptionMasterKey) == 0 {
			return fmt.Errorf("publish: trigger %s on %s: no encryption master key", name, ch)
		}
		if payload, err = Encrypt(ch, payload, p.EncryptionMasterKey); err != nil {
			return fmt.Errorf("publish: trigger %s: %w", name, err)
		}
	}
	body, err := marshal(triggerBody{Name: name, Channels: channels, Data: payload, SocketID: socketID})
	if err != nil {
		return fmt.Errorf("publish: trigger %s: encode body: %w", name, err)
	}
	if _, err := p.Do(ctx, http.MethodPost, "/apps/"+p.AppID+"/events", nil, body); err != nil {
		return fmt.Errorf("publish: trigger %s on %s: %w", name, strings.Join(channels, ","), err)
	}
	return nil
}

// EncodeData turns an event payload into the string the "data" field carries:
// strings, []byte and json.RawMessage as they are, anything else as JSON
// without HTML escaping, as JSON.stringify would.
func EncodeData(data any) (string, error) {
	switch d := data.(type) {
	case string:
		return d, nil
	case []byte:
		return string(d), nil
	case json.RawMessage:
		return string(d), nil
	}
	b, err := marshal(data)
	if err != nil {
		return "", fmt.Errorf("encode data: %w", err)
	}
	return string(b), nil
}

// marshal encodes v as JSON like JSON.stringify (and the Pusher SDKs): no
// HTML escaping of <, > and &, no trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ChannelInfo is one occupied channel as GET /apps/{id}/channels reports it.
type ChannelInfo struct {
	SubscriptionCount int `json:"subscription_count"`
	UserCount         int `json:"user_count"`
}

// Channels returns the occupied channels whose names start with prefix
// ("" for all), from GET /apps/{id}/channels. Tests use it to wait until a
// client has subscribed.
func (p *Publisher) Channels(ctx context.Context, prefix string) (map[string]ChannelInfo, error) {
	params := url.Values{}
	if prefix != "" {
		params.Set("filter_by_prefix", prefix)
	}
	body, err := p.Do(ctx, http.MethodGet, "/apps/"+p.AppID+"/channels", params, nil)
	if err != nil {
		return nil, fmt.Errorf("publish: list channels: %w", err)
	}
	var out struct {
		Channels map[string]ChannelInfo `json:"channels"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("publish: list channels: decode %q: %w", truncate(body), err)
	}
	if out.Channels == nil {
		out.Channels = map[string]ChannelInfo{}
	}
	return out.Channels, nil
}

// Do sends one signed request to path (relative to the app's base URL, e.g.
// "/apps/1/events") with the extra query params and body (nil for none) and
// returns the answer's body. A non-2xx answer, or a 2xx answer whose body is
// {"error": msg, "code": 4xx/5xx} (how the pinned Soketi build reports
// refusals), is an *APIError.
func (p *Publisher) Do(ctx context.Context, method, path string, params url.Values, body []byte) ([]byte, error) {
	base, err := url.Parse(strings.TrimRight(p.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("bad base URL %q", p.BaseURL)
	}
	fullPath := base.Path + path
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	q.Set("auth_key", p.Key)
	q.Set("auth_timestamp", strconv.FormatInt(now().Unix(), 10))
	q.Set("auth_version", "1.0")
	if body != nil {
		q.Set("body_md5", BodyMD5(body))
	}
	q.Set("auth_signature", SignQuery(p.Secret, method, fullPath, q))
	u := *base
	u.Path = fullPath
	u.RawQuery = q.Encode()

	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	client := p.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, fullPath, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, fullPath, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &APIError{Status: resp.StatusCode, Message: errorMessage(respBody)}
	}
	if e := embeddedError(respBody); e != nil {
		return nil, e
	}
	return respBody, nil
}

// embeddedError recognises an error answer sent with HTTP 200. Soketi 1.6 on
// the uWebSockets.js build this repository pins writes its CORS headers
// before the status, so uWebSockets keeps "200 OK" and every refusal
// (bad signature, unknown app, invalid event) arrives as
// 200 {"error": "...", "code": 401}. The code in the body is the real status.
func embeddedError(body []byte) *APIError {
	var m struct {
		Error *string `json:"error"`
		Code  int     `json:"code"`
	}
	if json.Unmarshal(body, &m) != nil || m.Error == nil || m.Code < 400 || m.Code > 599 {
		return nil
	}
	return &APIError{Status: m.Code, Message: *m.Error}
}

// errorMessage extracts Soketi's message ({"error": ...} or {"message": ...})
// from an error answer, falling back to the (truncated) body.
func errorMessage(body []byte) string {
	var m struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil {
		if m.Error != "" {
			return m.Error
		}
		if m.Message != "" {
			return m.Message
		}
	}
	if s := strings.TrimSpace(truncate(body)); s != "" {
		return s
	}
	return "(empty answer)"
}

func truncate(b []byte) string {
	if len(b) > maxErrorBody {
		return string(b[:maxErrorBody]) + "..."
	}
	return string(b)
}
