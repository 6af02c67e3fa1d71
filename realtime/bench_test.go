package realtime

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func benchFrame(b *testing.B, name string) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "frames", name))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkDecodeFrame decodes real Soketi frames.
func BenchmarkDecodeFrame(b *testing.B) {
	for _, name := range []string{
		"soketi-laravel-event.json",                 // Laravel event, JSON-string data
		"ref-client-event-user-id.json",             // object data
		"soketi-subscription-succeeded-public.json", // no data
	} {
		raw := benchFrame(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := decodeFrame(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeFrameSize decodes Laravel-style events of growing size.
func BenchmarkDecodeFrameSize(b *testing.B) {
	for _, size := range []int{256, 4 << 10, 64 << 10} {
		pad := make([]byte, size)
		for i := range pad {
			pad[i] = 'x'
		}
		inner := fmt.Sprintf(`{"user":{"id":9,"name":"Bo"},"pad":"%s"}`, pad)
		raw := []byte(fmt.Sprintf(`{"event":"App\\Events\\UserCreated","channel":"tenant.1","data":%q}`, inner))
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := decodeFrame(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDispatch measures handing an event to the dispatcher goroutine
// and calling OnEvent plus one matching listener.
func BenchmarkDispatch(b *testing.B) {
	var n atomic.Int64
	ls := newListenerPtr()
	l := &listener{channel: "tenant.1", m: newMatcher(DefaultNamespace, "UserCreated"), fn: func(Event) { n.Add(1) }}
	ls.Store(&[]*listener{l})
	d := newDispatcher(&settings{Config: Config{Logger: discardLogger(), OnEvent: func(Event) {}}}, ls)
	go d.run()
	ev := Event{Channel: "tenant.1", Name: `App\Events\UserCreated`, Data: []byte(`{"x":1}`), Received: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		d.push(item{kind: itemEvent, event: ev})
	}
	d.close()
	<-d.done
	if n.Load() != int64(b.N) {
		b.Fatalf("delivered %d of %d", n.Load(), b.N)
	}
}

// BenchmarkClientEndToEnd sends Laravel events from the in-memory fake
// server through a full client (reader, supervisor, dispatcher) to OnEvent.
func BenchmarkClientEndToEnd(b *testing.B) {
	s := newFakeServer(b)
	got := make(chan struct{}, 1024)
	ready := make(chan struct{}, 1)
	cfg := testConfig(s, nil)
	cfg.OnEvent = func(Event) { got <- struct{}{} }
	cfg.OnSubscription = func(sc SubscriptionChange) {
		if sc.Status == SubscriptionSubscribed {
			ready <- struct{}{}
		}
	}
	c, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	defer c.Close()
	c.Subscribe("tenant.1")
	c.Connect()
	fc := s.next(b, 5*time.Second)
	<-ready
	msg := []byte(`{"event":"App\\Events\\UserCreated","channel":"tenant.1","data":"{\"user\":{\"id\":9,\"name\":\"Bo\"}}"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		fc.sendRaw(string(msg))
		<-got
	}
}
