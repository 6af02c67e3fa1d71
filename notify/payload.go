package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxFieldRunes caps one payload value in a rendered sentence.
const maxFieldRunes = 120

// maxDepth bounds the nesting of a payload that is decoded; deeper payloads
// are treated as malformed.
const maxDepth = 64

// object is a decoded JSON object that keeps its key order, so summaries of
// unknown payloads are stable and read in the sender's order.
type object struct {
	keys []string
	norm []string // normKey of each key
	vals map[string]any
}

// get returns the value under key: an exact match first, else the first key
// that matches ignoring case, "_" and "-" (so "hotspot_user" finds
// "hotspotUser", as PHP property names and snake_case columns mix).
func (o *object) get(key string) (any, bool) {
	if v, ok := o.vals[key]; ok {
		return v, true
	}
	want := normKey(key)
	for i, n := range o.norm {
		if n == want {
			return o.vals[o.keys[i]], true
		}
	}
	return nil, false
}

// normKey lower-cases k and drops "_" and "-".
func normKey(k string) string {
	plain := true
	for i := 0; i < len(k); i++ {
		if c := k[i]; c == '_' || c == '-' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return k
	}
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' {
			return -1
		}
		return unicode.ToLower(r)
	}, k)
}

// payload is a decoded event payload. The zero payload has no fields.
type payload struct {
	root any // *object, []any, string, json.Number, bool or nil
}

// parsePayload decodes raw JSON keeping object key order. Empty, "null" or
// malformed data gives an empty payload; a top-level JSON string is treated
// as {"message": string}, as some backends broadcast bare text.
func parsePayload(raw json.RawMessage) payload {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return payload{}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return payload{}
	}
	if s, ok := v.(string); ok {
		return payload{root: &object{keys: []string{"message"}, norm: []string{"message"}, vals: map[string]any{"message": s}}}
	}
	return payload{root: v}
}

var errTooDeep = errors.New("payload nested too deeply")

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := o.vals[k]; !dup {
					o.keys = append(o.keys, k)
					o.norm = append(o.norm, normKey(k))
				}
				o.vals[k] = v
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return o, nil
		case '[':
			var a []any
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			if a == nil {
				a = []any{}
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case nil, string, json.Number, bool:
		return t, nil
	}
	if err == io.EOF {
		return nil, err
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// lookup follows path from v: object keys (see object.get) and, on arrays,
// decimal indexes.
func lookup(v any, path []string) (any, bool) {
	for _, seg := range path {
		switch t := v.(type) {
		case *object:
			var ok bool
			if v, ok = t.get(seg); !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, v != nil
}

// find looks path up from the root and, failing that, inside a top-level
// "data" object, where some backends wrap their broadcast payload.
func (p payload) find(path []string) (any, bool) {
	if v, ok := lookup(p.root, path); ok {
		return v, true
	}
	if len(path) > 0 && normKey(path[0]) != "data" {
		if d, ok := lookup(p.root, []string{"data"}); ok {
			if _, isObj := d.(*object); isObj {
				return lookup(d, path)
			}
		}
	}
	return nil, false
}

// str returns the display text of the first of paths that has one.
func (p payload) str(paths ...string) (string, bool) {
	return p.strN(maxFieldRunes, paths...)
}

// strN is str with text capped at max runes instead of maxFieldRunes.
func (p payload) strN(max int, paths ...string) (string, bool) {
	for _, path := range paths {
		if v, ok := p.find(strings.Split(path, ".")); ok {
			if s, ok := displayN(v, max); ok {
				return s, true
			}
		}
	}
	return "", false
}

// displayNameKeys are tried, in order, to name an object ("user" → its name).
var displayNameKeys = []string{"name", "full_name", "display_name", "title", "username", "email", "label"}

// display turns a payload value into short, clean text. It reports false for
// null, empty strings and values with nothing readable in them, so callers
// fall back to a sentence without the value.
func display(v any) (string, bool) {
	return displayN(v, maxFieldRunes)
}

// displayN is display with strings capped at max runes.
func displayN(v any, max int) (string, bool) {
	switch t := v.(type) {
	case string:
		s := Truncate(CleanText(t), max)
		return s, s != ""
	case json.Number:
		return plainNumber(t), true
	case bool:
		if t {
			return "yes", true
		}
		return "no", true
	case *object:
		for _, k := range displayNameKeys {
			if v, ok := t.get(k); ok {
				if s, ok := scalarText(v); ok {
					return s, true
				}
			}
		}
	case []any:
		// The first three readable scalars are shown, the rest only
		// counted (a server may send an array of a million numbers).
		var parts []string
		n := 0
		for _, e := range t {
			if len(parts) < 3 {
				if s, ok := scalarText(e); ok {
					parts = append(parts, s)
					n++
				}
				continue
			}
			switch x := e.(type) {
			case json.Number, bool:
				n++
			case string:
				if readable(x) {
					n++
				}
			}
		}
		switch {
		case n == 0:
			return "", false
		case n <= 3:
			return Truncate(joinWords(parts), maxFieldRunes), true
		default:
			return Truncate(fmt.Sprintf("%s and %d more", strings.Join(parts, ", "), n-3), maxFieldRunes), true
		}
	}
	return "", false
}

// readable reports whether display shows something for the string s:
// whether CleanText leaves anything of it.
func readable(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.IsControl(r) && (!unicode.Is(unicode.Cf, r) || r == '\u200d') {
			return true
		}
	}
	return false
}

// scalarText is display restricted to strings, numbers and booleans.
func scalarText(v any) (string, bool) {
	switch v.(type) {
	case string, json.Number, bool:
		return display(v)
	}
	return "", false
}

// joinWords joins "a", "a and b", "a, b and c".
func joinWords(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Numbers come from the server, and big-number arithmetic on what it sends
// is a denial of service: `1e999999` is 19 bytes and a million digits, a
// 200,000-digit amount takes big.Rat seconds to read and print. So a
// number is first read as text (readNumber: sign, digits, point, exponent,
// one pass, no arithmetic), and only a number of sane size reaches
// math/big, as a short decimal string.
//
// What people see: a number whose integer part has more than maxIntDigits
// digits (whether written out or by its exponent) is shown as "a very
// large number", or "a very large amount" in a money field ("a very large
// negative …" below zero). A cashier must not see a plausible-looking
// figure cut to fit the bubble, nor a screenful of digits: the history
// keeps the payload as sent for anyone who needs the digits. Digits after
// maxFracDigits decimal places are dropped before rounding (the most
// shown is six places, so they cannot change what is shown), which makes
// `1e-999999` simply 0. Text that is not a decimal number (hex, fractions
// like "3/4", "1.5k") is shown as sent, never computed.
const (
	// maxIntDigits is the most digits a number's integer part may have to
	// be shown as a number: 10^40 is far past any amount of money.
	maxIntDigits = 40
	// maxFracDigits is how many decimal places of a number are kept.
	maxFracDigits = 20
	// maxPlainNumber is the longest number shown exactly as written.
	maxPlainNumber = maxIntDigits + maxFracDigits + 2
)

// number is a decimal number read by readNumber.
type number struct {
	neg  bool     // below zero (never set for zero)
	huge bool     // more than maxIntDigits integer digits; r is nil
	r    *big.Rat // the value, cut after maxFracDigits places
}

// tooLarge is the text shown for a huge number; what is "number" or
// "amount".
func (n number) tooLarge(what string) string {
	if n.neg {
		return "a very large negative " + what
	}
	return "a very large " + what
}

// readNumber reads s as a decimal number: an optional sign, digits with an
// optional decimal point (".5" and "5." too), an optional exponent. It
// reports false for anything else (including hex, "3/4" and empty digits).
// Its cost is one pass over s and a big.Rat of at most maxPlainNumber
// characters, whatever s holds.
func readNumber(s string) (number, bool) {
	var n number
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		n.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[start:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[start:i]
	}
	if len(intPart)+len(frac) == 0 {
		return number{}, false
	}
	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			if exp < 1e12 { // saturate: far past any cut-off below
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == start {
			return number{}, false
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return number{}, false
	}

	// The digits are intPart+frac, read in place; the value is
	// 0.<significant digits> × 10^point.
	total := len(intPart) + len(frac)
	digit := func(j int) byte {
		if j < len(intPart) {
			return intPart[j]
		}
		return frac[j-len(intPart)]
	}
	first := 0
	for first < total && digit(first) == '0' {
		first++
	}
	if first == total { // zero, whatever the exponent
		return number{r: new(big.Rat)}, true
	}
	last := total
	for digit(last-1) == '0' {
		last--
	}
	point := int64(len(intPart)) + exp - int64(first)
	if point > maxIntDigits {
		n.huge = true
		return n, true
	}
	keep := min(int64(last-first), point+maxFracDigits)
	if keep <= 0 { // every significant digit is past maxFracDigits places
		return number{r: new(big.Rat)}, true
	}
	sig := make([]byte, keep)
	for j := range sig {
		sig[j] = digit(first + j)
	}
	var b strings.Builder
	if n.neg {
		b.WriteByte('-')
	}
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", int(-point)))
		b.Write(sig)
	case point >= keep:
		b.Write(sig)
		b.WriteString(strings.Repeat("0", int(point-keep)))
	default:
		b.Write(sig[:point])
		b.WriteByte('.')
		b.Write(sig[point:])
	}
	r, ok := new(big.Rat).SetString(b.String())
	if !ok { // cannot happen: b holds a plain decimal
		return number{}, false
	}
	n.r = r
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// plainNumber prints a JSON number as written, except exponent notation and
// numbers too long to read, which become plain decimals with up to six
// places, and huge numbers (see readNumber).
func plainNumber(jn json.Number) string {
	s := jn.String()
	if len(s) <= maxIntDigits && !strings.ContainsAny(s, "eE") {
		return s // the common case: as written, and it cannot be huge
	}
	n, ok := readNumber(s)
	switch {
	case !ok:
		return Truncate(CleanText(s), maxFieldRunes)
	case n.huge:
		return n.tooLarge("number")
	case len(s) <= maxPlainNumber && !strings.ContainsAny(s, "eE"):
		return s
	case n.r.IsInt():
		return n.r.Num().String()
	}
	return strings.TrimRight(strings.TrimRight(n.r.FloatString(6), "0"), ".")
}

// decimal reads an amount from a JSON number or a numeric string ("1500",
// "1,500.50", " 99.9 "); see readNumber.
func decimal(v any) (number, bool) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.ReplaceAll(strings.TrimSpace(t), ",", "")
	default:
		return number{}, false
	}
	return readNumber(s)
}

// groupedDecimal formats r with thousands separators and exactly places
// decimals (rounded half away from zero).
func groupedDecimal(r *big.Rat, places int) string {
	s := r.FloatString(places)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg && strings.Trim(s, "0.") != "" { // no "-0.00"
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// formatNumber prints whole numbers grouped ("12,345") and fractions with up
// to two decimals ("1,234.5").
func formatNumber(v any) (string, bool) {
	n, ok := decimal(v)
	if !ok {
		return "", false
	}
	if n.huge {
		return n.tooLarge("number"), true
	}
	r := n.r
	if r.IsInt() {
		return groupedDecimal(r, 0), true
	}
	s := groupedDecimal(r, 2)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), "."), true
}

// currencyKeys name the currency next to an amount.
var currencyKeys = []string{"currency", "currency_code"}

// currencyFor finds the currency of the amount at path: a sibling
// "currency"/"currency_code" first, then one at the top level. Only short
// codes (KES, USD, UGX) and symbols count.
func (p payload) currencyFor(path []string) string {
	var candidates [][]string
	if len(path) > 1 {
		parent := path[:len(path)-1]
		for _, k := range currencyKeys {
			candidates = append(candidates, append(append([]string{}, parent...), k))
		}
	}
	for _, k := range currencyKeys {
		candidates = append(candidates, []string{k})
	}
	for _, c := range candidates {
		v, ok := p.find(c)
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok {
			continue
		}
		s = CleanText(s)
		if n := utf8.RuneCountInString(s); n >= 1 && n <= 4 && !strings.ContainsRune(s, ' ') {
			return strings.ToUpper(s)
		}
	}
	return ""
}

// formatMoney prints an amount as "KES 1,500.00": the currency code first,
// then the amount grouped with two decimals. Without a currency it is just
// "1,500.00". A value that is not a number (e.g. "KES 1.5k") is shown as
// sent; a huge one as "a very large amount", without its currency.
func (p payload) formatMoney(path []string, v any) (string, bool) {
	n, ok := decimal(v)
	if !ok {
		return display(v)
	}
	if n.huge {
		return n.tooLarge("amount"), true
	}
	amount := groupedDecimal(n.r, 2)
	if cur := p.currencyFor(path); cur != "" {
		return cur + " " + amount, true
	}
	return amount, true
}

// dateLayouts are the timestamp forms Laravel and JavaScript send.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999Z07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

// formatDate prints a timestamp as "3 Dec 2025, 14:05" (or "3 Dec 2025" for
// a bare date), in local time when the value carries a zone. Unix seconds
// and milliseconds are accepted too.
func formatDate(v any) (string, bool) {
	var t time.Time
	hasClock, hasZone := true, true
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil || n <= 0 {
			return "", false
		}
		if n > 1e11 { // milliseconds
			t = time.UnixMilli(n)
		} else {
			t = time.Unix(n, 0)
		}
	case string:
		s := strings.TrimSpace(x)
		parsed := false
		for _, layout := range dateLayouts {
			if tt, err := time.Parse(layout, s); err == nil {
				t, parsed = tt, true
				hasZone = strings.Contains(layout, "Z07")
				hasClock = layout != "2006-01-02"
				break
			}
		}
		if !parsed {
			return "", false
		}
	default:
		return "", false
	}
	if hasZone {
		t = t.In(time.Local)
	}
	if !hasClock {
		return t.Format("2 Jan 2006"), true
	}
	return t.Format("2 Jan 2006, 15:04"), true
}
