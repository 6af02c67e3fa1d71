package ui

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
	"echotray/notify"
)

// connectionCheckTimeout bounds "Test connection" (both checks together).
const connectionCheckTimeout = 15 * time.Second

// Do-not-disturb choices in the settings window.
const (
	dndOff     = "Off"
	dndHour    = "Pause for 1 hour"
	dndForever = "Pause until I resume"
)

// settingsDeps is what the settings window works with.
type settingsDeps struct {
	config    *app.ConfigStore
	events    []string // event names offered for muting
	check     app.ConnectionChecker
	autostart app.Autostarter
	// saved runs after the settings were written (the window process
	// tells the core, which reloads and applies them); on the Fyne thread,
	// must not block.
	saved func()
	now   func() time.Time
	// runOnUI is the bridge; tests queue the calls and run them themselves.
	runOnUI func(func())
	// logPath is the log file, shown on the General tab ("" hides it).
	logPath string
	// locked and fromServer say which settings IT locked and which
	// follow the server; nil means the config store's Locked and
	// FromServer (tests replace them).
	locked, fromServer func(key string) bool
}

// settingsWindow edits the config file: Connection, Notifications and
// General tabs, Save and Cancel.
type settingsWindow struct {
	win  fyne.Window
	deps settingsDeps
	tabs *container.AppTabs

	server, key, host, port, cluster, path, authPath, namespace *widget.Entry
	loginPath, userPath                                         *widget.Entry
	scheme                                                      *widget.Select

	// The Connection tab's fields (settings_connection.go), in order.
	fields                                                []*connField
	serverF, keyF, hostF, portF, schemeF, clusterF, pathF *connField
	namespaceF, authPathF, loginPathF, userPathF          *connField
	advanced                                              *widget.Accordion
	advancedItem                                          *widget.AccordionItem
	envNote                                               *widget.Label
	testButton                                            *widget.Button
	testActivity                                          *widget.Activity
	apiResult, wsResult                                   *widget.Label
	apiIcon, wsIcon                                       *widget.Icon
	apiRow, wsRow                                         *fyne.Container

	mutes       []*widget.Check // in deps.events order
	dnd         *widget.RadioGroup
	dndNote     *widget.Label
	allowErrors *widget.Check

	startAtLogin, startHidden *widget.Check
	paths                     *widget.Label // settings and log file; nil without a log path

	message *widget.Label
	save    *widget.Button

	loadedDND   string    // the do-not-disturb choice when the form was loaded
	loadedPause time.Time // and the pause end then, kept if the choice is unchanged

	shown   bool // the window is open: showing it again keeps the edits
	loading bool // the form is being filled: no checks until it is
	testing bool
	pending sync.WaitGroup // the connection check goroutine; tests wait on it
}

// newSettingsWindow builds the settings window (hidden). Closing it hides it
// and drops unsaved edits.
func newSettingsWindow(a fyne.App, deps settingsDeps) *settingsWindow {
	if deps.now == nil {
		deps.now = time.Now
	}
	if deps.runOnUI == nil {
		deps.runOnUI = fyneDo
	}
	s := &settingsWindow{win: a.NewWindow("EchoTray Settings"), deps: deps}
	s.message = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.message.Hide()
	s.save = &widget.Button{Text: "Save", Importance: widget.HighImportance, OnTapped: s.onSave}

	s.tabs = container.NewAppTabs(
		container.NewTabItem("Connection", s.connectionTab()),
		container.NewTabItem("Notifications", s.notificationsTab()),
		container.NewTabItem("General", s.generalTab()),
	)
	cancel := widget.NewButton("Cancel", s.hide)
	footer := container.NewVBox(s.message, container.NewHBox(layout.NewSpacer(), cancel, s.save))
	s.win.SetContent(container.NewBorder(nil, container.NewPadded(footer), nil, nil, s.tabs))
	s.win.Resize(fyne.NewSize(640, 700))
	s.win.CenterOnScreen()
	s.win.SetCloseIntercept(s.hide)
	return s
}

func (s *settingsWindow) notificationsTab() fyne.CanvasObject {
	grid := container.NewGridWithColumns(2)
	for _, name := range s.deps.events {
		c := widget.NewCheck(notify.Words(name), nil)
		s.mutes = append(s.mutes, c)
		grid.Add(c)
	}
	muteHelp := &widget.Label{Text: "Muted events are kept in the history but not shown on the desktop.", Wrapping: fyne.TextWrapWord}

	s.dnd = widget.NewRadioGroup([]string{dndOff, dndHour, dndForever}, nil)
	s.dnd.Required = true
	s.dndNote = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.dndNote.Hide()
	s.allowErrors = widget.NewCheck("Show error notifications even while paused", nil)
	return container.NewVScroll(container.NewVBox(
		widget.NewCard("", "Do not disturb", container.NewVBox(s.dnd, s.dndNote, s.allowErrors)),
		widget.NewCard("", "Mute events", container.NewVBox(muteHelp, grid)),
	))
}

func (s *settingsWindow) generalTab() fyne.CanvasObject {
	s.startAtLogin = widget.NewCheck("Start EchoTray when I log in", nil)
	s.startHidden = widget.NewCheck("Start hidden: only the tray icon, no window", nil)
	help := &widget.Label{
		Text: "EchoTray keeps running in the system tray when its windows are closed; " +
			"use Quit in the tray menu to stop it.",
		Wrapping: fyne.TextWrapWord,
	}
	box := container.NewVBox(widget.NewCard("", "Startup", container.NewVBox(s.startAtLogin, s.startHidden, help)))
	if s.deps.logPath != "" {
		s.paths = &widget.Label{
			Text:     "Settings file: " + s.deps.config.Path() + "\nLog file: " + s.deps.logPath,
			Wrapping: fyne.TextWrapBreak,
		}
		box.Add(widget.NewCard("", "Troubleshooting", s.paths))
	}
	return container.NewVScroll(box)
}

// show loads the saved settings into the form and opens the window.
func (s *settingsWindow) show() {
	if !s.shown {
		s.load()
	}
	s.shown = true
	s.win.Show()
	s.win.RequestFocus()
}

func (s *settingsWindow) hide() {
	s.shown = false
	s.win.Hide()
}

// load fills the form from the config file (not the environment, which the
// form cannot change; differences are pointed out).
func (s *settingsWindow) load() {
	c := s.deps.config.File()
	s.clearMessage()
	s.loadConnection(c, s.deps.config.Effective())
	env := envOverrides(c, s.deps.config.Effective())
	switch sys := s.deps.config.SystemProblem(); {
	case sys != "":
		s.envNote.SetText(sys) // the machine-wide settings cannot be used
		s.envNote.Show()
	case len(env) > 0:
		s.envNote.SetText("Some settings are set on this computer for EchoTray (" + strings.Join(env, ", ") +
			"). What you save here applies once they are removed.")
		s.envNote.Show()
	default:
		s.envNote.Hide()
	}
	s.apiRow.Hide()
	s.wsRow.Hide()

	muted := c.Prefs().Muted
	for i, name := range s.deps.events {
		s.mutes[i].SetChecked(muted[name])
	}
	now := s.deps.now()
	pause := c.Notifications.PausedUntil
	switch {
	case pause.IsZero() || !pause.After(now):
		s.loadedDND = dndOff
		s.dndNote.Hide()
	case notify.UntilResumed(pause, now):
		s.loadedDND = dndForever
		s.dndNote.Hide()
	default:
		s.loadedDND = dndHour
		s.dndNote.SetText("Paused until " + pause.In(now.Location()).Format("15:04") + ".")
		s.dndNote.Show()
	}
	s.loadedPause = pause
	s.dnd.SetSelected(s.loadedDND)
	s.allowErrors.SetChecked(c.Notifications.AllowErrorsWhilePaused)

	s.startAtLogin.SetChecked(c.StartAtLogin)
	if s.deps.autostart != nil {
		// The desktop's own settings may have switched it off.
		if on, err := s.deps.autostart.Enabled(); err == nil && c.StartAtLogin && !on {
			s.startAtLogin.SetChecked(false)
		}
	}
	s.startHidden.SetChecked(c.StartHidden)
	if s.message.Text != invalidFormNote {
		s.clearMessage()
	}
}

// envOverrides names the ECHOTRAY_* variables that change a setting shown
// in the Connection tab.
func envOverrides(file, eff app.Config) []string {
	var out []string
	add := func(differs bool, name string) {
		if differs {
			out = append(out, name)
		}
	}
	add(file.Server != eff.Server, "ECHOTRAY_SERVER")
	add(file.Pusher.Key != eff.Pusher.Key, "ECHOTRAY_PUSHER_KEY")
	add(file.Pusher.Host != eff.Pusher.Host, "ECHOTRAY_PUSHER_HOST")
	add(file.Pusher.Port != eff.Pusher.Port, "ECHOTRAY_PUSHER_PORT")
	add(file.Pusher.Scheme != eff.Pusher.Scheme, "ECHOTRAY_PUSHER_SCHEME")
	add(file.Pusher.Cluster != eff.Pusher.Cluster, "ECHOTRAY_PUSHER_CLUSTER")
	add(file.Paths.Auth != eff.Paths.Auth, "ECHOTRAY_AUTH_PATH")
	add(file.Namespace != eff.Namespace, "ECHOTRAY_NAMESPACE")
	return out
}

// edits returns a function applying the form to a config, or an error in
// words when a field cannot be read.
func (s *settingsWindow) edits() (func(*app.Config), error) {
	if !s.validateForm() {
		return nil, errors.New(invalidFormNote)
	}
	port, _ := strconv.Atoi(s.portF.text())
	server := s.serverF.text()
	if server != "" {
		server, _ = app.NormalizeServerURL(server) // valid: checked above
	}
	var muted []string
	for i, name := range s.deps.events {
		if s.mutes[i].Checked {
			muted = append(muted, name)
		}
	}
	now := s.deps.now()
	var pause time.Time
	switch s.dnd.Selected {
	case s.loadedDND:
		pause = s.loadedPause // unchanged: keep the running pause's end
		if s.loadedDND == dndOff {
			pause = time.Time{}
		}
	case dndHour:
		pause = now.Add(time.Hour)
	case dndForever:
		pause = notify.PausedForever
	}
	// Fields IT locked or that follow the server keep the file's value.
	set := func(f *connField, apply func()) {
		if !f.fixed {
			apply()
		}
	}
	return func(c *app.Config) {
		set(s.serverF, func() { c.Server = server })
		set(s.authPathF, func() { c.Paths.Auth = s.authPathF.text() })
		set(s.loginPathF, func() { c.Paths.Login = s.loginPathF.text() })
		set(s.userPathF, func() { c.Paths.User = s.userPathF.text() })
		set(s.keyF, func() { c.Pusher.Key = s.keyF.text() })
		set(s.hostF, func() { c.Pusher.Host = s.hostF.text() })
		set(s.portF, func() { c.Pusher.Port = port })
		set(s.schemeF, func() { c.Pusher.Scheme = s.schemeF.text() })
		set(s.clusterF, func() { c.Pusher.Cluster = s.clusterF.text() })
		set(s.pathF, func() { c.Pusher.Path = s.pathF.text() })
		set(s.namespaceF, func() { c.Namespace = s.namespaceF.text() })
		// Mutes from overrides stay in the overrides; the list holds the rest.
		c.Notifications.Muted = slices.DeleteFunc(muted, func(e string) bool { return c.Notifications.Overrides[e].Muted })
		c.Notifications.PausedUntil = pause
		c.Notifications.AllowErrorsWhilePaused = s.allowErrors.Checked
		c.StartAtLogin = s.startAtLogin.Checked
		c.StartHidden = s.startHidden.Checked
	}, nil
}

// formConfig is the config file with the form applied.
func (s *settingsWindow) formConfig() (app.Config, func(*app.Config), error) {
	edit, err := s.edits()
	if err != nil {
		return app.Config{}, nil, err
	}
	c := s.deps.config.File()
	edit(&c)
	return c, edit, nil
}

// onSave validates and writes the settings, switches start-at-login, has
// them put into effect (deps.saved) and hides the window. Problems are shown inline
// and keep the window open.
func (s *settingsWindow) onSave() {
	c, edit, err := s.formConfig()
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		s.showMessage(app.Sentence(strings.ReplaceAll(err.Error(), "\n", "; ")), true)
		return
	}
	before := s.deps.config.File()
	if err := s.deps.config.Update(edit); err != nil {
		text := "The settings could not be saved: " + err.Error()
		if looksTechnical(err.Error()) {
			text = "The settings could not be saved. Check that the disk is not full and that your profile folder can be written to."
		}
		s.showMessage(app.Sentence(text), true)
		return
	}
	var autostartErr error
	if s.deps.autostart != nil && (c.StartAtLogin || before.StartAtLogin) {
		autostartErr = s.deps.autostart.Set(c.StartAtLogin, c.StartHidden)
	}
	if s.deps.saved != nil {
		s.deps.saved()
	}
	if autostartErr != nil {
		s.showMessage(app.Sentence("Saved, but start at login could not be changed: "+autostartErr.Error()), true)
		return
	}
	s.hide()
}

// onTest runs the connection check for the settings in the form (saved or
// not) on a worker goroutine.
func (s *settingsWindow) onTest() {
	if s.testing || s.deps.check == nil {
		return
	}
	c, _, err := s.formConfig()
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		s.setResult(s.apiRow, app.CheckResult{Text: app.Sentence(strings.ReplaceAll(err.Error(), "\n", "; "))})
		s.wsRow.Hide()
		return
	}
	s.testing = true
	s.testButton.Disable()
	s.testActivity.Show()
	s.testActivity.Start()
	s.setPending(s.apiRow, "Checking the billing server…")
	s.setPending(s.wsRow, "Checking the notification server…")
	s.pending.Add(1)
	go func() {
		defer s.pending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), connectionCheckTimeout)
		defer cancel()
		api, ws := s.deps.check(ctx, c)
		s.deps.runOnUI(func() {
			s.testing = false
			s.testButton.Enable()
			s.testActivity.Stop()
			s.testActivity.Hide()
			s.setResult(s.apiRow, api)
			s.setResult(s.wsRow, ws)
		})
	}()
}

// setResult shows a check result in a result row: a tick or an error sign
// and the text.
func (s *settingsWindow) setResult(row *fyne.Container, r app.CheckResult) {
	icon, label := s.rowParts(row)
	if r.OK {
		icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		label.Importance = widget.SuccessImportance
	} else {
		icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		label.Importance = widget.DangerImportance
	}
	label.SetText(checkResultText(r))
	row.Show()
}

// setPending shows a check in progress in a result row.
func (s *settingsWindow) setPending(row *fyne.Container, text string) {
	icon, label := s.rowParts(row)
	icon.SetResource(theme.NewDisabledResource(theme.MoreHorizontalIcon()))
	label.Importance = widget.MediumImportance
	label.SetText(text)
	row.Show()
}

func (s *settingsWindow) rowParts(row *fyne.Container) (*widget.Icon, *widget.Label) {
	if row == s.apiRow {
		return s.apiIcon, s.apiResult
	}
	return s.wsIcon, s.wsResult
}

func (s *settingsWindow) showMessage(text string, problem bool) {
	if problem {
		s.message.Importance = widget.DangerImportance
	} else {
		s.message.Importance = widget.MediumImportance
	}
	s.message.SetText(text)
	s.message.Show()
}

func (s *settingsWindow) clearMessage() {
	s.message.SetText("")
	s.message.Hide()
}
