//go:build race

package ui

// raceEnabled reports whether the race detector is on: it slows code
// several times over, so timing targets are not checked.
const raceEnabled = true
