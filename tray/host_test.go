package tray

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// fakeSys is a backend that records what the host asks of systray.
type fakeSys struct {
	mu       sync.Mutex
	calls    []string
	menu     []*fakeItem // the menu as shown; separators too
	tapped   func()
	ran      bool
	quitCh   chan struct{}
	quitOnce sync.Once
}

type fakeItem struct {
	sys     *fakeSys
	sep     bool
	label   string
	enabled bool
	ch      chan struct{}
}

func newFakeSys() *fakeSys { return &fakeSys{quitCh: make(chan struct{})} }

func (f *fakeSys) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// takeCalls returns the calls recorded since the last takeCalls.
func (f *fakeSys) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeSys) run(onReady, onExit func()) {
	f.mu.Lock()
	f.ran = true
	f.mu.Unlock()
	go onReady() // as systray does
	<-f.quitCh
	onExit()
}

func (f *fakeSys) quit() { f.quitOnce.Do(func() { close(f.quitCh) }) }

func (f *fakeSys) setIcon(png []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("icon %s", png)
}

func (f *fakeSys) setTooltip(text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("tooltip %s", text)
}

func (f *fakeSys) setTitle(title string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("title %s", title)
}

func (f *fakeSys) setOnTapped(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tapped = fn
	f.record("on tapped")
}

func (f *fakeSys) resetMenu() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range f.menu {
		if it.ch != nil {
			close(it.ch) // as systray's MenuItem.Remove does
		}
	}
	f.menu = nil
	f.record("reset")
}

func (f *fakeSys) addItem(label string, enabled bool) menuItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := &fakeItem{sys: f, label: label, enabled: enabled, ch: make(chan struct{})}
	f.menu = append(f.menu, it)
	if enabled {
		f.record("add %s", label)
	} else {
		f.record("add %s (off)", label)
	}
	return it
}

func (f *fakeSys) addSeparator() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.menu = append(f.menu, &fakeItem{sys: f, sep: true})
	f.record("sep")
}

func (it *fakeItem) clicked() <-chan struct{} { return it.ch }

func (it *fakeItem) setTitle(label string) {
	it.sys.mu.Lock()
	defer it.sys.mu.Unlock()
	it.sys.record("relabel %q → %q", it.label, label)
	it.label = label
}

func (it *fakeItem) setEnabled(on bool) {
	it.sys.mu.Lock()
	defer it.sys.mu.Unlock()
	if on {
		it.sys.record("enable %s", it.label)
	} else {
		it.sys.record("disable %s", it.label)
	}
	it.enabled = on
}

// rows is the shown menu as the menu tests write it.
func (f *fakeSys) rows() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, it := range f.menu {
		switch {
		case it.sep:
			out = append(out, "-")
		case !it.enabled:
			out = append(out, it.label+" (off)")
		default:
			out = append(out, it.label)
		}
	}
	return out
}

// click delivers a click on the shown item with label, as a tray host
// would (also on a disabled item: hosts may send one).
func (f *fakeSys) click(t *testing.T, label string) {
	t.Helper()
	f.mu.Lock()
	var ch chan struct{}
	for _, it := range f.menu {
		if !it.sep && it.label == label {
			ch = it.ch
		}
	}
	f.mu.Unlock()
	if ch == nil {
		t.Fatalf("no item %q in %q", label, f.rows())
	}
	select {
	case ch <- struct{}{}:
	case <-time.After(5 * time.Second):
		t.Fatalf("click on %q: nobody listens", label)
	}
}

// tap is a left click on the icon.
func (f *fakeSys) tap(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	fn := f.tapped
	f.mu.Unlock()
	if fn == nil {
		t.Fatal("no left-click handler installed")
	}
	fn()
}

// events collects what the actions did, in order.
type events struct{ ch chan string }

func newEvents() *events { return &events{ch: make(chan string, 16)} }

func (e *events) fn(name string) func() { return func() { e.ch <- name } }

func (e *events) actions(prefix string) Actions {
	return Actions{
		OpenHistory: e.fn(prefix + "history"), SignIn: e.fn(prefix + "signin"), Pause: e.fn(prefix + "pause"),
		Resume: e.fn(prefix + "resume"), Settings: e.fn(prefix + "settings"), Reconnect: e.fn(prefix + "reconnect"),
		SendTest: e.fn(prefix + "test"), SignOut: e.fn(prefix + "signout"), Quit: e.fn(prefix + "quit"),
	}
}

// want waits for the next event and checks it.
func (e *events) want(t *testing.T, name string) {
	t.Helper()
	select {
	case got := <-e.ch:
		if got != name {
			t.Fatalf("action %q ran, want %q", got, name)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("action %q did not run", name)
	}
}

// none checks that no action runs for a while.
func (e *events) none(t *testing.T) {
	t.Helper()
	select {
	case got := <-e.ch:
		t.Fatalf("action %q ran, want none", got)
	case <-time.After(100 * time.Millisecond): // a negative: wait a little
	}
}

// running is a Host run against a fake in the background.
type running struct {
	h     *Host
	sys   *fakeSys
	ready chan struct{}
	ended chan struct{}
	exits chan struct{}
}

// startHost runs a host on a fake; before is called on it before Run. At
// cleanup it quits the host and checks that no goroutine is left.
func startHost(t *testing.T, before func(h *Host)) *running {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	r := &running{sys: newFakeSys(), ready: make(chan struct{}), ended: make(chan struct{}), exits: make(chan struct{}, 1)}
	r.h = newHost(r.sys, nil)
	if before != nil {
		before(r.h)
	}
	go func() {
		defer close(r.ended)
		r.h.Run(func() { close(r.ready) }, func() { r.exits <- struct{}{} })
	}()
	select {
	case <-r.ready:
	case <-time.After(5 * time.Second):
		t.Fatal("onReady not called")
	}
	t.Cleanup(func() {
		r.h.Quit()
		r.waitEnd(t)
		goleak.VerifyNone(t, ignore)
	})
	return r
}

func (r *running) waitEnd(t *testing.T) {
	t.Helper()
	select {
	case <-r.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Quit")
	}
}

func wantCalls(t *testing.T, sys *fakeSys, want ...string) {
	t.Helper()
	if got := sys.takeCalls(); !slices.Equal(got, want) {
		t.Errorf("systray calls\n got %q\nwant %q", got, want)
	}
}

func TestHostAppliesValuesSetBeforeRun(t *testing.T) {
	var beforeReady []string
	sys := newFakeSys()
	h := newHost(sys, nil)
	h.SetIcon([]byte("A"))
	h.SetTooltip("tip")
	h.SetTitle("EchoTray")
	h.SetMenu([]Item{{Label: "One", Action: func() {}}, {Separator: true}, {Label: "Two"}})
	if c := sys.takeCalls(); len(c) != 0 {
		t.Fatalf("systray called before Run: %q", c)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		h.Run(func() {
			beforeReady = sys.takeCalls()
			h.Quit()
		}, nil)
	}()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	want := []string{"icon A", "tooltip tip", "title EchoTray", "add One", "sep", "add Two (off)"}
	if !slices.Equal(beforeReady, want) {
		t.Errorf("applied before onReady\n got %q\nwant %q", beforeReady, want)
	}
}

func TestHostForwardsOnlyChanges(t *testing.T) {
	r := startHost(t, nil)
	wantCalls(t, r.sys) // nothing set, nothing sent

	r.h.SetIcon([]byte("A"))
	r.h.SetTooltip("one")
	r.h.SetTitle("EchoTray")
	wantCalls(t, r.sys, "icon A", "tooltip one", "title EchoTray")

	r.h.SetIcon([]byte("A")) // equal bytes in another slice
	r.h.SetTooltip("one")
	r.h.SetTitle("EchoTray")
	r.h.SetIcon(nil) // ignored
	wantCalls(t, r.sys)

	r.h.SetIcon([]byte("B"))
	r.h.SetTooltip("two")
	wantCalls(t, r.sys, "icon B", "tooltip two")
	r.h.SetTooltip("")
	wantCalls(t, r.sys, "tooltip ")
}

func TestHostMenuRebuiltOnlyOnChange(t *testing.T) {
	r := startHost(t, nil)
	ev := newEvents()

	connected := func(unread int) Model { return NewModel(Status{Conn: Connected, User: "Alice"}, unread, now) }
	r.h.SetMenu(Items(connected(3), ev.actions("a-")))
	wantCalls(t, r.sys,
		"add EchoTray — connected as Alice · 3 unread (off)", "sep",
		"add Open history", "sep",
		"add Pause notifications for 1 hour", "add Settings", "add Reconnect now", "add Send test notification", "sep",
		"add Sign out", "sep",
		"add Quit")
	wantRows := rows(Items(connected(3), Actions{Quit: func() {}, OpenHistory: func() {}, Pause: func() {},
		Settings: func() {}, Reconnect: func() {}, SendTest: func() {}, SignOut: func() {}}))
	if got := r.sys.rows(); !reflect.DeepEqual(got, wantRows) {
		t.Errorf("shown menu\n got %q\nwant %q", got, wantRows)
	}
	r.sys.click(t, LabelSettings)
	ev.want(t, "a-settings")

	// Same layout, new actions: nothing sent, clicks reach the new ones.
	r.h.SetMenu(Items(connected(3), ev.actions("b-")))
	wantCalls(t, r.sys)
	r.sys.click(t, LabelSettings)
	ev.want(t, "b-settings")
	r.sys.click(t, LabelQuit)
	ev.want(t, "b-quit")

	// Another label at the same place: updated in place.
	r.h.SetMenu(Items(connected(4), ev.actions("c-")))
	wantCalls(t, r.sys, `relabel "EchoTray — connected as Alice · 3 unread" → "EchoTray — connected as Alice · 4 unread"`)
	r.sys.click(t, LabelOpenHistory)
	ev.want(t, "c-history")

	// Signed out: Sign in appears, so the menu is rebuilt.
	signedOut := Items(NewModel(Status{Conn: SignedOut}, 0, now), ev.actions("d-"))
	r.h.SetMenu(signedOut)
	calls := r.sys.takeCalls()
	if len(calls) == 0 || calls[0] != "reset" || !slices.Contains(calls, "add "+LabelSignIn) || !slices.Contains(calls, "add Sign out (off)") {
		t.Errorf("signed-out menu not rebuilt: %q", calls)
	}
	if got, want := r.sys.rows(), rows(signedOut); !reflect.DeepEqual(got, want) {
		t.Errorf("shown menu\n got %q\nwant %q", got, want)
	}
	r.sys.click(t, LabelSignIn)
	ev.want(t, "d-signin")

	// Signed in again: Sign in goes away, so the menu is rebuilt again.
	r.h.SetMenu(Items(connected(4), ev.actions("e-")))
	if calls := r.sys.takeCalls(); len(calls) == 0 || calls[0] != "reset" {
		t.Errorf("menu not rebuilt: %q", calls)
	}
	r.sys.click(t, LabelPause)
	ev.want(t, "e-pause")
	ev.none(t)
}

func TestHostDisabledItems(t *testing.T) {
	r := startHost(t, nil)
	ev := newEvents()
	r.h.SetMenu([]Item{
		{Label: "Off", Action: ev.fn("off"), Disabled: true},
		{Separator: true},
		{Label: "No action"},
		{Label: "On", Action: ev.fn("on")},
	})
	wantCalls(t, r.sys, "add Off (off)", "sep", "add No action (off)", "add On")

	// A host may still send a click for a disabled item: nothing runs.
	r.sys.click(t, "Off")
	r.sys.click(t, "No action")
	r.sys.click(t, "On")
	ev.want(t, "on")
	ev.none(t)

	// Enabling and disabling happen in place.
	r.h.SetMenu([]Item{
		{Label: "Off", Action: ev.fn("off")},
		{Separator: true},
		{Label: "No action"},
		{Label: "On", Action: ev.fn("on"), Disabled: true},
	})
	wantCalls(t, r.sys, "enable Off", "disable On")
	if got, want := r.sys.rows(), []string{"Off", "-", "No action (off)", "On (off)"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	r.sys.click(t, "On")
	r.sys.click(t, "Off")
	ev.want(t, "off")
	ev.none(t)
}

func TestHostSeparatorsMoveRebuilds(t *testing.T) {
	r := startHost(t, nil)
	r.h.SetMenu([]Item{{Label: "A"}, {Separator: true}, {Label: "B"}})
	r.sys.takeCalls()
	r.h.SetMenu([]Item{{Label: "A"}, {Label: "B"}, {Separator: true}})
	wantCalls(t, r.sys, "reset", "add A (off)", "add B (off)", "sep")
	r.h.SetMenu(nil) // an empty menu
	wantCalls(t, r.sys, "reset")
	r.h.SetMenu([]Item{})
	wantCalls(t, r.sys)
}

func TestHostOldGenerationClicksEnd(t *testing.T) {
	r := startHost(t, nil)
	ev := newEvents()
	r.h.SetMenu([]Item{{Label: "A", Action: ev.fn("a1")}})
	r.sys.mu.Lock()
	old := r.sys.menu[0].ch
	r.sys.mu.Unlock()
	for i := range 20 { // many rebuilds: no goroutine piles up (goleak at cleanup)
		items := []Item{{Label: "A", Action: ev.fn("a2")}}
		for range i % 3 {
			items = append(items, Item{Separator: true})
		}
		r.h.SetMenu(items)
	}
	select {
	case _, ok := <-old:
		if ok {
			t.Fatal("old click channel delivered a click")
		}
	default:
		t.Fatal("old click channel not closed by the rebuild")
	}
	r.sys.click(t, "A")
	ev.want(t, "a2")
}

func TestHostLeftClick(t *testing.T) {
	ev := newEvents()
	r := startHost(t, func(h *Host) { h.SetOnLeftClick(ev.fn("left")) })
	r.sys.tap(t)
	ev.want(t, "left")

	r.sys.takeCalls()
	r.h.SetOnLeftClick(ev.fn("left2")) // swapped, not installed again
	wantCalls(t, r.sys)
	r.sys.tap(t)
	ev.want(t, "left2")

	r.h.SetOnLeftClick(nil)
	r.sys.tap(t)
	ev.none(t)
}

func TestHostNoLeftClickHandler(t *testing.T) {
	r := startHost(t, nil)
	r.h.SetOnLeftClick(func() { t.Error("a handler set after Run ran") }) // too late: ignored
	r.sys.mu.Lock()
	defer r.sys.mu.Unlock()
	if r.sys.tapped != nil {
		t.Error("a tap handler is installed without SetOnLeftClick before Run: the menu would not open on left click")
	}
}

// TestHostActionsSerialOnOneGoroutine checks that a click waits for the
// running action and that an action may call back into the host.
func TestHostActionsSerialOnOneGoroutine(t *testing.T) {
	ev := newEvents()
	var r *running
	release := make(chan struct{})
	var mu sync.Mutex
	active, maxActive := 0, 0
	track := func(name string, body func()) func() {
		return func() {
			mu.Lock()
			active++
			maxActive = max(maxActive, active)
			mu.Unlock()
			body()
			mu.Lock()
			active--
			mu.Unlock()
			ev.ch <- name
		}
	}
	r = startHost(t, func(h *Host) {
		h.SetOnLeftClick(track("left", func() {}))
	})
	r.h.SetMenu([]Item{
		{Label: "Slow", Action: track("slow", func() { <-release })},
		{Label: "Rebuild", Action: track("rebuild", func() {
			// Calling back into the host from an action must not deadlock.
			r.h.SetMenu([]Item{{Label: "New", Action: track("new", func() {})}})
			r.h.SetTooltip("from action")
		})},
	})
	r.sys.click(t, "Slow")
	r.sys.tap(t) // queued while Slow runs
	close(release)
	ev.want(t, "slow")
	ev.want(t, "left")
	r.sys.click(t, "Rebuild")
	ev.want(t, "rebuild")
	r.sys.click(t, "New")
	ev.want(t, "new")
	mu.Lock()
	defer mu.Unlock()
	if maxActive != 1 {
		t.Errorf("%d actions ran at once", maxActive)
	}
}

func TestHostQuitFromAction(t *testing.T) {
	r := startHost(t, nil)
	r.h.SetMenu(Items(Model{State: Connected}, Actions{Quit: r.h.Quit}))
	r.sys.click(t, LabelQuit)
	r.waitEnd(t)
	select {
	case <-r.exits:
	default:
		t.Error("onExit not called")
	}
	r.h.Quit() // again: harmless
}

func TestHostQuitBeforeRun(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sys := newFakeSys()
	h := newHost(sys, nil)
	h.Quit()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(func() { t.Error("onReady called after Quit") }, func() { t.Error("onExit called after Quit") })
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run blocks after Quit")
	}
	if sys.ran {
		t.Error("systray started after Quit")
	}
}

func TestHostRunTwicePanics(t *testing.T) {
	r := startHost(t, nil)
	defer func() {
		if recover() == nil {
			t.Error("second Run did not panic")
		}
	}()
	r.h.Run(nil, nil)
}

// On Linux systray calls onReady before the item's properties are on the
// bus; the host sends icon, tooltip and title again shortly after ready so
// a value set in that gap is not lost.
func TestHostResendsAfterReady(t *testing.T) {
	r := startHost(t, func(h *Host) {
		h.resend = []time.Duration{20 * time.Millisecond}
		h.SetIcon([]byte("A"))
		h.SetTooltip("tip")
	})
	wantCalls(t, r.sys, "icon A", "tooltip tip")
	r.h.SetTooltip("later") // lands in the export gap
	wantCalls(t, r.sys, "tooltip later")
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for len(got) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		got = append(got, r.sys.takeCalls()...)
	}
	if want := []string{"icon A", "tooltip later"}; !slices.Equal(got, want) {
		t.Errorf("resent %q, want %q", got, want)
	}
}
