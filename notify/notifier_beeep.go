package notify

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/gen2brain/beeep"
)

// beeepNotifier shows notifications through gen2brain/beeep: WinRT toasts on
// Windows, terminal-notifier or osascript on macOS, and on Linux (as the
// fallback when our own D-Bus client cannot reach the bus) D-Bus through the
// shared connection, then notify-send, then kdialog. beeep offers no click
// actions, so clicks are not reported.
type beeepNotifier struct {
	icon   string
	escape bool // the text may be rendered as markup (Linux servers)
}

// newBeeepNotifier sets beeep's global application name; beeep has no other
// way to take it.
func newBeeepNotifier(appName, icon string, escape bool) *beeepNotifier {
	if appName != "" {
		beeep.AppName = appName
	}
	return &beeepNotifier{icon: icon, escape: escape}
}

// Notify shows m. beeep's calls cannot be cancelled; ctx is checked before
// the call. Critical messages use beeep.Alert (with a sound) except on
// Linux, where Alert also rings the console bell, which fails without one.
func (b *beeepNotifier) Notify(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	title, body := m.Title, m.Body
	if b.escape {
		body = EscapeMarkup(body)
	}
	// Windows toasts put the text in XML CDATA sections, which "]]>" ends.
	title = strings.ReplaceAll(title, "]]>", "]] >")
	body = strings.ReplaceAll(body, "]]>", "]] >")
	icon := m.Icon
	if icon == "" {
		icon = b.icon
	}
	var err error
	if m.Urgency == UrgencyCritical && runtime.GOOS != "linux" {
		err = beeep.Alert(title, body, icon)
	} else {
		err = beeep.Notify(title, body, icon)
	}
	if err != nil {
		return fmt.Errorf("show notification: %w", err)
	}
	return nil
}
