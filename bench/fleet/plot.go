package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Colours of the series, the same in every plot.
var (
	colConnected  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colFull       = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colAuth       = color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff}
	colTooMany    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colUnavail    = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colReconnects = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	colDelivered  = color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}
)

// plot writes fleet-<name>.png to the output directory: connected and fully
// subscribed clients over time (top), auth requests, 429s, 503s and
// reconnections per 100 ms (bottom), for the window [from, to]; x is
// seconds since zero.
func (b *bench) plot(name, title string, from, to, zero time.Time) error {
	ss := b.rec.window(from, to)
	if len(ss) == 0 {
		return nil
	}
	off := zero.Sub(b.rec.start).Seconds()
	x := func(s sample) float64 { return s.T.Seconds() - off }
	series := func(f func(sample) int) plotter.XYs {
		xy := make(plotter.XYs, len(ss))
		for i, s := range ss {
			xy[i] = plotter.XY{X: x(s), Y: float64(f(s))}
		}
		return xy
	}

	top := plot.New()
	top.Title.Text = title
	top.Y.Label.Text = "clients"
	top.Y.Min, top.Y.Max = 0, float64(len(b.members))*1.05
	top.Legend.Top, top.Legend.Left = false, false
	top.Add(plotter.NewGrid())
	if err := addLine(top, "connected", colConnected, series(func(s sample) int { return s.Connected }), nil); err != nil {
		return err
	}
	if err := addLine(top, "every channel subscribed", colFull, series(func(s sample) int { return s.Full }), []vg.Length{vg.Points(4), vg.Points(2)}); err != nil {
		return err
	}

	bot := plot.New()
	bot.X.Label.Text = fmt.Sprintf("seconds since the scenario began (bench -clients %d, auth throttle %d/s)", len(b.members), b.o.authRate)
	if strings.HasPrefix(name, "outage") && b.o.recoveryRate != b.o.authRate {
		bot.X.Label.Text = fmt.Sprintf("seconds since the scenario began (bench -clients %d, auth throttle %d/s, %d/s after the outage)", len(b.members), b.o.authRate, b.o.recoveryRate)
	}
	bot.Y.Label.Text = "per 100 ms"
	bot.Add(plotter.NewGrid())
	bot.Legend.Top = true
	for _, l := range []struct {
		name string
		c    color.Color
		f    func(sample) int
	}{
		{"auth requests", colAuth, func(s sample) int { return s.AuthReqs }},
		{"429 answers", colTooMany, func(s sample) int { return s.Auth429 }},
		{"503 answers", colUnavail, func(s sample) int { return s.Auth503 }},
		{"reconnections", colReconnects, func(s sample) int { return s.Reconnects }},
	} {
		if err := addLine(bot, l.name, l.c, series(l.f), nil); err != nil {
			return err
		}
	}
	if name == "steady" {
		if err := addLine(bot, "events delivered ÷ 100", colDelivered, series(func(s sample) int { return s.Delivered / 100 }), nil); err != nil {
			return err
		}
	}
	limit, err := plotter.NewLine(plotter.XYs{{X: x(ss[0]), Y: float64(b.o.authRate) / 10}, {X: x(ss[len(ss)-1]), Y: float64(b.o.authRate) / 10}})
	if err != nil {
		return err
	}
	limit.Color = colAuth
	limit.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
	bot.Add(limit)
	bot.Legend.Add(fmt.Sprintf("throttle (%d/s)", b.o.authRate), limit)
	top.X.Min, top.X.Max = x(ss[0]), x(ss[len(ss)-1])
	bot.X.Min, bot.X.Max = top.X.Min, top.X.Max

	img := vgimg.New(vg.Points(900), vg.Points(600))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10), PadY: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{{top}, {bot}}, tiles, dc)
	top.Draw(canvases[0][0])
	bot.Draw(canvases[1][0])
	path := filepath.Join(b.o.out, "fleet-"+name+".png")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	b.printf("Plot: `%s`\n\n", path)
	return nil
}

func addLine(p *plot.Plot, name string, c color.Color, xy plotter.XYs, dashes []vg.Length) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.2)
	l.StepStyle = plotter.PostStep
	l.Dashes = dashes
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}
