package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"
)

// Tests for payloads and event names from a hostile or broken server
// (issue 15): number bombs and huge names.

// bigDigits is an integer of n digits.
func bigDigits(n int) string {
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('9')
	for i := 1; i < n; i++ {
		b.WriteByte(byte('0' + i%10))
	}
	return b.String()
}

func TestNumberBombsRenderFastAndReadably(t *testing.T) {
	c := NewCatalog(map[string]Override{
		"Num": {Title: "N", Message: "plain {n}, number {n:number}, money {n:money}"},
	})
	huge := bigDigits(200_000)
	cases := []struct {
		event, data, want string
	}{
		{"PaymentCompleted", `{"amount":1e999999}`, "Payment of a very large amount completed successfully."},
		{"PaymentCompleted", `{"amount":1e999999,"currency":"KES"}`, "Payment of a very large amount completed successfully."},
		{"PaymentCompleted", `{"amount":-1E+999999}`, "Payment of a very large negative amount completed successfully."},
		{"PaymentCompleted", `{"amount":` + huge + `}`, "Payment of a very large amount completed successfully."},
		{"PaymentCompleted", `{"amount":"` + huge + `"}`, "Payment of a very large amount completed successfully."},
		{"PaymentCompleted", `{"amount":"1e999999"}`, "Payment of a very large amount completed successfully."},
		{"PaymentCompleted", `{"amount":1e-999999,"currency":"KES"}`, "Payment of KES 0.00 completed successfully."},
		{"PaymentCompleted", `{"amount":0e999999999999999999999}`, "Payment of 0.00 completed successfully."},
		{"PaymentCompleted", `{"amount":1500.5e0,"currency":"KES"}`, "Payment of KES 1,500.50 completed successfully."},
		{"PaymentCompleted", `{"amount":0.` + huge + `}`, "Payment of 0.91 completed successfully."},
		{"PaymentCompleted", `{"amount":15e2}`, "Payment of 1,500.00 completed successfully."},
		{"PaymentCompleted", `{"amount":"1,500.505"}`, "Payment of 1,500.51 completed successfully."},
		{"Num", `{"n":1e999999}`, "plain a very large number, number a very large number, money a very large amount"},
		{"Num", `{"n":-1e999999}`, "plain a very large negative number, number a very large negative number, money a very large negative amount"},
		{"Num", `{"n":` + huge + `}`, "plain a very large number, number a very large number, money a very large amount"},
		{"Num", `{"n":1e-999999}`, "plain 0, number 0, money 0.00"},
		{"Num", `{"n":1e3}`, "plain 1000, number 1,000, money 1,000.00"},
		{"Num", `{"n":2.5E-3}`, "plain 0.0025, number 0, money 0.00"},
		{"Num", `{"n":1.50}`, "plain 1.50, number 1.5, money 1.50"},
		{"Num", `{"n":123456789012345678901234567890}`,
			"plain 123456789012345678901234567890, number 123,456,789,012,345,678,901,234,567,890, money 123,456,789,012,345,678,901,234,567,890.00"},
		{"Num", `{"n":1e39}`, "plain 1000000000000000000000000000000000000000, number 1,000,000,000,000,000,000,000,000,000,000,000,000,000, money 1,000,000,000,000,000,000,000,000,000,000,000,000,000.00"},
		{"Num", `{"n":1e40}`, "plain a very large number, number a very large number, money a very large amount"},
		{"Num", `{"n":"0x1F"}`, "plain 0x1F, number 0x1F, money 0x1F"}, // text, as sent
	}
	for _, tc := range cases {
		start := time.Now()
		n := c.Render(tc.event, json.RawMessage(tc.data))
		d := time.Since(start)
		if n.Message != tc.want {
			t.Errorf("%s %.60s…\n got %q\nwant %q", tc.event, tc.data, n.Message, tc.want)
		}
		if d > 50*time.Millisecond {
			t.Errorf("%s %.60s… took %s to render", tc.event, tc.data, d)
		}
	}
}

// TestNumberBombsDoNotDelayTheNextEvent is issue 15's target: 30
// `1e999999` amounts and five 200,000-digit amounts, then a normal event,
// handed one after the other to the Center (as the realtime dispatcher
// does): the normal event is rendered and delivered within 1 s.
func TestNumberBombsDoNotDelayTheNextEvent(t *testing.T) {
	n := &fakeNotifier{}
	c := NewCenter(CenterConfig{Store: &fakeStore{}, Notifier: n, Prefs: Prefs{FloodLimit: -1}})
	defer c.Close()
	huge := bigDigits(200_000)
	ctx := context.Background()
	start := time.Now()
	for i := range 30 {
		c.Handle(ctx, in("PaymentCompleted", fmt.Sprintf(`{"amount":1e999999,"ref":%d}`, i)))
	}
	for i := range 5 {
		c.Handle(ctx, in("PaymentCompleted", fmt.Sprintf(`{"amount":%s,"ref":%d}`, huge, i)))
	}
	e, _, err := c.Handle(ctx, in("PaymentCompleted", `{"amount":1500,"currency":"KES","payer":"Jane"}`))
	rendered := time.Since(start)
	if err != nil || e.Message != "Payment of KES 1,500.00 from Jane completed successfully." {
		t.Fatalf("normal event: %q, %v", e.Message, err)
	}
	var delivered time.Duration
	for delivered == 0 && time.Since(start) < 10*time.Second {
		for _, m := range n.sent() {
			if strings.Contains(m.Body, "Jane") {
				delivered = time.Since(start)
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("35 number bombs then a normal event: rendered after %s, delivered after %s", rendered, delivered)
	if delivered == 0 || delivered > time.Second {
		t.Fatalf("the normal event was delivered after %s, want within 1 s", delivered)
	}
}

// heapInUse returns the heap in use after two collections.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// longName returns a distinct event name of n bytes.
func longName(i, n int) string {
	return fmt.Sprintf("Hostile%06d", i) + strings.Repeat("x", n-13)
}

// TestPolicyMemoryIsBounded: 300 events with distinct 512 KiB names,
// through the Center, with do-not-disturb on (every one is counted for the
// summary on resume) and off (a flood: held for the summary, and
// remembered for de-duplication). The policy keeps hashes and capped
// groups, not the names: the heap must not grow with them.
func TestPolicyMemoryIsBounded(t *testing.T) {
	for _, paused := range []bool{true, false} {
		t.Run(fmt.Sprintf("paused=%v", paused), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				prefs := Prefs{}
				if paused {
					prefs.PausedUntil = PausedForever
				}
				c := NewCenter(CenterConfig{Notifier: &fakeNotifier{}, Prefs: prefs})
				defer c.Close()
				before := heapInUse()
				for i := range 300 {
					c.Handle(t.Context(), in(longName(i, 512<<10), fmt.Sprintf(`{"i":%d}`, i)))
				}
				synctest.Wait()
				during := heapInUse()
				time.Sleep(DedupeWindow + 2*DefaultFloodWindow)
				synctest.Wait()
				after := heapInUse()
				grew := func(x uint64) float64 { return (float64(x) - float64(before)) / (1 << 20) }
				t.Logf("heap in use: +%.1f MiB after 300 events, +%.1f MiB after the dedupe window", grew(during), grew(after))
				if grew(during) > 20 || grew(after) > 20 {
					t.Errorf("the policy kept the names: +%.1f MiB, then +%.1f MiB; want < 20 MiB", grew(during), grew(after))
				}
				if paused {
					c.SetPrefs(Prefs{})
					synctest.Wait()
					msgs := c.notifier.(*fakeNotifier).sent()
					if len(msgs) != 1 || msgs[0].Title != "300 events while paused" {
						t.Fatalf("resume summary: %+v", titles(msgs))
					}
				}
				runtime.KeepAlive(c)
			})
		})
	}
}

// FuzzRender feeds arbitrary event names and payloads to the catalog. The
// seeds include the bombs of issue 15; `go test` runs them as a normal
// test. Whatever comes in, Render returns clean, bounded text. The seeds
// are large, so minimising an input found from one takes long: fuzz with
// -fuzzminimizetime=5s (go test -run '^$' -fuzz FuzzRender
// -fuzzminimizetime=5s ./notify).
func FuzzRender(f *testing.F) {
	huge := bigDigits(200_000)
	for _, seed := range []struct{ event, data string }{
		{"PaymentCompleted", `{"amount":1e999999}`},
		{"PaymentCompleted", `{"amount":-1e-999999,"currency":"KES"}`},
		{"PaymentCompleted", `{"amount":` + huge + `}`},
		{"PaymentCompleted", `{"payment":{"amount":"` + huge + `","currency":"KES"},"payer":"Jane"}`},
		{"PaymentFailed", `{"amount":1e308,"reason":"\u001b]52;c;aGVsbG8=\u0007\u001b[2J"}`},
		{"Num", `{"n":0.` + huge + `e-99999999999999999999}`},
		{"UserCreated", `{"user":{"name":"` + strings.Repeat("A", 1<<16) + `"}}`},
		{strings.Repeat("Long", 1<<12), `{"message":"hi"}`},
		{`App\Events\SystemAlert`, `{"level":"critical","title":"\u202eevil","message":"x"}`},
		{"Deep", strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)},
		{"Deep", strings.Repeat(`[`, 10000)},
		{"Arr", `[1e999999,2,3,4,5]`},
		{"Bare", `"just text"`},
		{"Bad", "\xff\xfe{"},
		{"", ``},
		{"SystemNotification", `{"data":{"message":"wrapped","type":"error"}}`},
		{"HotspotUserCreated", `{"hotspot_user":{"username":"u1","package":"Weekly"},"created_at":1733220000}`},
	} {
		f.Add(seed.event, []byte(seed.data))
	}
	c := NewCatalog(map[string]Override{
		"Num": {Title: "{n:number}", Message: "{n} {n:money} {n:date} [{missing}]"},
	})
	f.Fuzz(func(t *testing.T, event string, data []byte) {
		n := c.Render(event, data)
		// (n.Event is the name as given, shortened: the realtime decoder
		// already made it valid UTF-8 of at most 200 characters.)
		for _, s := range []string{n.Title, n.Message} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
		if n.Title == "" || n.Message == "" {
			t.Fatalf("empty title or message: %+v", n)
		}
		if utf8.RuneCountInString(n.Title) > maxStoredTitleRunes || utf8.RuneCountInString(n.Message) > maxStoredMessageRunes {
			t.Fatalf("text over the caps: %d, %d runes", utf8.RuneCountInString(n.Title), utf8.RuneCountInString(n.Message))
		}
		if strings.ContainsAny(n.Title+n.Message, "\x1b\a\u202e") {
			t.Fatalf("control characters survived: %q / %q", n.Title, n.Message)
		}
		if !n.Type.Valid() {
			t.Fatalf("type %q", n.Type)
		}
	})
}

// A numeric event id of absurd length gives a short history key.
func TestEventKeyOfAHugeNumericIDIsShort(t *testing.T) {
	huge := strings.Repeat("9", 200000)
	k := eventKey("tenant.1", "PaymentCompleted", parsePayload(json.RawMessage(`{"event_id":`+huge+`}`)))
	if len(k) > 200 || !strings.HasPrefix(k, "tenant.1/PaymentCompleted/n") {
		t.Fatalf("key of %d bytes: %.80q", len(k), k)
	}
	other := eventKey("tenant.1", "PaymentCompleted", parsePayload(json.RawMessage(`{"event_id":`+huge+`8}`)))
	if other == k {
		t.Fatal("two different ids gave one key")
	}
	if got := eventKey("tenant.1", "PaymentCompleted", parsePayload(json.RawMessage(`{"event_id":42}`))); got != "tenant.1/PaymentCompleted/42" {
		t.Fatalf("short id: %q", got)
	}
}
