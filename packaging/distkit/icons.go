package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/jackmordaunt/icns/v3"
	"golang.org/x/image/draw"
)

// minIconSize is the smallest source icon accepted: Windows wants a 256 px
// frame and the Linux hicolor theme a 256 px app icon.
const minIconSize = 256

// loadIcon decodes a square PNG of at least minIconSize pixels.
func loadIcon(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open icon: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode icon %s: %w", path, err)
	}
	b := img.Bounds()
	if b.Dx() != b.Dy() {
		return nil, fmt.Errorf("icon %s is %dx%d: it must be square", path, b.Dx(), b.Dy())
	}
	if b.Dx() < minIconSize {
		return nil, fmt.Errorf("icon %s is %d px: it must be at least %d px", path, b.Dx(), minIconSize)
	}
	return img, nil
}

// scale returns img resized to size x size with a Catmull-Rom filter; an
// image already at that size is returned as RGBA unchanged.
func scale(img image.Image, size int) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, size, size))
	if img.Bounds().Dx() == size {
		draw.Draw(dst, dst.Bounds(), img, img.Bounds().Min, draw.Src)
		return dst
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

// writePNGSizes writes img as dir/{N}x{N}/apps/name.png for every size no
// larger than the source, and returns the sizes written.
func writePNGSizes(img image.Image, dir, name string, sizes []int) ([]int, error) {
	var written []int
	for _, s := range sizes {
		if s > img.Bounds().Dx() {
			continue
		}
		out := filepath.Join(dir, fmt.Sprintf("%dx%d", s, s), "apps", name+".png")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return written, fmt.Errorf("create icon folder: %w", err)
		}
		if err := writePNG(out, scale(img, s)); err != nil {
			return written, err
		}
		written = append(written, s)
	}
	if len(written) == 0 {
		return nil, errors.New("no icon size fits the source image")
	}
	return written, nil
}

// writePNG encodes img to path.
func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// icoSizes are the frames of the Windows icon: shell sizes at 100-200 % scaling.
var icoSizes = []int{16, 20, 24, 32, 40, 48, 64, 256}

// encodeICO writes an ICO whose frames are PNG-compressed (supported since
// Windows Vista), which keeps full alpha at every size.
func encodeICO(w io.Writer, img image.Image, sizes []int) error {
	frames := make([][]byte, len(sizes))
	for i, s := range sizes {
		if s < 1 || s > 256 {
			return fmt.Errorf("ico frame size %d is outside 1-256", s)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, scale(img, s)); err != nil {
			return fmt.Errorf("encode %d px frame: %w", s, err)
		}
		frames[i] = buf.Bytes()
	}
	var hdr bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), count.
	_ = binary.Write(&hdr, binary.LittleEndian, [3]uint16{0, 1, uint16(len(sizes))})
	offset := 6 + 16*len(sizes)
	for i, s := range sizes {
		dim := byte(s) // 256 is stored as 0
		if s == 256 {
			dim = 0
		}
		// ICONDIRENTRY: width, height, colours, reserved, planes, bpp, size, offset.
		hdr.Write([]byte{dim, dim, 0, 0})
		_ = binary.Write(&hdr, binary.LittleEndian, [2]uint16{1, 32})
		_ = binary.Write(&hdr, binary.LittleEndian, [2]uint32{uint32(len(frames[i])), uint32(offset)})
		offset += len(frames[i])
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return fmt.Errorf("write ico header: %w", err)
	}
	for _, f := range frames {
		if _, err := w.Write(f); err != nil {
			return fmt.Errorf("write ico frame: %w", err)
		}
	}
	return nil
}

// encodeICNS writes a macOS icon set.
func encodeICNS(w io.Writer, img image.Image) error {
	if err := icns.Encode(w, scale(img, img.Bounds().Dx())); err != nil {
		return fmt.Errorf("encode icns: %w", err)
	}
	return nil
}

// writeFileWith creates path and fills it with fn.
func writeFileWith(path string, fn func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create folder for %s: %w", path, err)
	}
	var buf bytes.Buffer
	if err := fn(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
