package assets

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"fyne.io/fyne/v2"
)

func decode(t *testing.T, r fyne.Resource) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(r.Content()))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", r.Name(), err)
	}
	return img
}

func TestAppIconSizes(t *testing.T) {
	for _, tc := range []struct {
		res  fyne.Resource
		size int
	}{{AppIcon, 512}, {AppIcon64, 64}, {AppIcon32, 32}} {
		img := decode(t, tc.res)
		if b := img.Bounds(); b.Dx() != tc.size || b.Dy() != tc.size {
			t.Errorf("%s is %v, want %d px square", tc.res.Name(), b, tc.size)
		}
	}
}

func TestTrayIcons(t *testing.T) {
	names := map[string]bool{}
	for _, st := range TrayStates {
		for _, size := range TraySizes {
			plain, err := TrayIcon(st, false, size)
			if err != nil {
				t.Fatal(err)
			}
			badged, err := TrayIcon(st, true, size)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []fyne.Resource{plain, badged} {
				if names[r.Name()] {
					t.Errorf("resource name %s used twice", r.Name())
				}
				names[r.Name()] = true
				img := decode(t, r)
				if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
					t.Errorf("%s is %v, want %d px", r.Name(), b, size)
				}
				if opaque(img) < size*size/20 {
					t.Errorf("%s is almost empty", r.Name())
				}
			}
			if bytes.Equal(plain.Content(), badged.Content()) {
				t.Errorf("%s at %d px: unread icon equals the plain one", st, size)
			}
		}
	}
}

func TestTrayIconsDiffer(t *testing.T) {
	seen := map[string]string{}
	for _, st := range TrayStates {
		r, err := TrayIcon(st, false, 64)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[string(r.Content())]; dup {
			t.Errorf("states %s and %s share an icon", st, other)
		}
		seen[string(r.Content())] = st
	}
}

func TestTrayIconUnknown(t *testing.T) {
	if _, err := TrayIcon("sleeping", false, 64); err == nil {
		t.Error("unknown state: no error")
	}
	if _, err := TrayIcon("connected", false, 48); err == nil {
		t.Error("unknown size: no error")
	}
}

// opaque counts pixels with more than half alpha.
func opaque(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a > 0x8000 {
				n++
			}
		}
	}
	return n
}
