package laravelapp

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestDirFindsTheApp(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"artisan", "public/index.php", "vendor/autoload.php", "routes/channels.php", "bootstrap/app.php"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	t.Setenv(DirEnv, t.TempDir())
	if _, err := Dir(); err == nil || !strings.Contains(err.Error(), DirEnv) {
		t.Fatalf("Dir with an empty %s: %v", DirEnv, err)
	}
}

// TestPHPSyntax parses every PHP file of the app where PHP is installed.
func TestPHPSyntax(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not installed (make deps installs it)")
	}
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".php") || d.Name() == "artisan") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 40 {
		t.Fatalf("only %d PHP files under %s", len(files), dir)
	}
	// One PHP process parses them all (php -l takes one file at a time).
	const lint = `$bad = 0; foreach (array_slice($argv, 1) as $f) { try { token_get_all(file_get_contents($f), TOKEN_PARSE); } ` +
		`catch (ParseError $e) { echo $f, ":", $e->getLine(), ": ", $e->getMessage(), "\n"; $bad = 1; } } exit($bad);`
	if out, err := exec.Command(php, append([]string{"-r", lint, "--"}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("PHP syntax errors: %v\n%s", err, out)
	}
}

// TestEventClasses checks that app/Events has a class for each of the
// seed's 18 events and nothing else broadcastable.
func TestEventClasses(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "app", "Events"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".php")
		switch name {
		case "PlatformEvent", "TenantEvent", "UserEvent", "SystemAdminEvent": // bases
			continue
		}
		got = append(got, name)
	}
	want := []string{"AccountActivated", "AccountSuspended", "HotspotUserCreated", "HotspotUserExpired",
		"PasswordChanged", "PaymentCompleted", "PaymentFailed", "ProfileUpdated", "SystemAlert",
		"SystemNotification", "TenantApproved", "TenantCreated", "TenantRegistered", "TenantSuspended",
		"TenantUpdated", "UserCreated", "UserDeleted", "UserUpdated"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("event classes %v, want %v", got, want)
	}
}

func TestProcHelpers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	self := os.Getpid()
	if !alive(self, -1) {
		t.Fatal("this process is not alive")
	}
	if alive(self, self+1) && self+1 != getpgid() {
		t.Fatal("alive ignores the process group")
	}
	if !slices.Contains(groupPIDs(getpgid()), self) {
		t.Fatalf("groupPIDs(%d) = %v lacks this process", getpgid(), groupPIDs(getpgid()))
	}
	if alive(1<<30, -1) {
		t.Fatal("a PID that cannot exist is alive")
	}
}

// TestSweepOrphans: processes whose owner (the Go process that started
// them) is gone are killed; those of a live owner are left alone.
func TestSweepOrphans(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	start := func(owner int) *exec.Cmd {
		cmd := exec.Command("sleep", "30")
		cmd.Env = append(os.Environ(), ownerEnv+"="+strconv.Itoa(owner))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	orphan := start(dead.Process.Pid)
	owned := start(os.Getppid()) // a live owner other than this process
	killed := sweepOrphans()
	if !slices.Contains(killed, orphan.Process.Pid) || slices.Contains(killed, owned.Process.Pid) {
		t.Fatalf("killed %v; orphan %d, owned %d", killed, orphan.Process.Pid, owned.Process.Pid)
	}
	if err := orphan.Wait(); err == nil {
		t.Fatal("the orphan exited normally")
	}
}

// TestBackendDocSnippets keeps docs/backend.md honest: every PHP snippet in
// it is copied verbatim from a file of this app, the app the tests run.
func TestBackendDocSnippets(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "..", "..", "docs", "backend.md"))
	if err != nil {
		t.Skipf("docs/backend.md: %v", err)
	}
	var sources []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".php") {
			b, _ := os.ReadFile(p)
			sources = append(sources, string(b))
		}
		return nil
	})
	blocks := regexp.MustCompile("(?s)```php\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 10 {
		t.Fatalf("only %d PHP snippets in docs/backend.md", len(blocks))
	}
	for _, b := range blocks {
		snippet := strings.TrimRight(b[1], "\n")
		if !slices.ContainsFunc(sources, func(s string) bool { return strings.Contains(s, snippet) }) {
			t.Errorf("docs/backend.md snippet is not in any file of %s:\n%s", dir, snippet)
		}
	}
}
