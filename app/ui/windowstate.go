package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
	"echotray/app/ipc"
)

// windowStateFile is the window process's small state file, next to the
// settings file: what it has told the user once.
const windowStateFile = "window-state.json"

// windowState is what the window process remembers between runs.
type windowState struct {
	// CloseHintShown: the "keeps running in the tray" hint was shown.
	CloseHintShown bool `json:"close_hint_shown"`
}

// statePath is the state file's path ("" when there is no settings
// folder to put it in).
func (c *controller) statePath() string {
	if c.opts.StatePath != "" {
		return c.opts.StatePath
	}
	if p := c.opts.Config.Path(); p != "" {
		return filepath.Join(filepath.Dir(p), windowStateFile)
	}
	return ""
}

// readWindowState reads the state file; a missing or unreadable one is
// the zero state.
func readWindowState(path string) windowState {
	var st windowState
	if path == "" {
		return st
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return st
	}
	_ = json.Unmarshal(b, &st) // a damaged file counts as nothing shown
	return st
}

// writeWindowState writes the state file (through a temporary file, so a
// crash leaves the old one).
func writeWindowState(path string, st windowState) error {
	if path == "" {
		return errors.New("no folder for the window state")
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// hintShown reports whether the close hint was shown before.
func (c *controller) hintShown() bool { return readWindowState(c.statePath()).CloseHintShown }

// rememberHint records that the close hint was shown.
func (c *controller) rememberHint() {
	path := c.statePath()
	st := readWindowState(path)
	st.CloseHintShown = true
	if err := writeWindowState(path, st); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("cannot remember that the tray hint was shown", "path", path, "err", err)
	}
}

// Texts of the close hint.
const (
	closeHintTitle = "EchoTray keeps running in the tray"
	closeHintText  = "Notifications keep coming while this window is closed. Open the history again from the " +
		"bell icon in the system tray; choose Quit in its menu to stop %s."
)

// closeHintDialog tells, the first time the history window is closed, that
// EchoTray keeps running in the tray (not shown yet).
func closeHintDialog(appName string, w fyne.Window) dialog.Dialog {
	text := &widget.Label{Text: fmt.Sprintf(closeHintText, appName), Wrapping: fyne.TextWrapWord}
	d := dialog.NewCustom(closeHintTitle, "OK, close the window", container.NewPadded(text), w)
	d.Resize(fyne.NewSize(440, 200))
	return d
}

// showDialog shows d in the history window, running onClosed (may be nil)
// when it closes; with the history view there, Escape closes it.
func (c *controller) showDialog(d dialog.Dialog, onClosed func()) {
	if c.history != nil {
		c.history.showDialog(d, onClosed)
		return
	}
	if onClosed != nil {
		d.SetOnClosed(onClosed)
	}
	d.Show()
}

// windowSignOut is the show request (core → window) for the sign-out
// question: the tray's Sign out can ask the window process to ask, so the
// "remove this account's history" choice is offered there too.
const windowSignOut = app.WindowSignOut

// confirmSignOut asks before signing out (the window's menu), offering to
// remove this account's history from this computer.
func (c *controller) confirmSignOut() {
	w := c.historyWindow()
	if !w.shown {
		w.Show()
	}
	purge := widget.NewCheck("Also remove this account's history from this computer", nil)
	text := &widget.Label{Text: "You will stop receiving notifications until you sign in again.", Wrapping: fyne.TextWrapWord}
	d := dialog.NewCustomConfirm("Sign out of "+c.appName+"?", "Sign out", "Cancel",
		container.NewVBox(text, purge), func(ok bool) {
			if ok {
				c.post(ipc.Message{Op: ipc.OpSignOut, Purge: purge.Checked})
			}
		}, w)
	d.Resize(fyne.NewSize(460, 220))
	c.signOutDialog = d
	c.showDialog(d, nil)
}
