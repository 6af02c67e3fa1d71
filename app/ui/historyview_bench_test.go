package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"echotray/history"
	"echotray/notify"
)

// Run with:
//
//	go test -run '^$' -bench 'HistoryView' -benchmem ./app/ui/

const benchHistoryN = 100_000

// benchHistoryStore returns a store holding n entries.
func benchHistoryStore(b *testing.B, n int) *history.Store {
	b.Helper()
	st, err := history.Open(filepath.Join(b.TempDir(), history.FileName),
		history.Options{MaxEntries: -1, MaxAge: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	sites := []string{"Westlands", "Kilimani", "Rongai", "Thika Road", "Mombasa CBD"}
	start := time.Now().Add(-time.Duration(n) * time.Second)
	const chunk = 10_000
	for base := 0; base < n; base += chunk {
		batch := make([]*notify.Entry, 0, chunk)
		for i := base; i < min(n, base+chunk); i++ {
			e := &notify.Entry{
				Time:    start.Add(time.Duration(i) * time.Second),
				Channel: fmt.Sprintf("tenant.%d", 1+i%40),
				Read:    i%4 != 0,
			}
			switch i % 4 {
			case 0:
				e.Event, e.Type, e.Title = "PaymentReceived", notify.TypeSuccess, "Payment received"
				e.Message = fmt.Sprintf("KES %d from customer %d at %s", 50*(1+i%60), i, sites[i%5])
			case 1:
				e.Event, e.Type, e.Title = "VoucherSold", notify.TypeInfo, "Voucher sold"
				e.Message = fmt.Sprintf("Voucher V-%06d sold at %s", i, sites[i%5])
			case 2:
				e.Event, e.Type, e.Title = "RouterOffline", notify.TypeError, "Router offline"
				e.Message = fmt.Sprintf("Router hAP-%03d at %s stopped answering", i%1000, sites[i%5])
			default:
				e.Event, e.Type, e.Title = "SubscriptionExpiring", notify.TypeWarning, "Subscription expiring"
				e.Message = fmt.Sprintf("Plan of customer %d expires in %d minutes", i, 5+i%55)
			}
			e.Data = json.RawMessage(fmt.Sprintf(`{"n":%d,"site":%q}`, i, sites[i%5]))
			batch = append(batch, e)
		}
		if _, err := st.AddBatch(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkHistoryViewBuild100k builds the history window over 100,000
// entries and lays out its first screen (target: ≤ 1 s).
func BenchmarkHistoryViewBuild100k(b *testing.B) {
	st := benchHistoryStore(b, benchHistoryN)
	a := test.NewTempApp(b)
	var heap uint64
	for b.Loop() {
		w := test.NewWindow(nil)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		q := &uiQueue{}
		v := NewHistoryView(a, w, st, HistoryViewOptions{TimeRefresh: -1, RunOnUI: q.do})
		w.SetContent(v.Content())
		w.Resize(fyne.NewSize(1000, 700))
		waitView(v, q)
		if len(v.ids) != benchHistoryN {
			b.Fatalf("view lists %d entries", len(v.ids))
		}
		b.StopTimer()
		runtime.GC() // what the open window keeps, not what building it churned
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		b.StartTimer()
		v.Close()
		v.Wait()
		w.Close()
	}
	b.ReportMetric(float64(heap)/(1024*1024), "retained-heap-MiB")
}

// BenchmarkHistoryViewSearch100k runs a search in the window over 100,000
// entries: all matching IDs plus the first screen of rows.
func BenchmarkHistoryViewSearch100k(b *testing.B) {
	st := benchHistoryStore(b, benchHistoryN)
	a := test.NewTempApp(b)
	w := test.NewWindow(nil)
	defer w.Close()
	q := &uiQueue{}
	v := NewHistoryView(a, w, st, HistoryViewOptions{TimeRefresh: -1, RunOnUI: q.do})
	defer func() {
		v.Close()
		v.Wait()
	}()
	// A debounce timer would fire on its own goroutine; searches run
	// directly here.
	v.afterFunc = func(time.Duration, func()) func() bool { return func() bool { return true } }
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(1000, 700))
	waitView(v, q)
	for _, text := range []string{"westlands", "router", "hAP-042"} {
		b.Run(text, func(b *testing.B) {
			for b.Loop() {
				v.search.SetText(text)
				v.applyFilters()
				waitView(v, q)
				v.search.SetText("")
				v.applyFilters()
				waitView(v, q)
			}
		})
	}
}

// BenchmarkHistoryViewAdded100k measures the live update of the window over
// 100,000 entries, scrolled down with a selection: one event drawn alone,
// and a burst of 50 drawn once.
func BenchmarkHistoryViewAdded100k(b *testing.B) {
	st := benchHistoryStore(b, benchHistoryN)
	a := test.NewTempApp(b)
	w := test.NewWindow(nil)
	defer w.Close()
	q := &uiQueue{}
	v := NewHistoryView(a, w, st, HistoryViewOptions{TimeRefresh: -1, RunOnUI: q.do})
	defer func() {
		v.Close()
		v.Wait()
	}()
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(1000, 700))
	waitView(v, q)
	v.list.ScrollToOffset(480 * v.rowHeight)
	waitView(v, q)
	v.list.Select(500)
	waitView(v, q)
	ctx := context.Background()
	add := func() notify.Entry {
		e := notify.Entry{Channel: "tenant.1", Event: "PaymentReceived", Type: notify.TypeSuccess,
			Title: "Payment received", Message: "KES 100 live"}
		if _, err := st.Add(ctx, &e); err != nil {
			b.Fatal(err)
		}
		return e
	}
	b.Run("one", func(b *testing.B) {
		v.schedule = func(flush func()) { flush() }
		for b.Loop() {
			b.StopTimer()
			e := add()
			b.StartTimer()
			v.Added(e)
		}
	})
	b.Run("burst of 50", func(b *testing.B) {
		var flush func()
		v.schedule = func(f func()) { flush = f }
		for b.Loop() {
			b.StopTimer()
			batch := make([]notify.Entry, 50)
			for i := range batch {
				batch[i] = add()
			}
			b.StartTimer()
			for _, e := range batch {
				v.Added(e)
			}
			flush()
		}
	})
}
