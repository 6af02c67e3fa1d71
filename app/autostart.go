package app

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// HiddenFlag is the command-line flag an autostart entry adds when EchoTray
// should start without showing a window (the "start hidden" setting).
const HiddenFlag = "--hidden"

// autostartID names the autostart entry: the LaunchAgent label on macOS and
// the icon name in the Linux desktop entry (as the packages install it).
const autostartID = "net.traidnet.echotray"

// autostartName is the Run value name on Windows and the Name of the Linux
// desktop entry.
const autostartName = "EchoTray"

// ErrAutostartUnsupported is returned where EchoTray has no way to start at
// login.
var ErrAutostartUnsupported = errors.New("start at login is not supported on this system")

// Autostart turns "start at login" on and off for the current user: an XDG
// autostart entry (~/.config/autostart/echotray.desktop) on Linux, a value
// under HKCU\Software\Microsoft\Windows\CurrentVersion\Run on Windows and a
// LaunchAgent (~/Library/LaunchAgents/net.traidnet.echotray.plist) on macOS.
// Enable, Disable and Enabled are in the per-OS files.
type Autostart struct {
	// Hidden adds HiddenFlag, so no window opens at login.
	Hidden bool
}

// args are the command-line arguments the entry starts EchoTray with.
func (a Autostart) args() []string {
	if a.Hidden {
		return []string{HiddenFlag}
	}
	return nil
}

// desktopEntry is the XDG autostart desktop entry that runs exe with args.
func desktopEntry(exe string, args []string) string {
	cmd := make([]string, 0, 1+len(args))
	for _, a := range append([]string{exe}, args...) {
		cmd = append(cmd, desktopExecArg(a))
	}
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Version=1.5\n")
	b.WriteString("Name=" + autostartName + "\n")
	b.WriteString("Comment=Desktop notifications for the WiFi-hotspot billing platform\n")
	b.WriteString("Exec=" + strings.Join(cmd, " ") + "\n")
	b.WriteString("Icon=" + autostartID + "\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("StartupNotify=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return b.String()
}

// desktopExecArg quotes one Exec argument by the Desktop Entry
// Specification: arguments with reserved characters are double-quoted with
// ", `, $ and \ escaped, % is doubled (it starts field codes), and then the
// value is escaped as a desktop-entry string (\ becomes \\).
func desktopExecArg(arg string) string {
	arg = strings.ReplaceAll(arg, "%", "%%")
	if arg != "" && !strings.ContainsAny(arg, " \t\n\"'\\><~|&;$*?#()`") {
		return arg
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range arg {
		switch r {
		case '"', '`', '$', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	// String-level escaping of the whole value.
	s := strings.ReplaceAll(b.String(), `\`, `\\`)
	s = strings.ReplaceAll(s, "\n", `\n`)
	s = strings.ReplaceAll(s, "\t", `\t`)
	return s
}

// desktopEntryActive reports whether a desktop entry's text leaves it
// enabled: not Hidden=true and not X-GNOME-Autostart-enabled=false.
func desktopEntryActive(text string) bool {
	sc := bufio.NewScanner(strings.NewReader(text))
	group := ""
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			group = line
			continue
		}
		if group != "[Desktop Entry]" {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if (key == "Hidden" && value == "true") || (key == "X-GNOME-Autostart-enabled" && value == "false") {
			return false
		}
	}
	return true
}

// launchAgentPlist is the macOS LaunchAgent that runs exe with args at
// login. It has no KeepAlive: quitting EchoTray keeps it quit.
func launchAgentPlist(exe string, args []string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString(`<plist version="1.0">` + "\n<dict>\n")
	b.WriteString("\t<key>Label</key>\n\t<string>" + xmlEscape(autostartID) + "</string>\n")
	b.WriteString("\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, a := range append([]string{exe}, args...) {
		b.WriteString("\t\t<string>" + xmlEscape(a) + "</string>\n")
	}
	b.WriteString("\t</array>\n")
	b.WriteString("\t<key>RunAtLoad</key>\n\t<true/>\n")
	b.WriteString("\t<key>ProcessType</key>\n\t<string>Interactive</string>\n")
	b.WriteString("\t<key>LimitLoadToSessionType</key>\n\t<string>Aqua</string>\n")
	b.WriteString("</dict>\n</plist>\n")
	return b.String()
}

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	return r.Replace(s)
}

// runCommand is the command line stored in the Windows Run key: the
// executable in double quotes (Windows paths cannot contain "), then args.
func runCommand(exe string, args []string) string {
	s := `"` + exe + `"`
	for _, a := range args {
		if strings.ContainsAny(a, " \t\"") {
			a = `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
		}
		s += " " + a
	}
	return s
}

// xdgAutostartPath is the autostart entry's path under an XDG config
// directory (usually ~/.config).
func xdgAutostartPath(configDir string) string {
	return filepath.Join(configDir, "autostart", "echotray.desktop")
}

// launchAgentPath is the LaunchAgent's path under a home directory.
func launchAgentPath(home string) string {
	return filepath.Join(home, "Library", "LaunchAgents", autostartID+".plist")
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, creating the directory.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	// Permissions first, so the data is never readable by others; synced
	// before the rename, so a crash leaves the old file or the new one.
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// removeIfExists removes path; a missing file is not an error.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
