//go:build integration

package devstack_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"echotray/devstack"
)

// frame is one Pusher protocol message.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// wsClient is a raw Pusher protocol client for tests: no library between
// the test and Soketi.
type wsClient struct {
	t        *testing.T
	conn     *websocket.Conn
	socketID string
}

const frameTimeout = 10 * time.Second

func dial(t *testing.T, s *devstack.Soketi) *wsClient {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", s.WSURL(), err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(func() { conn.Close() })
	f := c.read()
	if f.Event != "pusher:connection_established" {
		t.Fatalf("first frame = %+v, want pusher:connection_established", f)
	}
	var est struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	if err := json.Unmarshal([]byte(unquote(t, f.Data)), &est); err != nil || est.SocketID == "" {
		t.Fatalf("bad connection_established data %s: %v", f.Data, err)
	}
	c.socketID = est.SocketID
	return c
}

// unquote returns the JSON string inside data (Pusher double encoding), or
// data itself when it is not a string.
func unquote(t *testing.T, data json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		return s
	}
	return string(data)
}

// read returns the next frame, failing the test after frameTimeout.
func (c *wsClient) read() frame {
	c.t.Helper()
	f, err := c.tryRead(frameTimeout)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return f
}

func (c *wsClient) tryRead(timeout time.Duration) (frame, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return frame{}, err
	}
	_, msg, err := c.conn.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(msg, &f); err != nil {
		return frame{}, fmt.Errorf("decode %q: %w", msg, err)
	}
	return f, nil
}

// expect reads frames until one has the event name (and channel, if not
// empty), failing on timeout.
func (c *wsClient) expect(event, channel string) frame {
	c.t.Helper()
	deadline := time.Now().Add(frameTimeout)
	for time.Now().Before(deadline) {
		f, err := c.tryRead(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %s on %q: %v", event, channel, err)
		}
		if f.Event == event && (channel == "" || f.Channel == channel) {
			return f
		}
	}
	c.t.Fatalf("no %s on %q within %s", event, channel, frameTimeout)
	return frame{}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *wsClient) subscribe(channel, auth, channelData string) {
	c.t.Helper()
	data := map[string]string{"channel": channel}
	if auth != "" {
		data["auth"] = auth
	}
	if channelData != "" {
		data["channel_data"] = channelData
	}
	c.send(map[string]any{"event": "pusher:subscribe", "data": data})
}

// subscribeResult reads until the subscription of channel succeeds or fails
// and returns the deciding frame.
func (c *wsClient) subscribeResult(channel string) frame {
	c.t.Helper()
	deadline := time.Now().Add(frameTimeout)
	for time.Now().Before(deadline) {
		f, err := c.tryRead(time.Until(deadline))
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return frame{Event: "close", Data: json.RawMessage(fmt.Sprint(ce.Code))}
			}
			c.t.Fatalf("waiting for the subscription of %s: %v", channel, err)
		}
		switch {
		case f.Event == "pusher_internal:subscription_succeeded" && f.Channel == channel,
			f.Event == "pusher:subscription_error" && f.Channel == channel,
			f.Event == "pusher:error":
			return f
		}
	}
	c.t.Fatalf("no answer to subscribing %s within %s", channel, frameTimeout)
	return frame{}
}

// closeCode reads until the connection ends and returns its close code
// (websocket.CloseAbnormalClosure, 1006, when it was dropped without one).
func (c *wsClient) closeCode() int {
	c.t.Helper()
	deadline := time.Now().Add(frameTimeout)
	for time.Now().Before(deadline) {
		_, err := c.tryRead(time.Until(deadline))
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "reset by peer") || errors.Is(err, io.EOF) {
			return websocket.CloseAbnormalClosure
		}
		c.t.Fatalf("waiting for the connection to end: %v", err)
	}
	c.t.Fatalf("connection did not end within %s", frameTimeout)
	return 0
}

// api is a tiny client of the stand-in's HTTP API.
type api struct {
	t    *testing.T
	base string
}

func (a api) do(method, path, token string, form url.Values, jsonBody any, accept string) (int, map[string]any) {
	a.t.Helper()
	var body io.Reader
	ct := ""
	switch {
	case jsonBody != nil:
		b, _ := json.Marshal(jsonBody)
		body, ct = strings.NewReader(string(b)), "application/json"
	case form != nil:
		body, ct = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func (a api) login(email, password string) string {
	a.t.Helper()
	status, m := a.do("POST", "/api/login", "", nil, map[string]string{"email": email, "password": password}, "application/json")
	tok, _ := m["token"].(string)
	if status != http.StatusOK || tok == "" {
		a.t.Fatalf("login %s: %d %v", email, status, m)
	}
	return tok
}

// auth asks the stand-in to authorise channel for socketID.
func (a api) auth(token, socketID, channel string) (int, map[string]any) {
	a.t.Helper()
	return a.do("POST", "/broadcasting/auth", token,
		url.Values{"socket_id": {socketID}, "channel_name": {channel}}, nil, "application/json")
}
