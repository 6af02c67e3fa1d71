package app

import (
	"context"
	"strings"
	"time"

	"echotray/app/ipc"
	"echotray/notify"
	"echotray/realtime"
	"echotray/tray"
)

// setAccount makes account the history's current one (the store shows and
// stamps only its entries) and the one the windows are told.
func (c *Core) setAccount(account string) {
	if account == c.account {
		return
	}
	c.account = account
	if a, ok := c.deps.Unread.(historyAccounts); ok && account != "" {
		a.SetAccount(account)
	}
	if c.deps.Unread != nil {
		c.recountUnread()
	}
}

// upDown classifies a tray state for "since": 1 connected, -1 down
// (offline or still connecting), 0 signed out or expired.
func upDown(s tray.State) int {
	switch s {
	case tray.Connected:
		return 1
	case tray.Offline, tray.Connecting:
		return -1
	}
	return 0
}

// trackSince keeps when the connection went up or down (retries do not
// move it) and sends the desktop notifications of a long outage: one when
// it has been down for offlineNotice while signed in, one when it is back.
func (c *Core) trackSince(now time.Time) {
	ud := upDown(c.conn)
	if ud != c.sinceUp || c.since.IsZero() {
		prev := c.sinceUp
		c.sinceUp, c.since = ud, now
		if ud == 1 && prev == -1 && c.offlineNotice {
			c.offlineNotice = false
			c.desktopNotice("Back online", "EchoTray is connected again. Notifications sent while it was offline are fetched where the server keeps them.", notify.UrgencyLow)
		}
		if ud != -1 && ud != 1 {
			c.offlineNotice = false
		}
	}
	if ud == -1 && !c.offlineNotice && (c.phase == PhaseSignedIn || c.phase == PhaseRestoring || c.phase == PhaseUnstarted) &&
		now.Sub(c.since) >= offlineNotice && c.conn == tray.Offline {
		c.offlineNotice = true
		reason := c.reason
		if reason == "" {
			reason = "The notification server cannot be reached."
		}
		c.desktopNotice("EchoTray is offline", reason+" New notifications cannot arrive until the connection is back; EchoTray keeps trying.", notify.UrgencyNormal)
	}
}

// desktopNotice shows one of the core's own desktop notifications (on a
// worker).
func (c *Core) desktopNotice(title, body string, urgency notify.Urgency) {
	n := c.deps.Notifier
	if n == nil {
		return
	}
	msg := notify.Message{AppName: c.deps.AppName, Title: title, Body: body, Icon: c.deps.IconPath,
		Urgency: urgency, Timeout: notify.DefaultTimeout}
	c.goBG(func() {
		ctx, cancel := context.WithTimeout(c.ctx, actionTimeout)
		defer cancel()
		if err := n.Notify(ctx, msg); err != nil {
			c.log.Warn("cannot show a notification", "title", title, "err", err)
		}
	})
}

// onSubscription follows how each channel stands.
func (c *Core) onSubscription(sc realtime.SubscriptionChange) {
	if c.phase != PhaseSignedIn {
		return
	}
	kind := KindExtra
	for _, s := range c.chanSpecs {
		if s.Name == sc.Channel {
			kind = s.Kind
		}
	}
	st := ipc.ChannelState{Name: sc.Channel, Kind: kind}
	switch sc.Status {
	case realtime.SubscriptionSubscribed:
		st.OK = true
	case realtime.SubscriptionForbidden:
		if kind == KindNotifications {
			// The app defines no notification channel (the Laravel
			// default is optional): nothing is lost, no warning.
			st.Reason = notOffered
			c.log.Info("the server does not authorise the notification channel; Laravel notifications are off", "channel", sc.Channel, "err", sc.Err)
			break
		}
		st.Reason = ChannelReason(sc.Err)
		c.log.Warn("channel unavailable", "channel", sc.Channel, "status", sc.Status, "err", sc.Err)
	case realtime.SubscriptionFailed:
		st.Reason = ChannelReason(sc.Err)
		c.log.Warn("channel unavailable", "channel", sc.Channel, "status", sc.Status, "err", sc.Err)
	case realtime.SubscriptionPending:
		if old, ok := c.chanStates[sc.Channel]; ok && old.Reason != "" {
			st.Reason = old.Reason // still failing until it is confirmed
		}
	}
	c.chanStates[sc.Channel] = st
	c.refresh()
}

// channelList is the channels in subscription order with their states.
func (c *Core) channelList() []ipc.ChannelState {
	if len(c.chanSpecs) == 0 {
		return nil
	}
	out := make([]ipc.ChannelState, 0, len(c.chanSpecs))
	for _, s := range c.chanSpecs {
		st, ok := c.chanStates[s.Name]
		if !ok {
			st = ipc.ChannelState{Name: s.Name, Kind: s.Kind}
		}
		out = append(out, st)
	}
	return out
}

// notOffered is the reason of a notification channel the server refuses
// (403): the app sends no Laravel notifications; not a warning.
const notOffered = "the server does not offer them"

// kindWords names a channel kind for people.
func kindWords(kind string) string {
	switch kind {
	case KindTenant:
		return "your business's notifications"
	case KindPersonal:
		return "personal notifications"
	case KindAdmin:
		return "system administration notifications"
	case KindNotifications:
		return "your account's notifications"
	}
	return "some notifications"
}

// warning is the partial-failure sentence while connected: the channels
// the server would not authorise. "" when all is well.
func (c *Core) warning() string {
	var kinds []string
	reason := ""
	for _, st := range c.channelList() {
		if st.OK || st.Reason == "" || st.Reason == notOffered {
			continue
		}
		w := kindWords(st.Kind)
		if !containsString(kinds, w) {
			kinds = append(kinds, w)
		}
		if reason == "" {
			reason = st.Reason
		}
	}
	if len(kinds) == 0 {
		return ""
	}
	list := strings.Join(kinds, " and ")
	return Sentence("Connected, but " + list + " are unavailable: " + reason)
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// onCaughtUp: a catch-up stored entries. The unread count is read anew and
// the window gets the newest few (it reloads for more).
func (c *Core) onCaughtUp(entries []notify.Entry) {
	if c.deps.Unread != nil {
		c.recountUnread()
	}
	if len(entries) > caughtUpShown {
		c.broadcast(ipc.Message{Op: ipc.OpReload})
	} else {
		for _, e := range entries {
			c.entryAdded(e)
		}
	}
	c.refresh()
}

// markReadRemote hands entries the user read to read sync (queued on disk
// by the service, sent by its worker).
func (c *Core) markReadRemote(ids []int64) {
	if len(ids) == 0 || c.phase != PhaseSignedIn {
		return
	}
	svc := c.svc
	c.goBG(func() {
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		defer cancel()
		if err := svc.MarkReadRemote(ctx, ids); err != nil {
			c.log.Warn("cannot queue entries to mark read on the server", "err", err)
		}
	})
}
