//go:build !nowindow

package main

import (
	"fmt"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"echotray/app"
	"echotray/app/cli"
	"echotray/app/ipc"
	"echotray/app/ui"
	"echotray/assets"
	"echotray/internal/termtext"
)

// runWindow runs `echotray window`: the only place a Fyne app is created.
// It logs to a file of its own next to the core's.
func runWindow(env cli.Env, args []string) int {
	w, code, ok := cli.ParseWindow(args, env)
	if !ok {
		return code
	}
	p, code := cli.StartProcess(env, w.LogLevel, cli.WindowLogName)
	if p == nil {
		return code
	}
	defer p.Close()
	fyneapp.SetMetadata(fyne.AppMetadata{ID: env.Info.ID, Name: env.Info.Name, Version: env.Info.Version,
		Build: env.Info.Build, Icon: fyne.NewStaticResource(assets.AppIconName, assets.AppIconPNG), Migrations: env.Info.Migrations})
	a := fyneapp.NewWithID(env.Info.ID)
	socket, err := app.InstanceSocketPath()
	if err == nil {
		err = ui.Run(a, ui.Options{
			Info: env.Info, Config: p.Config, ConfigErr: p.ConfigErr, Logger: p.Logs.Logger, Redactor: p.Logs.Redactor,
			LogPath: p.Logs.Path, Socket: socket,
			Show: ipc.Message{Op: ipc.OpShow, Window: w.Show, Entry: w.Entry, Notice: w.Notice},
		})
	}
	if err != nil {
		// Stderr gets the plain sentence only; the log file the record.
		p.Logs.Logger.Info("window process ends", "err", err)
		fmt.Fprintln(env.Stderr, termtext.Clean(app.Sentence(err.Error()), termtext.Lines))
		return cli.ExitError
	}
	return cli.ExitOK
}
