package catchup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"echotray/history"
	"echotray/notify"
)

// laravel is a stand-in for the backend's notification routes: Laravel's
// paginator JSON, oldest first, created_at >= since, on its own clock.
type laravel struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	notes   []note
	skew    time.Duration // server clock = local + skew
	perPage int
	noRoute bool
	status  int      // when set, every request answers it
	sinces  []string // since of each first-page request
	reads   []string
	dropQ   bool // next_page_url without the query (no withQueryString)
}

type note struct {
	id, class, data string
	created         time.Time
	readAt          *time.Time
}

func newLaravel(t *testing.T) *laravel {
	l := &laravel{t: t, perPage: 15}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *laravel) now() time.Time { return time.Now().Add(l.skew) }

// add creates n notifications at the server's now (one second apart,
// ending now).
func (l *laravel) add(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	base := l.now().Add(-time.Duration(n) * time.Millisecond).Truncate(time.Microsecond)
	for i := range n {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(l.notes)+1)
		l.notes = append(l.notes, note{id: id, class: `App\Notifications\InvoicePaid`,
			data:    fmt.Sprintf(`{"title":"Invoice %d paid","message":"Paid.","level":"success"}`, len(l.notes)+1),
			created: base.Add(time.Duration(i) * time.Millisecond)})
		ids = append(ids, id)
	}
	return ids
}

func (l *laravel) serve(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w.Header().Set("Date", l.now().UTC().Format(http.TimeFormat))
	if r.Header.Get("Authorization") != "Bearer tok" {
		http.Error(w, `{"message":"Unauthenticated."}`, http.StatusUnauthorized)
		return
	}
	if l.status != 0 {
		http.Error(w, `{"message":"x"}`, l.status)
		return
	}
	if l.noRoute {
		http.Error(w, `{"message":""}`, http.StatusNotFound)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/read") && r.Method == http.MethodPost {
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/notifications/"), "/read")
		for i := range l.notes {
			if l.notes[i].id == id {
				now := l.now()
				l.notes[i].readAt = &now
				l.reads = append(l.reads, id)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		http.Error(w, `{"message":"No query results for model [Illuminate\\Notifications\\DatabaseNotification]."}`, http.StatusNotFound)
		return
	}
	if r.URL.Path != "/api/notifications" {
		http.NotFound(w, r)
		return
	}
	since, _ := time.Parse(time.RFC3339, r.URL.Query().Get("since"))
	pageNo, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if pageNo < 1 {
		pageNo = 1
		l.sinces = append(l.sinces, r.URL.Query().Get("since"))
	}
	per := l.perPage
	if p, _ := strconv.Atoi(r.URL.Query().Get("per_page")); p > 0 && p <= 100 {
		per = p
	}
	var match []note
	for _, n := range l.notes {
		if !n.created.Before(since) {
			match = append(match, n)
		}
	}
	from := (pageNo - 1) * per
	type row struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
		ReadAt    *string         `json:"read_at"`
		CreatedAt string          `json:"created_at"`
	}
	out := struct {
		Data []row   `json:"data"`
		Next *string `json:"next_page_url"`
	}{Data: []row{}}
	for i := from; i < len(match) && i < from+per; i++ {
		n := match[i]
		rr := row{ID: n.id, Type: n.class, Data: json.RawMessage(n.data), CreatedAt: n.created.UTC().Format("2006-01-02T15:04:05.000000Z")}
		if n.readAt != nil {
			s := n.readAt.UTC().Format(time.RFC3339)
			rr.ReadAt = &s
		}
		out.Data = append(out.Data, rr)
	}
	if from+per < len(match) {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(pageNo+1))
		if l.dropQ {
			q = map[string][]string{"page": {strconv.Itoa(pageNo + 1)}}
		}
		next := "http://localhost" + r.URL.Path + "?" + q.Encode() // APP_URL differs from our address
		out.Next = &next
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (l *laravel) client() *Client {
	return &Client{Server: l.srv.URL, HTTP: &http.Client{Timeout: 10 * time.Second},
		Header: func(context.Context) (http.Header, error) {
			return http.Header{"Authorization": {"Bearer tok"}}, nil
		}}
}

type fixture struct {
	l     *laravel
	store *history.Store
	dir   string
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	st, err := history.Open(filepath.Join(dir, "history.db"), history.Options{MaxEntries: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{l: newLaravel(t), store: st, dir: dir}
}

func (f *fixture) runner() *Runner {
	return &Runner{Client: f.l.client(), Store: f.store, State: NewState(filepath.Join(f.dir, StateFileName)),
		Account: "http://x#5", Channel: "private-App.Models.User.5"}
}

func (f *fixture) count(t *testing.T) int {
	n, err := f.store.Count(context.Background(), history.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCatchUpFollowsEveryPage(t *testing.T) {
	f := newFixture(t)
	f.l.add(40) // 3 pages of 15
	f.l.dropQ = true
	res, err := f.runner().Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Fetched != 40 || len(res.New) != 40 || res.Unread != 40 || f.count(t) != 40 {
		t.Fatalf("fetched %d, new %d, unread %d, stored %d; want 40 each", res.Fetched, len(res.New), res.Unread, f.count(t))
	}
	e := res.New[0]
	if e.Event != "InvoicePaid" || e.Title != "Invoice 1 paid" || e.Channel != "private-App.Models.User.5" ||
		e.Key != "notification/"+f.l.notes[0].id || e.ID == 0 || !e.Time.Equal(f.l.notes[0].created) {
		t.Errorf("first entry = %+v", e)
	}
}

func TestCatchUpOverlapIsDeduplicated(t *testing.T) {
	f := newFixture(t)
	f.l.add(5)
	r := f.runner()
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.l.add(2)
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The overlap lists the 5 again; only the 2 are new.
	if res.Fetched != 7 || len(res.New) != 2 || f.count(t) != 7 {
		t.Fatalf("fetched %d new %d stored %d, want 7, 2, 7", res.Fetched, len(res.New), f.count(t))
	}
	if res.New[0].Title != "Invoice 6 paid" || res.New[1].Title != "Invoice 7 paid" {
		t.Errorf("new = %q, %q", res.New[0].Title, res.New[1].Title)
	}
	// A live notification already stored is not stored or announced again.
	ids := f.l.add(1)
	live := notify.NewCatalog(nil).NotificationEntry(notify.MergeNotification(ids[0], `App\Notifications\InvoicePaid`, json.RawMessage(`{"title":"live"}`)))
	if ok, err := f.store.Add(context.Background(), &live); err != nil || !ok {
		t.Fatal(ok, err)
	}
	res, err = r.Run(context.Background())
	if err != nil || len(res.New) != 0 {
		t.Fatalf("new %d err %v, want 0", len(res.New), err)
	}
}

func TestCatchUpUsesTheServersClock(t *testing.T) {
	for _, skew := range []time.Duration{-time.Hour, time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			f := newFixture(t)
			f.l.skew = skew
			f.l.add(3)
			r := f.runner()
			if _, err := r.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.l.add(4)
			res, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.New) != 4 || f.count(t) != 7 {
				t.Fatalf("new %d stored %d, want 4 and 7 (since %v)", len(res.New), f.count(t), res.Since)
			}
			// The second since is the server's newest created_at less the overlap.
			want := f.l.notes[2].created.Add(-DefaultOverlap).UTC().Format(time.RFC3339)
			if got := f.l.sinces[1]; got != want {
				t.Errorf("since = %s, want %s (server clock)", got, want)
			}
		})
	}
}

func TestCatchUpFirstRunWithNothingStartsFromTheServersDate(t *testing.T) {
	f := newFixture(t)
	f.l.skew = -3 * time.Hour
	r := f.runner()
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	since, ok, err := r.State.Since(r.Account)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if d := since.Sub(f.l.now()); d > 2*time.Second || d < -2*time.Second {
		t.Errorf("since %v, server now %v", since, f.l.now())
	}
	f.l.add(1) // on the server's clock, 3 h behind ours
	res, err := r.Run(context.Background())
	if err != nil || len(res.New) != 1 {
		t.Fatalf("new %d err %v", len(res.New), err)
	}
}

func TestCatchUpKeepsReadState(t *testing.T) {
	f := newFixture(t)
	f.l.add(3)
	now := time.Now()
	f.l.notes[1].readAt = &now
	res, err := f.runner().Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.New) != 3 || res.Unread != 2 || !res.New[1].Read {
		t.Fatalf("new %d unread %d read %v", len(res.New), res.Unread, res.New[1].Read)
	}
	if n, _ := f.store.UnreadCount(context.Background()); n != 2 {
		t.Errorf("unread in history = %d, want 2", n)
	}
	if msgs := Messages(res.New, "EchoTray", ""); len(msgs) != 2 {
		t.Errorf("%d messages, want 2 (read ones are not announced)", len(msgs))
	}
}

func TestCatchUpWithoutRouteOrSession(t *testing.T) {
	f := newFixture(t)
	f.l.noRoute = true
	_, err := f.runner().Run(context.Background())
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
	f.l.noRoute = false
	r := f.runner()
	r.Client.Header = func(context.Context) (http.Header, error) { return http.Header{"Authorization": {"Bearer old"}}, nil }
	if _, err := r.Run(context.Background()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if f.count(t) != 0 {
		t.Error("entries stored")
	}
}

func TestCatchUpHugeBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 notifications")
	}
	f := newFixture(t)
	f.l.add(10_000)
	r := f.runner()
	r.Client.PerPage = 100
	start := time.Now()
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.New) != 10_000 || f.count(t) != 10_000 {
		t.Fatalf("new %d stored %d", len(res.New), f.count(t))
	}
	msgs := Messages(res.New, "EchoTray", "")
	if len(msgs) != 1 || msgs[0].Title != "While you were offline: 10,000 notifications" {
		t.Fatalf("messages = %+v", msgs)
	}
	t.Logf("10,000 caught up in %s", time.Since(start))
}

func TestCatchUpPageBound(t *testing.T) {
	f := newFixture(t)
	f.l.add(50)
	for i := range f.l.notes { // a second apart, as Laravel's created_at are
		f.l.notes[i].created = f.l.now().Add(time.Duration(i-50) * time.Second).Truncate(time.Second)
	}
	r := f.runner()
	r.MaxPages = 2
	res, err := r.Run(context.Background())
	if err != nil || !res.Truncated || len(res.New) != 30 {
		t.Fatalf("truncated %v new %d err %v", res.Truncated, len(res.New), err)
	}
	res, err = r.Run(context.Background()) // continues from the newest stored
	if err != nil || len(res.New) != 20 {
		t.Fatalf("second: new %d err %v", len(res.New), err)
	}
}

func TestMessagesOneByOneOrSummary(t *testing.T) {
	mk := func(n int) []notify.Entry {
		var es []notify.Entry
		for i := range n {
			es = append(es, notify.Entry{ID: int64(i + 1), Title: fmt.Sprint("T", i), Message: "M", Type: notify.TypeInfo})
		}
		return es
	}
	if m := Messages(mk(3), "EchoTray", ""); len(m) != 3 || m[0].EntryID != 1 || m[2].Title != "T2" {
		t.Errorf("3 → %+v", m)
	}
	if m := Messages(mk(7), "EchoTray", ""); len(m) != 1 || m[0].Title != "While you were offline: 7 notifications" || m[0].EntryID != 0 {
		t.Errorf("7 → %+v", m)
	}
	if m := Messages(nil, "EchoTray", ""); m != nil {
		t.Errorf("none → %+v", m)
	}
}

func TestReadSyncQueuesRetriesAndPersists(t *testing.T) {
	f := newFixture(t)
	ids := f.l.add(3)
	path := filepath.Join(f.dir, QueueFileName)
	f.l.status = http.StatusServiceUnavailable // offline-ish
	s := &Syncer{Client: f.l.client(), Account: "a#1", Path: path, Delay: func(int) time.Duration { return 20 * time.Millisecond }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	if err := s.Enqueue(ids[0], ids[1]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done
	// A restart: the queue is still there.
	s2 := &Syncer{Client: f.l.client(), Account: "a#1", Path: path, Delay: func(int) time.Duration { return 20 * time.Millisecond }}
	if got := s2.Pending(); len(got) != 2 {
		t.Fatalf("pending after restart = %v", got)
	}
	f.l.mu.Lock()
	f.l.status = 0
	f.l.mu.Unlock()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go s2.Run(ctx)
	_ = s2.Enqueue("11111111-0000-4000-8000-000000000000") // not on the server: dropped
	waitFor(t, func() bool { return len(s2.Pending()) == 0 })
	f.l.mu.Lock()
	reads := append([]string(nil), f.l.reads...)
	f.l.mu.Unlock()
	if len(reads) != 2 || reads[0] != ids[0] || reads[1] != ids[1] {
		t.Errorf("reads on the server = %v", reads)
	}
}

func TestReadSyncOffWithoutRoute(t *testing.T) {
	f := newFixture(t)
	f.l.noRoute = true
	s := &Syncer{Client: f.l.client(), Account: "a#1", Path: filepath.Join(f.dir, QueueFileName)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	_ = s.Enqueue("x")
	waitFor(t, s.Off)
	if len(s.Pending()) != 0 {
		t.Error("queue kept after the route was found missing")
	}
	_ = s.Enqueue("y")
	if len(s.Pending()) != 0 {
		t.Error("queued while off")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestForgetStateAndQueue(t *testing.T) {
	dir := t.TempDir()
	st := NewState(filepath.Join(dir, StateFileName))
	if err := st.Advance("a#1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Advance("b#2", time.Now()); err != nil {
		t.Fatal(err)
	}
	q := &Syncer{Path: filepath.Join(dir, QueueFileName), Account: "a#1"}
	_ = q.Enqueue("u1")
	if err := st.Forget("a#1"); err != nil {
		t.Fatal(err)
	}
	if err := ForgetQueue(q.Path, "a#1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Since("a#1"); ok {
		t.Error("state kept")
	}
	if _, ok, _ := st.Since("b#2"); !ok {
		t.Error("another account's state removed")
	}
	if len(q.Pending()) != 0 {
		t.Error("queue kept")
	}
}

func TestCatchUpMarksEntriesReadOnTheWeb(t *testing.T) {
	f := newFixture(t)
	f.store.SetAccount("http://x#5")
	ids := f.l.add(2)
	r := f.runner()
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.store.UnreadCount(context.Background()); n != 2 {
		t.Fatalf("unread %d", n)
	}
	// Read in the web UI after EchoTray stored it unread.
	now := time.Now()
	f.l.mu.Lock()
	f.l.notes[0].readAt = &now
	f.l.mu.Unlock()
	res, err := r.Run(context.Background())
	if err != nil || len(res.New) != 0 {
		t.Fatalf("new %d err %v", len(res.New), err)
	}
	if n, _ := f.store.UnreadCount(context.Background()); n != 1 {
		t.Errorf("unread %d, want 1 (%s was read on the web)", n, ids[0])
	}
}

func TestReadSyncManyAtOnce(t *testing.T) {
	f := newFixture(t)
	ids := f.l.add(500)
	s := &Syncer{Client: f.l.client(), Account: "a#1", Path: filepath.Join(f.dir, QueueFileName)}
	if err := s.Enqueue(ids...); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ids[:10]...); err != nil { // again: queued once
		t.Fatal(err)
	}
	if n := len(s.Pending()); n != 500 {
		t.Fatalf("pending %d", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	waitFor(t, func() bool { return len(s.Pending()) == 0 })
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if len(f.l.reads) != 500 {
		t.Errorf("%d marked read on the server, want 500", len(f.l.reads))
	}
}
