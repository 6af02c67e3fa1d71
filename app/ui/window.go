package ui

import "fyne.io/fyne/v2"

// trackedWindow is a window that knows whether it is shown (Fyne's windows
// don't say) and reports each change, for the idle exit.
type trackedWindow struct {
	fyne.Window
	shown    bool
	onChange func() // after Show or Hide; may be nil
}

// Show shows the window.
func (w *trackedWindow) Show() {
	w.shown = true
	w.Window.Show()
	if w.onChange != nil {
		w.onChange()
	}
}

// Hide hides the window.
func (w *trackedWindow) Hide() {
	w.shown = false
	w.Window.Hide()
	if w.onChange != nil {
		w.onChange()
	}
}
