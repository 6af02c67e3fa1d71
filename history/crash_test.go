package history

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"echotray/notify"
)

// helperDBEnv tells TestHelperWriter, run as a child process, where to write.
const helperDBEnv = "ECHOTRAY_TEST_HELPER_DB"

// TestHelperWriter is not a test on its own: TestStoreSurvivesKill runs the
// test binary again with only this test and helperDBEnv set. It then stores
// entries as fast as it can and prints "<id> <n>" after each Add returned,
// until it is killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperDBEnv)
	if path == "" {
		return // run directly: nothing to do
	}
	s, err := Open(path, Options{MaxEntries: -1, MaxAge: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	for n := 0; n < 1_000_000; n++ {
		e := notify.Entry{
			Channel: "tenant.1", Event: "Burst", Type: notify.TypeWarning,
			Title:   fmt.Sprintf("burst %d", n),
			Message: strings.Repeat("payload text ", 10),
			Data:    json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		}
		if _, err := s.Add(context.Background(), &e); err != nil {
			fmt.Fprintln(os.Stderr, "helper: add:", err)
			os.Exit(3)
		}
		// os.Stdout is unbuffered: the line leaves before the next Add.
		if _, err := fmt.Fprintf(os.Stdout, "%d %d\n", e.ID, n); err != nil {
			os.Exit(4) // the parent is gone
		}
	}
	os.Exit(5) // never killed: the parent failed
}

// TestStoreSurvivesKill kills a writer process with SIGKILL in the middle of
// a burst, several times over the same file, and checks that every entry
// whose Add had returned is there, intact, and the file needs no recovery.
func TestStoreSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	committed := map[int64]int{} // id -> n
	for round, killAfter := range []int{1, 150, 700, 2000} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperDBEnv+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		seen, killed := 0, false
		for sc.Scan() {
			id, n, err := parseHelperLine(sc.Text())
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			committed[id] = n
			seen++
			if seen == killAfter && !killed {
				// SIGKILL on Unix, TerminateProcess on Windows: no
				// deferred code, no Close, mid-burst.
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed {
			t.Fatalf("round %d: helper ended after %d entries before being killed: %v\n%s", round, seen, err, stderr.String())
		}
		if err == nil || cmd.ProcessState.Success() {
			t.Fatalf("round %d: helper exited normally; want killed", round)
		}
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 1 {
			t.Fatalf("round %d: helper failed on its own (exit %d): %s", round, ee.ExitCode(), stderr.String())
		}
		t.Logf("round %d: killed after %d printed entries (%d lines read)", round, killAfter, seen)
	}

	s, err := Open(path, Options{MaxEntries: -1, MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Recovered() != "" {
		t.Fatalf("the killed writer's file needed recovery: moved to %s", s.Recovered())
	}
	ctx := context.Background()
	for id, n := range committed {
		e, err := s.Get(ctx, id)
		if err != nil {
			t.Errorf("entry %d (burst %d) lost: %v", id, n, err)
			continue
		}
		if e.Title != fmt.Sprintf("burst %d", n) || string(e.Data) != fmt.Sprintf(`{"n":%d}`, n) {
			t.Errorf("entry %d = %q %s, want burst %d", id, e.Title, e.Data, n)
		}
	}
	total, err := s.Count(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	// At most one Add per round can have committed without its line
	// being printed.
	if total < len(committed) || total > len(committed)+4 {
		t.Errorf("stored %d entries, printed %d", total, len(committed))
	}
	checkFTS(t, s)
	t.Logf("%d printed entries all present (%d stored)", len(committed), total)
}

func parseHelperLine(line string) (id int64, n int, err error) {
	a, b, ok := strings.Cut(line, " ")
	if !ok {
		return 0, 0, fmt.Errorf("bad helper line %q", line)
	}
	id, err = strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("bad helper line %q: %w", line, err)
	}
	n, err = strconv.Atoi(b)
	if err != nil {
		return 0, 0, fmt.Errorf("bad helper line %q: %w", line, err)
	}
	return id, n, nil
}
