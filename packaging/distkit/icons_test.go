package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackmordaunt/icns/v3"
	ico "github.com/sergeymakinen/go-ico"
)

// testIcon writes a w x h PNG: transparent, with an opaque red square in the
// middle, and returns its path.
func testIcon(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := h / 4; y < 3*h/4; y++ {
		for x := w / 4; x < 3*w/4; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: 255, A: 255})
		}
	}
	p := filepath.Join(t.TempDir(), "icon.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadIconRejects(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{"not square", testIcon(t, 512, 256), "must be square"},
		{"too small", testIcon(t, 128, 128), "at least 256"},
		{"missing", filepath.Join(t.TempDir(), "none.png"), "open icon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadIcon(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWritePNGSizesSkipsUpscaling(t *testing.T) {
	img, err := loadIcon(testIcon(t, 256, 256))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	written, err := writePNGSizes(img, dir, "net.example.app", []int{16, 64, 256, 512})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 3 || written[2] != 256 {
		t.Fatalf("written = %v, want 16, 64, 256 (no 512 from a 256 px source)", written)
	}
	for _, s := range written {
		f, err := os.Open(filepath.Join(dir, sizeDir(s), "apps", "net.example.app.png"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != s || cfg.Height != s {
			t.Errorf("%d px icon is %dx%d", s, cfg.Width, cfg.Height)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, sizeDir(512))); !os.IsNotExist(err) {
		t.Errorf("512 px folder exists: %v", err)
	}
}

func sizeDir(s int) string { return fmt.Sprintf("%dx%d", s, s) }

func TestEncodeICO(t *testing.T) {
	img, err := loadIcon(testIcon(t, 512, 512))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := encodeICO(&buf, img, icoSizes); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var hdr [3]uint16
	if err := binary.Read(bytes.NewReader(data), binary.LittleEndian, &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr != [3]uint16{0, 1, uint16(len(icoSizes))} {
		t.Fatalf("ICONDIR = %v", hdr)
	}
	frames, err := ico.DecodeAll(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("a third-party ICO decoder rejects the file: %v", err)
	}
	if len(frames) != len(icoSizes) {
		t.Fatalf("%d frames, want %d", len(frames), len(icoSizes))
	}
	for i, f := range frames {
		s := icoSizes[i]
		if b := f.Bounds(); b.Dx() != s || b.Dy() != s {
			t.Errorf("frame %d is %v, want %d px", i, b, s)
		}
		// Corners stay transparent, the centre is opaque red: alpha survives.
		if _, _, _, a := f.At(0, 0).RGBA(); a != 0 {
			t.Errorf("%d px frame: corner alpha %d, want 0", s, a)
		}
		if r, _, _, a := f.At(s/2, s/2).RGBA(); a != 0xffff || r != 0xffff {
			t.Errorf("%d px frame: centre r=%d a=%d, want opaque red", s, r, a)
		}
	}
	if err := encodeICO(&buf, img, []int{512}); err == nil {
		t.Error("a 512 px ICO frame was accepted")
	}
}

func TestEncodeICNS(t *testing.T) {
	img, err := loadIcon(testIcon(t, 512, 512))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := encodeICNS(&buf, img); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("icns")) {
		t.Fatalf("no icns magic: % x", buf.Bytes()[:8])
	}
	got, err := icns.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds().Dx() != 512 {
		t.Errorf("largest icns image is %v, want 512 px", got.Bounds())
	}
}

func TestIconsAndICOCommands(t *testing.T) {
	src := testIcon(t, 512, 512)
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"icons", "-src", src, "-dir", dir, "-name", "x.y.z", "-sizes", "32,512"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "32\n512\n" {
		t.Errorf("icons printed %q", out.String())
	}
	icoPath := filepath.Join(dir, "app.ico")
	if err := run([]string{"ico", "-src", src, "-out", icoPath}, &out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(icoPath); err != nil || fi.Size() < 1000 {
		t.Errorf("ico: %v", err)
	}
	if err := run([]string{"icons", "-src", src, "-dir", dir, "-name", "x", "-sizes", "32,abc"}, &out); err == nil {
		t.Error("a bad size list was accepted")
	}
	if err := run([]string{"nope"}, &out); err == nil {
		t.Error("an unknown command was accepted")
	}
}
