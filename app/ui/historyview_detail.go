package ui

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/notify"
)

// The detail pane never lays out unbounded text on the Fyne thread.
//
// Fyne wraps a label by measuring the rest of each logical line again for
// every row it makes, with a binary search for the break, so its cost grows
// with the square of the line's length: 500 characters without a space
// took 95 ms, 4,000 a second, a 16 KiB event name and channel half a
// minute. A line that fits is measured once. So the wrapped labels (title,
// event and channel, message) get at most a few hundred to two thousand
// characters, and when they are longer than is usual (detailPlainMax in
// all) they come already broken at word boundaries into lines that fit the
// pane (detailColumns measures the pane in average letters, glyphWidth
// weighs each character): Fyne then measures each line once. Usual texts
// are left to Fyne's wrapping, cheap at that length.
// "Show full text" shows the whole of them in a text view. The payload is
// shown in a text view too: monospace, not wrapped, scrolling both ways,
// laying out only the lines in sight, so its cost does not depend on the
// payload's size.
//
// All of that text is prepared on the store worker (prepareDetail); the
// Fyne thread only hands the prepared strings to the widgets.

// Limits of the detail pane, in characters (runes).
const (
	detailTitleMax   = 300  // the title, wrapped
	detailNameMax    = 120  // the event name and the channel, each, wrapped
	detailMessageMax = 2000 // the message, wrapped
	detailTitleLines = 10   // lines of the title, before wrapping
	detailLinesMax   = 100  // lines of the message, before wrapping
	detailPlainMax   = 300  // title, event, channel and message up to this, in all, are wrapped by Fyne alone
	viewLineMax      = 256  // longest line of a text view; longer ones continue on the next
	fullTextColumns  = 80   // "Show full text" wraps words at this column
	// The range of detailColumns: the longest logical line handed to a
	// wrapped label is between these, in average letters.
	minDetailColumns = 20
	maxDetailColumns = 160
)

// detailWidths are the pane's widths in average lowercase letters (the
// unit of glyphWidth), for prepareDetail.
type detailWidths struct {
	title float32 // in the title's (larger, bold) style
	text  float32 // in the body text style
}

// continued ends a text view line that continues on the next one.
const continued = " ↩"

// detailDoc is an entry made ready for the detail pane on the store worker.
type detailDoc struct {
	time                 time.Time
	title, meta, message string // capped and broken into short lines
	tech                 string // event and channel names, capped
	fields               []notify.Field
	links                []*url.URL // web addresses in the message, at most maxDetailLinks
	cut                  bool       // title, event, channel or message was shortened
	full                 textLines
	payload              textLines
	copyText             string // the payload for the clipboard
}

// textLines is text prepared for a textView.
type textLines struct {
	lines []string
	cols  int // the longest line, in runes
}

// prepareDetail formats e for the detail pane, w wide. It runs
// on the store worker: its cost grows with the entry's size, and none of it
// is layout.
func prepareDetail(e notify.Entry, w detailWidths) *detailDoc {
	d := &detailDoc{time: e.Time}
	title, cutTitle := clipText(orDash(e.Title), detailTitleMax, detailTitleLines)
	event, cutEvent := clipRunes(singleLine(e.Event), detailNameMax)
	channel, cutChannel := clipRunes(singleLine(e.Channel), detailNameMax)
	message, cutMessage := clipText(orDash(e.Message), detailMessageMax, detailLinesMax)
	// People read what happened and where from; the names the server
	// uses are under "Technical details".
	meta := []string{typeLabel(e.Type)}
	if event != "" {
		words, _ := clipRunes(notify.Words(e.Event), detailNameMax)
		meta = append(meta, words)
	}
	meta = append(meta, notify.ChannelLabel(e.Channel))
	d.title, d.meta, d.message = title, strings.Join(meta, " · "), message
	d.tech = breakLongLines("Event: "+orDash(event)+"\nChannel: "+orDash(channel), w.text)
	d.fields = notify.DetailFields(e.Data)
	d.links = findLinks(message)
	if utf8.RuneCountInString(d.title)+utf8.RuneCountInString(d.meta)+utf8.RuneCountInString(d.message) > detailPlainMax {
		d.title = breakLongLines(d.title, w.title)
		d.meta = breakLongLines(d.meta, w.text)
		d.message = breakLongLines(d.message, w.text)
	}
	d.cut = cutTitle || cutEvent || cutChannel || cutMessage
	if d.cut {
		var b strings.Builder
		for _, part := range []struct{ name, text string }{
			{"Title", e.Title}, {"Event", e.Event}, {"Channel", e.Channel}, {"Message", e.Message},
		} {
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(part.name + "\n" + orDash(part.text))
		}
		d.full = wrapTextLines(b.String(), fullTextColumns)
	}
	pretty, payloadCut := formatPayload(e.Data)
	d.payload = splitTextLines(pretty, viewLineMax)
	d.copyText = pretty
	if payloadCut {
		d.copyText = string(bytes.ToValidUTF8(e.Data, []byte("\uFFFD")))
	}
	return d
}

// maxDetailLinks bounds the links listed under the message.
const maxDetailLinks = 5

// linkPattern finds web addresses in a message.
var linkPattern = regexp.MustCompile(`https?://[^\s<>"'()\[\]{}]+`)

// findLinks returns the web addresses in s, without trailing punctuation,
// each once, at most maxDetailLinks.
func findLinks(s string) []*url.URL {
	var out []*url.URL
	seen := map[string]bool{}
	for _, m := range linkPattern.FindAllString(s, 4*maxDetailLinks) {
		m = strings.TrimRight(m, ".,;:!?…")
		u, err := url.Parse(m)
		if err != nil || u.Host == "" || seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, u)
		if len(out) == maxDetailLinks {
			break
		}
	}
	return out
}

// clipRunes returns s cut to max runes, with "…" when it was cut.
func clipRunes(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false // no more bytes than runes
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…", true
		}
		n++
	}
	return s, false
}

// clipText returns s cut to max runes and maxLines lines, with "…" when it
// was cut.
func clipText(s string, max, maxLines int) (string, bool) {
	s, cut := clipRunes(s, max)
	if i := nthIndexByte(s, '\n', maxLines); i >= 0 {
		return strings.TrimRight(s[:i], " ") + "…", true
	}
	return s, cut
}

// nthIndexByte returns the index of the nth c in s, or -1.
func nthIndexByte(s string, c byte, n int) int {
	at := -1
	for range n {
		i := strings.IndexByte(s[at+1:], c)
		if i < 0 {
			return -1
		}
		at += 1 + i
	}
	return at
}

// breakLongLines breaks every line of s wider than width (in glyphWidth
// units) into lines at most that wide, as word wrapping does: at the last
// space that fits (dropping it), else inside the word. A wrapped label
// then gets lines that fit, and measures each once.
func breakLongLines(s string, width float32) string {
	if float32(len(s)) <= width/maxGlyphWidth {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/max(1, int(width)))
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		for {
			end, next := textBreak(line, width)
			b.WriteString(line[:end])
			if end == len(line) {
				break
			}
			b.WriteByte('\n')
			line = line[next:]
		}
	}
	return b.String()
}

// textBreak returns where a line wider than width (in glyphWidth units)
// ends (end) and where the next one starts (next: after the space it was
// broken at); for a line that fits, both are len(line). It reads no
// further than the break.
func textBreak(line string, width float32) (end, next int) {
	var w float32
	space, spaceEnd := -1, 0
	for i, r := range line {
		w += glyphWidth(r)
		if w > width && i > 0 {
			if space > 0 {
				return space, spaceEnd
			}
			return i, i
		}
		if unicode.IsSpace(r) && i > 0 {
			space, spaceEnd = i, i+utf8.RuneLen(r)
		}
	}
	return len(line), len(line)
}

// textWidth is the width of s in glyphWidth units.
func textWidth(s string) float32 {
	var w float32
	for _, r := range s {
		w += glyphWidth(r)
	}
	return w
}

// maxGlyphWidth is the widest glyphWidth.
const maxGlyphWidth = 2.3

// asciiWidths are the glyphWidths of printable ASCII, in tenths.
var asciiWidths = func() (w [128]uint8) {
	for i := range w {
		w[i] = 10
	}
	for _, g := range []struct {
		tenths uint8
		chars  string
	}{
		{5, ` .,:;!'` + "`" + `ijlIJ`},
		{7, `ftr()[]{}-/\"`},
		{12, `bdghnopqu0123456789ABCEFKLPRSTVXYZ#$*+=<>~^|`},
		{15, `DGHNOQUw&`},
		{18, `mMW@%`},
	} {
		for _, c := range g.chars {
			w[c] = g.tenths
		}
	}
	return w
}()

// glyphWidth is roughly how wide r is drawn in a proportional font, in
// average lowercase letters, rounded up (measured on Fyne's font): what a
// line is broken by before Fyne measures it. Other scripts count as wide
// letters, East Asian and emoji as two and a bit.
func glyphWidth(r rune) float32 {
	switch {
	case r < 0x80:
		return float32(asciiWidths[r]) / 10
	case r >= 0x1100 && (unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r >= 0x1f000 || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xff60)):
		return maxGlyphWidth
	}
	return 1.5
}

// breakPoint returns where a line of more than width runes ends (end) and
// where the next one starts (next: after the space it was broken at); for
// a line of at most width runes, both are len(line). It reads at most
// width+1 runes.
func breakPoint(line string, width int) (end, next int) {
	width = max(width, 1)
	n, space, spaceEnd := 0, -1, 0
	for i, r := range line {
		if n == width {
			if space > 0 {
				return space, spaceEnd
			}
			return i, i
		}
		if unicode.IsSpace(r) && i > 0 {
			space, spaceEnd = i, i+utf8.RuneLen(r)
		}
		n++
	}
	return len(line), len(line)
}

// splitTextLines splits s into the lines of a textView: control
// characters made visible (a tab as spaces), lines longer than width runes
// cut after width runes and continued on the next line.
func splitTextLines(s string, width int) textLines { return textViewLines(s, width, false) }

// wrapTextLines is splitTextLines wrapping words: a long line is broken at
// its last space within width runes (exact, as the text is monospace), and
// cut only where a word is longer than that.
func wrapTextLines(s string, width int) textLines { return textViewLines(s, width, true) }

func textViewLines(s string, width int, words bool) textLines {
	var t textLines
	add := func(line string) {
		t.lines = append(t.lines, line)
		t.cols = max(t.cols, utf8.RuneCountInString(line))
	}
	for line := range strings.SplitSeq(s, "\n") {
		line = visibleLine(line)
		for {
			end, next := runeOffset(line, width), -1
			if words {
				end, next = breakPoint(line, width)
			}
			switch {
			case end == len(line):
				add(line)
			case end == next || next < 0: // cut inside a word
				add(line[:end] + continued)
				line = line[end:]
				continue
			default:
				add(line[:end])
				line = line[next:]
				continue
			}
			break
		}
	}
	return t
}

// runeOffset returns the byte offset after the first n runes of s, or
// len(s) if it has no more.
func runeOffset(s string, n int) int {
	n = max(n, 1) // a line makes progress
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// visibleLine replaces what a line must not draw: a tab by four spaces,
// other control characters and the bidirectional controls (which would
// reorder what is shown) by U+FFFD.
func visibleLine(s string) string {
	clean := true
	for _, r := range s {
		if isHiddenRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString("    ")
		case isHiddenRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isHiddenRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// detailColumns measures the width of the detail pane's text in average
// lowercase letters, the unit of glyphWidth, for the title and the body
// text, with a margin: a line too wide is wrapped by Fyne, which costs it
// several measurements, a narrow one none.
func (v *HistoryView) detailColumns() detailWidths {
	width := v.detail.Size().Width - 2*theme.InnerPadding() // a label's text
	if width <= 0 {
		width = 360 // not laid out yet
	}
	cols := func(style fyne.TextStyle, size float32) float32 {
		const sample = "abcdefghijklmnopqrstuvwxyz"
		avg := fyne.MeasureText(sample, size, style).Width / float32(len(sample))
		if avg <= 0 {
			return maxDetailColumns
		}
		return min(maxDetailColumns, max(minDetailColumns, width*0.95/avg))
	}
	return detailWidths{
		title: cols(v.detailTitle.TextStyle, theme.Size(v.detailTitle.SizeName)),
		text:  cols(fyne.TextStyle{}, theme.TextSize()),
	}
}

// showDetail fills the detail pane with d, or shows the hint for nil.
func (v *HistoryView) showDetail(d *detailDoc) {
	v.detailDoc = d
	if d == nil {
		v.detailEmpty.SetText("Select a notification to see its details.")
		v.detailBody.Hide()
		v.detailEmpty.Show()
		v.detailPayload.SetLines(textLines{})
		return
	}
	v.detailTitle.SetText(d.title)
	v.detailMeta.SetText(d.meta)
	v.detailTime.SetText(v.fullTime(d.time))
	v.detailMessage.SetText(d.message)
	v.detailLinks.RemoveAll()
	for _, u := range d.links {
		h := widget.NewHyperlink(u.String(), u)
		h.Wrapping = fyne.TextWrapBreak
		v.detailLinks.Add(h)
	}
	v.detailFields.RemoveAll()
	for _, f := range d.fields {
		v.detailFields.Add(widget.NewLabelWithStyle(f.Label, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		v.detailFields.Add(label(&widget.Label{Text: f.Value, Wrapping: fyne.TextWrapWord, Selectable: true}))
	}
	v.detailTech.SetText(d.tech)
	if d.cut {
		v.detailFull.Show()
	} else {
		v.detailFull.Hide()
	}
	v.detailPayload.SetLines(d.payload)
	v.detailEmpty.Hide()
	v.detailBody.Show()
}

// showFullText shows the whole title, event, channel and message of the
// open entry in a dialog ("Show full text").
func (v *HistoryView) showFullText() {
	d := v.detailDoc
	if d == nil || v.win == nil {
		return
	}
	tv := newTextView()
	tv.SetLines(d.full)
	dlg := dialog.NewCustom("Full text", "Close", tv, v.win)
	size := v.win.Canvas().Size()
	dlg.Resize(fyne.NewSize(max(360, size.Width*0.8), max(240, size.Height*0.8)))
	v.showDialog(dlg, nil)
}

// copyPayload puts the open entry's payload on the clipboard.
func (v *HistoryView) copyPayload() {
	if d := v.detailDoc; d != nil && v.app != nil {
		v.app.Clipboard().SetContent(d.copyText)
	}
}

// textView shows lines of monospace text, not wrapped, in a scroll view
// that scrolls both ways. Only the lines in sight are laid out: its cost on
// the Fyne thread does not depend on how much text it holds. Lines are
// prepared by splitTextLines, off the Fyne thread where they may be long.
type textView struct {
	widget.BaseWidget
	text   textLines
	scroll *container.Scroll
	body   *textViewBody

	cellFor  float32 // the text size cell was measured at
	cellSize fyne.Size
}

func newTextView() *textView {
	t := &textView{}
	t.body = &textViewBody{view: t}
	t.body.ExtendBaseWidget(t.body)
	t.scroll = container.NewScroll(t.body)
	t.scroll.OnScrolled = func(fyne.Position) { t.body.Refresh() }
	t.ExtendBaseWidget(t)
	return t
}

// CreateRenderer is the scroll view.
func (t *textView) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.scroll) }

// SetLines shows text, scrolled to its start.
func (t *textView) SetLines(text textLines) {
	t.text = text
	t.scroll.Offset = fyne.Position{}
	t.scroll.Refresh() // the new size
	t.body.Refresh()   // the lines in sight, also when the size stayed
}

// Text returns the lines shown, joined.
func (t *textView) Text() string { return strings.Join(t.text.lines, "\n") }

// cell is the size of one monospace character.
func (t *textView) cell() fyne.Size {
	if size := theme.TextSize(); size != t.cellFor {
		t.cellFor = size
		t.cellSize = fyne.MeasureText("M", size, fyne.TextStyle{Monospace: true})
	}
	return t.cellSize
}

// textViewBody is the scrolled content: as large as all the lines, with a
// text object for each line in sight.
type textViewBody struct {
	widget.BaseWidget
	view *textView
}

func (b *textViewBody) CreateRenderer() fyne.WidgetRenderer { return &textViewRenderer{body: b} }

type textViewRenderer struct {
	body    *textViewBody
	texts   []*canvas.Text // reused
	objects []fyne.CanvasObject
}

func (r *textViewRenderer) Destroy() {}

func (r *textViewRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *textViewRenderer) MinSize() fyne.Size {
	v := r.body.view
	c := v.cell()
	pad := theme.InnerPadding()
	return fyne.NewSize(float32(v.text.cols)*c.Width+2*pad, float32(len(v.text.lines))*c.Height+2*pad)
}

func (r *textViewRenderer) Layout(fyne.Size) { r.place() }

func (r *textViewRenderer) Refresh() { r.place() }

// place shows the lines in the scroll view's sight.
func (r *textViewRenderer) place() {
	v := r.body.view
	c := v.cell()
	r.objects = r.objects[:0]
	if c.Height <= 0 || len(v.text.lines) == 0 {
		return
	}
	pad := theme.InnerPadding()
	top, height := v.scroll.Offset.Y, v.scroll.Size().Height
	first := max(0, int((top-pad)/c.Height))
	last := min(len(v.text.lines), int((top+height-pad)/c.Height)+1)
	fg, size := theme.Color(theme.ColorNameForeground), theme.TextSize()
	for i := first; i < last; i++ {
		n := i - first
		if n == len(r.texts) {
			t := canvas.NewText("", fg)
			t.TextStyle.Monospace = true
			r.texts = append(r.texts, t)
		}
		t, line := r.texts[n], v.text.lines[i]
		if t.Text != line || t.Color != fg || t.TextSize != size {
			t.Text, t.Color, t.TextSize = line, fg, size
			t.Refresh()
		}
		t.Move(fyne.NewPos(pad, pad+float32(i)*c.Height))
		t.Resize(fyne.NewSize(float32(utf8.RuneCountInString(line))*c.Width, c.Height))
		r.objects = append(r.objects, t)
	}
}
