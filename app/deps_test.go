package app

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreLinksNoGUIToolkit keeps the always-on process small: the headless
// core (app and everything it imports), the command bodies and the tray
// must not link Fyne (GLFW, OpenGL). Only app/ui and main do.
func TestCoreLinksNoGUIToolkit(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	for _, pkg := range []string{"echotray/app", "echotray/app/cli", "echotray/app/ipc", "echotray/tray", "echotray/assets"} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "fyne.io/fyne/") || strings.HasPrefix(dep, "github.com/go-gl/") || dep == "echotray/app/ui" {
				t.Errorf("%s depends on %s: the core must not link the GUI toolkit", pkg, dep)
			}
		}
	}
}
