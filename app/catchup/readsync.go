package catchup

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"
)

// QueueFileName is the read-sync queue in the cache directory.
const QueueFileName = "readsync.json"

// Read-sync retry delays: the first retry after a failure, doubling up to
// the cap. A reconnection (Kick) retries at once.
const (
	syncFirstDelay = 2 * time.Second
	syncMaxDelay   = 5 * time.Minute
)

// queueFile is the persisted queue: notifications to mark read on the
// server, per account, so a restart loses none.
type queueFile struct {
	Pending map[string][]string `json:"pending"` // account → UUIDs, oldest first
}

// Syncer marks notifications read on the server for one account: queued
// on disk, sent by one worker (Run), retried with backoff while the server
// cannot be reached. A 404 of the route turns it off for this run; a
// notification the server no longer has is dropped. It never blocks its
// callers.
type Syncer struct {
	Client  *Client
	Account string
	Path    string // the queue file
	Logger  *slog.Logger
	// Delay is the wait before retry n (1-based); nil: 2 s doubling to 5 min.
	Delay func(n int) time.Duration

	once sync.Once
	kick chan struct{}
	mu   sync.Mutex // guards the file
	off  bool
	sent int
}

func (s *Syncer) init() {
	s.once.Do(func() {
		s.kick = make(chan struct{}, 1)
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.Delay == nil {
			s.Delay = func(n int) time.Duration {
				d := syncFirstDelay
				for i := 1; i < n && d < syncMaxDelay; i++ {
					d *= 2
				}
				return min(d, syncMaxDelay)
			}
		}
	})
}

// Enqueue adds notifications to mark read and wakes the worker. It writes
// the queue file (small) and returns; the network is the worker's.
func (s *Syncer) Enqueue(uuids ...string) error {
	s.init()
	if len(uuids) == 0 {
		return nil
	}
	s.mu.Lock()
	if s.off {
		s.mu.Unlock()
		return nil
	}
	q, _ := s.readLocked()
	cur := q.Pending[s.Account]
	have := make(map[string]bool, len(cur)+len(uuids))
	for _, u := range cur {
		have[u] = true
	}
	for _, u := range uuids {
		if u != "" && !have[u] {
			have[u] = true
			cur = append(cur, u)
		}
	}
	q.Pending[s.Account] = cur
	err := s.writeLocked(q)
	s.mu.Unlock()
	s.Kick()
	return err
}

// Kick makes the worker try now (after a reconnection).
func (s *Syncer) Kick() {
	s.init()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Pending returns the account's queued UUIDs.
func (s *Syncer) Pending() []string {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	q, _ := s.readLocked()
	return slices.Clone(q.Pending[s.Account])
}

// Off reports whether the server turned read sync off (no route).
func (s *Syncer) Off() bool {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.off
}

// Run sends the queue until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	s.init()
	failures := 0
	var retry <-chan time.Time
	for {
		if retry == nil {
			// Send what is queued (from an earlier run too).
			if err := s.sendAll(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				d := s.Delay(failures)
				s.Logger.Warn("read sync failed; retrying", "in", d, "err", err)
				retry = time.After(d)
			} else {
				failures = 0
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			retry = nil
		case <-retry:
			retry = nil
		}
	}
}

// syncSaveEvery is how many notifications are marked read between two
// rewrites of the queue file (marking 10,000 read must not rewrite it
// 10,000 times).
const syncSaveEvery = 50

// sendAll marks every queued notification read, removing the ones done
// from the queue file every syncSaveEvery and at the end.
func (s *Syncer) sendAll(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.off {
			s.mu.Unlock()
			return nil
		}
		q, _ := s.readLocked()
		pending := slices.Clone(q.Pending[s.Account])
		s.mu.Unlock()
		if len(pending) == 0 {
			return nil
		}
		var done []string
		var sendErr error
		for _, uuid := range pending {
			err := s.Client.MarkRead(ctx, uuid)
			var nf *NotFoundError
			switch {
			case err == nil:
				s.sent++
				s.Logger.Debug("marked read on the server", "id", uuid)
			case errors.As(err, &nf) && nf.Gone():
				s.Logger.Info("notification no longer on the server; not marking it read", "id", uuid)
			case errors.Is(err, ErrUnsupported):
				s.Logger.Info("the server has no route to mark notifications read; read sync is off", "err", err)
				s.mu.Lock()
				s.off = true
				q, _ := s.readLocked()
				delete(q.Pending, s.Account)
				werr := s.writeLocked(q)
				s.mu.Unlock()
				return werr
			default:
				sendErr = err
			}
			if sendErr != nil {
				break
			}
			done = append(done, uuid)
			if len(done) >= syncSaveEvery {
				if err := s.remove(done); err != nil {
					return err
				}
				done = nil
			}
		}
		if err := s.remove(done); err != nil {
			return err
		}
		if sendErr != nil {
			return sendErr
		}
		// Loop: more may have been queued meanwhile.
	}
}

// remove drops done from the account's queue in the file.
func (s *Syncer) remove(done []string) error {
	if len(done) == 0 {
		return nil
	}
	gone := make(map[string]bool, len(done))
	for _, u := range done {
		gone[u] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, _ := s.readLocked()
	q.Pending[s.Account] = slices.DeleteFunc(q.Pending[s.Account], func(x string) bool { return gone[x] })
	if len(q.Pending[s.Account]) == 0 {
		delete(q.Pending, s.Account)
	}
	return s.writeLocked(q)
}

func (s *Syncer) readLocked() (queueFile, error) {
	q := queueFile{Pending: map[string][]string{}}
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return q, nil
	}
	if err != nil {
		return q, err
	}
	if err := json.Unmarshal(b, &q); err != nil || q.Pending == nil {
		q.Pending = map[string][]string{}
	}
	return q, nil
}

func (s *Syncer) writeLocked(q queueFile) error {
	b, _ := json.MarshalIndent(q, "", "  ")
	return writeAtomic(s.Path, b)
}

// ForgetQueue drops the account's queued notifications (its history was
// removed from this computer).
func ForgetQueue(path, account string) error {
	s := &Syncer{Path: path, Account: account}
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.readLocked()
	if err != nil {
		return err
	}
	if _, ok := q.Pending[account]; !ok {
		return nil
	}
	delete(q.Pending, account)
	return s.writeLocked(q)
}
