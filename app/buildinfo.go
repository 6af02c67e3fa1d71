package app

import (
	"errors"
	"fmt"

	"github.com/BurntSushi/toml"
)

// BuildInfo names and versions the app. main.go reads it from the embedded
// FyneApp.toml, so `echotray --version`, the About box and the Fyne app ID
// always agree with the packaging metadata.
type BuildInfo struct {
	Name    string // "EchoTray"
	ID      string // "net.traidnet.echotray"
	Version string // "0.1.0"
	Build   int    // build number
	Website string
	Icon    string // icon path relative to the module root
	// Migrations are the Fyne behaviour opt-ins ([Migrations] fyneDo).
	Migrations map[string]bool
}

// ParseBuildInfo reads the [Details] of a FyneApp.toml.
func ParseBuildInfo(fyneAppToml []byte) (BuildInfo, error) {
	var meta struct {
		Website string
		Details struct {
			Icon    string
			Name    string
			ID      string
			Version string
			Build   int
		}
		Migrations map[string]bool
	}
	if err := toml.Unmarshal(fyneAppToml, &meta); err != nil {
		return BuildInfo{}, fmt.Errorf("FyneApp.toml: %w", err)
	}
	d := meta.Details
	if d.Name == "" || d.ID == "" || d.Version == "" {
		return BuildInfo{}, errors.New("FyneApp.toml: [Details] needs Name, ID and Version")
	}
	return BuildInfo{Name: d.Name, ID: d.ID, Version: d.Version, Build: d.Build, Website: meta.Website, Icon: d.Icon,
		Migrations: meta.Migrations}, nil
}

// String returns "EchoTray 0.1.0 (net.traidnet.echotray)".
func (b BuildInfo) String() string {
	return fmt.Sprintf("%s %s (%s)", b.Name, b.Version, b.ID)
}
