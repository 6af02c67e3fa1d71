package app

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestDesktopEntry(t *testing.T) {
	got := desktopEntry("/usr/bin/echotray", []string{HiddenFlag})
	want := `[Desktop Entry]
Type=Application
Version=1.5
Name=EchoTray
Comment=Desktop notifications for the WiFi-hotspot billing platform
Exec=/usr/bin/echotray --hidden
Icon=net.traidnet.echotray
Terminal=false
StartupNotify=false
X-GNOME-Autostart-enabled=true
`
	if got != want {
		t.Errorf("desktop entry:\n%s\nwant:\n%s", got, want)
	}
	if !desktopEntryActive(got) {
		t.Error("generated entry reads as disabled")
	}
	if strings.Contains(desktopEntry("/usr/bin/echotray", nil), "--hidden") {
		t.Error("entry without Hidden has --hidden")
	}
}

func TestDesktopExecArg(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/echotray":           "/usr/bin/echotray",
		"/opt/Echo Tray/echotray":     `"/opt/Echo Tray/echotray"`,
		"/home/a/100%/echotray":       "/home/a/100%%/echotray",
		`/home/a/$x"y/echotray`:       `"/home/a/\\$x\\"y/echotray"`,
		`/home/a/back\slash/echotray`: `"/home/a/back\\\\slash/echotray"`,
		"":                            `""`,
	} {
		if got := desktopExecArg(in); got != want {
			t.Errorf("desktopExecArg(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDesktopEntryActive(t *testing.T) {
	for text, want := range map[string]bool{
		"[Desktop Entry]\nExec=x\n":                                               true,
		"[Desktop Entry]\nExec=x\nHidden=true\n":                                  false,
		"[Desktop Entry]\nExec=x\nX-GNOME-Autostart-enabled=false\n":              false,
		"[Desktop Entry]\nExec=x\nX-GNOME-Autostart-enabled = false\n":            false,
		"[Desktop Entry]\nExec=x\n[Desktop Action a]\nHidden=true\n":              true,
		"[Desktop Entry]\nExec=x\nX-GNOME-Autostart-enabled=true\nHidden=false\n": true,
	} {
		if got := desktopEntryActive(text); got != want {
			t.Errorf("desktopEntryActive(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestLaunchAgentPlist(t *testing.T) {
	exe := "/Applications/Echo & Tray.app/Contents/MacOS/echotray"
	text := launchAgentPlist(exe, []string{HiddenFlag})
	var plist struct {
		Dict struct {
			Items []struct {
				XMLName xml.Name
				Value   string   `xml:",chardata"`
				Strings []string `xml:"string"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(text), &plist); err != nil {
		t.Fatalf("plist is not XML: %v\n%s", err, text)
	}
	// Pair up <key>…</key><value/>.
	got := map[string]any{}
	items := plist.Dict.Items
	for i := 0; i+1 < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("item %d is %s, want key", i, items[i].XMLName.Local)
		}
		v := items[i+1]
		switch v.XMLName.Local {
		case "string":
			got[items[i].Value] = v.Value
		case "array":
			got[items[i].Value] = v.Strings
		case "true":
			got[items[i].Value] = true
		default:
			got[items[i].Value] = v.XMLName.Local
		}
	}
	if got["Label"] != "net.traidnet.echotray" {
		t.Errorf("Label = %v", got["Label"])
	}
	args, _ := got["ProgramArguments"].([]string)
	if len(args) != 2 || args[0] != exe || args[1] != "--hidden" {
		t.Errorf("ProgramArguments = %q", args)
	}
	if got["RunAtLoad"] != true {
		t.Errorf("RunAtLoad = %v", got["RunAtLoad"])
	}
	if _, ok := got["KeepAlive"]; ok {
		t.Error("KeepAlive set: Quit would not stick")
	}
	if !strings.HasSuffix(launchAgentPath("/Users/ann"), "/Users/ann/Library/LaunchAgents/net.traidnet.echotray.plist") {
		t.Errorf("launchAgentPath = %s", launchAgentPath("/Users/ann"))
	}
}

func TestRunCommand(t *testing.T) {
	for _, tc := range []struct {
		exe  string
		args []string
		want string
	}{
		{`C:\Program Files\EchoTray\echotray.exe`, []string{HiddenFlag}, `"C:\Program Files\EchoTray\echotray.exe" --hidden`},
		{`C:\EchoTray\echotray.exe`, nil, `"C:\EchoTray\echotray.exe"`},
		{`C:\e.exe`, []string{"a b"}, `"C:\e.exe" "a b"`},
	} {
		if got := runCommand(tc.exe, tc.args); got != tc.want {
			t.Errorf("runCommand(%q, %q) = %s, want %s", tc.exe, tc.args, got, tc.want)
		}
	}
}
