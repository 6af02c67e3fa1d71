package notify

import (
	"fmt"
	"strings"
	"unicode"
)

// Template is a parsed title or message template. The language is small on
// purpose:
//
//	Text with {user.name} placeholders.
//
//	{user.name}               a payload field; dots walk into nested objects,
//	                          numbers index arrays ({items.0.name})
//	{user.name|name}          alternatives: the first field that has a value
//	{payment.amount:money}    a format: money ("KES 1,500.00"), number
//	                          ("12,345"), date ("3 Dec 2025, 14:05"),
//	                          upper, lower
//	{user.name|name?someone}  a default used when no alternative has a value
//	[ from {payer}]           an optional part: left out unless every
//	                          placeholder in it (without a default) has a
//	                          value; parts nest
//	\{ \} \[ \] \\            literal braces, brackets and backslash
//
// Field names match ignoring case, "_" and "-" ({hotspot_user.username} finds
// "hotspotUser"); a field missing at the top level is also looked for inside
// a top-level "data" object. Values are trimmed, cleaned to one line and
// capped at 120 characters; an object stands for its name (name, full_name,
// title, username or email); an array for up to three of its items.
//
// A template whose placeholder (outside an optional part, without a default)
// finds no value does not render at all: the catalog then uses its next
// variant, or for a user's override the built-in text. So a sentence never
// shows an empty gap, "<nil>" or raw braces.
type Template struct {
	src   string
	nodes []tnode
}

type tnode interface{ isNode() }

type textNode string

type fieldNode struct {
	paths  [][]string
	format string
	def    string
	hasDef bool
}

type optNode []tnode

func (textNode) isNode()  {}
func (fieldNode) isNode() {}
func (optNode) isNode()   {}

// formats lists the names accepted after ":" in a placeholder.
var formats = map[string]bool{"money": true, "number": true, "date": true, "upper": true, "lower": true}

// ParseTemplate parses s (see Template for the syntax). Errors name the
// position of the problem.
func ParseTemplate(s string) (*Template, error) {
	p := &tparser{src: []rune(s)}
	nodes, err := p.parse(0)
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", s, err)
	}
	return &Template{src: s, nodes: nodes}, nil
}

// mustTemplate parses a built-in template; a bad one is a programming error.
func mustTemplate(s string) *Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

type tparser struct {
	src []rune
	pos int
}

// parse reads nodes until the end, or until the "]" closing an optional
// part when depth > 0.
func (p *tparser) parse(depth int) ([]tnode, error) {
	var nodes []tnode
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			nodes = append(nodes, textNode(text.String()))
			text.Reset()
		}
	}
	for p.pos < len(p.src) {
		r := p.src[p.pos]
		switch r {
		case '\\':
			if p.pos+1 >= len(p.src) {
				return nil, fmt.Errorf("a lone \\ at the end (write \\\\ for a backslash)")
			}
			text.WriteRune(p.src[p.pos+1])
			p.pos += 2
		case '{':
			flush()
			f, err := p.field()
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, f)
		case '}':
			return nil, fmt.Errorf("unexpected } at %d (write \\} for a literal brace)", p.pos)
		case '[':
			flush()
			start := p.pos
			p.pos++
			sub, err := p.parse(depth + 1)
			if err != nil {
				return nil, err
			}
			if p.pos >= len(p.src) || p.src[p.pos] != ']' {
				return nil, fmt.Errorf("optional part opened at %d is not closed with ]", start)
			}
			p.pos++
			nodes = append(nodes, optNode(sub))
		case ']':
			if depth == 0 {
				return nil, fmt.Errorf("unexpected ] at %d (write \\] for a literal bracket)", p.pos)
			}
			flush()
			return nodes, nil
		default:
			text.WriteRune(r)
			p.pos++
		}
	}
	flush()
	return nodes, nil
}

// field reads "{paths[:format][?default]}" starting at the "{".
func (p *tparser) field() (fieldNode, error) {
	start := p.pos
	end := -1
	for i := p.pos + 1; i < len(p.src); i++ {
		if p.src[i] == '}' {
			end = i
			break
		}
		if p.src[i] == '{' {
			break
		}
	}
	if end < 0 {
		return fieldNode{}, fmt.Errorf("placeholder opened at %d is not closed with }", start)
	}
	body := string(p.src[start+1 : end])
	p.pos = end + 1

	var f fieldNode
	spec, def, hasDef := strings.Cut(body, "?")
	f.def, f.hasDef = def, hasDef
	spec, format, hasFormat := strings.Cut(spec, ":")
	if hasFormat {
		f.format = strings.ToLower(strings.TrimSpace(format))
		if !formats[f.format] {
			return fieldNode{}, fmt.Errorf("unknown format %q in {%s} (known: money, number, date, upper, lower)", f.format, body)
		}
	}
	for alt := range strings.SplitSeq(spec, "|") {
		alt = strings.TrimSpace(alt)
		if alt == "" {
			return fieldNode{}, fmt.Errorf("empty field name in {%s}", body)
		}
		path := strings.Split(alt, ".")
		for _, seg := range path {
			if seg == "" || strings.IndexFunc(seg, unicode.IsSpace) >= 0 {
				return fieldNode{}, fmt.Errorf("bad field name %q in {%s}", alt, body)
			}
		}
		f.paths = append(f.paths, path)
	}
	return f, nil
}

// render fills the template from p. It reports false when a required
// placeholder has no value or the result is empty.
func (t *Template) render(p payload) (string, bool) {
	if t == nil {
		return "", false
	}
	// A template that is one placeholder ("{message}") shows a whole text
	// from the payload, not a name in a sentence: allow it more room.
	if len(t.nodes) == 1 {
		if f, ok := t.nodes[0].(fieldNode); ok {
			return p.field(f, maxStoredMessageRunes)
		}
	}
	var b strings.Builder
	if !renderNodes(t.nodes, p, &b) {
		return "", false
	}
	s := b.String()
	return s, strings.TrimSpace(s) != ""
}

func renderNodes(nodes []tnode, p payload, b *strings.Builder) bool {
	for _, n := range nodes {
		switch n := n.(type) {
		case textNode:
			t := string(n)
			// "failed: {reason}." with a reason that ends in a full stop
			// must not end in "..": drop the template's own full stop.
			if strings.HasPrefix(t, ".") && endsSentence(b.String()) {
				t = t[1:]
			}
			b.WriteString(t)
		case fieldNode:
			s, ok := p.field(n, maxFieldRunes)
			if !ok {
				if !n.hasDef {
					return false
				}
				s = n.def
			}
			b.WriteString(s)
		case optNode:
			var sub strings.Builder
			if renderNodes(n, p, &sub) {
				b.WriteString(sub.String())
			}
		}
	}
	return true
}

// field returns the formatted value of the first alternative that has one,
// text capped at max runes; else the default, if it has one.
func (p payload) field(f fieldNode, max int) (string, bool) {
	if s, ok := p.fieldValue(f, max); ok {
		return s, true
	}
	if f.hasDef && len(strings.TrimSpace(f.def)) > 0 {
		return f.def, true
	}
	return "", false
}

func (p payload) fieldValue(f fieldNode, max int) (string, bool) {
	for _, path := range f.paths {
		v, ok := p.find(path)
		if !ok {
			continue
		}
		var s string
		switch f.format {
		case "money":
			s, ok = p.formatMoney(path, v)
		case "number":
			if s, ok = formatNumber(v); !ok {
				s, ok = display(v)
			}
		case "date":
			if s, ok = formatDate(v); !ok {
				s, ok = display(v)
			}
		case "upper":
			s, ok = display(v)
			s = strings.ToUpper(s)
		case "lower":
			s, ok = display(v)
			s = strings.ToLower(s)
		default:
			s, ok = displayN(v, max)
		}
		if ok && s != "" {
			return s, true
		}
	}
	return "", false
}

// endsSentence reports whether s ends with a full stop, question or
// exclamation mark or an ellipsis.
func endsSentence(s string) bool {
	return strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") ||
		strings.HasSuffix(s, "?") || strings.HasSuffix(s, ellipsis)
}
