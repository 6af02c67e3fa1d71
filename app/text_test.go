package app

import "testing"

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"enter a password":    "Enter a password.",
		"Done.":               "Done.",
		"ça marche":           "Ça marche.",
		"  spaced out  ":      "Spaced out.",
		"is this a question?": "Is this a question?",
	} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatCountAndPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
	for _, tt := range []struct {
		n          int
		noun, want string
	}{{1, "notification", "1 notification"}, {2, "notification", "2 notifications"}, {1, "match", "1 match"},
		{3, "match", "3 matches"}, {1, "entry", "1 entry"}, {1000, "entry", "1,000 entries"}} {
		if got := Plural(tt.n, tt.noun); got != tt.want {
			t.Errorf("Plural(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}
