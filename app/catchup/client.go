// Package catchup fetches the Laravel notifications EchoTray missed while it
// was offline and sends back which ones the user read.
//
// Pusher-protocol servers keep nothing, so an event broadcast while the
// computer slept is gone. Laravel's database notifications are kept in the
// notifications table; the backend lists them (GET /api/notifications?since=,
// Laravel's paginator JSON, oldest first) and marks them read (POST
// /api/notifications/{id}/read). A backend without the routes answers 404:
// catch-up and read sync are then off, and nothing else changes.
//
// The package links no GUI toolkit and does no work on the caller's
// goroutine that it could not bound: Runner.Run and the Syncer run on
// workers of their own.
package catchup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Paths of the backend's notification routes, under the server URL.
const (
	ListPath = "/api/notifications"
	// ReadPath is the mark-read route; %s is the notification's UUID.
	ReadPath = "/api/notifications/%s/read"
)

var (
	// ErrUnsupported means the backend has no notification routes (404):
	// catch-up, or read sync, is off for this server.
	ErrUnsupported = errors.New("catchup: the server has no notifications route")
	// ErrUnauthorized means the server answered 401: the session is over.
	ErrUnauthorized = errors.New("catchup: unauthorized (session expired)")
)

// StatusError is a non-2xx answer other than 401 and 404.
type StatusError struct {
	Status int
	Body   string // a short excerpt
}

// Error names the status and the start of the answer.
func (e *StatusError) Error() string {
	return fmt.Sprintf("catchup: HTTP %d: %s", e.Status, e.Body)
}

// NotFoundError is a 404. It matches ErrUnsupported unless Laravel said
// that the notification itself does not exist (ModelNotFound: "No query
// results for model"), see Gone.
type NotFoundError struct {
	Path string
	Body string
}

// Error names the path and the start of the answer.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("catchup: HTTP 404 for %s: %s", e.Path, e.Body)
}

// Gone reports whether the route exists but the notification does not.
func (e *NotFoundError) Gone() bool {
	return strings.Contains(e.Body, "No query results")
}

// Is makes errors.Is(err, ErrUnsupported) hold for a missing route.
func (e *NotFoundError) Is(target error) bool { return target == ErrUnsupported && !e.Gone() }

// Client talks to the backend's notification routes.
type Client struct {
	// Server is the normalised server URL (scheme, host and path prefix).
	Server string
	// HTTP must have a Timeout.
	HTTP *http.Client
	// Header returns the request headers (Authorization: Bearer …), called
	// per request so a new token is used at once.
	Header func(ctx context.Context) (http.Header, error)
	// PerPage is asked of the server (per_page); it may ignore it.
	PerPage int
}

// Item is one database notification as the paginator lists it.
type Item struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	ReadAt    *time.Time      `json:"-"`
	CreatedAt time.Time       `json:"-"`
}

// UnmarshalJSON reads Laravel's timestamps, which may come as RFC 3339
// (with microseconds) or as "2006-01-02 15:04:05".
func (it *Item) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID        json.RawMessage `json:"id"`
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
		ReadAt    *string         `json:"read_at"`
		CreatedAt string          `json:"created_at"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	id := strings.TrimSpace(string(raw.ID))
	if strings.HasPrefix(id, `"`) {
		_ = json.Unmarshal(raw.ID, &id)
	}
	*it = Item{ID: id, Type: raw.Type, Data: raw.Data}
	// Laravel's "data" column is a JSON string when the model has no cast.
	if d := strings.TrimSpace(string(raw.Data)); strings.HasPrefix(d, `"`) {
		var s string
		if json.Unmarshal(raw.Data, &s) == nil && json.Valid([]byte(s)) {
			it.Data = json.RawMessage(s)
		}
	}
	t, err := parseTime(raw.CreatedAt)
	if err != nil {
		return fmt.Errorf("created_at: %w", err)
	}
	it.CreatedAt = t
	if raw.ReadAt != nil && *raw.ReadAt != "" {
		r, err := parseTime(*raw.ReadAt)
		if err != nil {
			r = t // read, at some time
		}
		it.ReadAt = &r
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

// page is Laravel's paginator JSON (the fields EchoTray reads).
type page struct {
	Data        []Item  `json:"data"`
	NextPageURL *string `json:"next_page_url"`
}

// FetchResult describes one fetch.
type FetchResult struct {
	Items int
	Pages int
	// ServerTime is the server's clock (its Date header) at the first
	// answer; zero when it sent none.
	ServerTime time.Time
	// Truncated is set when maxPages ended the fetch early.
	Truncated bool
}

// Fetch lists the notifications created at or after since, page by page,
// following next_page_url (only on the same server), at most maxPages
// pages; each page goes to fn before the next is asked for.
func (c *Client) Fetch(ctx context.Context, since time.Time, maxPages int, fn func([]Item) error) (FetchResult, error) {
	var res FetchResult
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	if c.PerPage > 0 {
		q.Set("per_page", fmt.Sprint(c.PerPage))
	}
	next := c.Server + ListPath
	if len(q) > 0 {
		next += "?" + q.Encode()
	}
	for next != "" {
		if res.Pages >= maxPages {
			res.Truncated = true
			return res, nil
		}
		var p page
		date, err := c.get(ctx, next, &p)
		if err != nil {
			return res, err
		}
		if res.Pages == 0 {
			res.ServerTime = date
		}
		res.Pages++
		res.Items += len(p.Data)
		if len(p.Data) > 0 {
			if err := fn(p.Data); err != nil {
				return res, err
			}
		}
		next = ""
		if p.NextPageURL != nil && *p.NextPageURL != "" && len(p.Data) > 0 {
			n, err := c.sameServer(*p.NextPageURL, q)
			if err != nil {
				return res, err
			}
			next = n
		}
	}
	return res, nil
}

// sameServer resolves a next_page_url against the server, refusing other
// hosts (the token must not go elsewhere) and keeping the query (a
// paginator without withQueryString() drops "since").
func (c *Client) sameServer(raw string, q url.Values) (string, error) {
	base, err := url.Parse(c.Server + ListPath)
	if err != nil {
		return "", fmt.Errorf("catchup: server URL: %w", err)
	}
	u, err := base.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("catchup: next_page_url %q: %w", raw, err)
	}
	if !strings.EqualFold(u.Host, base.Host) {
		// Behind a proxy Laravel may name itself differently
		// (APP_URL): keep the path and query, on our server.
		u.Scheme, u.Host, u.User = base.Scheme, base.Host, nil
	}
	have := u.Query()
	for k, v := range q {
		if have.Get(k) == "" {
			have[k] = v
		}
	}
	u.RawQuery = have.Encode()
	return u.String(), nil
}

// get fetches url into v, returning the server's Date.
func (c *Client) get(ctx context.Context, u string, v any) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("catchup: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(v); err != nil {
		return date, fmt.Errorf("catchup: reading the notifications page: %w", err)
	}
	return date, nil
}

// MarkRead marks the notification read on the server.
func (c *Client) MarkRead(ctx context.Context, uuid string) error {
	u := c.Server + fmt.Sprintf(ReadPath, url.PathEscape(uuid))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("catchup: %w", err)
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil
}

// do sends req with the headers and maps the status: 2xx is returned, 401
// and 404 are ErrUnauthorized and ErrUnsupported, others a *StatusError.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	if c.Header != nil {
		h, err := c.Header(req.Context())
		if err != nil {
			return nil, fmt.Errorf("catchup: %w", err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("catchup: %w", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return nil, ErrUnauthorized
	case http.StatusNotFound:
		return nil, &NotFoundError{Path: req.URL.Path, Body: strings.TrimSpace(string(body))}
	}
	return nil, &StatusError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
}
