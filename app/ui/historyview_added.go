package ui

import (
	"context"
	"slices"

	"echotray/history"
	"echotray/notify"
)

// Live entries (the core's entry-added) and selecting an entry from outside
// (a clicked notification).

// Added shows a newly stored entry (the core's entry-added): at the top of
// the list if it matches the search and filters, keeping what the user
// looks at in place (the scroll position moves by a row when the list is
// scrolled, and the selection stays on its entry). An entry the last load
// already read, or a repeat, changes nothing. The list is redrawn once for
// a burst of entries, right after the queued UI calls.
func (v *HistoryView) Added(e notify.Entry) {
	e.Data = nil
	q := v.query()
	if v.inflight == 0 && q.Search == "" {
		// Nothing pending that could change the list first, and no
		// full-text rule to ask the store about.
		v.place(e, matchesFilters(e, q))
		return
	}
	// Behind the work already queued (a load may be on its way), and the
	// store decides whether a search matches.
	v.enqueue(v.gen.Load(), func(ctx context.Context) func() {
		ok := matchesFilters(e, q)
		if ok && q.Search != "" {
			one := history.Query{Search: q.Search, BeforeID: e.ID + 1, Limit: 1}
			got, err := v.store.ListIDs(ctx, one)
			ok = err == nil && len(got) == 1 && got[0] == e.ID
		}
		return func() { v.place(e, ok) }
	})
}

// place counts an added entry and, if it matches, queues it for the list.
func (v *HistoryView) place(e notify.Entry, matches bool) {
	if e.ID <= v.newest || v.added[e.ID] {
		return // the last load read it, or a repeat
	}
	if len(v.added) >= maxAddedTracked {
		v.Reload() // reads e too: it is stored
		return
	}
	v.added[e.ID] = true
	v.total++
	if !e.Read {
		v.setUnread(v.unread + 1)
	}
	if e.Channel != "" {
		if i, found := slices.BinarySearch(v.channels, e.Channel); !found {
			v.channels = slices.Insert(v.channels, i, e.Channel)
			v.updateSources()
		}
	}
	if !matches {
		v.updateStatus()
		return
	}
	v.pending = append(v.pending, e)
	if len(v.pending) == 1 {
		v.schedule(v.flushAdded)
	}
}

// matchesFilters reports whether e passes q's filters other than the
// search text (which only the store can decide).
func matchesFilters(e notify.Entry, q viewQuery) bool {
	if q.none || (q.Unread && e.Read) {
		return false
	}
	if len(q.Types) > 0 && !slices.Contains(q.Types, e.Type) {
		return false
	}
	if q.events != nil && !slices.Contains(q.events, e.Event) {
		return false
	}
	return q.channels == nil || slices.Contains(q.channels, e.Channel)
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
			continue
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

// Select shows the entry with the given ID (a clicked notification,
// `show --entry`): once the loads on their way have arrived, filters that
// hide it are cleared, the list scrolls to it and the detail pane opens it.
func (v *HistoryView) Select(id int64) {
	v.afterQueued(func() { v.selectLoaded(id, true) })
}

func (v *HistoryView) selectLoaded(id int64, clearFilters bool) {
	v.flushAdded() // an entry just added may be the one
	idx := v.indexOf(id)
	if idx < 0 && clearFilters && v.filtered() {
		v.resetFilters()
		v.Reload()
		v.afterQueued(func() { v.selectLoaded(id, false) })
		return
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
	v.catSel.SetSelected(allCategoriesLabel)
	v.chanSel.SetSelected(allChannelsLabel)
	v.unreadOnly.SetChecked(false)
}

// selectSilently moves the list's selection to idx without opening it.
func (v *HistoryView) selectSilently(idx int) {
	v.silent = true
	v.list.Select(idx)
	v.silent = false
}
