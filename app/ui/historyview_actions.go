package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
	"echotray/history"
	"echotray/notify"
)

// What the user does with entries: open, mark read, delete, clear. Each
// change runs on the store worker; its result is shown when it comes back.

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

// open selects the entry, reads it with its payload, marks it read and
// formats it for the detail pane (on the worker), then shows it.
func (v *HistoryView) open(id int64) {
	v.selected = id
	widths := v.detailColumns()
	v.enqueue(0, func(ctx context.Context) func() {
		e, err := v.store.Get(ctx, id)
		var markErr error
		marked := false
		var doc *detailDoc
		if err == nil {
			if !e.Read {
				markErr = v.store.MarkRead(ctx, id)
				marked = markErr == nil
			}
			doc = prepareDetail(e, widths)
		}
		return func() { v.opened(id, e, doc, err, marked, markErr) }
	})
}

// opened shows what open read.
func (v *HistoryView) opened(id int64, e notify.Entry, doc *detailDoc, err error, marked bool, markErr error) {
	if marked {
		e.Read = true
		v.setUnread(max(0, v.unread-1))
		v.changed()
	}
	if err == nil {
		summary := e
		summary.Data = nil
		v.cacheRow(summary)
		if idx := v.indexOf(id); idx >= 0 {
			v.list.RefreshItem(idx)
		}
	}
	v.updateStatus()
	if v.selected != id {
		return // the user moved on meanwhile
	}
	switch {
	case errors.Is(err, history.ErrEntryNotFound):
		v.selected = 0
		v.showDetail(nil)
		v.detailEmpty.SetText("That notification is no longer in the history.")
		return
	case err != nil:
		v.showError("Could not open the notification", err)
		return
	case markErr != nil:
		v.showError("Could not mark the notification read", markErr)
	}
	v.showDetail(doc)
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
	v.enqueue(0, func(ctx context.Context) func() {
		err := v.store.MarkAllRead(ctx)
		return func() {
			if err != nil {
				v.showError("Could not mark all read", err)
				return
			}
			for id, e := range v.rows {
				e.Read = true
				v.rows[id] = e
			}
			v.setUnread(0)
			v.changed()
			if v.unreadOnly.Checked {
				v.Reload()
				return
			}
			v.updateStatus()
			v.list.Refresh()
		}
	})
}

// confirmClear asks before clearing the whole history.
func (v *HistoryView) confirmClear() {
	if v.win == nil {
		return
	}
	msg := fmt.Sprintf("Delete all %s from the history? This cannot be undone.", app.Plural(v.total, "notification"))
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
	v.enqueue(0, func(ctx context.Context) func() {
		err := v.store.Clear(ctx)
		return func() {
			if err != nil {
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
			v.reload(true)
			v.changed()
		}
	})
}

// deleteSelected removes the selected entry and selects the next one.
func (v *HistoryView) deleteSelected() {
	id := v.selected
	if id == 0 {
		return
	}
	v.enqueue(0, func(ctx context.Context) func() {
		err := v.store.Delete(ctx, id)
		return func() { v.deleted(id, err) }
	})
}

// deleted updates the list after entry id was deleted from the store.
func (v *HistoryView) deleted(id int64, err error) {
	if err != nil {
		v.showError("Could not delete the notification", err)
		return
	}
	v.changed()
	idx := v.indexOf(id)
	if idx < 0 {
		return // a load since has left it out (and counted without it), or a repeat
	}
	if e, ok := v.rows[id]; ok && !e.Read {
		v.setUnread(max(0, v.unread-1))
	}
	v.total = max(0, v.total-1)
	delete(v.rows, id)
	wasSelected := v.selected == id
	if wasSelected {
		v.selected = 0
		v.silent = true
		v.list.UnselectAll()
		v.silent = false
	}
	v.ids = slices.Delete(v.ids, idx, idx+1)
	v.updateStatus()
	v.list.Refresh()
	if !wasSelected {
		return
	}
	if len(v.ids) > 0 {
		v.list.Select(min(idx, len(v.ids)-1))
	} else {
		v.showDetail(nil)
	}
}

// changed tells OnChanged that the view changed the history.
func (v *HistoryView) changed() {
	if f := v.OnChanged; f != nil {
		f()
	}
}
