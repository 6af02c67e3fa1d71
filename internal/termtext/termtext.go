// Package termtext makes text from elsewhere (a server, a peer, a file) safe
// to print on a terminal: Clean removes everything that could drive the
// terminal instead of being shown by it, and EscapeJSON does the same,
// losslessly, for JSON output.
//
// What is removed or escaped:
//
//   - escape sequences, whole: CSI (ESC [ … and U+009B), OSC (ESC ] …, for
//     example OSC 52, which writes the clipboard), DCS, SOS, PM and APC
//     strings up to their terminator (BEL, ESC \ or U+009C; to the end of the
//     text when there is none), and the short ESC sequences (ESC c resets
//     the terminal, ESC 7 saves the cursor, ESC ( B …);
//   - the other C0 controls (BEL, BS, …), DEL and the C1 controls
//     U+0080–U+009F, some of which terminals take as CSI or OSC;
//   - invisible format characters (Unicode category Cf): the bidi
//     embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069,
//     the bidi marks, zero-width spaces, the BOM, soft hyphens, tag
//     characters. Kept: ZERO WIDTH JOINER and NON-JOINER (emoji sequences,
//     Persian and Indic scripts) and the tag characters of a flag emoji
//     sequence (🏴 followed by tags).
//
// A tab becomes a space; line breaks (LF, CR LF, a lone CR, NEL, U+2028,
// U+2029) become "\n" or a space, as the caller asks. Invalid UTF-8 becomes
// U+FFFD. Everything else, any script and emoji, is left alone.
package termtext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mode says what Clean does with line breaks.
type Mode int

const (
	// Line makes one line: every line break becomes a space. For a field
	// printed inside a line (an event name, a title).
	Line Mode = iota
	// Lines keeps line breaks, each as "\n". For a message whose line
	// breaks are meant (an error text).
	Lines
)

// Special characters.
const (
	esc      = 0x1b
	bel      = 0x07
	del      = 0x7f
	c1CSI    = 0x9b // CONTROL SEQUENCE INTRODUCER
	c1ST     = 0x9c // STRING TERMINATOR
	c1DCS    = 0x90
	c1SOS    = 0x98
	c1OSC    = 0x9d
	c1PM     = 0x9e
	c1APC    = 0x9f
	nel      = 0x85 // NEXT LINE
	zwnj     = 0x200c
	zwj      = 0x200d
	lineSep  = 0x2028
	paraSep  = 0x2029
	blackFlg = 0x1f3f4 // WAVING BLACK FLAG, the base of a tag sequence
	tagFirst = 0xe0020 // TAG SPACE
	tagLast  = 0xe007f // CANCEL TAG
)

// Clean returns s without anything that could drive a terminal (see the
// package documentation); mode says what happens to line breaks. Text that
// needs no change is returned as is. Clean is idempotent.
func Clean(s string, mode Mode) string {
	if safe(s, mode) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inFlag := false // the last rune written is 🏴 or a tag of its sequence
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			inFlag = false
			i++
			continue
		}
		switch {
		case r == esc:
			i = skipEscape(s, i+size)
			continue
		case r == c1CSI:
			i = skipCSI(s, i+size)
			continue
		case r == c1DCS || r == c1SOS || r == c1OSC || r == c1PM || r == c1APC:
			i = skipString(s, i+size)
			continue
		case r == '\t':
			b.WriteByte(' ')
		case r == '\r' && strings.HasPrefix(s[i+size:], "\n"):
			// CR LF is one line break: the LF writes it.
		case r == '\n' || r == '\r' || r == nel || r == lineSep || r == paraSep:
			if mode == Lines {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r >= tagFirst && r <= tagLast && inFlag:
			b.WriteRune(r)
			i += size
			continue // still in the flag sequence
		case dropped(r):
		default:
			b.WriteRune(r)
			inFlag = r == blackFlg
			i += size
			continue
		}
		inFlag = false
		i += size
	}
	return b.String()
}

// safe reports whether Clean would return s unchanged.
func safe(s string, mode Mode) bool {
	inFlag := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && (c != '\n' || mode != Lines) || c == del {
				return false
			}
			inFlag = false
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return false
		case r >= tagFirst && r <= tagLast && inFlag:
		case unsafe(r):
			return false
		default:
			inFlag = r == blackFlg
		}
		i += size
	}
	return true
}

// unsafe reports whether r must not reach a terminal as it is: a control
// character (C0 but tab and LF, DEL, C1), a line or paragraph separator, or
// an invisible format character other than ZWJ and ZWNJ. Tag characters
// are unsafe here; Clean keeps them only inside a flag sequence.
func unsafe(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n'
	case r < del:
		return false
	case r <= 0x9f:
		return true
	case r == lineSep || r == paraSep:
		return true
	}
	return dropped(r)
}

// dropped reports whether r is an invisible format character Clean drops,
// or a control character.
func dropped(r rune) bool {
	if r < 0x20 || (r >= del && r <= 0x9f) {
		return true
	}
	if r == zwj || r == zwnj {
		return false
	}
	return unicode.Is(unicode.Cf, r)
}

// skipEscape returns the index after the escape sequence whose ESC ends
// just before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1) // OSC, DCS, SOS, PM, APC
	case c >= 0x20 && c <= 0x2f:
		// Intermediate bytes, then a final byte: ESC ( B, ESC # 8, …
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e:
		return i + 1 // ESC c, ESC 7, ESC =, a stray ESC \ …
	}
	// ESC before a control or a non-ASCII character: only the ESC goes.
	return i
}

// skipCSI returns the index after the control sequence whose introducer
// ends just before i: parameter bytes, intermediate bytes, a final byte. A
// sequence broken by another character ends there.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3f {
		i++
	}
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString returns the index after the control string (OSC, DCS, …)
// that starts at i: up to and including BEL, ESC \ or U+009C; up to an ESC
// that starts another sequence; or to the end.
func skipString(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case bel:
			return i + 1
		case esc:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i
		case 0xc2:
			if i+1 < len(s) && s[i+1] == c1ST {
				return i + 2
			}
		}
	}
	return i
}

// EscapeJSON returns the JSON text b with every character Clean would
// remove, inside strings, written as a \u escape (invalid UTF-8 as
// \ufffd). The JSON means the same; only no byte in it can drive a
// terminal. b must be valid JSON text (for example what json.Marshal
// returns, which leaves DEL, C1 controls and bidi overrides as they are);
// tabs and line breaks outside strings are kept.
func EscapeJSON(b []byte) []byte {
	if jsonSafe(b) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	inFlag := false
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			out = append(out, `\ufffd`...)
			inFlag = false
		case r == '\t' || r == '\n' || r == '\r':
			out = append(out, b[i])
			inFlag = false
		case r >= tagFirst && r <= tagLast && inFlag:
			out = append(out, b[i:i+size]...)
		case unsafe(r):
			out = appendEscape(out, r)
			inFlag = false
		default:
			out = append(out, b[i:i+size]...)
			inFlag = r == blackFlg
		}
		i += size
	}
	return out
}

// jsonSafe reports whether EscapeJSON would return b unchanged.
func jsonSafe(b []byte) bool {
	inFlag := false
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == del {
				return false
			}
			inFlag = false
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return false
		case r >= tagFirst && r <= tagLast && inFlag:
		case unsafe(r):
			return false
		default:
			inFlag = r == blackFlg
		}
		i += size
	}
	return true
}

// appendEscape appends r as a JSON \u escape, a surrogate pair above the
// Basic Multilingual Plane.
func appendEscape(out []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	u16 := func(out []byte, v rune) []byte {
		return append(out, '\\', 'u', hex[v>>12&0xf], hex[v>>8&0xf], hex[v>>4&0xf], hex[v&0xf])
	}
	if r > 0xffff {
		r -= 0x10000
		out = u16(out, 0xd800+(r>>10))
		return u16(out, 0xdc00+(r&0x3ff))
	}
	return u16(out, r)
}
