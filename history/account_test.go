package history

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"echotray/notify"
)

const (
	acctA = "https://billing.example.com#5"
	acctB = "https://billing.example.com#7"
)

func TestAccountsAreSeparate(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	s.SetAccount(acctA)
	if s.Account() != acctA {
		t.Fatalf("Account = %q", s.Account())
	}
	a1 := mustAdd(t, s, notify.Entry{Channel: "tenant.1", Title: "Payment Completed", Message: "Payment of KES 1,500.00 from 254712345678", Key: "k1", ExternalID: "u1"})
	a2 := mustAdd(t, s, notify.Entry{Channel: "private-user.5", Title: "Password changed", Message: "secret stuff"})
	if a1.Account != acctA {
		t.Errorf("Add stamped %q, want %q", a1.Account, acctA)
	}
	if e, err := s.Get(ctx, a1.ID); err != nil || e.Account != acctA || e.ExternalID != "u1" {
		t.Errorf("Get = %+v, %v", e, err)
	}

	s.SetAccount(acctB)
	// B sees nothing of A's: list, count, search, get, summaries, channels, unread.
	if got, err := s.List(ctx, Query{}); err != nil || len(got) != 0 {
		t.Errorf("B lists %v, %v", ids(got), err)
	}
	for _, q := range []Query{{}, {Search: "1500"}, {Search: "0712345678"}, {Search: "payment"}, {Unread: true}, {Channel: "tenant.1"}} {
		if n, err := s.Count(ctx, q); err != nil || n != 0 {
			t.Errorf("B Count(%+v) = %d, %v", q, n, err)
		}
		if got, err := s.ListIDs(ctx, q); err != nil || len(got) != 0 {
			t.Errorf("B ListIDs(%+v) = %v, %v", q, got, err)
		}
	}
	if _, err := s.Get(ctx, a1.ID); !errors.Is(err, ErrEntryNotFound) {
		t.Errorf("B Get(A's entry) = %v, want ErrEntryNotFound", err)
	}
	if got, err := s.Summaries(ctx, []int64{a1.ID, a2.ID}); err != nil || len(got) != 0 {
		t.Errorf("B Summaries = %v, %v", got, err)
	}
	if got, err := s.Channels(ctx); err != nil || len(got) != 0 {
		t.Errorf("B Channels = %v, %v", got, err)
	}
	if got, err := s.ExternalIDs(ctx, a1.ID); err != nil || len(got) != 0 {
		t.Errorf("B ExternalIDs = %v, %v", got, err)
	}
	// B's changes do not touch A's entries.
	if err := s.MarkRead(ctx, a1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkAllRead(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.ReadByExternalID(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, a2.ID); err != nil {
		t.Fatal(err)
	}
	// The same key and external ID are B's own.
	b1 := mustAdd(t, s, notify.Entry{Channel: "tenant.9", Title: "B's payment", Key: "k1", ExternalID: "u1"})
	if b1.ID == a1.ID || b1.Account != acctB {
		t.Errorf("B's entry = %+v", b1)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx, Query{}); n != 0 {
		t.Errorf("B after Clear: %d entries", n)
	}

	s.SetAccount(acctA)
	got, err := s.List(ctx, Query{})
	if err != nil || !slices.Equal(ids(got), []int64{a2.ID, a1.ID}) {
		t.Fatalf("A lists %v, %v; want its two entries back", ids(got), err)
	}
	for _, e := range got {
		if e.Read {
			t.Errorf("B's marks reached A's entry %d", e.ID)
		}
	}
	if got, err := s.ListIDs(ctx, Query{Search: "0712 345 678"}); err != nil || !slices.Equal(got, []int64{a1.ID}) {
		t.Errorf("A search phone = %v, %v", got, err)
	}
	if chans, _ := s.Channels(ctx); !slices.Equal(chans, []string{"private-user.5", "tenant.1"}) {
		t.Errorf("A Channels = %v", chans)
	}
	if n, _ := s.UnreadCount(ctx); n != 2 {
		t.Errorf("A UnreadCount = %d", n)
	}
	checkFTS(t, s)

	// An entry with an explicit account is stored for that account.
	other := mustAdd(t, s, notify.Entry{Title: "for B", Account: acctB})
	if _, err := s.Get(ctx, other.ID); !errors.Is(err, ErrEntryNotFound) {
		t.Errorf("A sees an entry stored for B: %v", err)
	}

	// DeleteAccount removes only that account's entries.
	n, err := s.DeleteAccount(ctx, acctA)
	if err != nil || n != 2 {
		t.Errorf("DeleteAccount(A) = %d, %v; want 2", n, err)
	}
	if c, _ := s.Count(ctx, Query{}); c != 0 {
		t.Errorf("A has %d entries after DeleteAccount", c)
	}
	s.SetAccount(acctB)
	if c, _ := s.Count(ctx, Query{}); c != 1 {
		t.Errorf("B has %d entries after A's were deleted, want 1", c)
	}
	checkFTS(t, s)
}

func TestAccountAdoptsLegacyEntriesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	ctx := context.Background()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Before SetAccount: entries without an account.
	var legacy []int64
	for i := range 5 {
		legacy = append(legacy, mustAdd(t, s, seq(i)).ID)
	}
	if last, err := s.LastAccount(ctx); err != nil || last != "" {
		t.Errorf("LastAccount before any = %q, %v", last, err)
	}
	// Another process (the window) opens the same file.
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n, _ := s2.Count(ctx, Query{}); n != 5 {
		t.Errorf("second store sees %d legacy entries, want 5", n)
	}

	s.SetAccount(acctA) // the first account adopts them
	if got, _ := s.ListIDs(ctx, Query{}); !slices.Equal(got, reversed(legacy)) {
		t.Errorf("A sees %v, want the legacy entries %v", got, reversed(legacy))
	}
	if n, _ := s2.Count(ctx, Query{}); n != 0 {
		t.Errorf("the window, still without an account, sees %d adopted entries", n)
	}
	s2.SetAccount(acctA)
	if n, _ := s2.Count(ctx, Query{}); n != 5 {
		t.Errorf("the window as A sees %d, want 5", n)
	}
	// Entries stored while the window is open show in both.
	e := mustAdd(t, s, notify.Entry{Title: "live", Message: "KES 2,000.00"})
	if got, err := s2.ListIDs(ctx, Query{Search: "2000"}); err != nil || !slices.Equal(got, []int64{e.ID}) {
		t.Errorf("the window's search = %v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, a different account first: it never sees them.
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if last, _ := s.LastAccount(ctx); last != acctA {
		t.Errorf("LastAccount = %q, want %q", last, acctA)
	}
	s.SetAccount(acctB)
	if n, _ := s.Count(ctx, Query{}); n != 0 {
		t.Errorf("B sees %d entries", n)
	}
	if last, _ := s.LastAccount(ctx); last != acctB {
		t.Errorf("LastAccount = %q, want %q", last, acctB)
	}
	// An entry stored without an account after adoption is nobody's
	// legacy: no account adopts it later.
	s.SetAccount("")
	if n, _ := s.Count(ctx, Query{}); n != 0 {
		t.Errorf("the no-account view sees %d adopted entries", n)
	}
	stray := mustAdd(t, s, notify.Entry{Title: "stored signed out"})
	s.SetAccount(acctB)
	if _, err := s.Get(ctx, stray.ID); !errors.Is(err, ErrEntryNotFound) {
		t.Errorf("B sees an entry stored signed out: %v", err)
	}
	s.SetAccount(acctA)
	if n, _ := s.Count(ctx, Query{}); n != 6 {
		t.Errorf("A sees %d, want 6", n)
	}
	// Deleting A forgets it as the last account.
	if _, err := s.DeleteAccount(ctx, acctA); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastAccount(ctx); last != "" {
		t.Errorf("LastAccount after DeleteAccount = %q", last)
	}
}

func reversed(s []int64) []int64 {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestPruneKeepsMaxEntriesPerAccount(t *testing.T) {
	now := testBase.Add(24 * time.Hour)
	s := testStore(t, Options{MaxEntries: 10, MaxAge: 2 * time.Hour}, func(s *Store) {
		s.now = func() time.Time { return now }
	})
	ctx := context.Background()
	add := func(account string, n int, at time.Time) {
		for i := range n {
			mustAdd(t, s, notify.Entry{Account: account, Time: at.Add(time.Duration(i) * time.Second), Title: fmt.Sprintf("%s %d", account, i)})
		}
	}
	add(acctA, 30, now.Add(-time.Hour))
	add(acctB, 5, now.Add(-time.Hour))
	add(acctB, 3, now.Add(-3*time.Hour)) // too old
	n, err := s.Prune(ctx)
	if err != nil || n != 20+3 {
		t.Errorf("Prune = %d, %v; want 23", n, err)
	}
	for acct, want := range map[string]int{acctA: 10, acctB: 5} {
		s.SetAccount(acct)
		if c, _ := s.Count(ctx, Query{}); c != want {
			t.Errorf("%s keeps %d, want %d", acct, c, want)
		}
	}
	checkFTS(t, s)
}

func TestExternalIDs(t *testing.T) {
	s := testStore(t, Options{}, nil)
	ctx := context.Background()
	s.SetAccount(acctA)
	live := mustAdd(t, s, notify.Entry{Title: "Invoice paid", ExternalID: "9b1d-uuid-1"})
	plain := mustAdd(t, s, notify.Entry{Title: "a plain event"})

	// The same notification again (caught up after it came live): not
	// stored, the stored one's ID.
	dup := notify.Entry{Title: "Invoice paid (caught up)", ExternalID: "9b1d-uuid-1"}
	ok, err := s.Add(ctx, &dup)
	if err != nil || ok || dup.ID != live.ID {
		t.Fatalf("duplicate Add = %v, %v, ID %d; want false, the stored %d", ok, err, dup.ID, live.ID)
	}
	if e, _ := s.Get(ctx, live.ID); e.Read || e.Title != "Invoice paid" {
		t.Errorf("stored entry changed: %+v", e)
	}
	// It arrives read (read on the web): the stored one becomes read.
	dupRead := notify.Entry{Title: "Invoice paid", ExternalID: "9b1d-uuid-1", Read: true}
	if ok, err := s.Add(ctx, &dupRead); err != nil || ok {
		t.Fatalf("read duplicate Add = %v, %v", ok, err)
	}
	if e, _ := s.Get(ctx, live.ID); !e.Read {
		t.Error("a duplicate that arrived read did not mark the stored entry read")
	}
	// Add keeps Read.
	caught := mustAdd(t, s, notify.Entry{Title: "read on the web", ExternalID: "9b1d-uuid-2", Read: true})
	if e, _ := s.Get(ctx, caught.ID); !e.Read {
		t.Error("Add dropped Read")
	}
	// A batch (catch-up) with a duplicate inside and against the store.
	batch := []*notify.Entry{
		{Title: "c3", ExternalID: "uuid-3"},
		{Title: "c3 again", ExternalID: "uuid-3", Read: true},
		{Title: "c1 again", ExternalID: "9b1d-uuid-1"},
		{Title: "c4", ExternalID: "uuid-4"},
	}
	n, err := s.AddBatch(ctx, batch)
	if err != nil || n != 2 {
		t.Fatalf("AddBatch = %d, %v; want 2", n, err)
	}
	if batch[1].ID != batch[0].ID || batch[2].ID != live.ID {
		t.Errorf("batch duplicate IDs = %d, %d", batch[1].ID, batch[2].ID)
	}
	if e, _ := s.Get(ctx, batch[0].ID); !e.Read {
		t.Error("batch duplicate that arrived read did not mark read")
	}

	m, err := s.ExternalIDs(ctx, live.ID, plain.ID, caught.ID, batch[3].ID, 999999)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{live.ID: "9b1d-uuid-1", caught.ID: "9b1d-uuid-2", batch[3].ID: "uuid-4"}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("ExternalIDs = %v, want %v", m, want)
	}
	if m, err := s.ExternalIDs(ctx); err != nil || len(m) != 0 {
		t.Errorf("ExternalIDs() = %v, %v", m, err)
	}

	// ReadByExternalID: those only; "" never matches entries without one.
	if err := s.ReadByExternalID(ctx, "uuid-4", "", "unknown"); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Get(ctx, batch[3].ID); !e.Read {
		t.Error("ReadByExternalID did not mark read")
	}
	if e, _ := s.Get(ctx, plain.ID); e.Read {
		t.Error(`ReadByExternalID("") marked an entry without an external ID`)
	}
	if err := s.ReadByExternalID(ctx); err != nil {
		t.Errorf("ReadByExternalID() = %v", err)
	}
	// Another account has its own.
	s.SetAccount(acctB)
	other := mustAdd(t, s, notify.Entry{Title: "B's copy", ExternalID: "9b1d-uuid-1"})
	if other.ID == live.ID {
		t.Error("B's entry deduplicated against A's")
	}
	// Keys: same rule.
	s.SetAccount(acctA)
	mustAdd(t, s, notify.Entry{Title: "keyed", Key: "evt-1"})
	if ok, err := s.Add(ctx, &notify.Entry{Title: "keyed again", Key: "evt-1"}); ok || err != nil {
		t.Errorf("duplicate key = %v, %v", ok, err)
	}
	s.SetAccount(acctB)
	mustAdd(t, s, notify.Entry{Title: "B keyed", Key: "evt-1"})
}
