// Package laravelapp runs the devstack's real Laravel application (the PHP
// app in this directory: Laravel 8 from Debian's php-laravel-framework, an
// API-token guard, a Pusher-protocol broadcaster, the seed's 18 events and
// database+broadcast notifications) with PHP's built-in server, against a
// devstack Soketi.
//
// Each App gets its own storage directory (SQLite database, cache, compiled
// views) in a temporary directory, migrated and seeded with the users of
// devstack/laravel (same ids, e-mails, tenants, roles, password "password").
// Test hooks (Fire, Notify, NotificationRows, MarkReadOnWeb) reach the app
// over HTTP under /_devstack/, guarded by a random secret per run.
//
// PHP's server forks PHP_CLI_SERVER_WORKERS workers that outlive their
// parent; Stop ends the whole process group and every worker by PID, and
// checks that none is left. Workers orphaned by a Go process that was
// killed outright are killed by the next Start.
package laravelapp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"echotray/devstack"
)

// Defaults of the runner.
const (
	// DefaultStartTimeout bounds Start when ctx has no deadline.
	DefaultStartTimeout = 60 * time.Second
	// Workers is the number of PHP server workers (PHP_CLI_SERVER_WORKERS),
	// so that /broadcasting/auth requests run in parallel.
	Workers = 4
	// DirEnv names a directory holding the Laravel app, overriding the one
	// next to this package's source.
	DirEnv = "ECHOTRAY_LARAVELAPP_DIR"
	// SecretHeader carries the test hooks' secret.
	SecretHeader = "X-Devstack-Secret"
	// storagePrefix starts the name of each run's storage directory (in
	// os.TempDir()).
	storagePrefix = "echotray-laravelapp-"
	// EventNamespace is the prefix of the events' broadcast names.
	EventNamespace = `App\Events\`
	// NotificationEvent is the event name of a broadcast Laravel notification.
	NotificationEvent = `Illuminate\Notifications\Events\BroadcastNotificationCreated`
	// NotificationNamespace is where a Notify class without a namespace lives.
	NotificationNamespace = `App\Notifications\`
)

// Files the Debian packages install that the app's vendor/autoload.php loads.
var debianAutoloaders = []string{
	"/usr/share/php/Illuminate/autoload.php", // php-laravel-framework
	"/usr/share/php/GuzzleHttp/autoload.php", // php-guzzlehttp-guzzle
}

// Options configures Start.
type Options struct {
	// Soketi is where events are broadcast (its Host, Port, AppID, Key and
	// Secret); required.
	Soketi *devstack.Soketi
	// Port is the HTTP port; 0 picks a free one.
	Port int
	// Log receives PHP's output (server log lines and Laravel's log); nil
	// discards it.
	Log io.Writer
	// NoNotificationRoutes hides /api/notifications and
	// /api/notifications/{id}/read (a backend without catch-up).
	NoNotificationRoutes bool
	// NoDiscovery hides /api/broadcasting/config.
	NoDiscovery bool
	// AuthPerMinute limits /broadcasting/auth requests per user and minute
	// (429 with Retry-After beyond); 0 means the app's default, 600.
	AuthPerMinute int
}

// NotificationRow is one row of Laravel's notifications table.
type NotificationRow struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Data      map[string]any `json:"data"`
	ReadAt    *time.Time     `json:"read_at"`
	CreatedAt time.Time      `json:"created_at"`
}

// App is a running (or stopped) Laravel app. Methods are safe for
// concurrent use.
type App struct {
	url     string
	secret  string
	storage string
	client  *http.Client
	cmd     *exec.Cmd
	out     *devstack.Tail
	done    chan struct{} // closed when the server's main process has exited
	waitErr error         // valid once done is closed

	stopOnce sync.Once
	stopErr  error
}

var availability = sync.OnceValue(func() error {
	if err := platformSupported(); err != nil {
		return err
	}
	php, err := exec.LookPath("php")
	if err != nil {
		return fmt.Errorf("laravelapp: php is not installed (run make deps: Debian's php-cli): %w", err)
	}
	for _, f := range debianAutoloaders {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("laravelapp: %s is missing (run make deps: Debian's php-laravel-framework and php-guzzlehttp-guzzle): %w", f, err)
		}
	}
	out, err := exec.Command(php, "-r", `foreach (["pdo_sqlite", "curl", "mbstring"] as $e) { if (!extension_loaded($e)) { echo $e, " "; } }`).CombinedOutput()
	if err != nil {
		return fmt.Errorf("laravelapp: php -r: %w: %s", err, out)
	}
	if missing := strings.TrimSpace(string(out)); missing != "" {
		return fmt.Errorf("laravelapp: PHP extensions missing: %s (run make deps: php-sqlite3, php-curl)", missing)
	}
	_, err = Dir()
	return err
})

// Available reports whether PHP and the Debian Laravel packages are
// installed and the app's source is found; nil means Start can run.
func Available() error { return availability() }

// Dir returns the Laravel app's directory: $ECHOTRAY_LARAVELAPP_DIR, or
// the directory of this package's source.
func Dir() (string, error) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok || !filepath.IsAbs(file) {
			return "", fmt.Errorf("laravelapp: cannot locate the app's source; set %s", DirEnv)
		}
		dir = filepath.Dir(file)
	}
	if _, err := os.Stat(filepath.Join(dir, "artisan")); err != nil {
		return "", fmt.Errorf("laravelapp: no Laravel app in %s (set %s): %w", dir, DirEnv, err)
	}
	return dir, nil
}

// Start migrates and seeds a fresh database, starts PHP's built-in server
// with Workers workers and returns once the app answers. ctx bounds the
// start only (DefaultStartTimeout if it has no deadline). On error nothing
// is left running and the error carries PHP's output.
func Start(ctx context.Context, o Options) (*App, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if o.Soketi == nil {
		return nil, errors.New("laravelapp: Options.Soketi is required")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStartTimeout)
		defer cancel()
	}
	if killed := sweepOrphans(); len(killed) > 0 && o.Log != nil {
		fmt.Fprintf(o.Log, "laravelapp: killed php processes %v left by a runner that died\n", killed)
	}
	dir, _ := Dir()
	storage, err := os.MkdirTemp("", storagePrefix)
	if err != nil {
		return nil, fmt.Errorf("laravelapp: storage directory: %w", err)
	}
	for _, d := range []string{"app", "bootstrap-cache", "framework/cache/data", "framework/views", "logs"} {
		if err := os.MkdirAll(filepath.Join(storage, d), 0o700); err != nil {
			os.RemoveAll(storage)
			return nil, fmt.Errorf("laravelapp: storage directory: %w", err)
		}
	}
	a := &App{secret: devstack.RandHex(24), storage: storage, client: &http.Client{Timeout: 15 * time.Second}}
	if err := a.start(ctx, dir, o); err != nil {
		os.RemoveAll(storage)
		return nil, err
	}
	return a, nil
}

func (a *App) start(ctx context.Context, dir string, o Options) error {
	db := filepath.Join(a.storage, "database.sqlite")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		return fmt.Errorf("laravelapp: database file: %w", err)
	}
	env := a.env(o, db)
	migrate := exec.CommandContext(ctx, "php", "artisan", "migrate", "--seed", "--force", "--no-interaction")
	migrate.Dir, migrate.Env = dir, env
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("laravelapp: php artisan migrate --seed: %w; output:\n%s", err, out)
	}
	for attempt := 1; ; attempt++ {
		port := o.Port
		if port == 0 {
			p, err := devstack.FreePort()
			if err != nil {
				return err
			}
			port = p
		}
		err := a.serve(ctx, dir, env, port, o.Log)
		if err == nil {
			return nil
		}
		if o.Port != 0 || attempt == 5 || !strings.Contains(a.out.String(), "Address already in use") {
			return err
		}
	}
}

// env is the app's environment: the caller's, minus anything the app reads,
// plus the run's settings.
func (a *App) env(o Options, db string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "APP_"), strings.HasPrefix(name, "DB_"), strings.HasPrefix(name, "PUSHER_"),
			strings.HasPrefix(name, "DEVSTACK_"), strings.HasPrefix(name, "LOG_"), strings.HasPrefix(name, "CACHE_"),
			strings.HasPrefix(name, "SESSION_"), strings.HasPrefix(name, "QUEUE_"), strings.HasPrefix(name, "BROADCAST_"),
			name == "PHP_CLI_SERVER_WORKERS", name == ownerEnv:
			continue
		}
		env = append(env, kv)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s := o.Soketi
	env = append(env,
		"APP_ENV=local",
		"APP_DEBUG=false",
		"APP_KEY=base64:"+base64.StdEncoding.EncodeToString(key),
		"APP_STORAGE="+a.storage,
		"DB_DATABASE="+db,
		"PUSHER_APP_ID="+s.AppID,
		"PUSHER_APP_KEY="+s.Key,
		"PUSHER_APP_SECRET="+s.Secret,
		"PUSHER_HOST="+s.Host,
		"PUSHER_PORT="+strconv.Itoa(s.Port),
		"PUSHER_SCHEME=http",
		"PUSHER_APP_CLUSTER=mt1",
		"DEVSTACK_SECRET="+a.secret,
		"PHP_CLI_SERVER_WORKERS="+strconv.Itoa(Workers),
		ownerEnv+"="+strconv.Itoa(os.Getpid()),
	)
	if o.NoNotificationRoutes {
		env = append(env, "DEVSTACK_NO_NOTIFICATION_ROUTES=true")
	}
	if o.NoDiscovery {
		env = append(env, "DEVSTACK_NO_DISCOVERY=true")
	}
	if o.AuthPerMinute > 0 {
		env = append(env, "DEVSTACK_BROADCAST_AUTH_PER_MINUTE="+strconv.Itoa(o.AuthPerMinute))
	}
	return env
}

// serve starts php -S on port and waits until GET /up answers.
func (a *App) serve(ctx context.Context, dir string, env []string, port int, log io.Writer) error {
	a.url = "http://127.0.0.1:" + strconv.Itoa(port)
	a.out = devstack.NewTail(16 << 10)
	var w io.Writer = a.out
	if log != nil {
		w = io.MultiWriter(a.out, log)
	}
	cmd := exec.Command("php", "-S", "127.0.0.1:"+strconv.Itoa(port), "-t", "public", "public/index.php")
	cmd.Dir = dir
	cmd.Env = append(env, "APP_URL="+a.url)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("laravelapp: start php -S: %w", err)
	}
	a.cmd, a.done, a.waitErr = cmd, make(chan struct{}), nil
	go func() {
		a.waitErr = cmd.Wait()
		close(a.done)
	}()
	if err := a.waitReady(ctx); err != nil {
		_ = a.kill()
		return fmt.Errorf("laravelapp: php -S on port %d: %w; output:\n%s", port, err, a.out.String())
	}
	return nil
}

func (a *App) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	probe := &http.Client{Timeout: 5 * time.Second}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.url+"/up", nil)
		resp, err := probe.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == "OK" {
				return nil
			}
			err = fmt.Errorf("GET /up: HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-a.done:
			return fmt.Errorf("exited before becoming ready: %v", a.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last probe: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// URL returns the app's base URL, "http://127.0.0.1:port".
func (a *App) URL() string { return a.url }

// PIDs returns the live processes of the server: the main php -S process
// and its workers.
func (a *App) PIDs() []int { return groupPIDs(a.cmd.Process.Pid) }

// Stop stops every process the app started (the server and its workers, by
// process group and by PID), checks that none is left, and removes the
// run's storage directory. It is idempotent.
func (a *App) Stop() error {
	a.stopOnce.Do(func() {
		a.stopErr = a.kill()
		if err := os.RemoveAll(a.storage); err != nil && a.stopErr == nil {
			a.stopErr = fmt.Errorf("laravelapp: remove storage: %w", err)
		}
	})
	return a.stopErr
}

// kill ends the server's process group: SIGTERM, SIGKILL after a second,
// then every PID that was in it, and waits until none is alive.
func (a *App) kill() error {
	leader := a.cmd.Process.Pid
	pids := groupPIDs(leader)
	signalGroup(leader, pids, false)
	select {
	case <-a.done:
	case <-time.After(time.Second):
	}
	signalGroup(leader, pids, true)
	<-a.done
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := groupPIDs(leader)
		for _, p := range pids {
			if alive(p, leader) && !slices.Contains(left, p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("laravelapp: php processes %v still running after stop", left)
		}
		signalGroup(leader, left, true)
		time.Sleep(50 * time.Millisecond)
	}
}

// Fire broadcasts App\Events\<event> (event with or without the namespace)
// with payload, as the platform's code does with broadcast(new Event(...)).
// The event classes add event_id and timestamp when payload lacks them;
// the channel comes from the payload (tenant_id, tenant.id or user.tenant_id
// for tenant events, user.id or user_id for user events; a payload without
// one is an error). PHP encodes an empty object as []. It returns once
// Laravel has handed the event to Soketi.
func (a *App) Fire(ctx context.Context, event string, payload map[string]any) error {
	if payload == nil {
		payload = map[string]any{}
	}
	return a.hook(ctx, http.MethodPost, "/_devstack/events",
		map[string]any{"event": strings.TrimPrefix(event, EventNamespace), "payload": payload}, nil)
}

// Notify sends userID a notification (via database and broadcast) whose
// type is class (App\Notifications\<class> when it has no namespace; empty
// means App\Notifications\PlatformNotification) and whose data is data
// (EchoTray reads title, message and type from it). It returns the
// notification's UUID.
func (a *App) Notify(ctx context.Context, userID int64, class string, data map[string]any) (string, error) {
	if data == nil {
		data = map[string]any{}
	}
	var out struct {
		ID string `json:"id"`
	}
	err := a.hook(ctx, http.MethodPost, "/_devstack/notifications",
		map[string]any{"user_id": userID, "class": class, "data": data}, &out)
	if err == nil && out.ID == "" {
		err = errors.New("laravelapp: notify: no id in the answer")
	}
	return out.ID, err
}

// NotificationRows returns userID's rows of the notifications table, newest
// first.
func (a *App) NotificationRows(ctx context.Context, userID int64) ([]NotificationRow, error) {
	var out struct {
		Data []NotificationRow `json:"data"`
	}
	err := a.hook(ctx, http.MethodGet, "/_devstack/users/"+strconv.FormatInt(userID, 10)+"/notifications", nil, &out)
	return out.Data, err
}

// MarkReadOnWeb marks the notification read as the platform's web UI does
// ($notification->markAsRead()).
func (a *App) MarkReadOnWeb(ctx context.Context, uuid string) error {
	return a.hook(ctx, http.MethodPost, "/_devstack/notifications/"+url.PathEscape(uuid)+"/read", nil, nil)
}

// hook calls a test hook; out, if not nil, receives the JSON answer.
func (a *App) hook(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("laravelapp: %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.url+path, body)
	if err != nil {
		return fmt.Errorf("laravelapp: %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SecretHeader, a.secret)
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("laravelapp: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("laravelapp: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("laravelapp: %s %s: HTTP %d: %s", method, path, resp.StatusCode, truncate(b, 500))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("laravelapp: %s %s: %w", method, path, err)
		}
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
