package devstack

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNodeDirOverride(t *testing.T) {
	empty := t.TempDir()
	t.Setenv(NodeDirEnv, empty)
	if _, err := NodeDir(); err == nil || !strings.Contains(err.Error(), NodeDirEnv) {
		t.Errorf("dir without package.json: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(empty, "package.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NodeDir(); err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("dir without node_modules: err = %v, want a hint to run make deps", err)
	}
	script := filepath.Join(empty, filepath.FromSlash(soketiScript))
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir, err := NodeDir(); err != nil || dir != empty {
		t.Errorf("NodeDir = %s, %v; want %s", dir, err, empty)
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatalf("port %d from FreePort is not free: %v", p, err)
	}
	ln.Close()
	// Outside the ephemeral range, where outgoing connections and listeners
	// on port 0 cannot take it before the server binds.
	if lo, hi := freePortRange(); p < lo || p >= hi {
		t.Errorf("FreePort = %d, want in [%d, %d)", p, lo, hi)
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if start, _ := strconv.Atoi(strings.Fields(string(b))[0]); p >= start {
			t.Errorf("FreePort = %d, inside the ephemeral range starting at %d", p, start)
		}
	}
}

func TestTail(t *testing.T) {
	tl := NewTail(8)
	for _, s := range []string{"abc", "defgh", "ijk"} {
		if n, err := tl.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := tl.String(); got != "defghijk" {
		t.Errorf("tail = %q, want the last 8 bytes", got)
	}
}
