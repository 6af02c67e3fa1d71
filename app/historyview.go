package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/notify"
)

// History window defaults.
const (
	defaultSearchDelay = 250 * time.Millisecond
	defaultTimeRefresh = 30 * time.Second
	defaultRowPage     = 100
	rowCacheMax        = 2000 // summaries kept in memory
	maxPayloadShown    = 64 << 10
	maxLateIDs         = 64 // IDs an out-of-order Added may fill in
)

// Labels of the filter selects' "everything" choices.
const (
	allTypesLabel    = "All types"
	allChannelsLabel = "All channels"
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
// Every method must be called on the Fyne UI thread; code on other
// goroutines wraps the call in fyne.Do. Its own timers (search debounce,
// relative time refresh) do so.
type HistoryView struct {
	// OnUnreadChanged, if set, receives the number of unread entries
	// whenever it changes (on the UI thread).
	OnUnreadChanged func(unread int)

	app   fyne.App
	win   fyne.Window
	store *notify.Store
	opts  HistoryViewOptions
	log   *slog.Logger

	// The current result: matching IDs newest first, and a cache of their
	// summaries (no payload) by ID.
	ids       []int64
	rows      map[int64]notify.Entry
	total     int   // entries in the whole history
	unread    int   // unread entries in the whole history
	highWater int64 // newest ID Reload or Added has accounted for
	// late holds the IDs below highWater that Added skipped over: entries
	// stored at the same moment by another Center whose Added comes after
	// a newer one's. Reload, which lists them, empties it.
	late      map[int64]bool
	selected  int64 // 0: none
	channels  []string
	rowHeight float32

	listSel int         // the list widget's selected index, -1 for none
	silent  bool        // true while the view changes widgets itself
	delay   func() bool // stops the pending search
	stop    chan struct{}
	stopped bool

	pending   []notify.Entry // added entries not yet in the list
	schedule  func(func())   // runs a flush on the UI thread after the queued calls
	afterFunc func(time.Duration, func()) (stop func() bool)

	onSearchApplied func() // test hook: a debounced search ran

	content     *fyne.Container
	banner      *widget.Label
	recovered   *widget.Label
	search      *widget.Entry
	typeSel     *widget.Select
	chanSel     *widget.Select
	unreadOnly  *widget.Check
	markAll     *widget.Button
	clearBtn    *widget.Button
	status      *widget.Label
	errLabel    *widget.Label
	list        *historyList
	placeholder *widget.Label

	detail        *fyne.Container
	detailEmpty   *widget.Label
	detailTitle   *widget.Label
	detailMeta    *widget.Label
	detailTime    *widget.Label
	detailMessage *widget.Label
	detailPayload *widget.Label
	detailDelete  *widget.Button
	detailBody    *fyne.Container
}

// NewHistoryView builds the history content for window w (which it uses for
// dialogs and the Ctrl+F, Enter and Delete keys) and loads the first rows.
// Show it with w.SetContent(v.Content()).
func NewHistoryView(a fyne.App, w fyne.Window, store *notify.Store, opts HistoryViewOptions) *HistoryView {
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
	v := &HistoryView{
		app:     a,
		win:     w,
		store:   store,
		opts:    opts,
		log:     opts.Logger,
		rows:    make(map[int64]notify.Entry),
		stop:    make(chan struct{}),
		listSel: -1,
		// From a new goroutine, fyne.Do queues the flush behind the
		// Added calls already waiting, so a burst is drawn once.
		schedule: func(f func()) { go fyne.Do(f) },
		afterFunc: func(d time.Duration, f func()) func() bool {
			return time.AfterFunc(d, f).Stop
		},
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	v.build()
	v.loadChannels()
	v.Reload()
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

// Close stops the view's timers. Call it when the window is closed for
// good; a hidden window may keep its view.
func (v *HistoryView) Close() {
	if v.stopped {
		return
	}
	v.stopped = true
	close(v.stop)
	if v.delay != nil {
		v.delay()
	}
}

// SetBanner shows text in a notice at the top of the view ("no tray host",
// "session expired", …); "" hides it.
func (v *HistoryView) SetBanner(text string) {
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

	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search title and message (Ctrl+F)")
	v.search.OnChanged = v.onSearchChanged
	v.search.OnSubmitted = func(string) { v.applyFilters() }

	typeOpts := []string{allTypesLabel}
	for _, t := range notify.Types {
		typeOpts = append(typeOpts, typeLabel(t))
	}
	v.typeSel = widget.NewSelect(typeOpts, func(string) { v.onFilterChanged() })
	v.typeSel.Selected = allTypesLabel
	v.chanSel = widget.NewSelect([]string{allChannelsLabel}, func(string) { v.onFilterChanged() })
	v.chanSel.Selected = allChannelsLabel
	v.unreadOnly = widget.NewCheck("Unread only", func(bool) { v.onFilterChanged() })

	v.markAll = widget.NewButtonWithIcon("Mark all read", theme.VisibilityIcon(), v.MarkAllRead)
	v.clearBtn = widget.NewButtonWithIcon("Clear history…", theme.DeleteIcon(), v.confirmClear)
	v.clearBtn.Importance = widget.DangerImportance
	v.status = widget.NewLabel("")
	v.errLabel = label(&widget.Label{Importance: widget.DangerImportance, Truncation: fyne.TextTruncateEllipsis})
	v.errLabel.Hide()

	v.list = newHistoryList(v)
	v.placeholder = label(&widget.Label{Alignment: fyne.TextAlignCenter, Wrapping: fyne.TextWrapWord})
	v.rowHeight = newHistoryRow().MinSize().Height + theme.Padding()

	v.buildDetail()

	filters := container.NewHBox(v.typeSel, v.chanSel, v.unreadOnly)
	toolbar := container.NewBorder(nil, nil, nil, filters, v.search)
	actions := container.NewBorder(nil, nil, nil, container.NewHBox(v.markAll, v.clearBtn),
		container.NewHBox(v.status, v.errLabel))
	top := container.NewVBox(v.banner, v.recovered, toolbar, actions)
	listArea := container.NewStack(v.list, container.NewVBox(layout.NewSpacer(), v.placeholder, layout.NewSpacer()))
	split := container.NewHSplit(listArea, v.detail)
	split.Offset = 0.6
	v.content = container.NewBorder(top, nil, nil, nil, split)
}

func (v *HistoryView) buildDetail() {
	v.detailEmpty = label(&widget.Label{Text: "Select a notification to see its details.", Alignment: fyne.TextAlignCenter, Wrapping: fyne.TextWrapWord})
	v.detailTitle = label(&widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameSubHeadingText, Selectable: true})
	v.detailMeta = label(&widget.Label{Wrapping: fyne.TextWrapWord})
	v.detailTime = label(&widget.Label{Wrapping: fyne.TextWrapWord})
	v.detailMessage = label(&widget.Label{Wrapping: fyne.TextWrapWord, Selectable: true})
	v.detailPayload = label(&widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapBreak, Selectable: true})
	v.detailDelete = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), v.deleteSelected)
	body := container.NewVBox(v.detailMessage, widget.NewSeparator(),
		widget.NewLabelWithStyle("Payload", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), v.detailPayload)
	v.detailBody = container.NewBorder(
		container.NewVBox(v.detailTitle, v.detailMeta, v.detailTime, widget.NewSeparator()),
		container.NewHBox(layout.NewSpacer(), v.detailDelete),
		nil, nil,
		container.NewVScroll(body))
	v.detailBody.Hide()
	v.detail = container.NewStack(container.NewVBox(layout.NewSpacer(), v.detailEmpty, layout.NewSpacer()), v.detailBody)
}

// bindKeys installs Ctrl+F (focus search) on c and Enter/Delete/arrows for
// when nothing has the focus; the list handles them when it has it.
func (v *HistoryView) bindKeys(c fyne.Canvas) {
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { v.FocusSearch() })
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		switch ev.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			if v.selected != 0 {
				v.open(v.selected)
			}
		case fyne.KeyDelete:
			v.deleteSelected()
		case fyne.KeyDown, fyne.KeyUp:
			c.Focus(v.list)
			idx := v.indexOf(v.selected)
			switch {
			case idx < 0 && len(v.ids) > 0:
				v.list.Select(0)
			case ev.Name == fyne.KeyDown && idx+1 < len(v.ids):
				v.list.Select(idx + 1)
			case ev.Name == fyne.KeyUp && idx > 0:
				v.list.Select(idx - 1)
			}
		}
	})
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
			fyne.Do(func() {
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

// query is the store query of the current search and filters.
func (v *HistoryView) query() notify.Query {
	q := notify.Query{Search: strings.TrimSpace(v.search.Text), Unread: v.unreadOnly.Checked}
	if t, ok := typeFromLabel(v.typeSel.Selected); ok {
		q.Types = []notify.Type{t}
	}
	if c := v.chanSel.Selected; c != "" && c != allChannelsLabel {
		q.Channel = c
	}
	return q
}

func (v *HistoryView) filtered() bool {
	q := v.query()
	return q.Search != "" || q.Unread || len(q.Types) > 0 || q.Channel != ""
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
		fyne.Do(func() {
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

// Reload reads the matching IDs, the counts and the channels from the store
// again and redraws, keeping the selection if it still matches.
func (v *HistoryView) Reload() {
	ctx := context.Background()
	// The newest ID first: an entry stored while the list is read is then
	// either in the list or still to come through Added, never lost.
	if newest, err := v.store.ListIDs(ctx, notify.Query{Limit: 1}); err == nil && len(newest) == 1 {
		v.highWater = max(v.highWater, newest[0])
		clear(v.late)
	}
	ids, err := v.store.ListIDs(ctx, v.query())
	if err != nil {
		v.showError("Could not read the history", err)
		ids = nil
	} else {
		v.clearError()
	}
	v.ids = ids
	clear(v.rows)
	if !v.filtered() {
		v.total = len(ids)
	} else if n, err := v.store.Count(ctx, notify.Query{}); err == nil {
		v.total = n
	}
	if n, err := v.store.UnreadCount(ctx); err == nil {
		v.setUnread(n)
	}
	v.updateStatus()
	v.list.Refresh()

	if v.selected != 0 {
		if idx := v.indexOf(v.selected); idx >= 0 {
			v.selectSilently(idx)
		} else {
			// Filtered out or gone: nothing stays selected, so Delete
			// cannot remove an entry the user no longer sees.
			v.selected = 0
			v.silent = true
			v.list.UnselectAll()
			v.silent = false
			v.showDetail(nil)
		}
	}
}

// Added shows a newly stored entry: at the top of the list if it matches
// the search and filters, keeping what the user looks at in place (the
// scroll position moves by a row when the list is scrolled, and the
// selection stays on its entry). Call it on the UI thread (fyne.Do) for
// every entry the Center stored. Counts update at once; the list is redrawn
// once for a burst of entries, right after the queued UI calls.
func (v *HistoryView) Added(e notify.Entry) {
	switch {
	case e.ID > v.highWater:
		// Remember the IDs jumped over (a few at most): their Added may
		// still come. A long run of them is not entries in flight.
		if v.highWater > 0 && e.ID-v.highWater <= maxLateIDs {
			if v.late == nil || len(v.late) > maxLateIDs {
				v.late = make(map[int64]bool)
			}
			for id := v.highWater + 1; id < e.ID; id++ {
				v.late[id] = true
			}
		}
		v.highWater = e.ID
	case v.late[e.ID]:
		delete(v.late, e.ID) // stored just before the newest one shown
	default:
		return // already loaded by a Reload that ran after it was stored, or a repeat
	}
	v.total++
	if !e.Read {
		v.setUnread(v.unread + 1)
	}
	if e.Channel != "" {
		if i, found := slices.BinarySearch(v.channels, e.Channel); !found {
			v.channels = slices.Insert(v.channels, i, e.Channel)
			v.chanSel.SetOptions(append([]string{allChannelsLabel}, v.channels...))
		}
	}
	if !v.matches(e) {
		v.updateStatus()
		return
	}
	e.Data = nil
	v.pending = append(v.pending, e)
	if len(v.pending) == 1 {
		v.schedule(v.flushAdded)
	}
}

// flushAdded puts the pending entries into the list and redraws it once.
func (v *HistoryView) flushAdded() {
	if v.stopped || len(v.pending) == 0 {
		v.pending = v.pending[:0]
		return
	}
	selIdx := v.indexOf(v.selected)
	offset := v.list.GetScrollOffset()
	above := 0 // new rows placed above the selection
	shift := 0 // new rows placed above the top of the viewport
	for _, e := range v.pending {
		if v.indexOf(e.ID) >= 0 {
			continue // a Reload since Added already has it
		}
		// IDs are newest first: find e's place (the top, unless entries
		// came in out of order).
		pos, _ := slices.BinarySearchFunc(v.ids, e.ID, cmpNewestFirst)
		v.ids = slices.Insert(v.ids, pos, e.ID)
		v.cacheRow(e)
		if selIdx >= 0 && pos <= selIdx+above {
			above++
		}
		if offset > 0 && float32(pos)*v.rowHeight <= offset+float32(shift)*v.rowHeight {
			shift++
		}
	}
	v.pending = v.pending[:0]
	v.updateStatus()
	// Keep the rows the user looks at in place when new rows came above
	// them; at the very top the new rows simply show. Each of these
	// redraws the rows, so do only what is needed.
	offset += float32(shift) * v.rowHeight
	switch {
	case selIdx >= 0 && above > 0:
		v.selectSilently(selIdx + above) // redraws, may scroll to the selection
		v.list.ScrollToOffset(offset)
	case shift > 0:
		v.list.ScrollToOffset(offset)
		v.list.Refresh()
	default:
		v.list.Refresh()
	}
}

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

// matches reports whether e passes the current search and filters.
func (v *HistoryView) matches(e notify.Entry) bool {
	q := v.query()
	if q.Unread && e.Read {
		return false
	}
	if len(q.Types) > 0 && !slices.Contains(q.Types, e.Type) {
		return false
	}
	if q.Channel != "" && q.Channel != e.Channel {
		return false
	}
	if q.Search == "" {
		return true
	}
	// Full-text rules live in the store: ask it about this one entry.
	q.BeforeID, q.Limit = e.ID+1, 1
	got, err := v.store.ListIDs(context.Background(), q)
	return err == nil && len(got) == 1 && got[0] == e.ID
}

// Select shows the entry with the given ID (a clicked notification):
// filters that hide it are cleared, the list scrolls to it and the detail
// pane opens it.
func (v *HistoryView) Select(id int64) {
	idx := v.indexOf(id)
	if idx < 0 && v.filtered() {
		v.resetFilters()
		v.Reload()
		idx = v.indexOf(id)
	}
	if idx < 0 {
		// Deleted or pruned since it was shown.
		v.silent = true
		v.list.UnselectAll()
		v.silent = false
		v.selected = 0
		v.showDetail(nil)
		v.detailEmpty.SetText("That notification is no longer in the history.")
		return
	}
	if v.selected == id {
		v.open(id)
	} else {
		v.list.Select(idx)
	}
	v.list.ScrollTo(idx)
}

func (v *HistoryView) resetFilters() {
	v.silent = true
	defer func() { v.silent = false }()
	if v.delay != nil {
		v.delay()
	}
	v.search.SetText("")
	v.typeSel.SetSelected(allTypesLabel)
	v.chanSel.SetSelected(allChannelsLabel)
	v.unreadOnly.SetChecked(false)
}

// selectSilently moves the list's selection to idx without opening it.
func (v *HistoryView) selectSilently(idx int) {
	v.silent = true
	v.list.Select(idx)
	v.silent = false
}

func (v *HistoryView) onSelected(idx int) {
	v.listSel = idx
	if v.silent || idx < 0 || idx >= len(v.ids) {
		return
	}
	v.open(v.ids[idx])
}

func (v *HistoryView) onUnselected(idx int) {
	if v.listSel == idx {
		v.listSel = -1
	}
	if v.silent {
		return
	}
	v.selected = 0
	v.showDetail(nil)
}

// open shows the entry in the detail pane and marks it read.
func (v *HistoryView) open(id int64) {
	ctx := context.Background()
	e, err := v.store.Get(ctx, id)
	if err != nil {
		if errors.Is(err, notify.ErrEntryNotFound) {
			v.selected = 0
			v.showDetail(nil)
			v.detailEmpty.SetText("That notification is no longer in the history.")
			return
		}
		v.showError("Could not open the notification", err)
		return
	}
	v.selected = id
	if !e.Read {
		if err := v.store.MarkRead(ctx, id); err != nil {
			v.showError("Could not mark the notification read", err)
		} else {
			e.Read = true
			v.setUnread(max(0, v.unread-1))
			v.updateStatus()
		}
	}
	summary := e
	summary.Data = nil
	v.cacheRow(summary)
	if idx := v.indexOf(id); idx >= 0 {
		v.list.RefreshItem(idx)
	}
	v.showDetail(&e)
}

// showDetail fills the detail pane with e, or shows the hint for nil.
func (v *HistoryView) showDetail(e *notify.Entry) {
	if e == nil {
		v.detailEmpty.SetText("Select a notification to see its details.")
		v.detailBody.Hide()
		v.detailEmpty.Show()
		return
	}
	v.detailTitle.SetText(orDash(e.Title))
	meta := []string{typeLabel(e.Type)}
	if e.Event != "" {
		meta = append(meta, e.Event)
	}
	if e.Channel != "" {
		meta = append(meta, "on "+e.Channel)
	}
	v.detailMeta.SetText(strings.Join(meta, " · "))
	v.detailTime.SetText(v.fullTime(e.Time))
	v.detailMessage.SetText(orDash(e.Message))
	v.detailPayload.SetText(prettyPayload(e.Data))
	v.detailEmpty.Hide()
	v.detailBody.Show()
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func (v *HistoryView) fullTime(t time.Time) string {
	return t.In(v.opts.Location).Format("Monday 2 January 2006, 15:04:05 MST") +
		" (" + relativeTime(t, v.opts.Now(), v.opts.Location) + ")"
}

// MarkAllRead marks every entry read (the "Mark all read" button).
func (v *HistoryView) MarkAllRead() {
	if err := v.store.MarkAllRead(context.Background()); err != nil {
		v.showError("Could not mark all read", err)
		return
	}
	for id, e := range v.rows {
		e.Read = true
		v.rows[id] = e
	}
	v.setUnread(0)
	if v.unreadOnly.Checked {
		v.Reload()
		return
	}
	v.updateStatus()
	v.list.Refresh()
}

// confirmClear asks before clearing the whole history.
func (v *HistoryView) confirmClear() {
	if v.win == nil {
		return
	}
	msg := fmt.Sprintf("Delete all %s from the history? This cannot be undone.", plural(v.total, "notification"))
	d := dialog.NewConfirm("Clear history", msg, func(ok bool) {
		if ok {
			v.Clear()
		}
	}, v.win)
	d.SetConfirmText("Clear history")
	d.SetDismissText("Cancel")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

// Clear deletes every entry, without asking (the confirmation dialog's
// action).
func (v *HistoryView) Clear() {
	if err := v.store.Clear(context.Background()); err != nil {
		v.showError("Could not clear the history", err)
		return
	}
	v.selected = 0
	v.silent = true
	v.list.UnselectAll()
	v.silent = false
	v.showDetail(nil)
	v.channels = nil
	v.resetFilters()
	v.chanSel.SetOptions([]string{allChannelsLabel})
	v.Reload()
}

// deleteSelected removes the selected entry and selects the next one.
func (v *HistoryView) deleteSelected() {
	id := v.selected
	if id == 0 {
		return
	}
	idx := v.indexOf(id)
	if err := v.store.Delete(context.Background(), id); err != nil {
		v.showError("Could not delete the notification", err)
		return
	}
	if e, ok := v.rows[id]; ok && !e.Read {
		v.setUnread(max(0, v.unread-1))
	}
	v.total = max(0, v.total-1)
	delete(v.rows, id)
	v.selected = 0
	v.silent = true
	v.list.UnselectAll()
	v.silent = false
	if idx >= 0 {
		v.ids = slices.Delete(v.ids, idx, idx+1)
	}
	v.updateStatus()
	v.list.Refresh()
	if idx >= 0 && len(v.ids) > 0 {
		v.list.Select(min(idx, len(v.ids)-1))
	} else {
		v.showDetail(nil)
	}
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

// row returns the summary of the entry at idx, loading a page of rows from
// the store around it when it is not cached.
func (v *HistoryView) row(idx int) (notify.Entry, bool) {
	id := v.ids[idx]
	if e, ok := v.rows[id]; ok {
		return e, true
	}
	start := max(0, idx-v.opts.PageSize/4)
	end := min(len(v.ids), start+v.opts.PageSize)
	page := v.ids[start:end]
	if len(v.rows)+len(page) > rowCacheMax {
		clear(v.rows)
	}
	got, err := v.store.Summaries(context.Background(), page)
	if err != nil {
		v.showError("Could not read the history", err)
		return notify.Entry{}, false
	}
	for _, e := range got {
		v.rows[e.ID] = e
	}
	for _, pid := range page {
		if _, ok := v.rows[pid]; !ok {
			// Deleted or pruned since the IDs were read.
			v.rows[pid] = notify.Entry{ID: pid, Title: "(removed)", Read: true}
		}
	}
	e, ok := v.rows[id]
	return e, ok
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
	var s string
	if v.filtered() {
		s = fmt.Sprintf("%s of %s", plural(len(v.ids), "match"), formatCount(v.total))
	} else {
		s = plural(len(v.ids), "notification")
	}
	s += fmt.Sprintf(" · %s unread", formatCount(v.unread))
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
	msg := what + ": " + err.Error()
	if errors.Is(err, notify.ErrDiskFull) {
		msg = what + ": the disk is full."
	}
	v.errLabel.SetText(msg)
	v.errLabel.Show()
}

func (v *HistoryView) clearError() {
	v.errLabel.SetText("")
	v.errLabel.Hide()
}

func (v *HistoryView) loadChannels() {
	chans, err := v.store.Channels(context.Background())
	if err != nil {
		v.showError("Could not read the channels", err)
		return
	}
	v.channels = chans
	v.chanSel.SetOptions(append([]string{allChannelsLabel}, chans...))
}

// historyList is the entries list: a widget.List whose Enter opens the
// focused entry and whose Delete removes the selected one.
type historyList struct {
	widget.List
	view *HistoryView
}

func newHistoryList(v *HistoryView) *historyList {
	l := &historyList{view: v}
	l.Length = func() int { return len(v.ids) }
	l.CreateItem = func() fyne.CanvasObject { return newHistoryRow() }
	l.UpdateItem = func(idx widget.ListItemID, o fyne.CanvasObject) {
		if idx >= len(v.ids) {
			return
		}
		e, ok := v.row(idx)
		if !ok {
			return
		}
		v.fillRow(o.(*fyne.Container), e)
	}
	l.OnSelected = v.onSelected
	l.OnUnselected = v.onUnselected
	l.ExtendBaseWidget(l)
	return l
}

// selectedIndex returns the index the list shows selected, or -1.
func (l *historyList) selectedIndex() int { return l.view.listSel }

// TypedKey handles Enter (open the focused entry) and Delete (remove the
// selected entry); other keys move the focus as in any list.
func (l *historyList) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		before := l.view.selected
		l.List.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace}) // selects the focused row
		if l.view.selected == before && before != 0 {
			l.view.open(before)
		}
	case fyne.KeyDelete:
		l.view.deleteSelected()
	default:
		l.List.TypedKey(ev)
	}
}

// Row objects, in the order historyRowLayout places them.
const (
	rowDot = iota
	rowIcon
	rowTitle
	rowMessage
	rowChannel
	rowTime
)

// label finishes a struct-literal Label, so it lays out from its first
// Resize (a literal has no widget behind its BaseWidget until it renders).
func label(l *widget.Label) *widget.Label {
	l.ExtendBaseWidget(l)
	return l
}

func newHistoryRow() *fyne.Container {
	dot := canvas.NewCircle(theme.Color(theme.ColorNamePrimary))
	icon := widget.NewIcon(theme.InfoIcon())
	title := label(&widget.Label{Text: "Title", Truncation: fyne.TextTruncateEllipsis})
	msg := label(&widget.Label{Text: "Message", Truncation: fyne.TextTruncateEllipsis})
	ch := label(&widget.Label{Text: "channel", Truncation: fyne.TextTruncateEllipsis, Importance: widget.LowImportance})
	tm := label(&widget.Label{Text: "now", Alignment: fyne.TextAlignTrailing, Importance: widget.LowImportance})
	return container.New(historyRowLayout{}, dot, icon, title, msg, ch, tm)
}

func (v *HistoryView) fillRow(c *fyne.Container, e notify.Entry) {
	// Setting a label's text re-shapes it even when unchanged, and rows are
	// refilled on every scroll and update: only touch what changed.
	dot := c.Objects[rowDot].(*canvas.Circle)
	if col := theme.Color(theme.ColorNamePrimary); dot.FillColor != col {
		dot.FillColor = col // the theme changed
		dot.Refresh()
	}
	if e.Read != dot.Hidden {
		if e.Read {
			dot.Hide()
		} else {
			dot.Show()
		}
	}
	if icon := c.Objects[rowIcon].(*widget.Icon); icon.Resource != typeIcon(e.Type) {
		icon.SetResource(typeIcon(e.Type))
	}
	setCell(c.Objects[rowTitle].(*widget.Label), singleLine(e.Title), fyne.TextStyle{Bold: !e.Read})
	setCell(c.Objects[rowMessage].(*widget.Label), singleLine(e.Message), fyne.TextStyle{})
	setCell(c.Objects[rowChannel].(*widget.Label), e.Channel, fyne.TextStyle{})
	setCell(c.Objects[rowTime].(*widget.Label), relativeTime(e.Time, v.opts.Now(), v.opts.Location), fyne.TextStyle{})
}

// setCell shows text in a row's label, refreshing only on a change: setting
// a label's text re-shapes it even when unchanged, and rows are refilled on
// every scroll and update.
func setCell(l *widget.Label, text string, style fyne.TextStyle) {
	if l.Text == text && l.TextStyle == style {
		return
	}
	l.Text, l.TextStyle = text, style
	fitCell(l, l.Size().Width)
	l.Refresh()
}

// fitCell turns ellipsis truncation on only when the text is wider than
// the cell: Fyne shapes an ellipsis label's text on every refresh, while
// the width of a label that fits comes from its measurement cache.
func fitCell(l *widget.Label, width float32) (changed bool) {
	if l.Alignment == fyne.TextAlignTrailing {
		return false // the time: short, never truncated
	}
	want := fyne.TextTruncateEllipsis
	if width > 0 && fyne.MeasureText(l.Text, theme.TextSize(), l.TextStyle).Width+2*theme.InnerPadding() <= width {
		want = fyne.TextTruncateOff
	}
	if l.Truncation == want {
		return false
	}
	l.Truncation = want
	return true
}

// singleLine joins the lines of s for a one-line cell.
func singleLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// historyRowLayout places a row's objects: unread dot, type icon, title
// (45% of the text width), message (the rest), channel and time.
type historyRowLayout struct{}

const (
	rowDotSize     = 8
	rowIconSize    = 20
	rowChannelW    = 104
	rowTimeW       = 96
	rowNarrowWidth = 520 // below this the channel column is dropped
)

func (historyRowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(rowIconSize)
	for _, o := range objs[rowTitle:] {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(rowDotSize+rowIconSize+rowTimeW+160, h)
}

func (historyRowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	h := size.Height
	x := pad
	objs[rowDot].Resize(fyne.NewSquareSize(rowDotSize))
	objs[rowDot].Move(fyne.NewPos(x, (h-rowDotSize)/2))
	x += rowDotSize + pad
	objs[rowIcon].Resize(fyne.NewSquareSize(rowIconSize))
	objs[rowIcon].Move(fyne.NewPos(x, (h-rowIconSize)/2))
	x += rowIconSize

	right := size.Width
	objs[rowTime].Resize(fyne.NewSize(rowTimeW, h))
	right -= rowTimeW
	objs[rowTime].Move(fyne.NewPos(right, 0))
	if size.Width >= rowNarrowWidth {
		right -= rowChannelW
		objs[rowChannel].Resize(fyne.NewSize(rowChannelW, h))
		objs[rowChannel].Move(fyne.NewPos(right, 0))
		objs[rowChannel].Show()
	} else {
		objs[rowChannel].Hide()
	}
	text := max(0, right-x)
	titleW := text * 9 / 20
	objs[rowTitle].Resize(fyne.NewSize(titleW, h))
	objs[rowTitle].Move(fyne.NewPos(x, 0))
	objs[rowMessage].Resize(fyne.NewSize(text-titleW, h))
	objs[rowMessage].Move(fyne.NewPos(x+titleW, 0))
	for _, i := range []int{rowTitle, rowMessage, rowChannel} {
		l := objs[i].(*widget.Label)
		if fitCell(l, l.Size().Width) {
			l.Refresh()
		}
	}
}
