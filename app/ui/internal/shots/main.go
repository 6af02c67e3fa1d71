//go:build screenshots

// Command shots opens EchoTray's windows with sample data on the running X
// display and photographs each real window, with the window manager's
// title bar, into a folder (scripts/screenshots.sh runs it under Xvfb
// with xfwm4).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	fyneapp "fyne.io/fyne/v2/app"

	"echotray/app/ui"
)

func main() {
	out := flag.String("out", "docs/screenshots", "folder for the PNG files")
	flag.Parse()
	a := fyneapp.NewWithID("io.echotray.screenshots")
	var failed error
	a.Lifecycle().SetOnStarted(func() {
		go func() {
			failed = ui.Screenshots(a, *out, capture)
			a.Quit()
		}()
	})
	a.Run()
	if failed != nil {
		log.Fatal(failed)
	}
}

// capture photographs the window titled title, frame and title bar
// included, into file.
func capture(title, file string) error {
	id, err := findWindow(title)
	if err != nil {
		return err
	}
	// The client window's position and size, and the frame around it.
	// (xwininfo: xdotool's geometry counts the frame offset twice.)
	geo, err := exec.Command("xwininfo", "-id", id).Output()
	if err != nil {
		return fmt.Errorf("geometry of %q: %w", title, err)
	}
	vals := map[string]int{}
	for _, line := range strings.Split(string(geo), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		switch k {
		case "Absolute upper-left X":
			vals["X"] = n
		case "Absolute upper-left Y":
			vals["Y"] = n
		case "Width":
			vals["WIDTH"] = n
		case "Height":
			vals["HEIGHT"] = n
		}
	}
	left, right, top, bottom := frameExtents(id)
	crop := fmt.Sprintf("%dx%d+%d+%d", vals["WIDTH"]+left+right, vals["HEIGHT"]+top+bottom,
		max(0, vals["X"]-left), max(0, vals["Y"]-top))
	if outb, err := exec.Command("import", "-window", "root", "-crop", crop, "+repage", file).CombinedOutput(); err != nil {
		return fmt.Errorf("capture %q: %v: %s", title, err, outb)
	}
	fmt.Println("wrote", file, crop)
	return nil
}

// findWindow waits for a mapped window titled title.
func findWindow(title string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^"+regexp.QuoteMeta(title)+"$").Output()
		if ids := strings.Fields(string(out)); err == nil && len(ids) > 0 {
			return ids[len(ids)-1], nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no window titled %q", title)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// frameExtents reads _NET_FRAME_EXTENTS (left, right, top, bottom) the
// window manager set on the window.
func frameExtents(id string) (l, r, t, b int) {
	out, err := exec.Command("xprop", "-id", id, "_NET_FRAME_EXTENTS").Output()
	if err != nil {
		return 0, 0, 0, 0
	}
	_, list, ok := strings.Cut(string(out), "=")
	if !ok {
		return 0, 0, 0, 0
	}
	var v [4]int
	for i, f := range strings.Split(list, ",") {
		if i < 4 {
			v[i], _ = strconv.Atoi(strings.TrimSpace(f))
		}
	}
	if os.Getenv("SHOTS_DEBUG") != "" {
		fmt.Println("frame", v)
	}
	return v[0], v[1], v[2], v[3]
}
