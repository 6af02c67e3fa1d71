package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
)

// loginTimeout bounds one sign-in attempt (the HTTP client has its own,
// shorter timeouts; this also covers a slow keyring).
const loginTimeout = 45 * time.Second

// Texts of the sign-in window.
const (
	loginTitle       = "Sign in to EchoTray"
	sessionOnlyLabel = "Keep me signed in only for this session"
	keyringProblem   = "Your system keyring is not available, and EchoTray keeps its sign-in token only there, " +
		"never in a plain file. You can still sign in for this session only: the token stays in memory " +
		"and you sign in again after quitting EchoTray."
	sessionOnlyNeeded = "Tick \"" + sessionOnlyLabel + "\" to sign in without the keyring."
)

// loginFunc signs in; it runs on a worker goroutine.
type loginFunc func(ctx context.Context, req app.LoginRequest) (app.User, error)

// loginWindow is the sign-in window: server URL, e-mail and password, the
// backend's error message inline, and a session-only option offered when
// the keyring is unavailable.
type loginWindow struct {
	win fyne.Window

	server, email, password *widget.Entry
	notice                  *widget.Label // e.g. "Session expired, please sign in again"
	message                 *widget.Label // the last error, in words
	keyringNote             *widget.Label
	sessionOnly             *widget.Check
	keyringBox              *fyne.Container
	activity                *widget.Activity
	submit                  *widget.Button
	content                 *fyne.Container

	login      loginFunc
	onSignedIn func(app.User) // on the Fyne thread, after the window is hidden
	runOnUI    func(func())   // the bridge; tests queue and run the calls themselves

	busy    bool
	cancel  context.CancelFunc
	pending sync.WaitGroup // the sign-in goroutine; tests wait on it
}

// newLoginWindow builds the sign-in window (hidden). Closing it hides it.
func newLoginWindow(a fyne.App, login loginFunc, onSignedIn func(app.User)) *loginWindow {
	l := &loginWindow{win: a.NewWindow(loginTitle), login: login, onSignedIn: onSignedIn, runOnUI: fyneDo}

	l.server = widget.NewEntry()
	l.server.SetPlaceHolder("https://billing.example.com")
	l.email = widget.NewEntry()
	l.email.SetPlaceHolder("you@example.com")
	l.password = widget.NewPasswordEntry()
	l.password.SetPlaceHolder("Password")
	// Enter moves on from the server and e-mail, and submits from the
	// password field.
	l.server.OnSubmitted = func(string) { l.win.Canvas().Focus(l.email) }
	l.email.OnSubmitted = func(string) { l.win.Canvas().Focus(l.password) }
	l.password.OnSubmitted = func(string) { l.onSubmit() }

	l.notice = &widget.Label{Importance: widget.WarningImportance, Wrapping: fyne.TextWrapWord, TextStyle: fyne.TextStyle{Bold: true}}
	l.notice.Hide()
	l.message = &widget.Label{Importance: widget.DangerImportance, Wrapping: fyne.TextWrapWord}
	l.message.Hide()

	l.keyringNote = &widget.Label{Text: keyringProblem, Wrapping: fyne.TextWrapWord}
	l.sessionOnly = widget.NewCheck(sessionOnlyLabel, func(bool) { l.clearMessage() })
	l.keyringBox = container.NewVBox(widget.NewSeparator(), l.keyringNote, l.sessionOnly)
	l.keyringBox.Hide()

	l.activity = widget.NewActivity()
	l.activity.Hide()
	l.submit = &widget.Button{Text: "Sign in", Importance: widget.HighImportance, OnTapped: l.onSubmit}

	icon := canvas.NewImageFromResource(appIcon64)
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSquareSize(48))
	heading := widget.NewLabelWithStyle("Sign in", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.SizeName = theme.SizeNameSubHeadingText
	// No wrapping: a wrapped label would make the window's first minimum
	// size tall and leave a gap under the form.
	sub := widget.NewLabel("Use your billing platform account.")
	header := container.NewBorder(nil, nil, container.NewVBox(icon), nil, container.NewVBox(heading, sub))

	form := widget.NewForm(
		widget.NewFormItem("Server", l.server),
		widget.NewFormItem("E-mail", l.email),
		widget.NewFormItem("Password", l.password),
	)
	buttons := container.NewHBox(layout.NewSpacer(), l.activity, l.submit)
	l.content = container.NewVBox(header, l.notice, form, l.message, l.keyringBox, buttons)
	l.win.SetContent(container.NewPadded(l.content))
	l.win.Resize(fyne.NewSize(460, 280)) // grows to fit when the keyring note shows
	l.win.CenterOnScreen()
	l.win.SetCloseIntercept(l.hide)
	return l
}

// show opens the window with the server and e-mail filled in, an optional
// notice above the form (e.g. "Session expired, please sign in again"), and
// the password field focused when server and e-mail are known.
func (l *loginWindow) show(server, email, notice string) {
	if !l.busy {
		if l.server.Text == "" {
			l.server.SetText(server)
		}
		if l.email.Text == "" {
			l.email.SetText(email)
		}
	}
	l.setNotice(notice)
	l.win.Show()
	l.win.RequestFocus()
	switch {
	case l.server.Text == "":
		l.win.Canvas().Focus(l.server)
	case l.email.Text == "":
		l.win.Canvas().Focus(l.email)
	default:
		l.win.Canvas().Focus(l.password)
	}
}

// hide closes the window; a sign-in in progress is cancelled.
func (l *loginWindow) hide() {
	if l.cancel != nil {
		l.cancel()
	}
	l.win.Hide()
}

func (l *loginWindow) setNotice(text string) {
	l.notice.SetText(text)
	if text == "" {
		l.notice.Hide()
	} else {
		l.notice.Show()
	}
	l.content.Refresh()
}

// keyringUnavailable offers the session-only sign-in: the keyring cannot
// keep the token.
func (l *loginWindow) keyringUnavailable() {
	l.keyringBox.Show()
	l.content.Refresh()
}

func (l *loginWindow) showMessage(text string) {
	l.message.SetText(text)
	l.message.Show()
	l.content.Refresh()
}

func (l *loginWindow) clearMessage() {
	l.message.SetText("")
	l.message.Hide()
	l.content.Refresh()
}

// onSubmit starts a sign-in on a worker goroutine; the result comes back
// through the bridge.
func (l *loginWindow) onSubmit() {
	if l.busy {
		return
	}
	req := app.LoginRequest{
		Server:      strings.TrimSpace(l.server.Text),
		Email:       strings.TrimSpace(l.email.Text),
		Password:    l.password.Text,
		SessionOnly: l.keyringBox.Visible() && l.sessionOnly.Checked,
	}
	switch {
	case req.Server == "":
		l.showMessage("Enter the server address, e.g. https://billing.example.com.")
		l.win.Canvas().Focus(l.server)
		return
	case req.Email == "":
		l.showMessage("Enter your e-mail address.")
		l.win.Canvas().Focus(l.email)
		return
	case req.Password == "":
		l.showMessage("Enter your password.")
		l.win.Canvas().Focus(l.password)
		return
	}
	l.clearMessage()
	l.setBusy(true)
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	l.cancel = cancel
	l.pending.Add(1)
	go func() {
		defer l.pending.Done()
		defer cancel()
		u, err := l.login(ctx, req)
		l.runOnUI(func() { l.finish(u, err, ctx.Err() != nil && errors.Is(err, context.Canceled)) })
	}()
}

// finish shows the result of a sign-in; it runs on the Fyne thread.
func (l *loginWindow) finish(u app.User, err error, cancelled bool) {
	l.setBusy(false)
	l.cancel = nil
	switch {
	case cancelled:
		return
	case errors.Is(err, app.ErrKeyringUnavailable):
		l.keyringUnavailable()
		l.showMessage(sessionOnlyNeeded)
		return
	case err != nil:
		l.showMessage(loginErrorText(err))
		l.win.Canvas().Focus(l.password)
		return
	}
	l.password.SetText("")
	l.setNotice("")
	l.clearMessage()
	l.win.Hide()
	if l.onSignedIn != nil {
		l.onSignedIn(u)
	}
}

func (l *loginWindow) setBusy(busy bool) {
	l.busy = busy
	for _, e := range []*widget.Entry{l.server, l.email, l.password} {
		if busy {
			e.Disable()
		} else {
			e.Enable()
		}
	}
	if busy {
		l.submit.Disable()
		l.submit.SetText("Signing in…")
		l.activity.Show()
		l.activity.Start()
	} else {
		l.submit.Enable()
		l.submit.SetText("Sign in")
		l.activity.Stop()
		l.activity.Hide()
	}
	l.content.Refresh()
}

// loginErrorText is a sign-in error as the window shows it: the API's
// messages are already in words (the backend's own message where it sent
// one); others get a capital letter and a full stop.
func loginErrorText(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "The server did not answer in time. Check the server address and your connection, then try again."
	}
	return app.Sentence(err.Error())
}
