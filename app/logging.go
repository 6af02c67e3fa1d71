package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Log rotation defaults.
const (
	DefaultLogMaxBytes = 5 << 20
	DefaultLogKeep     = 3
)

// redacted replaces a secret in logs and output.
const redacted = "[REDACTED]"

// ParseLevel reads debug, info, warn (or warning) and error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q must be debug, info, warn or error", s)
}

// LogOptions configures SetupLogging.
type LogOptions struct {
	Level       slog.Level // the file's level
	File        string     // log file path; empty means no file
	Stderr      io.Writer  // also log here (CLI commands); nil means not
	StderrLevel slog.Level // the level for Stderr
	MaxBytes    int64      // rotate beyond this size; 0 means DefaultLogMaxBytes
	Keep        int        // rotated files kept; 0 means DefaultLogKeep
	Redactor    *Redactor  // nil means a new one
}

// Logging is the configured logger with its redactor and file.
type Logging struct {
	Logger   *slog.Logger // every record passes the redactor
	Redactor *Redactor    // register the token here while it is held
	Path     string       // the log file, or empty
	file     *RotatingFile
}

// SetupLogging creates the logger: a text log in a rotated file and,
// optionally, on stderr, both behind a redacting handler.
func SetupLogging(opts LogOptions) (*Logging, error) {
	r := opts.Redactor
	if r == nil {
		r = NewRedactor()
	}
	l := &Logging{Redactor: r, Path: opts.File}
	var handlers []slog.Handler
	if opts.File != "" {
		f, err := OpenRotatingFile(opts.File, opts.MaxBytes, opts.Keep)
		if err != nil {
			return nil, err
		}
		l.file = f
		handlers = append(handlers, slog.NewTextHandler(f, &slog.HandlerOptions{Level: opts.Level}))
	}
	if opts.Stderr != nil {
		handlers = append(handlers, slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: opts.StderrLevel}))
	}
	var h slog.Handler
	switch len(handlers) {
	case 0:
		h = slog.DiscardHandler
	case 1:
		h = handlers[0]
	default:
		h = slog.NewMultiHandler(handlers...)
	}
	l.Logger = slog.New(NewRedactingHandler(h, r))
	return l, nil
}

// Close closes the log file.
func (l *Logging) Close() error {
	if l == nil || l.file == nil {
		return nil
	}
	return l.file.Close()
}

// Redactor knows the secrets that must never be written anywhere and masks
// them, and anything that looks like a bearer token. It is safe for
// concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets map[string]int
}

// bearerRE matches an Authorization header value.
var bearerRE = regexp.MustCompile(`(?i)(bearer\s+)[^\s"',;\]\}]+`)

// NewRedactor returns a redactor with no secrets.
func NewRedactor() *Redactor { return &Redactor{secrets: make(map[string]int)} }

// Add registers a secret. Adds and Removes are counted.
func (r *Redactor) Add(secret string) {
	if r == nil || secret == "" {
		return
	}
	r.mu.Lock()
	r.secrets[secret]++
	r.mu.Unlock()
}

// Remove forgets a secret added before.
func (r *Redactor) Remove(secret string) {
	if r == nil || secret == "" {
		return
	}
	r.mu.Lock()
	if r.secrets[secret] <= 1 {
		delete(r.secrets, secret)
	} else {
		r.secrets[secret]--
	}
	r.mu.Unlock()
}

// Redact masks every registered secret and every "Bearer …" value in s.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return bearerRE.ReplaceAllString(s, "${1}"+redacted)
	}
	r.mu.RLock()
	for secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	r.mu.RUnlock()
	return bearerRE.ReplaceAllString(s, "${1}"+redacted)
}

// Writer returns w with every write redacted. Each Write must hold whole
// lines (as fmt.Fprintln does) for a secret to be caught.
func (r *Redactor) Writer(w io.Writer) io.Writer { return redactingWriter{w: w, r: r} }

type redactingWriter struct {
	w io.Writer
	r *Redactor
}

func (rw redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// redactingHandler masks secrets in the message and every attribute.
type redactingHandler struct {
	h slog.Handler
	r *Redactor
}

// NewRedactingHandler wraps h so that no registered secret and no bearer
// token reaches it, whatever attribute carries it.
func NewRedactingHandler(h slog.Handler, r *Redactor) slog.Handler {
	return &redactingHandler{h: h, r: r}
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.h.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &redactingHandler{h: h.h.WithAttrs(red), r: h.r}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{h: h.h.WithGroup(name), r: h.r}
}

// attr redacts one attribute, descending into groups. Values of any kind
// are compared in their printed form; a changed value becomes a string.
func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindString:
		return slog.String(a.Key, h.r.Redact(v.String()))
	case slog.KindAny:
		s := fmt.Sprint(v.Any())
		if r := h.r.Redact(s); r != s {
			return slog.String(a.Key, r)
		}
		return slog.Attr{Key: a.Key, Value: v}
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}

// RotatingFile is an append-only log file that is renamed to .1 (and .1 to
// .2 …) when it would grow beyond its size limit. It is safe for
// concurrent use.
type RotatingFile struct {
	mu       sync.Mutex
	path     string
	maxBytes int64
	keep     int
	f        *os.File
	size     int64
}

// OpenRotatingFile opens (creating with 0600, directory 0700) the log file.
func OpenRotatingFile(path string, maxBytes int64, keep int) (*RotatingFile, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultLogMaxBytes
	}
	if keep <= 0 {
		keep = DefaultLogKeep
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	r := &RotatingFile{path: path, maxBytes: maxBytes, keep: keep}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log file: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write appends p, rotating first if p would push the file over the limit.
func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, fs.ErrClosed
	}
	if r.size > 0 && r.size+int64(len(p)) > r.maxBytes {
		if err := r.rotate(); err != nil && r.f == nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

// rotate shifts path.(k) to path.(k+1), dropping the oldest, and starts a
// new file.
func (r *RotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	r.f = nil
	var errs []error
	_ = os.Remove(fmt.Sprintf("%s.%d", r.path, r.keep))
	for i := r.keep - 1; i >= 1; i-- {
		err := os.Rename(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	// Reopen whatever happened, so one failed rename does not end logging.
	if err := r.open(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	return nil
}

// Close closes the file.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
