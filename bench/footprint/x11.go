package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// xconn is a minimal X11 client, enough to find a top-level window by its
// title, tell whether it is viewable and ask the window manager to close
// it: the benchmark polls it every 10 ms, where running xdotool or
// xwininfo each time would cost a process start (and CPU the measured
// processes compete for). Requests are synchronous; the connection selects
// no events. Little-endian byte order throughout.
type xconn struct {
	mu    sync.Mutex
	c     net.Conn
	root  uint32
	atoms map[string]uint32
}

// X11 core protocol opcodes.
const (
	xGetWindowAttributes = 3
	xInternAtom          = 16
	xGetProperty         = 20
	xSendEvent           = 25
	xGetInputFocus       = 43

	xClientMessage = 33 // event code

	mapStateViewable = 2
)

// dialX connects to display ":N" through its unix socket, without
// authorisation (the benchmark's Xvfb runs without an auth file).
func dialX(display string) (*xconn, error) {
	num := strings.TrimPrefix(display, ":")
	if i := strings.IndexByte(num, '.'); i >= 0 {
		num = num[:i]
	}
	c, err := net.DialTimeout("unix", "/tmp/.X11-unix/X"+num, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("x11: %w", err)
	}
	x := &xconn{c: c, atoms: map[string]uint32{}}
	if err := x.setup(); err != nil {
		c.Close()
		return nil, err
	}
	return x, nil
}

func (x *xconn) setup() error {
	x.c.SetDeadline(time.Now().Add(5 * time.Second))
	defer x.c.SetDeadline(time.Time{})
	req := []byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := x.c.Write(req); err != nil {
		return fmt.Errorf("x11 setup: %w", err)
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(x.c, head); err != nil {
		return fmt.Errorf("x11 setup: %w", err)
	}
	data := make([]byte, 4*int(binary.LittleEndian.Uint16(head[6:])))
	if _, err := io.ReadFull(x.c, data); err != nil {
		return fmt.Errorf("x11 setup: %w", err)
	}
	if head[0] != 1 {
		return fmt.Errorf("x11 setup refused (status %d): %s", head[0], strings.TrimRight(string(data), "\x00"))
	}
	if len(data) < 32 {
		return errors.New("x11 setup: short reply")
	}
	vendorLen := int(binary.LittleEndian.Uint16(data[16:]))
	formats := int(data[21])
	off := 32 + (vendorLen+3)&^3 + 8*formats
	if len(data) < off+4 {
		return errors.New("x11 setup: short reply")
	}
	x.root = binary.LittleEndian.Uint32(data[off:])
	return nil
}

// Close closes the connection.
func (x *xconn) Close() error { return x.c.Close() }

// roundTrip sends a request that has a reply and returns the whole reply.
func (x *xconn) roundTrip(req []byte) ([]byte, error) {
	x.c.SetDeadline(time.Now().Add(5 * time.Second))
	defer x.c.SetDeadline(time.Time{})
	if _, err := x.c.Write(req); err != nil {
		return nil, err
	}
	return x.readReply()
}

func (x *xconn) readReply() ([]byte, error) {
	for {
		b := make([]byte, 32)
		if _, err := io.ReadFull(x.c, b); err != nil {
			return nil, err
		}
		switch b[0] {
		case 0:
			return nil, &xError{Code: b[1], Major: b[10]}
		case 1:
			extra := 4 * int(binary.LittleEndian.Uint32(b[4:]))
			if extra == 0 {
				return b, nil
			}
			rest := make([]byte, extra)
			if _, err := io.ReadFull(x.c, rest); err != nil {
				return nil, err
			}
			return append(b, rest...), nil
		}
		// An event: none are selected, but skip any that come.
	}
}

// xError is an X protocol error (BadWindow when a window vanished).
type xError struct{ Code, Major byte }

func (e *xError) Error() string { return fmt.Sprintf("x11 error %d (request %d)", e.Code, e.Major) }

func pad4(n int) int { return (n + 3) &^ 3 }

// atom interns name (cached).
func (x *xconn) atom(name string) (uint32, error) {
	if a, ok := x.atoms[name]; ok {
		return a, nil
	}
	req := make([]byte, 8+pad4(len(name)))
	req[0] = xInternAtom
	binary.LittleEndian.PutUint16(req[2:], uint16(len(req)/4))
	binary.LittleEndian.PutUint16(req[4:], uint16(len(name)))
	copy(req[8:], name)
	r, err := x.roundTrip(req)
	if err != nil {
		return 0, fmt.Errorf("x11 InternAtom %s: %w", name, err)
	}
	a := binary.LittleEndian.Uint32(r[8:])
	x.atoms[name] = a
	return a, nil
}

// property returns the raw value of a window property (any type).
func (x *xconn) property(win uint32, name string) ([]byte, error) {
	a, err := x.atom(name)
	if err != nil {
		return nil, err
	}
	req := make([]byte, 24)
	req[0] = xGetProperty
	binary.LittleEndian.PutUint16(req[2:], 6)
	binary.LittleEndian.PutUint32(req[4:], win)
	binary.LittleEndian.PutUint32(req[8:], a)
	binary.LittleEndian.PutUint32(req[12:], 0)       // AnyPropertyType
	binary.LittleEndian.PutUint32(req[16:], 0)       // offset
	binary.LittleEndian.PutUint32(req[20:], 1<<16-1) // length in 32-bit units
	r, err := x.roundTrip(req)
	if err != nil {
		return nil, err
	}
	format := int(r[1])
	n := int(binary.LittleEndian.Uint32(r[16:])) * format / 8
	if 32+n > len(r) {
		return nil, errors.New("x11 GetProperty: short reply")
	}
	return r[32 : 32+n], nil
}

// clientWindows returns the window manager's _NET_CLIENT_LIST: the managed
// top-level windows (a hidden, i.e. withdrawn, window is not among them).
func (x *xconn) clientWindows() ([]uint32, error) {
	v, err := x.property(x.root, "_NET_CLIENT_LIST")
	if err != nil {
		return nil, err
	}
	out := make([]uint32, 0, len(v)/4)
	for i := 0; i+4 <= len(v); i += 4 {
		out = append(out, binary.LittleEndian.Uint32(v[i:]))
	}
	return out, nil
}

// title returns _NET_WM_NAME (UTF-8), else WM_NAME.
func (x *xconn) title(win uint32) (string, error) {
	v, err := x.property(win, "_NET_WM_NAME")
	if err == nil && len(v) > 0 {
		return string(v), nil
	}
	v, err2 := x.property(win, "WM_NAME")
	if err2 != nil {
		if err != nil {
			return "", err
		}
		return "", err2
	}
	return string(v), nil
}

// viewable reports whether win is mapped and all its ancestors are: on
// screen, as far as X knows.
func (x *xconn) viewable(win uint32) (bool, error) {
	req := make([]byte, 8)
	req[0] = xGetWindowAttributes
	binary.LittleEndian.PutUint16(req[2:], 2)
	binary.LittleEndian.PutUint32(req[4:], win)
	r, err := x.roundTrip(req)
	if err != nil {
		return false, err
	}
	return r[26] == mapStateViewable, nil
}

// xwindow is a top-level window found by title.
type xwindow struct {
	ID       uint32
	Title    string
	Viewable bool
}

// find returns the managed top-level windows whose title starts with
// prefix. Windows that vanish while being read are skipped.
func (x *xconn) find(prefix string) ([]xwindow, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	wins, err := x.clientWindows()
	if err != nil {
		return nil, err
	}
	var out []xwindow
	for _, w := range wins {
		t, err := x.title(w)
		if err != nil {
			var xe *xError
			if errors.As(err, &xe) {
				continue
			}
			return nil, err
		}
		if !strings.HasPrefix(t, prefix) {
			continue
		}
		v, err := x.viewable(w)
		if err != nil {
			var xe *xError
			if errors.As(err, &xe) {
				continue
			}
			return nil, err
		}
		out = append(out, xwindow{ID: w, Title: t, Viewable: v})
	}
	return out, nil
}

// requestClose asks the window manager to close win, as its title bar's
// close button does: a _NET_CLOSE_WINDOW client message to the root window
// (EWMH), which the manager turns into WM_DELETE_WINDOW for the client.
func (x *xconn) requestClose(win uint32) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	a, err := x.atom("_NET_CLOSE_WINDOW")
	if err != nil {
		return err
	}
	req := make([]byte, 44)
	req[0] = xSendEvent
	binary.LittleEndian.PutUint16(req[2:], 11)
	binary.LittleEndian.PutUint32(req[4:], x.root)
	binary.LittleEndian.PutUint32(req[8:], 1<<19|1<<20) // SubstructureNotify|SubstructureRedirect
	ev := req[12:]
	ev[0] = xClientMessage
	ev[1] = 32 // format
	binary.LittleEndian.PutUint32(ev[4:], win)
	binary.LittleEndian.PutUint32(ev[8:], a)
	binary.LittleEndian.PutUint32(ev[12:], 0) // CurrentTime
	binary.LittleEndian.PutUint32(ev[16:], 2) // source: a pager/user action
	x.c.SetDeadline(time.Now().Add(5 * time.Second))
	defer x.c.SetDeadline(time.Time{})
	if _, err := x.c.Write(req); err != nil {
		return err
	}
	// SendEvent has no reply: a GetInputFocus round trip brings any error.
	sync := []byte{xGetInputFocus, 0, 1, 0}
	if _, err := x.c.Write(sync); err != nil {
		return err
	}
	if _, err := x.readReply(); err != nil {
		return fmt.Errorf("x11 close request: %w", err)
	}
	return nil
}
