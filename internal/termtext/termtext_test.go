package termtext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line string // Clean(in, Line)
		keep string // Clean(in, Lines); "" means the same as line
	}{
		{"plain", "Payment received", "Payment received", ""},
		{"OSC 52 and CSI", "Foo\x1b]52;c;SGVsbG8=\a\x1b[2J", "Foo", ""},
		{"OSC with ST", "a\x1b]0;title\x1b\\b", "ab", ""},
		{"OSC with C1 ST", "a\x1b]8;;http://x\u009cb", "ab", ""},
		{"OSC unterminated", "a\x1b]52;c;AAAA", "a", ""},
		{"OSC broken by ESC", "a\x1b]0;t\x1b[31mb", "ab", ""},
		{"SGR colours", "\x1b[1;31mred\x1b[0m", "red", ""},
		{"CSI private", "\x1b[?1049hx\x1b[?25l", "x", ""},
		{"CSI broken", "\x1b[12\x07x", "x", ""},
		{"C1 CSI", "a\u009b2Jb", "ab", ""},
		{"C1 OSC", "a\u009d52;c;AAAA\u0007b", "ab", ""},
		{"DCS", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab", ""},
		{"APC", "a\x1b_Gf=100;AAAA\x1b\\b", "ab", ""},
		{"short escapes", "\x1bcreset\x1b7\x1b(Bx\x1b#8", "resetx", ""},
		{"lone ESC", "end\x1b", "end", ""},
		{"ESC before text", "\x1b\x1b[2Jx", "x", ""},
		{"ESC before non-ASCII", "\x1bé", "é", ""},
		{"C0 and DEL", "a\x00b\x07c\x08d\x7fe\x1af", "abcdef", ""},
		{"C1", "a\u0080b\u0085c\u0081\u0099d", "ab cd", "ab\ncd"}, // NEL is a line break
		{"tab", "a\tb", "a b", ""},
		{"line breaks", "one\ntwo\r\nthree\rfour\u2028five\u2029six", "one two three four five six", "one\ntwo\nthree\nfour\nfive\nsix"},
		{"bidi overrides", "\u202eevil\u202c \u202a\u202b\u202d", "evil ", ""},
		{"bidi isolates and marks", "\u2066a\u2069\u2067b\u2068\u200e\u200f\u061c", "ab", ""},
		{"invisible", "a\u200bb\u2060c\ufeffd\u00ade\u2062f\U000E0001g", "abcdefg", ""},
		{"tags outside a flag", "a\U000E0041\U000E0042b", "ab", ""},
		{"invalid UTF-8", "bad \xff\xc3", "bad \uFFFD\uFFFD", ""},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in, Line); got != tt.line {
				t.Errorf("Clean(%q, Line) = %q, want %q", tt.in, got, tt.line)
			}
			want := tt.keep
			if want == "" {
				want = tt.line
			}
			if got := Clean(tt.in, Lines); got != want {
				t.Errorf("Clean(%q, Lines) = %q, want %q", tt.in, got, want)
			}
		})
	}
}

// Ordinary text in any script, with emoji, is left exactly as it is.
func TestCleanKeepsText(t *testing.T) {
	for _, s := range []string{
		"KES 1,500.00",
		"Malipo yamepokelewa: KES 1,500.00 kutoka kwa Wanjiru (0712 345 678)",
		"Ümlaut, ñ, ç, ø, ß, ﬁ",
		"日本語のテキスト、中文、한국어",
		"العربية עברית فارسی",                                           // right-to-left text itself is fine
		"नमस्ते क्‍ष",                                                   // with a ZWJ
		"می‌خواهم",                                                      // Persian with a ZWNJ
		"💰 ✅ ⚠️ 🚀",                                                      // with variation selectors
		"👩‍👩‍👧‍👦 👍🏽",                                                    // ZWJ sequence, skin tone
		"🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", // flag of Scotland (tag sequence)
		"🇰🇪",
		"a  b",
		"",
	} {
		for _, mode := range []Mode{Line, Lines} {
			if got := Clean(s, mode); got != s {
				t.Errorf("Clean(%q, %d) = %q, want it unchanged", s, mode, got)
			}
		}
		b, _ := json.Marshal(s)
		if got := EscapeJSON(b); string(got) != string(b) {
			t.Errorf("EscapeJSON(%s) = %s, want it unchanged", b, got)
		}
	}
	if got := Clean("two\nlines", Lines); got != "two\nlines" {
		t.Errorf("Lines changed %q", got)
	}
}

func TestCleanDoesNotAllocateForSafeText(t *testing.T) {
	s := strings.Repeat("Malipo ya KES 1,500.00 💰 ", 20)
	if n := testing.AllocsPerRun(100, func() { _ = Clean(s, Line) }); n != 0 {
		t.Errorf("%v allocations for safe text", n)
	}
}

func TestEscapeJSON(t *testing.T) {
	in := map[string]string{
		"event": "Foo\x1b]52;c;SGVsbG8=\a\x1b[2J",
		"title": "\u202eevil \u009b2J \u0085 \x7f \u200b \U000E0041 ok",
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := EscapeJSON(b)
	if strings.ContainsAny(string(out), "\x1b\a\x7f\u202e\u009b\u0085\u200b\U000E0041") {
		t.Errorf("unsafe characters left: %q", out)
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("not JSON any more: %v\n%s", err, out)
	}
	for k, v := range in {
		if back[k] != v {
			t.Errorf("%s = %q, want %q (the JSON must mean the same)", k, back[k], v)
		}
	}
	if !strings.Contains(string(out), `\u202e`) || !strings.Contains(string(out), `\udb40\udc41`) {
		t.Errorf("escapes: %s", out)
	}
	// Invalid UTF-8 (not from json.Marshal, which replaces it itself).
	if got := string(EscapeJSON([]byte("\"a\xffb\"\n"))); got != "\"a\\ufffdb\"\n" {
		t.Errorf("invalid UTF-8: %q", got)
	}
}

// FuzzClean checks, for any input, that no control character, escape,
// bidi control or invisible format character is left, that Clean is
// idempotent, and that EscapeJSON keeps the JSON's meaning.
func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"Foo\x1b]52;c;SGVsbG8=\a\x1b[2J", "\u009b31m\u009d0;x\u009c", "a\r\nb\rc", "\u202eabc",
		"🏴\U000E0067\U000E007F", "\x1b", "\x1b[", "\x1bP", "\xc2", "KES 1,500.00 💰",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, mode := range []Mode{Line, Lines} {
			got := Clean(s, mode)
			if !utf8.ValidString(got) {
				t.Fatalf("Clean(%q) = %q: invalid UTF-8", s, got)
			}
			if again := Clean(got, mode); again != got {
				t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
			}
			inFlag := false
			for _, r := range got {
				if r == '\n' && mode == Lines {
					inFlag = false
					continue
				}
				if r >= tagFirst && r <= tagLast && inFlag {
					continue
				}
				if unsafe(r) || r == '\t' {
					t.Fatalf("Clean(%q, %d) = %q keeps %U", s, mode, got, r)
				}
				inFlag = r == blackFlg
			}
		}
		b, _ := json.Marshal(s)
		out := EscapeJSON(b)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("EscapeJSON(%s) = %s: %v", b, out, err)
		}
		if want := string([]rune(s)); back != want {
			t.Fatalf("EscapeJSON changed the meaning: %q, want %q", back, want)
		}
		if !jsonSafe(out) {
			t.Fatalf("EscapeJSON(%s) = %s is not safe", b, out)
		}
	})
}
