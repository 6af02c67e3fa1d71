package main

import (
	"debug/buildinfo"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// licenseName matches the file names that carry licence or notice texts.
var licenseName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|copyright|notice|unlicense|patents)([._-].*)?$`)

// moduleLicenses are the licence files of one module of a binary.
type moduleLicenses struct {
	Module string // "path version"
	Files  []licenseFile
}

type licenseFile struct {
	Name string // path inside the module
	Text string
}

// thirdPartyNotices lists the Go modules linked into the binary at bin (ELF,
// PE or Mach-O) and collects their licence texts from the module cache, plus
// the Go standard library's licence from goroot. Modules without a licence
// file are returned in missing.
func thirdPartyNotices(bin, modCache, goroot string) (mods []moduleLicenses, missing []string, err error) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, nil, fmt.Errorf("read module list of %s: %w", bin, err)
	}
	std, err := os.ReadFile(filepath.Join(goroot, "LICENSE"))
	if err != nil {
		return nil, nil, fmt.Errorf("read the Go licence: %w", err)
	}
	mods = append(mods, moduleLicenses{
		Module: "Go standard library and runtime " + info.GoVersion,
		Files:  []licenseFile{{Name: "LICENSE", Text: string(std)}},
	})
	for _, d := range info.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		dir := m.Path
		if m.Version != "" {
			dir = filepath.Join(modCache, escapeModule(m.Path)+"@"+escapeModule(m.Version))
		}
		files, err := findLicenses(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("licences of %s %s: %w", m.Path, m.Version, err)
		}
		name := strings.TrimSpace(m.Path + " " + m.Version)
		if len(files) == 0 {
			missing = append(missing, name)
			continue
		}
		mods = append(mods, moduleLicenses{Module: name, Files: files})
	}
	return mods, missing, nil
}

// findLicenses returns the licence files under dir, skipping test data.
func findLicenses(dir string) ([]licenseFile, error) {
	var out []licenseFile
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			switch e.Name() {
			case "testdata", ".git", "_examples", "examples", "test", "tests":
				return filepath.SkipDir
			}
			return nil
		}
		if !licenseName.MatchString(e.Name()) || strings.HasSuffix(e.Name(), ".go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, f := range out {
			if f.Text == string(b) {
				return nil // the same text again (e.g. copies in cmd/ folders)
			}
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, licenseFile{Name: filepath.ToSlash(rel), Text: string(b)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// escapeModule applies the module cache's case encoding: every upper-case
// letter becomes '!' and its lower-case form.
func escapeModule(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// formatNotices renders the notices as plain text: the module list first,
// then every licence text, each passed through transform (nil: unchanged).
func formatNotices(mods []moduleLicenses, transform func(string) string) string {
	var b strings.Builder
	for _, m := range mods {
		fmt.Fprintf(&b, "  - %s\n", m.Module)
	}
	for _, m := range mods {
		for _, f := range m.Files {
			fmt.Fprintf(&b, "\n%s\n%s (%s)\n%s\n\n", strings.Repeat("=", 72), m.Module, f.Name, strings.Repeat("-", 72))
			text := strings.ReplaceAll(f.Text, "\r\n", "\n")
			if transform != nil {
				text = transform(text)
			}
			b.WriteString(strings.Trim(text, "\n \t"))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// apacheTerms matches the terms of the Apache License 2.0, from its title to
// "END OF TERMS AND CONDITIONS" (the appendix, which may carry the
// project's own copyright notice, is kept).
var apacheTerms = regexp.MustCompile(`(?s)[ \t]*Apache License[ \t]*\r?\n[ \t]*Version 2\.0, January 2004.*?END OF TERMS AND CONDITIONS`)

// debianCommonLicenses replaces full licence texts that Debian ships in
// /usr/share/common-licenses with a reference, as Debian policy 12.5 asks
// (lintian: copyright-file-contains-full-apache-2-license).
func debianCommonLicenses(text string) string {
	return apacheTerms.ReplaceAllLiteralString(text,
		"Licensed under the Apache License, Version 2.0. On Debian systems the full\n"+
			"text of the licence is in /usr/share/common-licenses/Apache-2.0.")
}
