package tray

// platformIcon turns the PNG tray icon into what fyne.io/systray takes on
// Windows: an ICO file (it writes the bytes to a file and loads it with
// LoadImage(IMAGE_ICON)).
func platformIcon(png []byte) ([]byte, error) { return icoFromPNG(png) }
