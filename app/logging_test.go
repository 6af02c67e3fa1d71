package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactingHandlerMasksTokenEverywhere(t *testing.T) {
	const token = "12|sEcReTtOkEnVaLuE"
	var buf bytes.Buffer
	r := NewRedactor()
	r.Add(token)
	log := slog.New(NewRedactingHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), r))
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	log.Info("got "+token, "token", token)
	log.Debug("header", "h", h)
	log.Warn("failed", "err", fmt.Errorf("request with %s failed", token))
	log.With("tok", token).WithGroup("g").Error("grouped", slog.Group("inner", "v", token), "n", 3)
	log.Info("someone else's bearer", "auth", "Bearer other-token-xyz")
	out := buf.String()
	if strings.Contains(out, token) || strings.Contains(out, "sEcReT") || strings.Contains(out, "other-token-xyz") {
		t.Fatalf("secret in log:\n%s", out)
	}
	if c := strings.Count(out, redacted); c < 7 {
		t.Errorf("want every occurrence masked (>= 7), got %d:\n%s", c, out)
	}
	if !strings.Contains(out, "n=3") {
		t.Errorf("non-secret attributes must survive:\n%s", out)
	}
	r.Remove(token)
	buf.Reset()
	log.Info(token)
	if !strings.Contains(buf.String(), token) {
		t.Error("a removed secret is still masked")
	}
}

func TestRedactorWriter(t *testing.T) {
	r := NewRedactor()
	r.Add("tok-abc")
	var buf bytes.Buffer
	w := r.Writer(&buf)
	n, err := fmt.Fprintln(w, "token is tok-abc")
	if err != nil || n != len("token is tok-abc\n") {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if buf.String() != "token is [REDACTED]\n" {
		t.Errorf("got %q", buf.String())
	}
}

func TestRotatingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "echotray.log")
	f, err := OpenRotatingFile(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 39) + "\n" // 40 bytes
	for i := range 10 {
		if _, err := fmt.Fprint(f, fmt.Sprintf("%d", i%10)+line[1:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// 10 lines of 40 bytes, 2 per file: the newest file has lines 8-9,
	// .1 has 6-7, .2 has 4-5; older ones are gone (keep 2).
	check := func(p, first string) {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 100 || !strings.HasPrefix(string(b), first) {
			t.Errorf("%s: %d bytes starting %q", filepath.Base(p), len(b), string(b[:1]))
		}
	}
	check(path, "8")
	check(path+".1", "6")
	check(path+".2", "4")
	if _, err := os.Stat(path + ".3"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".3 exists: %v", err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v", st.Mode().Perm())
	}
}

func TestSetupLoggingLevels(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	l, err := SetupLogging(LogOptions{Level: slog.LevelDebug, File: filepath.Join(dir, "l.log"), Stderr: &stderr, StderrLevel: slog.LevelWarn})
	if err != nil {
		t.Fatal(err)
	}
	l.Redactor.Add("tok-zzz")
	l.Logger.Debug("debug line tok-zzz")
	l.Logger.Warn("warn line")
	_ = l.Close()
	file, _ := os.ReadFile(l.Path)
	if !strings.Contains(string(file), "debug line [REDACTED]") || !strings.Contains(string(file), "warn line") {
		t.Errorf("file:\n%s", file)
	}
	if strings.Contains(stderr.String(), "debug line") || !strings.Contains(stderr.String(), "warn line") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("verbose"); err == nil {
		t.Error("verbose accepted")
	}
}

// textIP is a value with MarshalText, which slog's text handler prints.
type textIP string

func (t textIP) MarshalText() ([]byte, error) { return []byte("ip:" + string(t)), nil }

func TestRedactingHandlerKeysBytesAndEscapedForms(t *testing.T) {
	const token = "12|sEcReTtOkEnVaLuE"
	var buf bytes.Buffer
	r := NewRedactor()
	r.Add(token)
	log := slog.New(NewRedactingHandler(slog.NewTextHandler(&buf, nil), r))
	log.Info("key", token, "v")                                       // as an attribute key
	log.Info("bytes", "b", []byte("tok="+token))                      // []byte
	log.Info("raw", "j", json.RawMessage(`{"t":"`+token+`"}`))        // a named byte slice
	log.Info("url", "u", "https://x/cb?token=12%7CsEcReTtOkEnVaLuE")  // URL-escaped
	log.Info("url lower", "u", "12%7csEcReTtOkEnVaLuE")               // lower-case hex
	log.Info("url twice", "u", "12%257CsEcReTtOkEnVaLuE")             // escaped twice
	log.Info("json", "body", `{"token":"12\u007csEcReTtOkEnVaLuE"}`)  // JSON-escaped
	log.Info("json upper", "body", `12\u007CsEcReTtOkEnVaLuE`)        // upper-case hex
	log.Info("html", "body", `12&#124;sEcReTtOkEnVaLuE`)              // HTML reference
	log.Info("marshaler", "ip", textIP(token))                        // MarshalText
	log.WithGroup(token).Info("group name", "n", 1)                   // group name
	log.Info("nested", slog.Group("g", slog.Any("b", []byte(token)))) // []byte in a group
	out := buf.String()
	if strings.Contains(out, "sEcReT") {
		t.Fatalf("secret in log:\n%s", out)
	}
	if c := strings.Count(out, redacted); c < 12 {
		t.Errorf("want every form masked (>= 12), got %d:\n%s", c, out)
	}
	if !strings.Contains(out, "n=1") {
		t.Errorf("non-secret attributes must survive:\n%s", out)
	}
}

func TestRedactorURLCredentialsAndOrder(t *testing.T) {
	r := NewRedactor()
	for in, want := range map[string]string{
		"server=http://stage:S3cretBasic@api.example.com/x": "server=http://stage:xxxxx@api.example.com/x",
		`{"url":"https:\/\/u:S3cretBasic@h\/"}`:             `{"url":"https:\/\/u:xxxxx@h\/"}`,
		"wss://u:S3cretBasic@h:6001/app":                    "wss://u:xxxxx@h:6001/app",
		"http://user@host/no-password":                      "http://user@host/no-password",
		"http://host:8080/path@at":                          "http://host:8080/path@at",
	} {
		if got := r.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// A secret inside another: the longer is masked whole.
	r.Add("abc1")
	r.Add("xyzabc1xyz")
	if got := r.Redact("k=xyzabc1xyz"); got != "k="+redacted {
		t.Errorf("nested secrets: %q", got)
	}
	// Counted: two Adds need two Removes.
	r.Add("abc1")
	r.Remove("abc1")
	if r.Redact("abc1") != redacted {
		t.Error("one Remove of two Adds forgot the secret")
	}
	r.Remove("abc1")
	if r.Redact("abc1") != "abc1" {
		t.Error("the secret is still masked after its last Remove")
	}
	// Special characters of a password in each escaped form.
	r.Add(`p@ss "wörd"/1`)
	for _, form := range []string{`p@ss "wörd"/1`, `p%40ss+%22w%C3%B6rd%22%2F1`, `p%40ss%20%22w%c3%b6rd%22%2f1`,
		`p@ss \"w\u00f6rd\"\/1`} {
		if got := r.Redact("x " + form + " y"); got != "x "+redacted+" y" {
			t.Errorf("Redact(%q) = %q", form, got)
		}
	}
}

func TestScrubError(t *testing.T) {
	const tok = "9|tokenValue"
	api := &APIError{Kind: KindUnauthorized, Status: 401, Message: "bad 9%7CtokenValue", URL: "http://u:pw@h/x",
		Fields: map[string][]string{"token": {"was " + tok}}, Err: fmt.Errorf("cause %s: %w", tok, os.ErrDeadlineExceeded)}
	err := scrubError(api, tok)
	var got *APIError
	if !errors.As(err, &got) || got == api || got.Kind != KindUnauthorized || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("scrubbed = %#v", err)
	}
	if got.Message != "bad "+redacted || got.Fields["token"][0] != "was "+redacted || got.URL != "http://u:xxxxx@h/x" {
		t.Errorf("scrubbed fields: %q %q %q", got.Message, got.Fields, got.URL)
	}
	if strings.Contains(got.Err.Error(), "tokenValue") || !errors.Is(got.Err, os.ErrDeadlineExceeded) {
		t.Errorf("cause = %v", got.Err)
	}
	if api.Message != "bad 9%7CtokenValue" {
		t.Error("the original error was changed")
	}
	plain := fmt.Errorf("wrapped %s: %w", tok, ErrNotSignedIn)
	if err := scrubError(plain, tok); err.Error() != "wrapped "+redacted+": nobody is signed in" || !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("plain = %v", err)
	}
	if err := scrubError(ErrNotSignedIn, tok); err != ErrNotSignedIn {
		t.Errorf("an error without secrets was replaced: %#v", err)
	}
}
