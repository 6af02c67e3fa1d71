package history

import "unicode"

// isTokenRune reports whether unicode61 (categories L*, N*, Co) treats r as
// part of a token.
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}
