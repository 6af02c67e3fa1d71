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
	serverFrom              *widget.Label // where the address comes from
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

	busy         bool
	shown        bool   // the window is open (closing it hides it)
	shownServer  string // the address the window was opened with
	serverLocked bool   // IT set the address: the field is read-only
	cancel       context.CancelFunc
	pending      sync.WaitGroup // the sign-in goroutine; tests wait on it
}

// newLoginWindow builds the sign-in window (hidden). Closing it hides it.
func newLoginWindow(a fyne.App, login loginFunc, onSignedIn func(app.User)) *loginWindow {
	l := &loginWindow{win: a.NewWindow(loginTitle), login: login, onSignedIn: onSignedIn, runOnUI: fyneDo}

	l.server = widget.NewEntry()
	l.server.SetPlaceHolder("billing.example.com")
	l.serverFrom = label(&widget.Label{Text: serverFromNew, Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameCaptionText})
	l.server.OnChanged = func(string) { l.setServerSource(l.serverLocked) }
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
		widget.NewFormItem("Server", container.NewVBox(l.server, l.serverFrom)),
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

// Where the server address in the sign-in window comes from.
const (
	serverFromNew    = "The address of your billing platform, as you open it in the browser, like billing.example.com."
	serverFromLast   = "The address you signed in to last time."
	serverFromLocked = "Set by your administrator."
)

// setServerSource says where the address comes from; a locked address
// cannot be changed here.
func (l *loginWindow) setServerSource(locked bool) {
	l.serverLocked = locked
	switch {
	case locked:
		l.serverFrom.SetText(serverFromLocked)
		l.server.Disable()
	case l.server.Text != "" && l.server.Text == l.shownServer:
		l.serverFrom.SetText(serverFromLast)
		l.server.Enable()
	case strings.TrimSpace(l.server.Text) != "":
		// What will be signed in to, as typed: https:// added, a pasted
		// page's path gone.
		if u, err := app.NormalizeServerURL(l.server.Text); err == nil && u != strings.TrimSpace(l.server.Text) {
			l.serverFrom.SetText("EchoTray will use " + u + ".")
		} else {
			l.serverFrom.SetText(serverFromNew)
		}
		l.server.Enable()
	default:
		l.serverFrom.SetText(serverFromNew)
		l.server.Enable()
	}
}

// show opens the window with the server and e-mail filled in, an optional
// notice above the form (e.g. "Session expired, please sign in again"), and
// the password field focused when server and e-mail are known. A window
// that was closed shows the settings anew (the server may have changed
// since: the notice and the field agree); an open one keeps what was typed.
func (l *loginWindow) show(server, email, notice string) {
	if !l.busy {
		if !l.shown || l.server.Text == "" {
			l.server.SetText(server)
			l.shownServer = server
		}
		if !l.shown || l.email.Text == "" {
			l.email.SetText(email)
		}
		l.setServerSource(l.serverLocked)
	}
	l.shown = true
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
	l.shown = false
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
	server, err := app.NormalizeServerURL(req.Server)
	switch {
	case req.Server == "":
		l.showMessage("Enter the server address, like billing.example.com.")
		l.win.Canvas().Focus(l.server)
		return
	case err != nil:
		l.showMessage(err.Error()) // plain sentences
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
	if server != req.Server {
		l.server.SetText(server) // what is signed in to: https:// added, a pasted page's path gone
	}
	req.Server = server
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
	l.shown = false
	l.win.Hide()
	if l.onSignedIn != nil {
		l.onSignedIn(u)
	}
}

func (l *loginWindow) setBusy(busy bool) {
	l.busy = busy
	for _, e := range []*widget.Entry{l.server, l.email, l.password} {
		if e == l.server && l.serverLocked {
			continue
		}
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

// loginErrorText is a sign-in error as the window shows it: plain
// sentences by kind of problem (the log keeps the detail). A wrong
// password or a refused account shows the backend's own message.
func loginErrorText(err error) string {
	const checkAddress = " Check the server address and your network connection, then try again."
	var apiErr *app.APIError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "The server did not answer in time." + checkAddress
	case errors.As(err, &apiErr):
		switch apiErr.Kind {
		case app.KindUnauthorized, app.KindValidation:
			if m := strings.TrimSpace(apiErr.Message); m != "" && !looksTechnical(m) {
				return app.Sentence(m)
			}
			return "The e-mail address or password is not correct."
		case app.KindForbidden:
			if m := strings.TrimSpace(apiErr.Message); m != "" && !looksTechnical(m) {
				return app.Sentence(m)
			}
			return "This account may not sign in here. Ask your administrator."
		case app.KindUnreachable:
			return "Can't reach the server." + checkAddress
		case app.KindTLS:
			return "The server's security certificate is not trusted by this computer. Ask your administrator."
		case app.KindTimeout:
			return "The server did not answer in time." + checkAddress
		case app.KindServer:
			return "The server had a problem and could not sign you in. Try again in a few minutes; if it keeps happening, ask your administrator."
		case app.KindBadResponse, app.KindHTTP:
			if apiErr.Status == 404 {
				return "There is no sign-in at this address. Check the server address: it is the address of your billing platform, like billing.example.com."
			}
			return "The server at this address did not answer like your billing platform. Check the server address, or ask your administrator."
		}
	case errors.Is(err, app.ErrKeyringUnavailable):
		return sessionOnlyNeeded
	}
	if m := err.Error(); !looksTechnical(m) {
		return app.Sentence(m)
	}
	return "Signing in did not work. Try again; if it keeps failing, ask your administrator."
}

// looksTechnical reports whether an error text reads like a program's
// rather than a sentence for people: a package prefix ("realtime: …"),
// a URL or address, Go's quoting, or protocol words.
func looksTechnical(s string) bool {
	lower := strings.ToLower(s)
	for _, w := range []string{"://", "dial ", "tcp", "http", "eof", "json", "x509", "tls", "parse ", "%!", "\"", "127.0.0.1", "nil"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	if i := strings.Index(s, ": "); i > 0 && !strings.Contains(s[:i], " ") {
		return true // "pkg: detail"
	}
	return false
}
