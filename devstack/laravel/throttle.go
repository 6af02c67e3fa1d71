package laravel

import (
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Throttle is a rate limit as Laravel's `throttle` middleware applies it
// (Illuminate\Routing\Middleware\ThrottleRequests with a RateLimiter::for
// limiter returning Limit::perSecond and/or Limit::perMinute). Each limit
// counts requests in a fixed window that starts with the first request
// (Laravel's cache-backed RateLimiter); a request over a limit is answered
// 429 {"message": "Too Many Attempts."} with Retry-After (seconds until the
// window ends), X-RateLimit-Reset (Unix time), X-RateLimit-Limit and
// X-RateLimit-Remaining: 0. Requests within the limits get X-RateLimit-Limit
// and X-RateLimit-Remaining. The zero value does not limit.
type Throttle struct {
	// PerSecond is the number of requests allowed per second; 0: no limit.
	PerSecond int
	// PerMinute is the number of requests allowed per minute; 0: no limit.
	PerMinute int
	// PerUser keys the limits by the signed-in user (by client IP when the
	// request carries no valid token), as `throttle:60,1` does. Otherwise
	// one budget serves the whole endpoint, like a named limiter without
	// ->by(), which protects the backend from a fleet of clients.
	PerUser bool
}

func (t Throttle) active() bool { return t.PerSecond > 0 || t.PerMinute > 0 }

// limiter applies a Throttle.
type limiter struct {
	mu      sync.Mutex
	t       Throttle
	windows map[string]*window // "<limit>|<key>" -> window
	limited int                // requests answered 429
}

type window struct {
	count int
	reset time.Time
}

func newLimiter(t Throttle) *limiter {
	return &limiter{t: t, windows: map[string]*window{}}
}

func (l *limiter) set(t Throttle) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t = t
	clear(l.windows)
}

// verdict is the outcome of one request against the limits.
type verdict struct {
	ok        bool
	limit     int       // the limit reported in X-RateLimit-Limit
	remaining int       // X-RateLimit-Remaining
	reset     time.Time // when the refusing window ends (ok == false)
}

// hit counts a request under key at now: Laravel's tooManyAttempts check on
// every limit first (a refused request is not counted), then a hit on each.
func (l *limiter) hit(key string, now time.Time) (verdict, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.t.active() {
		return verdict{ok: true}, false
	}
	type lim struct {
		name string
		max  int
		span time.Duration
	}
	var lims []lim
	if l.t.PerSecond > 0 {
		lims = append(lims, lim{"s", l.t.PerSecond, time.Second})
	}
	if l.t.PerMinute > 0 {
		lims = append(lims, lim{"m", l.t.PerMinute, time.Minute})
	}
	ws := make([]*window, len(lims))
	for i, li := range lims {
		k := li.name + "|" + key
		w := l.windows[k]
		if w == nil || !now.Before(w.reset) {
			w = &window{reset: now.Add(li.span)}
			l.windows[k] = w
		}
		ws[i] = w
		if w.count >= li.max {
			l.limited++
			return verdict{limit: li.max, reset: w.reset}, true
		}
	}
	v := verdict{ok: true, remaining: math.MaxInt}
	for i, li := range lims {
		ws[i].count++
		if r := li.max - ws[i].count; r < v.remaining {
			v.remaining, v.limit = r, li.max
		}
	}
	if len(l.windows) > 100_000 { // forget ended windows now and then
		for k, w := range l.windows {
			if !now.Before(w.reset) {
				delete(l.windows, k)
			}
		}
	}
	return v, true
}

// SetThrottle replaces the /broadcasting/auth limits (and forgets the
// counts so far); the zero Throttle removes them.
func (s *Server) SetThrottle(t Throttle) {
	s.throttle.set(t)
}

// Throttled returns how many requests the throttle has answered 429.
func (s *Server) Throttled() int {
	s.throttle.mu.Lock()
	defer s.throttle.mu.Unlock()
	return s.throttle.limited
}

// allow applies the throttle to r. It writes the X-RateLimit headers and,
// when r is over a limit, the 429 answer, and then returns false.
func (s *Server) allow(w http.ResponseWriter, r *http.Request) bool {
	s.throttle.mu.Lock()
	t := s.throttle.t
	s.throttle.mu.Unlock()
	if !t.active() {
		return true
	}
	key := "endpoint"
	if t.PerUser {
		if u, _, ok := s.authenticate(r); ok {
			key = "user:" + strconv.FormatInt(u.ID, 10)
		} else {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			key = "ip:" + host
		}
	}
	now := s.cfg.Now()
	v, applied := s.throttle.hit(key, now)
	if !applied {
		return true
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(v.limit))
	if v.ok {
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(v.remaining, 0)))
		return true
	}
	retry := retryAfterSeconds(v.reset.Sub(now))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("Retry-After", strconv.Itoa(retry))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Duration(retry)*time.Second).Unix(), 10))
	s.log.Info("throttled", "path", r.URL.Path, "key", key, "retry_after", retry)
	writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "Too Many Attempts."})
	return false
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// outage is a period during which a path answers an error.
type outage struct {
	status     int
	until      time.Time
	retryAfter time.Duration
}

// FailFor makes every request to path answer status (e.g. 429 or 503) for d
// from now, as an overloaded or maintenance-mode backend does; 0 ends an
// outage at once. A retryAfter above zero is sent as Retry-After (whole
// seconds); 429 answers also carry the X-RateLimit headers. The body is
// Laravel's: {"message": "Too Many Attempts."} for 429, {"message":
// "Service Unavailable"} for 503 (php artisan down).
func (s *Server) FailFor(path string, status int, d, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.outages, path)
		return
	}
	s.outages[path] = outage{status: status, until: s.cfg.Now().Add(d), retryAfter: retryAfter}
}

// writeOutage answers a request during an outage.
func (s *Server) writeOutage(w http.ResponseWriter, o outage) {
	h := w.Header()
	if o.retryAfter > 0 {
		secs := retryAfterSeconds(o.retryAfter)
		h.Set("Retry-After", strconv.Itoa(secs))
		if o.status == http.StatusTooManyRequests {
			h.Set("X-RateLimit-Reset", strconv.FormatInt(s.cfg.Now().Add(time.Duration(secs)*time.Second).Unix(), 10))
		}
	}
	switch o.status {
	case http.StatusTooManyRequests:
		h.Set("X-RateLimit-Limit", "60")
		h.Set("X-RateLimit-Remaining", "0")
		writeJSON(w, o.status, map[string]string{"message": "Too Many Attempts."})
	case http.StatusServiceUnavailable:
		writeJSON(w, o.status, map[string]string{"message": "Service Unavailable"})
	default:
		writeJSON(w, o.status, map[string]string{"message": http.StatusText(o.status)})
	}
}

func (s *Server) hookOutage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Path       string  `json:"path"`
		Status     int     `json:"status"`
		Seconds    float64 `json:"seconds"`
		RetryAfter float64 `json:"retry_after"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.Path == "" || in.Status < 100 || in.Status > 599 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": `want JSON {"path": "/...", "status": 100-599, "seconds": 30, "retry_after": 5}`})
		return
	}
	s.FailFor(in.Path, in.Status, time.Duration(in.Seconds*float64(time.Second)), time.Duration(in.RetryAfter*float64(time.Second)))
	writeJSON(w, http.StatusOK, map[string]string{"message": "armed"})
}

func (s *Server) hookThrottle(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PerSecond int  `json:"per_second"`
		PerMinute int  `json:"per_minute"`
		PerUser   bool `json:"per_user"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.PerSecond < 0 || in.PerMinute < 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": `want JSON {"per_second": 100, "per_minute": 0, "per_user": false}`})
		return
	}
	s.SetThrottle(Throttle{PerSecond: in.PerSecond, PerMinute: in.PerMinute, PerUser: in.PerUser})
	writeJSON(w, http.StatusOK, map[string]string{"message": "set"})
}
