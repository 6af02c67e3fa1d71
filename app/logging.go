package app

import (
	"cmp"
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
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
// them, in every form a log line may carry them (as they are, URL-escaped,
// JSON-escaped), as well as anything that looks like a bearer token and the
// password of a URL with credentials. It is safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets map[string]*secret
	order   []*secret // longest first: a secret inside another is masked after it
}

// secret is one registered secret and the pattern of its forms.
type secret struct {
	text string
	n    int // Adds minus Removes
	re   *regexp.Regexp
}

var (
	// bearerRE matches an Authorization header value.
	bearerRE = regexp.MustCompile(`(?i)(bearer\s+)[^\s"',;\]\}]+`)
	// userinfoRE matches the password of a URL with credentials
	// (https://user:password@host), also with JSON-escaped slashes.
	userinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*:(?:\\?/){2}[^\s/?#@:"'\\]*:)[^\s/?#@"'\\]+@`)
)

// NewRedactor returns a redactor with no secrets.
func NewRedactor() *Redactor { return &Redactor{secrets: make(map[string]*secret)} }

// Add registers a secret. Adds and Removes are counted.
func (r *Redactor) Add(text string) {
	if r == nil || text == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.secrets[text]; s != nil {
		s.n++
		return
	}
	r.secrets[text] = &secret{text: text, n: 1, re: secretPattern(text)}
	r.sortLocked()
}

// Remove forgets a secret added before.
func (r *Redactor) Remove(text string) {
	if r == nil || text == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.secrets[text]
	if s == nil {
		return
	}
	if s.n--; s.n <= 0 {
		delete(r.secrets, text)
		r.sortLocked()
	}
}

func (r *Redactor) sortLocked() {
	r.order = r.order[:0]
	for _, s := range r.secrets {
		r.order = append(r.order, s)
	}
	slices.SortFunc(r.order, func(a, b *secret) int {
		if c := cmp.Compare(len(b.text), len(a.text)); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
}

// Redact masks every registered secret, in any of its forms, every
// "Bearer …" value and the password of every URL in s.
func (r *Redactor) Redact(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, sec := range r.order {
			s = sec.re.ReplaceAllLiteralString(s, redacted)
		}
		r.mu.RUnlock()
	}
	s = bearerRE.ReplaceAllString(s, "${1}"+redacted)
	return userinfoRE.ReplaceAllString(s, "${1}xxxxx@")
}

// secretPattern matches text as it is and in the escaped forms logs and
// server answers carry: each character other than an ASCII letter or digit
// may appear URL-escaped (%7C or %7c, %257C when escaped twice, + for a
// space), JSON-escaped (\u007c, a surrogate pair beyond the BMP, or a
// backslash before it as in \/ or \"), or as an HTML character reference
// (&#124; &#x7c;), each character independently.
func secretPattern(text string) *regexp.Regexp {
	var b strings.Builder
	for _, c := range text {
		if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b.WriteRune(c)
			continue
		}
		lit := regexp.QuoteMeta(string(c))
		alts := []string{lit, `\\` + lit}
		var pct strings.Builder
		for _, by := range []byte(string(c)) {
			fmt.Fprintf(&pct, `%%(?:25)?(?i:%02x)`, by)
		}
		alts = append(alts, pct.String())
		if c == ' ' {
			alts = append(alts, `\+`)
		}
		if c <= 0xFFFF {
			alts = append(alts, fmt.Sprintf(`\\u(?i:%04x)`, c))
		} else {
			hi, lo := utf16.EncodeRune(c)
			alts = append(alts, fmt.Sprintf(`\\u(?i:%04x)\\u(?i:%04x)`, hi, lo))
		}
		alts = append(alts, fmt.Sprintf(`&#(?:0*%d|(?i:x0*%x));`, c, c))
		b.WriteString("(?:" + strings.Join(alts, "|") + ")")
	}
	return regexp.MustCompile(b.String())
}

// ScrubError returns err with its text redacted. An *APIError is copied
// with its message, field messages and URL redacted (and its cause, when
// that holds a secret, replaced by a redacted one that still unwraps to
// it). Any other error whose text changes is wrapped in one with the
// redacted text that unwraps to err, so errors.Is and errors.As keep
// working. An error with nothing to redact is returned as it is.
func (r *Redactor) ScrubError(err error) error {
	if err == nil {
		return nil
	}
	if ae, ok := err.(*APIError); ok {
		c := *ae
		c.Message = r.Redact(c.Message)
		c.URL = r.Redact(c.URL)
		if len(c.Fields) > 0 {
			c.Fields = make(map[string][]string, len(ae.Fields))
			for k, msgs := range ae.Fields {
				red := make([]string, len(msgs))
				for i, m := range msgs {
					red[i] = r.Redact(m)
				}
				c.Fields[r.Redact(k)] = red
			}
		}
		if c.Err != nil {
			c.Err = r.ScrubError(c.Err)
		}
		return &c
	}
	text := err.Error()
	if red := r.Redact(text); red != text {
		return &redactedError{text: red, err: err}
	}
	return err
}

// scrubError is ScrubError with a redactor that knows only secrets (and
// the patterns every redactor masks).
func scrubError(err error, secrets ...string) error {
	r := NewRedactor()
	for _, s := range secrets {
		r.Add(s)
	}
	return r.ScrubError(err)
}

// redactedError is an error whose text held a secret.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

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
// token reaches it, whatever attribute (key or value) or group name
// carries it.
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
	return &redactingHandler{h: h.h.WithGroup(h.r.Redact(name)), r: h.r}
}

// attr redacts one attribute, its key and its value, descending into
// groups. A []byte is compared as the text it holds (slog prints it so);
// other values of kind Any in their printed forms (%+v, and MarshalText
// where the value has it); a changed value becomes a string.
func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	key := h.r.Redact(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Attr{Key: key, Value: slog.GroupValue(red...)}
	case slog.KindString:
		return slog.String(key, h.r.Redact(v.String()))
	case slog.KindAny:
		x := v.Any()
		if b, ok := byteSlice(x); ok {
			s := string(b)
			if r := h.r.Redact(s); r != s {
				return slog.String(key, r)
			}
			return slog.Attr{Key: key, Value: v}
		}
		forms := []string{fmt.Sprintf("%+v", x)}
		if tm, ok := x.(encoding.TextMarshaler); ok {
			if t, err := tm.MarshalText(); err == nil {
				forms = append([]string{string(t)}, forms...) // what a text handler prints
			}
		}
		for _, s := range forms {
			if r := h.r.Redact(s); r != s {
				return slog.String(key, h.r.Redact(forms[0]))
			}
		}
		return slog.Attr{Key: key, Value: v}
	default:
		return slog.Attr{Key: key, Value: v}
	}
}

// byteSlice returns the bytes of a []byte or of a named byte slice type
// (json.RawMessage).
func byteSlice(x any) ([]byte, bool) {
	if b, ok := x.([]byte); ok {
		return b, true
	}
	rv := reflect.ValueOf(x)
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		return rv.Bytes(), true
	}
	return nil, false
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
