package ui

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/app/ipc"
)

// WCAG 2.x AA asks for 4.5:1 between normal text and its background.
const minContrast = 4.5

// variantTheme is Fyne's default theme fixed to one variant (light or
// dark), whatever the desktop prefers.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

// relLuminance is the WCAG relative luminance of c (opaque).
func relLuminance(c color.Color) float64 {
	r, g, b, _ := color.NRGBAModel.Convert(c).(color.NRGBA).R, color.NRGBAModel.Convert(c).(color.NRGBA).G,
		color.NRGBAModel.Convert(c).(color.NRGBA).B, 0
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrastRatio is the WCAG contrast ratio of two opaque colours.
func contrastRatio(a, b color.Color) float64 {
	la, lb := relLuminance(a), relLuminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// over composites c (possibly translucent) over the opaque bg.
func over(c, bg color.Color) color.NRGBA {
	f := color.NRGBAModel.Convert(c).(color.NRGBA)
	b := color.NRGBAModel.Convert(bg).(color.NRGBA)
	a := float64(f.A) / 255
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*a + float64(y)*(1-a))) }
	return color.NRGBA{R: mix(f.R, b.R), G: mix(f.G, b.G), B: mix(f.B, b.B), A: 0xff}
}

// textContrast is one text as drawn: its words, the background measured
// under it in the rendered image, and the contrast of its colour on that
// background (and of the most contrasting pixel actually drawn).
type textContrast struct {
	text     string
	declared float64 // the text colour over the measured background
	drawn    float64 // the most contrasting pixel in the text's box
}

func (tc textContrast) String() string {
	return fmt.Sprintf("%q %.2f:1 (drawn %.2f:1)", tc.text, tc.declared, tc.drawn)
}

// measureTexts renders the canvas and measures every visible text inside
// root: the background is the most common colour in the text's box.
func measureTexts(t *testing.T, c fyne.Canvas, root fyne.CanvasObject) []textContrast {
	t.Helper()
	img := c.Capture()
	scale := float32(img.Bounds().Dx()) / c.Size().Width
	var out []textContrast
	var walk func(o fyne.CanvasObject, visible bool)
	walk = func(o fyne.CanvasObject, visible bool) {
		visible = visible && o.Visible()
		if !visible {
			return
		}
		if txt, ok := o.(*canvas.Text); ok && txt.Text != "" {
			pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(txt)
			size := txt.MinSize()
			x0, y0 := int(pos.X*scale), int(pos.Y*scale)
			box := image.Rect(x0, y0, x0+int(min(size.Width, txt.Size().Width)*scale), y0+int(size.Height*scale)).Intersect(img.Bounds())
			if box.Empty() {
				return
			}
			counts := map[color.NRGBA]int{}
			for y := box.Min.Y; y < box.Max.Y; y++ {
				for x := box.Min.X; x < box.Max.X; x++ {
					counts[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
				}
			}
			var bg color.NRGBA
			for col, n := range counts {
				if n > counts[bg] {
					bg = col
				}
			}
			drawn := 1.0
			for col := range counts {
				drawn = max(drawn, contrastRatio(col, bg))
			}
			out = append(out, textContrast{text: txt.Text, declared: contrastRatio(over(txt.Color, bg), bg), drawn: drawn})
		}
		switch x := o.(type) {
		case *fyne.Container:
			for _, ch := range x.Objects {
				walk(ch, visible)
			}
		case fyne.Widget:
			for _, ch := range test.WidgetRenderer(x).Objects() {
				walk(ch, visible)
			}
		}
	}
	walk(root, true)
	return out
}

// lowContrast returns the texts below minContrast.
func lowContrast(texts []textContrast) []textContrast {
	var bad []textContrast
	for _, tc := range texts {
		if tc.declared < minContrast {
			bad = append(bad, tc)
		}
	}
	return bad
}

// TestHistoryRowsContrast renders the history list (read and unread rows,
// a selected row) in the light and the dark theme and checks that every
// text has at least 4.5:1 against what is drawn behind it.
func TestHistoryRowsContrast(t *testing.T) {
	for _, variant := range []struct {
		name string
		v    fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		t.Run(variant.name, func(t *testing.T) {
			st := openTestStore(t)
			seed(t, st, sampleEntries())
			f := newHistoryFixture(t, st)
			f.view.app.Settings().SetTheme(variantTheme{newAppTheme(nil), variant.v})
			f.view.list.Select(1) // a selected row among the others
			f.wait()
			f.settle()
			texts := measureTexts(t, f.win.Canvas(), f.view.list)
			if len(texts) < 4*len(sampleEntries()) {
				t.Fatalf("measured only %d texts: %v", len(texts), texts)
			}
			for _, tc := range texts {
				if tc.drawn < minContrast-0.5 && tc.declared >= minContrast {
					t.Errorf("%v: the pixels drawn do not reach the text colour", tc)
				}
			}
			if bad := lowContrast(texts); len(bad) > 0 {
				t.Errorf("%d texts below %.1f:1: %v", len(bad), minContrast, bad)
			}
		})
	}
}

// TestContrastCheckFindsLowContrast shows the check can fail: the old
// rows' secondary columns (LowImportance, the theme's disabled colour) are
// caught in both themes, selected or not.
func TestContrastCheckFindsLowContrast(t *testing.T) {
	for _, variant := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		a := test.NewTempApp(t)
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), variant})
		low := &widget.Label{Text: "tenant.1", Importance: widget.LowImportance}
		ok := &widget.Label{Text: "Payment received"}
		content := container.NewVBox(ok, low)
		w := test.NewTempWindow(t, content)
		w.Resize(fyne.NewSize(300, 120))
		bad := lowContrast(measureTexts(t, w.Canvas(), content))
		if len(bad) != 1 || bad[0].text != "tenant.1" {
			t.Errorf("variant %v: low-contrast texts %v, want the LowImportance label only", variant, bad)
		}
	}
	if r := contrastRatio(color.White, color.Black); math.Abs(r-21) > 0.01 {
		t.Errorf("white on black %.2f:1, want 21:1", r)
	}
	if r := contrastRatio(color.NRGBA{0xe3, 0xe3, 0xe3, 0xff}, color.White); r > 1.35 || r < 1.25 {
		t.Errorf("Fyne's light disabled colour on white %.2f:1, want about 1.3:1", r)
	}
}

// TestWindowTextsContrast: the other texts staff read — the status line
// (offline, warning), a field's error and the settings' problem line, the
// banner — reach 4.5:1 too, in both variants of the app's theme.
func TestWindowTextsContrast(t *testing.T) {
	for _, variant := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		a := test.NewTempApp(t)
		a.Settings().SetTheme(variantTheme{newAppTheme(nil), variant})
		now := time.Date(2026, 12, 1, 14, 2, 0, 0, time.Local)
		offline := newStatusLine(func() time.Time { return now }, func(func()) {}, nil, nil)
		offline.newTicker = func(time.Duration) (<-chan time.Time, func()) { return nil, func() {} }
		offline.Set(ipc.State{Conn: "offline", Since: now.Add(-5 * time.Minute), NextAttempt: now.Add(9 * time.Second), Reason: "The server refused."})
		warn := newStatusLine(func() time.Time { return now }, func(func()) {}, nil, nil)
		warn.Set(ipc.State{Conn: "warning", User: "Alice", Warning: "Connected, but personal notifications are unavailable."})
		fieldErr := &widget.Label{Text: "Enter a number from 1 to 65535.", Importance: widget.DangerImportance}
		ok := &widget.Label{Text: "Billing server: answers.", Importance: widget.SuccessImportance}
		banner := &widget.Label{Text: "Session expired, please sign in again.", Importance: widget.WarningImportance}
		content := container.NewVBox(offline.box, warn.box, fieldErr, ok, banner)
		w := test.NewTempWindow(t, content)
		w.Resize(fyne.NewSize(900, 400))
		texts := measureTexts(t, w.Canvas(), content)
		if len(texts) < 6 {
			t.Fatalf("measured %v", texts)
		}
		if bad := lowContrast(texts); len(bad) > 0 {
			t.Errorf("variant %v: %v", variant, bad)
		}
		offline.Close()
	}
}
