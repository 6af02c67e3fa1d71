package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedIconsMatchGenerator regenerates every icon and compares it
// with the committed file in ../icons, so a change to the drawing code
// cannot land without regenerated icons (and vice versa). Pixels may differ
// by 2/255 per channel, the slack for the rasteriser's per-architecture
// float accumulation.
func TestCommittedIconsMatchGenerator(t *testing.T) {
	dir := t.TempDir()
	if err := writeAll(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := filepath.Glob("../icons/*.png")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(files()) {
		t.Errorf("../icons has %d PNGs, the generator writes %d", len(entries), len(files()))
	}
	for _, f := range files() {
		got := load(t, filepath.Join(dir, f.name))
		want := load(t, filepath.Join("..", "icons", f.name))
		if got.Bounds() != want.Bounds() {
			t.Errorf("%s: bounds %v, committed %v", f.name, got.Bounds(), want.Bounds())
			continue
		}
		if d := maxDiff(got, want); d > 2 {
			t.Errorf("%s differs from the committed icon by up to %d/255: run go generate ./assets", f.name, d)
		}
	}
}

func TestWriteAllIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := writeAll(a); err != nil {
		t.Fatal(err)
	}
	if err := writeAll(b); err != nil {
		t.Fatal(err)
	}
	for _, f := range files() {
		x, _ := os.ReadFile(filepath.Join(a, f.name))
		y, _ := os.ReadFile(filepath.Join(b, f.name))
		if !bytes.Equal(x, y) || len(x) == 0 {
			t.Errorf("%s: two runs gave different bytes", f.name)
		}
	}
}

func load(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n, ok := img.(*image.NRGBA)
	if !ok {
		t.Fatalf("%s: decoded as %T, want *image.NRGBA", path, img)
	}
	return n
}

func maxDiff(a, b *image.NRGBA) int {
	m := 0
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		m = max(m, d)
	}
	return m
}
