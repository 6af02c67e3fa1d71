package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeMarkup(t *testing.T) {
	for in, want := range map[string]string{
		`<b>bold</b>`:                 `&lt;b&gt;bold&lt;/b&gt;`,
		`<a href="http://x">y</a>`:    `&lt;a href=&#34;http://x&#34;&gt;y&lt;/a&gt;`,
		`Tom & Jerry's`:               `Tom &amp; Jerry&#39;s`,
		`&amp; already`:               `&amp;amp; already`,
		`plain text, no markup: 100%`: `plain text, no markup: 100%`,
	} {
		if got := EscapeMarkup(in); got != want {
			t.Errorf("EscapeMarkup(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"  a \t b\n\nc  ":        "a b c",
		"bell\a and nul\x00":     "bell and nul",
		"bidi \u202eevil\u202c":  "bidi evil",
		"bad utf8 \xff here":     "bad utf8 \uFFFD here",
		"family 👨\u200d👩\u200d👧": "family 👨\u200d👩\u200d👧",
	} {
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := cleanMultiline("a\r\nb\n\n\n\nc  \n"), "a\nb\n\nc"; got != want {
		t.Errorf("cleanMultiline = %q, want %q", got, want)
	}
}

func TestEscapeTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"The quick brown fox jumps over the lazy dog", 20, "The quick brown fox…"},
		{"The quick brown fox, jumps", 22, "The quick brown fox…"},
		{"Supercalifragilisticexpialidocious", 10, "Supercali…"},
		{"ab cdefghijklmnop", 10, "ab cdefgh…"}, // the only space is too early
		{"ÄÖÜ äöü ßẞ ÄÖÜ äöü", 9, "ÄÖÜ äöü…"},
		{"emoji 😀😀😀😀😀😀", 8, "emoji…"},
		{"anything", 1, "…"},
		{"no limit", 0, "no limit"},
	} {
		got := Truncate(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if tc.max > 0 && utf8.RuneCountInString(got) > tc.max {
			t.Errorf("Truncate(%q, %d) = %q is longer than %d", tc.in, tc.max, got, tc.max)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q is not valid UTF-8", tc.in, tc.max, got)
		}
	}
}

func TestEscapeLongBodyIsCutThenEscaped(t *testing.T) {
	// Cutting happens on the plain text, escaping afterwards, so an entity
	// is never cut in half.
	body := Truncate(strings.Repeat("a & b ", 100), MaxBodyRunes)
	esc := EscapeMarkup(body)
	if !strings.HasSuffix(esc, "…") || strings.Contains(esc, "&amp…") || strings.Count(esc, "&amp;") != strings.Count(body, "&") {
		t.Errorf("escaped body is damaged: %q", esc[len(esc)-40:])
	}
}
