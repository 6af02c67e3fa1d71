package app

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentence capitalises s and ends it with a full stop, so an error text
// ("cannot reach the server") reads as a sentence in a window or a banner.
func Sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.ContainsAny(s[len(s)-1:], ".!?…") {
		s += "."
	}
	return s
}

// FormatCount writes n with thousands separators: 100000 -> "100,000".
func FormatCount(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Plural is n (with thousands separators) and noun in the right number:
// "1 notification", "2 notifications", "1 match", "3 matches", "1 entry",
// "2 entries".
func Plural(n int, noun string) string {
	if n != 1 {
		switch {
		case strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"), strings.HasSuffix(noun, "s"):
			noun += "es"
		case strings.HasSuffix(noun, "y"):
			noun = noun[:len(noun)-1] + "ies"
		default:
			noun += "s"
		}
	}
	return FormatCount(n) + " " + noun
}
