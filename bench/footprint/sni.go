package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// trayItem is a StatusNotifierItem registered with the tray host.
type trayItem struct {
	Service string // bus name of the item's connection
	Path    dbus.ObjectPath
}

// registeredItems reads the tray host's (xfce4-panel's systray)
// RegisteredStatusNotifierItems: "service/path" or a bare service name.
func registeredItems(conn *dbus.Conn) ([]trayItem, error) {
	v, err := conn.Object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher").
		GetProperty("org.kde.StatusNotifierWatcher.RegisteredStatusNotifierItems")
	if err != nil {
		return nil, err
	}
	names, ok := v.Value().([]string)
	if !ok {
		return nil, fmt.Errorf("RegisteredStatusNotifierItems is %s", v.Signature())
	}
	var out []trayItem
	for _, n := range names {
		it := trayItem{Service: n, Path: "/StatusNotifierItem"}
		if i := strings.IndexByte(n, '/'); i >= 0 {
			it.Service, it.Path = n[:i], dbus.ObjectPath(n[i:])
		}
		out = append(out, it)
	}
	return out, nil
}

// itemOf returns the tray item that process pid registered, if any.
func itemOf(conn *dbus.Conn, pid int) (trayItem, bool) {
	items, err := registeredItems(conn)
	if err != nil {
		return trayItem{}, false
	}
	for _, it := range items {
		var p uint32
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, it.Service).Store(&p); err == nil && int(p) == pid {
			return it, true
		}
	}
	return trayItem{}, false
}

// tooltip returns the title of the item's ToolTip ("EchoTray — connected as …").
func tooltip(conn *dbus.Conn, it trayItem) (string, error) {
	v, err := conn.Object(it.Service, it.Path).GetProperty("org.kde.StatusNotifierItem.ToolTip")
	if err != nil {
		return "", err
	}
	var tip struct {
		Name  string
		Icons []struct {
			W, H int32
			Pix  []byte
		}
		Title, Text string
	}
	if err := dbus.Store([]any{v.Value()}, &tip); err != nil {
		return "", fmt.Errorf("ToolTip %v: %w", v, err)
	}
	return tip.Title, nil
}

// menuItemID finds the id of the top-level menu entry labelled label
// (com.canonical.dbusmenu GetLayout) and returns it with the menu's path.
func menuItemID(conn *dbus.Conn, it trayItem, label string) (dbus.ObjectPath, int32, error) {
	v, err := conn.Object(it.Service, it.Path).GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		return "", 0, fmt.Errorf("read the item's Menu: %w", err)
	}
	var menu dbus.ObjectPath
	if err := v.Store(&menu); err != nil {
		return "", 0, fmt.Errorf("Menu %v: %w", v, err)
	}
	var revision uint32
	var layout []any
	err = conn.Object(it.Service, menu).Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).
		Store(&revision, &layout)
	if err != nil {
		return "", 0, fmt.Errorf("GetLayout: %w", err)
	}
	if len(layout) != 3 {
		return "", 0, fmt.Errorf("GetLayout: %v", layout)
	}
	kids, _ := layout[2].([]dbus.Variant)
	var labels []string
	for _, k := range kids {
		f, ok := k.Value().([]any)
		if !ok || len(f) < 2 {
			continue
		}
		props, _ := f[1].(map[string]dbus.Variant)
		l, _ := props["label"].Value().(string)
		labels = append(labels, l)
		if l == label {
			id, _ := f[0].(int32)
			return menu, id, nil
		}
	}
	return "", 0, fmt.Errorf("no %q in the tray menu %q", label, labels)
}

// click sends the dbusmenu "clicked" event for entry id, as the tray host
// does when the user picks it.
func click(conn *dbus.Conn, it trayItem, menu dbus.ObjectPath, id int32) error {
	call := conn.Object(it.Service, menu).Call("com.canonical.dbusmenu.Event", 0,
		id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix()))
	return call.Err
}

// waitTray waits until process pid has an item in the tray whose tooltip
// starts with want.
func waitTray(conn *dbus.Conn, pid int, want string, limit time.Duration) (trayItem, error) {
	deadline := time.Now().Add(limit)
	last := "(no item registered)"
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return trayItem{}, fmt.Errorf("process %d exited", pid)
		}
		if it, ok := itemOf(conn, pid); ok {
			t, err := tooltip(conn, it)
			if err == nil && strings.HasPrefix(t, want) {
				return it, nil
			}
			last = fmt.Sprintf("tooltip %q (err %v)", t, err)
		}
		time.Sleep(100 * time.Millisecond) // polling other processes, with a deadline
	}
	return trayItem{}, errors.New("no tray item with a tooltip starting " + fmt.Sprintf("%q", want) + " within " + limit.String() + "; last: " + last)
}
