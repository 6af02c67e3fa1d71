package tray

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"testing"

	"echotray/assets"
)

// icoEntry is the one image of a parsed ICO.
type icoEntry struct {
	Width, Height int // 256 for a stored 0
	Planes, BPP   int
	Data          []byte
}

// parseICO reads an ICO file with exactly one image, checking every field
// the way Windows' icon loader reads them.
func parseICO(b []byte) (icoEntry, error) {
	var e icoEntry
	if len(b) < 6+16 {
		return e, fmt.Errorf("%d bytes: shorter than the headers", len(b))
	}
	if r := binary.LittleEndian.Uint16(b[0:]); r != 0 {
		return e, fmt.Errorf("reserved = %d", r)
	}
	if ty := binary.LittleEndian.Uint16(b[2:]); ty != 1 {
		return e, fmt.Errorf("type = %d, want 1 (icon)", ty)
	}
	if n := binary.LittleEndian.Uint16(b[4:]); n != 1 {
		return e, fmt.Errorf("%d images, want 1", n)
	}
	d := b[6:22]
	e.Width, e.Height = int(d[0]), int(d[1])
	if e.Width == 0 {
		e.Width = 256
	}
	if e.Height == 0 {
		e.Height = 256
	}
	if d[2] != 0 || d[3] != 0 {
		return e, fmt.Errorf("palette %d, reserved %d", d[2], d[3])
	}
	e.Planes = int(binary.LittleEndian.Uint16(d[4:]))
	e.BPP = int(binary.LittleEndian.Uint16(d[6:]))
	size := binary.LittleEndian.Uint32(d[8:])
	off := binary.LittleEndian.Uint32(d[12:])
	if uint64(off)+uint64(size) != uint64(len(b)) || off < 22 {
		return e, fmt.Errorf("image at %d+%d in %d bytes", off, size, len(b))
	}
	e.Data = b[off : off+size]
	return e, nil
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestICOFromPNG(t *testing.T) {
	for _, tc := range []struct {
		name string
		png  []byte
		w, h int
	}{
		{"tray icon", IconPNG(Connected, 2), IconSize, IconSize},
		{"app icon 32", assets.AppIcon32PNG, 32, 32},
		{"256 is stored as 0", pngOf(t, 256, 256), 256, 256},
		{"not square", pngOf(t, 16, 24), 16, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ico, err := icoFromPNG(tc.png)
			if err != nil {
				t.Fatal(err)
			}
			e, err := parseICO(ico)
			if err != nil {
				t.Fatalf("not a valid ICO: %v", err)
			}
			if e.Width != tc.w || e.Height != tc.h || e.Planes != 1 || e.BPP != 32 {
				t.Errorf("entry %dx%d planes %d bpp %d, want %dx%d, 1, 32", e.Width, e.Height, e.Planes, e.BPP, tc.w, tc.h)
			}
			if !bytes.Equal(e.Data, tc.png) {
				t.Error("image data is not the PNG")
			}
			if tc.w == 256 && (ico[6] != 0 || ico[7] != 0) {
				t.Errorf("256 px stored as %d×%d, want 0×0", ico[6], ico[7])
			}
		})
	}
}

func TestICOFromPNGRejects(t *testing.T) {
	if _, err := icoFromPNG([]byte("GIF89a")); err == nil {
		t.Error("non-PNG accepted")
	}
	if _, err := icoFromPNG(assets.AppIconPNG); err == nil { // 512 px
		t.Error("512 px PNG accepted; an ICO entry holds at most 256 px")
	}
}

func TestPlatformIcon(t *testing.T) {
	png := IconPNG(Offline, 0)
	got, err := platformIcon(png)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseICO(got); err == nil {
		// Windows: an ICO around the PNG.
		if !bytes.HasSuffix(got, png) {
			t.Error("ICO does not carry the PNG")
		}
	} else if !bytes.Equal(got, png) {
		t.Error("platformIcon changed the PNG")
	}
}
