// Package devstack runs the stack every EchoTray integration test and the demo
// use, on loopback only: the real Soketi server from npm (this file's package),
// a Laravel stand-in (devstack/laravel), a signed Pusher HTTP API publisher
// (devstack/publish) and an event generator (devstack/generator).
//
// Soketi is installed into devstack/node by `npm ci` (`make deps`); StartSoketi
// starts it on a free port with generated credentials and stops it cleanly,
// killing its whole process group so that no node process outlives a test.
package devstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// NodeDirEnv names the environment variable that overrides NodeDir.
const NodeDirEnv = "ECHOTRAY_NODE_DIR"

// soketiScript is Soketi's entry point, relative to NodeDir.
const soketiScript = "node_modules/@soketi/soketi/bin/server.js"

// NodeDir returns the absolute path of devstack/node, the npm project holding
// Soketi and the pusher SDKs. $ECHOTRAY_NODE_DIR overrides it; otherwise it is
// found next to this source file, or under the module root found upwards from
// the working directory. The error says to run `make deps` when the directory
// exists but Soketi is not installed.
func NodeDir() (string, error) {
	var candidates []string
	if env := os.Getenv(NodeDirEnv); env != "" {
		candidates = append(candidates, env)
	} else {
		if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
			candidates = append(candidates, filepath.Join(filepath.Dir(file), "node"))
		}
		if root, err := moduleRoot(); err == nil {
			candidates = append(candidates, filepath.Join(root, "devstack", "node"))
		}
	}
	if len(candidates) == 0 {
		return "", fmt.Errorf("devstack: cannot locate devstack/node: set %s or run from inside the echotray module", NodeDirEnv)
	}
	var tried []string
	for _, dir := range candidates {
		abs, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(abs, "package.json")); err != nil {
			tried = append(tried, abs)
			continue
		}
		if _, err := os.Stat(filepath.Join(abs, filepath.FromSlash(soketiScript))); err != nil {
			return "", fmt.Errorf("devstack: Soketi is not installed in %s (run `make deps`, i.e. `npm ci` in devstack/node): %w", abs, err)
		}
		return abs, nil
	}
	return "", fmt.Errorf("devstack: no devstack/node with a package.json found (tried %s); set %s", strings.Join(tried, ", "), NodeDirEnv)
}

// moduleRoot walks up from the working directory to the go.mod of module echotray.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getwd: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "module echotray") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod of module echotray not found")
		}
		dir = parent
	}
}
