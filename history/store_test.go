package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"echotray/notify"
)

// testStore opens a store in a fresh directory and closes it at cleanup.
// configure, if not nil, adjusts it before its background goroutine starts.
func testStore(t testing.TB, opts Options, configure func(*Store)) *Store {
	t.Helper()
	s, err := openStore(filepath.Join(t.TempDir(), "data", FileName), opts, func(s *Store) {
		// Background pruning only where a test asks for it.
		s.pruneFirst = time.Hour
		s.pruneAfterN = 1 << 30
		if configure != nil {
			configure(s)
		}
	})
	if err != nil {
		t.Fatalf("openStore: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

var testBase = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// mustAdd stores e and fails the test on error or a duplicate.
func mustAdd(t testing.TB, s *Store, e notify.Entry) notify.Entry {
	t.Helper()
	ok, err := s.Add(context.Background(), &e)
	if err != nil {
		t.Fatalf("Add(%q): %v", e.Title, err)
	}
	if !ok {
		t.Fatalf("Add(%q): not inserted", e.Title)
	}
	return e
}

// seq makes entry i of a test history: a minute apart, types, channels and
// events cycling.
func seq(i int) notify.Entry {
	return notify.Entry{
		Time:    testBase.Add(time.Duration(i) * time.Minute),
		Channel: []string{"tenant.1", "private-user.5", "tenant.2"}[i%3],
		Event:   []string{"PaymentReceived", "UserCreated", "RouterOffline", "VoucherSold"}[i%4],
		Type:    notify.Types[i%4],
		Title:   fmt.Sprintf("entry %d", i),
		Message: fmt.Sprintf("message number %d", i),
		Data:    json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
	}
}

func ids(es []notify.Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func TestStoreAddGetRoundTrip(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	want := notify.Entry{
		Time:    time.Date(2025, 1, 2, 3, 4, 5, 678901234, time.FixedZone("EAT", 3*3600)),
		Channel: "tenant.7",
		Event:   "PaymentReceived",
		Type:    notify.TypeSuccess,
		Title:   "Payment received",
		Message: "KES 1,500 from 0712 345678\nsecond line ✓",
		Data:    json.RawMessage(`{"amount":1500,"phone":"0712345678","nested":{"a":[1,2]}}`),
		Read:    true,
		Key:     "pay-1",
	}
	got := mustAdd(t, s, want)
	if got.ID <= 0 {
		t.Fatalf("ID = %d, want > 0", got.ID)
	}
	e, err := s.Get(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Time.Equal(want.Time) {
		t.Errorf("Time = %v, want %v", e.Time, want.Time)
	}
	if e.ID != got.ID || e.Channel != want.Channel || e.Event != want.Event || e.Type != want.Type ||
		e.Title != want.Title || e.Message != want.Message || !bytes.Equal(e.Data, want.Data) ||
		e.Read != want.Read || e.Key != want.Key {
		t.Errorf("Get = %+v, want %+v", e, want)
	}

	// Zero time and type get defaults; no payload reads back as nil.
	before := time.Now()
	bare := mustAdd(t, s, notify.Entry{Title: "bare"})
	e, err = s.Get(ctx, bare.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != notify.TypeInfo || e.Data != nil || e.Time.Before(before.Add(-time.Second)) || e.Time.After(time.Now()) {
		t.Errorf("bare entry = %+v", e)
	}
	if bare.ID <= got.ID {
		t.Errorf("IDs not increasing: %d then %d", got.ID, bare.ID)
	}

	// A payload that is not JSON is kept byte for byte.
	odd := mustAdd(t, s, notify.Entry{Title: "odd", Data: json.RawMessage("not json \x00\xff")})
	e, err = s.Get(ctx, odd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.Data, odd.Data) {
		t.Errorf("Data = %q, want %q", e.Data, odd.Data)
	}

	if _, err := s.Get(ctx, 9999); !errors.Is(err, ErrEntryNotFound) {
		t.Errorf("Get(9999) error = %v, want ErrEntryNotFound", err)
	}
	if _, err := s.Add(ctx, nil); err == nil {
		t.Error("Add(nil) succeeded")
	}
}

func TestStoreDuplicateKey(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	first := mustAdd(t, s, notify.Entry{Title: "first", Key: "k1"})
	dup := notify.Entry{Title: "again", Key: "k1"}
	ok, err := s.Add(ctx, &dup)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Error("duplicate key inserted")
	}
	if dup.ID != first.ID {
		t.Errorf("duplicate ID = %d, want the stored entry's %d", dup.ID, first.ID)
	}
	// Empty keys never conflict.
	mustAdd(t, s, notify.Entry{Title: "a"})
	mustAdd(t, s, notify.Entry{Title: "b"})
	mustAdd(t, s, notify.Entry{Title: "c", Key: "k2"})
	if n, err := s.Count(ctx, Query{}); err != nil || n != 4 {
		t.Errorf("Count = %d, %v; want 4", n, err)
	}
	e, err := s.Get(ctx, first.ID)
	if err != nil || e.Title != "first" {
		t.Errorf("stored entry changed: %+v, %v", e, err)
	}
}

func TestStoreListPaging(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	var all []int64
	for i := range 250 {
		all = append(all, mustAdd(t, s, seq(i)).ID)
	}
	slices.Reverse(all) // newest first

	var got []int64
	var before int64
	var sizes []int
	for {
		page, err := s.List(ctx, Query{BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		sizes = append(sizes, len(page))
		got = append(got, ids(page)...)
		before = page[len(page)-1].ID
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Errorf("page sizes = %v, want [100 100 50] (default page size %d)", sizes, DefaultPageSize)
	}
	if !slices.Equal(got, all) {
		t.Errorf("paged IDs differ from all IDs newest first")
	}
	page, err := s.List(ctx, Query{Limit: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(page), all[:7]) {
		t.Errorf("Limit 7 = %v, want %v", ids(page), all[:7])
	}
	if page[0].Title != "entry 249" || !bytes.Equal(page[0].Data, []byte(`{"n":249}`)) {
		t.Errorf("newest = %+v", page[0])
	}
	everything, err := s.List(ctx, Query{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(everything) != 250 {
		t.Errorf("Limit -1 gave %d entries, want 250", len(everything))
	}
	idList, err := s.ListIDs(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idList, all) {
		t.Errorf("ListIDs differs from all IDs newest first")
	}
	if few, err := s.ListIDs(ctx, Query{Limit: 3, Channel: "tenant.1"}); err != nil || len(few) != 3 || few[0] != all[0] || few[1] != all[3] {
		t.Errorf("ListIDs(Limit 3, tenant.1) = %v, %v", few, err)
	}
	chans, err := s.Channels(ctx)
	if err != nil || !slices.Equal(chans, []string{"private-user.5", "tenant.1", "tenant.2"}) {
		t.Errorf("Channels = %v, %v", chans, err)
	}

	// Summaries: in the order asked, without payload, skipping unknown IDs.
	ask := []int64{all[5], 123456, all[0], all[200]}
	sum, err := s.Summaries(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(sum), []int64{all[5], all[0], all[200]}) {
		t.Errorf("Summaries IDs = %v", ids(sum))
	}
	for _, e := range sum {
		if e.Data != nil || e.Title == "" || e.Time.IsZero() {
			t.Errorf("summary = %+v, want title and time but no data", e)
		}
	}
	many, err := s.Summaries(ctx, all) // more than one chunk
	if err != nil || len(many) != 250 {
		t.Errorf("Summaries(all) = %d entries, %v", len(many), err)
	}
}

func TestStoreFilters(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	var entries []notify.Entry
	for i := range 48 {
		entries = append(entries, mustAdd(t, s, seq(i)))
	}
	if err := s.MarkRead(ctx, entries[0].ID, entries[1].ID, entries[2].ID); err != nil {
		t.Fatal(err)
	}
	entries[0].Read, entries[1].Read, entries[2].Read = true, true, true

	tests := []struct {
		name string
		q    Query
		keep func(notify.Entry) bool
	}{
		{"all", Query{}, func(notify.Entry) bool { return true }},
		{"one type", Query{Types: []notify.Type{notify.TypeError}}, func(e notify.Entry) bool { return e.Type == notify.TypeError }},
		{"two types", Query{Types: []notify.Type{notify.TypeWarning, notify.TypeSuccess}}, func(e notify.Entry) bool {
			return e.Type == notify.TypeWarning || e.Type == notify.TypeSuccess
		}},
		{"channel", Query{Channel: "private-user.5"}, func(e notify.Entry) bool { return e.Channel == "private-user.5" }},
		{"event", Query{Event: "RouterOffline"}, func(e notify.Entry) bool { return e.Event == "RouterOffline" }},
		{"since", Query{Since: testBase.Add(40 * time.Minute)}, func(e notify.Entry) bool {
			return !e.Time.Before(testBase.Add(40 * time.Minute))
		}},
		{"until", Query{Until: testBase.Add(5 * time.Minute)}, func(e notify.Entry) bool {
			return e.Time.Before(testBase.Add(5 * time.Minute))
		}},
		{"range", Query{Since: testBase.Add(10 * time.Minute), Until: testBase.Add(20 * time.Minute)}, func(e notify.Entry) bool {
			return !e.Time.Before(testBase.Add(10*time.Minute)) && e.Time.Before(testBase.Add(20*time.Minute))
		}},
		{"unread", Query{Unread: true}, func(e notify.Entry) bool { return !e.Read }},
		{"combined", Query{Types: []notify.Type{notify.TypeSuccess}, Channel: "tenant.1", Unread: true}, func(e notify.Entry) bool {
			return e.Type == notify.TypeSuccess && e.Channel == "tenant.1" && !e.Read
		}},
		{"search and filter", Query{Search: "number 1", Types: []notify.Type{notify.TypeInfo}}, func(e notify.Entry) bool {
			// "number" and the number 1 (a number is never a prefix: not 10-19)
			return e.Type == notify.TypeInfo && e.Message == "message number 1"
		}},
		{"search a word prefix and filter", Query{Search: "number mess", Types: []notify.Type{notify.TypeInfo}}, func(e notify.Entry) bool {
			return e.Type == notify.TypeInfo
		}},
		{"nothing", Query{Channel: "nope"}, func(notify.Entry) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []int64
			for i := len(entries) - 1; i >= 0; i-- {
				if tt.keep(entries[i]) {
					want = append(want, entries[i].ID)
				}
			}
			q := tt.q
			q.Limit = -1
			got, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("List = %v, want %v", ids(got), want)
			}
			n, err := s.Count(ctx, tt.q)
			if err != nil || n != len(want) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(want))
			}
			// Paging by three gives the same result.
			var paged []int64
			q.Limit, q.BeforeID = 3, 0
			for {
				page, err := s.List(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				paged = append(paged, ids(page)...)
				q.BeforeID = page[len(page)-1].ID
			}
			if !slices.Equal(paged, want) {
				t.Errorf("paged = %v, want %v", paged, want)
			}
		})
	}
}

func TestStoreSearch(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	add := func(title, msg string) int64 { return mustAdd(t, s, notify.Entry{Title: title, Message: msg}).ID }
	pay := add("Payment received", "KES 1,500 from Jane Wanjiru for voucher INV-2024")
	user := add("New user", "Jane Doe joined tenant Acme")
	router := add("Router offline", "Router MikroTik-07 stopped answering")
	cafe := add("Café Zürich", "Résumé uploaded")
	pct := add("Discount", "50% off today_only")
	quote := add(`He said "hi"`, `AND( NEAR(x) *star* 'single'`)

	tests := []struct {
		search string
		want   []int64
	}{
		{"payment", []int64{pay}},
		{"PAYMENT", []int64{pay}},
		{"pay", []int64{pay}},                                 // prefix on the last word
		{"jane", []int64{user, pay}},                          // newest first
		{"jane wan", []int64{pay}},                            // AND, prefix on the last
		{"wanjiru jane", []int64{pay}},                        // any order
		{"inv-2024", []int64{pay}},                            // punctuation inside a word
		{"INV 2024", []int64{pay}},                            //
		{"mikrotik-0", []int64{router}},                       // prefix inside a phrase
		{"cafe", []int64{cafe}},                               // diacritics folded
		{"zurich resume", []int64{cafe}},                      //
		{"résumé", []int64{cafe}},                             //
		{"offline", []int64{router}},                          // title
		{"answering", []int64{router}},                        // message
		{"hi", []int64{quote}},                                //
		{`"hi"`, []int64{quote}},                              // quotes are text
		{"AND(", []int64{quote}},                              // operators are text
		{"near", []int64{quote}},                              //
		{"*star*", []int64{quote}},                            //
		{"50%", []int64{pct}},                                 // a number: not "500" of "1,500"
		{"%", []int64{pct}},                                   // no word: substring match
		{"_", []int64{pct}},                                   // literal, not a wildcard
		{`"`, []int64{quote}},                                 // a lone quote: substring match
		{"*", []int64{quote}},                                 //
		{"'", []int64{quote}},                                 //
		{"--", nil},                                           //
		{"missing", nil},                                      //
		{"payment missing", nil},                              //
		{"   ", []int64{quote, pct, cafe, router, user, pay}}, // blank = no search
	}
	for _, tt := range tests {
		got, err := s.List(ctx, Query{Search: tt.search})
		if err != nil {
			t.Errorf("Search %q: %v", tt.search, err)
			continue
		}
		if !slices.Equal(ids(got), tt.want) {
			t.Errorf("Search %q = %v, want %v", tt.search, ids(got), tt.want)
		}
		n, err := s.Count(ctx, Query{Search: tt.search})
		if err != nil || n != len(tt.want) {
			t.Errorf("Count(Search %q) = %d, %v; want %d", tt.search, n, err, len(tt.want))
		}
		// ListIDs reads the full-text index alone: same answer.
		idList, err := s.ListIDs(ctx, Query{Search: tt.search})
		if err != nil || !slices.Equal(idList, tt.want) {
			t.Errorf("ListIDs(Search %q) = %v, %v; want %v", tt.search, idList, err, tt.want)
		}
		if len(tt.want) > 1 {
			older, err := s.ListIDs(ctx, Query{Search: tt.search, BeforeID: tt.want[0]})
			if err != nil || !slices.Equal(older, tt.want[1:]) {
				t.Errorf("ListIDs(Search %q, before %d) = %v, %v; want %v", tt.search, tt.want[0], older, err, tt.want[1:])
			}
		}
	}
}

func TestFTSSearch(t *testing.T) {
	const text = "{title message vals} : "
	tests := []struct{ in, want string }{
		{"pay", text + `"pay"*`},
		{"jane doe", text + `"jane" AND ` + text + `"doe"*`},
		{"INV-2024", text + `"INV 2024"*`},
		{`say "hi"`, text + `"say" AND ` + text + `"hi"*`},
		{`AND( OR NOT`, text + `"AND" AND ` + text + `"OR" AND ` + text + `"NOT"*`},
		{"a*b", text + `"a b"*`},
		{"日本語 テスト", text + `"日本語" AND ` + text + `"テスト"*`},
		{"1500", `norm : "1500"`},
		{"1,500.00", `norm : "1500"`},
		{"KES 1,500", text + `"KES" AND norm : "1500"`},
		{"1500 kes", `norm : "1500" AND ` + text + `"kes"*`},
		{"1,500.50", `norm : "1500d5"`},
		{"50%", `norm : "50"`},
		{"0712 345 678", `norm : "p254712345678"`},
		{"(0712) 345-678", `norm : "p254712345678"`},
		{"+254 712 345 678", `norm : "p254712345678"`},
		{"254712345678", `norm : "p254712345678"`},
		{"0712-345-678", `norm : "p254712345678"`},
		{"2025-03-14", text + `"2025 03 14"*`},
		{"1500 0712345678", `norm : "1500" AND norm : "p254712345678"`},
		{`" * ( )`, ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := ftsSearch(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("ftsSearch(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

// FuzzStoreSearch checks that no search text makes a query fail.
func FuzzStoreSearch(f *testing.F) {
	for _, seed := range []string{`"`, `*`, `AND(`, `NEAR(a b, 2)`, `title:x`, `^a`, `a OR`, `'`, `\`, `%_`,
		"\x00", "\xff\xfe", `""""`, `a"b"c`, "-x", "+", "{a b}", "col:", strings.Repeat("ab ", 500)} {
		f.Add(seed)
	}
	s := testStore(f, Options{}, nil)
	mustAdd(f, s, notify.Entry{Title: `odd "text" AND( *`, Message: "50% \\ _x_"})
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := s.List(context.Background(), Query{Search: text, Limit: 5}); err != nil {
			t.Errorf("List(Search %q): %v", text, err)
		}
		if _, err := s.Count(context.Background(), Query{Search: text}); err != nil {
			t.Errorf("Count(Search %q): %v", text, err)
		}
	})
}

func TestStoreReadFlags(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	var all []int64
	for i := range 10 {
		all = append(all, mustAdd(t, s, seq(i)).ID)
	}
	mustAdd(t, s, notify.Entry{Title: "already read", Read: true})
	unread := func() int {
		t.Helper()
		n, err := s.UnreadCount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := unread(); n != 10 {
		t.Fatalf("UnreadCount = %d, want 10", n)
	}
	if err := s.MarkRead(ctx, all[3], all[4], 424242); err != nil {
		t.Fatal(err)
	}
	if n := unread(); n != 8 {
		t.Errorf("after MarkRead of 2: UnreadCount = %d, want 8", n)
	}
	if e, _ := s.Get(ctx, all[3]); !e.Read {
		t.Error("entry not marked read")
	}
	if e, _ := s.Get(ctx, all[5]); e.Read {
		t.Error("other entry marked read")
	}
	if err := s.MarkRead(ctx); err != nil {
		t.Errorf("MarkRead() with no IDs: %v", err)
	}
	if err := s.MarkAllRead(ctx); err != nil {
		t.Fatal(err)
	}
	if n := unread(); n != 0 {
		t.Errorf("after MarkAllRead: UnreadCount = %d", n)
	}
	// Marking read does not disturb search.
	if got, err := s.List(ctx, Query{Search: "entry 7"}); err != nil || len(got) != 1 {
		t.Errorf("search after MarkAllRead = %d entries, %v", len(got), err)
	}
}

func TestStoreDeleteAndClear(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	var last int64
	for i := range 20 {
		last = mustAdd(t, s, seq(i)).ID
	}
	victim, err := s.List(ctx, Query{Search: "entry 13"})
	if err != nil || len(victim) != 1 {
		t.Fatalf("find entry 13: %v, %v", victim, err)
	}
	if err := s.Delete(ctx, victim[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, victim[0].ID); !errors.Is(err, ErrEntryNotFound) {
		t.Errorf("Get deleted = %v, want ErrEntryNotFound", err)
	}
	if got, _ := s.List(ctx, Query{Search: "entry 13"}); len(got) != 0 {
		t.Errorf("search still finds the deleted entry")
	}
	if err := s.Delete(ctx, victim[0].ID); err != nil {
		t.Errorf("deleting again: %v", err)
	}
	if n, _ := s.Count(ctx, Query{}); n != 19 {
		t.Errorf("Count after delete = %d", n)
	}
	checkFTS(t, s)

	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	var vacuum, free int
	if err := s.w.QueryRow("PRAGMA auto_vacuum").Scan(&vacuum); err != nil || vacuum != 2 {
		t.Errorf("auto_vacuum = %d, %v; want 2 (incremental)", vacuum, err)
	}
	if err := s.w.QueryRow("PRAGMA freelist_count").Scan(&free); err != nil || free != 0 {
		t.Errorf("free pages after Clear = %d, %v; want 0 (given back)", free, err)
	}
	if n, _ := s.Count(ctx, Query{}); n != 0 {
		t.Errorf("Count after Clear = %d", n)
	}
	if got, _ := s.List(ctx, Query{Search: "entry"}); len(got) != 0 {
		t.Errorf("search after Clear found %d", len(got))
	}
	checkFTS(t, s)
	// The store works as before: IDs keep growing, search and delete
	// (whose trigger Clear recreated) keep the index right.
	e := mustAdd(t, s, notify.Entry{Title: "after clear", Message: "fresh"})
	if e.ID <= last {
		t.Errorf("ID after Clear = %d, want > %d", e.ID, last)
	}
	f := mustAdd(t, s, notify.Entry{Title: "second", Message: "fresh too"})
	if err := s.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.List(ctx, Query{Search: "fresh"}); !slices.Equal(ids(got), []int64{e.ID}) {
		t.Errorf("search after Clear = %v, want [%d]", ids(got), e.ID)
	}
	checkFTS(t, s)
}

// checkFTS runs FTS5's integrity check, which compares the index with the
// entries table.
func checkFTS(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.w.Exec("INSERT INTO entries_fts(entries_fts, rank) VALUES ('integrity-check', 1)"); err != nil {
		t.Errorf("FTS index out of step with entries: %v", err)
	}
}

func TestStorePrune(t *testing.T) {
	ctx := context.Background()
	t.Run("max entries", func(t *testing.T) {
		s := testStore(t, Options{MaxEntries: 30, MaxAge: -1}, nil)
		var all []int64
		for i := range 1234 {
			all = append(all, mustAdd(t, s, seq(i)).ID)
		}
		n, err := s.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1234-30 {
			t.Errorf("Prune deleted %d, want %d", n, 1234-30)
		}
		got, err := s.ListIDs(ctx, Query{})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(all[len(all)-30:])
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Errorf("kept %v, want the 30 newest %v", got, want)
		}
		if n, err := s.Prune(ctx); n != 0 || err != nil {
			t.Errorf("second Prune = %d, %v", n, err)
		}
		checkFTS(t, s)
	})
	t.Run("max age", func(t *testing.T) {
		now := testBase.Add(100 * time.Minute)
		s := testStore(t, Options{MaxEntries: -1, MaxAge: 30 * time.Minute}, func(s *Store) {
			s.now = func() time.Time { return now }
		})
		for i := range 100 {
			mustAdd(t, s, seq(i)) // minutes 0..99
		}
		n, err := s.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 70 {
			t.Errorf("Prune deleted %d, want 70 (minutes 0-69)", n)
		}
		kept, err := s.List(ctx, Query{Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) != 30 || kept[len(kept)-1].Title != "entry 70" || kept[0].Title != "entry 99" {
			t.Errorf("kept %d entries, oldest %q; want 30, entry 70 to entry 99", len(kept), kept[len(kept)-1].Title)
		}
	})
	t.Run("both limits", func(t *testing.T) {
		now := testBase.Add(100 * time.Minute)
		s := testStore(t, Options{MaxEntries: 10, MaxAge: 50 * time.Minute}, func(s *Store) {
			s.now = func() time.Time { return now }
		})
		for i := range 100 {
			mustAdd(t, s, seq(i))
		}
		if _, err := s.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Count(ctx, Query{}); c != 10 {
			t.Errorf("kept %d, want 10", c)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		s := testStore(t, Options{}, nil)
		if s.maxEntries != DefaultMaxEntries || s.maxAge != DefaultMaxAge {
			t.Errorf("defaults = %d, %v", s.maxEntries, s.maxAge)
		}
	})
	t.Run("background after inserts", func(t *testing.T) {
		pruned := make(chan int, 100)
		s := testStore(t, Options{MaxEntries: 50, MaxAge: -1}, func(s *Store) {
			s.pruneFirst = time.Hour // only inserts trigger it here
			s.pruneAfterN = 100
			s.afterPrune = func(n int, err error) {
				if err != nil {
					t.Errorf("background prune: %v", err)
				}
				pruned <- n
			}
		})
		// 99 inserts within the minute: no prune yet.
		for i := range 99 {
			mustAdd(t, s, seq(i))
		}
		select {
		case n := <-pruned:
			t.Fatalf("pruned %d before the 100th insert", n)
		default:
		}
		mustAdd(t, s, seq(99))
		select {
		case n := <-pruned:
			if n != 50 {
				t.Errorf("background prune deleted %d, want 50", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no background prune after 100 inserts")
		}
		if c, _ := s.Count(ctx, Query{}); c != 50 {
			t.Errorf("kept %d, want 50", c)
		}
	})
}

func TestStoreAddDuringPruneIsNotBlocked(t *testing.T) {
	// A prune of many rows runs in small transactions: inserts made while
	// it runs all succeed, and none of the new entries is pruned.
	s := testStore(t, Options{MaxEntries: 100, MaxAge: -1}, func(s *Store) { s.pruneFirst = time.Hour })
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := tx.Prepare("INSERT INTO entries (time, title, message) VALUES (?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20_000 {
		if _, err := stmt.Exec(testBase.UnixNano(), fmt.Sprintf("bulk %d", i), "bulk message"); err != nil {
			t.Fatal(err)
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Prune(ctx)
		done <- err
	}()
	var added []int64
	for i := range 50 {
		added = append(added, mustAdd(t, s, notify.Entry{Title: fmt.Sprintf("live %d", i)}).ID)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, id := range added {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("live entry %d: %v", id, err)
		}
	}
	checkFTS(t, s)
}

func TestStoreConcurrentUse(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	const writers, each = 4, 50
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := notify.Entry{Title: fmt.Sprintf("w%d-%d", w, i), Message: "concurrent"}
				if _, err := s.Add(ctx, &e); err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() {
			for range each {
				if _, err := s.List(ctx, Query{Search: "concurrent", Limit: 10}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, _ := s.Count(ctx, Query{}); n != writers*each {
		t.Errorf("Count = %d, want %d", n, writers*each)
	}
}

func TestStorePathWithOddCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "we?ird #dir %20", FileName)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, notify.Entry{Title: "x"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

func TestStoreReopenKeepsEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustAdd(t, s, seq(i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Recovered() != "" {
		t.Errorf("Recovered = %q for a healthy file", s.Recovered())
	}
	if got, _ := s.List(context.Background(), Query{Search: "entry"}); len(got) != 5 {
		t.Errorf("after reopen found %d, want 5", len(got))
	}
}

// recordingHandler keeps log records for assertions.
type recordingHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) warnings() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		if r.Level >= slog.LevelWarn {
			msg := r.Message
			r.Attrs(func(a slog.Attr) bool {
				msg += " " + a.Key + "=" + a.Value.String()
				return true
			})
			out = append(out, msg)
		}
	}
	return out
}

func TestStoreRecoversUnusableFile(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		suffix string
	}{
		{"not a database", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("this is not a SQLite database, just some text that is long enough to fill a header......"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, ".corrupt-"},
		{"damaged pages", func(t *testing.T, path string) {
			writeHistory(t, path, 3000)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			junk := bytes.Repeat([]byte{0xA5, 0x00, 0xFF, 0x13}, 4096)
			// Overwrite pages 2.. in the middle of the file, keeping the header.
			for off := int64(4096); off < fi.Size(); off += 5 * 4096 {
				if _, err := f.WriteAt(junk, off); err != nil {
					t.Fatal(err)
				}
			}
		}, ".corrupt-"},
		{"truncated", func(t *testing.T, path string) {
			writeHistory(t, path, 3000)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/3); err != nil {
				t.Fatal(err)
			}
		}, ".corrupt-"},
		{"newer schema", func(t *testing.T, path string) {
			writeHistory(t, path, 3)
			s, err := openStore(path, Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1)); err != nil {
				t.Fatal(err)
			}
			s.Close()
		}, ".newer-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			tt.damage(t, path)
			damaged, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			h := &recordingHandler{}
			s, err := Open(path, Options{Logger: slog.New(h)})
			if err != nil {
				t.Fatalf("Open on a %s file: %v", tt.name, err)
			}
			defer s.Close()
			moved := s.Recovered()
			if !strings.HasPrefix(moved, path+tt.suffix) {
				t.Fatalf("Recovered = %q, want %s<time>", moved, path+tt.suffix)
			}
			kept, err := os.ReadFile(moved)
			if err != nil {
				t.Fatalf("moved-aside file: %v", err)
			}
			if !bytes.Equal(kept, damaged) {
				for i := range min(len(kept), len(damaged)) {
					if kept[i] != damaged[i] {
						t.Errorf("first difference at byte %d", i)
						break
					}
				}
				t.Errorf("moved-aside file (%d bytes) differs from the damaged file (%d bytes)", len(kept), len(damaged))
			}
			warn := h.warnings()
			if len(warn) != 1 || !strings.Contains(warn[0], "moved aside") || !strings.Contains(warn[0], moved) {
				t.Errorf("warnings = %q, want one naming %s", warn, moved)
			}
			// A fresh, working history.
			if n, err := s.Count(context.Background(), Query{}); err != nil || n != 0 {
				t.Errorf("fresh history Count = %d, %v", n, err)
			}
			e := mustAdd(t, s, notify.Entry{Title: "after recovery"})
			if got, err := s.List(context.Background(), Query{Search: "recovery"}); err != nil || len(got) != 1 || got[0].ID != e.ID {
				t.Errorf("search in fresh history = %v, %v", got, err)
			}
			if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
				t.Errorf("fresh file: %v, %v", fi, err)
			}
		})
	}
}

// writeHistory creates a history with n entries at path and closes it.
func writeHistory(t *testing.T, path string, n int) {
	t.Helper()
	s, err := openStore(path, Options{MaxEntries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e := seq(i)
		if _, err := tx.Exec("INSERT INTO entries (time, title, message, data) VALUES (?, ?, ?, ?)",
			e.Time.UnixNano(), e.Title, e.Message+" "+strings.Repeat("padding ", 20), []byte(e.Data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStoreDiskFull(t *testing.T) {
	s := testStore(t, Options{MaxEntries: -1, MaxAge: -1}, func(s *Store) { s.pruneFirst = time.Hour })
	ctx := context.Background()
	// Cap the database at its current size plus a few pages: SQLite then
	// fails writes with SQLITE_FULL, exactly as on a full disk.
	var pages int
	if err := s.w.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages+8)); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 3000)
	var stored []int64
	var fullErr error
	for i := range 1000 {
		e := notify.Entry{Title: fmt.Sprintf("fill %d", i), Message: big}
		if _, err := s.Add(ctx, &e); err != nil {
			fullErr = err
			break
		}
		stored = append(stored, e.ID)
	}
	if !errors.Is(fullErr, ErrDiskFull) {
		t.Fatalf("filling the database: error %v, want ErrDiskFull", fullErr)
	}
	if !strings.Contains(fullErr.Error(), "add history entry") {
		t.Errorf("error %q lacks context", fullErr)
	}
	// Everything stored before is intact and readable.
	for _, id := range stored {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("entry %d after disk full: %v", id, err)
		}
	}
	// Room again: writes succeed.
	if _, err := s.w.Exec("PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, notify.Entry{Title: "after the disk was freed", Message: big})
	checkFTS(t, s)
}

func TestDefaultPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DataDirEnv, dir)
	got, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(dir, FileName) {
		t.Errorf("with %s: %q", DataDirEnv, got)
	}

	t.Setenv(DataDirEnv, "")
	got, err = DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(got) || filepath.Base(got) != FileName {
		t.Errorf("default path %q is not an absolute path to %s", got, FileName)
	}
	var want string
	switch runtime.GOOS {
	case "windows":
		want = filepath.Join("EchoTray", FileName)
	case "darwin":
		want = filepath.Join("Library", "Application Support", "EchoTray", FileName)
	default:
		want = filepath.Join(".local", "share", "echotray", FileName)
		xdg := filepath.Join(t.TempDir(), "xdg")
		t.Setenv("XDG_DATA_HOME", xdg)
		if got, _ := DefaultPath(); got != filepath.Join(xdg, "echotray", FileName) {
			t.Errorf("with XDG_DATA_HOME: %q", got)
		}
		t.Setenv("XDG_DATA_HOME", "relative/ignored")
		home := t.TempDir()
		t.Setenv("HOME", home)
		got, _ = DefaultPath()
		if got != filepath.Join(home, want) {
			t.Errorf("with a relative XDG_DATA_HOME: %q, want %q", got, filepath.Join(home, want))
		}
	}
	if !strings.HasSuffix(got, want) {
		t.Errorf("default path %q does not end in %q", got, want)
	}
}

func TestStoreAddBatch(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	old := mustAdd(t, s, notify.Entry{Title: "stored before", Key: "k-old"})
	batch := []*notify.Entry{
		{Title: "one", Message: "batch alpha", Key: "k1"},
		{Title: "two", Message: "batch beta"},
		{Title: "dup of one", Key: "k1"},
		{Title: "dup of old", Key: "k-old"},
		{Title: "three", Type: notify.TypeError, Data: json.RawMessage(`{"x":1}`)},
	}
	n, err := s.AddBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("inserted %d, want 3", n)
	}
	if batch[2].ID != batch[0].ID || batch[3].ID != old.ID {
		t.Errorf("duplicate IDs = %d, %d; want %d, %d", batch[2].ID, batch[3].ID, batch[0].ID, old.ID)
	}
	if !(old.ID < batch[0].ID && batch[0].ID < batch[1].ID && batch[1].ID < batch[4].ID) {
		t.Errorf("IDs not in batch order: %d %d %d %d", old.ID, batch[0].ID, batch[1].ID, batch[4].ID)
	}
	if got, _ := s.List(ctx, Query{Search: "batch"}); len(got) != 2 {
		t.Errorf("search finds %d batch entries, want 2", len(got))
	}
	if e, err := s.Get(ctx, batch[4].ID); err != nil || e.Type != notify.TypeError || string(e.Data) != `{"x":1}` || e.Time.IsZero() {
		t.Errorf("batch entry = %+v, %v", e, err)
	}
	// All or nothing.
	if _, err := s.AddBatch(ctx, []*notify.Entry{{Title: "not kept"}, nil}); err == nil {
		t.Error("AddBatch with a nil entry succeeded")
	}
	if got, _ := s.List(ctx, Query{Search: "kept"}); len(got) != 0 {
		t.Errorf("failed batch left %d entries", len(got))
	}
	if n, err := s.AddBatch(ctx, nil); n != 0 || err != nil {
		t.Errorf("empty batch = %d, %v", n, err)
	}
	checkFTS(t, s)
}
