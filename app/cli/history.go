package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"echotray/app"
	"echotray/history"
	"echotray/internal/termtext"
	"echotray/notify"
)

// DefaultHistoryLimit is how many entries `echotray history` prints when no
// limit is given.
const DefaultHistoryLimit = 20

// searchIndexWait bounds how long a search waits for the indexing of a
// history just upgraded (a few seconds per 100,000 entries).
const searchIndexWait = 30 * time.Second

// HistoryOptions are the flags of `echotray history`.
type HistoryOptions struct {
	JSON   bool   // one JSON object per line instead of a table
	Search string // words of title, message and payload; amounts and phone numbers in any form
	Limit  int    // at most this many entries; 0 or less means DefaultHistoryLimit
	Unread bool   // only unread entries
}

// historyLine is one line of `echotray history --json`.
type historyLine struct {
	Time    string          `json:"time"` // RFC 3339, local offset
	Channel string          `json:"channel"`
	Event   string          `json:"event"`
	Type    notify.Type     `json:"type"`
	Title   string          `json:"title"`
	Message string          `json:"message"`
	Read    bool            `json:"read"`
	Data    json.RawMessage `json:"data"` // the payload; a JSON string if it is not JSON; null if none
}

// History prints the stored history (see PrintHistory) on Stdout: the
// signed-in account's entries, or the last account's when nobody is signed
// in (see historyAccount). Other accounts' entries on this computer are
// never shown.
func (c *Commands) History(ctx context.Context, o HistoryOptions) error {
	store, err := c.OpenHistory()
	if err != nil {
		return err
	}
	defer store.Close()
	if account := c.historyAccount(); account != "" && account != store.Account() {
		store.SetAccount(account)
	}
	return PrintHistory(ctx, c.Stdout, store, o)
}

// historyAccount returns the account whose history `echotray history`
// shows when the settings name it: the settings' server and the user id
// recorded at sign-in (app.AccountOf). It returns "" when they do not; the
// store then keeps the account app.OpenHistory gave it, the last account
// EchoTray used on this computer (history.LastAccount). The history is not
// read before the account is set.
func (c *Commands) historyAccount() string {
	if c.Config == nil {
		return ""
	}
	cfg := c.Config.Effective()
	if strings.TrimSpace(cfg.Server) == "" || strings.TrimSpace(cfg.UserID) == "" {
		return ""
	}
	return app.AccountOf(cfg.Server, app.User{ID: cfg.UserID})
}

// PrintHistory prints the store's current account's entries newest
// first: a table (time, type, event, title, message; unread entries marked
// with *) or, with JSON, one object per line with time, channel, event,
// type, title, message, read and data. Text from the server is cleaned for
// a terminal (termtext), so it cannot drive it.
//
// A search waits (up to searchIndexWait) for a history just upgraded from
// an older EchoTray to be indexed, so that its amounts, phone numbers and
// payload values are found too.
func PrintHistory(ctx context.Context, out io.Writer, store *history.Store, opts HistoryOptions) error {
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	if strings.TrimSpace(opts.Search) != "" {
		wctx, cancel := context.WithTimeout(ctx, searchIndexWait)
		_ = store.WaitIndexed(wctx) // on time-out: search what is indexed
		cancel()
	}
	q := history.Query{Search: opts.Search, Unread: opts.Unread, Limit: limit}
	entries, err := store.List(ctx, q)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	w := bufio.NewWriter(out)
	if opts.JSON {
		err = writeHistoryJSON(w, entries)
	} else {
		err = writeHistoryTable(ctx, w, store, q, entries)
	}
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

func writeHistoryJSON(w io.Writer, entries []notify.Entry) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, e := range entries {
		line := historyLine{
			Time:    e.Time.Format(time.RFC3339Nano),
			Channel: e.Channel,
			Event:   e.Event,
			Type:    e.Type,
			Title:   e.Title,
			Message: e.Message,
			Read:    e.Read,
			Data:    payloadJSON(e.Data),
		}
		buf.Reset()
		if err := enc.Encode(line); err != nil {
			return err
		}
		// JSON-escaped, and \u-escaped what json leaves raw that could
		// drive a terminal (DEL, C1 controls, bidi overrides).
		if _, err := w.Write(termtext.EscapeJSON(buf.Bytes())); err != nil {
			return err
		}
	}
	return nil
}

// payloadJSON is data itself when it is JSON, else data as a JSON string,
// and null when there is none.
func payloadJSON(data json.RawMessage) json.RawMessage {
	if len(data) == 0 {
		return json.RawMessage("null")
	}
	if json.Valid(data) {
		return data
	}
	s, _ := json.Marshal(strings.ToValidUTF8(string(data), "\uFFFD"))
	return s
}

// Widths of the table's text columns, in characters.
const (
	cliTitleWidth   = 40
	cliMessageWidth = 72
)

func writeHistoryTable(ctx context.Context, w io.Writer, store *history.Store, q history.Query, entries []notify.Entry) error {
	if len(entries) == 0 {
		msg := "The history is empty."
		if q.Search != "" || q.Unread {
			msg = "No entries match."
		}
		_, err := fmt.Fprintln(w, msg)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tTYPE\tEVENT\tTITLE\tMESSAGE")
	for _, e := range entries {
		mark := " "
		if !e.Read {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\n", mark,
			e.Time.Local().Format("2006-01-02 15:04:05"),
			cliText(string(e.Type), 10),
			cliText(e.Event, 32),
			cliText(e.Title, cliTitleWidth),
			cliText(e.Message, cliMessageWidth))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	total, err := store.Count(ctx, history.Query{Search: q.Search, Unread: q.Unread})
	if err != nil {
		return err
	}
	footer := app.Plural(len(entries), "entry")
	if total > len(entries) {
		footer = fmt.Sprintf("%s of %s (newest first; --limit N for more)", app.FormatCount(len(entries)), app.FormatCount(total))
	}
	_, err = fmt.Fprintf(w, "%s; * = unread\n", footer)
	return err
}

// cliText makes s safe and short for one table cell: it is cleaned for a
// terminal as one line (termtext.Clean: no escape sequences, control,
// bidi-control or invisible format characters), runs of white space become
// one space, and it is cut to width characters with an ellipsis. An empty
// cell shows "-".
func cliText(s string, width int) string {
	var out []rune
	space := false
	for _, r := range termtext.Clean(s, termtext.Line) {
		if unicode.IsSpace(r) {
			space = len(out) > 0
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, r)
	}
	switch {
	case len(out) == 0:
		return "-"
	case len(out) > width:
		return strings.TrimRight(string(out[:width-1]), " ") + "…"
	}
	return string(out)
}
