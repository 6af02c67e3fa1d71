package main

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testData is the repository's metadata with a fixed date and the values
// dist.sh passes.
func testData(t *testing.T) renderData {
	t.Helper()
	m, err := LoadMeta(writeToml(t, goodToml))
	if err != nil {
		t.Fatal(err)
	}
	m.Date = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	desc, err := os.ReadFile(filepath.Join("..", "description.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return renderData{Meta: m, Vars: map[string]string{
		"Description":   string(desc),
		"License":       "LicenseRef-proprietary",
		"Maintainer":    "EchoTray maintainers <echotray@example.org>",
		"Depends":       "libc6 (>= 2.34), libgl1",
		"InstalledSize": "12345",
		"LicenseText":   "All rights reserved.",
		"ThirdParty":    "  - some/module v1.0.0\n",
		"IconSizes":     "16 32",
	}}
}

func renderTemplate(t *testing.T, name string, data renderData) string {
	t.Helper()
	b, err := render(filepath.Join("..", name), "", data)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wellFormedXML fails the test when s is not well-formed XML.
func wellFormedXML(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
	}
}

func TestDesktopEntry(t *testing.T) {
	got := renderTemplate(t, "linux/echotray.desktop.tmpl", testData(t))
	for _, want := range []string{
		"[Desktop Entry]\n",
		"\nName=EchoTray\n",
		"\nExec=echotray\n",
		"\nIcon=net.traidnet.echotray\n",
		"\nCategories=Network;Utility;\n",
		"\nKeywords=a\\;b;c;\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("desktop entry lacks %q:\n%s", want, got)
		}
	}
	d := testData(t)
	d.Vars["Exec"] = "/opt/e/bin/echotray"
	if got := renderTemplate(t, "linux/echotray.desktop.tmpl", d); !strings.Contains(got, "\nExec=/opt/e/bin/echotray\n") {
		t.Errorf("Exec override ignored:\n%s", got)
	}
}

func TestMetainfo(t *testing.T) {
	got := renderTemplate(t, "linux/metainfo.xml.tmpl", testData(t))
	wellFormedXML(t, got)
	var c struct {
		ID         string   `xml:"id"`
		Name       string   `xml:"name"`
		Summary    string   `xml:"summary"`
		Paragraphs []string `xml:"description>p"`
		Launchable string   `xml:"launchable"`
		Binary     string   `xml:"provides>binary"`
		Releases   []struct {
			Version string `xml:"version,attr"`
			Date    string `xml:"date,attr"`
		} `xml:"releases>release"`
	}
	if err := xml.Unmarshal([]byte(got), &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "net.traidnet.echotray" || c.Launchable != "net.traidnet.echotray.desktop" || c.Binary != "echotray" {
		t.Errorf("ids: %+v", c)
	}
	if len(c.Releases) != 1 || c.Releases[0].Version != "1.2.3" || c.Releases[0].Date != "2026-03-04" {
		t.Errorf("releases %+v", c.Releases)
	}
	if len(c.Paragraphs) != 2 || strings.Contains(c.Paragraphs[0], "\n") {
		t.Errorf("description paragraphs: %q", c.Paragraphs)
	}
}

func TestDebianControl(t *testing.T) {
	got := renderTemplate(t, "linux/control.tmpl", testData(t))
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(got))
	var last string
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, " ") {
			if last != "Description" {
				t.Errorf("%s is a multi-line field: binary packages allow that only for Description", last)
			}
			if len(l) > 80 {
				t.Errorf("line longer than 80 columns: %q", l)
			}
			fields[last] += "\n" + l
			continue
		}
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("not a control field: %q", l)
		}
		fields[k], last = v, k
	}
	for k, want := range map[string]string{
		"Package":        "echotray",
		"Version":        "1.2.3-7",
		"Architecture":   "amd64",
		"Installed-Size": "12345",
		"Depends":        "libc6 (>= 2.34), libgl1",
		"Homepage":       "https://example.org/tray",
	} {
		if fields[k] != want {
			t.Errorf("%s = %q, want %q", k, fields[k], want)
		}
	}
	if !strings.Contains(fields["Recommends"], "gnome-shell-extension-appindicator") {
		t.Errorf("Recommends lacks a StatusNotifier host: %q", fields["Recommends"])
	}
	if !strings.Contains(fields["Description"], "\n .\n") {
		t.Errorf("the extended description's paragraph break is not \" .\": %q", fields["Description"])
	}
	if strings.HasSuffix(strings.SplitN(fields["Description"], "\n", 2)[0], ".") {
		t.Error("the synopsis ends with a full stop")
	}
}

func TestManPage(t *testing.T) {
	d := testData(t)
	d.Vars["Help"] = "Usage of echotray:\n  -version\n.dangerous line"
	got := renderTemplate(t, "linux/echotray.1.tmpl", d)
	if !regexp.MustCompile(`(?m)^\.TH ECHOTRAY 1 "2026-03-04" "EchoTray 1\.2\.3"`).MatchString(got) {
		t.Errorf("bad .TH line:\n%s", got)
	}
	if !strings.Contains(got, "\n\\&.dangerous line\n") || !strings.Contains(got, `\-version`) {
		t.Errorf("--help text not escaped for roff:\n%s", got)
	}
	delete(d.Vars, "Help")
	if got := renderTemplate(t, "linux/echotray.1.tmpl", d); strings.Contains(got, ".SH USAGE") {
		t.Error("USAGE section without --help text")
	}
}

func TestWindowManPage(t *testing.T) {
	got := renderTemplate(t, "linux/echotray-window.1.tmpl", testData(t))
	if !regexp.MustCompile(`(?m)^\.TH ECHOTRAY\\-WINDOW 1 "2026-03-04" "EchoTray 1\.2\.3"`).MatchString(got) {
		t.Errorf("bad .TH line:\n%s", got)
	}
	for _, want := range []string{"echotray\\-window \\- the windows of EchoTray", ".BR echotray (1)", "side by side"} {
		if !strings.Contains(got, want) {
			t.Errorf("the window program's man page lacks %q:\n%s", want, got)
		}
	}
	if main := renderTemplate(t, "linux/echotray.1.tmpl", testData(t)); !strings.Contains(main, ".BR echotray\\-window (1)") {
		t.Errorf("echotray(1) does not refer to echotray-window(1):\n%s", main)
	}
}

func TestWindowsResources(t *testing.T) {
	d := testData(t)
	d.Comment = `Say "hi"`
	rc := renderTemplate(t, "windows/echotray.rc.tmpl", d)
	for _, want := range []string{
		"FILEVERSION 1,2,3,7\n",
		`VALUE "FileVersion", "1.2.3.7"`,
		`VALUE "Comments", "Say ""hi"""`,
		`1 ICON "echotray.ico"`,
		`1 24 "echotray.exe.manifest"`,
	} {
		if !strings.Contains(rc, want) {
			t.Errorf(".rc lacks %q:\n%s", want, rc)
		}
	}
	man := renderTemplate(t, "windows/echotray.exe.manifest.tmpl", d)
	wellFormedXML(t, man)
	if !strings.Contains(man, `version="1.2.3.7"`) || !strings.Contains(man, `level="asInvoker"`) {
		t.Errorf("manifest:\n%s", man)
	}
}

func TestInfoPlist(t *testing.T) {
	got := renderTemplate(t, "macos/Info.plist.tmpl", testData(t))
	wellFormedXML(t, got)
	// Pair every <key> with the element after it.
	d := xml.NewDecoder(strings.NewReader(got))
	d.Strict = false
	values := map[string]string{}
	var key, elem string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			elem = tk.Name.Local
			if key != "" && (elem == "true" || elem == "false") {
				values[key], key = elem, ""
			}
		case xml.CharData:
			s := strings.TrimSpace(string(tk))
			switch {
			case s == "":
			case elem == "key":
				key = s
			case key != "":
				values[key], key = s, ""
			}
		}
	}
	for k, want := range map[string]string{
		"LSUIElement":                "true",
		"NSHighResolutionCapable":    "true",
		"CFBundleIdentifier":         "net.traidnet.echotray",
		"CFBundleExecutable":         "echotray",
		"CFBundleShortVersionString": "1.2.3",
		"CFBundleVersion":            "7",
		"CFBundleIconFile":           "echotray.icns",
	} {
		if values[k] != want {
			t.Errorf("%s = %q, want %q", k, values[k], want)
		}
	}
}

func TestTarballMakefileUsesTabs(t *testing.T) {
	got := renderTemplate(t, "linux/Makefile.tmpl", testData(t))
	if !strings.Contains(got, "\n\tinstall -Dm755 $(SRC)/bin/$(BIN) $(DESTDIR)$(PREFIX)/bin/$(BIN)\n") {
		t.Errorf("install recipe missing or not tab-indented:\n%s", got)
	}
	if !strings.Contains(got, "\n\tinstall -Dm755 $(SRC)/bin/$(WBIN) $(DESTDIR)$(PREFIX)/bin/$(WBIN)\n") ||
		!strings.Contains(got, "WBIN    := echotray-window\n") || !strings.Contains(got, "bin/$(BIN) bin/$(WBIN) ") {
		t.Errorf("the tarball does not install and uninstall echotray-window:\n%s", got)
	}
	if !strings.Contains(got, "SIZES   := 16 32\n") {
		t.Errorf("icon sizes not filled in")
	}
}

func TestRenderMissingVarFails(t *testing.T) {
	d := testData(t)
	delete(d.Vars, "Depends")
	if _, err := render(filepath.Join("..", "linux/control.tmpl"), "", d); err == nil {
		t.Error("a missing template value rendered silently")
	}
}

func TestTemplateFuncs(t *testing.T) {
	desc := templateFuncs["debDesc"].(func(string) string)
	if got := desc("a\n\nb  \n"); got != " a\n .\n b" {
		t.Errorf("debDesc = %q", got)
	}
	roff := templateFuncs["roff"].(func(string) string)
	if got := roff(`.x -y \z`); got != `\&.x \-y \ez` {
		t.Errorf("roff = %q", got)
	}
	if got := paragraphs("a\nb\n\n\nc\n"); len(got) != 2 || got[0] != "a b" || got[1] != "c" {
		t.Errorf("paragraphs = %q", got)
	}
	xmlEsc := templateFuncs["xml"].(func(string) (string, error))
	if got, _ := xmlEsc(`<a & "b">`); got != "&lt;a &amp; &#34;b&#34;&gt;" {
		t.Errorf("xml = %q", got)
	}
}
