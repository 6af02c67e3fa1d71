package ui

import "fyne.io/fyne/v2"

// fyneDo hands f to the Fyne thread and returns at once; calls from one
// goroutine run in order. It is the package's only crossing onto the Fyne
// thread: goroutines never touch widgets themselves. Components receive it
// as their runOnUI function, which tests replace with a queue they run.
func fyneDo(f func()) { fyne.Do(f) }
