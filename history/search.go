package history

import (
	"strings"
	"unicode"
)

// ftsQuery turns what a user typed into a safe FTS5 MATCH expression.
//
// Every whitespace-separated word becomes a quoted phrase of its runs of
// letters and digits (the characters FTS5's unicode61 tokenizer indexes), so
// "INV-2024" matches the adjacent tokens "inv" "2024" just as the indexed
// text does, and FTS5 operators or quotes the user typed ("AND(", `"`, `*`)
// are plain text that can never make the query fail. The phrases are ANDed
// and the last one is a prefix query, so results follow the typing. ok is
// false when the text has no letter or digit at all; the caller then falls
// back to a substring match.
func ftsQuery(text string) (expr string, ok bool) {
	var phrases []string
	for _, word := range strings.Fields(text) {
		tokens := strings.FieldsFunc(word, func(r rune) bool { return !isTokenRune(r) })
		if len(tokens) == 0 {
			continue
		}
		phrases = append(phrases, `"`+strings.Join(tokens, " ")+`"`)
	}
	if len(phrases) == 0 {
		return "", false
	}
	phrases[len(phrases)-1] += "*"
	return strings.Join(phrases, " "), true
}

// isTokenRune reports whether unicode61 (categories L*, N*, Co) treats r as
// part of a token.
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}
