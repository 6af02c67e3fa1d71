package catchup

import (
	"fmt"
	"strconv"

	"echotray/notify"
)

// OneByOne is the most caught-up notifications shown one by one; more
// give one summary.
const OneByOne = 3

// Messages are the desktop notifications for what a catch-up recovered:
// each unread new entry when there are OneByOne or fewer, else one
// "While you were offline: 7 notifications". Entries read on the web are
// stored, not announced.
func Messages(entries []notify.Entry, appName, icon string) []notify.Message {
	var unread []notify.Entry
	for _, e := range entries {
		if !e.Read {
			unread = append(unread, e)
		}
	}
	switch {
	case len(unread) == 0:
		return nil
	case len(unread) <= OneByOne:
		out := make([]notify.Message, 0, len(unread))
		for _, e := range unread {
			out = append(out, notify.Message{
				EntryID: e.ID,
				AppName: appName,
				Title:   notify.Truncate(notify.CleanText(e.Title), notify.MaxTitleRunes),
				Body:    notify.Truncate(notify.CleanText(e.Message), notify.MaxBodyRunes),
				Icon:    icon,
				Urgency: e.Type.Urgency(),
				Timeout: notify.DefaultTimeout,
			})
		}
		return out
	}
	worst := notify.TypeInfo
	for _, e := range unread {
		if e.Type == notify.TypeError || (e.Type == notify.TypeWarning && worst != notify.TypeError) {
			worst = e.Type
		}
	}
	return []notify.Message{{
		AppName: appName,
		Title:   "While you were offline: " + count(len(unread)),
		Body:    "They are in the history. The latest: " + notify.Truncate(notify.CleanText(unread[len(unread)-1].Title), 120),
		Icon:    icon,
		Urgency: worst.Urgency(),
		Timeout: notify.DefaultTimeout,
	}}
}

// count is "1 notification", "7 notifications", "10,000 notifications".
func count(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if n == 1 {
		return string(out) + " notification"
	}
	return fmt.Sprintf("%s notifications", out)
}
