package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
	"echotray/history"
	"echotray/notify"
)

// historyNow is the fixed clock of the history window tests.
var historyNow = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

type historyFixture struct {
	t     *testing.T
	store *history.Store
	win   fyne.Window
	view  *HistoryView
	q     *uiQueue // the view's bridge: the test runs the UI work
}

// openTestStore opens an empty history in a temporary directory.
func openTestStore(t testing.TB) *history.Store {
	t.Helper()
	st, err := history.Open(filepath.Join(t.TempDir(), history.FileName),
		history.Options{MaxEntries: -1, MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newHistoryFixture builds the history window over st with the fixed clock.
func newHistoryFixture(t *testing.T, st *history.Store) *historyFixture {
	t.Helper()
	return newHistoryFixtureWith(t, st, nil)
}

// newHistoryFixtureWith is newHistoryFixture with options changed by tweak.
func newHistoryFixtureWith(t *testing.T, st *history.Store, tweak func(*HistoryViewOptions)) *historyFixture {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	q := &uiQueue{}
	opts := HistoryViewOptions{
		Now:         func() time.Time { return historyNow },
		Location:    time.UTC,
		TimeRefresh: -1,
		SearchDelay: time.Millisecond,
		RunOnUI:     q.do,
	}
	if tweak != nil {
		tweak(&opts)
	}
	v := NewHistoryView(a, w, st, opts)
	t.Cleanup(func() {
		v.Close()
		v.Wait() // before the store closes
	})
	v.schedule = func(flush func()) { flush() } // draw each Added at once
	// A real debounce timer would fire on its own goroutine: searches here
	// run on Enter, and the debounce test drives the timers itself.
	v.afterFunc = func(time.Duration, func()) func() bool { return func() bool { return true } }
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(960, 560))
	f := &historyFixture{t: t, store: st, win: w, view: v, q: q}
	f.wait()
	f.settle()
	return f
}

// wait lets the store work queued so far run and applies its results on
// the test's goroutine (the Fyne thread of these tests), until none is
// left: results may queue more work (a page load, opening the next entry).
func (f *historyFixture) wait() { waitView(f.view, f.q) }

func waitView(v *HistoryView, q *uiQueue) {
	for {
		v.busy.Wait()
		if q.flush() == 0 {
			return
		}
	}
}

// settle lays the window out again until wrapped labels have their final
// height, as the real driver does over a few frames.
func (f *historyFixture) settle() {
	for range 3 {
		f.win.Content().Refresh()
	}
}

// assertMarkup settles the window and compares it with a golden file.
func (f *historyFixture) assertMarkup(name string) {
	f.t.Helper()
	f.settle()
	test.AssertRendersToMarkup(f.t, name, f.win.Canvas())
}

// sampleEntries is a small history with every type, read and unread, and
// times from just now to last year.
func sampleEntries() []notify.Entry {
	return []notify.Entry{
		{Time: historyNow.AddDate(-1, 0, -3), Channel: "tenant.1", Event: "UserCreated", Type: notify.TypeInfo,
			Title: "New user registered", Message: "Otieno Mwangi joined at Kisumu Pier", Read: true,
			Data: json.RawMessage(`{"user":{"id":3,"name":"Otieno Mwangi"}}`)},
		{Time: historyNow.AddDate(0, 0, -20), Channel: "tenant.1", Event: "VoucherSold", Type: notify.TypeInfo,
			Title: "Voucher sold", Message: "Weekly voucher V-004211 sold at Westlands", Read: true,
			Data: json.RawMessage(`{"voucher":{"code":"V-004211"}}`)},
		{Time: historyNow.AddDate(0, 0, -3), Channel: "private-user.5", Event: "SubscriptionExpiring", Type: notify.TypeWarning,
			Title: "Subscription expiring", Message: "Grace Chebet's daily plan expires in 15 minutes",
			Data: json.RawMessage(`{"subscription":{"user":"Grace Chebet","minutes_left":15}}`)},
		{Time: historyNow.Add(-26 * time.Hour), Channel: "tenant.1", Event: "RouterOffline", Type: notify.TypeError,
			Title: "Router offline", Message: "MikroTik hAP-007 at Rongai stopped answering",
			Data: json.RawMessage(`{"router":{"id":7,"name":"hAP-007","site":"Rongai"}}`)},
		{Time: historyNow.Add(-3 * time.Hour), Channel: "tenant.1", Event: "PaymentReceived", Type: notify.TypeSuccess,
			Title: "Payment received", Message: "KES 1,500 from Jane Wanjiru for 1 hour", Read: true,
			Data: json.RawMessage(`{"payment":{"amount":1500,"currency":"KES"},"user":{"name":"Jane Wanjiru"}}`)},
		{Time: historyNow.Add(-5 * time.Minute), Channel: "tenant.1", Event: "PaymentReceived", Type: notify.TypeSuccess,
			Title: "Payment received", Message: "KES 500 from Brian Kamau for daily",
			Data: json.RawMessage(`{"payment":{"amount":500,"currency":"KES"},"user":{"name":"Brian Kamau"}}`)},
		{Time: historyNow.Add(-10 * time.Second), Channel: "private-user.5", Event: "RouterOffline", Type: notify.TypeError,
			Title: "Router offline", Message: "MikroTik hAP-012 at Westlands stopped answering\nLast seen 11:59",
			Data: json.RawMessage(`{"router":{"id":12,"name":"hAP-012","site":"Westlands"}}`)},
	}
}

// seed stores entries oldest first and returns them with their IDs.
func seed(t testing.TB, st *history.Store, entries []notify.Entry) []notify.Entry {
	t.Helper()
	out := make([]notify.Entry, len(entries))
	for i := range entries {
		e := entries[i]
		if _, err := st.Add(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		out[i] = e
	}
	return out
}

// rowAt returns the summary at idx, loading its page if needed.
func (f *historyFixture) rowAt(idx int) notify.Entry {
	f.t.Helper()
	e, ok := f.view.row(idx)
	if !ok {
		f.wait()
		if e, ok = f.view.row(idx); !ok {
			f.t.Fatalf("row %d not loaded", idx)
		}
	}
	return e
}

func (f *historyFixture) listTitles() []string {
	var out []string
	for i := range f.view.ids {
		out = append(out, f.rowAt(i).Title)
	}
	return out
}

func TestHistoryViewEmpty(t *testing.T) {
	f := newHistoryFixture(t, openTestStore(t))
	if f.view.placeholder.Hidden || !strings.Contains(f.view.placeholder.Text, "No notifications yet") {
		t.Errorf("placeholder = %q hidden=%v", f.view.placeholder.Text, f.view.placeholder.Hidden)
	}
	if f.view.status.Text != "0 notifications · 0 unread" {
		t.Errorf("status = %q", f.view.status.Text)
	}
	if !f.view.markAll.Disabled() || !f.view.clearBtn.Disabled() {
		t.Error("Mark all read / Clear enabled on an empty history")
	}
	f.assertMarkup("history/empty.xml")
}

func TestHistoryViewPopulated(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	unread := 0
	f.view.OnUnreadChanged = func(n int) { unread = n }

	wantTitles := []string{"Router offline", "Payment received", "Payment received", "Router offline",
		"Subscription expiring", "Voucher sold", "New user registered"}
	if got := f.listTitles(); !slices.Equal(got, wantTitles) {
		t.Errorf("titles = %q, want newest first %q", got, wantTitles)
	}
	if f.view.status.Text != "7 notifications · 4 unread" || f.view.Unread() != 4 {
		t.Errorf("status = %q, unread %d", f.view.status.Text, f.view.Unread())
	}
	if !f.view.placeholder.Hidden {
		t.Error("placeholder shown with entries")
	}
	if got := f.view.chanSel.Options; !slices.Equal(got, []string{allChannelsLabel, "Tenant", "Personal"}) {
		t.Errorf("channel options = %q", got)
	}
	f.assertMarkup("history/populated.xml")

	// Opening the newest (unread) entry shows it and marks it read.
	f.view.list.Select(0)
	f.wait()
	if f.view.detailBody.Hidden || f.view.detailTitle.Text != "Router offline" {
		t.Fatalf("detail not shown: %q", f.view.detailTitle.Text)
	}
	if !strings.Contains(f.view.detailMessage.Text, "hAP-012 at Westlands stopped answering\nLast seen") {
		t.Errorf("detail message = %q", f.view.detailMessage.Text)
	}
	wantPayload := "{\n  \"router\": {\n    \"id\": 12,\n    \"name\": \"hAP-012\",\n    \"site\": \"Westlands\"\n  }\n}"
	if f.view.detailPayload.Text() != wantPayload {
		t.Errorf("payload = %q, want %q", f.view.detailPayload.Text(), wantPayload)
	}
	if want := "Friday 14 March 2025, 11:59:50 UTC (just now)"; f.view.detailTime.Text != want {
		t.Errorf("time = %q, want %q", f.view.detailTime.Text, want)
	}
	if f.view.detailMeta.Text != "Error · Router Offline · Personal" {
		t.Errorf("meta = %q", f.view.detailMeta.Text)
	}
	if unread != 3 || f.view.status.Text != "7 notifications · 3 unread" {
		t.Errorf("after opening: hook %d, status %q", unread, f.view.status.Text)
	}
	if n, _ := st.UnreadCount(context.Background()); n != 3 {
		t.Errorf("store unread = %d, want 3", n)
	}
	if e := f.rowAt(0); !e.Read {
		t.Error("opened row still shown unread")
	}
	f.assertMarkup("history/detail.xml")
}

func TestHistoryViewFilters(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)

	f.view.typeSel.SetSelected("Error")
	f.wait()
	if got := f.listTitles(); !slices.Equal(got, []string{"Router offline", "Router offline"}) {
		t.Errorf("errors = %q", got)
	}
	if f.view.status.Text != "2 matches of 7 · 4 unread" {
		t.Errorf("status = %q", f.view.status.Text)
	}
	f.view.chanSel.SetSelected("Personal")
	f.wait()
	if got := len(f.view.ids); got != 1 {
		t.Errorf("errors on private-user.5 = %d, want 1", got)
	}
	f.view.typeSel.SetSelected(allTypesLabel)
	f.view.unreadOnly.SetChecked(true)
	f.wait()
	if got := f.listTitles(); !slices.Equal(got, []string{"Router offline", "Subscription expiring"}) {
		t.Errorf("unread on private-user.5 = %q", got)
	}
	f.view.chanSel.SetSelected(allChannelsLabel)
	f.view.unreadOnly.SetChecked(false)
	f.wait()

	// Enter in the search box searches at once.
	f.view.search.SetText("payment")
	f.view.search.OnSubmitted(f.view.search.Text)
	f.wait()
	if got := f.listTitles(); !slices.Equal(got, []string{"Payment received", "Payment received"}) {
		t.Errorf("search payment = %q", got)
	}
	f.assertMarkup("history/filtered.xml")

	f.view.search.SetText("nothing like this")
	f.view.search.OnSubmitted(f.view.search.Text)
	f.wait()
	if len(f.view.ids) != 0 || f.view.placeholder.Hidden || !strings.Contains(f.view.placeholder.Text, "match") {
		t.Errorf("no-match state: %d ids, placeholder %q", len(f.view.ids), f.view.placeholder.Text)
	}
	// Odd input is no error.
	for _, odd := range []string{`"`, `*`, `AND(`, `%`, `'; DROP TABLE entries; --`} {
		f.view.search.SetText(odd)
		f.view.search.OnSubmitted(odd)
		f.wait()
		if !f.view.errLabel.Hidden {
			t.Errorf("search %q: error %q", odd, f.view.errLabel.Text)
		}
	}
	if n, err := st.Count(context.Background(), history.Query{}); err != nil || n != 7 {
		t.Errorf("store after odd searches: %d, %v", n, err)
	}
	f.view.search.SetText("")
	f.view.search.OnSubmitted("")
	f.wait()
	// A selection the filters hide is dropped: Delete then removes nothing.
	f.view.list.Select(1) // "Payment received", success
	f.wait()
	f.view.typeSel.SetSelected("Error")
	f.wait()
	if f.view.selected != 0 || !f.view.detailBody.Hidden {
		t.Errorf("hidden entry still selected: %d", f.view.selected)
	}
	f.win.Canvas().Unfocus()
	f.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyDelete})
	f.wait()
	if n, _ := st.Count(context.Background(), history.Query{}); n != 7 {
		t.Errorf("Delete with a hidden selection removed an entry: %d left", n)
	}
	f.view.typeSel.SetSelected(allTypesLabel)
}

func TestHistoryViewSearchDebounce(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	type timer struct {
		d       time.Duration
		fire    func()
		stopped bool
	}
	var timers []*timer
	f.view.afterFunc = func(d time.Duration, fire func()) func() bool {
		tm := &timer{d: d, fire: fire}
		timers = append(timers, tm)
		return func() bool { tm.stopped = true; return true }
	}
	applied := 0
	f.view.onSearchApplied = func() { applied++ }
	test.Type(f.view.search, "wanj")
	if len(timers) != 4 || len(f.view.ids) != 7 {
		t.Fatalf("%d timers, %d listed; want one timer per key and no search yet", len(timers), len(f.view.ids))
	}
	for i, tm := range timers {
		if tm.d != time.Millisecond {
			t.Errorf("timer %d delay %v", i, tm.d)
		}
		if tm.stopped != (i < 3) {
			t.Errorf("timer %d stopped=%v; only the last one should be pending", i, tm.stopped)
		}
	}
	// A timer that fires late for an older text does nothing.
	timers[1].fire()
	f.wait()
	if applied != 0 || len(f.view.ids) != 7 {
		t.Errorf("a stale timer searched: applied %d, %d listed", applied, len(f.view.ids))
	}
	timers[3].fire()
	f.wait()
	if applied != 1 || len(f.view.ids) != 1 {
		t.Errorf("after the pause: applied %d, %d listed (want the 1 Wanjiru entry)", applied, len(f.view.ids))
	}
	// Enter searches at once and cancels the pending timer.
	test.Type(f.view.search, "i")
	f.view.search.OnSubmitted(f.view.search.Text)
	f.wait()
	if !timers[len(timers)-1].stopped || len(f.view.ids) != 1 {
		t.Errorf("Enter: pending timer stopped=%v, %d listed", timers[len(timers)-1].stopped, len(f.view.ids))
	}
}

func TestHistoryViewMarkAllReadAndClear(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	var unread []int
	f.view.OnUnreadChanged = func(n int) { unread = append(unread, n) }
	changes := 0 // the window process tells the core to recount
	var readIDs []int64
	f.view.OnChanged = func(read []int64) { changes++; readIDs = append(readIDs, read...) }

	test.Tap(f.view.markAll)
	f.wait()
	if changes != 1 {
		t.Errorf("Mark all read reported %d changes, want 1", changes)
	}
	if !slices.Equal(unread, []int{0}) || f.view.status.Text != "7 notifications · 0 unread" {
		t.Errorf("after Mark all read: hook %v, status %q", unread, f.view.status.Text)
	}
	if n, _ := st.UnreadCount(context.Background()); n != 0 {
		t.Errorf("store unread = %d", n)
	}
	for i := range f.view.ids {
		if e := f.rowAt(i); !e.Read {
			t.Errorf("row %d still unread", i)
		}
	}
	if !f.view.markAll.Disabled() {
		t.Error("Mark all read enabled with nothing unread")
	}

	// Clear asks first; Cancel keeps everything.
	test.Tap(f.view.clearBtn)
	cancel, confirm := dialogButtons(t, f.win)
	if !strings.Contains(dialogText(f.win), "Delete all 7 notifications") {
		t.Errorf("dialog text = %q", dialogText(f.win))
	}
	test.Tap(cancel)
	if n, _ := st.Count(context.Background(), history.Query{}); n != 7 {
		t.Fatalf("Cancel deleted: %d left", n)
	}
	test.Tap(f.view.clearBtn)
	_, confirm = dialogButtons(t, f.win)
	test.Tap(confirm)
	f.wait()
	if changes != 2 {
		t.Errorf("Clear reported %d changes in all, want 2", changes)
	}
	if n, _ := st.Count(context.Background(), history.Query{}); n != 0 {
		t.Errorf("after Clear: %d left", n)
	}
	if len(f.view.ids) != 0 || !strings.Contains(f.view.placeholder.Text, "No notifications yet") {
		t.Errorf("view after Clear: %d ids, %q", len(f.view.ids), f.view.placeholder.Text)
	}
	if !slices.Equal(f.view.chanSel.Options, []string{allChannelsLabel}) {
		t.Errorf("channels after Clear = %q", f.view.chanSel.Options)
	}
}

// dialogButtons finds the dismiss and confirm buttons of the confirmation
// dialog on top of w.
func dialogButtons(t *testing.T, w fyne.Window) (cancel, confirm *widget.Button) {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog shown")
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok {
			switch b.Text {
			case "Cancel":
				cancel = b
			case "Clear history":
				confirm = b
			}
		}
	}
	if cancel == nil || confirm == nil {
		t.Fatal("dialog lacks Cancel or Clear history")
	}
	return cancel, confirm
}

func dialogText(w fyne.Window) string {
	var parts []string
	if top := w.Canvas().Overlays().Top(); top != nil {
		for _, o := range test.LaidOutObjects(top) {
			if l, ok := o.(*widget.Label); ok {
				parts = append(parts, l.Text)
			}
		}
	}
	return strings.Join(parts, " ")
}

func TestHistoryViewKeyboard(t *testing.T) {
	st := openTestStore(t)
	entries := seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	c := f.win.Canvas()

	// Ctrl+F focuses the search box.
	c.(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault})
	if c.Focused() != f.view.search {
		t.Errorf("Ctrl+F focused %T, want the search box", c.Focused())
	}

	var read [][]int64
	f.view.OnChanged = func(ids []int64) { read = append(read, ids) }
	newest, second := entries[len(entries)-1].ID, entries[len(entries)-2].ID

	// Down from the search box enters the list: the newest is opened.
	f.view.search.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	f.wait()
	if c.Focused() != f.view.list || f.view.selected != newest {
		t.Fatalf("Down from search: focus %T, selected %d, want the list and %d", c.Focused(), f.view.selected, newest)
	}
	// Arrows move the selection and the detail follows.
	f.view.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	f.wait()
	if f.view.selected != second || f.view.detailTitle.Text != "Payment received" {
		t.Fatalf("Down opened %d %q, want %d", f.view.selected, f.view.detailTitle.Text, second)
	}
	if len(read) != 2 || !slices.Equal(read[1], []int64{second}) {
		t.Errorf("marked read reported as %v, want the opened IDs one by one", read)
	}
	f.view.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
	f.wait()
	if f.view.selected != entries[0].ID || f.view.detailTitle.Text != "New user registered" {
		t.Errorf("End selected %d %q", f.view.selected, f.view.detailTitle.Text)
	}
	f.view.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyHome})
	f.view.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	f.wait()
	if f.view.selected != second {
		t.Errorf("Home, Down selected %d, want %d", f.view.selected, second)
	}

	// Delete takes it out of the list with Undo for 10 s; nothing else is
	// opened (or marked read) in its place.
	var timers []func()
	f.view.afterFunc = func(d time.Duration, fn func()) func() bool {
		if d == undoDelete {
			timers = append(timers, fn)
		}
		return func() bool { return true }
	}
	f.view.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	f.wait()
	if slices.Contains(f.view.ids, second) || len(f.view.ids) != 6 || f.view.selected != 0 || f.view.undoBox.Hidden {
		t.Errorf("after Delete: ids %v, selected %d, undo shown %v", f.view.ids, f.view.selected, !f.view.undoBox.Hidden)
	}
	if !f.view.detailBody.Hidden || len(read) != 2 {
		t.Errorf("Delete opened another entry (%d marked read)", len(read))
	}
	test.Tap(findButton(t, f.view.undoBox, "Undo"))
	f.wait()
	if !slices.Contains(f.view.ids, second) || f.view.selected != second || !f.view.undoBox.Hidden {
		t.Errorf("Undo: ids %v, selected %d", f.view.ids, f.view.selected)
	}
	if _, err := st.Get(context.Background(), second); err != nil {
		t.Errorf("Undo: the entry is gone from the store: %v", err)
	}
	f.view.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	f.wait()
	if _, err := st.Get(context.Background(), second); err != nil {
		t.Error("deleted from the store before the Undo time was over")
	}
	timers[len(timers)-1]() // 10 s later
	f.wait()
	if _, err := st.Get(context.Background(), second); err == nil {
		t.Error("not deleted from the store after the Undo time")
	}
	if f.view.status.Text != "6 notifications · 2 unread" || !f.view.undoBox.Hidden {
		t.Errorf("status = %q", f.view.status.Text)
	}

	// With nothing focused, the window's keys act on the selection.
	c.Unfocus()
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyDown})
	f.wait()
	if f.view.selected != newest {
		t.Errorf("Down with nothing focused selected %d, want %d", f.view.selected, newest)
	}
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyDelete})
	f.wait()
	if slices.Contains(f.view.ids, newest) {
		t.Error("Delete with nothing focused did not remove the selected entry")
	}
	// Escape clears the search, and closes a dialog first.
	f.view.search.SetText("router")
	f.view.search.OnSubmitted("router")
	f.wait()
	test.Tap(f.view.clearBtn)
	if f.view.dialog == nil {
		t.Fatal("no dialog remembered for Escape")
	}
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if f.view.dialog != nil || f.view.search.Text != "router" {
		t.Errorf("Escape with a dialog: dialog %v, search %q", f.view.dialog, f.view.search.Text)
	}
	f.view.search.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	f.wait()
	if f.view.search.Text != "" || len(f.view.ids) != 5 {
		t.Errorf("Escape in search: %q, %d shown", f.view.search.Text, len(f.view.ids))
	}
	// Typing Delete in the search box edits the text, not the history.
	c.Focus(f.view.search)
	f.view.search.SetText("abc")
	before, _ := st.Count(context.Background(), history.Query{})
	f.view.search.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	f.wait()
	if after, _ := st.Count(context.Background(), history.Query{}); after != before {
		t.Errorf("Delete in the search box removed an entry")
	}
}

func TestHistoryViewAddedKeepsScrollAndSelection(t *testing.T) {
	st := openTestStore(t)
	var batch []*notify.Entry
	for i := range 300 {
		batch = append(batch, &notify.Entry{
			Time: historyNow.Add(time.Duration(i-300) * time.Minute), Channel: "tenant.1", Event: "VoucherSold",
			Type: notify.TypeInfo, Title: fmt.Sprintf("Voucher %d", i), Message: "sold", Read: i%2 == 0,
		})
	}
	if _, err := st.AddBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	f := newHistoryFixture(t, st)
	v := f.view
	var unread int
	v.OnUnreadChanged = func(n int) { unread = n }

	// At the top, a new entry shows at the top.
	add := func(title string, typ notify.Type) notify.Entry {
		e := notify.Entry{Time: historyNow, Channel: "tenant.9", Event: "PaymentReceived", Type: typ, Title: title, Message: "new"}
		if _, err := st.Add(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		v.Added(e)
		f.wait()
		return e
	}
	first := add("Live 1", notify.TypeSuccess)
	if v.ids[0] != first.ID || v.list.GetScrollOffset() != 0 {
		t.Errorf("at the top: ids[0]=%d offset %v", v.ids[0], v.list.GetScrollOffset())
	}
	if unread != 151 || !slices.Contains(v.channels, "tenant.9") {
		t.Errorf("unread %d, channels %q", unread, v.chanSel.Options)
	}

	// Scrolled down with a selection: both stay on the same entries.
	v.list.Select(40)
	f.wait()
	selID := v.selected
	v.list.ScrollToOffset(30 * v.rowHeight)
	offset := v.list.GetScrollOffset()
	if offset == 0 {
		t.Fatal("list did not scroll")
	}
	topIdx := int(offset / v.rowHeight)
	topID := v.ids[topIdx]
	second := add("Live 2", notify.TypeSuccess)
	if v.ids[0] != second.ID {
		t.Fatalf("new entry not first")
	}
	if got := v.list.GetScrollOffset(); got != offset+v.rowHeight {
		t.Errorf("offset = %v, want %v (one row further)", got, offset+v.rowHeight)
	}
	if v.ids[int(v.list.GetScrollOffset()/v.rowHeight)] != topID {
		t.Error("the top visible entry changed")
	}
	if v.selected != selID || v.list.selectedIndex() != 41 || v.detailTitle.Text != "Voucher 260" {
		t.Errorf("selection moved: id %d (want %d), index %d, detail %q", v.selected, selID, v.list.selectedIndex(), v.detailTitle.Text)
	}

	// Filtered out: counted, not listed; a repeated Added is ignored.
	v.typeSel.SetSelected("Info")
	f.wait()
	n := len(v.ids)
	third := add("Live 3", notify.TypeError)
	if len(v.ids) != n || slices.Contains(v.ids, third.ID) {
		t.Error("an error entry was listed under the Info filter")
	}
	v.Added(third)
	f.wait()
	if unread != 153 {
		t.Errorf("unread = %d, want 153 (no double count)", unread)
	}

	// Search: the store decides whether a new entry matches.
	v.typeSel.SetSelected(allTypesLabel)
	v.search.SetText("live")
	v.search.OnSubmitted("live")
	f.wait()
	if len(v.ids) != 3 {
		t.Fatalf("search live = %d", len(v.ids))
	}
	add("Unrelated", notify.TypeInfo)
	fourth := add("Live 4", notify.TypeInfo)
	if len(v.ids) != 4 || v.ids[0] != fourth.ID {
		t.Errorf("search results after adds: %v", v.ids)
	}
}

func TestHistoryViewAddedBurstDrawsOnce(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	v := f.view
	var flushes []func()
	v.schedule = func(flush func()) { flushes = append(flushes, flush) }
	v.list.Select(2)
	f.wait()
	selID := v.selected
	var added []int64
	for i := range 5 {
		e := notify.Entry{Channel: "tenant.3", Type: notify.TypeInfo, Title: fmt.Sprintf("burst %d", i)}
		if _, err := st.Add(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		v.Added(e)
		added = append(added, e.ID)
	}
	if len(flushes) != 1 {
		t.Fatalf("%d redraws scheduled for a burst of 5, want 1", len(flushes))
	}
	if len(v.ids) != 7 || v.Unread() != 9 {
		t.Errorf("before the flush: %d listed (want 7), unread %d (want 9 at once)", len(v.ids), v.Unread())
	}
	flushes[0]()
	slices.Reverse(added)
	if !slices.Equal(v.ids[:5], added) || len(v.ids) != 12 {
		t.Errorf("after the flush: ids %v, want %v first", v.ids, added)
	}
	if v.selected != selID || v.list.selectedIndex() != 7 {
		t.Errorf("selection: id %d (want %d) at %d (want 7)", v.selected, selID, v.list.selectedIndex())
	}
	if v.status.Text != "12 notifications · 9 unread" {
		t.Errorf("status = %q", v.status.Text)
	}
	// A Reload between Added and the flush does not list an entry twice.
	e := notify.Entry{Title: "late"}
	if _, err := st.Add(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	v.Added(e)
	v.Reload()
	flushes[len(flushes)-1]()
	f.wait()
	if n := len(v.ids); n != 13 || v.ids[0] != e.ID || v.ids[1] == e.ID {
		t.Errorf("after Reload and flush: %d ids, first %v", n, v.ids[:2])
	}
}

// Two Centers (the service's and the test notification's) store at the same
// time, so their OnStored calls can reach the view in the other order: the
// older entry still shows and counts.
func TestHistoryViewAddedOutOfOrder(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	v := f.view
	before, unread := len(v.ids), v.Unread()
	older := notify.Entry{Channel: "local", Type: notify.TypeInfo, Title: "EchoTray test notification"}
	newer := notify.Entry{Channel: "tenant.1", Type: notify.TypeSuccess, Title: "Payment Completed"}
	for _, e := range []*notify.Entry{&older, &newer} {
		if _, err := st.Add(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	v.Added(newer)
	v.Added(older)
	if len(v.ids) != before+2 || v.ids[0] != newer.ID || v.ids[1] != older.ID {
		t.Errorf("ids = %v, want %d then %d on top of %d", v.ids, newer.ID, older.ID, before)
	}
	if v.Unread() != unread+2 {
		t.Errorf("unread = %d, want %d", v.Unread(), unread+2)
	}
	v.Added(older) // a repeat is still ignored
	if len(v.ids) != before+2 || v.Unread() != unread+2 {
		t.Errorf("repeated Added: %d ids, %d unread", len(v.ids), v.Unread())
	}
}

func TestHistoryViewSelectFromNotification(t *testing.T) {
	st := openTestStore(t)
	entries := seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	v := f.view
	v.typeSel.SetSelected("Error")
	f.wait()
	old := entries[0] // an Info entry, hidden by the filter
	v.Select(old.ID)
	f.wait()
	if v.typeSel.Selected != allTypesLabel || v.selected != old.ID || v.detailTitle.Text != old.Title {
		t.Errorf("Select of a filtered-out entry: filter %q, selected %d, detail %q", v.typeSel.Selected, v.selected, v.detailTitle.Text)
	}
	if v.list.selectedIndex() != len(entries)-1 {
		t.Errorf("list selection = %d", v.list.selectedIndex())
	}
	v.Select(987654)
	f.wait()
	if v.selected != 0 || !strings.Contains(v.detailEmpty.Text, "no longer in the history") || v.detailEmpty.Hidden {
		t.Errorf("Select of a missing entry: selected %d, %q", v.selected, v.detailEmpty.Text)
	}
}

func TestHistoryViewBannerAndRecovery(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, history.FileName)
	if err := os.WriteFile(path, []byte("not a database at all, certainly not SQLite format 3, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := history.Open(path, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := newHistoryFixture(t, st)
	if f.view.recovered.Hidden || !strings.Contains(f.view.recovered.Text, st.Recovered()) {
		t.Errorf("recovery notice = %q hidden=%v", f.view.recovered.Text, f.view.recovered.Hidden)
	}
	if !f.view.banner.Hidden {
		t.Error("banner shown without text")
	}
	f.view.SetBanner(app.NoTrayBanner)
	if f.view.banner.Hidden || f.view.banner.Text != app.NoTrayBanner {
		t.Error("SetBanner did not show the banner")
	}
	f.view.SetBanner("")
	if !f.view.banner.Hidden {
		t.Error("SetBanner(\"\") did not hide the banner")
	}

	// The golden file of the banner, over a healthy history (the recovery
	// notice names a temporary path).
	g := newHistoryFixture(t, openTestStore(t))
	g.view.SetBanner(app.NoTrayBanner)
	g.assertMarkup("history/banner.xml")
}

func TestHistoryViewLoadsLazily(t *testing.T) {
	st := openTestStore(t)
	var batch []*notify.Entry
	for i := range 5000 {
		batch = append(batch, &notify.Entry{Time: historyNow.Add(-time.Duration(i) * time.Second),
			Title: fmt.Sprintf("entry %d", i), Message: "m", Data: json.RawMessage(`{"big":"` + strings.Repeat("x", 500) + `"}`)})
	}
	if _, err := st.AddBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	f := newHistoryFixture(t, st)
	v := f.view
	if len(v.ids) != 5000 {
		t.Fatalf("ids = %d", len(v.ids))
	}
	if len(v.rows) > 2*v.opts.PageSize {
		t.Errorf("%d rows loaded for one screen", len(v.rows))
	}
	for id, e := range v.rows {
		if e.Data != nil {
			t.Fatalf("row %d holds its payload in the list cache", id)
		}
	}
	// Scroll through everything: rows load page by page, the cache stays bounded.
	for off := float32(0); off < float32(5000)*v.rowHeight; off += 20 * v.rowHeight {
		v.list.ScrollToOffset(off)
		f.wait()
	}
	if len(v.rows) > rowCacheMax {
		t.Errorf("row cache grew to %d", len(v.rows))
	}
	if e := f.rowAt(4999); e.Title != "entry 0" {
		t.Errorf("last row = %+v", e)
	}
}

// A result of a search the user has since replaced never shows: the
// newer load wins, whatever order the results come back in.
func TestHistoryViewDropsStaleLoads(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	v := f.view
	v.search.SetText("payment")
	v.applyFilters()
	v.busy.Wait() // the first search has run; its result waits for the UI thread
	v.search.SetText("router")
	v.applyFilters()
	v.busy.Wait()
	if !f.q.runOne() {
		t.Fatal("no result queued")
	}
	if len(v.ids) != 7 {
		t.Errorf("the replaced search's result was shown: %d listed", len(v.ids))
	}
	f.wait()
	if got := f.listTitles(); !slices.Equal(got, []string{"Router offline", "Router offline"}) {
		t.Errorf("titles = %q, want the last search's", got)
	}
}

// An entry stored while a load is on its way is listed and counted once,
// whether the load read it or not.
func TestHistoryViewAddedDuringLoad(t *testing.T) {
	add := func(t *testing.T, st *history.Store) notify.Entry {
		e := notify.Entry{Time: historyNow, Channel: "tenant.1", Type: notify.TypeSuccess, Title: "Live", Message: "new"}
		if _, err := st.Add(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	check := func(t *testing.T, f *historyFixture, e notify.Entry) {
		t.Helper()
		v := f.view
		if len(v.ids) != 8 || v.ids[0] != e.ID || v.indexOf(e.ID) != 0 || slices.Index(v.ids[1:], e.ID) >= 0 {
			t.Errorf("ids = %v, want %d once, at the top of 8", v.ids, e.ID)
		}
		if v.Unread() != 5 || v.status.Text != "8 notifications · 5 unread" {
			t.Errorf("unread %d, status %q; want 5 and 8 listed", v.Unread(), v.status.Text)
		}
	}
	t.Run("stored after the load read", func(t *testing.T) {
		st := openTestStore(t)
		seed(t, st, sampleEntries())
		f := newHistoryFixture(t, st)
		f.view.Reload()
		f.view.busy.Wait() // read, not yet shown
		e := add(t, st)
		f.view.Added(e)
		f.wait()
		check(t, f, e)
	})
	t.Run("stored before the load read", func(t *testing.T) {
		st := openTestStore(t)
		seed(t, st, sampleEntries())
		f := newHistoryFixture(t, st)
		e := add(t, st)
		f.view.Reload()
		f.view.Added(e)
		f.wait()
		check(t, f, e)
	})
}

// A store that does not answer in time shows an error instead of hanging
// the window.
func TestHistoryViewStoreTimeout(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixtureWith(t, st, func(o *HistoryViewOptions) { o.StoreTimeout = time.Nanosecond })
	if f.view.errLabel.Hidden || f.view.errLabel.Text != "Could not read the history: the history file did not answer in time." {
		t.Errorf("error %q hidden=%v", f.view.errLabel.Text, f.view.errLabel.Hidden)
	}
}

// Close cancels the store work: Wait returns, and results still on their
// way are dropped.
func TestHistoryViewClose(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	f := newHistoryFixture(t, st)
	v := f.view
	v.search.SetText("payment")
	v.applyFilters()
	v.Close()
	done := make(chan struct{})
	go func() {
		v.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after Close")
	}
	f.q.flush()
	if len(v.ids) != 7 {
		t.Errorf("a result arrived after Close: %d listed", len(v.ids))
	}
}

func TestRelativeTime(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC) // a Friday
	tests := []struct {
		t    time.Time
		want string
	}{
		{now, "just now"},
		{now.Add(-44 * time.Second), "just now"},
		{now.Add(-50 * time.Second), "1 min ago"},
		{now.Add(-2 * time.Minute), "2 min ago"},
		{now.Add(-59 * time.Minute), "59 min ago"},
		{now.Add(-time.Hour), "1 h ago"},
		{now.Add(-11 * time.Hour), "11 h ago"},
		{now.Add(-13 * time.Hour), "yesterday 23:00"},
		{now.Add(-30 * time.Hour), "yesterday 06:00"},
		{now.Add(-3 * 24 * time.Hour), "Tue 12:00"},
		{now.Add(-6 * 24 * time.Hour), "Sat 12:00"},
		{now.Add(-7 * 24 * time.Hour), "7 Mar"},
		{time.Date(2024, 12, 31, 8, 0, 0, 0, time.UTC), "31 Dec 2024"},
		{now.Add(30 * time.Second), "just now"},
		{now.Add(2 * time.Hour), "14:00"},
		{now.Add(48 * time.Hour), "16 Mar 2025"},
	}
	for _, tt := range tests {
		if got := relativeTime(tt.t, now, time.UTC); got != tt.want {
			t.Errorf("relativeTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
	// The calendar day is the viewer's.
	eat := time.FixedZone("EAT", 3*3600)
	if got := relativeTime(now.Add(-13*time.Hour), now, eat); got != "13 h ago" {
		t.Errorf("in EAT: %q, want 13 h ago (same day 02:00 to 15:00)", got)
	}
}

func TestPrettyPayload(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1,"b":[true,null]}`, "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ]\n}"},
		{``, "(no payload)"},
		{`null`, "(no payload)"},
		{`"text"`, `"text"`},
		{"not json {", "(not JSON)\nnot json {"},
		{"bad \xff utf8", "(not JSON)\nbad \uFFFD utf8"},
	}
	for _, tt := range tests {
		if got := prettyPayload(json.RawMessage(tt.in)); got != tt.want {
			t.Errorf("prettyPayload(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	huge := `{"x":"` + strings.Repeat("é", maxPayloadShown) + `"}`
	got := prettyPayload(json.RawMessage(huge))
	if len(got) > maxPayloadShown+64 || !strings.Contains(got, "more not shown") || !utf8.ValidString(got) {
		t.Errorf("huge payload: %d bytes, tail %q", len(got), got[len(got)-40:])
	}
}

// findButton returns the button labelled text inside o.
func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, obj := range test.LaidOutObjects(o) {
		if b, ok := obj.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no %q button", text)
	return nil
}
