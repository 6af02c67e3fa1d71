//go:build screenshots

package ui

import (
	"context"
	"encoding/json"
	"image/color"
	"os"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"echotray/app"
	"echotray/app/ipc"
	"echotray/history"
	"echotray/notify"
)

// Screenshots opens the windows the documentation shows, one scene at a
// time, with sample data, and calls capture(title, file) for each once it
// is drawn; capture photographs the real window (with the window
// manager's title bar) from outside. It runs on its own goroutine while
// a's loop runs; every widget is touched through the bridge.
func Screenshots(a fyne.App, dir string, capture func(title, file string) error) error {
	tmp, err := os.MkdirTemp("", "echotray-shots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	st, err := history.Open(filepath.Join(tmp, history.FileName), history.Options{MaxEntries: -1, MaxAge: -1})
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	st.SetAccount("https://billing.example.com#5")
	for _, e := range shotEntries(now) {
		if _, err := st.Add(context.Background(), &e); err != nil {
			return err
		}
	}
	cfg, err := app.OpenConfig(tmp, func(string) string { return "" })
	if err != nil {
		return err
	}

	onUI := func(f func()) {
		done := make(chan struct{})
		fyneDo(func() { defer close(done); f() })
		<-done
	}
	settle := func() { time.Sleep(1500 * time.Millisecond) }
	shoot := func(title, file string) error {
		settle()
		return capture(title, filepath.Join(dir, file))
	}

	// The history window: status line, list and the detail pane.
	const histTitle = "EchoTray — History (4 unread)"
	var w fyne.Window
	var v *HistoryView
	var status *statusLine
	onUI(func() {
		a.Settings().SetTheme(newAppTheme(nil)) // as the window process does
		w = a.NewWindow(histTitle)
		status = newStatusLine(time.Now, fyneDo, func() {}, func() {})
		v = NewHistoryView(a, w, st, HistoryViewOptions{Account: "https://billing.example.com#5", AccountKnown: true})
		w.SetContent(historyContent(status, v.Content()))
		w.Resize(fyne.NewSize(1100, 700))
		w.Show()
	})
	scenes := []struct {
		file  string
		state ipc.State
		size  fyne.Size
		pick  int // the entry to open, by index in shotEntries; -1 for none
	}{
		{"status-offline.png", ipc.State{Conn: "offline", Since: now.Add(-40 * time.Second), NextAttempt: now.Add(12 * time.Second),
			Reason: "The notification server did not answer."}, fyne.NewSize(1100, 700), -1},
		{"status-cant-reach.png", ipc.State{Conn: "offline", Since: now.Add(-6 * time.Minute), NextAttempt: now.Add(48 * time.Second),
			Reason: "The notification server refused the connection."}, fyne.NewSize(1100, 700), -1},
		{"history.png", ipc.State{Conn: "connected", User: "Alice Wanjiru"}, fyne.NewSize(1100, 700), 2},
		{"status-warning.png", ipc.State{Conn: "connected", User: "Alice Wanjiru",
			Warning: "Connected, but personal notifications are unavailable: the server refused them (not found). Ask your administrator."},
			fyne.NewSize(1100, 700), 5},
		{"history-detail.png", ipc.State{Conn: "connected", User: "Alice Wanjiru"}, fyne.NewSize(1100, 700), 2},
		{"history-narrow.png", ipc.State{Conn: "connected", User: "Alice Wanjiru"}, fyne.NewSize(720, 820), 2},
	}
	var ids []int64
	onUI(func() { ids = append([]int64(nil), v.ids...) })
	for _, sc := range scenes {
		onUI(func() {
			status.Set(sc.state)
			w.Resize(sc.size)
			if sc.pick >= 0 && sc.pick < len(ids) {
				v.Select(ids[sc.pick])
			}
		})
		if sc.file == "history-detail.png" {
			onUI(func() { v.detailAccordion.Open(0) })
		}
		if err := shoot(histTitle, sc.file); err != nil {
			return err
		}
		onUI(func() { v.detailAccordion.Close(0) })
	}
	// The light theme, a row selected: the contrast the tests measure.
	onUI(func() {
		a.Settings().SetTheme(lightTheme{newAppTheme(nil)})
		status.Set(ipc.State{Conn: "connected", User: "Alice Wanjiru"})
		w.Resize(fyne.NewSize(1100, 700))
		v.Select(ids[2])
	})
	if err := shoot(histTitle, "history-light.png"); err != nil {
		return err
	}
	onUI(func() { a.Settings().SetTheme(newAppTheme(nil)) })
	onUI(func() { v.Close(); w.Hide() })
	v.Wait()

	// Settings → Connection: the server address, Advanced open with a
	// port being corrected.
	onUI(func() {
		s := newSettingsWindow(a, settingsDeps{config: cfg, runOnUI: fyneDo,
			check: func(context.Context, app.Config) (app.CheckResult, app.CheckResult) {
				return app.CheckResult{}, app.CheckResult{}
			}})
		s.show()
		s.server.SetText("billing.example.com")
		s.advanced.Open(0)
		s.port.SetText("403179")
		s.win.Resize(fyne.NewSize(720, 900))
	})
	if err := shoot("EchoTray Settings", "settings.png"); err != nil {
		return err
	}

	// Sign-in: an address typed without https://, with its origin.
	var l *loginWindow
	onUI(func() {
		l = newLoginWindow(a, func(context.Context, app.LoginRequest) (app.User, error) { return app.User{}, nil }, nil)
		l.show("https://billing.example.com", "staff@tenant1.example.com", "")
		l.server.SetText("billing.example.com")
		l.password.SetText("password")
		l.win.Resize(fyne.NewSize(480, 320))
	})
	return shoot(loginTitle, "login.png")
}

// lightTheme is the default theme in its light variant.
type lightTheme struct{ fyne.Theme }

func (t lightTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, theme.VariantLight)
}

// historyContent is the history window's content: the status line over
// the view, as the window process lays it out.
func historyContent(status *statusLine, view fyne.CanvasObject) fyne.CanvasObject {
	c := &controller{status: status}
	c.historyWin = &trackedWindow{Window: &contentCatcher{}}
	c.setHistoryContent(view)
	return c.historyWin.Window.(*contentCatcher).content
}

// contentCatcher is a fyne.Window stand-in that keeps what SetContent was
// given.
type contentCatcher struct {
	fyne.Window
	content fyne.CanvasObject
}

func (c *contentCatcher) SetContent(o fyne.CanvasObject) { c.content = o }

// shotEntries is the sample history of the screenshots, oldest first.
func shotEntries(now time.Time) []notify.Entry {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	e := []notify.Entry{
		{Time: now.Add(-3 * time.Hour), Channel: "tenant.1", Event: "UserCreated", Type: notify.TypeSuccess, Read: true,
			Title: "User Created", Message: "Otieno Mwangi has been added to the system.",
			Data: raw(`{"user":{"id":3,"name":"Otieno Mwangi","email":"otieno@example.com"}}`)},
		{Time: now.Add(-2 * time.Hour), Channel: "tenant.1", Event: "HotspotUserCreated", Type: notify.TypeSuccess, Read: true,
			Title: "Hotspot User Created", Message: "Hotspot user guest42 has been created (Daily 1GB).",
			Data: raw(`{"hotspot_user":{"username":"guest42","package":"Daily 1GB","phone_number":"0712345678"}}`)},
		{Time: now.Add(-50 * time.Minute), Channel: "private-system.admin", Event: "SystemAlert", Type: notify.TypeWarning,
			Title: "Disk almost full", Message: "Storage at 91% on the main server. Details: https://status.example.com/incidents/42",
			Data: raw(`{"title":"Disk almost full","level":"warning"}`)},
		{Time: now.Add(-30 * time.Minute), Channel: "private-App.Models.User.5", Event: "BroadcastNotificationCreated", Type: notify.TypeInfo,
			Title: "Invoice ready", Message: "Your invoice for November is ready.", Read: true,
			Data: raw(`{"id":"9b1c","type":"App\\Notifications\\InvoiceReady"}`)},
		{Time: now.Add(-12 * time.Minute), Channel: "tenant.1", Event: "PaymentCompleted", Type: notify.TypeSuccess, Read: true,
			Title: "Payment Completed", Message: "Payment of KES 1,500.00 from Jane Wanjiru completed successfully.",
			Data: raw(`{"payment":{"amount":1500,"currency":"KES","phone_number":"254700111222","reference":"QK71ABC","customer_name":"Jane Wanjiru"}}`)},
		{Time: now.Add(-2 * time.Minute), Channel: "tenant.1", Event: "PaymentFailed", Type: notify.TypeError,
			Title: "Payment Failed", Message: "Payment of KES 1,500.00 from 254712345678 failed: Insufficient funds.",
			Data: raw(`{"payment":{"amount":1500,"currency":"KES","phone_number":"254712345678","reference":"QK81XYZ","package":"Weekly - KES 350"},"reason":"Insufficient funds"}`)},
		{Time: now.Add(-40 * time.Second), Channel: "private-user.5", Event: "PasswordChanged", Type: notify.TypeInfo,
			Title: "Password Changed", Message: "Your password has been changed. If this wasn't you, contact your administrator."},
		{Time: now.Add(-10 * time.Second), Channel: "tenant.1", Event: "HotspotUserExpired", Type: notify.TypeInfo,
			Title: "Hotspot User Expired", Message: "The session of hotspot user guest17 has expired.",
			Data: raw(`{"hotspot_user":{"username":"guest17","phone_number":"0733000444"}}`)},
	}
	return e
}
