package assets

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

func decode(t *testing.T, name string, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	return img
}

func TestAppIconSizes(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		size int
	}{{AppIconName, AppIconPNG, 512}, {AppIcon64Name, AppIcon64PNG, 64}, {AppIcon32Name, AppIcon32PNG, 32}} {
		img := decode(t, tc.name, tc.data)
		if b := img.Bounds(); b.Dx() != tc.size || b.Dy() != tc.size {
			t.Errorf("%s is %v, want %d px square", tc.name, b, tc.size)
		}
	}
}

func TestTrayIcons(t *testing.T) {
	names := map[string]bool{}
	for _, st := range TrayStates {
		for _, size := range TraySizes {
			plain, err := TrayIconPNG(st, false, size)
			if err != nil {
				t.Fatal(err)
			}
			badged, err := TrayIconPNG(st, true, size)
			if err != nil {
				t.Fatal(err)
			}
			for _, unread := range []bool{false, true} {
				data := plain
				if unread {
					data = badged
				}
				name := TrayIconName(st, unread, size)
				if names[name] {
					t.Errorf("icon name %s used twice", name)
				}
				names[name] = true
				img := decode(t, name, data)
				if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
					t.Errorf("%s is %v, want %d px", name, b, size)
				}
				if opaque(img) < size*size/20 {
					t.Errorf("%s is almost empty", name)
				}
			}
			if bytes.Equal(plain, badged) {
				t.Errorf("%s at %d px: unread icon equals the plain one", st, size)
			}
		}
	}
}

func TestTrayIconsDiffer(t *testing.T) {
	seen := map[string]string{}
	for _, st := range TrayStates {
		b, err := TrayIconPNG(st, false, 64)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[string(b)]; dup {
			t.Errorf("states %s and %s share an icon", st, other)
		}
		seen[string(b)] = st
	}
}

func TestTrayIconUnknown(t *testing.T) {
	if _, err := TrayIconPNG("sleeping", false, 64); err == nil {
		t.Error("unknown state: no error")
	}
	if _, err := TrayIconPNG("connected", false, 48); err == nil {
		t.Error("unknown size: no error")
	}
}

func TestTrayIconName(t *testing.T) {
	if got := TrayIconName("connected", true, 64); got != "tray-connected-unread-64.png" {
		t.Errorf("TrayIconName = %q", got)
	}
	if got := TrayIconName("offline", false, 32); got != "tray-offline-32.png" {
		t.Errorf("TrayIconName = %q", got)
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
