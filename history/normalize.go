package history

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Search the way cashiers search (#14 item 4).
//
// Besides title and message, every entry carries two more indexed texts,
// computed once when it is stored (searchTerms):
//
//   - vals: the payload's scalar values (an M-Pesa reference, a username,
//     an e-mail address, a package name), so that words found only in the
//     payload are found like words of the message;
//   - norm: every amount and phone number of the title, the message and
//     the payload in one canonical form: an amount "1,500.00", "1500.00" or
//     1500 is the token "1500" (decimals: "1500.50" is "1500d5"); a phone
//     number "0712 345 678", "0712345678", "254712345678" or
//     "+254 712 345 678" is the token "p254712345678".
//
// A query is read the same way (parseSearch): a word made of a number is
// looked for in norm only, exactly (1500 does not find 15000, nor "1,500"
// find 500); consecutive number words that make a phone number become that
// phone's token; other words are looked for in title, message and vals as
// before (the last word as a prefix, as the user types).

// Phone numbers: the platform is Kenyan (M-Pesa numbers are sent as
// 2547XXXXXXXX), so a local number "07XXXXXXXX" or "01XXXXXXXX" is read as
// +254. International numbers of the neighbouring countries are recognised
// without a "+", any other country with one.
const (
	homeCountry   = "254"
	phoneTokenTag = "p"
	decimalTag    = "d"
)

// eastAfrica are country codes whose 12-digit numbers (code + 9 digits)
// are recognised without a leading "+".
var eastAfrica = []string{"254", "255", "256", "250", "257", "211"}

// Limits on what one entry adds to the index.
const (
	maxValsBytes = 4 << 10 // payload values kept for search
	maxNormBytes = 2 << 10 // normalised tokens
)

// searchTerms returns the vals and norm texts of an entry (see above).
func searchTerms(title, message string, data []byte) (vals, norm string) {
	var n normSet
	n.addText(title)
	n.addText(message)
	var vb strings.Builder
	if len(data) > 0 && json.Valid(data) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			walkValues(v, func(s string, number bool) {
				if vb.Len() < maxValsBytes {
					if vb.Len() > 0 {
						vb.WriteByte(' ')
					}
					vb.WriteString(s)
				}
				if number || !looksLikeDate(s) {
					n.addText(s)
				}
			})
		}
	}
	vals = vb.String()
	if len(vals) > maxValsBytes {
		vals = truncateUTF8(vals, maxValsBytes)
	}
	return vals, n.String()
}

// walkValues calls f with every string and number in v (not the keys),
// depth first in a stable order.
func walkValues(v any, f func(s string, number bool)) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the same text for the same payload
		for _, k := range keys {
			walkValues(x[k], f)
		}
	case []any:
		for _, e := range x {
			walkValues(e, f)
		}
	case string:
		if s := strings.TrimSpace(x); s != "" {
			f(s, false)
		}
	case json.Number:
		f(x.String(), true)
	}
}

// looksLikeDate reports a time stamp ("2025-03-14", "2025-03-14T09:30:00Z",
// "14:05"): its parts are not amounts, so they stay out of norm (a search
// for 30 would otherwise find every event sent at half past).
func looksLikeDate(s string) bool {
	if len(s) >= 10 && isDigits(s[:4]) && s[4] == '-' && isDigits(s[5:7]) && s[7] == '-' && isDigits(s[8:10]) {
		return true
	}
	return len(s) >= 5 && isDigits(s[:2]) && s[2] == ':' && isDigits(s[3:5])
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// normSet collects normalised tokens once each, in order.
type normSet struct {
	b    strings.Builder
	seen map[string]bool
}

func (n *normSet) add(tok string) {
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	if n.seen[tok] || n.b.Len()+len(tok)+1 > maxNormBytes {
		return
	}
	n.seen[tok] = true
	if n.b.Len() > 0 {
		n.b.WriteByte(' ')
	}
	n.b.WriteString(tok)
}

func (n *normSet) String() string { return n.b.String() }

// addText adds the amounts and phone numbers of s.
func (n *normSet) addText(s string) {
	for _, tok := range numberTokens(s) {
		n.add(tok)
	}
}

// numChunk is a number as written in a text: "+254", "1,500.00", "0712".
type numChunk struct {
	start, end int    // byte offsets in the text
	plus       bool   // written with a leading "+"
	intPart    string // the digits before the decimal point, grouping commas removed
	frac       string // the digits after the decimal point, if any
	grouped    bool   // written with grouping commas
}

// plain reports a chunk of digits only (what a phone number is made of).
func (c numChunk) plain() bool { return !c.grouped && c.frac == "" }

// canonical is the norm token of a number: the digits without grouping,
// the decimals without trailing zeros after a "d" ("1500.50" → "1500d5",
// "1,500.00" → "1500").
func (c numChunk) canonical() string {
	frac := strings.TrimRight(c.frac, "0")
	if frac == "" {
		return c.intPart
	}
	return c.intPart + decimalTag + frac
}

// scanNumbers finds the numbers of s that stand on their own: not part of
// a word ("QGH7XYZ123", "hs345678" and "KES1500" hold none), with optional
// grouping commas and decimals.
func scanNumbers(s string) []numChunk {
	var out []numChunk
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		start := i
		plus := false
		if r == '+' && i+1 < len(s) && isASCIIDigit(s[i+1]) {
			plus = true
			i++
			r, size = rune(s[i]), 1
		}
		if r >= utf8.RuneSelf || !isASCIIDigit(byte(r)) {
			if isWordRune(r) {
				// Skip the rest of this word: a number inside it is part of
				// a code, not an amount.
				for i < len(s) {
					r, size := utf8.DecodeRuneInString(s[i:])
					if !isWordRune(r) {
						break
					}
					i += size
				}
				continue
			}
			i += size
			continue
		}
		// A run of digits.
		j := i
		for j < len(s) && isASCIIDigit(s[j]) {
			j++
		}
		c := numChunk{start: start, plus: plus}
		var ib strings.Builder
		ib.WriteString(s[i:j])
		// Grouping: ",ddd" repeated, the first group of 1-3 digits.
		if j-i <= 3 {
			for j+4 <= len(s) && s[j] == ',' && isDigits(s[j+1:j+4]) && (j+4 == len(s) || !isASCIIDigit(s[j+4])) {
				ib.WriteString(s[j+1 : j+4])
				c.grouped = true
				j += 4
			}
		}
		c.intPart = ib.String()
		// Decimals: ".dd".
		if j+1 < len(s) && s[j] == '.' && isASCIIDigit(s[j+1]) {
			k := j + 1
			for k < len(s) && isASCIIDigit(s[k]) {
				k++
			}
			c.frac = s[j+1 : k]
			j = k
		}
		c.end = j
		if j < len(s) {
			if r, _ := utf8.DecodeRuneInString(s[j:]); isWordRune(r) {
				// Glued to letters ("12kg", "7XYZ"): part of a word.
				i = j
				for i < len(s) {
					r, size := utf8.DecodeRuneInString(s[i:])
					if !isWordRune(r) {
						break
					}
					i += size
				}
				continue
			}
		}
		out = append(out, c)
		i = j
	}
	return out
}

func isASCIIDigit(b byte) bool { return b >= '0' && b <= '9' }

// isWordRune is a letter or digit: what FTS5's unicode61 tokenizer keeps.
func isWordRune(r rune) bool { return isTokenRune(r) }

// phoneGap reports whether sep, the text between two parts of a number,
// may separate the groups of a phone number: one or two of space, hyphen
// and parentheses ("0712 345 678", "0712-345-678", "(0712) 345678").
func phoneGap(sep string) bool {
	if sep == "" || len(sep) > 2 {
		return false
	}
	for i := 0; i < len(sep); i++ {
		switch sep[i] {
		case ' ', '-', '(', ')':
		default:
			return false
		}
	}
	return true
}

// maxPhoneParts is the most groups a phone number is written in
// ("+254 712 345 678" has four).
const maxPhoneParts = 5

// numberTokens returns the norm tokens of the numbers in s: phone numbers
// (possibly written in groups) as "p" + the international digits, other
// numbers canonical.
func numberTokens(s string) []string {
	chunks := scanNumbers(s)
	var out []string
	for i := 0; i < len(chunks); {
		if tok, next := joinPhone(chunks, i, func(a, b numChunk) string { return s[a.end:b.start] }); tok != "" {
			out = append(out, tok)
			i = next
			continue
		}
		out = append(out, chunks[i].canonical())
		i++
	}
	return out
}

// joinPhone tries to read a phone number from chunks[i:], joining up to
// maxPhoneParts plain chunks separated by phone gaps; it returns the
// longest phone's token and the index after it, or "" when chunks[i]
// starts none.
func joinPhone(chunks []numChunk, i int, gap func(a, b numChunk) string) (tok string, next int) {
	if !chunks[i].plain() {
		return "", i
	}
	digits := chunks[i].intPart
	if p, ok := phoneNumber(digits, chunks[i].plus); ok {
		tok, next = phoneTokenTag+p, i+1
	}
	for j := i + 1; j < len(chunks) && j < i+maxPhoneParts; j++ {
		c := chunks[j]
		if !c.plain() || c.plus || !phoneGap(gap(chunks[j-1], c)) {
			break
		}
		digits += c.intPart
		if len(digits) > 15 {
			break
		}
		if p, ok := phoneNumber(digits, chunks[i].plus); ok {
			tok, next = phoneTokenTag+p, j+1
		}
	}
	return tok, next
}

// phoneNumber returns the international digits (no "+") of a phone
// number written as digits (plus: with a leading "+"), or false.
func phoneNumber(d string, plus bool) (string, bool) {
	n := len(d)
	switch {
	case !plus && n == 10 && d[0] == '0' && (d[1] == '7' || d[1] == '1'):
		return homeCountry + d[1:], true // 0712 345 678
	case n == 12 && hasAnyPrefix(d, eastAfrica) && d[3] != '0':
		return d, true // 254712345678, +254 712 345 678
	case n == 13 && hasAnyPrefix(d, eastAfrica) && d[3] == '0':
		return d[:3] + d[4:], true // +254 0712 345 678
	case plus && n >= 10 && n <= 15:
		return d, true // another country, written with "+"
	}
	return "", false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// searchItem is one thing a query looks for.
type searchItem struct {
	norm   bool     // a normalised number or phone token, looked up in norm
	tokens []string // the phrase's tokens (one for norm items)
}

// parseSearch reads what the user typed: phone numbers first, found as
// in the index (groups joined: "(0712) 345-678", "+254 712 345 678"), each
// one phone item; then whitespace-separated words: a word that is a number
// (digits with optional "+", grouping commas, decimals, surrounding
// punctuation such as "50%") is a norm item; any other word is a phrase of
// its letter and digit runs, as the index tokenises the text ("INV-2024"
// is "inv" "2024").
func parseSearch(text string) []searchItem {
	// Replace each phone number by a placeholder word.
	const mark = "\x01"
	var phones []string
	chunks := scanNumbers(text)
	var b strings.Builder
	last := 0
	for i := 0; i < len(chunks); {
		tok, next := joinPhone(chunks, i, func(a, c numChunk) string { return text[a.end:c.start] })
		if tok == "" {
			i++
			continue
		}
		b.WriteString(text[last:chunks[i].start])
		b.WriteString(" " + mark + strconv.Itoa(len(phones)) + mark + " ")
		phones = append(phones, tok)
		last = chunks[next-1].end
		i = next
	}
	b.WriteString(text[last:])

	var items []searchItem
	for _, w := range strings.Fields(b.String()) {
		if rest, ok := strings.CutPrefix(w, mark); ok {
			if k, err := strconv.Atoi(strings.TrimSuffix(rest, mark)); err == nil && k < len(phones) {
				items = append(items, searchItem{norm: true, tokens: []string{phones[k]}})
				continue
			}
		}
		core := strings.TrimFunc(w, func(r rune) bool { return !isWordRune(r) && r != '+' })
		core = strings.TrimRight(core, "+")
		if c, ok := wholeNumber(core); ok {
			items = append(items, searchItem{norm: true, tokens: []string{c.canonical()}})
			continue
		}
		tokens := strings.FieldsFunc(w, func(r rune) bool { return !isWordRune(r) })
		if len(tokens) > 0 {
			items = append(items, searchItem{tokens: tokens})
		}
	}
	return items
}

// wholeNumber reads s as one number: "1500", "1,500.00", "+254", "0712".
func wholeNumber(s string) (numChunk, bool) {
	if s == "" {
		return numChunk{}, false
	}
	chunks := scanNumbers(s)
	if len(chunks) != 1 || chunks[0].start != 0 || chunks[0].end != len(s) {
		return numChunk{}, false
	}
	return chunks[0], true
}

// ftsSearch turns parsed items into a safe FTS5 MATCH expression: each
// item a quoted phrase, text phrases restricted to the text columns, norm
// tokens to norm; all ANDed; the last text phrase, when it is the last
// item, a prefix query so results follow the typing. Numbers are never
// prefixes: 1500 must not find 15000. ok is false when there is nothing to
// look up (no letter or digit): the caller then falls back to a substring
// match.
func ftsSearch(text string) (expr string, ok bool) {
	items := parseSearch(text)
	if len(items) == 0 {
		return "", false
	}
	parts := make([]string, len(items))
	for i, it := range items {
		phrase := `"` + strings.Join(it.tokens, " ") + `"`
		if it.norm {
			parts[i] = "norm : " + phrase
			continue
		}
		if i == len(items)-1 {
			phrase += "*"
		}
		parts[i] = "{title message vals} : " + phrase
	}
	return strings.Join(parts, " AND "), true
}
