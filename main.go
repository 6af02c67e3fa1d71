// Command echotray is a desktop tray notifier for the hotspot billing
// platform: it signs in against the Laravel API, listens on the user's
// realtime channels and turns every event into a desktop notification.
//
// Without a command it starts the core: the tray process, which needs no
// GUI toolkit. `echotray window` is the process the core starts for its
// windows (the only one with a Fyne app). The commands login, watch,
// history, status and logout (package app/cli) run headless.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"echotray/app"
	"echotray/app/cli"
	"echotray/internal/initlog"
)

// fyneAppToml is the packaging metadata; name, ID and version come from it
// so that --version, the About box and the packages always agree.
//
//go:embed FyneApp.toml
var fyneAppToml []byte

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses the root flags and runs the core, the window process or a
// command; it returns the exit code.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	// What libraries logged while initialising (Fyne's locale complaints)
	// goes to the log file, not in front of every command's output.
	startup := initlog.Restore()
	info, err := app.ParseBuildInfo(fyneAppToml)
	if err != nil {
		cli.PrintError(stderr, err)
		return cli.ExitError
	}
	root := flag.NewFlagSet("echotray", flag.ContinueOnError)
	root.SetOutput(stderr)
	version := root.Bool("version", false, "print the name, version and app ID, then exit")
	hidden := root.Bool("hidden", false, "start the tray app without opening a window (used at login)")
	logLevel := root.String("log-level", "", "log level: debug, info, warn or error (default from the config, else info)")
	root.Usage = func() {
		cli.PrintUsage(stderr)
		fmt.Fprintln(stderr, "\nFlags of the tray app:")
		root.PrintDefaults()
	}
	if err := root.Parse(args); err != nil {
		return cli.ParseExit(err)
	}
	if *version {
		fmt.Fprintln(stdout, info)
		return cli.ExitOK
	}
	env := cli.Env{Info: info, LogLevel: *logLevel, Startup: startup, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	rest := root.Args()
	switch {
	case len(rest) == 0:
		return runCore(env, *hidden)
	case rest[0] == "window":
		return runWindow(env, rest[1:])
	}
	return cli.Main(rest, env)
}

// runCore runs the tray process. It creates no Fyne app: windows live in
// the window process the core starts on demand.
func runCore(env cli.Env, hidden bool) int {
	p, code := cli.StartProcess(env, env.LogLevel, "")
	if p == nil {
		return code
	}
	defer p.Close()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	err := app.RunCore(app.CoreOptions{
		Info: env.Info, Config: p.Config, ConfigErr: p.ConfigErr, Logger: p.Logs.Logger, Redactor: p.Logs.Redactor,
		LogLevel: env.LogLevel, Hidden: hidden || p.Config.Effective().StartHidden, Stop: stop,
	})
	if err != nil {
		p.Logs.Logger.Error("tray app ended with an error", "err", err)
		cli.PrintError(env.Stderr, err)
		return cli.ExitError
	}
	return cli.ExitOK
}
