package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/notify"
)

// historyList is the entries list: a widget.List whose Enter opens the
// focused entry and whose Delete removes the selected one.
type historyList struct {
	widget.List
	view *HistoryView
}

func newHistoryList(v *HistoryView) *historyList {
	l := &historyList{view: v}
	l.Length = func() int { return len(v.ids) }
	l.CreateItem = func() fyne.CanvasObject { return newHistoryRow() }
	l.UpdateItem = func(idx widget.ListItemID, o fyne.CanvasObject) {
		if idx >= len(v.ids) {
			return
		}
		if e, ok := v.row(idx); ok {
			v.fillRow(o.(*fyne.Container), e)
		} else {
			fillLoading(o.(*fyne.Container)) // redrawn when its page arrives
		}
	}
	l.OnSelected = v.onSelected
	l.OnUnselected = v.onUnselected
	l.ExtendBaseWidget(l)
	return l
}

// selectedIndex returns the index the list shows selected, or -1.
func (l *historyList) selectedIndex() int { return l.view.listSel }

// TypedKey handles Enter (open the focused entry) and Delete (remove the
// selected entry); other keys move the focus as in any list.
func (l *historyList) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		before := l.view.selected
		l.List.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace}) // selects the focused row
		if l.view.selected == before && before != 0 {
			l.view.open(before)
		}
	case fyne.KeyDelete:
		l.view.deleteSelected()
	case fyne.KeyDown, fyne.KeyUp, fyne.KeyHome, fyne.KeyEnd, fyne.KeyPageDown, fyne.KeyPageUp:
		before := l.view.indexOf(l.view.selected)
		l.view.moveSelection(ev.Name)
		l.followFocus(before, l.view.indexOf(l.view.selected))
	case fyne.KeyEscape:
		l.view.escape()
	default:
		l.List.TypedKey(ev)
	}
}

// followFocus moves the list's keyboard focus mark (which Fyne keeps
// apart from the selection, and moves only by one row per key) along with
// a selection that moved from row before to row after, so the two stay on
// one row. Long jumps (End in a long list) leave it.
func (l *historyList) followFocus(before, after int) {
	const maxSteps = 50
	if before < 0 || after < 0 || before == after || abs(after-before) > maxSteps {
		return
	}
	key := fyne.KeyDown
	if after < before {
		key = fyne.KeyUp
	}
	for range abs(after - before) {
		l.List.TypedKey(&fyne.KeyEvent{Name: key})
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// moveSelection selects the entry the key leads to (Down, Up, Home, End,
// Page Down, Page Up) and opens it: the detail follows the selection.
func (v *HistoryView) moveSelection(key fyne.KeyName) {
	n := len(v.ids)
	if n == 0 {
		return
	}
	idx := v.indexOf(v.selected)
	page := 10
	if v.rowHeight > 0 {
		page = max(1, int(v.list.Size().Height/v.rowHeight)-1)
	}
	next := idx
	switch {
	case idx < 0 && key != fyne.KeyEnd:
		next = 0
	case key == fyne.KeyDown:
		next = idx + 1
	case key == fyne.KeyUp:
		next = idx - 1
	case key == fyne.KeyHome:
		next = 0
	case key == fyne.KeyEnd:
		next = n - 1
	case key == fyne.KeyPageDown:
		next = idx + page
	case key == fyne.KeyPageUp:
		next = idx - page
	}
	next = min(max(next, 0), n-1)
	if next != idx {
		v.list.Select(next)
	}
	v.list.ScrollTo(next)
}

// searchEntry is the search box: Down enters the list, Escape clears the
// search.
type searchEntry struct {
	widget.Entry
	view *HistoryView
}

func newSearchEntry(v *HistoryView) *searchEntry {
	e := &searchEntry{view: v}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey moves into the list on Down and clears the search on Escape;
// other keys edit the text.
func (e *searchEntry) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyDown:
		e.view.enterList()
	case fyne.KeyEscape:
		e.view.escape()
	default:
		e.Entry.TypedKey(ev)
	}
}

// Row objects, in the order historyRowLayout places them.
const (
	rowDot = iota
	rowIcon
	rowTitle
	rowMessage
	rowChannel
	rowTime
)

// label finishes a struct-literal Label, so it lays out from its first
// Resize (a literal has no widget behind its BaseWidget until it renders).
func label(l *widget.Label) *widget.Label {
	l.ExtendBaseWidget(l)
	return l
}

func newHistoryRow() *fyne.Container {
	dot := canvas.NewCircle(theme.Color(theme.ColorNamePrimary))
	icon := widget.NewIcon(theme.InfoIcon())
	title := label(&widget.Label{Text: "Title", Truncation: fyne.TextTruncateEllipsis})
	msg := label(&widget.Label{Text: "Message", Truncation: fyne.TextTruncateEllipsis})
	// The source and time are secondary, but must stay readable (WCAG AA,
	// 4.5:1) on the background and on a selected row in both themes: the
	// theme's "disabled" colour of LowImportance has 1.3:1, so they use
	// the text colour (contrast_test.go measures it).
	ch := label(&widget.Label{Text: "channel", Truncation: fyne.TextTruncateEllipsis})
	tm := label(&widget.Label{Text: "now", Alignment: fyne.TextAlignTrailing})
	return container.New(historyRowLayout{}, dot, icon, title, msg, ch, tm)
}

func (v *HistoryView) fillRow(c *fyne.Container, e notify.Entry) {
	// Setting a label's text re-shapes it even when unchanged, and rows are
	// refilled on every scroll and update: only touch what changed.
	dot := c.Objects[rowDot].(*canvas.Circle)
	if col := theme.Color(theme.ColorNamePrimary); dot.FillColor != col {
		dot.FillColor = col // the theme changed
		dot.Refresh()
	}
	if e.Read != dot.Hidden {
		if e.Read {
			dot.Hide()
		} else {
			dot.Show()
		}
	}
	if icon := c.Objects[rowIcon].(*widget.Icon); icon.Resource != typeIcon(e.Type) {
		icon.SetResource(typeIcon(e.Type))
	}
	setCell(c.Objects[rowTitle].(*widget.Label), cellText(e.Title), fyne.TextStyle{Bold: !e.Read})
	setCell(c.Objects[rowMessage].(*widget.Label), cellText(e.Message), fyne.TextStyle{})
	setCell(c.Objects[rowChannel].(*widget.Label), notify.ChannelLabel(e.Channel), fyne.TextStyle{})
	setCell(c.Objects[rowTime].(*widget.Label), relativeTime(e.Time, v.opts.Now(), v.opts.Location), fyne.TextStyle{})
}

// fillLoading blanks a row whose entry is still being read: a recycled row
// must not show another entry meanwhile.
func fillLoading(c *fyne.Container) {
	if dot := c.Objects[rowDot]; dot.Visible() {
		dot.Hide()
	}
	for _, i := range []int{rowTitle, rowMessage, rowChannel, rowTime} {
		setCell(c.Objects[i].(*widget.Label), "", fyne.TextStyle{})
	}
}

// setCell shows text in a row's label, refreshing only on a change: setting
// a label's text re-shapes it even when unchanged, and rows are refilled on
// every scroll and update.
func setCell(l *widget.Label, text string, style fyne.TextStyle) {
	if l.Text == text && l.TextStyle == style {
		return
	}
	l.Text, l.TextStyle = text, style
	fitCell(l, l.Size().Width)
	l.Refresh()
}

// fitCell turns ellipsis truncation on only when the text is wider than
// the cell: Fyne shapes an ellipsis label's text on every refresh, while
// the width of a label that fits comes from its measurement cache.
func fitCell(l *widget.Label, width float32) (changed bool) {
	if l.Alignment == fyne.TextAlignTrailing {
		return false // the time: short, never truncated
	}
	want := fyne.TextTruncateEllipsis
	if width > 0 && fyne.MeasureText(l.Text, theme.TextSize(), l.TextStyle).Width+2*theme.InnerPadding() <= width {
		want = fyne.TextTruncateOff
	}
	if l.Truncation == want {
		return false
	}
	l.Truncation = want
	return true
}

// rowTextMax bounds the text of a cell: more never fits, and measuring and
// truncating a label costs in proportion to its text.
const rowTextMax = 200

// cellText is s cut to rowTextMax characters, on one line.
func cellText(s string) string {
	s, _ = clipRunes(s, rowTextMax)
	return singleLine(s)
}

// singleLine joins the lines of s for a one-line cell.
func singleLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// historyRowLayout places a row's objects: unread dot, type icon, title
// (45% of the text width), message (the rest), channel and time.
type historyRowLayout struct{}

const (
	rowDotSize     = 8
	rowIconSize    = 20
	rowChannelW    = 120
	rowTimeW       = 96
	rowNarrowWidth = 520 // below this the channel column is dropped
)

func (historyRowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(rowIconSize)
	for _, o := range objs[rowTitle:] {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(rowDotSize+rowIconSize+rowTimeW+160, h)
}

func (historyRowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	h := size.Height
	x := pad
	objs[rowDot].Resize(fyne.NewSquareSize(rowDotSize))
	objs[rowDot].Move(fyne.NewPos(x, (h-rowDotSize)/2))
	x += rowDotSize + pad
	objs[rowIcon].Resize(fyne.NewSquareSize(rowIconSize))
	objs[rowIcon].Move(fyne.NewPos(x, (h-rowIconSize)/2))
	x += rowIconSize

	right := size.Width
	objs[rowTime].Resize(fyne.NewSize(rowTimeW, h))
	right -= rowTimeW
	objs[rowTime].Move(fyne.NewPos(right, 0))
	if size.Width >= rowNarrowWidth {
		right -= rowChannelW
		objs[rowChannel].Resize(fyne.NewSize(rowChannelW, h))
		objs[rowChannel].Move(fyne.NewPos(right, 0))
		objs[rowChannel].Show()
	} else {
		objs[rowChannel].Hide()
	}
	text := max(0, right-x)
	titleW := text * 9 / 20
	objs[rowTitle].Resize(fyne.NewSize(titleW, h))
	objs[rowTitle].Move(fyne.NewPos(x, 0))
	objs[rowMessage].Resize(fyne.NewSize(text-titleW, h))
	objs[rowMessage].Move(fyne.NewPos(x+titleW, 0))
	for _, i := range []int{rowTitle, rowMessage, rowChannel} {
		l := objs[i].(*widget.Label)
		if fitCell(l, l.Size().Width) {
			l.Refresh()
		}
	}
}
