//go:build !race

package realtime

// raceEnabled is true under the race detector, which makes big floods
// take minutes: tests scale them down.
const raceEnabled = false
