package tray

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image/png"
)

// icoFromPNG wraps PNG bytes in an ICO container, as Windows' LoadImage
// (which fyne.io/systray uses on Windows) wants: a 6-byte ICONDIR, one
// 16-byte ICONDIRENTRY and the PNG itself as the image data (PNG-compressed
// icons are valid since Windows Vista). Images up to 256 px square are
// accepted; 256 is stored as 0, as the format says.
//
// It is used by host_windows.go and has no build tag so that it is tested
// everywhere.
func icoFromPNG(data []byte) ([]byte, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("tray icon: not a PNG: %w", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > 256 || cfg.Height > 256 {
		return nil, fmt.Errorf("tray icon: %dx%d px does not fit an ICO entry (at most 256 px)", cfg.Width, cfg.Height)
	}
	const headerSize = 6 + 16
	out := make([]byte, headerSize, headerSize+len(data))
	// ICONDIR: reserved 0, type 1 (icon), one image.
	binary.LittleEndian.PutUint16(out[0:], 0)
	binary.LittleEndian.PutUint16(out[2:], 1)
	binary.LittleEndian.PutUint16(out[4:], 1)
	// ICONDIRENTRY.
	e := out[6:]
	e[0] = byte(cfg.Width % 256) // 256 → 0
	e[1] = byte(cfg.Height % 256)
	e[2] = 0                                 // no palette
	e[3] = 0                                 // reserved
	binary.LittleEndian.PutUint16(e[4:], 1)  // colour planes
	binary.LittleEndian.PutUint16(e[6:], 32) // bits per pixel
	binary.LittleEndian.PutUint32(e[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(e[12:], headerSize) // offset of the image data
	return append(out, data...), nil
}
