package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"

	"golang.org/x/image/vector"
)

// The design lives in a 64×64 unit square and is scaled to the target size.
const unit = 64

// States are the tray states an icon is drawn for, in the order of
// assets.TrayStates.
var states = []string{"connecting", "connected", "offline", "expired", "paused", "signedout"}

// Sizes are the pixel sizes of the tray icons.
var sizes = []int{32, 64}

// file is one PNG to write.
type file struct {
	name   string
	render func() *image.NRGBA
}

// files lists every icon: the app icon at 32, 64 and 512 px and the tray
// icons for every state, with and without the unread badge, at every size.
func files() []file {
	var fs []file
	for _, size := range []int{32, 64, 512} {
		name := fmt.Sprintf("echotray-%d.png", size)
		if size == 512 {
			name = "echotray.png"
		}
		fs = append(fs, file{name: name, render: func() *image.NRGBA { return appIcon(size) }})
	}
	for _, st := range states {
		for _, unread := range []bool{false, true} {
			for _, size := range sizes {
				name := "tray-" + st
				if unread {
					name += "-unread"
				}
				name += fmt.Sprintf("-%d.png", size)
				fs = append(fs, file{name: name, render: func() *image.NRGBA { return trayIcon(st, unread, size) }})
			}
		}
	}
	return fs
}

// Palette.
var (
	green  = rgb(0x2f, 0x9e, 0x44)
	amber  = rgb(0xf0, 0x8c, 0x00)
	grey   = rgb(0x86, 0x8e, 0x96)
	dark   = rgb(0x49, 0x50, 0x57)
	red    = rgb(0xe0, 0x31, 0x31)
	yellow = rgb(0xfa, 0xb0, 0x05)
	indigo = rgb(0x4c, 0x6e, 0xf5)
	white  = rgb(0xff, 0xff, 0xff)
)

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{R: r, G: g, B: b, A: 0xff} }

func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// trayIcon draws the tray icon of one state: a bell whose colour tells the
// state, echo waves while connected (faint while connecting), a badge for
// offline (×), expired (!) and paused (slash), and a red dot when there are
// unread notifications.
func trayIcon(state string, unread bool, size int) *image.NRGBA {
	c := newCanvas(size)
	switch state {
	case "connected":
		c.fill(green, bell()...)
		c.fill(green, waves(2)...)
	case "connecting":
		c.fill(amber, bell()...)
		c.fill(withAlpha(amber, 0x90), waves(1)...)
	case "offline":
		c.fill(grey, bell()...)
		c.badge(dark, cross())
	case "expired":
		c.fill(red, bell()...)
		c.badge(yellow, bang())
	case "paused":
		c.fill(indigo, bell()...)
		// Bell-off: cut a gap along the diagonal, then draw the slash in it.
		c.erase(capsule(pt{12, 8}, pt{54, 56}, 9))
		c.fill(indigo, capsule(pt{12, 8}, pt{54, 56}, 4.5))
	case "signedout":
		c.fill(grey, outline(bell(), 3.5)...)
	default:
		panic("unknown state " + state)
	}
	if unread {
		c.erase(circle(pt{52, 12}, 11.5))
		c.fill(red, circle(pt{52, 12}, 8.5))
	}
	return c.img
}

// appIcon draws the application icon: a white bell with echo waves on a
// rounded square with a teal-to-blue gradient.
func appIcon(size int) *image.NRGBA {
	c := newCanvas(size)
	bg := roundRect(2, 2, 62, 62, 13)
	top, bottom := rgb(0x15, 0xaa, 0xbf), rgb(0x18, 0x64, 0xab)
	c.fillFunc(func(_, y float64) color.NRGBA {
		t := y / float64(size)
		return color.NRGBA{
			R: lerp8(top.R, bottom.R, t), G: lerp8(top.G, bottom.G, t), B: lerp8(top.B, bottom.B, t), A: 0xff,
		}
	}, bg)
	// The symbol takes the middle 75 % of the square.
	sym := func(ps []poly) []poly { return transform(ps, 32, 33, 0.75) }
	c.fill(white, sym(bell())...)
	c.fill(white, sym(waves(2))...)
	return c.img
}

func lerp8(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a) + (float64(b)-float64(a))*t))
}

// pt is a point in design units.
type pt struct{ x, y float64 }

// poly is a closed polygon in design units.
type poly []pt

// transform scales polygons by k about (cx, cy) and centres them on (32, 32)
// shifted to (cx, cy).
func transform(ps []poly, cx, cy, k float64) []poly {
	out := make([]poly, len(ps))
	for i, p := range ps {
		q := make(poly, len(p))
		for j, v := range p {
			q[j] = pt{cx + (v.x-32)*k, cy + (v.y-32)*k}
		}
		out[i] = q
	}
	return out
}

// cubic flattens a cubic Bézier from p0 to p3 (p0 excluded).
func cubic(p0, p1, p2, p3 pt) []pt {
	const n = 24
	out := make([]pt, 0, n)
	for i := 1; i <= n; i++ {
		t := float64(i) / n
		u := 1 - t
		out = append(out, pt{
			u*u*u*p0.x + 3*u*u*t*p1.x + 3*u*t*t*p2.x + t*t*t*p3.x,
			u*u*u*p0.y + 3*u*u*t*p1.y + 3*u*t*t*p2.y + t*t*t*p3.y,
		})
	}
	return out
}

// bellBody is the outline of the bell: dome, waist, flared rim.
func bellBody() poly {
	p := poly{{32, 11}}
	p = append(p, cubic(pt{32, 11}, pt{40.5, 11}, pt{44, 17.5}, pt{44, 26})...)
	p = append(p, pt{44, 35})
	p = append(p, cubic(pt{44, 35}, pt{44, 39.5}, pt{46, 41.5}, pt{49, 43.5})...)
	p = append(p, pt{49, 47}, pt{15, 47}, pt{15, 43.5})
	p = append(p, cubic(pt{15, 43.5}, pt{18, 41.5}, pt{20, 39.5}, pt{20, 35})...)
	p = append(p, pt{20, 26})
	p = append(p, cubic(pt{20, 26}, pt{20, 17.5}, pt{23.5, 11}, pt{32, 11})...)
	return p
}

// bell is the bell with its knob and clapper.
func bell() []poly {
	return []poly{
		bellBody(),
		circle(pt{32, 9.5}, 3),
		halfDisc(pt{32, 47}, 5),
	}
}

// outline strokes the edges of polygons with width w.
func outline(ps []poly, w float64) []poly {
	var out []poly
	for _, p := range ps {
		for i := range p {
			out = append(out, capsule(p[i], p[(i+1)%len(p)], w))
		}
	}
	return out
}

// waves are n concentric echo arcs on each side of the bell.
func waves(n int) []poly {
	const w = 3.4
	c := pt{32, 29}
	radii := []float64{20.5, 27.5}[:n]
	var out []poly
	for _, r := range radii {
		span := 30 * math.Pi / 180
		out = append(out, arc(c, r, -span, span, w))                // right
		out = append(out, arc(c, r, math.Pi-span, math.Pi+span, w)) // left
	}
	return out
}

// cross is the × of the offline badge, in badge-local units (centre 0,0).
func cross() []poly {
	return []poly{capsule(pt{-4.5, -4.5}, pt{4.5, 4.5}, 3.4), capsule(pt{-4.5, 4.5}, pt{4.5, -4.5}, 3.4)}
}

// bang is the ! of the expired badge.
func bang() []poly {
	return []poly{capsule(pt{0, -6}, pt{0, 1.5}, 3.6), circle(pt{0, 6}, 2)}
}

func circle(c pt, r float64) poly {
	const n = 64
	p := make(poly, n)
	for i := range p {
		a := 2 * math.Pi * float64(i) / n
		p[i] = pt{c.x + r*math.Cos(a), c.y + r*math.Sin(a)}
	}
	return p
}

// halfDisc is the lower half of a disc.
func halfDisc(c pt, r float64) poly {
	const n = 32
	p := make(poly, 0, n+1)
	for i := 0; i <= n; i++ {
		a := math.Pi * float64(i) / n
		p = append(p, pt{c.x + r*math.Cos(a), c.y + r*math.Sin(a)})
	}
	return p
}

// capsule is a line from a to b of width w with round caps.
func capsule(a, b pt, w float64) poly {
	r := w / 2
	ang := math.Atan2(b.y-a.y, b.x-a.x)
	const n = 16
	p := make(poly, 0, 2*n+2)
	for i := 0; i <= n; i++ { // cap around b
		t := ang - math.Pi/2 + math.Pi*float64(i)/n
		p = append(p, pt{b.x + r*math.Cos(t), b.y + r*math.Sin(t)})
	}
	for i := 0; i <= n; i++ { // cap around a
		t := ang + math.Pi/2 + math.Pi*float64(i)/n
		p = append(p, pt{a.x + r*math.Cos(t), a.y + r*math.Sin(t)})
	}
	return p
}

// arc is a stroked circular arc of radius r about c from angle a0 to a1, width
// w, with round caps.
func arc(c pt, r, a0, a1, w float64) poly {
	const n = 32
	ro, ri, hw := r+w/2, r-w/2, w/2
	var p poly
	for i := 0; i <= n; i++ {
		a := a0 + (a1-a0)*float64(i)/n
		p = append(p, pt{c.x + ro*math.Cos(a), c.y + ro*math.Sin(a)})
	}
	end := pt{c.x + r*math.Cos(a1), c.y + r*math.Sin(a1)}
	for i := 1; i < 12; i++ {
		t := a1 + math.Pi*float64(i)/12
		p = append(p, pt{end.x + hw*math.Cos(t), end.y + hw*math.Sin(t)})
	}
	for i := n; i >= 0; i-- {
		a := a0 + (a1-a0)*float64(i)/n
		p = append(p, pt{c.x + ri*math.Cos(a), c.y + ri*math.Sin(a)})
	}
	start := pt{c.x + r*math.Cos(a0), c.y + r*math.Sin(a0)}
	for i := 1; i < 12; i++ {
		t := a0 + math.Pi + math.Pi*float64(i)/12
		p = append(p, pt{start.x + hw*math.Cos(t), start.y + hw*math.Sin(t)})
	}
	return p
}

// roundRect is a rectangle with rounded corners of radius r.
func roundRect(x0, y0, x1, y1, r float64) poly {
	const n = 16
	var p poly
	corner := func(cx, cy, from float64) {
		for i := 0; i <= n; i++ {
			a := from + math.Pi/2*float64(i)/n
			p = append(p, pt{cx + r*math.Cos(a), cy + r*math.Sin(a)})
		}
	}
	corner(x1-r, y1-r, 0)
	corner(x0+r, y1-r, math.Pi/2)
	corner(x0+r, y0+r, math.Pi)
	corner(x1-r, y0+r, 3*math.Pi/2)
	return p
}

// canvas is an image with the design-unit scale of its size.
type canvas struct {
	img   *image.NRGBA
	scale float64
}

func newCanvas(size int) *canvas {
	return &canvas{img: image.NewNRGBA(image.Rect(0, 0, size, size)), scale: float64(size) / unit}
}

// mask rasterises polygons (their union) into an alpha mask.
func (c *canvas) mask(ps ...poly) *image.Alpha {
	b := c.img.Bounds()
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	for _, p := range ps {
		if len(p) < 3 {
			continue
		}
		z.MoveTo(float32(p[0].x*c.scale), float32(p[0].y*c.scale))
		for _, v := range p[1:] {
			z.LineTo(float32(v.x*c.scale), float32(v.y*c.scale))
		}
		z.ClosePath()
	}
	m := image.NewAlpha(b)
	z.Draw(m, b, image.Opaque, image.Point{})
	return m
}

// fill paints the union of ps in col over the image.
func (c *canvas) fill(col color.NRGBA, ps ...poly) {
	draw.DrawMask(c.img, c.img.Bounds(), image.NewUniform(col), image.Point{}, c.mask(ps...), image.Point{}, draw.Over)
}

// fillFunc paints the union of ps with a colour per pixel.
func (c *canvas) fillFunc(col func(x, y float64) color.NRGBA, ps ...poly) {
	b := c.img.Bounds()
	src := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			src.SetNRGBA(x, y, col(float64(x)+0.5, float64(y)+0.5))
		}
	}
	draw.DrawMask(c.img, b, src, image.Point{}, c.mask(ps...), image.Point{}, draw.Over)
}

// erase clears the union of ps to transparent.
func (c *canvas) erase(ps ...poly) {
	// draw.Src with a mask would clear everything outside the mask too, so
	// scale the alpha by the mask's complement by hand.
	m := c.mask(ps...)
	for i, a := range m.Pix {
		px := c.img.Pix[4*i+3]
		c.img.Pix[4*i+3] = uint8((uint32(px)*(255-uint32(a)) + 127) / 255)
	}
}

// badge draws a status badge in the lower right corner: a disc of col with
// a white glyph, separated from the bell by a transparent ring.
func (c *canvas) badge(col color.NRGBA, glyph []poly) {
	centre := pt{49, 49}
	c.erase(circle(centre, 14.5))
	c.fill(col, circle(centre, 12))
	ink := white
	if col == yellow {
		ink = rgb(0x21, 0x25, 0x29)
	}
	moved := make([]poly, len(glyph))
	for i, g := range glyph {
		q := make(poly, len(g))
		for j, v := range g {
			q[j] = pt{v.x + centre.x, v.y + centre.y}
		}
		moved[i] = q
	}
	c.fill(ink, moved...)
}

// encodePNG encodes img with the default compression.
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
