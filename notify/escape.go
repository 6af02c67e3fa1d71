package notify

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits for desktop notifications. Notification servers wrap or clip
// long text on their own, badly; these keep a bubble readable.
const (
	MaxTitleRunes = 80  // summary line
	MaxBodyRunes  = 300 // body text
)

// ellipsis ends text that was cut.
const ellipsis = "…"

// EscapeMarkup escapes s for a notification server that renders body markup
// (the freedesktop "body-markup" capability: a small HTML/Pango subset), so
// that "<b>", "<a href=…>" and "&" from a payload show literally. It escapes
// <, >, &, ' and ". The result is plain text for servers without markup.
func EscapeMarkup(s string) string {
	return html.EscapeString(s)
}

// CleanText makes s safe and tidy for display on one line: invalid UTF-8
// becomes U+FFFD, control and format characters are dropped, every run of
// white space (newlines included) becomes one space, and the ends are
// trimmed.
func CleanText(s string) string {
	return clean(s, false)
}

// cleanMultiline is CleanText but keeps single line breaks (at most one
// empty line in a row) for notification bodies.
func cleanMultiline(s string) string {
	return clean(s, true)
}

func clean(s string, keepNewlines bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace, newlines := false, 0
	for _, r := range s {
		switch {
		case r == '\n' && keepNewlines:
			newlines++
			pendingSpace = false
			continue
		case unicode.IsSpace(r):
			pendingSpace = true
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200d':
			// Control characters break some servers; bidi overrides and
			// other format characters can disguise text. ZWJ stays for emoji.
			continue
		}
		if b.Len() > 0 {
			switch {
			case newlines > 0:
				b.WriteString(strings.Repeat("\n", min(newlines, 2)))
			case pendingSpace:
				b.WriteByte(' ')
			}
		}
		b.WriteRune(r)
		pendingSpace, newlines = false, 0
	}
	return b.String()
}

// Truncate shortens s to at most max runes. When it has to cut, it cuts at a
// word boundary if one lies in the last third of the allowed length (else in
// the middle of a word, on a rune boundary), drops trailing punctuation and
// space, and appends "…", which counts towards max. max < 1 means no limit.
func Truncate(s string, max int) string {
	if max < 1 || utf8.RuneCountInString(s) <= max {
		return s
	}
	if max == 1 {
		return ellipsis
	}
	runes := []rune(s)
	cut := runes[:max-1] // leave room for the ellipsis
	// A word boundary is where the text continues with a space: cut there
	// if it does not lose too much.
	end := len(cut)
	if !unicode.IsSpace(runes[len(cut)]) {
		for i := len(cut) - 1; i >= len(cut)*2/3; i-- {
			if unicode.IsSpace(cut[i]) {
				end = i
				break
			}
		}
	}
	out := strings.TrimRightFunc(string(cut[:end]), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(".,;:-–—([{", r)
	})
	if out == "" {
		out = string(cut)
	}
	return out + ellipsis
}
