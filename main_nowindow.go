//go:build nowindow

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"echotray/app"
	"echotray/app/cli"
)

// runWindow in the core-only build (Linux and macOS packages, tag
// nowindow) hands `echotray window …` to the window program installed
// next to it; the core itself starts that program directly.
func runWindow(env cli.Env, args []string) int {
	prog, err := app.WindowProgram()
	if err == nil {
		if self, serr := os.Executable(); serr == nil && sameFile(prog, self) {
			err = fmt.Errorf("the window program %s is not installed", app.WindowExecutable)
		}
	}
	if err != nil {
		cli.PrintError(env.Stderr, errors.New(app.Sentence(err.Error())))
		return cli.ExitError
	}
	cmd := exec.Command(prog, append([]string{"window"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.Stdin, env.Stdout, env.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		cli.PrintError(env.Stderr, errors.New(app.Sentence(err.Error())))
		return cli.ExitError
	}
	return cli.ExitOK
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
