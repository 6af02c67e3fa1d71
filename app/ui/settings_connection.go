package ui

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"echotray/app"
)

// The Connection tab: "Server address" first, the realtime settings under
// "Advanced — usually set by your administrator", each field with a help
// line in plain words that turns into the problem while the value is not
// valid. Save and Test connection are off while any field is invalid.
// Fields IT locked (the machine-wide settings) are disabled and say so;
// values that follow the server's announcement are shown read-only.

// Texts of the Connection tab.
const (
	advancedTitle   = "Advanced — usually set by your administrator"
	lockedHint      = "Set by your administrator."
	fromServerHint  = "From the server: your billing server tells EchoTray this."
	invalidFormNote = "Correct the fields marked in red to save."
)

// connField is one field of the Connection tab.
type connField struct {
	key   string         // the config key for Locked and FromServer ("pusher.port")
	entry *widget.Entry  // the text field; nil for the scheme
	sel   *widget.Select // the scheme
	help  string         // what the field is, in plain words
	hint  *widget.Label  // help, or the problem, or why it is read-only
	check func(string) error

	baseHelp string // help, as made (help may say why the field is read-only)
	// fixed: locked by IT or following the server; not edited, not saved.
	fixed bool
	err   error
}

// text is the field's value as typed.
func (f *connField) text() string {
	if f.sel != nil {
		return f.sel.Selected
	}
	return strings.TrimSpace(f.entry.Text)
}

// validate checks the field and shows the result under it.
func (f *connField) validate() error {
	f.err = nil
	if !f.fixed && f.check != nil {
		f.err = f.check(f.text())
	}
	switch {
	case f.err != nil:
		f.hint.Importance = widget.DangerImportance
		f.hint.SetText(f.err.Error())
	default:
		f.hint.Importance = widget.MediumImportance
		f.hint.SetText(f.shownHelp())
	}
	return f.err
}

// shownHelp is the line under a valid field.
func (f *connField) shownHelp() string { return f.help }

// setFixed makes the field read-only with the reason as its help line.
func (f *connField) setFixed(why string) {
	f.fixed = true
	f.help = why
	if f.entry != nil {
		f.entry.Disable()
	} else {
		f.sel.Disable()
	}
}

// formItem is the field with its help line under it.
func (f *connField) formItem(label string) *widget.FormItem {
	var w fyne.CanvasObject = f.entry
	if f.sel != nil {
		w = f.sel
	}
	return widget.NewFormItem(label, container.NewVBox(w, f.hint))
}

// newConnField makes a text field with a help line and a check.
func (s *settingsWindow) newConnField(key, placeholder, help string, check func(string) error) *connField {
	f := &connField{key: key, entry: widget.NewEntry(), help: help, baseHelp: help, check: check}
	f.entry.SetPlaceHolder(placeholder)
	f.hint = label(&widget.Label{Text: help, Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameCaptionText})
	f.entry.OnChanged = func(string) { s.validateForm() }
	s.fields = append(s.fields, f)
	return f
}

// Field checks: nil or a plain sentence saying what to type.

func checkServer(v string) error {
	if v == "" {
		return nil // signing in sets it
	}
	_, err := app.NormalizeServerURL(v)
	return err
}

func checkKey(v string) error {
	if v == "" {
		return errors.New("Enter the key your administrator gave you.")
	}
	if strings.ContainsAny(v, " \t/") {
		return errors.New("A key has no spaces or slashes. Copy it again from your administrator's instructions.")
	}
	return nil
}

func checkHost(v string) error {
	if v == "" {
		return nil // the cluster decides
	}
	if strings.Contains(v, "://") || strings.ContainsAny(v, "/ ") || (strings.Contains(v, ":") && !strings.HasPrefix(v, "[")) {
		return errors.New("Enter only the server name, like ws.example.com — without https://, a port or a path.")
	}
	return nil
}

func checkPort(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return errors.New("Enter a number from 1 to 65535, like 443 or 6001.")
	}
	return nil
}

func checkWord(v string) error {
	if strings.ContainsAny(v, " \t/") {
		return errors.New("This has no spaces or slashes.")
	}
	return nil
}

func checkPrefix(v string) error {
	if v != "" && !strings.HasPrefix(v, "/") {
		return errors.New("Start the path with /, like /ws, or leave it empty.")
	}
	if strings.ContainsAny(v, " ?#") {
		return errors.New("A path has no spaces, ? or #.")
	}
	return nil
}

func checkNamespace(v string) error {
	if strings.ContainsAny(v, " \t/") {
		return errors.New(`Write the namespace with backslashes and no spaces, like App\Events.`)
	}
	return nil
}

// checkAPIPath accepts a path on the server ("/broadcasting/auth") or a
// full web address.
func checkAPIPath(v string) error {
	if v == "" {
		return nil // Laravel's default
	}
	if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			return nil
		}
		return errors.New("This web address is not complete: write it like https://billing.example.com/broadcasting/auth.")
	}
	if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, " #") {
		return errors.New("Start the path with /, like /broadcasting/auth.")
	}
	if _, err := url.Parse(v); err != nil {
		return errors.New("Start the path with /, like /broadcasting/auth.")
	}
	return nil
}

// connectionTab builds the Connection tab.
func (s *settingsWindow) connectionTab() fyne.CanvasObject {
	s.fields = nil
	s.serverF = s.newConnField("server", "billing.example.com",
		"The address of your billing platform, as you open it in the browser.", checkServer)
	s.server = s.serverF.entry
	s.keyF = s.newConnField("pusher.key", "", "Identifies your organisation on the notification server.", checkKey)
	s.key = s.keyF.entry
	s.hostF = s.newConnField("pusher.host", "ws.example.com",
		"The notification server's name. Empty: Pusher's hosted service in the region below.", checkHost)
	s.host = s.hostF.entry
	s.portF = s.newConnField("pusher.port", "443", "A number from 1 to 65535: usually 443 for a secure server, 6001 for a local one.", checkPort)
	s.port = s.portF.entry
	s.scheme = widget.NewSelect([]string{"https", "http"}, func(string) { s.validateForm() })
	schemeHelp := "https: an encrypted connection (wss://). http only on a trusted local network."
	s.schemeF = &connField{key: "pusher.scheme", sel: s.scheme, help: schemeHelp, baseHelp: schemeHelp,
		hint: label(&widget.Label{Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameCaptionText})}
	s.fields = append(s.fields, s.schemeF)
	s.clusterF = s.newConnField("pusher.cluster", "mt1", "Only for Pusher's hosted service: its region, like mt1 or eu.", checkWord)
	s.cluster = s.clusterF.entry
	s.pathF = s.newConnField("pusher.path", "none", "Only when the notification server answers under a path of a shared address.", checkPrefix)
	s.path = s.pathF.entry
	s.namespaceF = s.newConnField("namespace", `App\Events`, `Where the billing platform's events are named; almost always App\Events.`, checkNamespace)
	s.namespace = s.namespaceF.entry
	s.authPathF = s.newConnField("paths.auth", "/broadcasting/auth",
		"Where EchoTray asks for permission to receive your personal notifications.", checkAPIPath)
	s.authPath = s.authPathF.entry
	s.loginPathF = s.newConnField("paths.login", "/api/login", "Where EchoTray signs you in.", checkAPIPath)
	s.loginPath = s.loginPathF.entry
	s.userPathF = s.newConnField("paths.user", "/api/user", "Where EchoTray reads who is signed in.", checkAPIPath)
	s.userPath = s.userPathF.entry

	s.envNote = &widget.Label{Importance: widget.WarningImportance, Wrapping: fyne.TextWrapWord}
	s.envNote.Hide()

	server := widget.NewForm(s.serverF.formItem("Server address"))
	advanced := widget.NewForm(
		s.keyF.formItem("Key"),
		s.hostF.formItem("Notification server"),
		s.portF.formItem("Port"),
		s.schemeF.formItem("Connection"),
		s.clusterF.formItem("Region (cluster)"),
		s.pathF.formItem("Path"),
		s.namespaceF.formItem("Event names"),
		s.authPathF.formItem("Permission path"),
		s.loginPathF.formItem("Sign-in path"),
		s.userPathF.formItem("Account path"),
	)
	s.advancedItem = widget.NewAccordionItem(advancedTitle, advanced)
	s.advanced = widget.NewAccordion(s.advancedItem)

	s.testButton = widget.NewButton("Test connection", s.onTest)
	s.testActivity = widget.NewActivity()
	s.testActivity.Hide()
	s.apiResult = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.wsResult = &widget.Label{Wrapping: fyne.TextWrapWord}
	s.apiIcon, s.wsIcon = widget.NewIcon(nil), widget.NewIcon(nil)
	s.apiRow = container.NewBorder(nil, nil, s.apiIcon, nil, s.apiResult)
	s.wsRow = container.NewBorder(nil, nil, s.wsIcon, nil, s.wsResult)
	s.apiRow.Hide()
	s.wsRow.Hide()
	test := container.NewVBox(
		container.NewHBox(s.testButton, s.testActivity),
		s.apiRow, s.wsRow,
	)
	return container.NewVScroll(container.NewVBox(
		s.envNote,
		server,
		test,
		s.advanced,
	))
}

// loadConnection fills the Connection tab from the config file; fields IT
// locked or that follow the server show the values in effect, read-only.
func (s *settingsWindow) loadConnection(c, eff app.Config) {
	values := map[*connField]string{
		s.serverF: c.Server, s.keyF: c.Pusher.Key, s.hostF: c.Pusher.Host, s.portF: strconv.Itoa(c.Pusher.Port),
		s.clusterF: c.Pusher.Cluster, s.pathF: c.Pusher.Path, s.namespaceF: c.Namespace,
		s.authPathF: c.Paths.Auth, s.loginPathF: c.Paths.Login, s.userPathF: c.Paths.User,
	}
	effective := map[*connField]string{
		s.serverF: eff.Server, s.keyF: eff.Pusher.Key, s.hostF: eff.Pusher.Host, s.portF: strconv.Itoa(eff.Pusher.Port),
		s.clusterF: eff.Pusher.Cluster, s.pathF: eff.Pusher.Path, s.namespaceF: eff.Namespace,
		s.authPathF: eff.Paths.Auth, s.loginPathF: eff.Paths.Login, s.userPathF: eff.Paths.User,
	}
	locked, fromServer := s.deps.config.Locked, s.deps.config.FromServer
	if s.deps.locked != nil {
		locked = s.deps.locked
	}
	if s.deps.fromServer != nil {
		fromServer = s.deps.fromServer
	}
	s.loading = true
	defer func() { s.loading = false }()
	s.advanced.Close(0)
	for _, f := range s.fields {
		// Each key alone: a group name would report any of its keys
		// (Locked covers a locked group by itself).
		f.fixed = false
		switch {
		case locked(f.key):
			f.setFixed(lockedHint)
		case fromServer(f.key):
			f.setFixed(fromServerHint)
		default:
			if f.entry != nil {
				f.entry.Enable()
			} else {
				f.sel.Enable()
			}
		}
		if f == s.schemeF {
			sch := c.Pusher.Scheme
			if f.fixed {
				sch = eff.Pusher.Scheme
			}
			s.scheme.SetSelected(sch)
			continue
		}
		v := values[f]
		if f.fixed {
			v = effective[f]
		}
		f.entry.SetText(v)
	}
	// Keep each field's own help line for when it is editable again.
	s.resetHelp()
	s.loading = false
	s.validateForm()
}

// resetHelp puts back the help lines setFixed replaced, for the fields
// that are editable.
func (s *settingsWindow) resetHelp() {
	for _, f := range s.fields {
		if !f.fixed {
			f.help = f.baseHelp
		}
	}
}

// checkResultText is a connection check's result in plain words: the
// check's own sentence when it reads as one; where it carries an address
// or a program's words, what it means for the user (with the plain reason
// at its end, if there is one).
func checkResultText(r app.CheckResult) string {
	text := strings.TrimSpace(r.Text)
	what, detail, found := strings.Cut(text, ": ")
	switch {
	case !found:
		what, detail = "", text
	case what == "API" || what == "Server":
		what = "Billing server"
	case what == "WebSocket":
		what = "Notification server"
	case what == "Notification server":
	default:
		what, detail = "", text
	}
	if !r.OK && looksTechnical(detail) {
		reason := ""
		if i := strings.LastIndex(detail, ": "); i >= 0 && !looksTechnical(detail[i+2:]) {
			reason = " " + app.Sentence(detail[i+2:])
		}
		switch what {
		case "Billing server":
			detail = "can't be reached at this address." + reason + " Check the server address, or ask your administrator."
		default:
			detail = "can't be reached." + reason + " Check the settings under Advanced, or ask your administrator."
		}
	}
	if what == "" {
		return app.Sentence(detail)
	}
	return what + ": " + detail
}

// validateForm checks every field, marks the invalid ones and turns Save
// and Test connection off while any is invalid.
func (s *settingsWindow) validateForm() bool {
	if s.loading {
		return true // checked once loaded
	}
	ok := true
	for _, f := range s.fields {
		if f.validate() != nil {
			ok = false
			if f != s.serverF && !s.advancedItem.Open {
				s.advanced.Open(0) // show the field that needs correcting
			}
		}
	}
	if ok {
		s.save.Enable()
		if !s.testing {
			s.testButton.Enable()
		}
		if s.message.Text == invalidFormNote {
			s.clearMessage()
		}
	} else {
		s.save.Disable()
		s.testButton.Disable()
		s.showMessage(invalidFormNote, true)
	}
	return ok
}
