package ui

import (
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"echotray/notify"
)

// randomText is n characters of letters (and, if words, a space every few)
// that no earlier test measured: Fyne caches text measurements by string.
func randomText(rng *rand.Rand, n int, words bool) string {
	return randomFrom(rng, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n, words)
}

// randomFrom is randomText from the given letters.
func randomFrom(rng *rand.Rand, letters string, n int, words bool) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
		if words && rng.IntN(7) == 0 && i > 0 && b[i-1] != ' ' {
			b[i] = ' '
		}
	}
	return string(b)
}

// uiClock measures the time spent on the test's (Fyne) thread: wall clock,
// and the thread's CPU time where the system reports it.
type uiClock struct {
	wall, cpu time.Duration
	hasCPU    bool
}

func (c *uiClock) run(f func()) {
	cpu0, ok := threadCPU()
	start := time.Now()
	f()
	c.wall += time.Since(start)
	if cpu1, ok2 := threadCPU(); ok && ok2 {
		c.cpu += cpu1 - cpu0
		c.hasCPU = true
	}
}

// TestHistoryDetailOpensFast opens entries with huge names, channels,
// titles, messages and payloads and checks the time the Fyne thread spends
// on each: selecting it, applying what the worker read and formatted, and
// laying the window out again. Before, an 8 KiB event name took 1.6 s, a
// 16 KiB name and channel 31 s, a 64 KiB unbroken payload 7–33 s.
func TestHistoryDetailOpensFast(t *testing.T) {
	runtime.LockOSThread() // the thread whose CPU time is measured
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 15))
	payload := func(s string) json.RawMessage { b, _ := json.Marshal(map[string]string{"blob": s}); return b }
	cases := []struct {
		name  string
		entry notify.Entry
	}{
		{"8 KiB event name", notify.Entry{Event: randomText(rng, 8<<10, false), Channel: "tenant.1",
			Title: "Event", Message: "m", Data: payload("x")}},
		{"16 KiB event name and channel", notify.Entry{Event: randomText(rng, 8<<10, false), Channel: randomText(rng, 8<<10, false),
			Title: "Event", Message: "m", Data: payload("x")}},
		{"64 KiB unbroken payload", notify.Entry{Event: "Big", Channel: "tenant.1", Title: "Big", Message: "m",
			Data: payload(randomText(rng, 64<<10, false))}},
		{"1 MiB payload", notify.Entry{Event: "Huge", Channel: "tenant.1", Title: "Huge", Message: "m",
			Data: payload(randomText(rng, 1<<20, true))}},
		{"16 KiB title, 64 KiB message with spaces", notify.Entry{Event: "Long", Channel: "tenant.1",
			Title: randomText(rng, 16<<10, true), Message: randomText(rng, 64<<10, true), Data: payload("x")}},
		{"64 KiB unbroken message", notify.Entry{Event: "Long", Channel: "tenant.1",
			Title: "Long", Message: randomText(rng, 64<<10, false), Data: payload("x")}},
		{"wide letters everywhere", notify.Entry{Event: randomFrom(rng, "WM@%", 8<<10, false), Channel: randomFrom(rng, "WM@%", 8<<10, false),
			Title: randomFrom(rng, "WM@%", 8<<10, false), Message: randomFrom(rng, "WM@%", 8<<10, false), Data: payload("x")}},
		{"8,000 short lines", notify.Entry{Event: "Lines", Channel: "tenant.1", Title: "Lines",
			Message: strings.Join(strings.Split(randomText(rng, 8000, false), ""), "\n"), Data: payload("x")}},
		{"300 characters left to Fyne", notify.Entry{Event: "E", Channel: "c", Title: "T",
			Message: randomText(rng, detailPlainMax-20, false), Data: payload("x")}},
	}
	st := openTestStore(t)
	var entries []notify.Entry
	for i, c := range cases {
		e := c.entry
		e.Time = historyNow.Add(time.Duration(i-len(cases)) * time.Minute)
		e.Type = notify.TypeInfo
		entries = append(entries, e)
	}
	seeded := seed(t, st, entries)
	f := newHistoryFixture(t, st)
	for i, c := range cases {
		idx := len(cases) - 1 - i // newest first
		var clock uiClock
		clock.run(func() { f.view.list.Select(idx) })
		for {
			f.view.busy.Wait() // the worker: not the Fyne thread
			n := 0
			clock.run(func() { n = f.q.flush() })
			if n == 0 {
				break
			}
		}
		clock.run(func() { f.win.Content().Refresh() })
		if f.view.selected != seeded[i].ID || f.view.detailBody.Hidden {
			t.Fatalf("%s: not opened", c.name)
		}
		// The target is 100 ms of work on the Fyne thread: its CPU time,
		// which a loaded machine does not inflate. Where the system does
		// not report it, the wall clock, with room for a busy machine.
		t.Logf("%s: Fyne thread %v CPU, %v wall", c.name, clock.cpu.Round(time.Millisecond/10), clock.wall.Round(time.Millisecond/10))
		switch {
		case raceEnabled: // the race detector's slowdown: figures only
		case clock.hasCPU && clock.cpu > 100*time.Millisecond:
			t.Errorf("%s: opening took %v of CPU time on the Fyne thread (%v wall), want < 100 ms", c.name, clock.cpu, clock.wall)
		case !clock.hasCPU && clock.wall > 250*time.Millisecond:
			t.Errorf("%s: opening took %v on the Fyne thread, want < 250 ms", c.name, clock.wall)
		case clock.wall > time.Second:
			t.Errorf("%s: opening took %v of wall-clock time", c.name, clock.wall)
		}
	}
}

func TestHistoryDetailShowsLongTextCapped(t *testing.T) {
	st := openTestStore(t)
	event := strings.Repeat("E", 8<<10)
	message := strings.Repeat("word ", 1000) // 5,000 characters
	blob := strings.Repeat("z", 64<<10)
	data, _ := json.Marshal(map[string]string{"blob": blob})
	seeded := seed(t, st, []notify.Entry{{Time: historyNow, Type: notify.TypeWarning, Channel: "tenant.1",
		Event: event, Title: "Odd event", Message: message, Data: data}})
	f := newHistoryFixture(t, st)
	f.view.list.Select(0)
	f.wait()
	v := f.view
	if v.selected != seeded[0].ID {
		t.Fatal("not opened")
	}
	// The wrapped labels: capped, in lines no longer than the pane.
	cols := v.detailColumns().text
	for name, text := range map[string]string{"meta": v.detailMeta.Text, "message": v.detailMessage.Text} {
		if n := utf8.RuneCountInString(text); n > detailMessageMax+detailLinesMax*2 {
			t.Errorf("%s: %d characters", name, n)
		}
		for _, line := range strings.Split(text, "\n") {
			if w := textWidth(line); w > cols {
				t.Errorf("%s: a line %.1f wide, pane %.1f", name, w, cols)
			}
		}
	}
	if meta := v.detailMeta.Text; !strings.HasPrefix(meta, "Warning ·") || !strings.Contains(meta, "E…") ||
		strings.Count(meta, "E") != detailNameMax || !strings.HasSuffix(meta, "· Tenant") {
		t.Errorf("meta = %q", v.detailMeta.Text)
	}
	if tech := v.detailTech.Text; strings.Count(tech, "E") != detailNameMax+1 || !strings.HasSuffix(tech, "Channel: tenant.1") {
		t.Errorf("technical details = %q", tech)
	}
	if strings.Contains(v.detailMessage.Text, "wor\nd") || !strings.HasSuffix(v.detailMessage.Text, "…") {
		t.Errorf("message broken inside a word, or not marked cut: …%q", v.detailMessage.Text[len(v.detailMessage.Text)-40:])
	}
	// "Show full text" has all of it.
	if v.detailFull.Hidden {
		t.Fatal("Show full text is hidden")
	}
	test.Tap(v.detailFull)
	full := dialogTextView(t, f.win)
	if got := strings.ReplaceAll(strings.ReplaceAll(full.Text(), continued+"\n", ""), "\n", " "); !strings.Contains(got, event) ||
		!strings.Contains(got, strings.TrimSpace(message)) {
		t.Error("the full text view lacks the event name or the message")
	}
	// The payload, under "Technical details": all of it, in lines of at
	// most viewLineMax characters (plus the continuation mark), not wrapped.
	v.detailAccordion.Open(0)
	f.settle()
	p := v.detailPayload
	if joined := strings.ReplaceAll(p.Text(), continued+"\n", ""); !strings.Contains(joined, `"blob": "`+blob+`"`) {
		t.Error("the payload view does not hold the whole payload")
	}
	for _, line := range p.text.lines {
		if utf8.RuneCountInString(line) > viewLineMax+utf8.RuneCountInString(continued) {
			t.Fatalf("a payload line of %d characters", utf8.RuneCountInString(line))
		}
	}
	// Only the lines in sight are laid out.
	objs := test.WidgetRenderer(p.body).Objects()
	if len(p.text.lines) < 200 || len(objs) == 0 || len(objs) > 60 {
		t.Errorf("%d lines, %d laid out", len(p.text.lines), len(objs))
	}
	if p.body.MinSize().Width <= p.scroll.Size().Width {
		t.Errorf("payload lines %.0f wide, view %.0f: want horizontal scrolling", p.body.MinSize().Width, p.scroll.Size().Width)
	}
	// Scrolling lays out the lines now in sight.
	p.scroll.ScrollToBottom()
	p.scroll.OnScrolled(p.scroll.Offset)
	objs = test.WidgetRenderer(p.body).Objects()
	if got := objs[len(objs)-1]; got.Position().Y < p.scroll.Offset.Y {
		t.Errorf("after scrolling to the bottom the last line laid out is at %.0f, offset %.0f", got.Position().Y, p.scroll.Offset.Y)
	}
	// Copy puts the whole payload on the clipboard.
	test.Tap(v.detailCopy)
	if got := f.view.app.Clipboard().Content(); !strings.Contains(got, blob) {
		t.Errorf("clipboard holds %d bytes without the payload", len(got))
	}
}

// dialogTextView returns the text view of the dialog open in w.
func dialogTextView(t *testing.T, w fyne.Window) *textView {
	t.Helper()
	var found *textView
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if tv, ok := o.(*textView); ok && found == nil {
			found = tv
		}
		switch x := o.(type) {
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	for _, o := range w.Canvas().Overlays().List() {
		walk(o)
	}
	if found == nil {
		t.Fatal("no dialog with a text view")
	}
	return found
}

func TestDetailText(t *testing.T) {
	if got, cut := clipRunes("héllo wörld", 5); got != "héllo…" || !cut {
		t.Errorf("clipRunes = %q %v", got, cut)
	}
	if got, cut := clipRunes("héllo", 5); got != "héllo" || cut {
		t.Errorf("clipRunes = %q %v", got, cut)
	}
	if got, cut := clipText("a\nb\nc\nd", 100, 3); got != "a\nb\nc…" || !cut {
		t.Errorf("clipText = %q %v", got, cut)
	}
	if got, cut := clipText("a\nb\nc", 100, 3); got != "a\nb\nc" || cut {
		t.Errorf("clipText = %q %v", got, cut)
	}
	// x and a weigh 1, a space ½, W 1.8, 中 2.3.
	for _, tt := range []struct {
		in    string
		width float32
		want  string
	}{
		{"short", 10, "short"},
		{"xxx xxx xxx xxx", 8, "xxx xxx\nxxx xxx"},
		{"xxxxxxxxxxxxxxxx", 5, "xxxxx\nxxxxx\nxxxxx\nx"},
		{"x xxxxxxxxxxx", 5, "x\nxxxxx\nxxxxx\nx"},
		{"line one\naaa aaaaaa aaaa", 9, "line one\naaa\naaaaaa\naaaa"},
		{"WWWWW", 4, "WW\nWW\nW"},
		{"中中中中", 5, "中中\n中中"},
	} {
		got := breakLongLines(tt.in, tt.width)
		if got != tt.want {
			t.Errorf("breakLongLines(%q, %.1f) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		for _, line := range strings.Split(got, "\n") {
			if textWidth(line) > tt.width {
				t.Errorf("breakLongLines(%q, %.1f): line %q too wide", tt.in, tt.width, line)
			}
		}
	}
	for _, tt := range []struct {
		in    string
		width int
		want  []string
	}{
		{"a\tb\x1b[2J\u202eevil\r\nok", 40, []string{"a    b\uFFFD[2J\uFFFDevil\uFFFD", "ok"}},
		{"ab cdefghij\n\nxy", 4, []string{"ab c" + continued, "defg" + continued, "hij", "", "xy"}},
	} {
		if tl := splitTextLines(tt.in, tt.width); strings.Join(tl.lines, "|") != strings.Join(tt.want, "|") {
			t.Errorf("splitTextLines(%q) = %q, want %q", tt.in, tl.lines, tt.want)
		}
	}
	wrapped := wrapTextLines("the quick brown fox\nabcdefghijkl mn", 10)
	if want := []string{"the quick", "brown fox", "abcdefghij" + continued, "kl mn"}; strings.Join(wrapped.lines, "|") != strings.Join(want, "|") {
		t.Errorf("wrapTextLines = %q, want %q", wrapped.lines, want)
	}
	// Lines are split once: a megabyte on one line takes no quadratic time.
	start := time.Now()
	big := splitTextLines(strings.Repeat("y", 4<<20), viewLineMax)
	if len(big.lines) != (4<<20)/viewLineMax || big.cols != viewLineMax+utf8.RuneCountInString(continued) {
		t.Errorf("%d lines, %d columns", len(big.lines), big.cols)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("splitting 4 MiB took %v", took)
	}
}
