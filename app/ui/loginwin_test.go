package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"echotray/app"
)

// fakeLogin records sign-in requests and answers with the queued results.
type fakeLogin struct {
	reqs    []app.LoginRequest
	results []error
	block   chan struct{} // when set, each call waits for it (or ctx)
}

func (f *fakeLogin) login(ctx context.Context, req app.LoginRequest) (app.User, error) {
	f.reqs = append(f.reqs, req)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return app.User{}, ctx.Err()
		}
	}
	var err error
	if len(f.results) > 0 {
		err, f.results = f.results[0], f.results[1:]
	}
	if err != nil {
		return app.User{}, err
	}
	return app.User{ID: "5", Name: "Alice Admin", Email: req.Email}, nil
}

// uiQueue stands in for fyne.Do: worker goroutines queue their UI work and
// the test runs it on its own goroutine, as the real driver runs it on the
// main thread. (The test driver's fyne.Do would run it on the worker, racing
// with the test.)
type uiQueue struct {
	mu    sync.Mutex
	fns   []func()
	ready chan struct{} // signalled when work is queued; may be nil
}

func (q *uiQueue) do(f func()) {
	q.mu.Lock()
	q.fns = append(q.fns, f)
	ready := q.ready
	q.mu.Unlock()
	if ready != nil {
		select {
		case ready <- struct{}{}:
		default:
		}
	}
}

// flush runs the queued UI work, including work queued while running, and
// returns how many calls it ran.
func (q *uiQueue) flush() int {
	n := 0
	for {
		q.mu.Lock()
		fns := q.fns
		q.fns = nil
		q.mu.Unlock()
		if len(fns) == 0 {
			return n
		}
		for _, f := range fns {
			f()
			n++
		}
	}
}

// runOne runs the oldest queued call; false when there is none.
func (q *uiQueue) runOne() bool {
	q.mu.Lock()
	if len(q.fns) == 0 {
		q.mu.Unlock()
		return false
	}
	f := q.fns[0]
	q.fns = q.fns[1:]
	q.mu.Unlock()
	f()
	return true
}

// testLogin is a sign-in window on a test app, with its UI work queued.
type testLogin struct {
	*loginWindow
	q        *uiQueue
	signedIn []app.User
}

// wait lets the sign-in goroutine finish and applies its result.
func (l *testLogin) wait() {
	l.pending.Wait()
	l.q.flush()
}

func newTestLogin(t *testing.T, f *fakeLogin) *testLogin {
	t.Helper()
	a := test.NewTempApp(t)
	tl := &testLogin{q: &uiQueue{}}
	tl.loginWindow = newLoginWindow(a, f.login, func(u app.User) { tl.signedIn = append(tl.signedIn, u) })
	tl.runOnUI = tl.q.do
	tl.win.Resize(fyne.NewSize(460, 500))
	t.Cleanup(tl.win.Close)
	return tl
}

// settle lays the window out until wrapped labels have their height, as
// the real driver does over a few frames.
func settle(w fyne.Window) {
	for range 3 {
		w.Content().Refresh()
	}
}

func fill(l *testLogin, server, email, password string) {
	test.Type(l.server, server)
	test.Type(l.email, email)
	test.Type(l.password, password)
}

func TestLoginWindowEmpty(t *testing.T) {
	l := newTestLogin(t, &fakeLogin{})
	l.show("", "", "")
	test.AssertRendersToMarkup(t, "login/empty.xml", l.win.Canvas())
	if l.win.Canvas().Focused() != l.server {
		t.Error("server field not focused on an empty form")
	}
}

func TestLoginWindowPrefillFocusesPassword(t *testing.T) {
	l := newTestLogin(t, &fakeLogin{})
	l.show("https://billing.example.com", "alice@example.com", "")
	if l.server.Text != "https://billing.example.com" || l.email.Text != "alice@example.com" {
		t.Errorf("prefill: %q %q", l.server.Text, l.email.Text)
	}
	if l.win.Canvas().Focused() != l.password {
		t.Error("password not focused when server and e-mail are known")
	}
}

func TestLoginWindowSuccess(t *testing.T) {
	f := &fakeLogin{}
	l := newTestLogin(t, f)
	l.show("", "", "")
	fill(l, " https://billing.example.com ", "alice@example.com", "secret")
	test.Tap(l.submit)
	l.wait()

	want := app.LoginRequest{Server: "https://billing.example.com", Email: "alice@example.com", Password: "secret"}
	if len(f.reqs) != 1 || f.reqs[0] != want {
		t.Fatalf("requests %+v, want one %+v", f.reqs, want)
	}
	if len(l.signedIn) != 1 || (l.signedIn)[0].Name != "Alice Admin" {
		t.Errorf("onSignedIn got %+v", l.signedIn)
	}
	if l.password.Text != "" {
		t.Error("password kept after signing in")
	}
	if l.busy || l.submit.Disabled() {
		t.Error("still busy after signing in")
	}
}

func TestLoginWindowBackendErrorShown(t *testing.T) {
	f := &fakeLogin{results: []error{&app.APIError{
		Kind: app.KindUnauthorized, Status: 401, Message: "These credentials do not match our records.",
	}}}
	l := newTestLogin(t, f)
	l.show("", "", "")
	fill(l, "https://billing.example.com", "alice@example.com", "wrong")
	test.Tap(l.submit)
	l.wait()

	if !l.message.Visible() || l.message.Text != "These credentials do not match our records." {
		t.Errorf("message %q (visible %v)", l.message.Text, l.message.Visible())
	}
	if len(l.signedIn) != 0 {
		t.Error("signed in after an error")
	}
	settle(l.win)
	test.AssertRendersToMarkup(t, "login/error.xml", l.win.Canvas())

	// Typing a new password and trying again clears the message on success.
	l.password.SetText("right")
	test.Tap(l.submit)
	l.wait()
	if l.message.Visible() {
		t.Error("old error still shown after a successful retry")
	}
}

func TestLoginWindowErrorsInWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&app.APIError{Kind: app.KindUnreachable, Message: "Cannot reach https://billing.example.com: connection refused"},
			"Can't reach the server. Check the server address and your network connection, then try again."},
		{&app.APIError{Kind: app.KindTLS, Message: "The server's certificate is not trusted: x509: certificate signed by unknown authority"},
			"The server's security certificate is not trusted by this computer. Ask your administrator."},
		{context.DeadlineExceeded, "The server did not answer in time. Check the server address and your network connection, then try again."},
		{&app.APIError{Kind: app.KindHTTP, Status: 404, Message: "POST https://billing.example.com/x/api/login: 404 Not Found"},
			"There is no sign-in at this address. Check the server address: it is the address of your billing platform, like billing.example.com."},
		{&app.APIError{Kind: app.KindServer, Status: 500, Message: "Server Error"},
			"The server had a problem and could not sign you in. Try again in a few minutes; if it keeps happening, ask your administrator."},
		{&app.APIError{Kind: app.KindValidation, Status: 422, Message: "The email field must be a valid email address."},
			"The email field must be a valid email address."},
		{&app.APIError{Kind: app.KindUnauthorized, Status: 401, Message: `realtime: parse "x": invalid`},
			"The e-mail address or password is not correct."},
		{errors.New("enter your e-mail address"), "Enter your e-mail address."},
		{fmt.Errorf("app: dial tcp 127.0.0.1:1: connect: connection refused"), "Signing in did not work. Try again; if it keeps failing, ask your administrator."},
	} {
		f := &fakeLogin{results: []error{tc.err}}
		l := newTestLogin(t, f)
		l.show("", "", "")
		fill(l, "https://billing.example.com", "a@b.c", "pw")
		test.Tap(l.submit)
		l.wait()
		if l.message.Text != tc.want {
			t.Errorf("%v: message %q, want %q", tc.err, l.message.Text, tc.want)
		}
	}
}

func TestLoginWindowKeyringUnavailable(t *testing.T) {
	f := &fakeLogin{results: []error{&app.KeyringError{Op: "store", Unavailable: true, Err: errors.New("org.freedesktop.secrets was not provided")}}}
	l := newTestLogin(t, f)
	l.show("https://billing.example.com", "alice@example.com", "")
	if l.keyringBox.Visible() {
		t.Fatal("session-only option offered before the keyring failed")
	}
	test.Type(l.password, "secret")
	test.Tap(l.submit)
	l.wait()

	if !l.keyringBox.Visible() {
		t.Fatal("session-only option not offered when the keyring is unavailable")
	}
	if l.message.Text != sessionOnlyNeeded {
		t.Errorf("message %q", l.message.Text)
	}
	if len(l.signedIn) != 0 {
		t.Fatal("signed in without a keyring and without consent")
	}
	settle(l.win)
	test.AssertRendersToMarkup(t, "login/keyring_unavailable.xml", l.win.Canvas())

	test.Tap(l.sessionOnly)
	test.Tap(l.submit)
	l.wait()
	if len(f.reqs) != 2 || f.reqs[0].SessionOnly || !f.reqs[1].SessionOnly {
		t.Fatalf("requests %+v: want the second one session-only", f.reqs)
	}
	if len(l.signedIn) != 1 {
		t.Error("session-only sign-in did not complete")
	}
}

func TestLoginWindowKeyringKnownUnavailableUpFront(t *testing.T) {
	l := newTestLogin(t, &fakeLogin{})
	l.keyringUnavailable()
	l.show("", "", "")
	if !l.keyringBox.Visible() || l.sessionOnly.Checked {
		t.Error("option must be shown, unticked, when the keyring is known to be missing")
	}
}

func TestLoginWindowEnterSubmits(t *testing.T) {
	f := &fakeLogin{}
	l := newTestLogin(t, f)
	l.show("", "", "")
	test.Type(l.server, "https://billing.example.com")
	l.server.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if l.win.Canvas().Focused() != l.email {
		t.Error("Enter in the server field does not move to the e-mail")
	}
	test.Type(l.email, "alice@example.com")
	l.email.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if l.win.Canvas().Focused() != l.password {
		t.Error("Enter in the e-mail field does not move to the password")
	}
	test.Type(l.password, "secret")
	l.password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	l.wait()
	if len(f.reqs) != 1 || len(l.signedIn) != 1 {
		t.Errorf("Enter in the password field did not sign in: %d requests", len(f.reqs))
	}
}

func TestLoginWindowMissingFields(t *testing.T) {
	f := &fakeLogin{}
	l := newTestLogin(t, f)
	l.show("", "", "")
	test.Tap(l.submit)
	if l.message.Text != "Enter the server address, like billing.example.com." {
		t.Errorf("message %q", l.message.Text)
	}
	test.Type(l.server, "https://billing.example.com")
	test.Tap(l.submit)
	if l.message.Text != "Enter your e-mail address." || l.win.Canvas().Focused() != l.email {
		t.Errorf("message %q", l.message.Text)
	}
	test.Type(l.email, "a@b.c")
	test.Tap(l.submit)
	if l.message.Text != "Enter your password." {
		t.Errorf("message %q", l.message.Text)
	}
	if len(f.reqs) != 0 {
		t.Error("incomplete form was sent")
	}
}

func TestLoginWindowBusy(t *testing.T) {
	f := &fakeLogin{block: make(chan struct{})}
	l := newTestLogin(t, f)
	l.show("", "", "")
	fill(l, "https://billing.example.com", "alice@example.com", "secret")
	test.Tap(l.submit)
	if !l.submit.Disabled() || l.submit.Text != "Signing in…" || !l.activity.Visible() || !l.password.Disabled() {
		t.Error("no progress shown while signing in")
	}
	test.Tap(l.submit) // ignored while busy
	close(f.block)
	l.wait()
	if len(f.reqs) != 1 {
		t.Errorf("%d requests, want 1", len(f.reqs))
	}
	if l.submit.Disabled() || l.activity.Visible() || len(l.signedIn) != 1 {
		t.Error("progress not cleared after signing in")
	}
}

func TestLoginWindowCloseCancels(t *testing.T) {
	f := &fakeLogin{block: make(chan struct{})}
	l := newTestLogin(t, f)
	l.show("", "", "")
	fill(l, "https://billing.example.com", "alice@example.com", "secret")
	test.Tap(l.submit)
	l.hide() // closing the window
	l.wait()
	if len(l.signedIn) != 0 || l.message.Visible() {
		t.Error("a cancelled sign-in must neither sign in nor show an error")
	}
	if l.busy {
		t.Error("still busy after cancelling")
	}
}

func TestLoginWindowNotice(t *testing.T) {
	l := newTestLogin(t, &fakeLogin{})
	l.show("https://billing.example.com", "alice@example.com", app.ErrSessionExpired.Error())
	if !l.notice.Visible() || l.notice.Text != "Session expired, please sign in again" {
		t.Errorf("notice %q visible=%v", l.notice.Text, l.notice.Visible())
	}
	settle(l.win)
	test.AssertRendersToMarkup(t, "login/expired.xml", l.win.Canvas())
	test.Type(l.password, "secret")
	test.Tap(l.submit)
	l.wait()
	if l.notice.Visible() {
		t.Error("expiry notice kept after signing in again")
	}
}

// TestLoginWindowServerAddress: what people type as the server is made an
// address (https:// added, a pasted page cut to the server), errors are
// sentences, and the window says where the address comes from.
func TestLoginWindowServerAddress(t *testing.T) {
	for _, tc := range []struct{ typed, sent string }{
		{"billing.example.com", "https://billing.example.com"},
		{"127.0.0.1:40317", "http://127.0.0.1:40317"},
		{"https://billing.example.com/dashboard?tab=payments", "https://billing.example.com"},
		{"  https://Billing.Example.com/api/login  ", "https://billing.example.com"},
	} {
		f := &fakeLogin{}
		l := newTestLogin(t, f)
		l.show("", "", "")
		fill(l, tc.typed, "a@b.c", "pw")
		test.Tap(l.submit)
		l.wait()
		if len(f.reqs) != 1 || f.reqs[0].Server != tc.sent {
			t.Errorf("%q: sent %+v, want %q", tc.typed, f.reqs, tc.sent)
		}
	}
	// A port out of range: a sentence at the field, nothing sent.
	f := &fakeLogin{}
	l := newTestLogin(t, f)
	l.show("", "", "")
	fill(l, "127.0.0.1:403179", "a@b.c", "pw")
	test.Tap(l.submit)
	l.wait()
	if len(f.reqs) != 0 || !strings.Contains(l.message.Text, "must be a number between 1 and 65535") ||
		strings.Contains(l.message.Text, "parse") || l.win.Canvas().Focused() != l.server {
		t.Errorf("port 403179: sent %d, message %q", len(f.reqs), l.message.Text)
	}

	// Where the address comes from.
	l = newTestLogin(t, &fakeLogin{})
	l.show("", "", "")
	if l.serverFrom.Text != serverFromNew || l.server.Disabled() {
		t.Errorf("new: %q", l.serverFrom.Text)
	}
	l.hide()
	l.show("https://billing.example.com", "a@b.c", "")
	if l.serverFrom.Text != serverFromLast {
		t.Errorf("last used: %q", l.serverFrom.Text)
	}
	l.server.SetText("billing.example.com/dashboard")
	if l.serverFrom.Text != "EchoTray will use https://billing.example.com." {
		t.Errorf("typed: %q", l.serverFrom.Text)
	}
	l.hide()
	l.serverLocked = true
	l.show("https://billing.example.com", "a@b.c", "")
	if l.serverFrom.Text != serverFromLocked || !l.server.Disabled() {
		t.Errorf("locked: %q, disabled %v", l.serverFrom.Text, l.server.Disabled())
	}
	settle(l.win)
	test.AssertRendersToMarkup(t, "login/locked.xml", l.win.Canvas())
}

// TestLoginWindowServerChangeAgrees: after the server changed (the core
// shows the sign-in window with a notice naming it), the field shows the
// new server, not what the window held before.
func TestLoginWindowServerChangeAgrees(t *testing.T) {
	l := newTestLogin(t, &fakeLogin{})
	l.show("http://127.0.0.1:40317", "staff@tenant1.test", "")
	l.hide()
	l.show("https://new.example.com", "staff@tenant1.test", "The server is now https://new.example.com: sign in to it.")
	if l.server.Text != "https://new.example.com" {
		t.Errorf("field %q, notice %q", l.server.Text, l.notice.Text)
	}
	// While the window is open, what the user typed stays.
	l.server.SetText("typed.example.com")
	l.show("https://new.example.com", "staff@tenant1.test", "")
	if l.server.Text != "typed.example.com" {
		t.Errorf("an open window lost the typed address: %q", l.server.Text)
	}
}
