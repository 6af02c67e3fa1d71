package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Meta is the application metadata every installer is built from. It is read
// from FyneApp.toml, the single place where the name, ID and version live.
type Meta struct {
	Name        string
	ID          string
	Version     string
	Build       int
	Website     string
	Icon        string
	GenericName string
	Comment     string
	Categories  []string
	Keywords    []string

	// GoTags are the build tags `fyne build` would add for the migrations
	// FyneApp.toml declares (fyneDo = true adds migrated_fynedo).
	GoTags []string

	// Date is the release date used in changelogs and AppStream metadata.
	// It comes from SOURCE_DATE_EPOCH so that builds are reproducible.
	Date time.Time
}

// fyneApp mirrors the parts of FyneApp.toml that packaging reads.
type fyneApp struct {
	Website string
	Details struct {
		Icon    string
		Name    string
		ID      string
		Version string
		Build   int
	}
	LinuxAndBSD struct {
		GenericName string
		Categories  []string
		Comment     string
		Keywords    []string
	}
	Migrations map[string]bool
}

// migrationTags maps FyneApp.toml [Migrations] keys to the build tags the
// fyne tool sets for them.
var migrationTags = map[string]string{"fyneDo": "migrated_fynedo"}

var (
	versionPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	binaryPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	idPattern      = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*){2,}$`)
)

// LoadMeta reads and validates FyneApp.toml at path.
func LoadMeta(path string) (Meta, error) {
	var f fyneApp
	md, err := toml.DecodeFile(path, &f)
	if err != nil {
		return Meta{}, fmt.Errorf("read app metadata %s: %w", path, err)
	}
	if !md.IsDefined("Details", "Build") {
		f.Details.Build = 1
	}
	m := Meta{
		Name:        strings.TrimSpace(f.Details.Name),
		ID:          strings.TrimSpace(f.Details.ID),
		Version:     strings.TrimSpace(f.Details.Version),
		Build:       f.Details.Build,
		Website:     strings.TrimSpace(f.Website),
		Icon:        strings.TrimSpace(f.Details.Icon),
		GenericName: strings.TrimSpace(f.LinuxAndBSD.GenericName),
		Comment:     strings.TrimSpace(f.LinuxAndBSD.Comment),
		Categories:  f.LinuxAndBSD.Categories,
		Keywords:    f.LinuxAndBSD.Keywords,
	}
	for k, on := range f.Migrations {
		if tag, known := migrationTags[k]; known && on {
			m.GoTags = append(m.GoTags, tag)
		}
	}
	sort.Strings(m.GoTags)
	if err := m.validate(); err != nil {
		return Meta{}, fmt.Errorf("app metadata %s: %w", path, err)
	}
	return m, nil
}

// validate reports every field the installers cannot be built without.
func (m Meta) validate() error {
	var errs []error
	if m.Name == "" {
		errs = append(errs, errors.New("Details.Name is empty"))
	} else if !binaryPattern.MatchString(m.Binary()) {
		errs = append(errs, fmt.Errorf("Details.Name %q does not give a usable executable name (%q)", m.Name, m.Binary()))
	}
	if !idPattern.MatchString(m.ID) {
		errs = append(errs, fmt.Errorf("Details.ID %q is not a lower-case reverse-DNS ID with at least three parts", m.ID))
	}
	if !versionPattern.MatchString(m.Version) {
		errs = append(errs, fmt.Errorf("Details.Version %q is not MAJOR.MINOR.PATCH (Windows version resources need plain numbers)", m.Version))
	} else {
		for _, p := range strings.Split(m.Version, ".") {
			if n, _ := strconv.Atoi(p); n > 65535 {
				errs = append(errs, fmt.Errorf("Details.Version %q: part %d is above 65535", m.Version, n))
			}
		}
	}
	if m.Build < 1 || m.Build > 65535 {
		errs = append(errs, fmt.Errorf("Details.Build %d is not between 1 and 65535", m.Build))
	}
	if m.Comment == "" {
		errs = append(errs, errors.New("LinuxAndBSD.Comment is empty (it is the one-line summary)"))
	}
	if m.Icon == "" {
		errs = append(errs, errors.New("Details.Icon is empty"))
	}
	return errors.Join(errs...)
}

// Binary is the executable name: the lower-case application name.
func (m Meta) Binary() string { return strings.ToLower(strings.ReplaceAll(m.Name, " ", "")) }

// Publisher is the organisation part of the reverse-DNS ID ("traidnet" for
// "net.traidnet.echotray").
func (m Meta) Publisher() string { return strings.Split(m.ID, ".")[1] }

// DebVersion is the Debian package version: the upstream version with the
// build number as the Debian revision.
func (m Meta) DebVersion() string { return fmt.Sprintf("%s-%d", m.Version, m.Build) }

// WinVersion is the four-part numeric version Windows version resources use.
func (m Meta) WinVersion() string { return fmt.Sprintf("%s.%d", m.Version, m.Build) }

// WinVersionCommas is WinVersion with commas, as FILEVERSION in .rc files wants.
func (m Meta) WinVersionCommas() string { return strings.ReplaceAll(m.WinVersion(), ".", ",") }

// Year is the release year, for copyright notices.
func (m Meta) Year() int { return m.Date.Year() }

// Vars returns the metadata as shell variable assignments.
func (m Meta) Vars() [][2]string {
	return [][2]string{
		{"APP_NAME", m.Name},
		{"APP_ID", m.ID},
		{"APP_VERSION", m.Version},
		{"APP_BUILD", strconv.Itoa(m.Build)},
		{"APP_BINARY", m.Binary()},
		{"APP_PUBLISHER", m.Publisher()},
		{"APP_WEBSITE", m.Website},
		{"APP_ICON", m.Icon},
		{"APP_COMMENT", m.Comment},
		{"DEB_VERSION", m.DebVersion()},
		{"WIN_VERSION", m.WinVersion()},
		{"GO_TAGS", strings.Join(m.GoTags, ",")},
		{"RELEASE_DATE", m.Date.Format(time.DateOnly)},
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// releaseDate reads SOURCE_DATE_EPOCH (seconds since 1970), or returns now.
func releaseDate() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Now().UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", v, err)
	}
	return time.Unix(n, 0).UTC(), nil
}
