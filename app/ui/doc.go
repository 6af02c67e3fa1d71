// Package ui is EchoTray's window process: the history, sign-in and
// settings windows, and Run, which connects them to the core (the tray
// process) over the app/ipc protocol.
//
// Threading: every widget is touched on the Fyne thread only. Work from
// other goroutines (the core's messages, store queries, sign-in and
// connection checks, timers) reaches it through one bridge, fyneDo in
// bridge.go, which is the package's only fyne.Do; components take it as a
// runOnUI function so tests can run that work themselves, in order, on the
// test's goroutine. The history window never queries SQLite on the Fyne
// thread: its store calls run on one worker goroutine (historyview_store.go).
//
// Window builders receive the fyne.App (and window) they work with, so
// tests run them on fyne.io/fyne/v2/test with CGO_ENABLED=0.
package ui
