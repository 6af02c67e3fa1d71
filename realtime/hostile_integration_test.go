//go:build integration

package realtime

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// hostileServer is a Pusher server over real loopback TCP that, once the
// client has subscribed, floods it with n frames of size bytes, each with a
// distinct event name of nameLen bytes, then sends one normal event.
// finishedAt is set when its last write returned.
type hostileServer struct {
	*httptest.Server
	finishedAt atomic.Int64 // unix nanoseconds
	written    atomic.Int64
}

func startHostileServer(t *testing.T, n, nameLen, size int) *hostileServer {
	t.Helper()
	hs := &hostileServer{}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":30}"}`))
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var f struct {
				Event string `json:"event"`
				Data  struct {
					Channel string `json:"channel"`
				} `json:"data"`
			}
			if json.Unmarshal(msg, &f) == nil && f.Event == "pusher:subscribe" {
				_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"pusher_internal:subscription_succeeded","channel":"`+f.Data.Channel+`"}`))
				break
			}
		}
		readerDone := make(chan struct{})
		defer func() { <-readerDone }() // until the client closes
		go func() {                     // keep reading the client's pings
			defer close(readerDone)
			for {
				if _, _, err := ws.NextReader(); err != nil {
					return
				}
			}
		}()
		buf := frameOf("E"+strings.Repeat("N", max(nameLen, 8)-1), "a", size)
		at := len(`{"event":"`)
		for i := range n {
			copy(buf[at+1:], fmt.Sprintf("%06d", i))
			if ws.WriteMessage(websocket.TextMessage, buf) != nil {
				return
			}
			hs.written.Add(1)
		}
		hs.finishedAt.Store(time.Now().UnixNano())
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"event":"Normal","channel":"a","data":{}}`))
	}))
	t.Cleanup(hs.Close)
	return hs
}

// TestIntegrationHostileServerOverTCP is issue 15's first target over a
// real socket: 1,200 frames of 266 KiB with distinct 16 KiB names (refused
// by the decoder), then the same flood with valid names to a handler that
// takes 2 ms an event. Memory stays bounded (the peak growth of the Go
// heap and of the runtime's mapped memory, standing for watch's RSS), the
// next normal event arrives, and with valid names the server can finish
// writing only as the handler catches up: TCP pushed back.
func TestIntegrationHostileServerOverTCP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nameLen int
	}{{"16 KiB names", 16 << 10}, {"valid names", 16}} {
		t.Run(tc.name, func(t *testing.T) {
			const n, size = 1200, 266 << 10
			hs := startHostileServer(t, n, tc.nameLen, size)
			host, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
			p, _ := strconv.Atoi(port)
			var handled atomic.Int64
			normal := make(chan time.Time, 1)
			cfg := Config{Key: testKey, Host: host, Port: p, Logger: debugLogger(),
				Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }}
			cfg.OnEvent = func(e Event) {
				if e.Name == "Normal" {
					normal <- time.Now()
					return
				}
				time.Sleep(2 * time.Millisecond)
				handled.Add(1)
			}
			probe := startHeapProbe()
			start := time.Now()
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Subscribe("a")
			c.Connect()
			var done time.Time
			select {
			case done = <-normal:
			case <-time.After(20 * time.Second):
				t.Fatalf("the normal event did not arrive; %d events handled, %d frames written", handled.Load(), hs.written.Load())
			}
			heap, mapped := probe.finish()
			finished := time.Unix(0, hs.finishedAt.Load())
			t.Logf("%d frames of %d KiB, %d-byte names: peak heap +%.1f MiB, peak mapped +%.1f MiB; %d events handled; server done writing after %s, normal event after %s",
				n, size>>10, tc.nameLen, float64(heap)/mib, float64(mapped)/mib, handled.Load(),
				finished.Sub(start).Round(time.Millisecond), done.Sub(start).Round(time.Millisecond))
			if max(heap, mapped) > 100*mib {
				t.Errorf("memory grew by %.1f MiB, want < 100 MiB", float64(max(heap, mapped))/mib)
			}
			if tc.nameLen > maxEventName {
				if handled.Load() != 0 {
					t.Errorf("%d events with long names were delivered", handled.Load())
				}
				return
			}
			if handled.Load() != n {
				t.Errorf("handled %d of %d", handled.Load(), n)
			}
			// Without backpressure the server is done in well under a second
			// while the handler needs 2.4 s.
			if lag := done.Sub(finished); lag > time.Second {
				t.Errorf("the server finished writing %s before the handler caught up: no backpressure", lag)
			}
		})
	}
}
