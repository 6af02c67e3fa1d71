//go:build windows

package main

import (
	"log"
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// The Windows release build is linked with -H=windowsgui so that starting
// EchoTray from the Start menu or at sign-in opens no console window. Such a
// program gets no standard handles when it is started from cmd.exe or
// PowerShell, so the command-line modes (--version, --help and the other
// commands) would print nothing. This init attaches to the console of the
// parent process in that case and points os.Stdin, os.Stdout and os.Stderr
// at it.
//
// Handles the caller already provided are kept: `echotray.exe --version >
// v.txt`, pipes, PowerShell capture and wine started from a Unix shell work
// without attaching. Without arguments (the tray app itself) and in the
// window process (`echotray [--log-level L] window ...`, started by the
// core) nothing is attached, so a console the app was started from is not
// held open.
//
// It runs in init, before main: package-level variables of package main must
// not capture os.Stdout or os.Stderr (take them inside main instead).
func init() {
	if len(os.Args) < 2 || isWindowProcess(os.Args[1:]) {
		return
	}
	attachParentConsole()
}

// isWindowProcess reports whether args run the window process: the first
// argument after the root flags is "window".
func isWindowProcess(args []string) bool {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--log-level" || a == "-log-level":
			i++ // its value
		case strings.HasPrefix(a, "-"):
		default:
			return a == "window"
		}
	}
	return false
}

// attachParentConsole connects unusable standard handles to the parent's
// console. Failures are silent: there is nowhere to report them.
func attachParentConsole() {
	in, out, errOut := usable(windows.STD_INPUT_HANDLE), usable(windows.STD_OUTPUT_HANDLE), usable(windows.STD_ERROR_HANDLE)
	if out && errOut {
		return
	}
	attach := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS, (DWORD)-1
	if r, _, _ := attach.Call(attachParentProcess); r == 0 {
		return // no parent console (Explorer, Run key) or already attached
	}
	if !out {
		if f := openConsole("CONOUT$", windows.STD_OUTPUT_HANDLE, "/dev/stdout"); f != nil {
			os.Stdout = f
		}
	}
	if !errOut {
		if f := openConsole("CONOUT$", windows.STD_ERROR_HANDLE, "/dev/stderr"); f != nil {
			os.Stderr = f
			// The standard logger (and slog's default handler, which writes
			// through it) captured the old os.Stderr when package log started.
			log.SetOutput(f)
		}
	}
	if !in {
		if f := openConsole("CONIN$", windows.STD_INPUT_HANDLE, "/dev/stdin"); f != nil {
			os.Stdin = f
		}
	}
}

// usable reports whether the standard handle std refers to an open file,
// pipe or console.
func usable(std uint32) bool {
	h, err := windows.GetStdHandle(std)
	if err != nil || h == 0 || h == windows.InvalidHandle {
		return false
	}
	t, err := windows.GetFileType(h)
	return err == nil && t != windows.FILE_TYPE_UNKNOWN
}

// openConsole opens the console device name ("CONOUT$" or "CONIN$"), makes it
// the process's std handle (so child processes and C code see it too) and
// returns it as a file.
func openConsole(name string, std uint32, fileName string) *os.File {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return nil
	}
	_ = windows.SetStdHandle(std, h)
	return os.NewFile(uintptr(h), fileName)
}
