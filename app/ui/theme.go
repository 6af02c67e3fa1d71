package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// appTheme is Fyne's theme with the status colours of the light variant
// darkened so that text in them reaches 4.5:1 on the background (WCAG AA):
// Fyne's red is 3.7:1 on white, its orange 2.1:1, its green 2.5:1. They
// colour field errors, warnings and success lines, and the background of
// the danger buttons (whose white text gains contrast too). The dark
// variant is left as it is: its colours are light enough already.
type appTheme struct{ fyne.Theme }

// newAppTheme wraps base (Fyne's default theme when nil).
func newAppTheme(base fyne.Theme) fyne.Theme {
	if base == nil {
		base = theme.DefaultTheme()
	}
	if _, ok := base.(appTheme); ok {
		return base
	}
	return appTheme{base}
}

// The light variant's status colours.
var (
	lightError   = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff} // 5.6:1 on white
	lightWarning = color.NRGBA{R: 0x9a, G: 0x54, B: 0x00, A: 0xff} // 5.5:1
	lightSuccess = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff} // 5.1:1
)

// Color is the base theme's colour, but for the light variant's status
// colours.
func (t appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if v == theme.VariantLight {
		switch n {
		case theme.ColorNameError:
			return lightError
		case theme.ColorNameWarning:
			return lightWarning
		case theme.ColorNameSuccess:
			return lightSuccess
		}
	}
	return t.Theme.Color(n, v)
}
