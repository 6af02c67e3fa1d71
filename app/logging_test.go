package app

import (
	"bytes"
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
