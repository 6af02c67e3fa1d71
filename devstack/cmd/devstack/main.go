// Command devstack runs EchoTray's development stack on loopback: the real
// Soketi (from devstack/node), the Laravel stand-in with its seeded users and
// an event generator publishing every seed event through the signed Pusher
// HTTP API. It prints the settings an EchoTray client needs and can write
// them as JSON (--state). Ctrl-C or SIGTERM stops everything it started.
//
//	go run ./devstack/cmd/devstack                       # Soketi :6001, stand-in :8000, an event every 3 s
//	go run ./devstack/cmd/devstack --rate 2 --names mixed
//	go run ./devstack/cmd/devstack --from state.json --once   # publish one of every event into a running stack
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"echotray/devstack"
	"echotray/devstack/generator"
	"echotray/devstack/laravel"
	"echotray/devstack/publish"
)

// State is what --state writes and --from reads: everything a client or a
// script needs to use the running stack.
type State struct {
	Server        string      `json:"server"`         // stand-in base URL
	BroadcastAuth string      `json:"broadcast_auth"` // channel authorisation endpoint
	PusherKey     string      `json:"pusher_key"`
	PusherHost    string      `json:"pusher_host"`
	PusherPort    int         `json:"pusher_port"`
	PusherScheme  string      `json:"pusher_scheme"`
	PusherCluster string      `json:"pusher_cluster"`
	PusherAppID   string      `json:"pusher_app_id"`
	PusherSecret  string      `json:"pusher_secret"` // for publishing (scripts); never give it to the client
	SoketiURL     string      `json:"soketi_url"`    // HTTP API base
	WSURL         string      `json:"ws_url"`
	PID           int         `json:"pid"`                  // of this devstack process
	SoketiPID     int         `json:"soketi_pid,omitempty"` // Soketi's process (and group) id, when started here
	Users         []stateUser `json:"users,omitempty"`
}

type stateUser struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
	TenantID *int64 `json:"tenant_id"`
	Role     string `json:"role"`
}

type options struct {
	soketiPort     int
	appID, key     string
	secret         string
	noSoketi       bool
	soketiHost     string
	soketiLog      string
	serverAddr     string
	noServer       bool
	noGenerator    bool
	rate           float64
	names          string
	tenants        string
	seed           uint64
	once           bool
	state          string
	from           string
	tokenTTL       time.Duration
	accessToken    bool
	wrapLogin      bool
	wrapUser       bool
	badCreds422    bool
	broadcastPath  string
	shutdownGrace  time.Duration
	verbose, quiet bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code. Cancelling ctx stops
// everything it started.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "devstack:", err)
		return 2
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	} else if o.quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, o, log, stdout); err != nil {
		log.Error("devstack failed", "err", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.soketiPort, "soketi-port", 6001, "Soketi port (0 = a free one)")
	fs.StringVar(&o.appID, "app-id", "local-id", "Pusher app id")
	fs.StringVar(&o.key, "key", "local-key", "Pusher app key")
	fs.StringVar(&o.secret, "secret", "", "Pusher app secret (default: generated; required with --no-soketi)")
	fs.BoolVar(&o.noSoketi, "no-soketi", false, "do not start Soketi; use the one at --soketi-host:--soketi-port with --app-id/--key/--secret")
	fs.StringVar(&o.soketiHost, "soketi-host", "127.0.0.1", "host of an external Soketi (with --no-soketi)")
	fs.StringVar(&o.soketiLog, "soketi-log", "", "append Soketi's output to this file (default: discarded)")
	fs.DurationVar(&o.shutdownGrace, "soketi-grace", time.Second, "Soketi's pause between telling clients 4200 and exiting")
	fs.StringVar(&o.serverAddr, "server", "127.0.0.1:8000", "Laravel stand-in listen address (port 0 = a free one)")
	fs.BoolVar(&o.noServer, "no-server", false, "do not start the Laravel stand-in")
	fs.BoolVar(&o.noGenerator, "no-generator", false, "do not publish events")
	fs.Float64Var(&o.rate, "rate", generator.DefaultRate, "events per second")
	fs.StringVar(&o.names, "names", "namespaced", `event names: "namespaced" (App\Events\X), "bare" (broadcastAs) or "mixed"`)
	fs.StringVar(&o.tenants, "tenants", "1,2", "tenant ids to publish tenant events to")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed for the generator (0 = random)")
	fs.BoolVar(&o.once, "once", false, "publish one of every event, then exit")
	fs.StringVar(&o.state, "state", "", "write the settings as JSON to this file (removed on exit)")
	fs.StringVar(&o.from, "from", "", "use the running stack described by this --state file (implies --no-soketi --no-server)")
	fs.DurationVar(&o.tokenTTL, "token-ttl", 0, "stand-in token lifetime (0 = no expiry)")
	fs.BoolVar(&o.accessToken, "access-token", false, `stand-in login answers "access_token" instead of "token"`)
	fs.BoolVar(&o.wrapLogin, "wrap-login", false, `stand-in login answers {"success":true,"data":{...}}`)
	fs.BoolVar(&o.wrapUser, "wrap-user", false, `stand-in user objects are {"data": user}`)
	fs.BoolVar(&o.badCreds422, "bad-credentials-422", false, "stand-in refuses bad credentials with 422 instead of 401")
	fs.StringVar(&o.broadcastPath, "broadcast-auth-path", laravel.DefaultBroadcastAuthPath, "stand-in channel authorisation path")
	fs.BoolVar(&o.verbose, "v", false, "log every stand-in request and debug details")
	fs.BoolVar(&o.quiet, "q", false, "log warnings and errors only")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: devstack [flags]\n\nRuns Soketi, the Laravel stand-in and the event generator on loopback until interrupted.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch o.names {
	case "namespaced", "bare", "mixed":
	default:
		return o, fmt.Errorf("--names %q: want namespaced, bare or mixed", o.names)
	}
	if o.rate <= 0 {
		return o, fmt.Errorf("--rate %v: must be positive", o.rate)
	}
	if o.from != "" {
		o.noSoketi, o.noServer = true, true
	}
	if o.noSoketi && o.from == "" && o.secret == "" && !(o.noGenerator && o.noServer) {
		return o, errors.New("--no-soketi needs --secret (or --from STATE)")
	}
	return o, nil
}

func parseTenants(s string) ([]int64, error) {
	var ids []int64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--tenants: bad tenant id %q", f)
		}
		ids = append(ids, n)
	}
	if len(ids) == 0 {
		return nil, errors.New("--tenants: no tenant ids")
	}
	return ids, nil
}

// serve starts what o asks for and runs until ctx ends (or, with --once,
// until every sample is published).
func serve(ctx context.Context, o options, log *slog.Logger, stdout io.Writer) error {
	tenants, err := parseTenants(o.tenants)
	if err != nil {
		return err
	}
	st := State{
		PusherKey: o.key, PusherHost: o.soketiHost, PusherPort: o.soketiPort, PusherScheme: "http",
		PusherCluster: "mt1", PusherAppID: o.appID, PusherSecret: o.secret, PID: os.Getpid(),
	}
	if o.from != "" {
		if st, err = readState(o.from); err != nil {
			return err
		}
		st.PID = os.Getpid()
	}

	// Soketi.
	var soketi *devstack.Soketi
	if !o.noSoketi {
		opts := devstack.SoketiOptions{Port: o.soketiPort, AppID: o.appID, Key: o.key, Secret: o.secret, ShutdownGrace: o.shutdownGrace}
		if o.soketiLog != "" {
			f, err := os.OpenFile(o.soketiLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				return fmt.Errorf("soketi log: %w", err)
			}
			defer f.Close()
			opts.Log = f
		}
		log.Info("starting Soketi", "port", o.soketiPort)
		startCtx, cancel := context.WithTimeout(ctx, devstack.DefaultStartTimeout)
		soketi, err = devstack.StartSoketi(startCtx, opts)
		cancel()
		if err != nil {
			return err
		}
		defer func() {
			log.Info("stopping Soketi", "pid", soketi.PID())
			if err := soketi.Stop(); err != nil {
				log.Error("stop Soketi", "err", err)
				return
			}
			log.Info("Soketi stopped")
		}()
		log.Info("Soketi is up", "url", soketi.HTTPURL(), "pid", soketi.PID(), "app_id", soketi.AppID, "key", soketi.Key)
		st.PusherHost, st.PusherPort, st.PusherAppID, st.PusherKey, st.PusherSecret = soketi.Host, soketi.Port, soketi.AppID, soketi.Key, soketi.Secret
		st.SoketiPID = soketi.PID()
	}
	st.SoketiURL = "http://" + net.JoinHostPort(st.PusherHost, strconv.Itoa(st.PusherPort))
	st.WSURL = "ws://" + net.JoinHostPort(st.PusherHost, strconv.Itoa(st.PusherPort)) + "/app/" + st.PusherKey + "?protocol=7"

	// The Laravel stand-in.
	users := laravel.DefaultUsers()
	if !o.noServer {
		reqLog := slog.New(slog.DiscardHandler)
		if o.verbose {
			reqLog = log.With("component", "laravel")
		}
		srv := laravel.New(laravel.Config{
			AppKey: st.PusherKey, AppSecret: st.PusherSecret, Users: users, Logger: reqLog, TokenTTL: o.tokenTTL,
			Paths:                laravel.Paths{BroadcastAuth: o.broadcastPath},
			Shape:                laravel.Shape{AccessToken: o.accessToken, WrapLogin: o.wrapLogin, WrapUser: o.wrapUser},
			BadCredentialsStatus: map[bool]int{true: 422, false: 401}[o.badCreds422],
		})
		base, err := srv.Start(o.serverAddr)
		if err != nil {
			return err
		}
		defer func() {
			log.Info("stopping the Laravel stand-in")
			if err := srv.Close(); err != nil {
				log.Error("stop the stand-in", "err", err)
			}
		}()
		log.Info("Laravel stand-in is up", "url", base)
		st.Server = base
		st.BroadcastAuth = base + o.broadcastPath
		st.Users = nil
		for _, u := range users {
			st.Users = append(st.Users, stateUser{ID: u.ID, Name: u.Name, Email: u.Email, Password: u.Password, TenantID: u.TenantID, Role: u.Role})
		}
	}

	if !o.once {
		printSettings(stdout, st, !o.noServer)
	}
	if o.state != "" {
		if err := writeState(o.state, st); err != nil {
			return err
		}
		defer os.Remove(o.state)
		log.Info("settings written", "file", o.state)
	}

	// The generator.
	gen := &generator.Generator{
		Publisher:  &publish.Publisher{BaseURL: st.SoketiURL, AppID: st.PusherAppID, Key: st.PusherKey, Secret: st.PusherSecret},
		Tenants:    tenants,
		Users:      users,
		Rate:       o.rate,
		Namespaced: o.names == "namespaced",
		Mixed:      o.names == "mixed",
		Logger:     log.With("component", "generator"),
	}
	if o.seed != 0 {
		gen.Rand = rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15))
	}
	if o.once {
		events, err := gen.PublishSamples(ctx)
		if err != nil {
			return fmt.Errorf("publish samples: %w", err)
		}
		log.Info("published one of every event", "count", len(events))
		return nil
	}
	if !o.noGenerator {
		log.Info("publishing events", "rate_per_s", o.rate, "names", o.names, "tenants", tenants)
		genCtx, cancelGen := context.WithCancel(ctx)
		genDone := make(chan struct{})
		go func() {
			defer close(genDone)
			_ = gen.Run(genCtx)
		}()
		defer func() { // stop publishing before Soketi goes away
			cancelGen()
			<-genDone
		}()
	}

	if soketi == nil {
		<-ctx.Done()
		log.Info("interrupted; shutting down")
		return nil
	}
	// Watch Soketi: if it dies, say so and stop rather than run half a stack.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			log.Info("interrupted; shutting down")
			return nil
		case <-tick.C:
			if !soketi.Running() {
				return errors.New("soketi exited unexpectedly (see --soketi-log)")
			}
		}
	}
}

func printSettings(w io.Writer, st State, withServer bool) {
	fmt.Fprintln(w, "EchoTray dev stack is running (Ctrl-C stops it).")
	if withServer {
		fmt.Fprintf(w, "  server (Laravel stand-in)  %s\n", st.Server)
		fmt.Fprintf(w, "  channel auth endpoint      %s\n", st.BroadcastAuth)
	}
	fmt.Fprintf(w, "  pusher key                 %s\n", st.PusherKey)
	fmt.Fprintf(w, "  pusher host                %s\n", st.PusherHost)
	fmt.Fprintf(w, "  pusher port                %d\n", st.PusherPort)
	fmt.Fprintf(w, "  pusher scheme              %s\n", st.PusherScheme)
	fmt.Fprintf(w, "  pusher cluster             %s\n", st.PusherCluster)
	fmt.Fprintf(w, "  pusher app id / secret     %s / %s (for publishing only)\n", st.PusherAppID, st.PusherSecret)
	if withServer {
		fmt.Fprintln(w, "  users (password \"password\"):")
		for _, u := range st.Users {
			where := "system admin, no tenant"
			if u.TenantID != nil {
				where = fmt.Sprintf("tenant %d, %s", *u.TenantID, u.Role)
			}
			fmt.Fprintf(w, "    %-22s %s (id %d, %s)\n", u.Email, u.Name, u.ID, where)
		}
	}
}

// writeState writes st as indented JSON atomically, so a poller never reads
// half a file.
func writeState(path string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".devstack-state-*")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("state: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

func readState(path string) (State, error) {
	var st State
	b, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("--from: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("--from %s: %w", path, err)
	}
	if st.PusherAppID == "" || st.PusherKey == "" || st.PusherSecret == "" || st.PusherPort == 0 {
		return st, fmt.Errorf("--from %s: no Soketi credentials in it", path)
	}
	if st.PusherHost == "" {
		st.PusherHost = "127.0.0.1"
	}
	return st, nil
}
