package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
	"echotray/history"
	"echotray/notify"
)

// History window defaults.
const (
	defaultSearchDelay  = 250 * time.Millisecond
	defaultTimeRefresh  = 30 * time.Second
	defaultRowPage      = 100
	defaultStoreTimeout = 5 * time.Second
	rowCacheMax         = 2000 // summaries kept in memory
	// maxPayloadShown bounds the payload in the detail pane's text view,
	// which lays out only the lines in sight.
	maxPayloadShown = 1 << 20
	// maxAddedTracked bounds the IDs Added remembers between two loads (to
	// ignore a repeat); beyond it the view loads afresh.
	maxAddedTracked = 4096
)

// Labels of the filter selects' "everything" choices.
const (
	allTypesLabel      = "Any severity"
	allChannelsLabel   = "All sources"
	allCategoriesLabel = "All events"
)

// HistoryViewOptions configures a HistoryView. The zero value is fine.
type HistoryViewOptions struct {
	// Now is the clock of the relative times ("2 min ago"); nil means
	// time.Now.
	Now func() time.Time
	// Location is the time zone of full times; nil means time.Local.
	Location *time.Location
	// Logger receives store errors; nil discards them.
	Logger *slog.Logger
	// SearchDelay is how long typing must pause before the search runs;
	// 0 means 250 ms.
	SearchDelay time.Duration
	// TimeRefresh is how often relative times are brought up to date; 0
	// means 30 s, a negative value never (tests).
	TimeRefresh time.Duration
	// PageSize is how many rows are loaded from the store at a time; 0
	// means 100.
	PageSize int
	// StoreTimeout bounds one unit of store work (a load, a page, marking
	// read); 0 means 5 s.
	StoreTimeout time.Duration
	// RunOnUI hands work to the Fyne thread; nil means the bridge
	// (fyne.Do). Tests pass a queue they run themselves.
	RunOnUI func(func())
	// Account, when AccountKnown, is the account whose history the view
	// shows from its first load on (see SetAccount).
	Account      string
	AccountKnown bool
}

// HistoryView is the content of the history window: a search box and
// filters, a virtualised list of the stored entries (newest first, unread
// ones bold with a dot) and a detail pane with the full message and the
// pretty-printed payload.
//
// It keeps only the IDs of the matching entries (8 bytes each) and loads
// rows from the store a page at a time as they scroll into view, so it stays
// fast with 100,000 entries.
//
// Every method must be called on the Fyne thread. The store is never
// queried there: queries, page loads and changes run in order on the view's
// worker goroutine, and their results come back through RunOnUI; a result
// for a search or filter the user has since changed is dropped.
type HistoryView struct {
	// OnUnreadChanged, if set, receives the number of unread entries
	// whenever it changes (on the UI thread).
	OnUnreadChanged func(unread int)
	// OnChanged, if set, runs (on the UI thread) after the view changed the
	// history: entries marked read (their IDs in read), deleted or
	// cleared (read empty).
	OnChanged func(read []int64)

	app     fyne.App
	win     fyne.Window
	store   *history.Store
	opts    HistoryViewOptions
	log     *slog.Logger
	runOnUI func(func())

	// The current result: matching IDs newest first, and a cache of their
	// summaries (no payload) by ID.
	ids    []int64
	rows   map[int64]notify.Entry
	total  int // entries in the whole history
	unread int // unread entries in the whole history
	// newest is the newest ID the last load accounted for: it read the
	// entries up to it, and Added brings the ones after it.
	newest int64
	// added holds the IDs after newest that Added counted, so a repeat is
	// not counted twice. The next load accounts for them and empties it.
	added     map[int64]bool
	loaded    bool  // the first load has arrived
	selected  int64 // 0: none
	channels  []string
	rowHeight float32

	listSel int         // the list widget's selected index, -1 for none
	silent  bool        // true while the view changes widgets itself
	delay   func() bool // stops the pending search
	stop    chan struct{}
	stopped bool

	account    string // the account shown (SetAccount)
	accountSet bool
	dialog     dialog.Dialog  // the dialog shown, for Escape; nil for none
	deleting   *pendingDelete // deleted, Undo offered; nil for none
	deleteGen  int            // bumped by every delete, undo and commit
	// finalDelete is the entry Close found waiting for Undo: Wait deletes it.
	finalDelete int64

	pending   []notify.Entry // added entries not yet in the list
	schedule  func(func())   // runs a flush on the UI thread after the queued calls
	afterFunc func(time.Duration, func()) (stop func() bool)

	onSearchApplied func() // test hook: a debounced search ran

	// Store work (historyview_store.go).
	gen      atomic.Uint64  // list generation: every load bumps it; older list results are dropped
	inflight int            // jobs queued whose result has not come back (UI thread)
	loading  map[int64]bool // IDs whose page is being loaded
	queue    jobQueue
	busy     sync.WaitGroup // jobs queued or running; tests wait on it
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed when the worker has ended

	content     *fyne.Container
	split       *container.Split // list and detail: side by side, or the detail under the list when narrow
	banner      *widget.Label
	recovered   *widget.Label
	search      *searchEntry
	typeSel     *widget.Select
	catSel      *widget.Select // kind of event: Payments, Users, …
	chanSel     *widget.Select // source by kind: Tenant, Personal, …
	unreadOnly  *widget.Check
	markAll     *widget.Button
	clearBtn    *widget.Button
	status      *widget.Label
	errLabel    *widget.Label
	undoBox     *fyne.Container // "Deleted …" and Undo
	undoText    *widget.Label
	list        *historyList
	placeholder *widget.Label

	// The detail pane (historyview_detail.go).
	detail          *fyne.Container
	detailEmpty     *widget.Label
	detailTitle     *widget.Label
	detailMeta      *widget.Label
	detailTime      *widget.Label
	detailMessage   *widget.Label
	detailPayload   *textView
	detailLinks     *fyne.Container // the message's links, clickable
	detailFields    *fyne.Container // the known payload fields, labelled
	detailTech      *widget.Label   // event and channel names
	detailTechItem  *widget.AccordionItem
	detailAccordion *widget.Accordion
	detailCopy      *widget.Button
	detailFull      *widget.Button // "Show full text", when something was shortened
	detailDelete    *widget.Button
	detailBody      *fyne.Container
	detailDoc       *detailDoc // what the pane shows; nil for none
}

// NewHistoryView builds the history content for window w (which it uses for
// dialogs and the Ctrl+F, Enter and Delete keys) and starts loading the
// first rows. Show it with w.SetContent(v.Content()); Close it when the
// window is closed for good.
func NewHistoryView(a fyne.App, w fyne.Window, store *history.Store, opts HistoryViewOptions) *HistoryView {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.SearchDelay <= 0 {
		opts.SearchDelay = defaultSearchDelay
	}
	if opts.TimeRefresh == 0 {
		opts.TimeRefresh = defaultTimeRefresh
	}
	if opts.PageSize <= 0 {
		opts.PageSize = defaultRowPage
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = defaultStoreTimeout
	}
	if opts.RunOnUI == nil {
		opts.RunOnUI = fyneDo
	}
	v := &HistoryView{
		app:     a,
		win:     w,
		store:   store,
		opts:    opts,
		log:     opts.Logger,
		runOnUI: opts.RunOnUI,
		rows:    make(map[int64]notify.Entry),
		added:   make(map[int64]bool),
		loading: make(map[int64]bool),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		listSel: -1,
		afterFunc: func(d time.Duration, f func()) func() bool {
			return time.AfterFunc(d, f).Stop
		},
	}
	// From a new goroutine, the bridge queues the flush behind the Added
	// calls already waiting, so a burst is drawn once.
	v.schedule = func(f func()) { go v.runOnUI(f) }
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.queue.wake = make(chan struct{}, 1)
	go v.work()
	v.build()
	if opts.AccountKnown {
		// Before the first load: the previous user's entries never show.
		v.account, v.accountSet = opts.Account, true
		v.enqueue(0, func(ctx context.Context) func() {
			if err := store.SetAccountContext(ctx, opts.Account); err != nil {
				v.log.Warn("history window: could not record the account", "err", err)
			}
			return nil
		})
	}
	v.reload(true)
	if w != nil {
		v.bindKeys(w.Canvas())
	}
	if opts.TimeRefresh > 0 {
		go v.refreshTimes(opts.TimeRefresh)
	}
	return v
}

// Content returns the view's root object.
func (v *HistoryView) Content() fyne.CanvasObject { return v.content }

// Close stops the view's timers and its worker (a store call in progress is
// cancelled; results still on their way are dropped). Call it when the
// window is closed for good; a hidden window may keep its view. Wait waits
// for the worker to end.
func (v *HistoryView) Close() {
	if v.stopped {
		return
	}
	v.stopped = true
	if d := v.deleting; d != nil {
		// The window closes within the Undo time: the deletion stands.
		d.stop()
		v.deleting = nil
		v.finalDelete = d.entry.ID
	}
	close(v.stop)
	v.cancel()
	if v.delay != nil {
		v.delay()
	}
}

// Wait blocks until the worker has ended after Close, so the store can be
// closed. It touches no widget: call it from any goroutine.
func (v *HistoryView) Wait() {
	<-v.done
	if id := v.finalDelete; id != 0 {
		v.finalDelete = 0
		ctx, cancel := context.WithTimeout(context.Background(), v.opts.StoreTimeout)
		defer cancel()
		if err := v.store.Delete(ctx, id); err != nil {
			v.log.Warn("history window: could not delete the notification", "err", err)
		}
	}
}

// SetBanner shows text in a notice at the top of the view ("no tray host",
// "session expired", …); "" hides it.
func (v *HistoryView) SetBanner(text string) {
	if v.banner.Text == text && v.banner.Hidden == (text == "") {
		return
	}
	v.banner.SetText(text)
	if text == "" {
		v.banner.Hide()
	} else {
		v.banner.Show()
	}
}

// FocusSearch puts the keyboard focus in the search box (Ctrl+F).
func (v *HistoryView) FocusSearch() {
	if v.win != nil {
		v.win.Canvas().Focus(v.search)
	}
}

// Unread returns the number of unread entries in the history.
func (v *HistoryView) Unread() int { return v.unread }

func (v *HistoryView) build() {
	v.banner = label(&widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.WarningImportance, TextStyle: fyne.TextStyle{Bold: true}})
	v.banner.Hide()
	v.recovered = label(&widget.Label{Wrapping: fyne.TextWrapWord, Importance: widget.WarningImportance})
	if moved := v.store.Recovered(); moved != "" {
		v.recovered.SetText("The history file could not be read, so a new history was started. " +
			"The old file was kept as " + moved + ".")
	} else {
		v.recovered.Hide()
	}

	v.search = newSearchEntry(v)
	v.search.SetPlaceHolder("Search title and message (Ctrl+F)")
	v.search.OnChanged = v.onSearchChanged
	v.search.OnSubmitted = func(string) { v.applyFilters() }

	typeOpts := []string{allTypesLabel}
	for _, t := range notify.Types {
		typeOpts = append(typeOpts, typeLabel(t))
	}
	v.typeSel = widget.NewSelect(typeOpts, func(string) { v.onFilterChanged() })
	v.typeSel.Selected = allTypesLabel
	catOpts := []string{allCategoriesLabel}
	for _, c := range notify.Categories() {
		catOpts = append(catOpts, c.Label())
	}
	v.catSel = widget.NewSelect(catOpts, func(string) { v.onFilterChanged() })
	v.catSel.Selected = allCategoriesLabel
	v.chanSel = widget.NewSelect([]string{allChannelsLabel}, func(string) { v.onFilterChanged() })
	v.chanSel.Selected = allChannelsLabel
	v.unreadOnly = widget.NewCheck("Unread only", func(bool) { v.onFilterChanged() })

	v.markAll = widget.NewButtonWithIcon("Mark all read", theme.VisibilityIcon(), v.MarkAllRead)
	v.clearBtn = widget.NewButtonWithIcon("Clear history…", theme.DeleteIcon(), v.confirmClear)
	v.clearBtn.Importance = widget.DangerImportance
	v.status = widget.NewLabel("")
	v.errLabel = label(&widget.Label{Importance: widget.DangerImportance, Truncation: fyne.TextTruncateEllipsis})
	v.errLabel.Hide()
	v.undoText = label(&widget.Label{Truncation: fyne.TextTruncateEllipsis})
	undo := widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), v.Undo)
	undo.Importance = widget.HighImportance
	v.undoBox = container.NewBorder(nil, nil, nil, undo, v.undoText)
	v.undoBox.Hide()

	v.list = newHistoryList(v)
	v.placeholder = label(&widget.Label{Alignment: fyne.TextAlignCenter, Wrapping: fyne.TextWrapWord})
	v.rowHeight = newHistoryRow().MinSize().Height + theme.Padding()

	v.buildDetail()

	filters := container.NewHBox(v.catSel, v.typeSel, v.chanSel, v.unreadOnly)
	bar := &searchBarLayout{}
	toolbar := container.New(bar, v.search, filters)
	actions := container.NewBorder(nil, nil, nil, container.NewHBox(v.markAll, v.clearBtn),
		container.NewHBox(v.status, v.errLabel))
	top := container.NewVBox(v.banner, v.recovered, toolbar, actions, v.undoBox)
	listArea := container.NewStack(v.list, container.NewVBox(layout.NewSpacer(), v.placeholder, layout.NewSpacer()))
	v.split = container.NewHSplit(listArea, v.detail)
	v.split.Offset = 0.6
	v.content = container.NewBorder(top, nil, nil, nil, container.New(&adaptiveSplit{split: v.split}, v.split))
	bar.relayout = v.content.Refresh
	v.updateStatus()
}

func (v *HistoryView) buildDetail() {
	v.detailEmpty = label(&widget.Label{Text: "Select a notification to see its details.", Alignment: fyne.TextAlignCenter, Wrapping: fyne.TextWrapWord})
	v.detailTitle = label(&widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameSubHeadingText, Selectable: true})
	v.detailMeta = label(&widget.Label{Wrapping: fyne.TextWrapWord})
	v.detailTime = label(&widget.Label{Wrapping: fyne.TextWrapWord})
	v.detailMessage = label(&widget.Label{Wrapping: fyne.TextWrapWord, Selectable: true})
	v.detailLinks = container.NewVBox()
	v.detailFields = container.New(layout.NewFormLayout())
	v.detailTech = label(&widget.Label{Wrapping: fyne.TextWrapBreak, Selectable: true})
	v.detailPayload = newTextView()
	v.detailCopy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), v.copyPayload)
	v.detailCopy.Importance = widget.LowImportance
	v.detailFull = widget.NewButtonWithIcon("Show full text", theme.MoreHorizontalIcon(), v.showFullText)
	v.detailFull.Hide()
	v.detailDelete = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), v.deleteSelected)
	// The raw event under "Technical details", collapsed: the payload
	// scrolls both ways in its own view (not wrapped, monospace).
	payload := container.NewBorder(
		container.NewBorder(nil, nil, widget.NewLabelWithStyle("Payload", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.detailCopy),
		nil, nil, nil, container.New(minHeight{240}, v.detailPayload))
	v.detailTechItem = widget.NewAccordionItem("Technical details", container.NewVBox(v.detailTech, payload))
	v.detailAccordion = widget.NewAccordion(v.detailTechItem)
	body := container.NewVBox(v.detailMessage, v.detailLinks, v.detailFields, v.detailAccordion)
	v.detailBody = container.NewBorder(
		container.NewVBox(v.detailTitle, v.detailMeta, v.detailTime, widget.NewSeparator()),
		container.NewHBox(v.detailFull, layout.NewSpacer(), v.detailDelete),
		nil, nil,
		container.NewVScroll(body))
	v.detailBody.Hide()
	v.detail = container.NewStack(container.NewVBox(layout.NewSpacer(), v.detailEmpty, layout.NewSpacer()), v.detailBody)
}

// narrowWidth is the width below which the detail pane moves under the
// list: side by side, both would be too narrow to read.
const narrowWidth = 900

// adaptiveSplit lays out the list-and-detail split side by side when
// there is room (narrowWidth and more) and one above the other when not.
type adaptiveSplit struct{ split *container.Split }

func (a *adaptiveSplit) MinSize(objs []fyne.CanvasObject) fyne.Size { return objs[0].MinSize() }

func (a *adaptiveSplit) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if wide := size.Width >= narrowWidth; a.split.Horizontal != wide {
		a.split.Horizontal = wide
		a.split.Offset = 0.6
		if !wide {
			a.split.Offset = 0.5
		}
		a.split.Refresh()
	}
	objs[0].Move(fyne.Position{})
	objs[0].Resize(size)
}

// searchBarLayout puts the search box and the filters on one line, the
// search box taking the room left; below narrowWidth the filters go on a
// line of their own under it, so the search box stays usable.
type searchBarLayout struct {
	narrow   bool   // on two lines
	relayout func() // lays the view out again after the height changed
}

func (l *searchBarLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s, f := objs[0].MinSize(), objs[1].MinSize()
	if l.narrow {
		return fyne.NewSize(f.Width, s.Height+theme.Padding()+f.Height)
	}
	return fyne.NewSize(max(s.Width, f.Width), max(s.Height, f.Height))
}

func (l *searchBarLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	search, filters := objs[0], objs[1]
	fm := filters.MinSize()
	pad := theme.Padding()
	if narrow := size.Width < narrowWidth; narrow != l.narrow {
		l.narrow = narrow
		if l.relayout != nil {
			defer l.relayout() // the bar's height changed
		}
	}
	if l.narrow {
		h := search.MinSize().Height
		search.Move(fyne.Position{})
		search.Resize(fyne.NewSize(size.Width, h))
		filters.Move(fyne.NewPos(0, h+pad))
		filters.Resize(fyne.NewSize(size.Width, fm.Height))
		return
	}
	search.Move(fyne.Position{})
	search.Resize(fyne.NewSize(size.Width-fm.Width-pad, size.Height))
	filters.Move(fyne.NewPos(size.Width-fm.Width, 0))
	filters.Resize(fyne.NewSize(fm.Width, size.Height))
}

// minHeight lays out one object at the full size, at least h tall.
type minHeight struct{ h float32 }

func (m minHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := objs[0].MinSize()
	return fyne.NewSize(s.Width, max(s.Height, m.h))
}

func (m minHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Move(fyne.Position{})
	objs[0].Resize(size)
}

// bindKeys installs Ctrl+F (focus search) on c and Enter/Delete/arrows for
// when nothing has the focus; the list handles them when it has it.
func (v *HistoryView) bindKeys(c fyne.Canvas) {
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { v.FocusSearch() })
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyEscape {
			v.escape()
			return
		}
		if v.dialog != nil {
			return // keys are for the dialog
		}
		switch ev.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			if v.selected != 0 {
				v.open(v.selected)
			}
		case fyne.KeyDelete:
			v.deleteSelected()
		case fyne.KeyDown, fyne.KeyUp, fyne.KeyHome, fyne.KeyEnd, fyne.KeyPageDown, fyne.KeyPageUp:
			c.Focus(v.list)
			v.moveSelection(ev.Name)
		}
	})
}

// enterList moves the keyboard focus from the search box into the list,
// selecting the first entry if none is selected.
func (v *HistoryView) enterList() {
	if v.win == nil || len(v.ids) == 0 {
		return
	}
	v.win.Canvas().Focus(v.list)
	if v.indexOf(v.selected) < 0 {
		v.list.Select(0)
		v.list.ScrollTo(0)
	}
}

// escape closes the open dialog, or else clears the search.
func (v *HistoryView) escape() {
	if d := v.dialog; d != nil {
		v.dialog = nil
		d.Hide()
		return
	}
	if v.search.Text != "" {
		v.search.SetText("")
		v.applyFilters()
	}
}

// showDialog shows d and remembers it, so Escape can close it; onClosed
// (may be nil) runs when it closes.
func (v *HistoryView) showDialog(d dialog.Dialog, onClosed func()) {
	v.dialog = d
	d.SetOnClosed(func() {
		if v.dialog == d {
			v.dialog = nil
		}
		if onClosed != nil {
			onClosed()
		}
	})
	d.Show()
}

// refreshTimes redraws the visible rows so relative times stay right.
func (v *HistoryView) refreshTimes(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
			v.runOnUI(func() {
				if !v.stopped {
					v.list.Refresh()
					if v.selected != 0 {
						if e, ok := v.rows[v.selected]; ok {
							v.detailTime.SetText(v.fullTime(e.Time))
						}
					}
				}
			})
		}
	}
}

// viewQuery is what the list shows: a store query plus the filters the
// store takes one value of at a time (kind of event: several event names;
// source: several channels of one kind), asked for one by one and merged.
type viewQuery struct {
	history.Query
	events   []string // any of these short event names; nil means all
	channels []string // any of these channels; nil means all
	// none: a filter matches nothing (a source with no channel left).
	none bool
}

// query is the store query of the current search and filters.
func (v *HistoryView) query() viewQuery {
	q := viewQuery{Query: history.Query{Search: strings.TrimSpace(v.search.Text), Unread: v.unreadOnly.Checked}}
	if t, ok := typeFromLabel(v.typeSel.Selected); ok {
		q.Types = []notify.Type{t}
	}
	for _, c := range notify.Categories() {
		if v.catSel.Selected == c.Label() {
			q.events = notify.CategoryEvents(c)
		}
	}
	if sel := v.chanSel.Selected; sel != "" && sel != allChannelsLabel {
		q.channels = v.channelsOfSource(sel)
		q.none = len(q.channels) == 0
	}
	return q
}

func (v *HistoryView) filtered() bool {
	q := v.query()
	return q.Search != "" || q.Unread || len(q.Types) > 0 || q.events != nil || q.channels != nil || q.none
}

func (v *HistoryView) onSearchChanged(string) {
	if v.silent {
		return
	}
	if v.delay != nil {
		v.delay()
	}
	text := v.search.Text
	v.delay = v.afterFunc(v.opts.SearchDelay, func() {
		v.runOnUI(func() {
			// A later keystroke restarted the timer, or Enter already ran it.
			if v.stopped || v.search.Text != text {
				return
			}
			v.applyFilters()
			if f := v.onSearchApplied; f != nil {
				f()
			}
		})
	})
}

func (v *HistoryView) onFilterChanged() {
	if v.silent {
		return
	}
	v.applyFilters()
}

// applyFilters reloads for the current search and filters and scrolls to
// the top.
func (v *HistoryView) applyFilters() {
	if v.delay != nil {
		v.delay()
	}
	v.Reload()
	v.list.ScrollToTop()
}

// Reload reads the matching IDs and the counts from the store again and
// redraws when they arrive, keeping the selection if it still matches.
// Results of earlier loads that have not arrived yet are dropped.
func (v *HistoryView) Reload() { v.reload(false) }

// cmpNewestFirst orders IDs descending for binary searches.
func cmpNewestFirst(have, want int64) int {
	switch {
	case have > want:
		return -1
	case have < want:
		return 1
	}
	return 0
}

// indexOf returns id's index in the current result, or -1.
func (v *HistoryView) indexOf(id int64) int {
	if id == 0 {
		return -1
	}
	i, found := slices.BinarySearchFunc(v.ids, id, cmpNewestFirst)
	if !found {
		return -1
	}
	return i
}

func (v *HistoryView) cacheRow(e notify.Entry) {
	if len(v.rows) >= rowCacheMax {
		clear(v.rows)
	}
	v.rows[e.ID] = e
}

func (v *HistoryView) setUnread(n int) {
	if n == v.unread {
		return
	}
	v.unread = n
	if f := v.OnUnreadChanged; f != nil {
		f(n)
	}
}

func (v *HistoryView) updateStatus() {
	if !v.loaded {
		v.status.SetText("Loading…")
		v.markAll.Disable()
		v.clearBtn.Disable()
		v.placeholder.Hide()
		return
	}
	var s string
	if v.filtered() {
		s = fmt.Sprintf("%s of %s", app.Plural(len(v.ids), "match"), app.FormatCount(v.total))
	} else {
		s = app.Plural(len(v.ids), "notification")
	}
	s += fmt.Sprintf(" · %s unread", app.FormatCount(v.unread))
	v.status.SetText(s)
	v.markAll.Disable()
	if v.unread > 0 {
		v.markAll.Enable()
	}
	v.clearBtn.Disable()
	if v.total > 0 {
		v.clearBtn.Enable()
	}
	switch {
	case len(v.ids) > 0:
		v.placeholder.Hide()
	case v.filtered():
		v.placeholder.SetText("No notifications match the search and filters.")
		v.placeholder.Show()
	default:
		v.placeholder.SetText("No notifications yet. Events you receive are kept here.")
		v.placeholder.Show()
	}
}

func (v *HistoryView) showError(what string, err error) {
	v.log.Error("history window: "+strings.ToLower(what[:1])+what[1:], "err", err)
	// The log has the error; the window says what happened in words.
	msg := what + ". Try again; if it keeps happening, restart EchoTray."
	switch {
	case errors.Is(err, history.ErrDiskFull):
		msg = what + ": the disk is full."
	case errors.Is(err, context.DeadlineExceeded):
		msg = what + ": the history file did not answer in time."
	}
	v.errLabel.SetText(msg)
	v.errLabel.Show()
}

func (v *HistoryView) clearError() {
	v.errLabel.SetText("")
	v.errLabel.Hide()
	v.undoText = label(&widget.Label{Truncation: fyne.TextTruncateEllipsis})
	undo := widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), v.Undo)
	undo.Importance = widget.HighImportance
	v.undoBox = container.NewBorder(nil, nil, nil, undo, v.undoText)
	v.undoBox.Hide()
}
