package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"echotray/notify"
)

// typeLabel is the capitalised name of a notification type.
func typeLabel(t notify.Type) string {
	switch t {
	case notify.TypeSuccess:
		return "Success"
	case notify.TypeInfo:
		return "Info"
	case notify.TypeWarning:
		return "Warning"
	case notify.TypeError:
		return "Error"
	}
	if t == "" {
		return "Info"
	}
	return string(t)
}

// typeFromLabel is the inverse of typeLabel for the known types.
func typeFromLabel(label string) (notify.Type, bool) {
	for _, t := range notify.Types {
		if typeLabel(t) == label {
			return t, true
		}
	}
	return "", false
}

// typeIcons are the coloured icons of the notification types, made once
// (so rows can compare them) on first use: at package initialisation no
// Fyne app exists to ask for the theme.
var typeIcons = sync.OnceValue(func() map[notify.Type]fyne.Resource {
	return map[notify.Type]fyne.Resource{
		notify.TypeSuccess: theme.NewSuccessThemedResource(theme.ConfirmIcon()),
		notify.TypeInfo:    theme.NewPrimaryThemedResource(theme.InfoIcon()),
		notify.TypeWarning: theme.NewWarningThemedResource(theme.WarningIcon()),
		notify.TypeError:   theme.NewErrorThemedResource(theme.ErrorIcon()),
	}
})

// typeIcon is the coloured icon of a notification type.
func typeIcon(t notify.Type) fyne.Resource {
	if r, ok := typeIcons()[t]; ok {
		return r
	}
	return typeIcons()[notify.TypeInfo]
}

// relativeTime describes t as seen at now: "just now", "5 min ago",
// "3 h ago", "yesterday 14:02", "Mon 14:02" within a week, "14 Mar" within
// the year, else "14 Mar 2024". A time in the future (a clock adjusted
// backwards) shows as the time of day or the date.
func relativeTime(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	d := now.Sub(t)
	switch {
	case d < -time.Minute:
		if sameDay(t, now) {
			return t.Format("15:04")
		}
		return t.Format("2 Jan 2006")
	case d < 45*time.Second:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(max(1, (d+30*time.Second)/time.Minute))) + " min ago"
	case d < 12*time.Hour || (d < 24*time.Hour && sameDay(t, now)):
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	y, m, dd := now.Date()
	midnight := time.Date(y, m, dd, 0, 0, 0, 0, loc)
	switch {
	case !t.Before(midnight.AddDate(0, 0, -1)):
		return "yesterday " + t.Format("15:04")
	case !t.Before(midnight.AddDate(0, 0, -6)):
		return t.Format("Mon 15:04")
	case t.Year() == now.Year():
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// prettyPayload formats a payload for the detail pane: indented JSON, the
// raw text when it is not JSON, cut at maxPayloadShown bytes.
func prettyPayload(data json.RawMessage) string {
	s, _ := formatPayload(data)
	return s
}

// formatPayload is prettyPayload, also saying whether the text was cut.
func formatPayload(data json.RawMessage) (out string, cut bool) {
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return "(no payload)", false
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err == nil {
		out = buf.String()
	} else {
		out = "(not JSON)\n" + string(bytes.ToValidUTF8(data, []byte("\uFFFD")))
	}
	if len(out) > maxPayloadShown {
		cut := maxPayloadShown
		for cut > 0 && !utf8Start(out[cut]) {
			cut--
		}
		return out[:cut] + fmt.Sprintf("\n… (%s more not shown; Copy copies it all)", formatBytes(len(out)-cut)), true
	}
	return out, false
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func formatBytes(n int) string {
	switch {
	case n < 1024:
		return strconv.Itoa(n) + " bytes"
	case n < 1<<20:
		return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}
