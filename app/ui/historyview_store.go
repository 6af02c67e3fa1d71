package ui

import (
	"context"
	"slices"
	"sync"

	"echotray/history"
	"echotray/notify"
)

// The history view's store access. Every store call runs on the view's one
// worker goroutine, in the order it was asked for, with a context bounded
// by StoreTimeout (and cancelled by Close). Its result comes back to the
// Fyne thread through RunOnUI, in the same order.
//
// Loads of the list are numbered (HistoryView.gen). Work tied to the list
// (page loads, placing an added entry under a search) carries the number of
// the list it was asked for: the worker skips it, and the Fyne thread drops
// its result, once a newer load has started. Work on single entries (open,
// delete, mark all read, clear) always runs and applies.
//
// A load reads the newest ID first and bounds all its queries by it, so its
// result is exactly "the history up to ID n". Entries stored later come
// through Added; because Added waits behind any load already queued, it
// always meets the list that load produced and keeps only entries after n.

// storeJob is one unit of store work.
type storeJob struct {
	// gen is the list generation the job belongs to; 0 for none.
	gen uint64
	// run does the store work on the worker and returns what to do with
	// the result on the Fyne thread (nil for nothing).
	run func(ctx context.Context) (apply func())
}

// jobQueue is the worker's queue. The Fyne thread appends without ever
// blocking; the worker takes from the front.
type jobQueue struct {
	mu   sync.Mutex
	jobs []storeJob
	wake chan struct{} // capacity 1: work was queued
}

// enqueue queues store work; on the Fyne thread.
func (v *HistoryView) enqueue(gen uint64, run func(ctx context.Context) func()) {
	if v.stopped {
		return
	}
	v.inflight++
	v.busy.Add(1)
	v.queue.mu.Lock()
	v.queue.jobs = append(v.queue.jobs, storeJob{gen: gen, run: run})
	v.queue.mu.Unlock()
	select {
	case v.queue.wake <- struct{}{}:
	default:
	}
}

// work is the worker goroutine.
func (v *HistoryView) work() {
	defer close(v.done)
	for {
		job, ok := v.next()
		if !ok {
			return
		}
		var apply func()
		if job.gen == 0 || job.gen == v.gen.Load() {
			ctx, cancel := context.WithTimeout(v.ctx, v.opts.StoreTimeout)
			apply = job.run(ctx)
			cancel()
		}
		v.runOnUI(func() {
			v.inflight--
			if v.stopped || apply == nil || (job.gen != 0 && job.gen != v.gen.Load()) {
				return
			}
			apply()
		})
		v.busy.Done()
	}
}

// next waits for the next job; false once the view is closed (the jobs
// left are dropped).
func (v *HistoryView) next() (storeJob, bool) {
	q := &v.queue
	for {
		select {
		case <-v.stop:
			q.mu.Lock()
			n := len(q.jobs)
			q.jobs = nil
			q.mu.Unlock()
			v.busy.Add(-n)
			return storeJob{}, false
		default:
		}
		q.mu.Lock()
		if len(q.jobs) > 0 {
			job := q.jobs[0]
			q.jobs[0] = storeJob{}
			q.jobs = q.jobs[1:]
			if len(q.jobs) == 0 {
				q.jobs = nil
			}
			q.mu.Unlock()
			return job, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-v.stop:
		}
	}
}

// afterQueued runs f on the Fyne thread once the results of the store work
// queued so far have been applied: at once when there is none.
func (v *HistoryView) afterQueued(f func()) {
	if v.inflight == 0 {
		f()
		return
	}
	v.enqueue(0, func(context.Context) func() { return f })
}

// loadRequest is what a load reads.
type loadRequest struct {
	query    viewQuery
	filtered bool // the query filters: count the whole history separately
	channels bool // read the channel list too
	page     int  // rows of the first page to read
}

// loadResult is the history up to newest as the query sees it.
type loadResult struct {
	newest       int64
	ids          []int64
	total        int
	unread       int
	rows         []notify.Entry // the first page, without payloads
	channels     []string
	channelsRead bool
}

// loadList reads what a load shows; on the worker.
func loadList(ctx context.Context, st *history.Store, req loadRequest) (loadResult, error) {
	var r loadResult
	newest, err := st.ListIDs(ctx, history.Query{Limit: 1})
	if err != nil {
		return r, err
	}
	if len(newest) == 1 {
		r.newest = newest[0]
	}
	bound := r.newest + 1 // entries stored from now on come through Added
	if r.ids, err = listMatching(ctx, st, req.query, bound); err != nil {
		return r, err
	}
	if req.filtered {
		if r.total, err = st.Count(ctx, history.Query{BeforeID: bound}); err != nil {
			return r, err
		}
	} else {
		r.total = len(r.ids)
	}
	if r.unread, err = st.Count(ctx, history.Query{Unread: true, BeforeID: bound}); err != nil {
		return r, err
	}
	if n := min(len(r.ids), req.page); n > 0 {
		if r.rows, err = st.Summaries(ctx, r.ids[:n]); err != nil {
			return r, err
		}
	}
	if req.channels {
		if r.channels, err = st.Channels(ctx); err != nil {
			return r, err
		}
		r.channelsRead = true
	}
	return r, nil
}

// listMatching reads the IDs q selects below bound, newest first: one
// store query for each event and channel it allows, merged.
func listMatching(ctx context.Context, st *history.Store, q viewQuery, bound int64) ([]int64, error) {
	if q.none {
		return nil, nil
	}
	events, channels := q.events, q.channels
	if events == nil {
		events = []string{""}
	}
	if channels == nil {
		channels = []string{""}
	}
	var lists [][]int64
	for _, ev := range events {
		for _, ch := range channels {
			one := q.Query
			one.Event, one.Channel, one.BeforeID, one.Limit = ev, ch, bound, 0
			ids, err := st.ListIDs(ctx, one)
			if err != nil {
				return nil, err
			}
			if len(ids) > 0 {
				lists = append(lists, ids)
			}
		}
	}
	return mergeNewestFirst(lists), nil
}

// mergeNewestFirst merges lists of IDs sorted newest first into one,
// without repeats.
func mergeNewestFirst(lists [][]int64) []int64 {
	switch len(lists) {
	case 0:
		return []int64{}
	case 1:
		return lists[0]
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]int64, 0, n)
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.SortFunc(out, func(a, b int64) int { return cmpNewestFirst(a, b) })
	return slices.Compact(out)
}

// reload starts a load of the list for the current search and filters.
func (v *HistoryView) reload(channels bool) {
	gen := v.gen.Add(1)
	clear(v.loading) // page loads of the old list are dropped
	req := loadRequest{query: v.query(), filtered: v.filtered(), channels: channels, page: v.opts.PageSize}
	v.enqueue(gen, func(ctx context.Context) func() {
		res, err := loadList(ctx, v.store, req)
		return func() { v.applyLoad(res, err) }
	})
}

// applyLoad shows a load's result, keeping the selection if it still
// matches.
func (v *HistoryView) applyLoad(res loadResult, err error) {
	v.loaded = true
	clear(v.rows)
	if err != nil {
		v.showError("Could not read the history", err)
		v.ids = nil
	} else {
		v.clearError()
		v.ids = res.ids
		if d := v.deleting; d != nil {
			// Waiting for Undo: still stored, not shown.
			if i := v.indexOf(d.entry.ID); i >= 0 {
				v.ids = slices.Delete(v.ids, i, i+1)
				res.total = max(0, res.total-1)
			}
		}
		for _, e := range res.rows {
			v.rows[e.ID] = e
		}
		v.newest = res.newest
		clear(v.added)
		v.pending = v.pending[:0] // the load read them
		v.total = res.total
		v.setUnread(res.unread)
		if res.channelsRead {
			v.mergeChannels(res.channels)
		}
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

// mergeChannels adds channels (sorted) to the channel filter's choices.
func (v *HistoryView) mergeChannels(chans []string) {
	merged := slices.Clone(v.channels)
	for _, c := range chans {
		if i, found := slices.BinarySearch(merged, c); !found {
			merged = slices.Insert(merged, i, c)
		}
	}
	if v.channels != nil && slices.Equal(merged, v.channels) {
		return
	}
	v.channels = merged
	v.updateSources()
}

// updateSources offers the kinds of the channels in the history as the
// source filter's choices ("Tenant", "Personal", …), in a fixed order.
func (v *HistoryView) updateSources() {
	opts := []string{allChannelsLabel}
	seen := map[string]bool{}
	for _, k := range []notify.ChannelKind{notify.KindTenant, notify.KindPersonal, notify.KindNotifications, notify.KindAdmin, notify.KindOther} {
		for _, ch := range v.channels {
			if l := notify.ChannelLabel(ch); notify.KindOfChannel(ch) == k && !seen[l] {
				seen[l] = true
				opts = append(opts, l)
			}
		}
	}
	if !slices.Equal(opts, v.chanSel.Options) {
		v.chanSel.SetOptions(opts)
	}
}

// channelsOfSource lists the channels the source filter's choice stands
// for.
func (v *HistoryView) channelsOfSource(label string) []string {
	var out []string
	for _, ch := range v.channels {
		if notify.ChannelLabel(ch) == label {
			out = append(out, ch)
		}
	}
	return out
}

// row returns the summary of the entry at idx if it is loaded; if not, it
// asks for the page of rows around it, and the list is redrawn when they
// arrive.
func (v *HistoryView) row(idx int) (notify.Entry, bool) {
	id := v.ids[idx]
	if e, ok := v.rows[id]; ok {
		return e, true
	}
	v.loadPage(idx)
	return notify.Entry{}, false
}

// loadPage loads the rows around idx that are neither cached nor on their
// way.
func (v *HistoryView) loadPage(idx int) {
	if v.loading[v.ids[idx]] {
		return
	}
	start := max(0, idx-v.opts.PageSize/4)
	end := min(len(v.ids), start+v.opts.PageSize)
	var page []int64
	for _, id := range v.ids[start:end] {
		if _, cached := v.rows[id]; !cached && !v.loading[id] {
			page = append(page, id)
			v.loading[id] = true
		}
	}
	v.enqueue(v.gen.Load(), func(ctx context.Context) func() {
		got, err := v.store.Summaries(ctx, page)
		return func() { v.pageLoaded(page, got, err) }
	})
}

// pageLoaded caches the rows a page load read and redraws the list.
func (v *HistoryView) pageLoaded(page []int64, got []notify.Entry, err error) {
	for _, id := range page {
		delete(v.loading, id)
	}
	if err != nil {
		v.showError("Could not read the history", err)
		return
	}
	if len(v.rows)+len(page) > rowCacheMax {
		clear(v.rows)
	}
	for _, e := range got {
		v.rows[e.ID] = e
	}
	for _, id := range page {
		if _, ok := v.rows[id]; !ok {
			// Deleted or pruned since the IDs were read.
			v.rows[id] = notify.Entry{ID: id, Title: "(removed)", Read: true}
		}
	}
	v.list.Refresh()
}
