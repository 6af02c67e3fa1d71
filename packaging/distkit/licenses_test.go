package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestEscapeModule(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/BurntSushi/toml": "github.com/!burnt!sushi/toml",
		"golang.org/x/sys":           "golang.org/x/sys",
		"v0.0.0-2024ABC":             "v0.0.0-2024!a!b!c",
	} {
		if got := escapeModule(in); got != want {
			t.Errorf("escapeModule(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFindLicenses(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"LICENSE":                 "MIT",
		"sub/c/LICENSE.md":        "zlib",
		"COPYING":                 "GPL-ish",
		"cmd/tool/COPYING":        "GPL-ish",
		"NOTICE.txt":              "notice",
		"testdata/LICENSE":        "skip me",
		"license.go":              "package x",
		"README.md":               "readme",
		"examples/foo/LICENSE":    "skip me too",
		"internal/licenses/list":  "not a licence file name",
		"third_party/x/COPYRIGHT": "bsd",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := findLicenses(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.Name)
	}
	want := "COPYING LICENSE NOTICE.txt sub/c/LICENSE.md third_party/x/COPYRIGHT"
	if strings.Join(names, " ") != want {
		t.Errorf("found %v, want %s", names, want)
	}
}

// The notices of a real Go binary list its modules with their licence
// texts, read from the real module cache.
func TestThirdPartyNoticesOfRealBinary(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is needed:", err)
	}
	bin := filepath.Join(t.TempDir(), "distkit")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	modCache, err := goEnv("GOMODCACHE")
	if err != nil {
		t.Fatal(err)
	}
	goroot, err := goEnv("GOROOT")
	if err != nil {
		t.Fatal(err)
	}
	mods, missing, err := thirdPartyNotices(bin, modCache, goroot)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 0 {
		t.Errorf("modules without licence: %v", missing)
	}
	text := formatNotices(mods, nil)
	for _, want := range []string{
		"Go standard library and runtime go1.",
		"github.com/BurntSushi/toml v",
		"golang.org/x/image v",
		"Copyright 2009 The Go Authors",
		"Permission is hereby granted", // toml's MIT text
	} {
		if !strings.Contains(text, want) {
			t.Errorf("notices lack %q", want)
		}
	}
	if _, _, err := thirdPartyNotices(filepath.Join(t.TempDir(), "none"), modCache, goroot); err == nil {
		t.Error("a missing binary was accepted")
	}
}

func TestDebianCommonLicenses(t *testing.T) {
	apache := "Copyright 2014 Example Inc.\n\n" +
		"                                 Apache License\n" +
		"                           Version 2.0, January 2004\n" +
		"                        http://www.apache.org/licenses/\n\n" +
		"   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n   ...\n" +
		"   END OF TERMS AND CONDITIONS\n\n   APPENDIX: Copyright 2015 Someone\n"
	got := debianCommonLicenses(apache + "\n---\nMIT text\n")
	for _, want := range []string{"Copyright 2014 Example Inc.", "/usr/share/common-licenses/Apache-2.0", "APPENDIX: Copyright 2015 Someone", "MIT text"} {
		if !strings.Contains(got, want) {
			t.Errorf("lost %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "TERMS AND CONDITIONS FOR USE") {
		t.Errorf("the Apache terms are still there:\n%s", got)
	}
	if other := "MIT License\nPermission is hereby granted"; debianCommonLicenses(other) != other {
		t.Error("a licence Debian does not ship was changed")
	}
}
