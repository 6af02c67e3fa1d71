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
		v.changed([]int64{id})
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
		// The IDs go to the core, which marks them read on the server too.
		read, err := v.store.ListIDs(ctx, history.Query{Unread: true})
		if err == nil {
			err = v.store.MarkAllRead(ctx)
		}
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
			v.changed(read)
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
	v.showDialog(d, nil)
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
			v.updateSources()
			v.reload(true)
			v.changed(nil)
		}
	})
}

// undoDelete is how long a deleted entry can be brought back.
const undoDelete = 10 * time.Second

// deleteSelected takes the selected entry out of the list and offers Undo
// for undoDelete; only then is it deleted from the store. Nothing else is
// selected or opened (and so marked read) in its place.
func (v *HistoryView) deleteSelected() {
	id := v.selected
	if id == 0 {
		return
	}
	v.commitDelete() // an earlier one is final now
	idx := v.indexOf(id)
	e, known := v.rows[id]
	if !known {
		e = notify.Entry{ID: id, Read: true}
	}
	v.selected = 0
	v.silent = true
	v.list.UnselectAll()
	v.silent = false
	v.showDetail(nil)
	v.detailEmpty.SetText("Notification deleted.")
	if idx >= 0 {
		v.ids = slices.Delete(v.ids, idx, idx+1)
		v.total = max(0, v.total-1)
		if !e.Read {
			v.setUnread(max(0, v.unread-1))
		}
	}
	v.deleting = &pendingDelete{entry: e, index: idx}
	gen := v.deleteGen + 1
	v.deleteGen = gen
	v.deleting.stop = v.afterFunc(undoDelete, func() {
		v.runOnUI(func() {
			if !v.stopped && v.deleteGen == gen {
				v.commitDelete()
			}
		})
	})
	v.undoText.SetText("Deleted “" + cellText(orDash(e.Title)) + "”.")
	v.undoBox.Show()
	v.updateStatus()
	v.list.Refresh()
	if v.win != nil && idx >= 0 && len(v.ids) > 0 {
		v.win.Canvas().Focus(v.list) // arrows go on from here
	}
}

// pendingDelete is an entry taken out of the list, not yet out of the
// store.
type pendingDelete struct {
	entry notify.Entry
	index int // where it was in the list; -1 if not shown
	stop  func() bool
}

// Undo brings back the entry deleted last, within undoDelete.
func (v *HistoryView) Undo() {
	d := v.takeDeleting()
	if d == nil {
		return
	}
	if d.index >= 0 {
		pos, found := slices.BinarySearchFunc(v.ids, d.entry.ID, cmpNewestFirst)
		if !found {
			v.ids = slices.Insert(v.ids, pos, d.entry.ID)
		}
		v.total++
		if !d.entry.Read {
			v.setUnread(v.unread + 1)
		}
		v.updateStatus()
		v.list.Refresh()
		v.list.Select(pos)
		v.list.ScrollTo(pos)
	}
	v.detailEmpty.SetText("Select a notification to see its details.")
}

// takeDeleting ends the Undo offer: it stops its timer, hides the Undo
// bar and returns the entry waiting for Undo (nil if none).
func (v *HistoryView) takeDeleting() *pendingDelete {
	d := v.deleting
	if d == nil {
		return nil
	}
	v.deleting = nil
	v.deleteGen++
	d.stop()
	v.undoBox.Hide()
	return d
}

// commitDelete deletes the entry waiting for Undo from the store.
func (v *HistoryView) commitDelete() {
	d := v.takeDeleting()
	if d == nil {
		return
	}
	id := d.entry.ID
	v.enqueue(0, func(ctx context.Context) func() {
		err := v.store.Delete(ctx, id)
		return func() { v.deleted(id, err) }
	})
}

// deleted finishes a deletion in the store.
func (v *HistoryView) deleted(id int64, err error) {
	if err != nil {
		v.showError("Could not delete the notification", err)
		v.Reload() // it is still there: show it again
		return
	}
	v.changed(nil)
	if idx := v.indexOf(id); idx >= 0 {
		// A load while Undo was offered read it again.
		v.ids = slices.Delete(v.ids, idx, idx+1)
		v.total = max(0, v.total-1)
		v.updateStatus()
		v.list.Refresh()
	}
	delete(v.rows, id)
}

// changed tells OnChanged that the view changed the history; read lists
// the entries it just marked read.
func (v *HistoryView) changed(read []int64) {
	if f := v.OnChanged; f != nil {
		f(read)
	}
}

// SetAccount shows the history of account (server + user id, from the
// core's state): another user signing in on this computer never sees the
// previous user's entries. An entry waiting for Undo is deleted first, in
// its own account.
func (v *HistoryView) SetAccount(account string) {
	if v.account == account && v.accountSet {
		return
	}
	v.account, v.accountSet = account, true
	v.commitDelete()
	v.enqueue(0, func(ctx context.Context) func() {
		err := v.store.SetAccountContext(ctx, account) // the account is set even on an error
		return func() {
			if err != nil {
				v.log.Warn("history window: could not record the account", "err", err)
			}
			v.selected = 0
			v.silent = true
			v.list.UnselectAll()
			v.silent = false
			v.showDetail(nil)
			v.channels = nil
			v.resetFilters()
			v.updateSources()
			v.reload(true)
		}
	})
}
