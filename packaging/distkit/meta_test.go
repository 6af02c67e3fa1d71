package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodToml = `Website = "https://example.org/tray"

[Details]
  Icon = "assets/icon.png"
  Name = "EchoTray"
  ID = "net.traidnet.echotray"
  Version = "1.2.3"
  Build = 7

[LinuxAndBSD]
  GenericName = "Notifier"
  Categories = ["Network", "Utility"]
  Comment = "Desktop notifications"
  Keywords = ["a;b", "c"]

[Migrations]
  fyneDo = true
`

func writeToml(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "FyneApp.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadMeta(t *testing.T) {
	m, err := LoadMeta(writeToml(t, goodToml))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"Name", m.Name, "EchoTray"},
		{"ID", m.ID, "net.traidnet.echotray"},
		{"Binary", m.Binary(), "echotray"},
		{"Publisher", m.Publisher(), "traidnet"},
		{"DebVersion", m.DebVersion(), "1.2.3-7"},
		{"WinVersion", m.WinVersion(), "1.2.3.7"},
		{"WinVersionCommas", m.WinVersionCommas(), "1,2,3,7"},
		{"GoTags", strings.Join(m.GoTags, ","), "migrated_fynedo"},
		{"Website", m.Website, "https://example.org/tray"},
		{"Keywords", strings.Join(m.Keywords, "|"), "a;b|c"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestLoadMetaDefaultsBuildAndIgnoresUnknownMigrations(t *testing.T) {
	body := strings.Replace(goodToml, "  Build = 7\n", "", 1)
	body = strings.Replace(body, "fyneDo = true", "fyneDo = false\n  somethingNew = true", 1)
	m, err := LoadMeta(writeToml(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if m.Build != 1 {
		t.Errorf("Build = %d, want the default 1", m.Build)
	}
	if len(m.GoTags) != 0 {
		t.Errorf("GoTags = %v, want none", m.GoTags)
	}
}

func TestLoadMetaRejects(t *testing.T) {
	tests := []struct {
		name, from, to, want string
	}{
		{"two-part version", `Version = "1.2.3"`, `Version = "1.2"`, "MAJOR.MINOR.PATCH"},
		{"pre-release", `Version = "1.2.3"`, `Version = "1.2.3-rc1"`, "MAJOR.MINOR.PATCH"},
		{"version part too big", `Version = "1.2.3"`, `Version = "1.70000.3"`, "above 65535"},
		{"short id", `ID = "net.traidnet.echotray"`, `ID = "echotray"`, "reverse-DNS"},
		{"upper-case id", `ID = "net.traidnet.echotray"`, `ID = "net.TraidNet.echotray"`, "reverse-DNS"},
		{"build zero", "Build = 7", "Build = 0", "Details.Build 0"},
		{"no name", `Name = "EchoTray"`, `Name = ""`, "Details.Name is empty"},
		{"name unusable as a file name", `Name = "EchoTray"`, `Name = "Echo/Tray"`, "usable executable name"},
		{"no comment", `Comment = "Desktop notifications"`, `Comment = ""`, "Comment is empty"},
		{"bad toml", "[Details]", "[Details", "read app metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(goodToml, tt.from, tt.to, 1)
			if body == goodToml {
				t.Fatalf("test setup: %q not found", tt.from)
			}
			_, err := LoadMeta(writeToml(t, body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// The repository's own FyneApp.toml must always be packageable.
func TestRepositoryMetadataIsValid(t *testing.T) {
	m, err := LoadMeta(filepath.Join("..", "..", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Binary() != "echotray" {
		t.Errorf("Binary = %q: the packaging scripts and docs expect echotray", m.Binary())
	}
	if _, err := os.Stat(filepath.Join("..", "..", m.Icon)); err != nil {
		t.Errorf("Details.Icon: %v", err)
	}
}

func TestMetaCommandOutputEvaluatesInShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("sh is needed to check the shell quoting:", err)
	}
	body := strings.Replace(goodToml, `Comment = "Desktop notifications"`, `Comment = "It's \"quoted\" $HOME `+"`x`"+`"`, 1)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	var out bytes.Buffer
	if err := run([]string{"meta", "-app", writeToml(t, body)}, &out); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(sh, "-c", out.String()+`printf '%s|%s|%s' "$APP_COMMENT" "$DEB_VERSION" "$RELEASE_DATE"`).Output()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out.String())
	}
	want := "It's \"quoted\" $HOME `x`|1.2.3-7|2023-11-14"
	if string(got) != want {
		t.Errorf("shell saw %q, want %q", got, want)
	}
}

func TestReleaseDate(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "86400")
	d, err := releaseDate()
	if err != nil || !d.Equal(time.Unix(86400, 0)) {
		t.Errorf("releaseDate = %v, %v", d, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := releaseDate(); err == nil {
		t.Error("a non-numeric SOURCE_DATE_EPOCH was accepted")
	}
}
