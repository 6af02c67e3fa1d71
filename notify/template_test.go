package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func renderString(t *testing.T, tmpl, data string) (string, bool) {
	t.Helper()
	tp, err := ParseTemplate(tmpl)
	if err != nil {
		t.Fatalf("ParseTemplate(%q): %v", tmpl, err)
	}
	return tp.render(parsePayload(json.RawMessage(data)))
}

func TestTemplateRender(t *testing.T) {
	for _, tc := range []struct {
		name, tmpl, data string
		want             string // "" = does not render
	}{
		{"nested", "{user.name} joined", `{"user":{"name":"Ann"}}`, "Ann joined"},
		{"flat alternative", "{user.name|name} joined", `{"name":"Ann"}`, "Ann joined"},
		{"first alternative wins", "{user.name|name}", `{"name":"B","user":{"name":"A"}}`, "A"},
		{"default", "{user.name|name?someone} joined", `{}`, "someone joined"},
		{"empty default", "{user.name?}!", `{}`, "!"},
		{"default with separators", "{x?a:b|c}", `{}`, "a:b|c"},
		{"missing makes it fail", "{user.name} joined", `{}`, ""},
		{"null is missing", "{user.name}", `{"user":{"name":null}}`, ""},
		{"blank is missing", "{user.name}", `{"user":{"name":" \n\t"}}`, ""},
		{"optional kept", "Paid[ by {payer}].", `{"payer":"Ann"}`, "Paid by Ann."},
		{"optional dropped", "Paid[ by {payer}].", `{}`, "Paid."},
		{"nested optional", "A[ b[ c{c}] d{d}]", `{"d":"D"}`, "A b dD"},
		{"optional with default", "A[ {x?none}]", `{}`, "A none"},
		{"escapes", `\{literal\} \[x\] \\ {a}`, `{"a":"A"}`, `{literal} [x] \ A`},
		{"array index", "{items.1.name}", `{"items":[{"name":"a"},{"name":"b"}]}`, "b"},
		{"object stands for its name", "{user}", `{"user":{"id":1,"email":"a@b.c","name":"Ann"}}`, "Ann"},
		{"array of scalars", "{tags}", `{"tags":["x","y","z","w"]}`, "x, y, z and 1 more"},
		{"numbers as sent", "{n} {f} {e}", `{"n":42,"f":1.50,"e":1e3}`, "42 1.50 1000"},
		{"booleans", "{a}/{b}", `{"a":true,"b":false}`, "yes/no"},
		{"keys ignore case and underscores", "{hotspot_user.user_name}", `{"hotspotUser":{"UserName":"g1"}}`, "g1"},
		{"exact key preferred", "{user_name}", `{"userName":"wrong","user_name":"right"}`, "right"},
		{"data wrapper", "{user.name}", `{"data":{"user":{"name":"Ann"}}}`, "Ann"},
		{"bare string payload", "{message}", `"hello"`, "hello"},
		{"whitespace cleaned", "{a}", `{"a":"  two\n lines\u0007 "}`, "two lines"},
		{"full stop not doubled", "Failed: {r}.", `{"r":"No funds."}`, "Failed: No funds."},
		{"question kept", "Why: {r}.", `{"r":"Who?"}`, "Why: Who?"},
		{"money nested currency", "{payment.amount:money}", `{"payment":{"amount":1500,"currency":"KES"}}`, "KES 1,500.00"},
		{"money top currency", "{payment.amount:money}", `{"payment":{"amount":"1500"},"currency":"usd"}`, "USD 1,500.00"},
		{"money currency_code", "{amount:money}", `{"amount":0.5,"currency_code":"EUR"}`, "EUR 0.50"},
		{"money rounding", "{amount:money}", `{"amount":2.005}`, "2.01"},
		{"money negative", "{amount:money}", `{"amount":-1234.5,"currency":"KES"}`, "KES -1,234.50"},
		{"money grouped string", "{amount:money}", `{"amount":"1,000,000"}`, "1,000,000.00"},
		{"money bad currency ignored", "{amount:money}", `{"amount":5,"currency":"Kenyan shillings"}`, "5.00"},
		{"money not a number", "{amount:money}", `{"amount":"KES 1.5k"}`, "KES 1.5k"},
		{"money fraction string", "{amount:money}", `{"amount":"3/4"}`, "3/4"},
		{"number", "{n:number}", `{"n":1234567}`, "1,234,567"},
		{"number fraction", "{n:number}", `{"n":"1234.50"}`, "1,234.5"},
		{"number not a number", "{n:number}", `{"n":"many"}`, "many"},
		{"date laravel", "{at:date}", `{"at":"2025-12-03 14:05:00"}`, "3 Dec 2025, 14:05"},
		{"date only", "{at:date}", `{"at":"2025-12-03"}`, "3 Dec 2025"},
		{"date not a date", "{at:date}", `{"at":"soon"}`, "soon"},
		{"upper", "{c:upper}", `{"c":"kes"}`, "KES"},
		{"lower", "{c:lower}", `{"c":"KES"}`, "kes"},
		{"placeholder text in values stays text", "{a}", `{"a":"{b} [c]"}`, "{b} [c]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := renderString(t, tc.tmpl, tc.data)
			if tc.want == "" {
				if ok {
					t.Errorf("rendered %q, want no render", got)
				}
				return
			}
			if !ok || got != tc.want {
				t.Errorf("render = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestTemplateDateInLocalTime(t *testing.T) {
	at := time.Date(2025, 12, 3, 11, 5, 0, 0, time.UTC)
	got, ok := renderString(t, "{at:date}", `{"at":"2025-12-03T11:05:00Z","ms":1764759900000}`)
	if want := at.In(time.Local).Format("2 Jan 2006, 15:04"); !ok || got != want {
		t.Errorf("RFC 3339: got %q, want %q", got, want)
	}
	got, ok = renderString(t, "{ms:date}", `{"ms":1764759900000}`)
	if want := at.In(time.Local).Format("2 Jan 2006, 15:04"); !ok || got != want {
		t.Errorf("unix ms: got %q, want %q", got, want)
	}
}

func TestTemplateParseErrors(t *testing.T) {
	for tmpl, want := range map[string]string{
		"{user.name":         "not closed",
		"a } b":              "unexpected }",
		"[a {b}":             "not closed with ]",
		"a ] b":              "unexpected ]",
		"{}":                 "empty field name",
		"{a||b}":             "empty field name",
		"{a..b}":             "bad field name",
		"{a b}":              "bad field name",
		"{amount:euro}":      `unknown format "euro"`,
		`trailing \`:         `lone \`,
		"{a{b}}":             "not closed",
		"[outer [inner {x}]": "not closed with ]",
	} {
		_, err := ParseTemplate(tmpl)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTemplate(%q) error = %v, want it to mention %q", tmpl, err, want)
		}
	}
}

func TestTemplateString(t *testing.T) {
	const src = "{a|b:money?c}[ x]"
	if tp, err := ParseTemplate(src); err != nil || tp.String() != src {
		t.Errorf("String() = %v, %v", tp, err)
	}
}

func TestTemplateNilNeverRenders(t *testing.T) {
	var tp *Template
	if _, ok := tp.render(payload{}); ok {
		t.Error("nil template rendered")
	}
}
