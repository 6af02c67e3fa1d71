// Package initlog holds back what the standard logger prints while the
// program's packages initialise.
//
// Fyne's lang package logs "Error parsing user locale C" from its init
// function whenever LANG is C or POSIX, so every headless command would
// start with three lines of noise on stderr. This package imports only the
// standard library and its import path sorts before fyne.io/..., so (by the
// Go 1.21 package initialisation order) its init runs before Fyne's and
// captures that output; main calls Restore first thing and decides where
// the captured text goes (the log file).
package initlog

import (
	"bytes"
	"log"
	"os"
	"sync"
)

var (
	mu       sync.Mutex
	captured bytes.Buffer
	restored bool
)

type capture struct{}

func (capture) Write(p []byte) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	return captured.Write(p)
}

func init() {
	log.SetOutput(capture{})
}

// Restore points the standard logger back at stderr and returns what was
// logged during initialisation. Later calls return "".
func Restore() string {
	mu.Lock()
	defer mu.Unlock()
	if restored {
		return ""
	}
	restored = true
	log.SetOutput(os.Stderr)
	s := captured.String()
	captured.Reset()
	return s
}
