package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"echotray/app"
	"echotray/history"
	"echotray/notify"
)

// historyNow is the fixed clock of the history tests.
var historyNow = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

// openTestStore opens an empty history in a temporary directory.
func openTestStore(t testing.TB) *history.Store {
	t.Helper()
	st, err := history.Open(filepath.Join(t.TempDir(), history.FileName),
		history.Options{MaxEntries: -1, MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sampleEntries is a small history with every type, read and unread, and
// times from just now to last year (as in the history window's tests).
func sampleEntries() []notify.Entry {
	return []notify.Entry{
		{Time: historyNow.AddDate(-1, 0, -3), Channel: "tenant.1", Event: "UserCreated", Type: notify.TypeInfo,
			Title: "New user registered", Message: "Otieno Mwangi joined at Kisumu Pier", Read: true,
			Data: json.RawMessage(`{"user":{"id":3,"name":"Otieno Mwangi"}}`)},
		{Time: historyNow.AddDate(0, 0, -20), Channel: "tenant.1", Event: "VoucherSold", Type: notify.TypeInfo,
			Title: "Voucher sold", Message: "Weekly voucher V-004211 sold at Westlands", Read: true,
			Data: json.RawMessage(`{"voucher":{"code":"V-004211"}}`)},
		{Time: historyNow.AddDate(0, 0, -3), Channel: "private-user.5", Event: "SubscriptionExpiring", Type: notify.TypeWarning,
			Title: "Subscription expiring", Message: "Grace Chebet's daily plan expires in 15 minutes",
			Data: json.RawMessage(`{"subscription":{"user":"Grace Chebet","minutes_left":15}}`)},
		{Time: historyNow.Add(-26 * time.Hour), Channel: "tenant.1", Event: "RouterOffline", Type: notify.TypeError,
			Title: "Router offline", Message: "MikroTik hAP-007 at Rongai stopped answering",
			Data: json.RawMessage(`{"router":{"id":7,"name":"hAP-007","site":"Rongai"}}`)},
		{Time: historyNow.Add(-3 * time.Hour), Channel: "tenant.1", Event: "PaymentReceived", Type: notify.TypeSuccess,
			Title: "Payment received", Message: "KES 1,500 from Jane Wanjiru for 1 hour", Read: true,
			Data: json.RawMessage(`{"payment":{"amount":1500,"currency":"KES"},"user":{"name":"Jane Wanjiru"}}`)},
		{Time: historyNow.Add(-5 * time.Minute), Channel: "tenant.1", Event: "PaymentReceived", Type: notify.TypeSuccess,
			Title: "Payment received", Message: "KES 500 from Brian Kamau for daily",
			Data: json.RawMessage(`{"payment":{"amount":500,"currency":"KES"},"user":{"name":"Brian Kamau"}}`)},
		{Time: historyNow.Add(-10 * time.Second), Channel: "private-user.5", Event: "RouterOffline", Type: notify.TypeError,
			Title: "Router offline", Message: "MikroTik hAP-012 at Westlands stopped answering\nLast seen 11:59",
			Data: json.RawMessage(`{"router":{"id":12,"name":"hAP-012","site":"Westlands"}}`)},
	}
}

// seed stores entries oldest first and returns them with their IDs.
func seed(t testing.TB, st *history.Store, entries []notify.Entry) []notify.Entry {
	t.Helper()
	out := make([]notify.Entry, len(entries))
	for i := range entries {
		e := entries[i]
		if _, err := st.Add(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
		out[i] = e
	}
	return out
}

func TestPrintHistoryJSON(t *testing.T) {
	st := openTestStore(t)
	entries := seed(t, st, sampleEntries())
	odd := notify.Entry{Time: historyNow, Channel: "tenant.1", Event: "Odd", Type: notify.TypeInfo,
		Title: "<b>odd</b> & co", Message: "payload is not JSON", Data: json.RawMessage("oops {")}
	if _, err := st.Add(context.Background(), &odd); err != nil {
		t.Fatal(err)
	}
	none := notify.Entry{Time: historyNow, Title: "no payload", Read: true}
	if _, err := st.Add(context.Background(), &none); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := PrintHistory(context.Background(), &out, st, HistoryOptions{JSON: true, Limit: 100}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(entries)+2 {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(entries)+2, out.String())
	}
	wantKeys := []string{"channel", "data", "event", "message", "read", "time", "title", "type"}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, line)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("line %d keys = %v, want exactly %v", i, keys, wantKeys)
		}
	}
	// Newest first: the two added last, then the sample newest first.
	var first, second, newest historyLine
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	json.Unmarshal([]byte(lines[2]), &newest)
	if first.Title != "no payload" || string(first.Data) != "null" || !first.Read {
		t.Errorf("first line = %+v", first)
	}
	if second.Title != "<b>odd</b> & co" || string(second.Data) != `"oops {"` || !strings.Contains(lines[1], "<b>odd</b> & co") {
		t.Errorf("second line = %s", lines[1])
	}
	last := entries[len(entries)-1]
	if newest.Title != last.Title || newest.Channel != last.Channel || newest.Event != last.Event ||
		newest.Type != last.Type || newest.Message != last.Message || newest.Read {
		t.Errorf("entry line = %+v, want %+v", newest, last)
	}
	var data, want any
	json.Unmarshal(newest.Data, &data)
	json.Unmarshal(last.Data, &want)
	if !reflect.DeepEqual(data, want) {
		t.Errorf("data = %s, want %s", newest.Data, last.Data)
	}
	tm, err := time.Parse(time.RFC3339, newest.Time)
	if err != nil || !tm.Equal(last.Time) {
		t.Errorf("time %q: %v (want %v)", newest.Time, err, last.Time)
	}
}

func TestPrintHistoryFlags(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	var batch []*notify.Entry
	for i := range 30 {
		batch = append(batch, &notify.Entry{Time: historyNow.Add(-time.Duration(100-i) * time.Hour), Title: fmt.Sprintf("filler %d", i), Read: true})
	}
	// Older than the samples, so they come last.
	if _, err := st.AddBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	titles := func(opts HistoryOptions) []string {
		t.Helper()
		opts.JSON = true
		var out bytes.Buffer
		if err := PrintHistory(context.Background(), &out, st, opts); err != nil {
			t.Fatal(err)
		}
		var got []string
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var l historyLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			got = append(got, l.Title)
		}
		return got
	}
	if got := titles(HistoryOptions{}); len(got) != DefaultHistoryLimit || got[0] != "filler 29" {
		t.Errorf("default: %d entries starting %q, want %d newest first", len(got), got[0], DefaultHistoryLimit)
	}
	if got := titles(HistoryOptions{Limit: 3}); !slices.Equal(got, []string{"filler 29", "filler 28", "filler 27"}) {
		t.Errorf("--limit 3 = %q", got)
	}
	if got := titles(HistoryOptions{Search: "router", Limit: 100}); !slices.Equal(got, []string{"Router offline", "Router offline"}) {
		t.Errorf("--search router = %q", got)
	}
	if got := titles(HistoryOptions{Unread: true, Limit: 100}); !slices.Equal(got,
		[]string{"Router offline", "Payment received", "Router offline", "Subscription expiring"}) {
		t.Errorf("--unread = %q", got)
	}
	if got := titles(HistoryOptions{Unread: true, Search: "wanjiru", Limit: 100}); len(got) != 0 {
		t.Errorf("--unread --search wanjiru = %q (that payment is read)", got)
	}
}

func TestPrintHistoryTable(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	evil := notify.Entry{Time: historyNow, Channel: "tenant.1", Event: "Evil", Type: notify.TypeWarning,
		Title:   "bell\a and \x1b[31mred\x1b[0m \u202eevil",
		Message: strings.Repeat("long message ", 20)}
	if _, err := st.Add(context.Background(), &evil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := PrintHistory(context.Background(), &out, st, HistoryOptions{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want header, 5 rows, footer:\n%s", len(lines), text)
	}
	for _, h := range []string{"TIME", "TYPE", "EVENT", "TITLE", "MESSAGE"} {
		if !strings.Contains(lines[0], h) {
			t.Errorf("header %q lacks %s", lines[0], h)
		}
	}
	if strings.ContainsAny(text, "\a\x1b\u202e") {
		t.Errorf("control characters reached the terminal: %q", text)
	}
	if !strings.HasPrefix(lines[1], "* ") || !strings.Contains(lines[1], "bell and red evil") {
		t.Errorf("first row = %q", lines[1])
	}
	if !strings.Contains(lines[1], "long message long message") || !strings.Contains(lines[1], "…") ||
		strings.Count(lines[1], "long message") > 6 {
		t.Errorf("long message not cut: %q", lines[1])
	}
	// Times in local time, the payment read (no mark) and the Router unread.
	if !strings.Contains(text, historyNow.Add(-3*time.Hour).Local().Format("2006-01-02 15:04:05")) {
		t.Errorf("no local time stamp in:\n%s", text)
	}
	if !strings.Contains(lines[2], "* ") || !strings.Contains(lines[2], "Router offline") || !strings.Contains(lines[2], "RouterOffline") {
		t.Errorf("row 2 = %q", lines[2])
	}
	if !strings.HasPrefix(lines[4], "  ") || !strings.Contains(lines[4], "success") {
		t.Errorf("read row = %q", lines[4])
	}
	if lines[6] != "5 of 8 (newest first; --limit N for more); * = unread" {
		t.Errorf("footer = %q", lines[6])
	}

	out.Reset()
	if err := PrintHistory(context.Background(), &out, st, HistoryOptions{Search: "nothing matches this"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "No entries match.\n" {
		t.Errorf("no match output = %q", out.String())
	}
	empty := openTestStore(t)
	out.Reset()
	if err := PrintHistory(context.Background(), &out, empty, HistoryOptions{}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "The history is empty.\n" {
		t.Errorf("empty output = %q", out.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestPrintHistoryErrors(t *testing.T) {
	st := openTestStore(t)
	seed(t, st, sampleEntries())
	if err := PrintHistory(context.Background(), failWriter{}, st, HistoryOptions{JSON: true}); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("write failure = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := PrintHistory(ctx, &bytes.Buffer{}, st, HistoryOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled = %v", err)
	}
}

func TestCLIText(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"plain", 10, "plain"},
		{"  two\n\tlines  ", 20, "two lines"},
		{"abcdefghijkl", 5, "abcd…"},
		{"ab defgh", 4, "ab…"},
		{"\x1b[2Jclear", 20, "clear"},
		{"Foo\x1b]52;c;SGVsbG8=\a\x1b[2J", 20, "Foo"},
		{"\u202eevil\u2066 \u200b x", 20, "evil x"},
		{"KES 1,500.00 💰", 20, "KES 1,500.00 💰"},
		{"", 5, "-"},
		{"\x00\x07", 5, "-"},
		{"日本語のテキスト", 4, "日本語…"},
		{"bad \xff", 10, "bad \uFFFD"},
	}
	for _, tt := range tests {
		if got := cliText(tt.in, tt.width); got != tt.want {
			t.Errorf("cliText(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

// history --json keeps the server's text exactly, escaped: no byte of it
// can drive the terminal.
func TestPrintHistoryJSONTerminalSafe(t *testing.T) {
	st := openTestStore(t)
	evil := notify.Entry{Time: historyNow, Channel: "tenant.1", Event: "Foo\x1b]52;c;SGVsbG8=\a\x1b[2J", Type: notify.TypeInfo,
		Title: "\u202eevil\u202c \u009b2J", Message: "KES 1,500.00 💰", Data: json.RawMessage(`{"note":"\u202e\u0085"}`)}
	if _, err := st.Add(context.Background(), &evil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := PrintHistory(context.Background(), &out, st, HistoryOptions{JSON: true}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\a\u202e\u202c\u009b\u0085") {
		t.Errorf("control characters reached the terminal: %q", out.String())
	}
	var got historyLine
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if got.Event != evil.Event || got.Message != "KES 1,500.00 💰" {
		t.Errorf("line %+v", got)
	}
}

// historyTitles runs `echotray history --json` as a new process would and
// returns the titles it printed.
func historyTitles(t *testing.T, r *cliRig, o HistoryOptions) []string {
	t.Helper()
	var out, errOut strings.Builder
	o.JSON = true
	if o.Limit == 0 {
		o.Limit = 100
	}
	if err := r.cli("", &out, &errOut).History(context.Background(), o); err != nil {
		t.Fatalf("history: %v\n%s", err, errOut.String())
	}
	var titles []string
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var l historyLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		titles = append(titles, l.Title)
	}
	return titles
}

// storeAs adds entries to the history file as the tray core does for
// account (SetAccount, then Add).
func storeAs(t *testing.T, r *cliRig, account string, entries ...notify.Entry) {
	t.Helper()
	st, err := app.OpenHistory(r.env.cfg.Effective(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if account != "" {
		st.SetAccount(account)
	}
	seed(t, st, entries)
}

// TestHistoryCommandShowsOnlyTheAccount: `echotray history` shows the
// signed-in (or last) account's entries, never another user's on the
// same computer (#14 item 3), and searches the way cashiers search.
func TestHistoryCommandShowsOnlyTheAccount(t *testing.T) {
	r := newCLIRig(t)
	// Entries from before accounts (an older EchoTray), nobody signed in
	// yet: shown as before.
	storeAs(t, r, "", notify.Entry{Time: historyNow.Add(-48 * time.Hour), Title: "Old payment", Message: "Payment of KES 700.00 completed."})
	if got := historyTitles(t, r, HistoryOptions{}); !slices.Equal(got, []string{"Old payment"}) {
		t.Fatalf("before any account: %q", got)
	}

	r.login(t, tenantUser())
	server := r.env.cfg.Effective().Server
	tina, ada := app.AccountKey(server, 5), app.AccountKey(server, 1)
	// The tray app ran for Tina: her first sign-in adopts the old entries.
	storeAs(t, r, tina, notify.Entry{Time: historyNow.Add(-time.Hour), Channel: "tenant.7", Event: "PaymentCompleted", Type: notify.TypeSuccess,
		Title: "Payment Completed", Message: "Payment of KES 1,500.00 from 254712345678 completed successfully.",
		Data: json.RawMessage(`{"payment":{"amount":1500,"currency":"KES","phone":"254712345678","reference":"QGH7XYZ123"}}`)})
	// Ada used the same computer before (her entries are hers).
	storeAs(t, r, ada, notify.Entry{Time: historyNow.Add(-30 * time.Minute), Channel: "private-system.admin", Event: "SystemAlert",
		Type: notify.TypeError, Title: "Disk almost full", Message: "Tenant 7 payments database at 95%"})
	// Tina is the last account the app used.
	storeAs(t, r, tina)

	if got := historyTitles(t, r, HistoryOptions{}); !slices.Equal(got, []string{"Payment Completed", "Old payment"}) {
		t.Errorf("Tina's history = %q", got)
	}
	for _, search := range []string{"1500", "KES 1,500", "0712 345 678", "+254 712 345 678", "QGH7XYZ123"} {
		if got := historyTitles(t, r, HistoryOptions{Search: search}); !slices.Equal(got, []string{"Payment Completed"}) {
			t.Errorf("--search %q = %q", search, got)
		}
	}
	for _, search := range []string{"disk", "95", "15000", "500"} {
		if got := historyTitles(t, r, HistoryOptions{Search: search}); len(got) != 0 {
			t.Errorf("--search %q = %q, want nothing", search, got)
		}
	}
	var out strings.Builder
	if err := r.cli("", &out, io.Discard).History(context.Background(), HistoryOptions{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 of 2 (newest first") || strings.Contains(out.String(), "Disk") {
		t.Errorf("table counts another account's entries:\n%s", out.String())
	}

	// Ada signs in with the command line only (no tray app since): once
	// the settings name her user id, her history is shown, not Tina's.
	r.login(t, adminUser())
	setConfigUserID(t, r, 1)
	if got := historyTitles(t, r, HistoryOptions{}); !slices.Equal(got, []string{"Disk almost full"}) {
		t.Errorf("Ada's history = %q", got)
	}
	setConfigUserID(t, r, 5)
	if got := historyTitles(t, r, HistoryOptions{}); !slices.Equal(got, []string{"Payment Completed", "Old payment"}) {
		t.Errorf("Tina's history by the settings' user id = %q", got)
	}
	// A user who never received anything here sees an empty history.
	setConfigUserID(t, r, 99)
	var empty strings.Builder
	if err := r.cli("", &empty, io.Discard).History(context.Background(), HistoryOptions{}); err != nil {
		t.Fatal(err)
	}
	if empty.String() != "The history is empty.\n" {
		t.Errorf("a new user's history = %q", empty.String())
	}
}

// setConfigUserID records the user id in the settings, as sign-in does.
func setConfigUserID(t *testing.T, r *cliRig, id int64) {
	t.Helper()
	if err := r.env.cfg.Update(func(c *app.Config) { c.UserID = strconv.FormatInt(id, 10) }); err != nil {
		t.Fatal(err)
	}
}
