package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAutostartLinux(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	path := filepath.Join(home, ".config", "autostart", "echotray.desktop")

	a := Autostart{Hidden: true}
	if on, err := a.Enabled(); err != nil || on {
		t.Fatalf("fresh HOME: Enabled = %v, %v", on, err)
	}
	if err := a.Disable(); err != nil {
		t.Fatalf("Disable with nothing to remove: %v", err)
	}
	if err := a.Enable("/opt/echo tray/echotray"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("entry not written at %s: %v", path, err)
	}
	if !strings.Contains(string(data), "\nExec=\"/opt/echo tray/echotray\" --hidden\n") ||
		!strings.Contains(string(data), "\nX-GNOME-Autostart-enabled=true\n") {
		t.Errorf("entry:\n%s", data)
	}
	if on, err := a.Enabled(); err != nil || !on {
		t.Errorf("after Enable: Enabled = %v, %v", on, err)
	}

	// Turning "start hidden" off rewrites the entry without the flag.
	if err := (Autostart{}).Enable("/usr/bin/echotray"); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if !strings.Contains(string(data), "\nExec=/usr/bin/echotray\n") {
		t.Errorf("rewritten entry:\n%s", data)
	}

	// A desktop's settings tool switching it off counts as disabled.
	if err := os.WriteFile(path, append(data, "Hidden=true\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, _ := a.Enabled(); on {
		t.Error("Hidden=true entry reads as enabled")
	}

	if err := a.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("entry still there after Disable: %v", err)
	}
	if on, _ := a.Enabled(); on {
		t.Error("Enabled after Disable")
	}
	if left, _ := filepath.Glob(filepath.Join(home, ".config", "autostart", "*")); len(left) != 0 {
		t.Errorf("files left behind: %q", left)
	}
}

func TestAutostartLinuxXDGConfigHome(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	if err := (Autostart{}).Enable("/usr/bin/echotray"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg, "autostart", "echotray.desktop")); err != nil {
		t.Errorf("entry not under XDG_CONFIG_HOME: %v", err)
	}
}
