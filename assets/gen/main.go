// Command gen draws EchoTray's icons: the application icon and one tray icon
// per connection state, each with and without the unread badge.
//
// The drawing is plain vector geometry rasterised with golang.org/x/image/vector
// and encoded with image/png, so the output is the same on every run. Run it
// from the assets directory with `go generate` (see assets.go), or:
//
//	go run ./assets/gen -out assets/icons
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "icons", "directory to write the PNG files to")
	flag.Parse()
	if err := writeAll(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// writeAll renders every icon into dir.
func writeAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range files() {
		data, err := encodePNG(f.render())
		if err != nil {
			return fmt.Errorf("encode %s: %w", f.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}
